//! Aussonderung over REST, as an archivist drives it: due Akten are offered in an xdomea
//! 0501 that validates against the official 3.1.0 schema, the archive's 0502 rates them, Akta
//! confirms with a 0505. Akten not closed, not due, under a legal hold or already offered
//! cannot be offered; a message for another process, naming objects that were not offered or
//! hostile XML changes nothing.

use akta_testkit::{Client, Reply, TestApp};
use akta_xdomea::model::{Head, Party, Rating};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{seed, upload_version};

fn schema() -> Option<std::path::PathBuf> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/xdomea/3.1.0/xdomea.xsd");
    if !path.exists() {
        eprintln!(
            "SKIPPED xdomea schema validation: {} not found",
            path.display()
        );
        return None;
    }
    Some(path)
}

/// Validates `xml` with xmllint against the 3.1.0 schema (skipped where it is absent).
pub fn assert_valid(xml: &[u8], what: &str) {
    let Some(schema) = schema() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{what}.xml"));
    std::fs::write(&file, xml).expect("write");
    let out = match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("SKIPPED xdomea schema validation: xmllint not installed");
            return;
        }
    };
    assert!(
        out.status.success(),
        "{what} does not validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn close(client: &Client, path: &str, closed_on: Option<&str>) {
    let current = client.get(path).await;
    let etag = current.header("etag").expect("etag").to_owned();
    let mut body = json!({"status": "zdA"});
    if let Some(d) = closed_on {
        body["closed_on"] = json!(d);
    }
    let r = client
        .send(
            client
                .request(Method::PATCH, path)
                .header("if-match", etag)
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "closing {path}: {}", r.body);
}

async fn document(admin: &Client, target: &str, title: &str, versions: usize) -> String {
    let r = admin
        .upload(
            &format!("{target}/documents"),
            Some(
                json!({"title": title, "kind": "Eingang", "sender": "Müller & Söhne",
                        "document_date": "2012-03-02"}),
            ),
            Some(("antrag.pdf", "application/pdf", b"%PDF-1.4 eins".to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    for n in 1..versions {
        let v = upload_version(
            admin,
            &id,
            "antrag.pdf",
            format!("%PDF-1.4 v{n}").into_bytes(),
        )
        .await;
        assert_eq!(v.status, 201, "{}", v.body);
    }
    id
}

struct Setup {
    app: TestApp,
    tenant: akta_testkit::TestTenant,
    admin: Client,
    archivist: Client,
    due: Vec<String>,
    open: String,
    held: String,
    foreign: String,
    other: akta_testkit::TestTenant,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let other = seed(&app, "herdecke").await;
    let admin = seeded.tenant.admin.clone();
    let unit = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "63", "title": "Bauordnung", "retention_years": 10, "disposition": "A"}),
        )
        .await
        .id();
    let mut due = Vec::new();
    for (subject, confidentiality) in [
        ("Baugenehmigung Kindertagesstätte Lindenweg 12", "normal"),
        ("Bauvoranfrage Gärtnerei Außenbereich", "vertraulich"),
    ] {
        let file = admin
            .post(
                "/api/v1/files",
                json!({"plan_unit_id": unit, "subject": subject,
                       "confidentiality": confidentiality, "period_from": "2011-01-10"}),
            )
            .await
            .id();
        document(&admin, &format!("/api/v1/files/{file}"), "Lageplan", 2).await;
        for case in ["Bauantrag und Prüfung", "Nachbarbeteiligung"] {
            let c = admin
                .post(
                    &format!("/api/v1/files/{file}/cases"),
                    json!({"subject": case}),
                )
                .await
                .id();
            document(&admin, &format!("/api/v1/cases/{c}"), "Bauantrag Größe", 2).await;
        }
        close(&admin, &format!("/api/v1/files/{file}"), Some("2012-06-30")).await;
        due.push(file);
    }
    let open = admin.create_file(&unit, "Laufende Sache").await.id();
    let held = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "Streitsache", "period_from": "2011-01-10"}),
        )
        .await
        .id();
    close(&admin, &format!("/api/v1/files/{held}"), Some("2012-06-30")).await;
    let archivist = app.client(&seeded.tenant, "archivist").await;
    let hold = archivist
        .send(
            archivist
                .request(Method::PUT, &format!("/api/v1/files/{held}/hold"))
                .json(&json!({"reason": "Klageverfahren"})),
        )
        .await;
    assert_eq!(hold.status, 200, "{}", hold.body);
    Setup {
        app,
        tenant: seeded.tenant.clone(),
        admin,
        archivist,
        due,
        open,
        held,
        foreign: other.file,
        other: other.tenant,
    }
}

