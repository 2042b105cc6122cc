//! People log in with a password and get a server-side session: an HttpOnly, SameSite cookie
//! plus a CSRF token for changes. Failed logins all look alike, repeated failures lock the
//! account for a while, sessions expire, and logout ends one or all sessions.

use akta_testkit::{Client, Reply, TestApp, TestTenant};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::owner;
use sqlx::Executor;

const PASSWORD: &str = "Sommer in Witten 2026!";

/// A browser-like caller: sends the session cookie, and the CSRF token when asked to.
struct Browser {
    client: Client,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, csrf: bool) -> Reply {
        let mut rb = self
            .client
            .request(method, path)
            .header("cookie", format!("akta_session={}", self.cookie));
        if csrf {
            rb = rb.header("x-csrf-token", &self.csrf);
        }
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        self.client.send(rb).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, false).await
    }
}

async fn login(app: &TestApp, tenant: &str, username: &str, password: &str) -> Reply {
    app.anonymous()
        .post(
            "/api/v1/session",
            json!({"tenant": tenant, "username": username, "password": password}),
        )
        .await
}

async fn browser(app: &TestApp, tenant: &str, username: &str) -> Browser {
    let reply = login(app, tenant, username, PASSWORD).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let set_cookie = reply.header("set-cookie").expect("set-cookie").to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("akta_session="))
        .expect("cookie value")
        .to_owned();
    Browser {
        client: app.anonymous(),
        cookie,
        csrf: reply.body["csrf_token"].as_str().expect("csrf").to_owned(),
    }
}

