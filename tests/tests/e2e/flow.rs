//! The whole records flow, Aktenplan to downloaded document version, on both blob backends.

use akta_testkit::{Backend, Client, Reply, TestApp, TestOptions};
use serde_json::json;

use crate::common::{berlin_year, items, random_bytes, sha256_hex, upload_version, MIB};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_flow_works_end_to_end_on_garage() {
    records_flow(Backend::Garage, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_flow_works_end_to_end_on_the_filesystem() {
    records_flow(Backend::Filesystem, "filesystem").await;
}

async fn records_flow(backend: Backend, backend_name: &str) {
    let app = TestApp::spawn_with(TestOptions {
        backend,
        ..TestOptions::default()
    })
    .await;

    let health = app.anonymous().get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, json!({"status": "ok"}));
    assert!(
        health.header("x-request-id").is_some(),
        "every answer carries a request id"
    );
    let ready = app.anonymous().get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["blob_backend"], backend_name);

    let tenant = app.create_tenant("herdecke").await;
    let admin = &tenant.admin;
    let clerk = app.client(&tenant, "clerk").await;

    // Aktenplan: the parent sets retention and disposition, the child inherits both.
    let root = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "63", "title": "Bauordnung", "retention_years": 10, "disposition": "A"}),
        )
        .await;
    assert_eq!(root.status, 201, "{}", root.body);
    assert_eq!(root.body["code"], "63");
    assert_eq!(root.body["parent_id"], json!(null));
    assert_eq!(root.body["retention_years"], 10);
    assert_eq!(root.body["disposition"], "A");
    assert_eq!(root.body["retention_inherited"], false);
    assert_eq!(root.body["disposition_inherited"], false);
    let root_id = root.id();

    let child = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "63.01", "title": "Baugenehmigungen", "parent_id": root_id}),
        )
        .await;
    assert_eq!(child.status, 201, "{}", child.body);
    let unit = child.id();
    let fetched = clerk.get(&format!("/api/v1/plan-units/{unit}")).await;
    assert_eq!(fetched.status, 200);
    for body in [&child.body, &fetched.body] {
        assert_eq!(body["parent_id"], root_id.as_str());
        assert_eq!(body["retention_years"], 10);
        assert_eq!(body["disposition"], "A");
        assert_eq!(body["retention_inherited"], true);
        assert_eq!(body["disposition_inherited"], true);
    }

    // Akte: the Aktenzeichen is plan code, running number and the current year.
    let year = berlin_year();
    let file = clerk
        .post(
            "/api/v1/files",
            json!({
                "plan_unit_id": unit,
                "subject": "Neubau Einfamilienhaus, Kirchender Dorfweg 5",
                "confidentiality": "vertraulich",
                "metadata": {"flurstueck": "123/4"}
            }),
        )
        .await;
    assert_eq!(file.status, 201, "{}", file.body);
    assert_eq!(file.header("etag"), Some("\"v1\""));
    let reference = format!("63.01-0001/{year}");
    assert_eq!(file.body["reference"], reference.as_str());
    assert_eq!(file.body["plan_unit_id"], unit.as_str());
    assert_eq!(file.body["status"], "offen");
    assert_eq!(file.body["version"], 1);
    assert_eq!(file.body["confidentiality"], "vertraulich");
    assert_eq!(file.body["metadata"], json!({"flurstueck": "123/4"}));
    let file_id = file.id();
    let second = clerk.create_file(&unit, "Garage, Am Berge 2").await;
    assert_eq!(second.body["reference"], format!("63.01-0002/{year}"));

    // Vorgang: its reference extends the Aktenzeichen.
    let case = clerk
        .post(
            &format!("/api/v1/files/{file_id}/cases"),
            json!({"subject": "Bauantrag", "metadata": {"eingang": "Post"}}),
        )
        .await;
    assert_eq!(case.status, 201, "{}", case.body);
    assert_eq!(case.body["file_id"], file_id.as_str());
    assert_eq!(case.body["reference"], format!("{reference}-1"));
    assert_eq!(case.body["subject"], "Bauantrag");
    let case_id = case.id();
    let fetched_case = clerk.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(fetched_case.status, 200);
    assert_eq!(fetched_case.body, case.body);

    // A ~3 MiB document into the Vorgang, a small one directly into the Akte.
    let big = random_bytes(3 * MIB + 12_345);
    let doc = clerk
        .upload_document(
            &format!("/api/v1/cases/{case_id}"),
            "Bauantrag mit Plänen",
            big.clone(),
        )
        .await;
    assert_eq!(doc.body["file_id"], file_id.as_str());
    assert_eq!(doc.body["case_id"], case_id.as_str());
    assert_eq!(doc.body["title"], "Bauantrag mit Plänen");
    assert_eq!(doc.body["kind"], "Eingang");
    let versions = doc.body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["number"], 1);
    assert_eq!(versions[0]["sha256"], sha256_hex(&big));
    assert_eq!(versions[0]["size"], big.len());
    assert_eq!(versions[0]["media_type"], "application/pdf");
    assert_eq!(versions[0]["file_name"], "dokument.pdf");
    assert_eq!(versions[0]["author"], "token:clerk token");
    let doc_id = doc.id();

    let note_bytes = "Ortstermin am 3. März: keine Einwände.".as_bytes().to_vec();
    let note = clerk
        .upload(
            &format!("/api/v1/files/{file_id}/documents"),
            Some(json!({
                "title": "Aktenvermerk Ortstermin",
                "kind": "Vermerk",
                "sender": "Bauaufsicht",
                "document_date": "2026-03-03",
                "metadata": {"seiten": 1}
            })),
            Some(("vermerk.txt", "text/plain", note_bytes.clone())),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.body);
    assert_eq!(note.body["case_id"], json!(null));
    assert_eq!(note.body["file_id"], file_id.as_str());
    assert_eq!(note.body["kind"], "Vermerk");
    assert_eq!(note.body["sender"], "Bauaufsicht");
    assert_eq!(note.body["document_date"], "2026-03-03");
    assert_eq!(note.body["metadata"], json!({"seiten": 1}));
    let note_id = note.id();

    // Downloads are byte-identical and carry their validators.
    let content = clerk
        .get(&format!("/api/v1/documents/{doc_id}/content"))
        .await;
    assert_content(&content, &big);
    assert_eq!(content.header("content-type"), Some("application/pdf"));
    assert_eq!(content.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        content.header("content-length"),
        Some(big.len().to_string().as_str())
    );
    let disposition = content
        .header("content-disposition")
        .expect("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("dokument.pdf"), "{disposition}");
    let note_content = clerk
        .get(&format!("/api/v1/documents/{note_id}/content"))
        .await;
    assert_content(&note_content, &note_bytes);
    assert_eq!(note_content.header("content-type"), Some("text/plain"));

    // A second version; each version keeps its own bytes.
    let v2 = random_bytes(MIB + 77);
    let added = upload_version(&clerk, &doc_id, "bauantrag-v2.pdf", v2.clone()).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["number"], 2);
    assert_eq!(added.body["sha256"], sha256_hex(&v2));
    assert_eq!(added.body["size"], v2.len());
    assert_eq!(added.body["file_name"], "bauantrag-v2.pdf");
    let document = clerk.get(&format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(document.status, 200);
    let numbers: Vec<_> = document.body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["number"].clone())
        .collect();
    assert_eq!(numbers, vec![json!(1), json!(2)]);

    let base = format!("/api/v1/documents/{doc_id}");
    assert_content(
        &clerk.get(&format!("{base}/versions/1/content")).await,
        &big,
    );
    assert_content(&clerk.get(&format!("{base}/versions/2/content")).await, &v2);
    assert_content(&clerk.get(&format!("{base}/content")).await, &v2);

    // Range reads of the latest version and of an older one.
    let ranged = range_get(&clerk, &format!("{base}/content"), "bytes=1000-1999").await;
    assert_eq!(ranged.status, 206);
    assert_eq!(
        ranged.header("content-range"),
        Some(format!("bytes 1000-1999/{}", v2.len()).as_str())
    );
    assert_eq!(ranged.bytes, &v2[1000..2000]);
    let middle = big.len() / 2;
    let ranged = range_get(
        &clerk,
        &format!("{base}/versions/1/content"),
        &format!("bytes={middle}-"),
    )
    .await;
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.bytes, &big[middle..]);

    // Lists: both documents in the Akte, only the big one in the Vorgang.
    let in_file = clerk
        .get(&format!("/api/v1/files/{file_id}/documents"))
        .await;
    let mut ids: Vec<_> = items(&in_file).iter().map(|d| d["id"].clone()).collect();
    ids.sort_by_key(ToString::to_string);
    let mut expected = vec![json!(doc_id), json!(note_id)];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(ids, expected);
    let in_case = clerk
        .get(&format!("/api/v1/cases/{case_id}/documents"))
        .await;
    let ids: Vec<_> = items(&in_case).iter().map(|d| d["id"].clone()).collect();
    assert_eq!(ids, vec![json!(doc_id)]);
    let cases = clerk.get(&format!("/api/v1/files/{file_id}/cases")).await;
    assert_eq!(items(&cases).len(), 1);

    // A change under optimistic locking.
    let patched = clerk
        .patch(
            &format!("/api/v1/files/{file_id}"),
            Some("\"v1\""),
            json!({"subject": "Neubau Einfamilienhaus mit Carport"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.header("etag"), Some("\"v2\""));

    // The history tells the story in order.
    // The Akte is confidential: every read of it is logged too, which the story leaves out.
    let history = clerk.get(&format!("/api/v1/files/{file_id}/history")).await;
    let all_events = items(&history);
    assert!(all_events.iter().any(|e| e["action"] == "file.read"));
    let events: Vec<_> = all_events
        .into_iter()
        .filter(|e| e["action"] != "file.read")
        .collect();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        [
            "file.created",
            "file.access_granted",
            "case.created",
            "document.created",
            "document.created",
            "document.version_added",
            "file.updated"
        ]
    );
    let objects: Vec<_> = events
        .iter()
        .map(|e| e["object_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        objects,
        [&file_id, &file_id, &case_id, &doc_id, &note_id, &doc_id, &file_id].map(String::as_str)
    );
    assert!(events.iter().all(|e| e["file_id"] == file_id.as_str()));
    assert!(events.iter().all(|e| e["actor"] == "token:clerk token"));
    let event_ids: Vec<_> = events
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    assert!(event_ids.windows(2).all(|w| w[0] < w[1]), "{event_ids:?}");
    let update = &events[6];
    assert_eq!(
        update["before"]["subject"],
        "Neubau Einfamilienhaus, Kirchender Dorfweg 5"
    );
    assert_eq!(
        update["after"]["subject"],
        "Neubau Einfamilienhaus mit Carport"
    );

    // Three versions were stored, three blobs exist.
    assert_eq!(app.blob_keys().await.len(), 3);
}

/// Asserts a full download of `expected`, with the strong ETag being its SHA-256.
#[track_caller]
fn assert_content(reply: &Reply, expected: &[u8]) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.bytes.len(), expected.len(), "length differs");
    assert!(reply.bytes == expected, "content differs");
    let etag = format!("\"{}\"", sha256_hex(expected));
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
}

pub async fn range_get(client: &Client, path: &str, range: &str) -> Reply {
    client
        .send(
            client
                .request(reqwest::Method::GET, path)
                .header("range", range),
        )
        .await
}
