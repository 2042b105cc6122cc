//! Domain events: each change writes one event, and what follows from it — the audit entry,
//! the search index log, the extraction outbox — comes from that event in the same
//! transaction (`TenantTx::record`), so no surface can forget one of them.

use akta_testkit::TestApp;
use serde_json::json;
use sqlx::PgConnection;

use crate::common::{owner, seed, upload_version};

/// How many rows of each consumer exist: audit events, index log entries, extraction jobs.
async fn counts(db: &mut PgConnection) -> (i64, i64, i64) {
    let (audit,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_events WHERE action <> 'file.read'")
            .fetch_one(&mut *db)
            .await
            .expect("audit count");
    let (index,): (i64,) = sqlx::query_as("SELECT count(*) FROM index_log")
        .fetch_one(&mut *db)
        .await
        .expect("index count");
    let (jobs,): (i64,) = sqlx::query_as("SELECT count(*) FROM extraction_jobs")
        .fetch_one(&mut *db)
        .await
        .expect("job count");
    (audit, index, jobs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_feeds_audit_index_and_extraction_from_one_event() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "sprockhoevel").await;
    let admin = &seeded.tenant.admin;
    let mut db = owner(&app, seeded.tenant.id).await;

    // A new version: one audit entry, its document in the index log, one extraction job.
    let before = counts(&mut db).await;
    let v2 = upload_version(
        admin,
        &seeded.document,
        "antrag-v2.pdf",
        b"%PDF-1.4 v2".to_vec(),
    )
    .await;
    assert_eq!(v2.status, 201, "{}", v2.body);
    let after = counts(&mut db).await;
    assert_eq!(after.0 - before.0, 1, "one audit entry");
    assert_eq!(after.1 - before.1, 1, "one index log entry");
    assert_eq!(after.2 - before.2, 1, "one extraction job");

    // Document metadata: audited and re-indexed, nothing to extract.
    let before = counts(&mut db).await;
    let changed = admin
        .patch(
            &format!("/api/v1/documents/{}", seeded.document),
            Some("\"v1\""),
            json!({"title": "Bauantrag (vollständig)"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let after = counts(&mut db).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (1, 1, 0)
    );

    // Free metadata of the Akte is not in the index: audited only.
    let file = format!("/api/v1/files/{}", seeded.file);
    let before = counts(&mut db).await;
    let meta = admin
        .patch(
            &file,
            Some("\"v1\""),
            json!({"metadata": {"bauort": "Musterstraße 1"}}),
        )
        .await;
    assert_eq!(meta.status, 200, "{}", meta.body);
    let after = counts(&mut db).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (1, 0, 0)
    );

    // Its Betreff is held with every document: each of them is re-indexed.
    let before = counts(&mut db).await;
    let renamed = admin
        .patch(
            &file,
            Some("\"v2\""),
            json!({"subject": "Bauantrag Musterstraße 1a"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let after = counts(&mut db).await;
    let (docs,): (i64,) = sqlx::query_as("SELECT count(*) FROM documents WHERE file_id = $1::uuid")
        .bind(&seeded.file)
        .fetch_one(&mut db)
        .await
        .expect("documents");
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (1, docs, 0)
    );

    // Closing and reopening: one event each; the reopening keeps its reason.
    admin
        .patch(&file, Some("\"v3\""), json!({"status": "zdA"}))
        .await;
    let before = counts(&mut db).await;
    let reopened = admin
        .patch(
            &file,
            Some("\"v4\""),
            json!({"status": "offen", "reason": "Nachtrag"}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    let after = counts(&mut db).await;
    assert_eq!(after.0 - before.0, 1, "one audit entry for the reopening");
    let (action, reason): (String, Option<String>) = sqlx::query_as(
        "SELECT action, after->>'reason' FROM audit_events ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .expect("last event");
    assert_eq!(action, "file.reopened");
    assert_eq!(reason.as_deref(), Some("Nachtrag"));
}