async fn create_user(tenant: &TestTenant, username: &str, role: &str) -> String {
    let reply = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": username, "display_name": "Anna Muster", "role": role, "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(
        reply.body.get("password_hash").is_none(),
        "hash leaked: {}",
        reply.body
    );
    reply.id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_reads_and_with_the_csrf_token_writes() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "anna", "clerk").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let anna = browser(&app, "witten", "Anna").await;

    let me = anna.get("/api/v1/session").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user"]["username"], "anna");
    assert_eq!(me.body["user"]["role"], "clerk");
    assert_eq!(me.body["tenant"]["slug"], "witten");
    assert_eq!(anna.get("/api/v1/files").await.status, 200);

    let new_file = json!({"plan_unit_id": unit, "subject": "Bauantrag"});
    anna.send(Method::POST, "/api/v1/files", Some(new_file.clone()), false)
        .await
        .assert_problem(403, "csrf_failed");
    let wrong = Browser {
        csrf: "falsch".into(),
        ..browser(&app, "witten", "anna").await
    };
    wrong
        .send(Method::POST, "/api/v1/files", Some(new_file.clone()), true)
        .await
        .assert_problem(403, "csrf_failed");
    let created = anna
        .send(Method::POST, "/api/v1/files", Some(new_file), true)
        .await;
    assert_eq!(created.status, 201, "{}", created.body);

    // The audit trail names the person, not a token.
    let history = tenant
        .admin
        .get(&format!("/api/v1/files/{}/history", created.id()))
        .await;
    assert_eq!(history.body["items"][0]["actor"], "user:anna");

    let out = anna
        .send(Method::DELETE, "/api/v1/session", None, true)
        .await;
    assert_eq!(out.status, 204);
    assert!(out
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));
    anna.get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_do_not_reveal_whether_the_user_exists() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "anna", "clerk").await;
    let answers = [
        login(&app, "witten", "anna", "falsches Passwort!!").await,
        login(&app, "witten", "niemand", PASSWORD).await,
        login(&app, "gibtsnicht", "anna", PASSWORD).await,
    ];
    for reply in &answers {
        reply.assert_problem(401, "login_failed");
        assert_eq!(reply.body, answers[0].body);
        assert!(reply.header("set-cookie").is_none());
    }
    // Another tenant's user cannot log in under this tenant.
    let herdecke = app.create_tenant("herdecke").await;
    create_user(&herdecke, "bert", "clerk").await;
    login(&app, "witten", "bert", PASSWORD)
        .await
        .assert_problem(401, "login_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_account_until_an_admin_resets_it() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let anna_id = create_user(&tenant, "anna", "clerk").await;
    for _ in 0..5 {
        login(&app, "witten", "anna", "falsches Passwort!!")
            .await
            .assert_problem(401, "login_failed");
    }
    // Locked: even the right password is refused, with the same answer as any failure.
    let locked = login(&app, "witten", "anna", PASSWORD).await;
    locked.assert_problem(401, "login_failed");
    let user = tenant.admin.get(&format!("/api/v1/users/{anna_id}")).await;
    assert!(user.body["locked_until"].is_string(), "{}", user.body);

    // The audit log shows the failures, including the lock.
    let mut conn = owner(&app, tenant.id).await;
    let (failures, locks): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE (after->>'locked')::bool)
           FROM audit_events WHERE action = 'login.failed'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("audit");
    assert_eq!((failures, locks), (6, 1));

    let reset = tenant
        .admin
        .patch(
            &format!("/api/v1/users/{anna_id}"),
            None,
            json!({"password": "Ein neues, langes Passwort"}),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(
        login(&app, "witten", "anna", "Ein neues, langes Passwort")
            .await
            .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_at_their_end() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "anna", "reader").await;
    let idle = browser(&app, "witten", "anna").await;
    let old = browser(&app, "witten", "anna").await;
    let mut conn = owner(&app, tenant.id).await;
    // Let time pass for the sessions: one idle for an hour, one past its absolute end.
    conn.execute(
        "UPDATE sessions SET last_seen_at = now() - interval '1 hour'
          WHERE id = (SELECT id FROM sessions ORDER BY id LIMIT 1)",
    )
    .await
    .expect("idle");
    conn.execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second'
          WHERE id = (SELECT id FROM sessions ORDER BY id DESC LIMIT 1)",
    )
    .await
    .expect("expire");
    idle.get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    old.get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    let fresh = browser(&app, "witten", "anna").await;
    assert_eq!(fresh.get("/api/v1/files").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_everywhere_and_permission_changes_end_all_sessions() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let anna_id = create_user(&tenant, "anna", "clerk").await;
    let laptop = browser(&app, "witten", "anna").await;
    let phone = browser(&app, "witten", "anna").await;
    let all = laptop
        .send(Method::POST, "/api/v1/session/logout-all", None, true)
        .await;
    assert_eq!(all.status, 204);
    phone
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    laptop
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");

    let again = browser(&app, "witten", "anna").await;
    let demoted = tenant
        .admin
        .patch(
            &format!("/api/v1/users/{anna_id}"),
            None,
            json!({"role": "reader"}),
        )
        .await;
    assert_eq!(demoted.body["role"], "reader", "{}", demoted.body);
    again
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");

    let disabled = tenant
        .admin
        .patch(
            &format!("/api/v1/users/{anna_id}"),
            None,
            json!({"disabled": true}),
        )
        .await;
    assert!(disabled.body["disabled_at"].is_string());
    login(&app, "witten", "anna", PASSWORD)
        .await
        .assert_problem(401, "login_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_roles_limit_what_a_session_may_do() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    create_user(&tenant, "leser", "reader").await;
    create_user(&tenant, "archiv", "archivist").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    for name in ["leser", "archiv"] {
        let b = browser(&app, "witten", name).await;
        assert_eq!(b.get("/api/v1/plan-units").await.status, 200);
        b.send(
            Method::POST,
            "/api/v1/files",
            Some(json!({"plan_unit_id": unit, "subject": "x"})),
            true,
        )
        .await
        .assert_problem(403, "forbidden");
        b.get("/api/v1/users")
            .await
            .assert_problem(403, "forbidden");
    }
    // Weak passwords and bad usernames are refused when creating users.
    let weak = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "bert", "display_name": "Bert", "role": "clerk", "password": "kurz"}),
        )
        .await;
    weak.assert_problem(422, "validation_failed");
    assert_eq!(weak.body["field"], "password");
    let bad = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "b/../x", "display_name": "Bert", "role": "clerk"}),
        )
        .await;
    assert_eq!(bad.body["field"], "username");
}
