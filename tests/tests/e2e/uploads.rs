//! Uploads that go wrong (interrupted, too large), concurrent versions, and the orphan
//! sweeper: whatever happens, no half-stored document and no unreferenced blob remains.

use std::time::{Duration, Instant};

use akta_blob::BlobKey;
use akta_domain::TenantId;
use akta_testkit::{Backend, TestApp, TestOptions, TestTenant};
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{
    document_metadata, history_actions, item_ids, items, random_bytes, sha256_hex, upload_version,
    MIB,
};

/// A tenant with one empty Akte, for upload tests.
async fn empty_file(app: &TestApp, slug: &str) -> (TestTenant, String) {
    let tenant = app.create_tenant(slug).await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    (tenant, file)
}

/// Upload intents of all tenants, read as the owner (the app role sees none without a tenant).
async fn upload_intents(app: &TestApp) -> i64 {
    let mut owner = PgConnection::connect(&app.owner_url)
        .await
        .expect("owner connection");
    sqlx::query_scalar("SELECT count(*) FROM upload_intents")
        .fetch_one(&mut owner)
        .await
        .expect("count intents")
}

/// Gives the server a moment to finish (or abandon) a broken request: until no upload intent
/// is left or a few seconds passed. Either way the sweeper below must leave nothing behind.
async fn settle(app: &TestApp) {
    let started = Instant::now();
    while upload_intents(app).await > 0 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After a failed upload: no document, no document event, and after a sweep no blob and no
/// upload intent.
async fn assert_nothing_stored(app: &TestApp, tenant: &TestTenant, file: &str) {
    let docs = tenant
        .admin
        .get(&format!("/api/v1/files/{file}/documents"))
        .await;
    assert!(
        items(&docs).is_empty(),
        "a broken upload left a document: {}",
        docs.body
    );
    let history = history_actions(&tenant.admin, file).await;
    assert_eq!(history, ["file.created"]);
    app.sweep(Duration::ZERO).await;
    assert_eq!(app.blob_keys().await, Vec::<String>::new());
    assert_eq!(upload_intents(app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_interrupted_by_the_client_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let (tenant, file) = empty_file(&app, "luedenscheid").await;

    // 3 MiB arrive (more than the server buffers), then the client's body breaks.
    let chunk = Bytes::from(random_bytes(64 * 1024));
    let good = futures_util::stream::iter(
        (0..48).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())),
    );
    let broken = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        ))
    });
    let body = reqwest::Body::wrap_stream(good.chain(broken));
    let form = Form::new()
        .text("metadata", document_metadata("Abgebrochen").to_string())
        .part("file", Part::stream(body).file_name("gross.pdf"));
    let sent = tenant
        .admin
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/files/{file}/documents"),
        )
        .multipart(form)
        .send()
        .await;
    if let Ok(response) = &sent {
        assert!(
            !response.status().is_success(),
            "a broken upload succeeded: {}",
            response.status()
        );
    }

    settle(&app).await;
    assert_nothing_stored(&app, &tenant, &file).await;
}

