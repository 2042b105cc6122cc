//! The extraction outbox below the API (this app runs no worker): a job is written with its
//! version, claimed by one worker at a time (`FOR UPDATE SKIP LOCKED` plus a lease), retried
//! with backoff, and comes back when its worker's lease runs out.

use std::time::Duration;

use akta_db::ExtractedText;
use akta_domain::TenantId;
use akta_testkit::TestApp;
use serde_json::json;
use uuid::Uuid;

use crate::common::{seed, upload_version};

async fn due_of(app: &TestApp, tenant: TenantId) -> Vec<Uuid> {
    let due = app.db.due_extraction_jobs(1000).await.expect("due jobs");
    due.into_iter()
        .filter(|(_, t)| *t == tenant)
        .map(|(j, _)| j)
        .collect()
}

fn text(s: &str) -> ExtractedText<'_> {
    ExtractedText {
        method: "plain",
        text: s,
        parts: json!([]),
        notes: json!([]),
        sealed: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extraction_job_runs_once_retries_and_survives_a_lost_worker() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "stadt-extraktion").await;
    let tenant = TenantId(seeded.tenant.id);
    let admin = &seeded.tenant.admin;
    let lease = Duration::from_secs(300);

    // The upload wrote exactly one job, due at once.
    let due = due_of(&app, tenant).await;
    assert_eq!(due.len(), 1, "{due:?}");
    let job = due[0];

    // Two workers at the same moment: the second skips the row the first holds.
    let mut first = app.db.system_tx(tenant, "test").await.expect("tx");
    let mut second = app.db.system_tx(tenant, "test").await.expect("tx");
    let claimed = first
        .claim_extraction_job(job, lease)
        .await
        .expect("claim")
        .expect("first worker gets the job");
    assert_eq!(claimed.attempts, 1);
    let skipped = second
        .claim_extraction_job(job, lease)
        .await
        .expect("claim");
    assert!(skipped.is_none(), "a job was claimed twice at once");
    first.commit().await.expect("commit");
    drop(second);
    // Once the claim is committed its lease keeps every other worker away.
    assert!(due_of(&app, tenant).await.is_empty());
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    assert!(tx
        .claim_extraction_job(job, lease)
        .await
        .expect("claim")
        .is_none());

    // A passing failure: pending again, after a backoff, reason not shown yet.
    assert!(tx
        .fail_extraction_job(&claimed, "storage unreachable", false)
        .await
        .expect("fail"));
    tx.commit().await.expect("commit");
    assert!(due_of(&app, tenant).await.is_empty(), "backoff ignored");
    let doc = admin
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await;
    assert_eq!(
        doc.body["versions"][0]["extraction"],
        json!({"state": "pending", "reason": null, "method": null})
    );

    // A worker that dies mid-job: its lease runs out and another worker takes over; the dead
    // worker's late result is refused.
    let v2 = upload_version(
        admin,
        &seeded.document,
        "v2.txt",
        b"Zweite Fassung".to_vec(),
    )
    .await;
    assert_eq!(v2.status, 201, "{}", v2.body);
    let job2 = due_of(&app, tenant).await;
    assert_eq!(job2.len(), 1, "{job2:?}");
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    let lost = tx
        .claim_extraction_job(job2[0], Duration::ZERO)
        .await
        .expect("claim")
        .expect("claimed");
    tx.commit().await.expect("commit");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        due_of(&app, tenant).await,
        job2,
        "an expired lease is due again"
    );
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    let retaken = tx
        .claim_extraction_job(job2[0], lease)
        .await
        .expect("claim")
        .expect("reclaimed");
    assert_eq!(retaken.attempts, 2);
    let document: Uuid = seeded.document.parse().expect("uuid");
    assert!(!tx
        .complete_extraction_job(&lost, document, text("veraltet"))
        .await
        .expect("complete"));
    assert!(tx
        .complete_extraction_job(&retaken, document, text("Zweite Fassung"))
        .await
        .expect("complete"));
    tx.commit().await.expect("commit");

    let doc = admin
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await;
    assert_eq!(
        doc.body["versions"][1]["extraction"],
        json!({"state": "done", "reason": null, "method": "plain"})
    );
    let stored = admin
        .get(&format!(
            "/api/v1/documents/{}/versions/2/text",
            seeded.document
        ))
        .await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.bytes, b"Zweite Fassung");
    // Another tenant sees neither the document nor its text.
    let other = seed(&app, "stadt-fremd").await;
    let foreign = other
        .tenant
        .admin
        .get(&format!(
            "/api/v1/documents/{}/versions/2/text",
            seeded.document
        ))
        .await;
    assert_eq!(foreign.status, 404);

    // A final failure gives up at once and shows its reason.
    let v3 = upload_version(admin, &seeded.document, "v3.pdf", b"%PDF-kaputt".to_vec()).await;
    assert_eq!(v3.status, 201, "{}", v3.body);
    let job3 = due_of(&app, tenant).await;
    assert_eq!(job3.len(), 1, "{job3:?}");
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    let claimed = tx
        .claim_extraction_job(job3[0], lease)
        .await
        .expect("claim")
        .expect("claimed");
    assert!(tx
        .fail_extraction_job(&claimed, "corrupt file: no xref", true)
        .await
        .expect("fail"));
    tx.commit().await.expect("commit");
    let doc = admin
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await;
    assert_eq!(
        doc.body["versions"][2]["extraction"],
        json!({"state": "failed", "reason": "corrupt file: no xref", "method": null})
    );
    assert!(due_of(&app, tenant).await.is_empty());
}

