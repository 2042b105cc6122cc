//! `akta import xdomea` over the real binary on the embedded default: messages of 3.1.0 (zip)
//! and 3.0.0 (a directory) go in by their plan codes, with a dry run that writes nothing, a
//! plan map, missing plan units refused or added, a second run that changes nothing, a run
//! that stopped half-way finished by the next, documents byte for byte; hostile containers
//! and usage errors answer exit code 2, refusals 1.

mod support;

use std::io::Write;
use std::path::Path;

use akta_testkit::Client;
use akta_xdomea::model::*;
use serde_json::json;
use support::{run, serve_first_start, stop};
use time::macros::{date, datetime};
use uuid::Uuid;

/// A primary document: its name in the container and its content.
struct Primary {
    name: String,
    bytes: Vec<u8>,
}

fn document(title: &str, contents: &[&str], primaries: &mut Vec<Primary>) -> DocumentObject {
    DocumentObject {
        id: Uuid::now_v7(),
        title: title.into(),
        kind: "Eingang".into(),
        received_on: Some(date!(2014 - 05 - 02)),
        sent_on: None,
        dated: Some(date!(2014 - 04 - 30)),
        sender: Some("Familie Öztürk".into()),
        recipient: None,
        versions: contents
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let name = format!("{}_antrag-{}.txt", Uuid::now_v7(), i + 1);
                primaries.push(Primary {
                    name: name.clone(),
                    bytes: text.as_bytes().to_vec(),
                });
                VersionObject {
                    number: u32::try_from(i + 1).expect("number"),
                    file_name: name,
                    original_name: format!("antrag-{}.txt", i + 1),
                    format_code: "045".into(),
                    created: datetime!(2014-05-02 09:00:00 UTC),
                    created_by: "meier".into(),
                }
            })
            .collect(),
    }
}

fn akte(code: &str, subject: &str, documents: Vec<DocumentObject>) -> FileObject {
    FileObject {
        id: Uuid::now_v7(),
        reference: format!("{code}-0007/2014"),
        subject: subject.into(),
        confidentiality: Confidentiality::Open,
        lead: None,
        plan_unit: Some((code.into(), format!("Einheit {code}"))),
        retention: Retention {
            keep: Keep::Years(10),
            rating: Rating::A,
            ends: None,
        },
        period_from: Some(date!(2014 - 01 - 15)),
        period_to: Some(date!(2015 - 06 - 30)),
        closed_on: Some(date!(2015 - 06 - 30)),
        documents: Vec::new(),
        cases: vec![CaseObject {
            id: Uuid::now_v7(),
            reference: format!("{code}-0007/2014-1"),
            subject: "Antrag".into(),
            retention: Retention {
                keep: Keep::Years(10),
                rating: Rating::A,
                ends: None,
            },
            closed_on: None,
            period_from: None,
            documents,
        }],
    }
}

fn message(files: &[FileObject]) -> (Uuid, Vec<u8>) {
    let head = Head {
        process_id: Uuid::now_v7(),
        created: datetime!(2026-12-01 10:00:00 +1),
        sender: Party {
            authority_key: Some("altsystem".into()),
            institution: Some("Stadt Wetter (Altsystem)".into()),
        },
        recipient: Party::default(),
        receipt_requested: false,
    };
    let xml = akta_xdomea::write::aussonderung_0503(&head, files).expect("0503");
    (head.process_id, xml)
}

