//! Encryption at rest: what reaches the blob store is ciphertext, what clients get back is
//! the authenticated plaintext (whole or in ranges), tampering never releases plaintext, key
//! rotation needs no re-upload, and deleting a tenant destroys its key for good.

use std::time::Duration;

use akta_blob::{BlobKey, ByteStream};
use akta_crypto::{ciphertext_len, HEADER_LEN, SEGMENT_SIZE, TAG_LEN};
use akta_db::{DocumentTarget, NewDocument, NewVersion};
use akta_domain::{DocumentKind, TenantId};
use akta_keys::keyring::{fingerprint, Key256, Keyring};
use akta_testkit::{Backend, Client, TestApp, TestOptions, TestTenant};
use bytes::Bytes;
use futures_util::StreamExt;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::common::{owner, random_bytes, sha256_hex, upload_version};

/// A tenant with one Akte; returns the Akte's id.
async fn tenant_with_file(app: &TestApp, slug: &str) -> (TestTenant, String) {
    let tenant = app.create_tenant(slug).await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    (tenant, file)
}

async fn upload(client: &Client, file: &str, data: &[u8]) -> String {
    client
        .upload_document(&format!("/api/v1/files/{file}"), "Antrag", data.to_vec())
        .await
        .id()
}

/// The raw stored object, as the operator of the bucket sees it.
async fn raw_object(app: &TestApp, key: &str) -> Vec<u8> {
    let key = BlobKey::parse(key).expect("key");
    let mut body = app.blobs.get(&key, None).await.expect("get").body;
    let mut raw = Vec::new();
    while let Some(chunk) = body.next().await {
        raw.extend_from_slice(&chunk.expect("chunk"));
    }
    raw
}

async fn put_raw(app: &TestApp, key: &str, raw: Vec<u8>) {
    let key = BlobKey::parse(key).expect("key");
    let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from(raw))]));
    app.blobs.put(&key, body, u64::MAX).await.expect("put");
}

/// The only stored object of the app.
async fn only_key(app: &TestApp) -> String {
    let keys = app.blob_keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    keys[0].clone()
}

/// No 32-byte piece of `plain` (sampled every 4 KiB) appears in `raw`.
fn assert_no_plaintext(raw: &[u8], plain: &[u8]) {
    for start in (0..plain.len().saturating_sub(32)).step_by(4096) {
        let piece = &plain[start..start + 32];
        assert!(
            !raw.windows(32).any(|w| w == piece),
            "plaintext at offset {start} is readable in the stored object"
        );
    }
}

/// (version, live?, master key id) of every version of the connection's tenant's key, oldest
/// first. (The owner reads tenant_keys of all tenants, for `akta_master_key_ids`.)
async fn tenant_keys(conn: &mut PgConnection) -> Vec<(i32, bool, String)> {
    sqlx::query_as(
        "SELECT version, wrapped_key IS NOT NULL AND retired_at IS NULL, master_key_id
           FROM tenant_keys WHERE tenant_id = akta_current_tenant() ORDER BY version",
    )
    .fetch_all(conn)
    .await
    .expect("tenant keys")
}

/// (blob key, wrapped DEK, tenant key version) of every document version, by blob key.
async fn version_keys(conn: &mut PgConnection) -> Vec<(String, Option<Vec<u8>>, Option<i32>)> {
    sqlx::query_as(
        "SELECT blob_key, wrapped_dek, tenant_key_version FROM document_versions ORDER BY blob_key",
    )
    .fetch_all(conn)
    .await
    .expect("version keys")
}

async fn key_actions(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE action LIKE 'key.%' OR action = 'tenant.deleted'
          ORDER BY seq",
    )
    .fetch_all(conn)
    .await
    .expect("audit actions")
}