/// A worker claims its batch in one statement: no more than asked, each due job once, none
/// held by another worker's lease, and what is left is claimed by the next call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_claim_takes_each_due_job_once() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "stadt-stapel").await;
    let tenant = TenantId(seeded.tenant.id);
    let admin = &seeded.tenant.admin;
    let lease = Duration::from_secs(300);
    for n in 2..=5 {
        let v = upload_version(
            admin,
            &seeded.document,
            &format!("v{n}.txt"),
            format!("Fassung {n}").into_bytes(),
        )
        .await;
        assert_eq!(v.status, 201, "{}", v.body);
    }
    let mut due = due_of(&app, tenant).await;
    assert_eq!(due.len(), 5, "{due:?}");
    due.sort();

    // Another worker holds one job: a batch claim skips it.
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    let held = tx
        .claim_extraction_job(due[0], lease)
        .await
        .expect("claim")
        .expect("claimed");
    tx.commit().await.expect("commit");

    let first = app.db.claim_extraction_jobs(lease, 3).await.expect("claim");
    assert_eq!(first.len(), 3, "{first:?}");
    let second = app.db.claim_extraction_jobs(lease, 3).await.expect("claim");
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(app
        .db
        .claim_extraction_jobs(lease, 3)
        .await
        .expect("claim")
        .is_empty());
    let mut claimed: Vec<Uuid> = first.iter().chain(&second).map(|(_, j)| j.id).collect();
    claimed.push(held.id);
    claimed.sort();
    assert_eq!(claimed, due, "every due job claimed exactly once");
    assert!(first
        .iter()
        .chain(&second)
        .all(|(t, j)| *t == tenant && j.attempts == 1));

    // A lease that ran out makes its job due again for the next batch.
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    assert!(tx
        .renew_extraction_lease(&held, Duration::ZERO)
        .await
        .expect("renew"));
    tx.commit().await.expect("commit");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let retaken = app.db.claim_extraction_jobs(lease, 3).await.expect("claim");
    assert_eq!(retaken.len(), 1, "{retaken:?}");
    assert_eq!(retaken[0].1.id, held.id);
    assert_eq!(retaken[0].1.attempts, 2);
}

