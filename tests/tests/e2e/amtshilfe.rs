//! Amtshilfe: one tenant shares an Akte (or a Vorgang) read-only with another. The receiving
//! tenant reads exactly what is shared, through the ordinary routes; every other id of the
//! owner stays a 404, its searches count nothing of the owner's; reads are audited on both
//! sides; the share ends at its date or when revoked. Below the API the share wall (RLS)
//! narrows the owner's records in a share's transaction.

use std::time::{Duration, Instant};

use akta_domain::TenantId;
use akta_testkit::{Client, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{assert_invalid, item_ids, owner, seed};

fn day(offset: i64) -> String {
    let d = akta_domain::german::today() + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn search(client: &Client, q: &str) -> Value {
    let r = client.get(&format!("/api/v1/search?q={q}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Waits until the owner's own search finds `q` `expected` times (the index applies the log
/// asynchronously).
async fn indexed(client: &Client, q: &str, expected: u64) {
    let started = Instant::now();
    while search(client, q).await["total"] != expected {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{q} not indexed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn shared_ids(body: &Value) -> Vec<String> {
    body["shared"]
        .as_array()
        .expect("shared")
        .iter()
        .map(|h| h["document_id"].as_str().expect("document_id").to_owned())
        .collect()
}

async fn audit_actions(app: &TestApp, tenant: Uuid, action: &str) -> i64 {
    let mut conn = owner(app, tenant).await;
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&mut conn)
        .await
        .expect("audit count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiving_tenant_reads_exactly_the_shared_akte_audited_on_both_sides() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let w = &witten.tenant.admin;
    let secret_file = w
        .create_file(&witten.plan_unit, "Nachbarakte Geheimweg")
        .await
        .id();
    let secret_doc = w
        .upload_document(
            &format!("/api/v1/files/{secret_file}"),
            "Geheimvermerk",
            b"nicht geteilt".to_vec(),
        )
        .await
        .id();
    let herdecke = app.create_tenant("herdecke").await;
    let h = &herdecke.admin;
    let file = &witten.file;

    // Before a share, the Akte is another tenant's: 404.
    assert_eq!(h.get(&format!("/api/v1/files/{file}")).await.status, 404);

    // The owner's rules: another tenant, a date not past and at most three years ahead.
    let shares = format!("/api/v1/files/{file}/shares");
    let body = |tenant: &str, until: String| json!({"tenant": tenant, "until": until, "reason": "Amtshilfe Bauaufsicht"});
    assert_invalid(&w.post(&shares, body("witten", day(30))).await, "tenant");
    assert_invalid(&w.post(&shares, body("nirgendwo", day(30))).await, "tenant");
    assert_invalid(&w.post(&shares, body("herdecke", day(-1))).await, "until");
    assert_invalid(&w.post(&shares, body("herdecke", day(2000))).await, "until");
    // Nobody shares what is not theirs.
    assert_eq!(h.post(&shares, body("witten", day(30))).await.status, 404);

    let created = w.post(&shares, body("herdecke", day(30))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let share = created.id();
    assert_eq!(item_ids(&w.get(&shares).await), vec![share.clone()]);

    // "Geteilt mit uns".
    let with_us = h.get("/api/v1/shared-with-us").await;
    assert_eq!(item_ids(&with_us), vec![share.clone()]);
    assert_eq!(with_us.body["items"][0]["file_id"], json!(file));
    assert_eq!(
        with_us.body["items"][0]["label"],
        "Bauantrag Musterstraße 1"
    );
    assert_eq!(with_us.body["items"][0]["owner_slug"], "witten");

    // The ordinary routes with the shared ids.
    let read = h.get(&format!("/api/v1/files/{file}")).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["subject"], "Bauantrag Musterstraße 1");
    let cases = h.get(&format!("/api/v1/files/{file}/cases")).await;
    assert_eq!(item_ids(&cases), vec![witten.case.clone()]);
    assert_eq!(
        h.get(&format!("/api/v1/cases/{}", witten.case))
            .await
            .status,
        200
    );
    let docs = h.get(&format!("/api/v1/files/{file}/documents")).await;
    assert_eq!(item_ids(&docs), vec![witten.document.clone()]);
    let doc = h
        .get(&format!("/api/v1/documents/{}", witten.document))
        .await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    let content = h
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/documents/{}/content", witten.document),
        )
        .send()
        .await
        .expect("content");
    assert_eq!(content.status(), 200);
    assert_eq!(
        content.bytes().await.expect("bytes").to_vec(),
        witten.content,
        "the owner's keys open the shared content"
    );

    // Nothing else of the owner: every other id is a 404, writes too.
    for path in [
        format!("/api/v1/files/{secret_file}"),
        format!("/api/v1/files/{secret_file}/documents"),
        format!("/api/v1/documents/{secret_doc}"),
        format!("/api/v1/documents/{secret_doc}/content"),
        format!("/api/v1/plan-units/{}", witten.plan_unit),
        format!("/api/v1/files/{file}/history"),
        format!("/api/v1/files/{file}/shares"),
    ] {
        let r = h.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    let etag = read.header("etag").expect("etag").to_owned();
    let patch = h
        .patch(
            &format!("/api/v1/files/{file}"),
            Some(&etag),
            json!({"subject": "übernommen"}),
        )
        .await;
    assert_eq!(patch.status, 404, "a share is read-only: {}", patch.body);
    let upload = h
        .upload(
            &format!("/api/v1/files/{file}/documents"),
            Some(json!({"title": "Fremd", "kind": "Eingang"})),
            Some(("fremd.txt", "text/plain", b"x".to_vec())),
        )
        .await;
    assert_eq!(upload.status, 404, "{}", upload.body);
    assert!(
        !item_ids(&h.get("/api/v1/files").await).contains(file),
        "a shared Akte is not one of the tenant's own"
    );

    // Search: the shared document is found beside the tenant's own and not counted as its
    // own; the owner's other documents are not found at all.
    indexed(w, "Antrag", 1).await;
    indexed(w, "Geheimvermerk", 1).await;
    let found = search(h, "Antrag").await;
    assert_eq!(found["total"], 0, "{found}");
    assert_eq!(shared_ids(&found), vec![witten.document.clone()]);
    assert_eq!(found["shared"][0]["type"], "shared_document");
    let other = search(h, "Geheimvermerk").await;
    assert_eq!(other["total"], 0, "{other}");
    assert!(shared_ids(&other).is_empty(), "{other}");

    // Every read is audited on both sides.
    let history = w.get(&format!("/api/v1/files/{file}/history")).await;
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"file.shared"), "{actions:?}");
    let owner_reads = actions.iter().filter(|a| **a == "share.read").count();
    // Akte, Vorgänge, Vorgang, documents, document, content, search.
    assert!(owner_reads >= 7, "{actions:?}");
    assert_eq!(
        audit_actions(&app, herdecke.id, "shared.read").await,
        owner_reads as i64,
        "the reader's chain notes the same reads"
    );

    // The share ends at its date …
    let mut conn = owner(&app, witten.tenant.id).await;
    sqlx::query("UPDATE file_shares SET until_day = current_date - 2 WHERE id = $1::uuid")
        .bind(&share)
        .execute(&mut conn)
        .await
        .expect("expire");
    assert_eq!(h.get(&format!("/api/v1/files/{file}")).await.status, 404);
    assert!(item_ids(&h.get("/api/v1/shared-with-us").await).is_empty());
    assert!(shared_ids(&search(h, "Antrag").await).is_empty());

    // … or when revoked.
    let again = w.post(&shares, body("herdecke", day(10))).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(h.get(&format!("/api/v1/files/{file}")).await.status, 200);
    let revoked = w
        .request(reqwest::Method::DELETE, &format!("{shares}/{}", again.id()))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    assert_eq!(h.get(&format!("/api/v1/files/{file}")).await.status, 404);
    assert_eq!(
        h.get(&format!("/api/v1/documents/{}/content", witten.document))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vorgang_share_reaches_the_vorgang_and_its_documents_only() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let w = &witten.tenant.admin;
    let loose = w
        .upload_document(
            &format!("/api/v1/files/{}", witten.file),
            "Ohne Vorgang",
            b"lose".to_vec(),
        )
        .await
        .id();
    let herdecke = app.create_tenant("herdecke").await;
    let h = &herdecke.admin;
    let created = w
        .post(
            &format!("/api/v1/files/{}/shares", witten.file),
            json!({"tenant": "herdecke", "until": day(5), "reason": "Anhörung",
                   "case_id": witten.case}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["label"],
        "Bauantrag Musterstraße 1 – Baugenehmigung"
    );

    assert_eq!(
        h.get(&format!("/api/v1/cases/{}", witten.case))
            .await
            .status,
        200
    );
    let docs = h
        .get(&format!("/api/v1/cases/{}/documents", witten.case))
        .await;
    assert_eq!(item_ids(&docs), vec![witten.document.clone()]);
    assert_eq!(
        h.get(&format!("/api/v1/documents/{}", witten.document))
            .await
            .status,
        200
    );
    for path in [
        format!("/api/v1/files/{}", witten.file),
        format!("/api/v1/files/{}/documents", witten.file),
        format!("/api/v1/documents/{loose}"),
    ] {
        let r = h.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
}

/// The second wall: in a share's transaction RLS itself narrows the owner's records to the
/// shared Akte and refuses writes, whatever the code above asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_wall_narrows_the_owners_rows_in_the_database() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let other = witten
        .tenant
        .admin
        .create_file(&witten.plan_unit, "Andere Akte")
        .await
        .id();
    let file: Uuid = witten.file.parse().expect("uuid");
    let other: Uuid = other.parse().expect("uuid");
    let document: Uuid = witten.document.parse().expect("uuid");
    let mut tx = app
        .db
        .share_tx(TenantId(witten.tenant.id), file, None, "test")
        .await
        .expect("share tx");
    assert!(tx.file(file).await.is_ok());
    assert!(tx.document(document).await.is_ok());
    assert!(matches!(
        tx.file(other).await,
        Err(akta_db::DbError::NotFound)
    ));
    assert!(
        tx.create_case(file, "Eingeschmuggelt", serde_json::Map::new())
            .await
            .is_err(),
        "nothing is written in a share's transaction"
    );
}
