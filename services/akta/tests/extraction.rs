//! Text extraction over the real binary: uploads become outbox jobs, the server's worker
//! extracts them in an isolated `akta extract-worker` child, and the API shows the state and
//! serves the stored text. A broken file fails its own job and nothing else.

use akta_testkit::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

mod support;

use support::{serve_first_start, stop};

const SENTENCE: &str = "Die Straßenbaubehörde prüft den Änderungsantrag für Größe und Maß.";

/// Polls the document until version `nr` has left `pending`/`running`; returns its extraction.
async fn settled(client: &Client, doc: &str, nr: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client.get(&format!("/api/v1/documents/{doc}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let extraction = r.body["versions"][nr - 1]["extraction"].clone();
        let state = extraction["state"].as_str().unwrap_or("");
        assert!(
            ["pending", "running", "done", "failed"].contains(&state),
            "unexpected extraction {extraction} in {}",
            r.body
        );
        if state == "done" || state == "failed" {
            return extraction;
        }
        assert!(
            Instant::now() < deadline,
            "extraction never settled: {extraction}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn upload(client: &Client, case: &str, name: &str, mime: &str, bytes: Vec<u8>) -> String {
    let r = client
        .upload(
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"title": name, "kind": "Eingang"})),
            Some((name, mime, bytes)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

#[test]
fn uploads_are_extracted_and_broken_files_fail_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");
    let (server, token) = serve_first_start(dir.path(), &listen);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let admin = Client::new(&format!("http://{listen}"), Some(&token));
        let unit = admin.create_plan_unit("98", None).await;
        let file = admin
            .create_file(&unit, "Straßenausbau Lindenweg")
            .await
            .id();
        let case = admin.create_case(&file, "Anhörung").await;

        // Every file goes in first, so the broken one is in the outbox next to good ones.
        let mut random = vec![0u8; 4096];
        let mut x: u32 = 0x2545_f491;
        for b in random.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let mut corrupt = b"%PDF-1.7\n".to_vec();
        corrupt.extend_from_slice(&random);
        let broken = upload(&admin, &case, "kaputt.pdf", "application/pdf", corrupt).await;
        let plain = upload(
            &admin,
            &case,
            "vermerk.txt",
            "text/plain",
            format!("Vermerk\n\n{SENTENCE}\n").into_bytes(),
        )
        .await;
        let html = upload(
            &admin,
            &case,
            "anschreiben.html",
            "text/html",
            format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Anschreiben</title>\
                 <script>var geheim = 1;</script></head><body><h1>Anhörung</h1>\
                 <p>{SENTENCE}</p></body></html>"
            )
            .into_bytes(),
        )
        .await;

        for (doc, method) in [(&plain, "plain"), (&html, "html")] {
            let extraction = settled(&admin, doc, 1).await;
            assert_eq!(extraction["state"], "done", "{extraction}");
            assert_eq!(extraction["method"], method, "{extraction}");
            let text = admin
                .get(&format!("/api/v1/documents/{doc}/versions/1/text"))
                .await;
            assert_eq!(text.status, 200);
            assert_eq!(
                text.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
            let text = String::from_utf8(text.bytes).expect("utf-8");
            assert!(text.contains(SENTENCE), "{doc}: {text:?}");
            assert!(!text.contains("geheim"), "script text leaked: {text:?}");
        }

        let extraction = settled(&admin, &broken, 1).await;
        assert_eq!(extraction["state"], "failed", "{extraction}");
        let reason = extraction["reason"].as_str().unwrap_or("");
        assert!(
            !reason.is_empty(),
            "a failure names its reason: {extraction}"
        );
        let text = admin
            .get(&format!("/api/v1/documents/{broken}/versions/1/text"))
            .await;
        assert_eq!(text.status, 404);
        assert_eq!(
            admin
                .get(&format!("/api/v1/documents/{plain}/versions/2/text"))
                .await
                .status,
            404
        );

        // The server carries on: a new version after the failure is extracted too.
        let v2 = admin
            .upload(
                &format!("/api/v1/documents/{broken}/versions"),
                None,
                Some(("repariert.txt", "text/plain", SENTENCE.as_bytes().to_vec())),
            )
            .await;
        assert_eq!(v2.status, 201, "{}", v2.body);
        let extraction = settled(&admin, &broken, 2).await;
        assert_eq!(extraction["state"], "done", "{extraction}");
        let first = admin.get(&format!("/api/v1/documents/{broken}")).await;
        assert_eq!(first.body["versions"][0]["extraction"]["state"], "failed");

        // Like the content, the text needs authentication.
        let reader = admin.with_token(None);
        assert_eq!(
            reader
                .get(&format!("/api/v1/documents/{plain}/versions/1/text"))
                .await
                .status,
            401
        );
    });
    stop(server);
}