/// Small plain text is extracted while it is filed (no worker runs here): the upload's
/// versions are done at once, their text reads back and is found, and no job waits; HTML
/// still waits for a worker. In batch mode (imports) the job is written done at commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_plain_text_is_extracted_while_it_is_filed() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "stadt-sofort").await;
    let tenant = TenantId(seeded.tenant.id);
    let admin = &seeded.tenant.admin;
    let waiting = due_of(&app, tenant).await.len();

    let latin1 = b"Geb\xfchrenbescheid f\xfcr Familie M\xfcller".to_vec();
    let doc = admin
        .upload(
            &format!("/api/v1/files/{}/documents", seeded.file),
            Some(json!({"title": "Bescheid", "kind": "Eingang"})),
            Some(("bescheid.txt", "text/plain", latin1)),
        )
        .await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let doc = doc.id();
    let v2 = admin
        .upload(
            &format!("/api/v1/documents/{doc}/versions"),
            None,
            Some((
                "bescheid.txt",
                "text/plain",
                b"Widerspruchsbescheid".to_vec(),
            )),
        )
        .await;
    assert_eq!(v2.status, 201, "{}", v2.body);
    let html = admin
        .upload(
            &format!("/api/v1/files/{}/documents", seeded.file),
            Some(json!({"title": "Seite", "kind": "Eingang"})),
            Some(("seite.html", "text/html", b"<p>Hallo</p>".to_vec())),
        )
        .await;
    assert_eq!(html.status, 201, "{}", html.body);
    assert_eq!(
        due_of(&app, tenant).await.len(),
        waiting + 1,
        "only HTML waits"
    );

    let got = admin.get(&format!("/api/v1/documents/{doc}")).await;
    for v in 0..2 {
        assert_eq!(
            got.body["versions"][v]["extraction"],
            json!({"state": "done", "reason": null, "method": "plain"}),
            "{}",
            got.body
        );
    }
    let text = admin
        .get(&format!("/api/v1/documents/{doc}/versions/1/text"))
        .await;
    assert_eq!(text.status, 200);
    assert_eq!(
        String::from_utf8_lossy(&text.bytes),
        "Gebührenbescheid für Familie Müller"
    );
    // Sealed like a worker's text: nothing of it in the clear in the database.
    let mut owner = crate::common::owner(&app, tenant.0).await;
    let clear: Vec<(String, bool)> = sqlx::query_as(
        "SELECT t.text, t.sealed IS NOT NULL FROM extracted_texts t
           JOIN document_versions v ON v.id = t.version_id
          WHERE v.document_id = $1",
    )
    .bind(Uuid::parse_str(&doc).expect("uuid"))
    .fetch_all(&mut owner)
    .await
    .expect("texts");
    assert_eq!(clear, vec![(String::new(), true); 2]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = admin.get("/api/v1/search?q=Widerspruchsbescheid").await;
        if found.body["total"] == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", found.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Batch mode (imports file many Dokumente in one statement per table): a version's job
    // is only written at commit, as done where its text came with it.
    let keys = [0, 1].map(|_| format!("t/{tenant}/{}", Uuid::now_v7()));
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    tx.record_upload_intents(&keys).await.expect("intents");
    tx.commit().await.expect("commit");
    let item = |title: &str, key: &str, name: &str, media: &str, text: Option<&str>| {
        (
            akta_db::DocumentTarget::File(seeded.file.parse().expect("uuid")),
            akta_db::NewDocument {
                title: title.into(),
                kind: akta_domain::DocumentKind::parse("Eingang").expect("kind"),
                sender: None,
                recipient: None,
                document_date: None,
                metadata: Default::default(),
            },
            akta_db::NewVersion {
                blob_key: key.into(),
                sha256_hex: crate::common::sha256_hex(title.as_bytes()),
                size: 17,
                media_type: media.into(),
                file_name: name.into(),
                dek: None,
                text: text.map(|t| akta_db::FiledText {
                    method: "plain".into(),
                    text: t.into(),
                    sealed: None,
                }),
            },
        )
    };
    let mut tx = app.db.system_tx(tenant, "test").await.expect("tx");
    tx.batch_writes();
    let imported = tx
        .create_documents(vec![
            item(
                "Importiert",
                &keys[0],
                "import.txt",
                "text/plain",
                Some("Importierter Text"),
            ),
            item(
                "Importierte Seite",
                &keys[1],
                "import.html",
                "text/html",
                None,
            ),
        ])
        .await
        .expect("create");
    tx.commit().await.expect("commit");
    let titles: Vec<&str> = imported.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["Importiert", "Importierte Seite"]);
    assert_eq!(
        due_of(&app, tenant).await.len(),
        waiting + 2,
        "the HTML waits"
    );
    let got = admin
        .get(&format!("/api/v1/documents/{}", imported[1].id))
        .await;
    assert_eq!(got.body["versions"][0]["number"], 1, "{}", got.body);
    assert_eq!(got.body["versions"][0]["extraction"]["state"], "pending");
    let text = admin
        .get(&format!(
            "/api/v1/documents/{}/versions/1/text",
            imported[0].id
        ))
        .await;
    assert_eq!(String::from_utf8_lossy(&text.bytes), "Importierter Text");
    let got = admin
        .get(&format!("/api/v1/documents/{}", imported[0].id))
        .await;
    assert_eq!(
        got.body["versions"][0]["extraction"],
        json!({"state": "done", "reason": null, "method": "plain"}),
        "{}",
        got.body
    );
}