async fn offer(client: &Client, files: &[&str]) -> Reply {
    client
        .post(
            "/api/v1/transfers",
            json!({"kind": "aussonderung", "file_ids": files}),
        )
        .await
}

async fn post_message(client: &Client, transfer: &str, body: Vec<u8>) -> Reply {
    client
        .send(
            client
                .request(
                    Method::POST,
                    &format!("/api/v1/transfers/{transfer}/messages"),
                )
                .header("content-type", "application/xml")
                .body(body),
        )
        .await
}

fn rating_message(process: Uuid, ratings: &[(Uuid, Rating)]) -> Vec<u8> {
    let head = Head {
        process_id: process,
        created: time::OffsetDateTime::now_utc(),
        sender: Party {
            authority_key: Some("la-nrw".into()),
            institution: Some("Landesarchiv NRW".into()),
        },
        recipient: Party::default(),
        receipt_requested: true,
    };
    akta_xdomea::write::bewertungsverzeichnis_0502(&head, ratings).expect("0502")
}

/// A zip holding `bytes` as `name`, as xdomea transports a message.
fn container(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .expect("entry");
    std::io::Write::write_all(&mut zip, bytes).expect("write");
    zip.finish().expect("finish");
    out.into_inner()
}

fn ratings_of(transfer: &Value) -> Vec<(String, String, Value)> {
    transfer["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["object_id"].as_str().expect("id").to_owned(),
                i["state"].as_str().expect("state").to_owned(),
                i["rating"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_akten_are_offered_rated_and_the_rating_confirmed_in_xdomea() {
    let s = setup().await;
    let due: Vec<&str> = s.due.iter().map(String::as_str).collect();

    // Only archivists and admins offer; only due, closed Akten without a hold.
    let clerk = s.app.client(&s.tenant, "clerk").await;
    offer(&clerk, &due).await.assert_problem(403, "forbidden");
    offer(&s.archivist, &[&s.open])
        .await
        .assert_problem(409, "conflict");
    offer(&s.archivist, &[&s.held])
        .await
        .assert_problem(409, "conflict");
    offer(&s.archivist, &[&s.foreign])
        .await
        .assert_problem(404, "not_found");
    let misplaced = s
        .archivist
        .post(
            "/api/v1/transfers",
            json!({"kind": "aussonderung", "file_ids": due, "to_tenant": "herdecke"}),
        )
        .await;
    assert_eq!(misplaced.status, 422, "{}", misplaced.body);

    let created = offer(&s.archivist, &due).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let transfer = created.id();
    assert_eq!(created.body["state"], "angeboten");
    // Two Akten with two Vorgänge each.
    assert_eq!(ratings_of(&created.body).len(), 6);
    offer(&s.archivist, &due[..1])
        .await
        .assert_problem(409, "conflict");

    let offer_xml = s
        .archivist
        .get(&format!("/api/v1/transfers/{transfer}/messages/0501"))
        .await;
    assert_eq!(offer_xml.status, 200, "{}", offer_xml.body);
    assert_eq!(offer_xml.header("content-type"), Some("application/xml"));
    let text = String::from_utf8(offer_xml.bytes.clone()).expect("utf-8");
    assert!(text.contains("Kindertagesstätte"), "{text}");
    assert!(
        text.contains("<code>005</code>"),
        "the confidential Akte: {text}"
    );
    assert!(text.contains(&format!("<xdomea:ProzessID>{transfer}</xdomea:ProzessID>")));
    assert_valid(&offer_xml.bytes, "0501");

    s.archivist
        .get(&format!("/api/v1/transfers/{transfer}/messages/0505"))
        .await
        .assert_problem(409, "conflict");

    let process = Uuid::parse_str(&transfer).expect("uuid");
    let first = Uuid::parse_str(&s.due[0]).expect("uuid");
    let second = Uuid::parse_str(&s.due[1]).expect("uuid");

    // Nothing applies from a wrong message.
    let stranger = rating_message(process, &[(first, Rating::A), (Uuid::now_v7(), Rating::V)]);
    let r = post_message(&s.archivist, &transfer, stranger).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let other_process = rating_message(Uuid::now_v7(), &[(first, Rating::A), (second, Rating::V)]);
    let r = post_message(&s.archivist, &transfer, other_process).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let xxe = br#"<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<x>&e;</x>"#;
    let r = post_message(&s.archivist, &transfer, xxe.to_vec()).await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line 2")),
        "{}",
        r.body
    );
    // Too large: refused by its declared length. The server may close the connection before
    // the client has sent it all; then there is no answer to read, only the outcome below.
    let huge = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/transfers/{transfer}/messages",
            s.archivist.base_url
        ))
        .bearer_auth(s.archivist.token.as_deref().expect("token"))
        .header("content-type", "application/xml")
        .body(vec![b' '; 40 * 1024 * 1024])
        .send()
        .await;
    if let Ok(answer) = huge {
        assert_eq!(answer.status(), 413);
    }
    let unchanged = s
        .archivist
        .get(&format!("/api/v1/transfers/{transfer}"))
        .await;
    assert_eq!(unchanged.body["state"], "angeboten");
    assert!(ratings_of(&unchanged.body)
        .iter()
        .all(|(_, st, r)| st == "angeboten" && r.is_null()));

    // The rating comes as archives send it: in its container.
    let rating = container(
        &format!("{transfer}_Aussonderung.Bewertungsverzeichnis.0502.xml"),
        &rating_message(process, &[(first, Rating::A), (second, Rating::V)]),
    );
    let escaping = container("../../etc/passwd.xml", b"<x/>");
    let r = post_message(&s.archivist, &transfer, escaping).await;
    r.assert_problem(422, "validation_failed");
    let r = post_message(&s.archivist, &transfer, rating.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["changed"], 6,
        "Vorgänge share their Akte's rating: {}",
        r.body
    );
    let after = &r.body["transfer"];
    assert_eq!(after["state"], "bewertet");
    for item in after["items"].as_array().expect("items") {
        let expected = if item["file_id"] == s.due[0].as_str() {
            "A"
        } else {
            "V"
        };
        assert_eq!(item["rating"], expected, "{item}");
        assert_eq!(item["state"], "bewertet");
    }
    // The same rating again changes nothing.
    let again = post_message(&s.archivist, &transfer, rating).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["changed"], 0);

    let receipt = s
        .archivist
        .get(&format!("/api/v1/transfers/{transfer}/messages/0505"))
        .await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_valid(&receipt.bytes, "0505");

    let logged = s
        .archivist
        .get(&format!("/api/v1/transfers/{transfer}"))
        .await;
    let codes: Vec<(&str, &str)> = logged.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["code"].as_str().expect("code"),
                m["direction"].as_str().expect("dir"),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("0501", "out"),
            ("0502", "in"),
            ("0502", "in"),
            ("0505", "out")
        ]
    );
    let _ = &s.admin;
}

