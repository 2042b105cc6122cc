//! Onboarding a town and the operator console (issue 13): the built-in Aktenplan template
//! imports as a tree whose codes extend their parents'; published templates reach every
//! tenant; the first admin's invitation works once and not after it expired; console pages
//! and actions need an operator's console session and its CSRF token (a tenant session gets
//! nothing); deleting needs the typed slug.

use crate::browser::{Browser, Page};
use std::collections::HashMap;

use akta_testkit::{Client, TestApp};
use serde_json::{json, Value};

const PASSWORD: &str = "Winter in Witten 2026!";

impl Browser {
    /// Logs into the console as `username` (created beforehand).
    async fn console_login(&mut self, username: &str) {
        let form = self.get("/betrieb/anmelden").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        let done = self
            .post(
                "/betrieb/anmelden",
                &[
                    ("csrf_token", &csrf),
                    ("username", username),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location(), "/betrieb/mandanten");
        assert!(self.cookies.contains_key("akta_betrieb"));
    }
}

/// Onboards `slug` through the operator API, from the built-in template, inviting an admin.
async fn onboard(app: &TestApp, slug: &str) -> Value {
    let r = app
        .operator
        .post(
            "/api/v1/tenants",
            json!({"slug": slug, "name": format!("Stadt {slug}"), "plan_template": "kgst-kommunal",
                   "admin_email": format!("it@{slug}.example"), "accent_color": "#005a9c"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

/// (code, parent's code) of every unit of the tenant's plan.
async fn plan_codes(admin: &Client) -> Vec<(String, Option<String>)> {
    let r = admin.get("/api/v1/plan-units?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["next_cursor"].is_null(), "the plan fits one page");
    let items = r.body["items"].as_array().expect("items");
    let code_of: HashMap<&str, &str> = items
        .iter()
        .map(|u| {
            (
                u["id"].as_str().expect("id"),
                u["code"].as_str().expect("code"),
            )
        })
        .collect();
    items
        .iter()
        .map(|u| {
            (
                u["code"].as_str().expect("code").to_owned(),
                u["parent_id"].as_str().map(|p| code_of[p].to_owned()),
            )
        })
        .collect()
}

/// A child's code is its parent's plus one level: `6` → `63` → `63.01`.
fn extends_by_one_level(child: &str, parent: &str) -> bool {
    let Some(rest) = child.strip_prefix(parent) else {
        return false;
    };
    let sep = |c: char| matches!(c, '.' | '-' | '_');
    match rest.chars().next() {
        None => false,
        Some(c) if sep(c) => !rest[1..].is_empty() && !rest[1..].contains(sep),
        Some(_) => !rest.contains(sep),
    }
}

#[tokio::test]
async fn the_template_import_yields_the_plan_with_valid_parent_and_child_codes() {
    let app = TestApp::spawn().await;
    let body = onboard(&app, "herdecke").await;
    let created = body["plan"]["created"]
        .as_array()
        .expect("plan report")
        .len();
    assert!((60..=140).contains(&created), "{created} units");
    let admin = app.operator.with_token(body["admin_token"].as_str());
    let codes = plan_codes(&admin).await;
    assert_eq!(codes.len(), created);
    for (code, parent) in &codes {
        match parent {
            Some(p) => assert!(extends_by_one_level(code, p), "{code} under {p}"),
            None => assert_eq!(code.len(), 1, "top level {code}"),
        }
    }
    for (code, parent) in [
        ("10", "1"),
        ("20", "2"),
        ("32", "3"),
        ("33", "3"),
        ("40", "4"),
        ("50", "5"),
        ("51", "5"),
        ("61", "6"),
        ("63", "6"),
        ("63.01", "63"),
    ] {
        assert!(
            codes.contains(&(code.to_owned(), Some(parent.to_owned()))),
            "{code} under {parent}"
        );
    }

    // An existing tenant imports it as its admin: everything is there already.
    let again = admin
        .post(
            "/api/v1/plan-units/import-template",
            json!({"template": "kgst-kommunal"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["created"], json!([]));
    assert_eq!(again.body["unchanged"], json!(created));

    // The operator publishes a plan; a child that skips a level is refused with its line.
    let bad = app
        .operator
        .post(
            "/api/v1/plan-templates",
            json!({"name": "bauamt", "title": "Bauamt", "csv": "code;title\n6;Bauwesen\n63.01;Baugenehmigungen\n"}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("Zeile 3"),
        "{}",
        bad.body
    );
    let csv = "code;title;retention_years;disposition\n6;Bauwesen;30;B\n63;Bauordnung;;\n63.01;Baugenehmigungen;;A\n";
    let published = app
        .operator
        .post(
            "/api/v1/plan-templates",
            json!({"name": "bauamt", "title": "Bauamt kompakt", "csv": csv}),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    // Only the operator publishes.
    let by_admin = admin
        .post(
            "/api/v1/plan-templates",
            json!({"name": "eigener", "title": "Eigener", "csv": csv}),
        )
        .await;
    by_admin.assert_problem(403, "forbidden");

    // Every tenant lists and imports it.
    let other = app.create_tenant("wetter").await;
    let list = other.admin.get("/api/v1/plan-templates").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["kgst-kommunal", "bauamt"]);
    let imported = other
        .admin
        .post(
            "/api/v1/plan-units/import-template",
            json!({"template": "bauamt"}),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert_eq!(imported.body["created"], json!(["6", "63", "63.01"]));
    let unit = other.admin.get("/api/v1/plan-units?limit=200").await.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["code"] == "63.01")
        .cloned()
        .expect("63.01");
    assert_eq!(unit["retention_years"], json!(30), "inherited from 6");
    assert_eq!(unit["disposition"], "A");
    let unknown = other
        .admin
        .post(
            "/api/v1/plan-units/import-template",
            json!({"template": "gibt-es-nicht"}),
        )
        .await;
    unknown.assert_problem(404, "not_found");
    // A clerk imports nothing.
    let clerk = app.client(&other, "clerk").await;
    clerk
        .post(
            "/api/v1/plan-units/import-template",
            json!({"template": "bauamt"}),
        )
        .await
        .assert_problem(403, "forbidden");
}

/// Opens an invitation and sets the password; the page's answer.
async fn accept(browser: &mut Browser, path: &str, username: &str) -> Page {
    let form = browser.get(path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    browser
        .post(
            path,
            &[
                ("csrf_token", &csrf),
                ("display_name", "Ines Iversen"),
                ("username", username),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await
}

#[tokio::test]
async fn an_invitation_is_single_use_and_expires() {
    let app = TestApp::spawn().await;
    let body = onboard(&app, "sprockhoevel").await;
    let path = body["invitation_path"]
        .as_str()
        .expect("invitation")
        .to_owned();
    let mut browser = Browser::new(&app);
    let done = accept(&mut browser, &path, "ines").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/arbeitsplatz");
    // Logged in as the tenant's admin, with the tenant's branding in the header.
    let desk = browser.get("/arbeitsplatz").await;
    assert_eq!(desk.status, 200, "{}", desk.body);
    assert!(desk.body.contains("Ines Iversen"));
    assert!(desk.body.contains("/branding/theme.css"), "accent colour");
    assert!(
        desk.body.contains("/verwaltung/erscheinungsbild"),
        "admin navigation"
    );

    // Used once, never again: not for another person, not for the same.
    let mut stranger = Browser::new(&app);
    let page = stranger.get(&path).await;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("bereits verwendet"));
    assert!(!page.body.contains("invitation-form"));
    let again = stranger
        .post(
            &path,
            &[
                ("csrf_token", "x"),
                ("display_name", "Mallory"),
                ("username", "mallory"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert!(
        !stranger.cookies.contains_key("akta_session"),
        "{}",
        again.body
    );
    let tenant = app
        .core
        .tenant_by_slug("sprockhoevel")
        .await
        .expect("tenant");
    let users = app.operator.with_token(body["admin_token"].as_str());
    let people = users.get("/api/v1/users").await;
    assert_eq!(
        people.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        people.body
    );

    // A second invitation expires: after its 7 days it lets nobody in.
    let second = app
        .operator
        .post(
            "/api/v1/tenants/sprockhoevel/invitations",
            json!({"email": "zweite@sprockhoevel.example", "role": "clerk"}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let second_path = second.body["path"].as_str().expect("path").to_owned();
    let mut conn = crate::common::owner(&app, tenant.id).await;
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(uuid::Uuid::parse_str(second.id().as_str()).expect("id"))
        .execute(&mut conn)
        .await
        .expect("expire the invitation");
    let mut late = Browser::new(&app);
    let page = late.get(&second_path).await;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("abgelaufen"));
    let csrf = {
        // The expired page has no form; a forged post still gets nothing.
        late.cookies
            .get("akta_login_csrf")
            .cloned()
            .unwrap_or_default()
    };
    let refused = late
        .post(
            &second_path,
            &[
                ("csrf_token", &csrf),
                ("display_name", "Zu Spät"),
                ("username", "zuspaet"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 410, "{}", refused.body);
    assert!(!late.cookies.contains_key("akta_session"));

    // A token that names nothing is a 404 page; only the operator invites.
    let missing = late
        .get("/einladung/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(missing.status, 404);
    users
        .post(
            "/api/v1/tenants/sprockhoevel/invitations",
            json!({"email": "x@example.org"}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn console_actions_refuse_a_tenant_session_and_posts_without_csrf() {
    let app = TestApp::spawn().await;
    app.core
        .create_operator("betrieb", PASSWORD)
        .await
        .expect("operator");
    let body = onboard(&app, "wetter").await;
    let path = body["invitation_path"]
        .as_str()
        .expect("invitation")
        .to_owned();

    // A tenant admin's session (with its CSRF token) gets no console page and no action.
    let mut tenant_admin = Browser::new(&app);
    let done = accept(&mut tenant_admin, &path, "ines").await;
    assert_eq!(done.status, 303, "{}", done.body);
    let desk = tenant_admin.get("/arbeitsplatz").await;
    let tenant_csrf = desk.csrf();
    let page = tenant_admin.get("/betrieb/mandanten").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/betrieb/anmelden");
    let suspend = tenant_admin
        .post(
            "/betrieb/mandanten/wetter/status",
            &[("csrf_token", &tenant_csrf), ("action", "sperren")],
        )
        .await;
    assert_eq!(suspend.status, 303);
    assert_eq!(suspend.location(), "/betrieb/anmelden");
    let status = |app: &TestApp| {
        let core = app.core.clone();
        async move { core.tenant_by_slug("wetter").await.expect("tenant").status }
    };
    assert_eq!(status(&app).await, "active");

    // The operator's console session without its CSRF token changes nothing either.
    let mut operator = Browser::new(&app);
    operator.console_login("betrieb").await;
    let list = operator.get("/betrieb/mandanten").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("data-slug=\"wetter\""));
    let forged = operator
        .post("/betrieb/mandanten/wetter/status", &[("action", "sperren")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = operator
        .post(
            "/betrieb/mandanten/wetter/status",
            &[("csrf_token", &tenant_csrf), ("action", "sperren")],
        )
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert_eq!(status(&app).await, "active");

    // With it, the same action as `PATCH /api/v1/tenants/{slug}`: the tenant is locked out.
    let page = operator.get("/betrieb/mandanten/wetter").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Prüfkette intakt"), "audit status");
    let csrf = page.csrf();
    let ok = operator
        .post(
            "/betrieb/mandanten/wetter/status",
            &[("csrf_token", &csrf), ("action", "sperren")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(status(&app).await, "suspended");
    let locked_out = tenant_admin.get("/arbeitsplatz").await;
    assert_ne!(locked_out.status, 200);
    let ok = operator
        .post(
            "/betrieb/mandanten/wetter/status",
            &[("csrf_token", &csrf), ("action", "entsperren")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(status(&app).await, "active");

    // Quotas through the console are the operator API's quotas.
    let quota = operator
        .post(
            "/betrieb/mandanten/wetter/kontingent",
            &[
                ("csrf_token", &csrf),
                ("max_storage_bytes", "1000000"),
                ("max_documents", ""),
                ("requests_per_minute", "600"),
            ],
        )
        .await;
    assert_eq!(quota.status, 303, "{}", quota.body);
    let listed = app.operator.get("/api/v1/tenants").await;
    let wetter = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["slug"] == "wetter")
        .cloned()
        .expect("wetter");
    assert_eq!(wetter["quota"]["max_storage_bytes"], json!(1_000_000));
    assert_eq!(wetter["quota"]["requests_per_minute"], json!(600));

    // Logged out, the console session is gone.
    let out = operator
        .post("/betrieb/abmelden", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(operator.get("/betrieb/mandanten").await.status, 303);
}

#[tokio::test]
async fn a_non_operator_gets_no_console_page() {
    let app = TestApp::spawn().await;
    app.core
        .create_operator("betrieb", PASSWORD)
        .await
        .expect("operator");
    app.create_tenant("hattingen").await;
    let mut anonymous = Browser::new(&app);
    for path in [
        "/betrieb",
        "/betrieb/mandanten",
        "/betrieb/mandanten/neu",
        "/betrieb/mandanten/hattingen",
        "/betrieb/aktenplaene",
    ] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert!(page.location().starts_with("/betrieb"), "{path}");
        assert!(!page.body.contains("hattingen"), "{path}");
    }
    assert_eq!(
        anonymous.get("/betrieb/mandanten").await.location(),
        "/betrieb/anmelden"
    );
    // An operator token is for the REST API, not a console session.
    let token = app.operator.token.clone().expect("operator token");
    let page = anonymous
        .send(
            anonymous
                .http
                .get(format!("{}/betrieb/mandanten", app.base_url))
                .bearer_auth(token),
        )
        .await;
    assert_eq!(page.status, 303);
    // A wrong password gets the login page again, and no session.
    let form = anonymous.get("/betrieb/anmelden").await;
    let csrf = form.csrf();
    let failed = anonymous
        .post(
            "/betrieb/anmelden",
            &[
                ("csrf_token", &csrf),
                ("username", "betrieb"),
                ("password", "falsch falsch falsch"),
            ],
        )
        .await;
    assert_eq!(failed.status, 401);
    assert!(!anonymous.cookies.contains_key("akta_betrieb"));
    // A tenant's user of the same name is no operator.
    let tenant = app.create_tenant("witten").await;
    let user = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "betrieb2", "display_name": "B", "role": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let form = anonymous.get("/betrieb/anmelden").await;
    let csrf = form.csrf();
    let failed = anonymous
        .post(
            "/betrieb/anmelden",
            &[
                ("csrf_token", &csrf),
                ("username", "betrieb2"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(failed.status, 401);
}

#[tokio::test]
async fn deleting_a_tenant_requires_its_typed_slug() {
    let app = TestApp::spawn().await;
    app.core
        .create_operator("betrieb", PASSWORD)
        .await
        .expect("operator");
    app.create_tenant("breckerfeld").await;
    let mut operator = Browser::new(&app);
    operator.console_login("betrieb").await;
    let page = operator.get("/betrieb/mandanten/breckerfeld").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    for typed in ["", "Breckerfeld", "breckerfel", "hattingen"] {
        let refused = operator
            .post(
                "/betrieb/mandanten/breckerfeld/loeschen",
                &[("csrf_token", &csrf), ("confirm", typed)],
            )
            .await;
        assert_eq!(refused.status, 422, "{typed}: {}", refused.body);
        assert!(refused.body.contains("Nicht gelöscht"));
    }
    let tenant = app
        .core
        .tenant_by_slug("breckerfeld")
        .await
        .expect("tenant");
    assert_eq!(tenant.status, "active");
    let done = operator
        .post(
            "/betrieb/mandanten/breckerfeld/loeschen",
            &[("csrf_token", &csrf), ("confirm", "breckerfeld")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let tenant = app
        .core
        .tenant_by_slug("breckerfeld")
        .await
        .expect("tenant");
    assert_eq!(tenant.status, "deleted");
}

#[tokio::test]
async fn the_console_onboards_a_town_and_refuses_bad_input_next_to_its_field() {
    let app = TestApp::spawn().await;
    app.core
        .create_operator("betrieb", PASSWORD)
        .await
        .expect("operator");
    let mut operator = Browser::new(&app);
    operator.console_login("betrieb").await;
    let form = operator.get("/betrieb/mandanten/neu").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let (http, base) = (operator.http.clone(), app.base_url.clone());
    let post = |fields: Vec<(&'static str, String)>, logo: Option<Vec<u8>>| {
        let mut multipart = reqwest::multipart::Form::new().text("csrf_token", csrf.clone());
        for (k, v) in fields {
            multipart = multipart.text(k, v);
        }
        if let Some(bytes) = logo {
            multipart = multipart.part(
                "logo",
                reqwest::multipart::Part::bytes(bytes).file_name("wappen.svg"),
            );
        }
        http.post(format!("{base}/betrieb/mandanten/neu"))
            .multipart(multipart)
    };
    let fields = |slug: &str, colour: &str| {
        vec![
            ("name", "Stadt Ennepetal".to_owned()),
            ("slug", slug.to_owned()),
            ("plan", "kgst-kommunal".to_owned()),
            ("accent_color", colour.to_owned()),
            ("host_name", "akta.ennepetal.example".to_owned()),
            ("admin_email", "it@ennepetal.example".to_owned()),
        ]
    };
    // Too light a colour: the form again, the message at its field, nothing created.
    let rb = post(fields("ennepetal", "#ffff00"), None);
    let again = operator.send(rb).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("accent_color-error"));
    assert!(app.core.tenant_by_slug("ennepetal").await.is_err());
    // A script in place of an image is no coat of arms.
    let rb = post(
        fields("ennepetal", "#005a9c"),
        Some(b"<html><script>alert(1)</script>".to_vec()),
    );
    let again = operator.send(rb).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("logo-error"));
    // Right: created with plan, branding (an SVG coat of arms) and the invitation link.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\" fill=\"#005a9c\"/></svg>".to_vec();
    let rb = post(fields("ennepetal", "#005a9c"), Some(svg));
    let created = operator.send(rb).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains("/einladung/"));
    assert_eq!(
        created
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    // The coat of arms is served as a sandboxed image only.
    let logo = app.anonymous().get("/t/ennepetal/wappen").await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type"), Some("image/svg+xml"));
    assert!(logo
        .header("content-security-policy")
        .unwrap_or("")
        .contains("sandbox"));
    // The same slug twice: refused at its field.
    let rb = post(fields("ennepetal", "#005a9c"), None);
    let twice = operator.send(rb).await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(twice.body.contains("slug-error"));
    // The town's own host name picks its login page.
    let login = app
        .anonymous()
        .send(
            app.anonymous()
                .request(reqwest::Method::GET, "/anmelden")
                .header("host", "akta.ennepetal.example"),
        )
        .await;
    assert_eq!(login.status, 200);
    let html = String::from_utf8_lossy(&login.bytes).into_owned();
    assert!(
        html.contains("name=\"tenant\" value=\"ennepetal\""),
        "{html}"
    );
}

#[tokio::test]
async fn an_invitation_of_a_town_with_openid_connect_leads_to_its_provider() {
    let app = TestApp::spawn().await;
    let body = onboard(&app, "hattingen").await;
    let path = body["invitation_path"]
        .as_str()
        .expect("invitation")
        .to_owned();
    let admin = app.operator.with_token(body["admin_token"].as_str());
    let configured = admin
        .send(
            admin
                .request(reqwest::Method::PUT, "/api/v1/oidc")
                .json(&json!({
            "issuer": "https://idp.example", "client_id": "akta", "client_secret": "s3cr3t",
            "role_claim": "groups", "role_mapping": {"IT": "admin"}})),
        )
        .await;
    assert_eq!(configured.status, 200, "{}", configured.body);
    let mut browser = Browser::new(&app);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("/auth/oidc/hattingen/login"));
    assert!(!page.body.contains("invitation-form"));
    // No password is set behind the page's back either.
    let csrf = browser
        .cookies
        .get("akta_login_csrf")
        .cloned()
        .unwrap_or_default();
    let forged = browser
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("display_name", "Ines Iversen"),
                ("username", "ines"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_ne!(forged.status, 303, "{}", forged.body);
    assert!(!browser.cookies.contains_key("akta_session"));
    let people = admin.get("/api/v1/users").await;
    assert_eq!(people.body["items"], json!([]), "{}", people.body);
}

/// The console's usage page and its CSV show what a town did, the same figures as the
/// operator API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_each_towns_usage_and_exports_it_as_csv() {
    let app = TestApp::spawn().await;
    app.core
        .create_operator("betrieb", PASSWORD)
        .await
        .expect("operator");
    let t = app.create_tenant("sprockhoevel").await;
    let unit = t.admin.create_plan_unit("10", None).await; // 1
    let file = t.admin.create_file(&unit, "Haushalt").await.id(); // 2
    t.admin
        .upload_document(
            &format!("/api/v1/files/{file}"),
            "Plan",
            b"0123456789".to_vec(),
        )
        .await; // 3
    let mut operator = Browser::new(&app);
    operator.console_login("betrieb").await;
    let page = operator.get("/betrieb/nutzung").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row = page
        .body
        .split("data-testid=\"usage-row\" data-slug=\"sprockhoevel\"")
        .nth(1)
        .expect("the town's row")
        .split("</tr>")
        .next()
        .expect("row");
    assert!(row.contains("data-testid=\"usage-documents\">1<"), "{row}");
    assert!(row.contains("data-testid=\"usage-api\">3<"), "{row}");
    let month = {
        let d = akta_domain::german::today();
        format!("{:04}-{:02}", d.year(), u8::from(d.month()))
    };
    let csv = operator
        .get(&format!("/betrieb/nutzung.csv?monat={month}"))
        .await;
    assert_eq!(csv.status, 200);
    let line = csv
        .body
        .lines()
        .find(|l| l.contains("\"sprockhoevel\""))
        .expect("csv line");
    let cells: Vec<&str> = line.split(',').collect();
    assert_eq!(&cells[4..7], ["1", "1", "10"], "{line}");
    assert_eq!(cells[11], "3", "{line}");
    // A town's own session opens no usage page.
    let anonymous = Browser::new(&app).get("/betrieb/nutzung").await;
    assert_ne!(anonymous.status, 200);
}
