//! The permission matrix, route by route: every role gets exactly what it should. Allowed
//! calls succeed (2xx); a role without the permission gets 403 within its tenant; the same
//! call with another tenant's ids answers 404; the operator never touches tenant content.

use std::sync::atomic::{AtomicU32, Ordering};

use akta_testkit::{Client, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{random_bytes, seed, Seeded};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Operator,
    Admin,
    Clerk,
    Reader,
    Archivist,
    /// A clerk token with the read scope only.
    ReadOnly,
}

use Who::*;

const TENANT_ROLES: [Who; 5] = [Admin, Clerk, Reader, Archivist, ReadOnly];
const ALL: [Who; 6] = [Operator, Admin, Clerk, Reader, Archivist, ReadOnly];
const READERS: &[Who] = &[Admin, Clerk, Reader, Archivist, ReadOnly];
const WRITERS: &[Who] = &[Admin, Clerk];
const ADMINS: &[Who] = &[Admin];
const OPERATOR: &[Who] = &[Operator];

#[derive(Clone, Copy)]
enum Body {
    None,
    Json(fn(&Seeded, u32) -> Value),
    Upload { metadata: bool },
}

struct Route {
    method: Method,
    path: fn(&Seeded) -> String,
    body: Body,
    allowed: &'static [Who],
}

fn routes() -> Vec<Route> {
    use Body::*;
    let r =
        |method: Method, path: fn(&Seeded) -> String, body: Body, allowed: &'static [Who]| Route {
            method,
            path,
            body,
            allowed,
        };
    vec![
        r(Method::GET, |_| "/api/v1/tenants".into(), None, OPERATOR),
        r(
            Method::POST,
            |_| "/api/v1/tenants".into(),
            Json(|_, n| json!({"slug": format!("stadt-{n}"), "name": "Stadt"})),
            OPERATOR,
        ),
        r(
            Method::PUT,
            |s| format!("/api/v1/tenants/{}/quota", s.tenant.slug),
            Json(|_, _| json!({"max_documents": 1000})),
            OPERATOR,
        ),
        r(Method::GET, |_| "/api/v1/tokens".into(), None, ADMINS),
        r(
            Method::POST,
            |_| "/api/v1/tokens".into(),
            Json(|_, n| json!({"name": format!("t{n}"), "role": "reader"})),
            ADMINS,
        ),
        r(Method::GET, |_| "/api/v1/users".into(), None, ADMINS),
        r(
            Method::GET,
            |_| "/api/v1/support-access".into(),
            None,
            ADMINS,
        ),
        r(
            Method::POST,
            |_| "/api/v1/support-access".into(),
            Json(|_, _| json!({"reason": "Ticket", "hours": 1})),
            ADMINS,
        ),
        r(
            Method::POST,
            |_| "/api/v1/users".into(),
            Json(
                |_, n| json!({"username": format!("user{n}"), "display_name": "X", "role": "reader"}),
            ),
            ADMINS,
        ),
        r(Method::GET, |_| "/api/v1/org-units".into(), None, READERS),
        r(
            Method::POST,
            |_| "/api/v1/org-units".into(),
            Json(|_, n| json!({"code": format!("{n}"), "name": "Amt"})),
            ADMINS,
        ),
        r(Method::GET, |_| "/api/v1/plan-units".into(), None, READERS),
        r(
            Method::GET,
            |s| format!("/api/v1/plan-units/{}", s.plan_unit),
            None,
            READERS,
        ),
        r(
            Method::POST,
            |_| "/api/v1/plan-units".into(),
            Json(|_, n| json!({"code": format!("9.{n}"), "title": "Neu"})),
            ADMINS,
        ),
        r(Method::GET, |_| "/api/v1/files".into(), None, READERS),
        r(
            Method::POST,
            |_| "/api/v1/files".into(),
            Json(|s, _| json!({"plan_unit_id": s.plan_unit, "subject": "Neu"})),
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/files/{}", s.file),
            None,
            READERS,
        ),
        r(
            Method::PATCH,
            |s| format!("/api/v1/files/{}", s.file),
            Json(|_, n| json!({"subject": format!("Betreff {n}")})),
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/files/{}/cases", s.file),
            None,
            READERS,
        ),
        r(
            Method::POST,
            |s| format!("/api/v1/files/{}/cases", s.file),
            Json(|_, _| json!({"subject": "Vorgang"})),
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/cases/{}", s.case),
            None,
            READERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/files/{}/history", s.file),
            None,
            READERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/files/{}/access", s.file),
            None,
            READERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/files/{}/documents", s.file),
            None,
            READERS,
        ),
        r(
            Method::POST,
            |s| format!("/api/v1/files/{}/documents", s.file),
            Upload { metadata: true },
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/cases/{}/documents", s.case),
            None,
            READERS,
        ),
        r(
            Method::POST,
            |s| format!("/api/v1/cases/{}/documents", s.case),
            Upload { metadata: true },
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/documents/{}", s.document),
            None,
            READERS,
        ),
        r(
            Method::POST,
            |s| format!("/api/v1/documents/{}/versions", s.document),
            Upload { metadata: false },
            WRITERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/documents/{}/content", s.document),
            None,
            READERS,
        ),
        r(
            Method::GET,
            |s| format!("/api/v1/documents/{}/versions/1/content", s.document),
            None,
            READERS,
        ),
    ]
}

