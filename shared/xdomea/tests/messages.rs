//! Messages Akta writes validate against the official xdomea 3.1.0 schema (with xmllint, from
//! the team's reference folder beside the checkout; skipped with a message where either is
//! missing), read back into what was written, and hostile input fails with a clear error.

use std::path::PathBuf;
use std::process::Command;

use akta_xdomea::model::*;
use akta_xdomea::read::{parse, Limits};
use akta_xdomea::{write, MessageType, XdomeaError};
use time::macros::{date, datetime};
use uuid::Uuid;

fn schema() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/xdomea/3.1.0/xdomea.xsd");
    if !path.exists() {
        eprintln!("SKIPPED schema validation: {} not found", path.display());
        return None;
    }
    if Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!("SKIPPED schema validation: xmllint not installed (libxml2-utils)");
        return None;
    }
    Some(path)
}

/// Validates with xmllint; returns false when validation could not run.
fn assert_valid(xml: &[u8], what: &str) -> bool {
    let Some(schema) = schema() else {
        return false;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{what}.xml"));
    std::fs::write(&file, xml).expect("write");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("xmllint");
    assert!(
        out.status.success(),
        "{what} does not validate:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(xml)
    );
    true
}

fn head() -> Head {
    Head {
        process_id: Uuid::now_v7(),
        created: datetime!(2026-12-05 10:30:00 +1),
        sender: Party {
            authority_key: Some("witten".into()),
            institution: Some("Stadt Witten".into()),
        },
        recipient: Party {
            authority_key: None,
            institution: Some("Landesarchiv NRW".into()),
        },
        receipt_requested: true,
    }
}

fn retention(rating: Rating) -> Retention {
    Retention {
        keep: Keep::Years(10),
        rating,
        ends: Some(date!(2022 - 12 - 31)),
    }
}

fn document(title: &str, versions: u32) -> DocumentObject {
    DocumentObject {
        id: Uuid::now_v7(),
        title: title.into(),
        kind: "Eingang".into(),
        received_on: Some(date!(2012 - 03 - 02)),
        sent_on: None,
        dated: Some(date!(2012 - 02 - 28)),
        sender: Some("Müller & Söhne <GmbH>".into()),
        recipient: None,
        versions: (1..=versions)
            .map(|n| VersionObject {
                number: n,
                file_name: format!("{}_bauantrag.pdf", Uuid::now_v7()),
                original_name: "Bauantrag Größe.pdf".into(),
                format_code: "018".into(),
                created: datetime!(2012-03-02 09:00:00 UTC),
                created_by: "anna".into(),
            })
            .collect(),
    }
}

fn akte(confidentiality: Confidentiality, versions: u32) -> FileObject {
    FileObject {
        id: Uuid::now_v7(),
        reference: "63.01-0017/2012".into(),
        subject: "Baugenehmigung Kindertagesstätte Lindenweg 12 – Änderung".into(),
        confidentiality,
        lead: Some("63 Bauordnungsamt".into()),
        plan_unit: Some(("63.01".into(), "Baugenehmigungen".into())),
        retention: retention(Rating::B),
        period_from: Some(date!(2012 - 01 - 10)),
        period_to: Some(date!(2012 - 06 - 30)),
        closed_on: Some(date!(2012 - 06 - 30)),
        documents: vec![document("Lageplan", versions)],
        cases: vec![
            CaseObject {
                id: Uuid::now_v7(),
                reference: "63.01-0017/2012-01".into(),
                subject: "Bauantrag und Prüfung".into(),
                retention: retention(Rating::B),
                closed_on: Some(date!(2012 - 05 - 31)),
                period_from: Some(date!(2012 - 01 - 10)),
                documents: vec![
                    document("Bauantrag", versions),
                    document("Statik", versions),
                ],
            },
            CaseObject {
                id: Uuid::now_v7(),
                reference: "63.01-0017/2012-02".into(),
                subject: "Nachbarbeteiligung".into(),
                retention: retention(Rating::B),
                closed_on: None,
                period_from: None,
                documents: Vec::new(),
            },
        ],
    }
}

#[test]
fn an_offer_of_several_akten_validates_and_carries_no_primary_documents() {
    let files = [
        akte(Confidentiality::Open, 0),
        akte(Confidentiality::StrictlyConfidential, 0),
    ];
    let xml = write::anbieteverzeichnis_0501(&head(), &files).expect("0501");
    let text = String::from_utf8(xml.clone()).expect("utf-8");
    assert!(text.contains("Kindertagesstätte"), "umlauts kept as UTF-8");
    assert!(text.contains("Müller &amp; Söhne &lt;GmbH&gt;"), "{text}");
    assert!(!text.contains("Primaerdokument"));
    assert_valid(&xml, "0501");
    let read = parse(&xml, Limits::default()).expect("reads back");
    assert_eq!(read.kind, MessageType::Anbieteverzeichnis0501);
}

#[test]
fn receipts_validate() {
    for m in [
        MessageType::AnbietungEmpfangBestaetigen0504,
        MessageType::BewertungEmpfangBestaetigen0505,
        MessageType::AussonderungEmpfangBestaetigen0507,
        MessageType::AbgabeEmpfangBestaetigen0403,
    ] {
        let mut h = head();
        h.receipt_requested = false;
        let xml = write::receipt(m, &h).expect("receipt");
        assert_valid(&xml, m.code());
        let read = parse(&xml, Limits::default()).expect("reads back");
        assert_eq!(read.kind, m);
        assert_eq!(read.head().expect("head").process_id, h.process_id);
    }
}

#[test]
fn ratings_round_trip() {
    let h = head();
    let ratings = vec![
        (Uuid::now_v7(), Rating::A),
        (Uuid::now_v7(), Rating::V),
        (Uuid::now_v7(), Rating::A),
    ];
    let xml = write::bewertungsverzeichnis_0502(&h, &ratings).expect("0502");
    assert_valid(&xml, "0502");
    let read = parse(&xml, Limits::default()).expect("0502 reads");
    assert_eq!(read.ratings().expect("ratings"), ratings);
    let head = read.head().expect("head");
    assert_eq!(head.process_id, h.process_id);
    assert_eq!(head.sender_key.as_deref(), Some("witten"));
}

#[test]
fn a_plan_round_trips_through_0301() {
    let plan = Plan {
        name: "Aktenplan der Stadt Witten".into(),
        version: "2026.1".into(),
        units: vec![PlanUnitObject {
            code: "6".into(),
            title: "Bauwesen".into(),
            rating: Rating::B,
            keep: Keep::Unlimited,
            retired: false,
            children: vec![PlanUnitObject {
                code: "63".into(),
                title: "Bauordnung & Bauaufsicht".into(),
                rating: Rating::A,
                keep: Keep::Years(30),
                retired: false,
                children: Vec::new(),
            }],
        }],
    };
    let xml = write::aktenplan_0301(&head(), &plan).expect("0301");
    assert_valid(&xml, "0301");
    let read = parse(&xml, Limits::default()).expect("0301 reads");
    assert_eq!(read.plan().expect("plan"), plan);
}

fn invalid_detail(
    result: Result<akta_xdomea::read::Message, XdomeaError>,
) -> (String, usize, String) {
    match result {
        Err(XdomeaError::Invalid {
            element,
            line,
            detail,
        }) => (element, line, detail),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn hostile_messages_fail_with_a_clear_error() {
    let xxe = br#"<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xdomea:Aussonderung.Bewertungsverzeichnis.0502 xmlns:xdomea="urn:xoev-de:xdomea:schema:3.1.0">&xxe;</xdomea:Aussonderung.Bewertungsverzeichnis.0502>"#;
    let (_, line, detail) = invalid_detail(parse(xxe, Limits::default()));
    assert_eq!(line, 2);
    assert!(detail.contains("DOCTYPE"), "{detail}");

    let entity = br#"<xdomea:Aussonderung.Bewertungsverzeichnis.0502 xmlns:xdomea="urn:xoev-de:xdomea:schema:3.1.0">&boom;</xdomea:Aussonderung.Bewertungsverzeichnis.0502>"#;
    let (_, _, detail) = invalid_detail(parse(entity, Limits::default()));
    assert!(detail.contains("&boom;"), "{detail}");

    let big = vec![b' '; 1024];
    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(parse(&big, small), Err(XdomeaError::TooLarge(_))));

    let mut deep = String::from(
        r#"<xdomea:Aktenplan.Aktenplan.0301 xmlns:xdomea="urn:xoev-de:xdomea:schema:3.1.0">"#,
    );
    deep.push_str(&"<a>".repeat(100));
    deep.push_str(&"</a>".repeat(100));
    deep.push_str("</xdomea:Aktenplan.Aktenplan.0301>");
    assert!(matches!(
        parse(deep.as_bytes(), Limits::default()),
        Err(XdomeaError::TooLarge(_))
    ));

    let foreign = br#"<Aussonderung.Bewertungsverzeichnis.0502 xmlns="urn:example"/>"#;
    let (_, _, detail) = invalid_detail(parse(foreign, Limits::default()));
    assert!(detail.contains("not an xdomea"), "{detail}");

    let broken = b"<xdomea:Aktenplan.Aktenplan.0301 xmlns:xdomea=\"urn:xoev-de:xdomea:schema:3.1.0\">\n<xdomea:Kopf>\n</xdomea:Aktenplan.Aktenplan.0301>";
    let (_, line, detail) = invalid_detail(parse(broken, Limits::default()));
    assert!(line >= 2, "line {line}: {detail}");

    // A 0502 whose rating is no code Akta knows names the element and its line.
    let h = head();
    let xml = write::bewertungsverzeichnis_0502(&h, &[(Uuid::now_v7(), Rating::A)]).expect("0502");
    let bad = String::from_utf8(xml)
        .expect("utf-8")
        .replace("<code>A</code>", "<code>Q</code>");
    let read = parse(bad.as_bytes(), Limits::default()).expect("well-formed");
    match read.ratings() {
        Err(XdomeaError::Invalid {
            element,
            line,
            detail,
        }) => {
            assert_eq!(element, "Aussonderungsart");
            assert!(line > 10, "{line}");
            assert!(detail.contains("'Q'"), "{detail}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn messages_of_3_0_0_are_read_too() {
    let h = head();
    let xml = write::bewertungsverzeichnis_0502(&h, &[(Uuid::now_v7(), Rating::V)]).expect("0502");
    let old = String::from_utf8(xml)
        .expect("utf-8")
        .replace("schema:3.1.0", "schema:3.0.0");
    let read = parse(old.as_bytes(), Limits::default()).expect("3.0.0 reads");
    assert_eq!(read.version, akta_xdomea::read::Version::V300);
    assert_eq!(read.ratings().expect("ratings").len(), 1);
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("entry");
        std::io::Write::write_all(&mut zip, bytes).expect("write");
    }
    zip.finish().expect("finish");
    out.into_inner()
}

#[test]
fn a_message_comes_alone_or_in_its_container_and_hostile_containers_are_refused() {
    use akta_xdomea::read::message_bytes;
    let h = head();
    let xml = write::bewertungsverzeichnis_0502(&h, &[(Uuid::now_v7(), Rating::A)]).expect("0502");
    assert_eq!(
        message_bytes(&xml, Limits::default())
            .expect("plain")
            .as_ref(),
        xml.as_slice()
    );
    let name = format!(
        "{}_Aussonderung.Bewertungsverzeichnis.0502.xml",
        h.process_id
    );
    let container = zip_of(&[(&name, &xml), ("begleit.txt", b"Anlage")]);
    let unpacked = message_bytes(&container, Limits::default()).expect("container");
    assert_eq!(unpacked.as_ref(), xml.as_slice());
    assert_eq!(
        parse(&unpacked, Limits::default()).expect("parses").kind,
        MessageType::Bewertungsverzeichnis0502
    );

    let escape = zip_of(&[(&name, &xml), ("../../etc/cron.d/evil", b"x")]);
    match message_bytes(&escape, Limits::default()) {
        Err(XdomeaError::Invalid { detail, .. }) => {
            assert!(detail.contains("leaves the container"), "{detail}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let two = zip_of(&[("a.xml", &xml), ("b.xml", &xml)]);
    assert!(matches!(
        message_bytes(&two, Limits::default()),
        Err(XdomeaError::Invalid { .. })
    ));
    let none = zip_of(&[("a.txt", b"x")]);
    assert!(matches!(
        message_bytes(&none, Limits::default()),
        Err(XdomeaError::Invalid { .. })
    ));

    // A bomb: 64 MiB of nothing packed small; reading stops at the limit.
    let bomb = zip_of(&[("bomb.xml", &vec![b' '; 64 * 1024 * 1024])]);
    assert!(bomb.len() < 1024 * 1024, "packed {} bytes", bomb.len());
    let small = Limits {
        max_bytes: 1024 * 1024,
        ..Limits::default()
    };
    assert!(matches!(
        message_bytes(&bomb, small),
        Err(XdomeaError::TooLarge(_))
    ));
    let garbage = b"PK\x03\x04 not really a zip".to_vec();
    assert!(matches!(
        message_bytes(&garbage, Limits::default()),
        Err(XdomeaError::Invalid { .. })
    ));
}

/// A document's id, title and versions (number, container name, original name).
type DocumentSummary = (Uuid, String, Vec<(u32, String, String)>);

#[test]
fn transfers_with_primary_documents_validate_and_read_back_as_written() {
    let files = vec![
        akte(Confidentiality::Open, 2),
        akte(Confidentiality::StrictlyConfidential, 3),
    ];
    let mut h = head();
    h.receipt_requested = true;
    for (message, xml) in [
        (
            MessageType::Aussonderung0503,
            write::aussonderung_0503(&h, &files).expect("0503"),
        ),
        (
            MessageType::Abgabe0401,
            write::abgabe_0401(&h, &files).expect("0401"),
        ),
    ] {
        assert_valid(&xml, message.code());
        let read = parse(&xml, Limits::default()).expect("reads");
        assert_eq!(read.kind, message);
        let back = read.objects().expect("objects");
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].confidentiality, Confidentiality::Confidential);
        let (a, b) = (&files[0], &back[0]);
        assert_eq!(
            (b.id, &b.reference, &b.subject),
            (a.id, &a.reference, &a.subject)
        );
        assert_eq!(
            (b.period_from, b.period_to, b.closed_on),
            (a.period_from, a.period_to, a.closed_on)
        );
        assert_eq!(b.retention.keep, a.retention.keep);
        assert_eq!(b.cases.len(), 2);
        assert_eq!(b.cases[0].reference, a.cases[0].reference);
        let docs = |f: &FileObject| -> Vec<DocumentSummary> {
            f.documents
                .iter()
                .chain(f.cases.iter().flat_map(|c| c.documents.iter()))
                .map(|d| {
                    (
                        d.id,
                        d.title.clone(),
                        d.versions
                            .iter()
                            .map(|v| (v.number, v.file_name.clone(), v.original_name.clone()))
                            .collect(),
                    )
                })
                .collect()
        };
        assert_eq!(docs(b), docs(a));
        let first = &b.cases[0].documents[0];
        assert_eq!(first.sender.as_deref(), Some("Müller & Söhne <GmbH>"));
        assert_eq!(first.received_on, Some(date!(2012 - 03 - 02)));
    }
}
