//! The operator sees no tenant content, unless a tenant admin grants time-limited support
//! access: then it may read (never change), every request is audited, and the grant can be
//! revoked at once.

use akta_testkit::{Reply, TestApp};
use reqwest::Method;
use serde_json::json;

use crate::common::{owner, seed};

async fn as_support(app: &TestApp, tenant: &str, method: Method, path: &str) -> Reply {
    let op = &app.operator;
    let mut rb = op
        .request(method.clone(), path)
        .header("x-akta-support-tenant", tenant);
    if method == Method::POST {
        rb = rb.json(&json!({"subject": "x", "plan_unit_id": uuid::Uuid::new_v4()}));
    }
    op.send(rb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_access_is_granted_read_only_audited_and_revocable() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let _herdecke = seed(&app, "herdecke").await;
    let doc = format!("/api/v1/documents/{}/content", witten.document);

    as_support(&app, "witten", Method::GET, &doc)
        .await
        .assert_problem(403, "forbidden");

    let grant = witten
        .tenant
        .admin
        .post(
            "/api/v1/support-access",
            json!({"reason": "Ticket 4711: Upload hängt", "hours": 2}),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.body);

    let read = as_support(&app, "witten", Method::GET, &doc).await;
    assert_eq!(read.status, 200);
    assert!(read.bytes == witten.content);
    as_support(&app, "witten", Method::POST, "/api/v1/files")
        .await
        .assert_problem(403, "forbidden");
    // The grant opens this tenant only.
    as_support(&app, "herdecke", Method::GET, "/api/v1/files")
        .await
        .assert_problem(403, "forbidden");

    let mut owner = owner(&app, witten.tenant.id).await;
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, after->>'path' FROM audit_events WHERE action = 'support.request' ORDER BY seq",
    )
    .fetch_all(&mut owner)
    .await
    .expect("audit");
    assert!(
        audited
            .iter()
            .any(|(actor, path)| actor.contains("support by operator") && *path == doc),
        "{audited:?}"
    );

    let revoke = witten
        .tenant
        .admin
        .send(witten.tenant.admin.request(
            Method::DELETE,
            &format!("/api/v1/support-access/{}", grant.id()),
        ))
        .await;
    assert_eq!(revoke.status, 204);
    as_support(&app, "witten", Method::GET, &doc)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_tenant_is_locked_out_until_resumed() {
    let app = TestApp::spawn().await;
    let witten = seed(&app, "witten").await;
    let op = &app.operator;
    let patch = |status: &'static str| {
        op.send(
            op.request(Method::PATCH, "/api/v1/tenants/witten")
                .json(&json!({"status": status})),
        )
    };
    let suspended = patch("suspended").await;
    assert_eq!(suspended.body["status"], "suspended", "{}", suspended.body);
    witten
        .tenant
        .admin
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    patch("closed")
        .await
        .assert_problem(422, "validation_failed");
    witten
        .tenant
        .admin
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(patch("active").await.status, 200);
    assert_eq!(witten.tenant.admin.get("/api/v1/files").await.status, 200);
    // Tenants cannot suspend each other, or themselves.
    witten
        .tenant
        .admin
        .send(
            witten
                .tenant
                .admin
                .request(Method::PATCH, "/api/v1/tenants/witten")
                .json(&json!({"status": "suspended"})),
        )
        .await
        .assert_problem(403, "forbidden");
}