async fn call(client: &Client, route: &Route, seeded: &Seeded, n: u32) -> Reply {
    let path = (route.path)(seeded);
    match route.body {
        Body::None => {
            client
                .send(client.request(route.method.clone(), &path))
                .await
        }
        Body::Json(body) => {
            let mut rb = client
                .request(route.method.clone(), &path)
                .json(&body(seeded, n));
            if route.method == Method::PATCH {
                // Each PATCH needs the Akte's current ETag.
                let current = client.get(&path).await;
                if let Some(etag) = current.header("etag") {
                    rb = rb.header("if-match", etag);
                }
            }
            client.send(rb).await
        }
        Body::Upload { metadata } => {
            client
                .upload(
                    &path,
                    metadata.then(|| json!({"title": "Anlage", "kind": "Eingang"})),
                    Some(("anlage.pdf", "application/pdf", random_bytes(2000))),
                )
                .await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_grants_exactly_the_permitted_roles() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let other = app.create_tenant("herdecke").await;
    let admin = seeded.tenant.admin.clone();
    let token = |body: Value| {
        let admin = admin.clone();
        async move {
            let r = admin.post("/api/v1/tokens", body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            admin.with_token(r.body["token"].as_str())
        }
    };
    let clients = [
        (Operator, app.operator.clone()),
        (Admin, admin.clone()),
        (
            Clerk,
            token(json!({"name": "clerk", "role": "clerk"})).await,
        ),
        (
            Reader,
            token(json!({"name": "reader", "role": "reader"})).await,
        ),
        (
            Archivist,
            token(json!({"name": "archivist", "role": "archivist"})).await,
        ),
        (
            ReadOnly,
            token(json!({"name": "ro", "role": "clerk", "scopes": ["read"]})).await,
        ),
    ];
    assert_eq!(clients.len(), ALL.len());
    let counter = AtomicU32::new(1);
    let mut checked = 0;
    for route in routes() {
        for (who, client) in &clients {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let reply = call(client, &route, &seeded, n).await;
            let label = format!("{:?} {} as {who:?}", route.method, (route.path)(&seeded));
            if route.allowed.contains(who) {
                assert!(
                    reply.status.is_success(),
                    "{label}: expected success, got {} {}",
                    reply.status,
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.status, 403,
                    "{label}: expected 403, got {} {}",
                    reply.status, reply.body
                );
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/problem+json"),
                    "{label}"
                );
            }
            checked += 1;
        }
        // Another tenant's admin reaching for this tenant's objects finds nothing.
        let path = (route.path)(&seeded);
        let names_an_object = path.matches('/').count() > 3 && !path.starts_with("/api/v1/tenants");
        if names_an_object && route.allowed.iter().any(|w| TENANT_ROLES.contains(w)) {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let reply = call(&other.admin, &route, &seeded, n).await;
            assert_eq!(
                reply.status, 404,
                "{:?} {path} from another tenant: {}",
                route.method, reply.body
            );
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} checks ran");
}
