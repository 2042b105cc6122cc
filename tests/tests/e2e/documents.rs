//! Downloads: validators, conditional requests, byte ranges and safe headers.

use akta_testkit::{Client, Reply, TestApp};
use reqwest::Method;
use serde_json::json;

use crate::common::{random_bytes, sha256_hex};

async fn get_with(client: &Client, path: &str, headers: &[(&str, &str)]) -> Reply {
    let rb = headers
        .iter()
        .fold(client.request(Method::GET, path), |rb, (name, value)| {
            rb.header(*name, *value)
        });
    client.send(rb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_honour_ranges_and_conditional_requests() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("soest").await;
    let reader = app.client(&tenant, "reader").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let file = tenant.admin.create_file(&unit, "Akte").await.id();
    let data = random_bytes(100_000);
    let doc = tenant
        .admin
        .upload_document(&format!("/api/v1/files/{file}"), "Plan", data.clone())
        .await
        .id();
    let path = format!("/api/v1/documents/{doc}/content");
    let etag = format!("\"{}\"", sha256_hex(&data));
    let size = data.len();

    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=99990-", 99_990, size - 1),
        ("bytes=-10", size - 10, size - 1),
        ("bytes=-200000", 0, size - 1),
        ("bytes=50000-999999", 50_000, size - 1),
        ("bytes=65535-65537", 65_535, 65_537),
    ] {
        let reply = get_with(&reader, &path, &[("range", range)]).await;
        assert_eq!(reply.status, 206, "{range}: {}", reply.body);
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes {start}-{end}/{size}").as_str()),
            "{range}"
        );
        assert_eq!(
            reply.header("content-length"),
            Some((end - start + 1).to_string().as_str()),
            "{range}"
        );
        assert_eq!(reply.header("etag"), Some(etag.as_str()));
        assert!(reply.bytes == data[start..=end], "{range}: wrong bytes");
    }

    for range in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
        let reply = get_with(&reader, &path, &[("range", range)]).await;
        reply.assert_problem(416, "range_not_satisfiable");
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes */{size}").as_str()),
            "{range}"
        );
    }
    // Ranges the server does not serve partially (several, other units, garbage) get it all.
    for range in ["bytes=0-1,5-6", "items=0-1", "bytes=x-y", "bytes=5-2"] {
        let reply = get_with(&reader, &path, &[("range", range)]).await;
        assert_eq!(reply.status, 200, "{range}");
        assert!(reply.bytes == data, "{range}: wrong bytes");
    }

    // Conditional requests: the ETag is the content's SHA-256.
    let cached = get_with(&reader, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, 304);
    assert!(cached.bytes.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let listed = format!("\"0000\", {etag}");
    let cached = get_with(&reader, &path, &[("if-none-match", &listed)]).await;
    assert_eq!(cached.status, 304);
    let stale = get_with(&reader, &path, &[("if-none-match", "\"0000\"")]).await;
    assert_eq!(stale.status, 200);
    assert!(stale.bytes == data);
    // If-Range: a range only while the client's copy is current.
    let resumed = get_with(
        &reader,
        &path,
        &[("range", "bytes=10-19"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(resumed.status, 206);
    assert!(resumed.bytes == data[10..20]);
    let changed = get_with(
        &reader,
        &path,
        &[("range", "bytes=10-19"), ("if-range", "\"0000\"")],
    )
    .await;
    assert_eq!(changed.status, 200);
    assert!(changed.bytes == data);

    // Once a new version exists, the old ETag no longer matches the latest content.
    let v2 = random_bytes(1_000);
    let added = crate::common::upload_version(&tenant.admin, &doc, "v2.pdf", v2.clone()).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let latest = get_with(&reader, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(latest.status, 200);
    assert!(latest.bytes == v2);
    let v1 = get_with(
        &reader,
        &format!("/api/v1/documents/{doc}/versions/1/content"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(v1.status, 304, "version 1 is still the client's copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_attachments_that_browsers_do_not_interpret() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("lippstadt").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let file = tenant.admin.create_file(&unit, "Akte").await.id();
    let html = b"<script>alert(1)</script>".to_vec();
    let doc = tenant
        .admin
        .upload(
            &format!("/api/v1/files/{file}/documents"),
            Some(json!({"title": "Anlage", "kind": "Sonstiges"})),
            Some(("Bescheid Müller \"final\".html", "text/html", html.clone())),
        )
        .await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    assert_eq!(
        doc.body["versions"][0]["file_name"],
        "Bescheid Müller \"final\".html"
    );

    let reply = tenant
        .admin
        .get(&format!("/api/v1/documents/{}/content", doc.id()))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.bytes == html);
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    let csp = reply.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("sandbox"), "{csp}");
    let disposition = reply
        .header("content-disposition")
        .expect("content-disposition");
    assert!(disposition.starts_with("attachment; "), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Bescheid%20M%C3%BCller%20%22final%22.html"),
        "{disposition}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_documents_are_stored_and_served() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("geseke").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let file = tenant.admin.create_file(&unit, "Akte").await.id();
    let doc = tenant
        .admin
        .upload_document(&format!("/api/v1/files/{file}"), "Leer", Vec::new())
        .await;
    let version = &doc.body["versions"][0];
    assert_eq!(version["size"], 0);
    assert_eq!(version["sha256"], sha256_hex(b""));

    let path = format!("/api/v1/documents/{}/content", doc.id());
    let reply = tenant.admin.get(&path).await;
    assert_eq!(reply.status, 200);
    assert!(reply.bytes.is_empty());
    assert_eq!(reply.header("content-length"), Some("0"));
    let ranged = get_with(&tenant.admin, &path, &[("range", "bytes=0-0")]).await;
    ranged.assert_problem(416, "range_not_satisfiable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_types_are_kept_only_when_well_formed() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("erwitte").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let file = tenant.admin.create_file(&unit, "Akte").await.id();
    let part = |mime: Option<&str>| {
        let part = reqwest::multipart::Part::bytes(random_bytes(10)).file_name("x.bin");
        match mime {
            Some(m) => part.mime_str(m).expect("mime"),
            None => part,
        }
    };
    for (mime, stored) in [
        (Some("image/tiff"), "image/tiff"),
        (
            Some("text/plain; charset=utf-8"),
            "text/plain; charset=utf-8",
        ),
        (None, "application/octet-stream"),
    ] {
        let form = reqwest::multipart::Form::new()
            .text(
                "metadata",
                crate::common::document_metadata("x").to_string(),
            )
            .part("file", part(mime));
        let path = format!("/api/v1/files/{file}/documents");
        let reply = tenant
            .admin
            .send(tenant.admin.request(Method::POST, &path).multipart(form))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.body["versions"][0]["media_type"], stored, "{mime:?}");
        let content = tenant
            .admin
            .get(&format!("/api/v1/documents/{}/content", reply.id()))
            .await;
        assert_eq!(content.header("content-type"), Some(stored));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_uses_weak_comparison_and_honours_the_wildcard() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("arnsberg").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let file = tenant.admin.create_file(&unit, "Akte").await.id();
    let data = random_bytes(1_000);
    let doc = tenant
        .admin
        .upload_document(&format!("/api/v1/files/{file}"), "Plan", data.clone())
        .await
        .id();
    let path = format!("/api/v1/documents/{doc}/content");
    // RFC 9110 section 13.1.2: If-None-Match compares weakly, and "*" matches any current
    // representation; either way a GET answers 304.
    let weak = format!("W/\"{}\"", sha256_hex(&data));
    for condition in [weak.as_str(), "*"] {
        let reply = get_with(&tenant.admin, &path, &[("if-none-match", condition)]).await;
        assert_eq!(reply.status, 304, "If-None-Match: {condition}");
    }
}