fn zip_to(path: &Path, process: Uuid, xml: &[u8], primaries: &[Primary], extra: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("zip file"));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(
        format!("{process}_Aussonderung.Aussonderung.0503.xml"),
        options,
    )
    .expect("entry");
    zip.write_all(xml).expect("xml");
    for p in primaries {
        zip.start_file(p.name.as_str(), options).expect("entry");
        zip.write_all(&p.bytes).expect("write");
    }
    for (name, bytes) in extra {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

fn import(dir: &Path, listen: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["import", "xdomea", "--tenant", "wetter"];
    all.extend_from_slice(args);
    let out = run(dir, listen, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn last_line(output: &str) -> &str {
    output
        .lines()
        .rfind(|l| l.starts_with("created") || l.starts_with("would create"))
        .unwrap_or("")
}

/// Every imported Akte's subject with the SHA-256s of all its versions.
async fn contents(client: &Client) -> Vec<(String, usize, Vec<String>)> {
    let files = client.get("/api/v1/files?limit=200").await;
    let mut out = Vec::new();
    for f in files.body["items"].as_array().expect("files") {
        let id = f["id"].as_str().expect("id");
        let docs = client.get(&format!("/api/v1/files/{id}/documents")).await;
        let mut sums = Vec::new();
        let docs = docs.body["items"].as_array().expect("docs").clone();
        for d in &docs {
            let doc = d["id"].as_str().expect("id");
            let full = client.get(&format!("/api/v1/documents/{doc}")).await;
            for v in full.body["versions"].as_array().expect("versions") {
                sums.push(v["sha256"].as_str().expect("sha").to_owned());
            }
        }
        sums.sort();
        out.push((
            f["subject"].as_str().expect("subject").to_owned(),
            docs.len(),
            sums,
        ));
    }
    out.sort();
    out
}

fn sha(text: &str) -> String {
    hex::encode(openssl::sha::sha256(text.as_bytes()))
}

#[test]
fn xdomea_messages_come_in_by_their_plan_codes_resumably_and_exactly_once() {
    let messages = tempfile::tempdir().expect("messages");
    let w = Wetter::start();
    let (dir, listen, rt, admin) = (w.dir.path(), w.listen.as_str(), &w.rt, &w.admin);
    rt.block_on(async {
        let bau = admin.create_plan_unit("63", None).await;
        let r = admin
            .post(
                "/api/v1/plan-units",
                json!({"code": "63.01", "title": "Baugenehmigungen", "parent_id": bau}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    });

    // A 3.1.0 zip: one Akte for 63.01, one for a unit the plan lacks.
    let mut primaries = Vec::new();
    let known = akte(
        "63.01",
        "Bauantrag Gartenstraße 4",
        vec![document(
            "Antrag",
            &["Antrag vom Mai", "Antrag, ergänzt"],
            &mut primaries,
        )],
    );
    let unknown = akte(
        "99.9",
        "Sondersache",
        vec![document("Vermerk", &["Vermerk"], &mut primaries)],
    );
    let (process, xml) = message(&[known.clone(), unknown.clone()]);
    let first = messages.path().join("erste.zip");
    zip_to(&first, process, &xml, &primaries, &[]);
    let first = first.to_str().expect("path");

    let (code, out) = import(dir, listen, &["--dry-run", first]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        last_line(&out),
        "would create 1, skipped 0, refused 1",
        "{out}"
    );
    assert!(out.contains("99.9 is not in the Aktenplan"), "{out}");
    rt.block_on(async { assert!(contents(admin).await.is_empty(), "a dry run wrote") });

    let (code, out) = import(dir, listen, &[first]);
    assert_eq!(
        (code, last_line(&out)),
        (1, "created 1, skipped 0, refused 1"),
        "{out}"
    );
    let (code, out) = import(dir, listen, &["--create-plan-units", first]);
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 1, skipped 1, refused 0"),
        "{out}"
    );

    // A 3.0.0 message as a directory, its plan code mapped onto the tenant's.
    let mut primaries = Vec::new();
    let mapped = akte(
        "6301",
        "Abbruch Scheune",
        vec![document("Anzeige", &["Abbruchanzeige"], &mut primaries)],
    );
    let (process, xml) = message(&[mapped]);
    let old = String::from_utf8(xml)
        .expect("utf-8")
        .replace("schema:3.1.0", "schema:3.0.0");
    let folder = messages.path().join("zweite");
    std::fs::create_dir(&folder).expect("dir");
    std::fs::write(
        folder.join(format!("{process}_Aussonderung.Aussonderung.0503.xml")),
        old,
    )
    .expect("xml");
    for p in &primaries {
        std::fs::write(folder.join(&p.name), &p.bytes).expect("primary");
    }
    let map = messages.path().join("plan.csv");
    std::fs::write(&map, "nachricht,akta\n6301,63.01\n").expect("map");
    let (code, out) = import(
        dir,
        listen,
        &[
            "--plan-map",
            map.to_str().expect("path"),
            folder.to_str().expect("path"),
        ],
    );
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 1, skipped 0, refused 0"),
        "{out}"
    );

    // Stopped half-way: the first run got the Akte with one of its two documents; the next
    // run brings the other and duplicates nothing.
    let mut primaries = Vec::new();
    let first_doc = document("Bescheid", &["Bescheid"], &mut primaries);
    let second_doc = document(
        "Widerspruch",
        &["Widerspruch", "Widerspruch, begründet"],
        &mut primaries,
    );
    let mut partial = akte(
        "63.01",
        "Nutzungsänderung Hofladen",
        vec![first_doc.clone()],
    );
    // Interrupted before its end, the Akte is not closed yet (closing comes last).
    let mut interrupted = partial.clone();
    interrupted.closed_on = None;
    let (process, xml) = message(&[interrupted]);
    let half = messages.path().join("halb.zip");
    zip_to(&half, process, &xml, &primaries[..1], &[]);
    let (code, out) = import(dir, listen, &[half.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    partial.cases[0].documents = vec![first_doc, second_doc];
    let (process, xml) = message(&[partial]);
    let whole = messages.path().join("ganz.zip");
    zip_to(&whole, process, &xml, &primaries, &[]);
    let (code, out) = import(dir, listen, &[whole.to_str().expect("path")]);
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 1, skipped 0, refused 0"),
        "{out}"
    );
    // Run again: nothing changes (99.9 was added to the plan by --create-plan-units above).
    let (code, out) = import(dir, listen, &[whole.to_str().expect("path"), first]);
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 0, skipped 3, refused 0"),
        "{out}"
    );

    rt.block_on(async {
        let all = contents(admin).await;
        let expect = |subject: &str, docs: usize, texts: &[&str]| {
            let mut sums: Vec<String> = texts.iter().map(|t| sha(t)).collect();
            sums.sort();
            (subject.to_owned(), docs, sums)
        };
        assert_eq!(
            all,
            vec![
                expect("Abbruch Scheune", 1, &["Abbruchanzeige"]),
                expect(
                    "Bauantrag Gartenstraße 4",
                    1,
                    &["Antrag vom Mai", "Antrag, ergänzt"]
                ),
                expect(
                    "Nutzungsänderung Hofladen",
                    2,
                    &["Bescheid", "Widerspruch", "Widerspruch, begründet"]
                ),
                expect("Sondersache", 1, &["Vermerk"]),
            ]
        );
        let files = admin.get("/api/v1/files?limit=200").await;
        let garden = files.body["items"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["subject"] == "Bauantrag Gartenstraße 4")
            .expect("imported")
            .clone();
        assert_eq!(garden["status"], "zdA");
        assert_eq!(garden["period_from"], "2014-01-15");
        assert_eq!(garden["period_to"], "2015-06-30");
        assert_eq!(
            garden["metadata"]["vorheriges_aktenzeichen"],
            "63.01-0007/2014"
        );
    });

    // Hostile or wrong: exit code 2, nothing changed.
    let hostile = messages.path().join("boese.zip");
    zip_to(
        &hostile,
        Uuid::now_v7(),
        b"<x/>",
        &[],
        &[("../../etc/cron.d/x", b"x")],
    );
    let (code, out) = import(dir, listen, &[hostile.to_str().expect("path")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("leaves the container"), "{out}");
    let out = run(
        dir,
        listen,
        &["import", "xdomea", "--tenant", "gibt-es-nicht", first],
    );
    assert_eq!(out.status.code(), Some(2));
    rt.block_on(async { assert_eq!(contents(admin).await.len(), 4) });
}

/// `akta serve` on a fresh embedded default with the tenant `wetter` and its admin's client;
/// the server is stopped however the test ends, so a failure leaves none behind.
struct Wetter {
    dir: tempfile::TempDir,
    listen: String,
    rt: tokio::runtime::Runtime,
    admin: Client,
    server: Option<std::process::Child>,
}

impl Wetter {
    fn start() -> Wetter {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = akta_pgcluster::free_port().expect("port");
        let listen = format!("127.0.0.1:{port}");
        let (server, _) = serve_first_start(dir.path(), &listen);
        let mut w = Wetter {
            rt: tokio::runtime::Runtime::new().expect("runtime"),
            admin: Client::new(&format!("http://{listen}"), None),
            server: Some(server),
            listen,
            dir,
        };
        w.admin = w.tenant("wetter", "Stadt Wetter");
        w
    }
}

impl Wetter {
    /// Another tenant of the same Akta: its admin's client.
    fn tenant(&self, slug: &str, name: &str) -> Client {
        let (token, _) = support::ok(
            self.dir.path(),
            &self.listen,
            &["tenant", "create", slug, "--name", name],
        );
        Client::new(&format!("http://{}", self.listen), Some(token.trim()))
    }
}

impl Drop for Wetter {
    fn drop(&mut self) {
        if let Some(child) = self.server.take() {
            stop(child);
        }
    }
}

/// `akta import folder`: a file share's tree as a manifest names it; missing files and
/// symlinks out of the tree are refused by line; running again changes nothing.
#[test]
fn a_folder_tree_comes_in_by_its_manifest_exactly_once() {
    let share = tempfile::tempdir().expect("share");
    let w = Wetter::start();
    let (dir, listen, rt, admin) = (w.dir.path(), w.listen.as_str(), &w.rt, &w.admin);
    rt.block_on(async {
        admin.create_plan_unit("63", None).await;
    });
    let root = share.path();
    let write = |path: &str, text: &str| {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, text).expect("file");
    };
    write(
        "Bauamt/2019/Musterweg 3/Antrag.txt",
        "Bauantrag Musterweg 3",
    );
    write(
        "Bauamt/2019/Musterweg 3/Bescheid.txt",
        "Baugenehmigung Musterweg 3",
    );
    write("Bauamt/2020/Lindenweg/Plan.txt", "Lageplan Lindenweg");
    std::os::unix::fs::symlink("/etc/hostname", root.join("Bauamt/ausserhalb.txt"))
        .expect("symlink");
    let good = "path,plan_code,file_subject,case_subject,title,date,kind,aktenart\n\
        Bauamt/2019/Musterweg 3/Antrag.txt,63,\"Musterweg 3, Neubau\",Bauantrag,Antrag,2019-03-01,Eingang,Bauakte\n\
        Bauamt/2019/Musterweg 3/Bescheid.txt,63,\"Musterweg 3, Neubau\",Bauantrag,Bescheid,2019-08-12,Bescheid,Bauakte\n\
        Bauamt/2020/Lindenweg/Plan.txt,63,Lindenweg,,Lageplan,2020-02-02,Sonstiges,Bauakte\n";
    let bad = format!(
        "{good}Bauamt/ausserhalb.txt,63,Lindenweg,,Fremd,2020-02-02,Sonstiges,x\nBauamt/fehlt.txt,63,Lindenweg,,Fehlt,,Eingang,x\n"
    );
    let manifest = root.join("manifest.csv");
    std::fs::write(&manifest, &bad).expect("manifest");
    let manifest_arg = manifest.to_str().expect("path");
    let folder = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "folder",
            "--tenant",
            "wetter",
            "--manifest",
            manifest_arg,
        ];
        args.extend_from_slice(extra);
        let out = run(dir, listen, &args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, out) = folder(&["--dry-run"]);
    assert_eq!(
        (code, last_line(&out)),
        (1, "would create 2, skipped 0, refused 2"),
        "{out}"
    );
    assert!(out.contains("estimated duration of the import: "), "{out}");
    rt.block_on(async { assert!(contents(admin).await.is_empty(), "a dry run wrote") });
    let (code, out) = folder(&[]);
    assert_eq!(
        (code, last_line(&out)),
        (1, "created 2, skipped 0, refused 2"),
        "{out}"
    );
    assert!(
        out.contains("Bauamt/ausserhalb.txt: no regular file"),
        "{out}"
    );
    std::fs::write(&manifest, good).expect("manifest");
    let (code, out) = folder(&[]);
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 0, skipped 2, refused 0"),
        "{out}"
    );
    rt.block_on(async {
        assert_eq!(
            contents(admin).await,
            vec![
                ("Lindenweg".to_owned(), 1, vec![sha("Lageplan Lindenweg")]),
                ("Musterweg 3, Neubau".to_owned(), 2, {
                    let mut s = vec![
                        sha("Bauantrag Musterweg 3"),
                        sha("Baugenehmigung Musterweg 3"),
                    ];
                    s.sort();
                    s
                }),
            ]
        );
    });
}

/// A file share of `akten` Akten with `per_akte` documents each (every third in a Vorgang),
/// and its manifest with a column of its own (`aktenart`).
fn share_with(root: &Path, akten: usize, per_akte: usize) -> std::path::PathBuf {
    let mut manifest =
        String::from("path,plan_code,file_subject,case_subject,title,date,kind,aktenart\n");
    for a in 0..akten {
        for d in 0..per_akte {
            let path = format!("Bauamt/Akte {a:02}/Schreiben {d:03}.txt");
            let file = root.join(&path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
            std::fs::write(
                &file,
                format!("Akte {a} Schreiben {d}: Sehr geehrte Damen und Herren"),
            )
            .expect("file");
            let case = if d % 3 == 0 { "Anhörung" } else { "" };
            manifest.push_str(&format!(
                "{path},63,Grundstück {a:02},{case},Schreiben {d},2021-03-{:02},Eingang,Bauakte\n",
                d % 28 + 1
            ));
        }
    }
    let path = root.join("manifest.csv");
    std::fs::write(&path, manifest).expect("manifest");
    path
}

/// `kill -9` in the middle of an import, then the same command again: the tenant ends up
/// exactly as one that imported without interruption (same Akten, documents and bytes), with
/// nothing twice; the manifest's own column is kept as metadata and the audit names the
/// import's source.
#[test]
fn an_import_killed_in_the_middle_finishes_on_the_next_run_like_an_uninterrupted_one() {
    let share = tempfile::tempdir().expect("share");
    let manifest = share_with(share.path(), 6, 100);
    let manifest_arg = manifest.to_str().expect("path");
    let w = Wetter::start();
    let (dir, listen, rt, admin) = (w.dir.path(), w.listen.as_str(), &w.rt, &w.admin);
    let other = w.tenant("herdecke", "Stadt Herdecke");
    rt.block_on(async {
        admin.create_plan_unit("63", None).await;
        other.create_plan_unit("63", None).await;
    });
    let folder = |tenant: &'static str| {
        vec![
            "import",
            "folder",
            "--tenant",
            tenant,
            "--manifest",
            manifest_arg,
        ]
    };

    // Without interruption, into the other tenant.
    let out = run(dir, listen, &folder("herdecke"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        (out.status.code(), last_line(&text)),
        (Some(0), "created 6, skipped 0, refused 0"),
        "{text}"
    );

    // Killed once at least one batch is in and before the end.
    let mut child = support::akta(dir, listen)
        .args(folder("wetter"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("import");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let progress = rt.block_on(async {
        loop {
            let imports = admin.get("/api/v1/imports").await;
            assert_eq!(imports.status, 200, "{}", imports.body);
            let done = imports.body["items"][0]["progress"]["done"]
                .as_u64()
                .unwrap_or(0);
            if done >= 200 {
                return imports.body["items"][0]["progress"].clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no progress: {}",
                imports.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    assert!(
        progress["done"].as_u64() < progress["total"].as_u64(),
        "the import ended before it could be killed: {progress}"
    );
    let interrupted = rt.block_on(async {
        let imports = admin.get("/api/v1/imports").await;
        assert_eq!(imports.body["items"][0]["state"], "laufend");
        contents(admin)
            .await
            .iter()
            .map(|(_, docs, _)| docs)
            .sum::<usize>()
    });
    assert!(
        (200..600).contains(&interrupted),
        "{interrupted} documents after the kill"
    );

    let out = run(dir, listen, &folder("wetter"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(last_line(&text).ends_with("refused 0"), "{text}");
    rt.block_on(async {
        let resumed = contents(admin).await;
        assert_eq!(resumed.iter().map(|(_, d, _)| d).sum::<usize>(), 600);
        assert_eq!(resumed, contents(&other).await);

        // A document: the manifest's own column and path as metadata; its Akte's history
        // names the import as the source.
        let files = admin.get("/api/v1/files?limit=10").await;
        let file = files.body["items"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
        let doc = &docs.body["items"][0];
        assert_eq!(doc["metadata"]["aktenart"], "Bauakte", "{doc}");
        assert!(
            doc["metadata"]["pfad"]
                .as_str()
                .is_some_and(|p| p.starts_with("Bauamt/")),
            "{doc}"
        );
        let history = admin.get(&format!("/api/v1/files/{file}/history")).await;
        assert!(
            history.body.to_string().contains("manifest.csv"),
            "{}",
            history.body
        );
        // The chain links every entry an import wrote in batches.
        let verified = run(dir, listen, &["audit", "verify", "--tenant", "wetter"]);
        assert!(
            verified.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verified.stdout),
            String::from_utf8_lossy(&verified.stderr)
        );
        // Kept and downloadable: both runs with their reports.
        let imports = admin.get("/api/v1/imports").await;
        let items = imports.body["items"].as_array().expect("items");
        assert_eq!(items[0]["state"], "fertig");
        assert_eq!(items[0]["progress"]["done"], items[0]["progress"]["total"]);
        let id = items[0]["id"].as_str().expect("id");
        let csv = admin.get(&format!("/api/v1/imports/{id}/report.csv")).await;
        assert_eq!(csv.status, 200);
        let csv = String::from_utf8_lossy(&csv.bytes);
        assert!(csv.starts_with("ergebnis,"), "{csv}");
        assert!(csv.contains("\"angelegt\""), "{csv}");
    });
}

/// Hostile messages change nothing: a zip bomb and an external entity are refused with
/// exit code 2 and a clear reason; a primary document that is a symlink out of its
/// directory is not read (reported missing), the rest goes in.
#[test]
fn hostile_messages_are_refused_and_change_nothing() {
    let messages = tempfile::tempdir().expect("messages");
    let w = Wetter::start();
    let (dir, listen, rt, admin) = (w.dir.path(), w.listen.as_str(), &w.rt, &w.admin);
    rt.block_on(async {
        admin.create_plan_unit("63", None).await;
    });
    let mut primaries = Vec::new();
    let files = [akte(
        "63",
        "Bauvoranfrage",
        vec![document("Anfrage", &["Anfrage"], &mut primaries)],
    )];
    let (process, xml) = message(&files);

    let bomb = messages.path().join("bombe.zip");
    let zeros = vec![0u8; 64 * 1024 * 1024];
    zip_to(&bomb, process, &xml, &primaries, &[("nullen.bin", &zeros)]);
    let (code, out) = import(dir, listen, &[bomb.to_str().expect("path")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("zip bomb"), "{out}");

    let xxe = String::from_utf8(xml.clone()).expect("utf-8").replacen(
        "?>",
        "?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
        1,
    );
    let entity = messages.path().join("entitaet.zip");
    zip_to(&entity, process, xxe.as_bytes(), &primaries, &[]);
    let (code, out) = import(dir, listen, &[entity.to_str().expect("path")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("DOCTYPE is not allowed"), "{out}");
    rt.block_on(async { assert!(contents(admin).await.is_empty(), "something went in") });

    // The primary document is a symlink to a file outside: not read.
    let folder = messages.path().join("ordner");
    std::fs::create_dir(&folder).expect("dir");
    std::fs::write(
        folder.join(format!("{process}_Aussonderung.Aussonderung.0503.xml")),
        &xml,
    )
    .expect("xml");
    std::os::unix::fs::symlink("/etc/hostname", folder.join(&primaries[0].name)).expect("symlink");
    let (code, out) = import(dir, listen, &[folder.to_str().expect("path")]);
    assert_eq!(
        (code, last_line(&out)),
        (0, "created 1, skipped 0, refused 0"),
        "{out}"
    );
    assert!(out.contains("is missing"), "{out}");
    rt.block_on(async {
        assert_eq!(
            contents(admin).await,
            vec![("Bauvoranfrage".to_owned(), 0, Vec::new())]
        );
    });
}

/// The primary document names a message refers to (`<xdomea:Dateiname>`), in order.
fn primary_names(xml: &str) -> Vec<String> {
    xml.split("<xdomea:Dateiname>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_owned)
        .collect()
}

/// Validates a fixture against its official schema with xmllint, where both are at hand.
fn assert_schema_valid(path: &Path, version: &str) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/xdomea")
        .join(version)
        .join("xdomea.xsd");
    if !schema.exists() {
        eprintln!("SKIPPED schema validation: {} not found", schema.display());
        return;
    }
    match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{} does not validate: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("SKIPPED schema validation: xmllint not installed"),
    }
}

/// Messages written by hand from the xdomea specification, not by Akta's own writer (an Akte
/// with two Vorgänge, documents of two versions, a version in two formats, a Teilakte with a
/// Vorgang and a Teilvorgang, optional elements Akta does not use): 3.1.0 as a zip, 3.0.0 as
/// a directory, each into its own tenant. Every Vorgang, Teilakte and Teilvorgang becomes a
/// Vorgang of the Akte (Akta has no deeper level), every version comes in byte for byte (of
/// several formats the first).
#[test]
fn messages_written_from_the_specification_come_in_whole() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdomea");
    let messages = tempfile::tempdir().expect("messages");
    let w = Wetter::start();
    let (dir, listen, rt, admin) = (w.dir.path(), w.listen.as_str(), &w.rt, &w.admin);
    let herdecke = w.tenant("herdecke", "Stadt Herdecke");
    for (version, tenant, client, zipped) in [
        ("3.1.0", "wetter", admin, true),
        ("3.0.0", "herdecke", &herdecke, false),
    ] {
        let fixture = fixtures.join(format!("spezifikation-{version}.xml"));
        assert_schema_valid(&fixture, version);
        let xml = std::fs::read_to_string(&fixture).expect("fixture");
        assert!(xml.contains(&format!("schema:{version}")));
        let names = primary_names(&xml);
        assert_eq!(names.len(), 7, "{names:?}");
        let content = |name: &str| format!("Inhalt von {name}");
        let source = if zipped {
            let path = messages.path().join(format!("{version}.zip"));
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).expect("zip"));
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("abc_Aussonderung.Aussonderung.0503.xml", options)
                .expect("entry");
            zip.write_all(xml.as_bytes()).expect("xml");
            for name in &names {
                zip.start_file(name.as_str(), options).expect("entry");
                zip.write_all(content(name).as_bytes()).expect("write");
            }
            zip.finish().expect("finish");
            path
        } else {
            let folder = messages.path().join(version);
            std::fs::create_dir(&folder).expect("dir");
            std::fs::copy(
                &fixture,
                folder.join("abc_Aussonderung.Aussonderung.0503.xml"),
            )
            .expect("xml");
            for name in &names {
                std::fs::write(folder.join(name), content(name)).expect("primary");
            }
            folder
        };
        let out = run(
            dir,
            listen,
            &[
                "import",
                "xdomea",
                "--tenant",
                tenant,
                "--create-plan-units",
                source.to_str().expect("path"),
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            (out.status.code(), last_line(&text)),
            (Some(0), "created 1, skipped 0, refused 0"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        rt.block_on(async {
            // The second format of a version (its PDF rendition) stays out.
            let mut sums: Vec<String> = names
                .iter()
                .filter(|n| !n.ends_with("_Baugenehmigung_v2.pdf"))
                .map(|n| sha(&content(n)))
                .collect();
            sums.sort();
            assert_eq!(
                contents(client).await,
                vec![(
                    "Baugenehmigung Neubau Kindertagesstätte Lindenweg 12".to_owned(),
                    4,
                    sums
                )]
            );
            let files = client.get("/api/v1/files").await;
            let akte = &files.body["items"][0];
            assert_eq!(akte["status"], "zdA", "{akte}");
            assert_eq!(
                akte["metadata"]["vorheriges_aktenzeichen"],
                "63.01.02-0017/2015"
            );
            let id = akte["id"].as_str().expect("id");
            let cases = client.get(&format!("/api/v1/files/{id}/cases")).await;
            let mut subjects: Vec<String> = cases.body["items"]
                .as_array()
                .expect("cases")
                .iter()
                .map(|c| c["subject"].as_str().unwrap_or_default().to_owned())
                .collect();
            subjects.sort();
            assert_eq!(
                subjects,
                [
                    "Bauantrag und bauaufsichtliche Prüfung",
                    "Baugenehmigung und Schlussabnahme",
                    "Nachforderung Bewehrungsplan",
                    "Prüfstatik",
                    "Statische Berechnung",
                ]
            );
        });
    }
}
