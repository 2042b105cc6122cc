//! Helpers shared by the test modules: test data, a seeded tenant, small assertions.

use akta_testkit::{Client, Reply, TestApp, TestTenant};
use rand::RngCore;
use serde_json::{json, Value};

pub const MIB: usize = 1024 * 1024;

/// `n` random bytes, so content bugs cannot hide behind zeros or repetition.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut data = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut data);
    data
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(openssl::sha::sha256(data))
}

/// The year Akta puts into new Aktenzeichen: the current year in Europe/Berlin. Around New
/// Year Berlin is on CET (UTC+1), and a year never changes in summer, so UTC+1 is exact.
pub fn berlin_year() -> i32 {
    (time::OffsetDateTime::now_utc() + time::Duration::hours(1)).year()
}

/// A UUID no object has.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The `items` of a list answer, after checking the answer is a 200.
#[track_caller]
pub fn items(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "list failed: {}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .clone()
}

/// The `id`s of a list answer's items, in order.
#[track_caller]
pub fn item_ids(reply: &Reply) -> Vec<String> {
    items(reply)
        .iter()
        .map(|item| item["id"].as_str().expect("item id").to_owned())
        .collect()
}

/// The `action`s of an Akte's history, oldest first.
pub async fn history_actions(client: &Client, file: &str) -> Vec<String> {
    let reply = client.get(&format!("/api/v1/files/{file}/history")).await;
    items(&reply)
        .iter()
        .map(|event| event["action"].as_str().expect("action").to_owned())
        .collect()
}

/// Uploads a new version (a multipart body with only the `file` part).
pub async fn upload_version(client: &Client, document: &str, name: &str, bytes: Vec<u8>) -> Reply {
    client
        .upload(
            &format!("/api/v1/documents/{document}/versions"),
            None,
            Some((name, "application/pdf", bytes)),
        )
        .await
}

/// A tenant with one object of every kind: plan unit, Akte, Vorgang and a document in it.
pub struct Seeded {
    pub tenant: TestTenant,
    pub plan_unit: String,
    pub file: String,
    pub case: String,
    pub document: String,
    /// Content of the document's only version.
    pub content: Vec<u8>,
}

pub async fn seed(app: &TestApp, slug: &str) -> Seeded {
    let tenant = app.create_tenant(slug).await;
    let admin = &tenant.admin;
    let plan_unit = admin.create_plan_unit("63.01", None).await;
    let file = admin
        .create_file(&plan_unit, "Bauantrag Musterstraße 1")
        .await
        .id();
    let case = admin.create_case(&file, "Baugenehmigung").await;
    let content = random_bytes(10_000);
    let document = admin
        .upload_document(&format!("/api/v1/cases/{case}"), "Antrag", content.clone())
        .await
        .id();
    Seeded {
        tenant,
        plan_unit,
        file,
        case,
        document,
        content,
    }
}

/// Metadata of a valid document upload.
pub fn document_metadata(title: &str) -> Value {
    json!({"title": title, "kind": "Eingang"})
}

/// Asserts a 422 naming `field`.
#[track_caller]
pub fn assert_invalid(reply: &Reply, field: &str) {
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["field"], field, "wrong field in {}", reply.body);
}

/// A connection as the database owner, scoped to `tenant` (the owner is subject to RLS too):
/// for looking past the API, and for tampering with what the API protects.
pub async fn owner(app: &TestApp, tenant: uuid::Uuid) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&app.owner_url)
        .await
        .expect("owner connection");
    sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
        .bind(tenant.to_string())
        .execute(&mut conn)
        .await
        .expect("set tenant");
    conn
}

/// Logs a user in with a password and returns the `Cookie` header value of the session.
pub async fn session_cookie(app: &TestApp, tenant: &str, username: &str, password: &str) -> String {
    let login = app
        .anonymous()
        .post(
            "/api/v1/session",
            json!({"tenant": tenant, "username": username, "password": password}),
        )
        .await;
    assert_eq!(login.status, 201, "{}", login.body);
    login
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}
