//! The Posteingang over REST (issue 14): a delivery without an Akte waits, is read, filed in
//! one step into an Akte or a Vorgang (the same bytes, sealed once, no copy), forwarded, and
//! obeys the records rules like an upload (closed Akten, other tenants, readers, filed once);
//! a tenant key rotation re-wraps the keys of waiting items too. Akten and Vorgänge are
//! found by Zeichen and Betreff, in search and for search-as-you-type.

use akta_domain::TenantId;
use akta_testkit::{Client, Reply, TestApp};
use serde_json::{json, Value};

use crate::common::{items, random_bytes, sha256_hex};

async fn deliver(client: &Client, name: &str, bytes: Vec<u8>, metadata: Option<Value>) -> Reply {
    client
        .upload(
            "/api/v1/inbox",
            metadata,
            Some((name, "application/pdf", bytes)),
        )
        .await
}

async fn waiting_ids(client: &Client) -> Vec<String> {
    items(&client.get("/api/v1/inbox").await)
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_waits_in_the_posteingang_and_is_filed_in_one_step() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("wetter-ruhr").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let file = t
        .admin
        .create_file(&unit, "Neubau Bahnhofstraße 5")
        .await
        .id();
    let case = t.admin.create_case(&file, "Bauantrag").await;
    let scanner = app.client(&t, "clerk").await;

    let letter = random_bytes(300_000);
    let r = deliver(&scanner, "nachbarzustimmung.pdf", letter.clone(), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.id();
    assert_eq!(
        r.body["title"], "Nachbarzustimmung",
        "title from the file name"
    );
    assert_eq!(r.body["kind"], "Eingang");
    assert_eq!(r.body["sha256"], sha256_hex(&letter));
    assert!(waiting_ids(&scanner).await.contains(&item));
    let content = scanner.get(&format!("/api/v1/inbox/{item}/content")).await;
    assert_eq!(content.status, 200);
    assert!(content.bytes == letter, "the preview serves other bytes");

    // Filed with its metadata: the same content becomes version 1, nothing is copied.
    let blobs_before = app.blob_keys().await.len();
    let filed = scanner
        .post(
            &format!("/api/v1/inbox/{item}/file"),
            json!({"file_id": file, "title": "Zustimmung des Nachbarn", "sender": "Erika Müller", "document_date": "2026-03-02"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let doc = filed.id();
    assert_eq!(filed.body["title"], "Zustimmung des Nachbarn");
    assert_eq!(filed.body["sender"], "Erika Müller");
    assert_eq!(filed.body["kind"], "Eingang");
    assert_eq!(filed.body["document_date"], "2026-03-02");
    assert_eq!(filed.body["versions"][0]["sha256"], sha256_hex(&letter));
    assert_eq!(
        app.blob_keys().await.len(),
        blobs_before,
        "filing copied the blob"
    );
    let stored = scanner
        .get(&format!("/api/v1/documents/{doc}/versions/1/content"))
        .await;
    assert!(stored.bytes == letter, "the filed document has other bytes");
    assert!(!waiting_ids(&scanner).await.contains(&item));
    let after = scanner.get(&format!("/api/v1/inbox/{item}")).await;
    assert_eq!(after.body["filed_document_id"], doc.as_str());
    // Filed once; its content is read at the document now.
    scanner
        .post(
            &format!("/api/v1/inbox/{item}/file"),
            json!({"file_id": file}),
        )
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        scanner
            .get(&format!("/api/v1/inbox/{item}/content"))
            .await
            .status,
        404
    );
    let history = items(&t.admin.get(&format!("/api/v1/files/{file}/history")).await);
    let actions: Vec<&str> = history
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"document.created"), "{actions:?}");
    assert!(actions.contains(&"inbox.filed"), "{actions:?}");

    // Into a Vorgang, keeping what the delivery said.
    let r = deliver(
        &scanner,
        "bescheid.pdf",
        b"%PDF-1.4 Bescheid".to_vec(),
        Some(json!({"title": "Gebührenbescheid", "kind": "Bescheid", "sender": "Kreis"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let filed = scanner
        .post(
            &format!("/api/v1/inbox/{}/file", r.id()),
            json!({"case_id": case}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(filed.body["case_id"], case.as_str());
    assert_eq!(filed.body["title"], "Gebührenbescheid");
    assert_eq!(filed.body["kind"], "Bescheid");
    assert_eq!(filed.body["sender"], "Kreis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_posteingang_obeys_the_records_rules_and_tenant_walls() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("breckerfeld").await;
    let other = app.create_tenant("ennepetal").await;
    let unit = t.admin.create_plan_unit("10", None).await;
    let file = t.admin.create_file(&unit, "Personalakte").await.id();
    let other_unit = other.admin.create_plan_unit("10", None).await;
    let other_file = other
        .admin
        .create_file(&other_unit, "Fremde Akte")
        .await
        .id();
    let r = deliver(&t.admin, "brief.pdf", b"%PDF brief".to_vec(), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.id();

    // Another tenant sees nothing of it and cannot file into it, nor be filed into.
    assert!(!waiting_ids(&other.admin).await.contains(&item));
    for path in ["", "/content"] {
        assert_eq!(
            other
                .admin
                .get(&format!("/api/v1/inbox/{item}{path}"))
                .await
                .status,
            404
        );
    }
    other
        .admin
        .post(
            &format!("/api/v1/inbox/{item}/file"),
            json!({"file_id": other_file}),
        )
        .await
        .assert_problem(404, "not_found");
    t.admin
        .post(
            &format!("/api/v1/inbox/{item}/file"),
            json!({"file_id": other_file}),
        )
        .await
        .assert_problem(404, "not_found");

    // Readers read but neither deliver nor file.
    let reader = app.client(&t, "reader").await;
    assert!(waiting_ids(&reader).await.contains(&item));
    assert_eq!(
        deliver(&reader, "x.pdf", b"x".to_vec(), None).await.status,
        403
    );
    assert_eq!(
        reader
            .post(
                &format!("/api/v1/inbox/{item}/file"),
                json!({"file_id": file})
            )
            .await
            .status,
        403
    );

    // A closed Akte takes nothing; the item still waits.
    let path = format!("/api/v1/files/{file}");
    let etag = t
        .admin
        .get(&path)
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let closed = t
        .admin
        .patch(&path, Some(&etag), json!({"status": "zdA"}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    t.admin
        .post(
            &format!("/api/v1/inbox/{item}/file"),
            json!({"file_id": file}),
        )
        .await
        .assert_problem(409, "conflict");
    assert!(waiting_ids(&t.admin).await.contains(&item));

    // Bad input: a clear 4xx, never a 5xx, nothing filed.
    for body in [
        json!({}),
        json!({"file_id": file, "case_id": file}),
        json!({"file_id": "kein-uuid"}),
        json!({"file_id": file, "kind": "Brief"}),
        json!({"file_id": file, "title": ""}),
        json!({"file_id": file, "document_date": "02.03.2026"}),
        json!({"file_id": file, "unbekannt": 1}),
    ] {
        let r = t
            .admin
            .post(&format!("/api/v1/inbox/{item}/file"), body.clone())
            .await;
        assert!(
            (400..500).contains(&r.status.as_u16()),
            "{body}: {} {}",
            r.status,
            r.body
        );
    }
    let r = deliver(
        &t.admin,
        "y.pdf",
        b"y".to_vec(),
        Some(json!({"user_id": uuid::Uuid::new_v4(), "org_unit_id": uuid::Uuid::new_v4()})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = deliver(
        &t.admin,
        "y.pdf",
        b"y".to_vec(),
        Some(json!({"user_id": uuid::Uuid::new_v4()})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(waiting_ids(&t.admin).await, vec![item.clone()]);
    let r = t
        .admin
        .post(
            &format!("/api/v1/inbox/{item}/forward"),
            json!({"user_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_tenant_key_rewraps_waiting_items_too() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("sprockhoevel").await;
    let letter = random_bytes(70_000);
    let r = deliver(&t.admin, "scan.pdf", letter.clone(), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.id();
    let rotation = app
        .keyring
        .rotate_tenant_key(&app.db, TenantId(t.id), "test")
        .await
        .expect("rotate");
    assert_eq!((rotation.rewrapped, rotation.retired), (1, vec![1]));
    let content = t.admin.get(&format!("/api/v1/inbox/{item}/content")).await;
    assert_eq!(content.status, 200, "{}", content.body);
    assert!(
        content.bytes == letter,
        "the item no longer opens after the rotation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn akten_and_vorgaenge_are_found_by_zeichen_and_betreff() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("gevelsberg").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let sub = t.admin.create_plan_unit("63.02", Some(&unit)).await;
    let created = t.admin.create_file(&sub, "Neubau Bahnhofstraße 12").await;
    let file = created.id();
    let reference = created.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let case = t.admin.create_case(&file, "Widerspruch Nachbar").await;
    let other = app.create_tenant("schwelm").await;
    let other_unit = other.admin.create_plan_unit("63", None).await;
    other
        .admin
        .create_file(&other_unit, "Bahnhofstraße 99")
        .await;

    // No document in the Akte: found all the same, by Betreff and by Zeichen.
    for q in [
        "Bahnhofstraße",
        "neubau bahnhofstraße",
        reference.as_str(),
        "az:63.02",
    ] {
        let r = t
            .admin
            .get(&format!("/api/v1/search?q={}", urlencode(q)))
            .await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let found = r.body["items"].as_array().expect("items");
        let files: Vec<&Value> = found.iter().filter(|i| i["type"] == "file").collect();
        assert_eq!(files.len(), 1, "{q}: {}", r.body);
        assert_eq!(files[0]["id"], file.as_str());
        assert_eq!(files[0]["subject"], "Neubau Bahnhofstraße 12");
        assert_eq!(files[0]["reference"], reference.as_str());
        assert_eq!(r.body["total"], 0, "{q}: documents counted");
    }
    let r = t.admin.get("/api/v1/search?q=Widerspruch").await;
    let cases: Vec<Value> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["type"] == "case")
        .cloned()
        .collect();
    assert_eq!(cases.len(), 1, "{}", r.body);
    assert_eq!(cases[0]["id"], case.as_str());
    assert_eq!(cases[0]["file_reference"], reference.as_str());

    // Search-as-you-type answers the same, and never another tenant's.
    let r = t.admin.get("/api/v1/records?q=Bahnhof").await;
    let found = items(&r);
    let ids: Vec<&str> = found.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, vec![file.as_str()]);
    let r = t
        .admin
        .get(&format!("/api/v1/records?q={}", urlencode(&reference[..6])))
        .await;
    let found = items(&r);
    let types: Vec<&str> = found.iter().filter_map(|i| i["type"].as_str()).collect();
    assert_eq!(types, vec!["file", "case"], "{}", r.body);
    for q in ["%", "_", "\\", "'", "%25%25", "ä%_\\x"] {
        let r = t
            .admin
            .get(&format!("/api/v1/records?q={}", urlencode(q)))
            .await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert!(items(&r).is_empty(), "{q} matched as a pattern: {}", r.body);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