/// How a raw client stops in the middle of its request body.
#[derive(Debug, Clone, Copy)]
enum Hangup {
    /// Closes its sending side and waits for the answer.
    HalfClose,
    /// Resets the connection without waiting for anything.
    Reset,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_upload_leaves_nothing_behind() {
    for backend in [Backend::Filesystem, Backend::Garage] {
        for hangup in [Hangup::HalfClose, Hangup::Reset] {
            let app = TestApp::spawn_with(TestOptions {
                backend,
                ..TestOptions::default()
            })
            .await;
            let (tenant, file) = empty_file(&app, "altena").await;
            let answer = truncated_upload(&app, &tenant, &file, hangup).await;
            if let Hangup::HalfClose = hangup {
                // The server still tells the client what went wrong.
                assert!(answer.starts_with("HTTP/1.1 400 "), "{backend:?}: {answer}");
                assert!(
                    answer.contains("\"code\":\"upload_interrupted\""),
                    "{backend:?}: {answer}"
                );
            }
            settle(&app).await;
            assert_nothing_stored(&app, &tenant, &file).await;
        }
    }
}

/// Sends a document upload over a raw connection that promises 8 MiB, delivers the metadata
/// and 2 MiB of the file, then hangs up. Returns whatever the server answered.
async fn truncated_upload(
    app: &TestApp,
    tenant: &TestTenant,
    file: &str,
    hangup: Hangup,
) -> String {
    let token = tenant.admin.token.clone().expect("token");
    let boundary = "akta-e2e-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\
         Content-Type: application/json\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n",
        document_metadata("Halb")
    )
    .into_bytes();
    body.extend(random_bytes(2 * MIB));
    let head = format!(
        "POST /api/v1/files/{file}/documents HTTP/1.1\r\nHost: akta\r\n\
         Authorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        8 * MIB
    );
    let address = app.base_url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    socket.write_all(head.as_bytes()).await.expect("write head");
    socket.write_all(&body).await.expect("write body");
    let mut answer = Vec::new();
    match hangup {
        Hangup::HalfClose => {
            socket.shutdown().await.expect("half-close");
            let read = socket.read_to_end(&mut answer);
            let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
        }
        Hangup::Reset => {
            // Give the server a moment to start storing, then vanish with a RST.
            tokio::time::sleep(Duration::from_millis(300)).await;
            socket.set_zero_linger().expect("linger");
        }
    }
    drop(socket);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_the_limit_are_refused_and_leave_nothing_behind() {
    for backend in [Backend::Garage, Backend::Filesystem] {
        let app = TestApp::spawn_with(TestOptions {
            backend,
            max_upload_bytes: MIB as u64,
            ..TestOptions::default()
        })
        .await;
        let (tenant, file) = empty_file(&app, "plettenberg").await;
        let admin = &tenant.admin;

        let too_large = admin
            .upload(
                &format!("/api/v1/files/{file}/documents"),
                Some(document_metadata("Zu groß")),
                Some(("gross.pdf", "application/pdf", random_bytes(2 * MIB))),
            )
            .await;
        too_large.assert_problem(413, "payload_too_large");
        assert!(
            too_large.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains(&MIB.to_string()),
            "the detail names the limit: {}",
            too_large.body
        );
        // Nothing is stored, even before any sweep.
        let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
        assert!(items(&docs).is_empty());
        assert_eq!(app.blob_keys().await, Vec::<String>::new(), "{backend:?}");
        assert_eq!(upload_intents(&app).await, 0, "{backend:?}");
        assert_nothing_stored(&app, &tenant, &file).await;

        // The limit is inclusive; a version over the limit is refused like a document.
        let exact = random_bytes(MIB);
        let doc = admin
            .upload_document(
                &format!("/api/v1/files/{file}"),
                "Genau 1 MiB",
                exact.clone(),
            )
            .await
            .id();
        let refused = upload_version(admin, &doc, "gross.pdf", random_bytes(MIB + 1)).await;
        refused.assert_problem(413, "payload_too_large");
        let stored = admin.get(&format!("/api/v1/documents/{doc}")).await;
        assert_eq!(stored.body["versions"].as_array().map(Vec::len), Some(1));
        assert_eq!(app.blob_keys().await.len(), 1, "{backend:?}");
        let content = admin.get(&format!("/api/v1/documents/{doc}/content")).await;
        assert!(content.bytes == exact);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_versions_get_distinct_consecutive_numbers() {
    let app = TestApp::spawn().await;
    let (tenant, file) = empty_file(&app, "werdohl").await;
    let admin = tenant.admin.clone();
    let doc = admin
        .upload_document(
            &format!("/api/v1/files/{file}"),
            "Entwurf",
            random_bytes(1000),
        )
        .await
        .id();

    let uploads = (0..6).map(|i| {
        let client = admin.clone();
        let doc = doc.clone();
        let data = random_bytes(200_000 + i * 1_000);
        tokio::spawn(async move {
            let reply = upload_version(&client, &doc, &format!("v{i}.pdf"), data.clone()).await;
            (reply, data)
        })
    });
    let results = futures_util::future::join_all(uploads).await;

    let mut numbers = Vec::new();
    for result in results {
        let (reply, data) = result.expect("task");
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.body["sha256"], sha256_hex(&data));
        let number = reply.body["number"].as_i64().expect("number");
        numbers.push(number);
        // The number a client was told names exactly its own content.
        let content = admin
            .get(&format!(
                "/api/v1/documents/{doc}/versions/{number}/content"
            ))
            .await;
        assert_eq!(content.status, 200);
        assert!(
            content.bytes == data,
            "version {number} holds another upload's bytes"
        );
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (2..=7).collect::<Vec<_>>());

    let stored = admin.get(&format!("/api/v1/documents/{doc}")).await;
    let listed: Vec<_> = stored.body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["number"].as_i64().expect("number"))
        .collect();
    assert_eq!(listed, (1..=7).collect::<Vec<_>>());
    let history = history_actions(&admin, &file).await;
    let added = history
        .iter()
        .filter(|a| *a == "document.version_added")
        .count();
    assert_eq!(added, 6);
    assert_eq!(app.blob_keys().await.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_removes_orphans_but_never_committed_blobs() {
    let app = TestApp::spawn().await;
    let (tenant, file) = empty_file(&app, "herscheid").await;
    let admin = &tenant.admin;
    let first = random_bytes(300_000);
    let doc = admin
        .upload_document(&format!("/api/v1/files/{file}"), "Antrag", first.clone())
        .await
        .id();
    let second = random_bytes(5_000);
    assert_eq!(
        upload_version(admin, &doc, "v2.pdf", second.clone())
            .await
            .status,
        201
    );
    let committed = app.blob_keys().await;
    assert_eq!(committed.len(), 2);

    // An orphan as a crashed upload leaves it: an intent and a blob, but no version.
    let orphan = BlobKey::parse(&format!("t/{}/{}", tenant.id, uuid::Uuid::now_v7())).expect("key");
    {
        let mut tx = app
            .db
            .tenant_tx(TenantId(tenant.id), "test")
            .await
            .expect("tx");
        tx.record_upload_intent(orphan.as_str())
            .await
            .expect("intent");
        tx.commit().await.expect("commit");
    }
    let body = futures_util::stream::iter([Ok(Bytes::from_static(b"half an upload"))]);
    app.blobs
        .put(&orphan, Box::pin(body), 1_000)
        .await
        .expect("put orphan");

    // Within the grace period the orphan may still be an upload in progress.
    let early = app.sweep(Duration::from_secs(3600)).await;
    assert_eq!(early.deleted, 0);
    assert_eq!(app.blob_keys().await.len(), 3);

    let swept = app.sweep(Duration::ZERO).await;
    assert_eq!(swept.deleted, 1);
    assert_eq!(
        app.blob_keys().await,
        committed,
        "the sweeper touched committed blobs"
    );
    assert_eq!(upload_intents(&app).await, 0);
    let again = app.sweep(Duration::ZERO).await;
    assert_eq!(
        (again.deleted, again.kept),
        (0, 0),
        "a second sweep has nothing to do"
    );

    for (path, expected) in [
        (
            format!("/api/v1/documents/{doc}/versions/1/content"),
            &first,
        ),
        (
            format!("/api/v1/documents/{doc}/versions/2/content"),
            &second,
        ),
        (format!("/api/v1/documents/{doc}/content"), &second),
    ] {
        let content = admin.get(&path).await;
        assert_eq!(content.status, 200, "{path}: {}", content.body);
        assert!(
            content.bytes == *expected,
            "{path}: content differs after sweeping"
        );
    }
    let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
    assert_eq!(item_ids(&docs), vec![doc]);
}

/// An upload that outlives the grace period loses the race cleanly: once the sweeper has
/// claimed its intent and deleted the blob, no version may point at that blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_cannot_take_a_blob_the_sweeper_has_claimed() {
    use akta_db::{DocumentTarget, NewDocument, NewVersion};
    use akta_domain::DocumentKind;

    let app = TestApp::spawn().await;
    let seeded = crate::common::seed(&app, "wetter").await;
    let key = format!("t/{}/{}", seeded.tenant.id, uuid::Uuid::now_v7());
    let mut tx = app
        .db
        .tenant_tx(TenantId(seeded.tenant.id), "test")
        .await
        .expect("tx");
    tx.record_upload_intent(&key).await.expect("intent");
    tx.commit().await.expect("commit");
    let data = random_bytes(1000);
    let blob = akta_blob::BlobKey::parse(&key).expect("key");
    let body: akta_blob::ByteStream =
        Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from(data.clone()),
        )]));
    app.blobs.put(&blob, body, 1 << 20).await.expect("put");

    // A slow upload: the sweeper runs first and removes the blob.
    assert_eq!(app.sweep(std::time::Duration::ZERO).await.deleted, 1);
    assert!(!app.blobs.exists(&blob).await.expect("exists"));

    let mut tx = app
        .db
        .tenant_tx(TenantId(seeded.tenant.id), "test")
        .await
        .expect("tx");
    let refused = tx
        .create_document(
            DocumentTarget::File(seeded.file.parse().expect("uuid")),
            NewDocument {
                title: "Zu spät".into(),
                kind: DocumentKind::parse("Eingang").expect("kind"),
                sender: None,
                recipient: None,
                document_date: None,
                metadata: Default::default(),
            },
            NewVersion {
                blob_key: key,
                sha256_hex: crate::common::sha256_hex(&data),
                size: data.len() as u64,
                media_type: "application/pdf".into(),
                file_name: "spaet.pdf".into(),
                dek: None,
                text: None,
            },
        )
        .await;
    assert!(
        matches!(refused, Err(akta_db::DbError::Conflict(_))),
        "{refused:?}"
    );
}
