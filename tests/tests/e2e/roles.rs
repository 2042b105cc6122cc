//! Roles: readers read, clerks keep records, admins shape the tenant, the operator manages
//! tenants and sees no records.

use akta_testkit::{Client, Reply, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{document_metadata, history_actions, item_ids, random_bytes, seed, Seeded};

/// A write attempt: method, path and what it sends.
enum Write {
    Json(Method, String, Value),
    Document(String),
    Version(String),
}

impl Write {
    fn name(&self) -> String {
        match self {
            Write::Json(method, path, _) => format!("{method} {path}"),
            Write::Document(path) | Write::Version(path) => format!("POST {path}"),
        }
    }

    async fn send(&self, client: &Client) -> Reply {
        let part = || {
            Part::bytes(random_bytes(1_000))
                .file_name("x.pdf")
                .mime_str("application/pdf")
                .expect("mime")
        };
        let rb = match self {
            Write::Json(method, path, body) => client
                .request(method.clone(), path)
                .json(body)
                .header("if-match", "\"v1\""),
            Write::Document(path) => client.request(Method::POST, path).multipart(
                Form::new()
                    .text("metadata", document_metadata("x").to_string())
                    .part("file", part()),
            ),
            Write::Version(path) => client
                .request(Method::POST, path)
                .multipart(Form::new().part("file", part())),
        };
        client.send(rb).await
    }
}

/// Every write to records, each valid for `seeded` so only the role can refuse it.
fn record_writes(seeded: &Seeded) -> Vec<Write> {
    let (unit, file, case, doc) = (
        &seeded.plan_unit,
        &seeded.file,
        &seeded.case,
        &seeded.document,
    );
    vec![
        Write::Json(
            Method::POST,
            "/api/v1/files".into(),
            json!({"plan_unit_id": unit, "subject": "Neu"}),
        ),
        Write::Json(
            Method::PATCH,
            format!("/api/v1/files/{file}"),
            json!({"subject": "Geändert"}),
        ),
        Write::Json(
            Method::POST,
            format!("/api/v1/files/{file}/cases"),
            json!({"subject": "Neu"}),
        ),
        Write::Document(format!("/api/v1/files/{file}/documents")),
        Write::Document(format!("/api/v1/cases/{case}/documents")),
        Write::Version(format!("/api/v1/documents/{doc}/versions")),
    ]
}

/// Every write to the tenant's structure.
fn admin_writes(seeded: &Seeded) -> Vec<Write> {
    vec![
        Write::Json(
            Method::POST,
            "/api/v1/plan-units".into(),
            json!({"code": "99", "title": "Neu", "parent_id": seeded.plan_unit}),
        ),
        Write::Json(
            Method::POST,
            "/api/v1/org-units".into(),
            json!({"code": "FB9", "name": "Neu"}),
        ),
        Write::Json(
            Method::POST,
            "/api/v1/tokens".into(),
            json!({"name": "mehr Rechte", "role": "admin"}),
        ),
    ]
}

/// Every tenant read route, with ids from `seeded`.
fn reads(seeded: &Seeded) -> Vec<String> {
    let (unit, file, case, doc) = (
        &seeded.plan_unit,
        &seeded.file,
        &seeded.case,
        &seeded.document,
    );
    vec![
        "/api/v1/org-units".into(),
        "/api/v1/plan-units".into(),
        format!("/api/v1/plan-units/{unit}"),
        "/api/v1/files".into(),
        format!("/api/v1/files/{file}"),
        format!("/api/v1/files/{file}/cases"),
        format!("/api/v1/files/{file}/history"),
        format!("/api/v1/files/{file}/documents"),
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{case}/documents"),
        format!("/api/v1/documents/{doc}"),
        format!("/api/v1/documents/{doc}/content"),
        format!("/api/v1/documents/{doc}/versions/1/content"),
    ]
}

/// The seeded records are exactly as they were: no refused write left a trace.
async fn assert_unchanged(app: &TestApp, seeded: &Seeded) {
    let admin = &seeded.tenant.admin;
    let files = admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&files), vec![seeded.file.clone()]);
    let file = admin.get(&format!("/api/v1/files/{}", seeded.file)).await;
    assert_eq!(file.body["version"], 1);
    let units = admin.get("/api/v1/plan-units").await;
    assert_eq!(item_ids(&units), vec![seeded.plan_unit.clone()]);
    let docs = admin
        .get(&format!("/api/v1/files/{}/documents", seeded.file))
        .await;
    assert_eq!(item_ids(&docs), vec![seeded.document.clone()]);
    let history = history_actions(admin, &seeded.file).await;
    assert_eq!(
        history,
        ["file.created", "case.created", "document.created"]
    );
    assert_eq!(app.blob_keys().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_read_everything_and_write_nothing() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "iserlohn").await;
    let reader = app.client(&seeded.tenant, "reader").await;

    for path in reads(&seeded) {
        let reply = reader.get(&path).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
    }
    let content = reader
        .get(&format!("/api/v1/documents/{}/content", seeded.document))
        .await;
    assert_eq!(content.bytes, seeded.content);

    for write in record_writes(&seeded).iter().chain(&admin_writes(&seeded)) {
        let reply = write.send(&reader).await;
        assert_eq!(reply.status, 403, "{}: {}", write.name(), reply.body);
        reply.assert_problem(403, "forbidden");
    }
    // The role is checked before the body is even parsed.
    reader
        .post_raw("/api/v1/files", "application/json", "{not json")
        .await
        .assert_problem(403, "forbidden");
    assert_unchanged(&app, &seeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerks_keep_records_but_cannot_shape_the_tenant() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "menden").await;
    let clerk = app.client(&seeded.tenant, "clerk").await;

    for write in admin_writes(&seeded) {
        let reply = write.send(&clerk).await;
        assert_eq!(reply.status, 403, "{}: {}", write.name(), reply.body);
        reply.assert_problem(403, "forbidden");
    }
    assert_unchanged(&app, &seeded).await;

    // Every record write works for a clerk (and is recorded under the clerk's name).
    for write in record_writes(&seeded) {
        let reply = write.send(&clerk).await;
        let expected = if matches!(write, Write::Json(Method::PATCH, ..)) {
            200
        } else {
            201
        };
        assert_eq!(reply.status, expected, "{}: {}", write.name(), reply.body);
    }
    let history = seeded
        .tenant
        .admin
        .get(&format!("/api/v1/files/{}/history", seeded.file))
        .await;
    let actors: Vec<_> = crate::common::items(&history)
        .iter()
        .skip(3)
        .map(|e| e["actor"].clone())
        .collect();
    assert_eq!(actors.len(), 5, "five writes into the seeded Akte");
    assert!(
        actors.iter().all(|a| a == "token:clerk token"),
        "{actors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_issue_tokens_whose_roles_take_effect() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "hemer").await;
    let admin = &seeded.tenant.admin;

    for role in ["admin", "clerk", "reader"] {
        let issued = admin
            .post(
                "/api/v1/tokens",
                json!({"name": format!("{role} 2"), "role": role}),
            )
            .await;
        assert_eq!(issued.status, 201, "{}", issued.body);
        assert_eq!(issued.body["role"], role);
        assert_eq!(issued.body["name"], format!("{role} 2"));
        let token = issued.body["token"].as_str().expect("token");
        assert!(token.starts_with("akta_"), "{token}");
        let client = admin.with_token(Some(token));
        assert_eq!(client.get("/api/v1/files").await.status, 200);
        let write = client
            .post(
                &format!("/api/v1/files/{}/cases", seeded.file),
                json!({"subject": format!("von {role}")}),
            )
            .await;
        let expected = if role == "reader" { 403 } else { 201 };
        assert_eq!(write.status, expected, "{role}: {}", write.body);
    }
    crate::common::assert_invalid(
        &admin
            .post("/api/v1/tokens", json!({"name": "x", "role": "operator"}))
            .await,
        "role",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_manages_tenants_but_cannot_touch_records() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "balve").await;
    let operator = &app.operator;

    for path in reads(&seeded) {
        let reply = operator.get(&path).await;
        assert_eq!(reply.status, 403, "operator GET {path}: {}", reply.body);
        reply.assert_problem(403, "forbidden");
    }
    for write in record_writes(&seeded).iter().chain(&admin_writes(&seeded)) {
        let reply = write.send(operator).await;
        assert_eq!(
            reply.status,
            403,
            "operator {}: {}",
            write.name(),
            reply.body
        );
        reply.assert_problem(403, "forbidden");
    }
    assert_unchanged(&app, &seeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_tokens_cannot_manage_tenants() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "neuenrade").await;
    let clerk = app.client(&seeded.tenant, "clerk").await;
    let reader = app.client(&seeded.tenant, "reader").await;

    for client in [&seeded.tenant.admin, &clerk, &reader] {
        client
            .get("/api/v1/tenants")
            .await
            .assert_problem(403, "forbidden");
        client
            .post(
                "/api/v1/tenants",
                json!({"slug": "eigene", "name": "Eigene Stadt"}),
            )
            .await
            .assert_problem(403, "forbidden");
    }
    let tenants = app.operator.get("/api/v1/tenants").await;
    let slugs: Vec<_> = crate::common::items(&tenants)
        .iter()
        .map(|t| t["slug"].clone())
        .collect();
    assert_eq!(slugs, vec![json!("neuenrade")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_name_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("sundern").await;
    let token = tenant.admin.token.clone().expect("token");
    // RFC 9110 section 11.1: the authentication scheme is a case-insensitive token.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let anonymous = app.anonymous();
        let rb = anonymous
            .request(Method::GET, "/api/v1/files")
            .header("authorization", format!("{scheme} {token}"));
        let reply = anonymous.send(rb).await;
        assert_eq!(reply.status, 200, "scheme {scheme:?}: {}", reply.body);
    }
}