/// The in-process test app runs the same worker when given a binary for the isolated child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_app_extracts_with_the_akta_binary() {
    let app = akta_testkit::TestApp::spawn_with(akta_testkit::TestOptions {
        backend: akta_testkit::Backend::Filesystem,
        extraction_worker: Some(support::AKTA.into()),
        ..Default::default()
    })
    .await;
    let tenant = app.create_tenant("stadt-rtf").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("10", None).await;
    let file = admin.create_file(&unit, "Satzung").await.id();
    let case = admin.create_case(&file, "Entwurf").await;
    let rtf = r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Die Stra\'dfenbaubeh\'f6rde pr\'fcft.\par}";
    let doc = upload(admin, &case, "satzung.rtf", "application/rtf", rtf.into()).await;
    let extraction = settled(admin, &doc, 1).await;
    assert_eq!(extraction["state"], "done", "{extraction}");
    let text = admin
        .get(&format!("/api/v1/documents/{doc}/versions/1/text"))
        .await;
    let text = String::from_utf8(text.bytes).expect("utf-8");
    assert!(text.contains("Die Straßenbaubehörde prüft."), "{text:?}");
}

#[path = "../../../shared/extract/tests/fixtures/mod.rs"]
mod fixtures;

/// Every format of the issue, uploaded through the API to an Akta on PostgreSQL and Garage,
/// is extracted by the isolated worker, served as text and found by search. Images and
/// scanned PDFs are read by tesseract where it is installed and otherwise marked
/// "no text (OCR unavailable)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_yields_its_text_and_is_found_over_the_real_stack() {
    use fixtures::*;
    let app = akta_testkit::TestApp::spawn_with(akta_testkit::TestOptions {
        backend: akta_testkit::Backend::Garage,
        extraction_worker: Some(support::AKTA.into()),
        ..Default::default()
    })
    .await;
    let tenant = app.create_tenant("stadt-formate").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("10", None).await;
    let file = admin.create_file(&unit, "Formate").await.id();
    let case = admin.create_case(&file, "Eingänge").await;

    const OOXML: &str = "application/vnd.openxmlformats-officedocument";
    let mut formats: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "utf8.txt",
            "text/plain".into(),
            SENTENCE.as_bytes().to_vec(),
        ),
        ("utf16.txt", "text/plain".into(), utf16(SENTENCE, false)),
        ("cp1252.txt", "text/plain".into(), win1252(SENTENCE)),
        ("latin9.txt", "text/plain".into(), iso885915(SENTENCE)),
        ("seite.html", "text/html".into(), HTML.as_bytes().to_vec()),
        (
            "brief.rtf",
            "application/rtf".into(),
            RTF.as_bytes().to_vec(),
        ),
        (
            "antrag.docx",
            format!("{OOXML}.wordprocessingml.document"),
            docx(),
        ),
        (
            "tabelle.xlsx",
            format!("{OOXML}.spreadsheetml.sheet"),
            xlsx(),
        ),
        (
            "vortrag.pptx",
            format!("{OOXML}.presentationml.presentation"),
            pptx(),
        ),
        (
            "antrag.odt",
            "application/vnd.oasis.opendocument.text".into(),
            odf("text"),
        ),
        (
            "tabelle.ods",
            "application/vnd.oasis.opendocument.spreadsheet".into(),
            odf("spreadsheet"),
        ),
        (
            "vortrag.odp",
            "application/vnd.oasis.opendocument.presentation".into(),
            odf("presentation"),
        ),
        (
            "antrag.pdf",
            "application/pdf".into(),
            pdf_with_text(&[SENTENCE, "Zweite Seite"]),
        ),
        ("mail.eml", "message/rfc822".into(), EML.as_bytes().to_vec()),
        ("mail.msg", "application/vnd.ms-outlook".into(), msg()),
    ];
    let ocr = akta_extract::tesseract_status().is_ok();
    let scan = render_pgm(&pdf_with_text(&[SENTENCE])).map(|p| pdf_with_image(&p));
    let png = render_png(&pdf_with_text(&[SENTENCE]));
    match (scan, png) {
        (Some(scan), Some(png)) => {
            formats.push(("scan.pdf", "application/pdf".into(), scan));
            formats.push(("scan.png", "image/png".into(), png));
        }
        _ => eprintln!("pdftoppm missing: scanned PDF and image fixtures not generated"),
    }

    let mut docs = Vec::new();
    for (name, mime, bytes) in &formats {
        docs.push((*name, upload(admin, &case, name, mime, bytes.clone()).await));
    }
    let mut expect_found = 0;
    for (name, doc) in &docs {
        let extraction = settled(admin, doc, 1).await;
        let scanned = name.starts_with("scan");
        if scanned && !ocr {
            assert_eq!(extraction["state"], "failed", "{name}: {extraction}");
            let reason = extraction["reason"].as_str().unwrap_or("");
            assert!(
                reason.starts_with("no text (OCR unavailable)"),
                "{name}: {extraction}"
            );
            continue;
        }
        assert_eq!(extraction["state"], "done", "{name}: {extraction}");
        let text = admin
            .get(&format!("/api/v1/documents/{doc}/versions/1/text"))
            .await;
        assert_eq!(text.status, 200, "{name}");
        let text = String::from_utf8(text.bytes).expect("utf-8");
        // OCR may break lines differently; the words must be there.
        for word in ["Bürgerin", "beantragt", "Straßenführung"] {
            assert!(text.contains(word), "{name}: {word} missing in {text:?}");
        }
        expect_found += 1;
    }

    // The text is content: in PostgreSQL it exists only sealed.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.owner_url)
        .await
        .expect("owner connection");
    sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
        .bind(tenant.id.to_string())
        .execute(&mut conn)
        .await
        .expect("tenant setting");
    let (rows, clear): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE sealed IS NULL OR text <> '' OR parts <> '[]'
                                              OR position('beantragt'::bytea IN sealed) > 0)
           FROM extracted_texts",
    )
    .fetch_one(&mut conn)
    .await
    .expect("extracted texts");
    assert_eq!((rows, clear), (expect_found, 0), "stored in the clear");

    // Every extracted document is found by a word of its content (stemmed: Straßenführungen).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = admin
            .get("/api/v1/search?q=Stra%C3%9Fenf%C3%BChrungen&limit=50")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["total"] == expect_found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{expect_found} expected: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An `extract-worker` stand-in that takes its time over files named `langsam…` and hands
