//! The permission matrix, route by route: every role gets exactly what it should. Allowed
//! calls succeed (2xx); a role without the permission gets 403 within its tenant; the same
//! call with another tenant's ids answers 404; the operator never touches tenant content.

use std::sync::atomic::{AtomicU32, Ordering};

use akta_testkit::{Client, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{random_bytes, seed, Seeded};
use std::ops::Deref;

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
const ALL_ROLES: &[Who] = &ALL;
const READERS: &[Who] = &[Admin, Clerk, Reader, Archivist, ReadOnly];
const WRITERS: &[Who] = &[Admin, Clerk];
const ADMINS: &[Who] = &[Admin];
const RECORDS_MANAGERS: &[Who] = &[Admin, Archivist];
const OPERATOR: &[Who] = &[Operator];

/// The seeded tenant plus a few more objects some routes name.
struct Fixture {
    s: Seeded,
    user: String,
    token: String,
}

impl Deref for Fixture {
    type Target = Seeded;
    fn deref(&self) -> &Seeded {
        &self.s
    }
}

#[derive(Clone, Copy)]
enum Body {
    None,
    Json(fn(&Fixture, u32) -> Value),
    Upload { metadata: bool },
}

struct Route {
    method: Method,
    path: fn(&Fixture) -> String,
    body: Body,
    allowed: &'static [Who],
}

fn routes() -> Vec<Route> {
    use Body::*;
    let r =
        |method: Method, path: fn(&Fixture) -> String, body: Body, allowed: &'static [Who]| Route {
            method,
            path,
            body,
            allowed,
        };
    vec![
        r(Method::GET, |_| "/healthz".into(), None, ALL_ROLES),
        r(Method::GET, |_| "/readyz".into(), None, ALL_ROLES),
        r(
            Method::PATCH,
            |f| format!("/api/v1/tenants/{}", f.tenant.slug),
            Json(|_, _| json!({"status": "active"})),
            OPERATOR,
        ),
        r(
            Method::GET,
            |f| format!("/api/v1/users/{}", f.user),
            None,
            ADMINS,
        ),
        r(
            Method::PATCH,
            |f| format!("/api/v1/users/{}", f.user),
            Json(|_, n| json!({"display_name": format!("Matrix {n}")})),
            ADMINS,
        ),
        r(
            Method::DELETE,
            |f| format!("/api/v1/tokens/{}", f.token),
            None,
            ADMINS,
        ),
        r(
            Method::PUT,
            |_| "/api/v1/oidc".into(),
            Json(|_, _| {
                json!({"issuer": "http://127.0.0.1:9/", "client_id": "akta",
                       "client_secret": "ein-langes-geheimnis-0123456789"})
            }),
            ADMINS,
        ),
        r(Method::GET, |_| "/api/v1/oidc".into(), None, ADMINS),
        r(
            Method::PUT,
            |f| format!("/api/v1/files/{}/hold", f.file),
            Json(|_, n| json!({"reason": format!("Klage {n}")})),
            RECORDS_MANAGERS,
        ),
        r(
            Method::GET,
            |_| "/api/v1/disposal/due".into(),
            None,
            RECORDS_MANAGERS,
        ),
        r(
            Method::GET,
            |_| "/api/v1/disposal/protocol".into(),
            None,
            RECORDS_MANAGERS,
        ),
        r(
            Method::GET,
            |_| "/api/v1/plan-units/export".into(),
            None,
            READERS,
        ),
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

async fn call(client: &Client, route: &Route, seeded: &Fixture, n: u32) -> Reply {
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
    let user = admin
        .post(
            "/api/v1/users",
            json!({"username": "matrix", "display_name": "Matrix", "role": "reader"}),
        )
        .await
        .id();
    let revocable = admin
        .post(
            "/api/v1/tokens",
            json!({"name": "to revoke", "role": "reader"}),
        )
        .await
        .id();
    let seeded = Fixture {
        s: seeded,
        user,
        token: revocable,
    };
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
        let names_an_object = path
            .split(['/', '?', '='])
            .any(|segment| uuid::Uuid::parse_str(segment).is_ok())
            && !path.starts_with("/api/v1/tenants");
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

/// Routes that use up their object (rotate a token, remove an access entry or a support
/// grant, delete a tenant): each role gets a fresh object to try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consuming_routes_grant_exactly_the_permitted_roles() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let admin = seeded.tenant.admin.clone();
    let token_for = |role: &'static str, scopes: Value| {
        let admin = admin.clone();
        async move {
            let r = admin
                .post(
                    "/api/v1/tokens",
                    json!({"name": role, "role": role, "scopes": scopes}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            admin.with_token(r.body["token"].as_str())
        }
    };
    let clients = [
        (Operator, app.operator.clone()),
        (Admin, admin.clone()),
        (Clerk, token_for("clerk", json!(["read", "write"])).await),
        (Reader, token_for("reader", json!(["read"])).await),
        (Archivist, token_for("archivist", json!(["read"])).await),
        (ReadOnly, token_for("clerk", json!(["read"])).await),
    ];
    let expect = |who: Who, allowed: &[Who], reply: &Reply, what: &str| {
        if allowed.contains(&who) {
            assert!(
                reply.status.is_success(),
                "{what} as {who:?}: {} {}",
                reply.status,
                reply.body
            );
        } else {
            assert_eq!(reply.status, 403, "{what} as {who:?}: {}", reply.body);
        }
    };
    for (n, (who, client)) in clients.iter().enumerate() {
        let victim = admin
            .post(
                "/api/v1/tokens",
                json!({"name": format!("victim {n}"), "role": "reader"}),
            )
            .await
            .id();
        let rotate = client
            .post(&format!("/api/v1/tokens/{victim}/rotate"), json!({}))
            .await;
        expect(*who, ADMINS, &rotate, "rotate token");

        let org = admin
            .post(
                "/api/v1/org-units",
                json!({"code": format!("7{n}"), "name": "Amt"}),
            )
            .await
            .id();
        let grant = client
            .post(
                &format!("/api/v1/files/{}/access", seeded.file),
                json!({"org_unit_id": org}),
            )
            .await;
        expect(*who, WRITERS, &grant, "grant access");
        let entry = if grant.status.is_success() {
            grant.id()
        } else {
            admin
                .post(
                    &format!("/api/v1/files/{}/access", seeded.file),
                    json!({"org_unit_id": org}),
                )
                .await
                .id()
        };
        let remove = client
            .send(client.request(
                Method::DELETE,
                &format!("/api/v1/files/{}/access/{entry}", seeded.file),
            ))
            .await;
        expect(*who, WRITERS, &remove, "remove access entry");

        let support = admin
            .post(
                "/api/v1/support-access",
                json!({"reason": "Ticket", "hours": 1}),
            )
            .await
            .id();
        let end = client
            .send(client.request(Method::DELETE, &format!("/api/v1/support-access/{support}")))
            .await;
        expect(*who, ADMINS, &end, "end support access");
    }
    // Deleting a tenant is the operator's alone; the tenant's own admin cannot do it.
    let doomed = app.create_tenant("doomed").await;
    for (who, client) in clients.iter().filter(|(w, _)| *w != Operator) {
        let reply = client
            .send(client.request(Method::DELETE, "/api/v1/tenants/doomed?confirm=doomed"))
            .await;
        expect(*who, OPERATOR, &reply, "delete tenant");
    }
    doomed
        .admin
        .send(
            doomed
                .admin
                .request(Method::DELETE, "/api/v1/tenants/doomed?confirm=doomed"),
        )
        .await
        .assert_problem(403, "forbidden");
    let gone = app
        .operator
        .send(
            app.operator
                .request(Method::DELETE, "/api/v1/tenants/doomed?confirm=doomed"),
        )
        .await;
    expect(Operator, OPERATOR, &gone, "delete tenant");
}