/// Reads a response body chunk by chunk until it ends or breaks.
async fn read_body(response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut response = response;
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), response.chunk()).await {
            Ok(Ok(Some(chunk))) => got.extend_from_slice(&chunk),
            Ok(Ok(None)) => return (got, true),
            Ok(Err(_)) => return (got, false),
            Err(_) => panic!("the download neither ended nor failed"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_stored_encrypted_and_read_back_as_plaintext() {
    for backend in [Backend::Garage, Backend::Filesystem] {
        let app = TestApp::spawn_with(TestOptions {
            backend,
            ..TestOptions::default()
        })
        .await;
        let (tenant, file) = tenant_with_file(&app, "iserlohn").await;
        let data = random_bytes(200_000);
        let doc = upload(&tenant.admin, &file, &data).await;

        let content = tenant
            .admin
            .get(&format!("/api/v1/documents/{doc}/content"))
            .await;
        assert_eq!(content.status, 200, "{backend:?}");
        assert!(content.bytes == data, "{backend:?}: content differs");
        // Size and ETag describe the plaintext.
        let etag = format!("\"{}\"", sha256_hex(&data));
        assert_eq!(content.header("etag"), Some(etag.as_str()));
        assert_eq!(content.header("content-length"), Some("200000"));
        let meta = tenant.admin.get(&format!("/api/v1/documents/{doc}")).await;
        assert_eq!(meta.body["versions"][0]["size"], 200_000);
        assert_eq!(meta.body["versions"][0]["sha256"], sha256_hex(&data));

        let key = only_key(&app).await;
        let raw = raw_object(&app, &key).await;
        assert_eq!(raw.len() as u64, ciphertext_len(data.len() as u64));
        assert_eq!(&raw[..8], b"AKTAENC1");
        assert_no_plaintext(&raw, &data);

        let mut conn = owner(&app, tenant.id).await;
        assert_eq!(
            tenant_keys(&mut conn).await,
            [(1, true, fingerprint_of(&app))],
            "{backend:?}"
        );
        let versions = version_keys(&mut conn).await;
        assert_eq!(versions.len(), 1);
        assert!(versions[0].1.is_some(), "no wrapped DEK stored");
        assert_eq!(versions[0].2, Some(1));

        // Every upload gets its own data key, even of identical content (a second document:
        // an identical version of the same document is refused as a duplicate).
        let again = upload(&tenant.admin, &file, &data).await;
        let keys = app.blob_keys().await;
        let raws = [
            raw_object(&app, &keys[0]).await,
            raw_object(&app, &keys[1]).await,
        ];
        assert_ne!(raws[0][HEADER_LEN..], raws[1][HEADER_LEN..]);
        let versions = version_keys(&mut conn).await;
        assert_ne!(versions[0].1, versions[1].1);
        for d in [&doc, &again] {
            let v = tenant
                .admin
                .get(&format!("/api/v1/documents/{d}/versions/1/content"))
                .await;
            assert!(v.bytes == data, "document {d}");
        }

        // The empty document is encrypted too (one empty, authenticated segment).
        let empty = upload(&tenant.admin, &file, &[]).await;
        let back = tenant
            .admin
            .get(&format!("/api/v1/documents/{empty}/content"))
            .await;
        assert_eq!(back.status, 200);
        assert!(back.bytes.is_empty());
    }
}

fn fingerprint_of(app: &TestApp) -> String {
    app.keyring.master_key_id().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_stored_before_encryption_stays_readable() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "hemer").await;
    let data = random_bytes(70_000);
    // As a version written before this release: plaintext object, no wrapped DEK.
    let key = format!("t/{}/{}", tenant.id, Uuid::now_v7());
    put_raw(&app, &key, data.clone()).await;
    let mut tx = app
        .db
        .tenant_tx(TenantId(tenant.id), "test")
        .await
        .expect("tx");
    // Written the way every upload is: intent first, then the version that takes it over.
    tx.record_upload_intent(&key).await.expect("intent");
    let doc = tx
        .create_document(
            DocumentTarget::File(file.parse().expect("uuid")),
            NewDocument {
                title: "Altbestand".into(),
                kind: DocumentKind::parse("Eingang").expect("kind"),
                sender: None,
                recipient: None,
                document_date: None,
                metadata: Default::default(),
            },
            NewVersion {
                blob_key: key,
                sha256_hex: sha256_hex(&data),
                size: data.len() as u64,
                media_type: "application/pdf".into(),
                file_name: "alt.pdf".into(),
                dek: None,
                text: None,
            },
        )
        .await
        .expect("legacy document");
    tx.commit().await.expect("commit");

    let path = format!("/api/v1/documents/{}/content", doc.id);
    let whole = tenant.admin.get(&path).await;
    assert_eq!(whole.status, 200);
    assert!(whole.bytes == data);
    let part = tenant
        .admin
        .send(
            tenant
                .admin
                .request(reqwest::Method::GET, &path)
                .header("range", "bytes=65530-65545"),
        )
        .await;
    assert_eq!(part.status, 206);
    assert!(part.bytes == data[65_530..=65_545]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_from_before_encryption_gets_its_key_on_the_first_upload() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "schalksmuehle").await;
    let mut conn = owner(&app, tenant.id).await;
    // As a tenant created before this release: no key at all.
    sqlx::query("DELETE FROM tenant_keys WHERE tenant_id = $1")
        .bind(tenant.id)
        .execute(&mut conn)
        .await
        .expect("forget the key");

    // Concurrent first uploads agree on one key.
    let uploads = (0..3).map(|i| {
        let admin = tenant.admin.clone();
        let file = file.clone();
        let data = random_bytes(10_000 + i);
        tokio::spawn(async move {
            let doc = upload(&admin, &file, &data).await;
            (doc, data)
        })
    });
    for done in futures_util::future::join_all(uploads).await {
        let (doc, data) = done.expect("task");
        let back = tenant
            .admin
            .get(&format!("/api/v1/documents/{doc}/content"))
            .await;
        assert!(back.bytes == data);
    }
    assert_eq!(
        tenant_keys(&mut conn).await,
        [(1, true, fingerprint_of(&app))]
    );
    assert!(version_keys(&mut conn).await.iter().all(|v| v.2 == Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_reads_of_encrypted_content_return_the_plaintext_slices() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "menden").await;
    let data = random_bytes(300 * 1024);
    let size = data.len();
    let doc = upload(&tenant.admin, &file, &data).await;
    let path = format!("/api/v1/documents/{doc}/content");
    let seg = SEGMENT_SIZE;

    for (range, start, end) in [
        ("bytes=0-0".to_owned(), 0, 0),
        (format!("bytes=0-{}", seg - 1), 0, seg - 1),
        (format!("bytes={}-{}", seg - 1, seg), seg - 1, seg),
        (format!("bytes={}-{}", seg, seg), seg, seg),
        ("bytes=65000-200000".to_owned(), 65_000, 200_000),
        (
            format!("bytes={}-{}", 3 * seg - 5, 4 * seg + 5),
            3 * seg - 5,
            4 * seg + 5,
        ),
        (format!("bytes={}-", 4 * seg), 4 * seg, size - 1),
        (format!("bytes={}-", size - 1), size - 1, size - 1),
        ("bytes=-70000".to_owned(), size - 70_000, size - 1),
        ("bytes=1-999999999".to_owned(), 1, size - 1),
    ] {
        let reply = tenant
            .admin
            .send(
                tenant
                    .admin
                    .request(reqwest::Method::GET, &path)
                    .header("range", &range),
            )
            .await;
        assert_eq!(reply.status, 206, "{range}: {}", reply.body);
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes {start}-{end}/{size}").as_str()),
            "{range}"
        );
        assert!(reply.bytes == data[start..=end], "{range}: wrong bytes");
    }
    let outside = tenant
        .admin
        .send(
            tenant
                .admin
                .request(reqwest::Method::GET, &path)
                .header("range", format!("bytes={size}-")),
        )
        .await;
    outside.assert_problem(416, "range_not_satisfiable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_ciphertext_never_releases_plaintext() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "balve").await;
    let data = random_bytes(4 * SEGMENT_SIZE + 1000);
    let doc = upload(&tenant.admin, &file, &data).await;
    let key = only_key(&app).await;
    let original = raw_object(&app, &key).await;
    let path = format!("/api/v1/documents/{doc}/content");

    // One flipped bit in the middle of segment 2.
    let mut tampered = original.clone();
    let at = HEADER_LEN + 2 * (SEGMENT_SIZE + TAG_LEN) + 1234;
    tampered[at] ^= 0x01;
    put_raw(&app, &key, tampered).await;

    // The first two segments authenticate and stream out, then the download is aborted: the
    // client gets fewer bytes than announced and never a byte of segment 2.
    let response = tenant
        .admin
        .request(reqwest::Method::GET, &path)
        .send()
        .await
        .expect("headers arrive with the first segments");
    assert_eq!(response.status(), 200);
    let (got, complete) = read_body(response).await;
    assert!(!complete, "a tampered object was served completely");
    assert!(
        got.len() <= 2 * SEGMENT_SIZE,
        "{} bytes released",
        got.len()
    );
    assert!(
        data.starts_with(&got),
        "released bytes differ from the plaintext"
    );
    // A range inside the tampered segment releases nothing of it.
    let range = format!(
        "bytes={}-{}",
        2 * SEGMENT_SIZE + 1000,
        2 * SEGMENT_SIZE + 2000
    );
    let response = tenant
        .admin
        .request(reqwest::Method::GET, &path)
        .header("range", &range)
        .send()
        .await;
    if let Ok(response) = response {
        let status = response.status();
        let (got, complete) = read_body(response).await;
        assert!(!(status.is_success() && complete), "{range} served");
        assert!(
            got.is_empty() || !status.is_success(),
            "{range}: {} bytes released",
            got.len()
        );
    }
    // Untouched segments still read fine.
    let intact = tenant
        .admin
        .send(
            tenant
                .admin
                .request(reqwest::Method::GET, &path)
                .header("range", "bytes=0-1000"),
        )
        .await;
    assert_eq!(intact.status, 206);
    assert!(intact.bytes == data[..=1000]);

    // A truncated or extended object is refused before anything is sent.
    for changed in [
        original[..original.len() - 1].to_vec(),
        [original.as_slice(), b"x"].concat(),
    ] {
        put_raw(&app, &key, changed).await;
        let reply = tenant.admin.get(&path).await;
        reply.assert_problem(500, "internal");
    }

    put_raw(&app, &key, original).await;
    assert_eq!(tenant.admin.get(&path).await.status, 200);

    // A wrapped data key is bound to its blob: copied onto another version, it opens nothing.
    let other = upload(&tenant.admin, &file, &random_bytes(1_000)).await;
    let mut conn = owner(&app, tenant.id).await;
    sqlx::query(
        "UPDATE document_versions SET wrapped_dek = (SELECT wrapped_dek FROM document_versions
          WHERE blob_key = $1) WHERE blob_key <> $1",
    )
    .bind(&key)
    .execute(&mut conn)
    .await
    .expect("swap wrapped DEK");
    tenant
        .admin
        .get(&format!("/api/v1/documents/{other}/content"))
        .await
        .assert_problem(500, "internal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_tenant_key_rewraps_data_keys_without_touching_blobs() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "neuenrade").await;
    let (other, other_file) = tenant_with_file(&app, "werdohl").await;
    let first = random_bytes(150_000);
    let second = random_bytes(5_000);
    let doc = upload(&tenant.admin, &file, &first).await;
    assert_eq!(
        upload_version(&tenant.admin, &doc, "v2.pdf", second.clone())
            .await
            .status,
        201
    );
    let other_data = random_bytes(1_000);
    let other_doc = upload(&other.admin, &other_file, &other_data).await;
    let mut blobs_before = Vec::new();
    for key in app.blob_keys().await {
        blobs_before.push(raw_object(&app, &key).await);
    }
    let mut conn = owner(&app, tenant.id).await;
    let deks_before = version_keys(&mut conn).await;

    // What `akta keys rotate --tenant neuenrade` calls.
    let rotation = app
        .keyring
        .rotate_tenant_key(&app.db, TenantId(tenant.id), "test")
        .await
        .expect("rotate");
    assert_eq!(
        (rotation.version, rotation.rewrapped, rotation.retired),
        (2, 2, vec![1])
    );

    let master = fingerprint_of(&app);
    assert_eq!(
        tenant_keys(&mut conn).await,
        [(1, false, master.clone()), (2, true, master.clone())]
    );
    let retired: Option<time::OffsetDateTime> = sqlx::query_scalar(
        "SELECT retired_at FROM tenant_keys WHERE tenant_id = $1 AND version = 1",
    )
    .bind(tenant.id)
    .fetch_one(&mut conn)
    .await
    .expect("retired_at");
    assert!(retired.is_some());
    let deks_after = version_keys(&mut conn).await;
    for (before, after) in deks_before.iter().zip(&deks_after) {
        assert_eq!(after.2, Some(2), "{} still on an old key", after.0);
        assert_ne!(before.1, after.1, "{} not re-wrapped", after.0);
    }
    let mut blobs_after = Vec::new();
    for key in app.blob_keys().await {
        blobs_after.push(raw_object(&app, &key).await);
    }
    assert!(blobs_before == blobs_after, "rotation rewrote blobs");
    assert_eq!(
        key_actions(&mut conn).await,
        ["key.created", "key.rotated", "key.retired"]
    );

    for (n, data) in [(1, &first), (2, &second)] {
        let reply = tenant
            .admin
            .get(&format!("/api/v1/documents/{doc}/versions/{n}/content"))
            .await;
        assert_eq!(reply.status, 200, "version {n}: {}", reply.body);
        assert!(reply.bytes == *data, "version {n}");
    }
    // New uploads use the new version; the other tenant's key is untouched.
    let third = random_bytes(1_000);
    upload_version(&tenant.admin, &doc, "v3.pdf", third.clone()).await;
    assert!(version_keys(&mut conn).await.iter().all(|v| v.2 == Some(2)));
    let mut other_conn = owner(&app, other.id).await;
    assert_eq!(
        tenant_keys(&mut other_conn).await,
        [(1, true, master.clone())]
    );
    let reply = other
        .admin
        .get(&format!("/api/v1/documents/{other_doc}/content"))
        .await;
    assert!(reply.bytes == other_data);

    // Finishing again (as after an interruption) finds nothing left to do.
    let again = app
        .keyring
        .finish_rotation(&app.db, TenantId(tenant.id), "test")
        .await
        .expect("finish");
    assert_eq!((again.version, again.rewrapped), (2, 0));
    assert!(again.retired.is_empty());
    // A second rotation retires version 2 the same way.
    let next = app
        .keyring
        .rotate_tenant_key(&app.db, TenantId(tenant.id), "test")
        .await
        .expect("rotate again");
    assert_eq!(
        (next.version, next.rewrapped, next.retired),
        (3, 3, vec![2])
    );
    let reply = tenant
        .admin
        .get(&format!("/api/v1/documents/{doc}/versions/3/content"))
        .await;
    assert!(reply.bytes == third);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_rewraps_tenant_keys() {
    let old = Key256::generate().expect("key");
    let new = Key256::generate().expect("key");
    // Processes learn the new key first (accepted for unwrapping), then the rotation runs.
    let app = TestApp::spawn_with(TestOptions {
        keyring: Some(Keyring::with_accepted(old.clone(), vec![new.clone()])),
        ..TestOptions::default()
    })
    .await;
    let (tenant, file) = tenant_with_file(&app, "altena").await;
    let data = random_bytes(80_000);
    let doc = upload(&tenant.admin, &file, &data).await;
    let mut conn = owner(&app, tenant.id).await;
    assert_eq!(tenant_keys(&mut conn).await, [(1, true, fingerprint(&old))]);

    // What `akta keys rotate-master --new-key-file …` calls.
    let new_keyring = Keyring::new(new.clone());
    let report = app
        .keyring
        .rotate_master(&app.db, &new_keyring, "test")
        .await
        .expect("rotate master");
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].rewrapped, [1]);
    assert_eq!(tenant_keys(&mut conn).await, [(1, true, fingerprint(&new))]);
    assert_eq!(
        key_actions(&mut conn).await,
        ["key.created", "key.master_rotated"]
    );

    let reply = tenant
        .admin
        .get(&format!("/api/v1/documents/{doc}/content"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.bytes == data);

    // Only the new key opens the tenant key now; the old one is refused by name.
    let mut tx = app
        .db
        .system_tx(TenantId(tenant.id), "test")
        .await
        .expect("tx");
    assert!(new_keyring.tenant_key(&mut tx, 1).await.is_ok());
    let err = Keyring::new(old.clone())
        .tenant_key(&mut tx, 1)
        .await
        .expect_err("the old master key still opens the tenant key");
    assert!(
        format!("{err:?}").contains(&fingerprint(&new)),
        "the error names the missing master key: {err:?}"
    );
    drop(tx);
    assert!(new_keyring.check_database(&app.db).await.is_ok());
    assert!(Keyring::new(old.clone())
        .check_database(&app.db)
        .await
        .is_err());

    // Running it again changes nothing.
    let again = app
        .keyring
        .rotate_master(&app.db, &new_keyring, "test")
        .await
        .expect("again");
    assert!(again[0].rewrapped.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_tenant_destroys_its_keys_and_with_them_its_content() {
    let app = TestApp::spawn().await;
    let (tenant, file) = tenant_with_file(&app, "plettenberg").await;
    let (other, other_file) = tenant_with_file(&app, "herscheid").await;
    let reader = app.client(&tenant, "reader").await;
    let data = random_bytes(100_000);
    let doc = upload(&tenant.admin, &file, &data).await;
    let other_data = random_bytes(2_000);
    let other_doc = upload(&other.admin, &other_file, &other_data).await;
    let key = BlobKey::parse(
        &app.blob_keys()
            .await
            .into_iter()
            .find(|k| k.starts_with(&format!("t/{}/", tenant.id)))
            .expect("blob"),
    )
    .expect("key");

    // The operator deletes it over the API (the CLI's `akta tenant delete` does the same),
    // repeating the slug as confirmation.
    let op = &app.operator;
    op.send(op.request(
        reqwest::Method::DELETE,
        "/api/v1/tenants/plettenberg?confirm=plettenbrg",
    ))
    .await
    .assert_problem(400, "invalid_query");
    let deleted = op
        .send(op.request(
            reqwest::Method::DELETE,
            "/api/v1/tenants/plettenberg?confirm=plettenberg",
        ))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["tenant"]["status"], "deleted");
    assert_eq!(deleted.body["key_versions_destroyed"], 1);

    // Its tokens are dead; the other tenant works on.
    for client in [&tenant.admin, &reader] {
        client
            .get("/api/v1/plan-units")
            .await
            .assert_problem(401, "unauthorized");
        client
            .get(&format!("/api/v1/documents/{doc}/content"))
            .await
            .assert_problem(401, "unauthorized");
    }
    let reply = other
        .admin
        .get(&format!("/api/v1/documents/{other_doc}/content"))
        .await;
    assert!(reply.bytes == other_data);

    // No key material is left; the blob (still in the bucket) is ciphertext only.
    let mut conn = owner(&app, tenant.id).await;
    assert!(tenant_keys(&mut conn).await.is_empty());
    assert_eq!(
        key_actions(&mut conn).await,
        ["key.created", "tenant.deleted"]
    );
    let raw = raw_object(&app, key.as_str()).await;
    assert_eq!(raw.len() as u64, ciphertext_len(data.len() as u64));
    assert_no_plaintext(&raw, &data);

    // Even with the master key, the library cannot open the blob's data key any more, and
    // it refuses to make a new key for the deleted tenant.
    let mut tx = app
        .db
        .system_tx(TenantId(tenant.id), "test")
        .await
        .expect("tx");
    assert!(app.keyring.open_dek(&mut tx, &key).await.is_err());
    assert!(app.keyring.tenant_key(&mut tx, 1).await.is_err());
    assert!(app.keyring.current_tenant_key(&mut tx).await.is_err());
    drop(tx);
    assert!(app
        .keyring
        .rotate_tenant_key(&app.db, TenantId(tenant.id), "test")
        .await
        .is_err());
    let tenants = app.operator.get("/api/v1/tenants").await;
    let status = tenants.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["slug"] == "plettenberg")
        .map(|t| t["status"].clone());
    assert_eq!(status, Some("deleted".into()));
    // Deleting again destroys nothing more and is not an error.
    let (_, destroyed) = app
        .core
        .delete_tenant("plettenberg", "test")
        .await
        .expect("delete again");
    assert_eq!(destroyed, 0);
}