fn import_confirmation(process: Uuid, results: &[(Uuid, bool, Option<&str>)]) -> Vec<u8> {
    let head = Head {
        process_id: process,
        created: time::OffsetDateTime::now_utc(),
        sender: Party {
            authority_key: Some("la-nrw".into()),
            institution: Some("Landesarchiv NRW".into()),
        },
        recipient: Party::default(),
        receipt_requested: false,
    };
    let results: Vec<akta_xdomea::read::ImportResult> = results
        .iter()
        .map(
            |(id, imported, reference)| akta_xdomea::read::ImportResult {
                id: *id,
                imported: *imported,
                archive_reference: reference.map(str::to_owned),
                errors: Vec::new(),
            },
        )
        .collect();
    let xml = akta_xdomea::write::import_bestaetigung_0506(&head, &results).expect("0506");
    assert_valid(&xml, "0506");
    xml
}

/// The whole way out: the archive takes one Akte and rates the other V; Akta sends the taken
/// one with every version of every document in a 0503 zip (checksums included, the XML valid),
/// the archive confirms receipt (0507) and import (0506); then both Akten are destroyed with
/// their content, and the Löschprotokoll names them. A legal hold set meanwhile blocks the
/// transfer, and a repeated confirmation changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_takes_one_akte_the_other_is_destroyed_and_the_protocol_remains() {
    let s = setup().await;
    let due: Vec<&str> = s.due.iter().map(String::as_str).collect();
    let created = offer(&s.archivist, &due).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let transfer = created.id();
    let process = Uuid::parse_str(&transfer).expect("uuid");
    let taken = Uuid::parse_str(&s.due[0]).expect("uuid");
    let rejected = Uuid::parse_str(&s.due[1]).expect("uuid");

    let zip_path = format!("/api/v1/transfers/{transfer}/messages/0503");
    s.archivist
        .get(&zip_path)
        .await
        .assert_problem(409, "conflict");
    let rating = rating_message(process, &[(taken, Rating::A), (rejected, Rating::V)]);
    assert_eq!(
        post_message(&s.archivist, &transfer, rating).await.status,
        200
    );

    // A hold set after the rating still blocks the handover.
    let hold_path = format!("/api/v1/files/{taken}/hold");
    let held = s
        .archivist
        .send(
            s.archivist
                .request(Method::PUT, &hold_path)
                .json(&json!({"reason": "Akteneinsicht"})),
        )
        .await;
    assert_eq!(held.status, 200, "{}", held.body);
    s.archivist
        .get(&zip_path)
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        s.admin.get(&format!("/api/v1/files/{taken}")).await.status,
        200
    );
    let lifted = s
        .archivist
        .send(s.archivist.request(Method::DELETE, &hold_path))
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);

    let zip = s.archivist.get(&zip_path).await;
    assert_eq!(zip.status, 200, "{}", zip.body);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).expect("a zip");
    let mut entries = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().expect("entry name").into_owned();
        assert!(!name.contains('/'), "flat container: {name}");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
        entries.insert(name, bytes);
    }
    let xml_name = format!("{transfer}_Aussonderung.Aussonderung.0503.xml");
    let xml = entries.get(&xml_name).expect("the message").clone();
    assert_valid(&xml, "0503");
    let text = String::from_utf8(xml).expect("utf-8");
    assert!(text.contains("Kindertagesstätte"), "the taken Akte");
    assert!(!text.contains("Gärtnerei"), "the Akte rated V stays out");
    // Lageplan and two Vorgänge with one document each, two versions each: six files.
    let sums = String::from_utf8(
        entries
            .get(&format!("{transfer}_Pruefsummen.sha256"))
            .expect("checksums")
            .clone(),
    )
    .expect("utf-8");
    let listed: Vec<(&str, &str)> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("sum and name"))
        .collect();
    assert_eq!(listed.len(), 6, "{sums}");
    for (sum, name) in &listed {
        let content = entries.get(*name).expect("listed file in the zip");
        assert_eq!(*sum, crate::common::sha256_hex(content), "{name}");
        assert!(
            text.contains(&format!("<xdomea:Dateiname>{name}</xdomea:Dateiname>")),
            "{name}"
        );
        assert!(
            content.starts_with(b"%PDF-1.4 "),
            "decrypted content of {name}"
        );
    }

    // The same container, taken in by another town's Akta (the Abgabe path): the same
    // documents byte for byte, the same metadata, the previous Aktenzeichen kept.
    let b = &s.other.admin;
    let unit = b
        .post(
            "/api/v1/plan-units",
            json!({"code": "63", "title": "Bauordnung"}),
        )
        .await
        .id();
    let import = |bytes: Vec<u8>| {
        let request = b
            .request(
                Method::POST,
                &format!("/api/v1/transfers/incoming?plan_unit_id={unit}"),
            )
            .header("content-type", "application/zip")
            .body(bytes);
        let b = b.clone();
        async move { b.send(request).await }
    };
    let imported = import(zip.bytes.clone()).await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert_eq!(imported.body["documents"], 3, "{}", imported.body);
    assert_eq!(imported.body["versions"], 6, "{}", imported.body);
    assert_eq!(imported.body["missing"], json!([]));
    let new_file = imported.body["files"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let copy = b.get(&format!("/api/v1/files/{new_file}")).await;
    assert_eq!(
        copy.body["subject"],
        "Baugenehmigung Kindertagesstätte Lindenweg 12"
    );
    assert_eq!(copy.body["status"], "zdA");
    assert_eq!(copy.body["period_from"], "2011-01-10");
    assert_eq!(copy.body["period_to"], "2012-06-30");
    let original = s.admin.get(&format!("/api/v1/files/{}", s.due[0])).await;
    assert_eq!(
        copy.body["metadata"]["vorheriges_aktenzeichen"],
        original.body["reference"]
    );
    let mut sums_b = Vec::new();
    let cases = b.get(&format!("/api/v1/files/{new_file}/cases")).await;
    assert_eq!(cases.body["items"].as_array().map(Vec::len), Some(2));
    // The Akte's list holds every document in it, its Vorgänge' included.
    {
        let docs = b.get(&format!("/api/v1/files/{new_file}/documents")).await;
        assert_eq!(docs.body["items"].as_array().map(Vec::len), Some(3));
        for d in docs.body["items"].as_array().expect("documents") {
            let id = d["id"].as_str().expect("id");
            let full = b.get(&format!("/api/v1/documents/{id}")).await;
            for v in full.body["versions"].as_array().expect("versions") {
                let content = b
                    .get(&format!(
                        "/api/v1/documents/{id}/versions/{}/content",
                        v["number"]
                    ))
                    .await;
                sums_b.push(crate::common::sha256_hex(&content.bytes));
            }
            assert_eq!(full.body["sender"], "Müller & Söhne");
        }
    }
    let mut sums_a: Vec<String> = listed.iter().map(|(sum, _)| (*sum).to_owned()).collect();
    sums_a.sort();
    sums_b.sort();
    assert_eq!(sums_b, sums_a, "byte-identical documents");
    let again = import(zip.bytes.clone()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["files"],
        json!([]),
        "imported twice: {}",
        again.body
    );
    assert_eq!(again.body["skipped"].as_array().map(Vec::len), Some(1));

    let receipt = akta_xdomea::write::receipt(
        akta_xdomea::MessageType::AussonderungEmpfangBestaetigen0507,
        &Head {
            process_id: process,
            created: time::OffsetDateTime::now_utc(),
            sender: Party::default(),
            recipient: Party::default(),
            receipt_requested: false,
        },
    )
    .expect("0507");
    assert_eq!(
        post_message(&s.archivist, &transfer, receipt).await.status,
        200
    );

    let confirmation = import_confirmation(
        process,
        &[(taken, true, Some("LAV NRW, Best. 512 Nr. 4711"))],
    );
    // A hold set after the handover blocks the destruction: the confirmation is refused and
    // nothing is deleted, not even the Akte rated V.
    let held = s
        .archivist
        .send(
            s.archivist
                .request(Method::PUT, &hold_path)
                .json(&json!({"reason": "Presseanfrage"})),
        )
        .await;
    assert_eq!(held.status, 200, "{}", held.body);
    post_message(&s.archivist, &transfer, confirmation.clone())
        .await
        .assert_problem(409, "conflict");
    for file in &s.due {
        let still = s.admin.get(&format!("/api/v1/files/{file}")).await;
        assert_eq!(still.status, 200, "{file} deleted under a hold");
    }
    let protocol = s.archivist.get("/api/v1/disposal/protocol").await;
    assert_eq!(protocol.body["items"], json!([]));
    let lifted = s
        .archivist
        .send(s.archivist.request(Method::DELETE, &hold_path))
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    let blobs_before = s.app.blob_keys().await.len();
    let done = post_message(&s.archivist, &transfer, confirmation.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        done.body["transfer"]["state"], "abgeschlossen",
        "{}",
        done.body
    );
    for file in &s.due {
        s.admin
            .get(&format!("/api/v1/files/{file}"))
            .await
            .assert_problem(404, "not_found");
    }
    assert!(
        s.app.blob_keys().await.len() + 12 <= blobs_before,
        "the destroyed versions' blobs are deleted"
    );

    let protocol = s.archivist.get("/api/v1/disposal/protocol").await;
    assert_eq!(protocol.status, 200, "{}", protocol.body);
    let items = protocol.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{}", protocol.body);
    let entry = |outcome: &str| {
        items
            .iter()
            .find(|e| e["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {outcome} entry"))
            .clone()
    };
    let archived = entry("archiviert");
    assert_eq!(archived["rating"], "A");
    assert_eq!(archived["archive_reference"], "LAV NRW, Best. 512 Nr. 4711");
    assert_eq!(archived["documents"], 3);
    assert_eq!(archived["versions"], 6);
    assert_eq!(archived["closed_on"], "2012-06-30");
    let destroyed = entry("vernichtet");
    assert_eq!(destroyed["rating"], "V");
    assert!(destroyed["subject"]
        .as_str()
        .is_some_and(|s| s.contains("Gärtnerei")));
    let csv = s
        .archivist
        .get("/api/v1/disposal/protocol?format=csv")
        .await;
    assert_eq!(csv.status, 200);
    let csv = String::from_utf8(csv.bytes).expect("utf-8");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("Aktenzeichen;Betreff;"), "{csv}");

    // The same confirmation again destroys nothing twice.
    let again = post_message(&s.archivist, &transfer, confirmation).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["changed"], 0);
    let protocol = s.archivist.get("/api/v1/disposal/protocol").await;
    assert_eq!(protocol.body["items"].as_array().map(Vec::len), Some(2));
}