/// everything to the real worker.
fn slow_worker(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("slow-worker.sh");
    let script = format!(
        "#!/bin/sh\nrequest=$(cat)\ncase \"$request\" in *langsam*) sleep 6;; esac\n\
         printf '%s' \"$request\" | exec '{}' extract-worker\n",
        support::AKTA
    );
    std::fs::write(&path, script).expect("write the script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

async fn attempts(app: &akta_testkit::TestApp, tenant: uuid::Uuid, doc: &str) -> Vec<i32> {
    let pool = sqlx::PgPool::connect(&app.owner_url).await.expect("owner");
    let mut tx = pool.begin().await.expect("begin");
    // Row-level security applies to the owner too: act inside the tenant.
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await
        .expect("tenant");
    let rows: Vec<(i32,)> = sqlx::query_as(
        "SELECT j.attempts FROM extraction_jobs j
           JOIN document_versions v ON v.id = j.version_id
          WHERE v.document_id = $1::uuid ORDER BY v.nr",
    )
    .bind(doc)
    .fetch_all(&mut *tx)
    .await
    .expect("attempts");
    drop(tx);
    pool.close().await;
    rows.into_iter().map(|(a,)| a).collect()
}

/// A pool of workers: a slow file does not hold back the next one, a new job wakes an idle
/// worker at once (its polling interval here is a minute), and the heartbeat keeps a
/// one-second lease alive through a six-second extraction, so no other worker takes the job
/// over while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_workers_is_woken_by_new_jobs_and_keeps_its_leases() {
    let app = akta_testkit::TestApp::spawn_with(akta_testkit::TestOptions {
        backend: akta_testkit::Backend::Filesystem,
        ..Default::default()
    })
    .await;
    let scripts = tempfile::tempdir().expect("tempdir");
    let _worker = app
        .spawn_node_with(
            akta_app::Role::Worker,
            akta_app::JobSettings {
                extract_exe: Some(slow_worker(scripts.path())),
                extraction: akta_jobs::worker::PoolSettings {
                    workers: 2,
                    poll: Duration::from_secs(60),
                    lease: Duration::from_secs(1),
                    ..Default::default()
                },
                ..Default::default()
            },
            akta_core::CoreSettings::default(),
        )
        .await;
    let tenant = app.create_tenant("stadt-pool").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("10", None).await;
    let file = admin.create_file(&unit, "Satzung").await.id();
    let case = admin.create_case(&file, "Entwurf").await;

    let slow = upload(
        admin,
        &case,
        "langsam.html",
        "text/html",
        "Langsamer Text".into(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let quick = upload(admin, &case, "schnell.html", "text/html", SENTENCE.into()).await;
    let extraction = settled(admin, &quick, 1).await;
    let took = started.elapsed();
    assert_eq!(extraction["state"], "done", "{extraction}");
    assert!(
        took < Duration::from_secs(4),
        "the quick file waited {took:?} (behind the slow one, or for a poll)"
    );
    let r = admin.get(&format!("/api/v1/documents/{slow}")).await;
    assert_eq!(
        r.body["versions"][0]["extraction"]["state"], "running",
        "{}",
        r.body
    );

    // Well past the slow job's one-second lease, a new job wakes the idle worker, which then
    // looks for due work again: without the heartbeat it would take the slow job over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let third = upload(admin, &case, "dritte.html", "text/html", SENTENCE.into()).await;
    assert_eq!(settled(admin, &third, 1).await["state"], "done");

    let extraction = settled(admin, &slow, 1).await;
    assert_eq!(extraction["state"], "done", "{extraction}");
    // One claim: the lease of one second was renewed for six, never taken over.
    assert_eq!(attempts(&app, tenant.id, &slow).await, vec![1]);
}

/// A job whose worker died (claimed, then never renewed) is taken over once its short lease
/// runs out, not after minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_of_a_dead_worker_is_taken_over_after_its_lease() {
    let app = akta_testkit::TestApp::spawn_with(akta_testkit::TestOptions {
        backend: akta_testkit::Backend::Filesystem,
        ..Default::default()
    })
    .await;
    let tenant = app.create_tenant("stadt-verwaist").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("10", None).await;
    let file = admin.create_file(&unit, "Satzung").await.id();
    let case = admin.create_case(&file, "Entwurf").await;
    let doc = upload(admin, &case, "a.html", "text/html", SENTENCE.into()).await;

    // A worker claims it with a 3 s lease and dies on the spot.
    let claimed = app
        .db
        .claim_next_extraction_job(Duration::from_secs(3))
        .await
        .expect("claim")
        .expect("a due job");
    assert_eq!(claimed.0 .0, tenant.id);
    let dead_at = Instant::now();

    let _worker = app
        .spawn_node_with(
            akta_app::Role::Worker,
            akta_app::JobSettings {
                extract_exe: Some(support::AKTA.into()),
                extraction: akta_jobs::worker::PoolSettings {
                    poll: Duration::from_millis(200),
                    ..Default::default()
                },
                ..Default::default()
            },
            akta_core::CoreSettings::default(),
        )
        .await;
    let extraction = settled(admin, &doc, 1).await;
    assert_eq!(extraction["state"], "done", "{extraction}");
    let took = dead_at.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "taken over after {took:?}"
    );
    assert_eq!(attempts(&app, tenant.id, &doc).await, vec![2]);
}
