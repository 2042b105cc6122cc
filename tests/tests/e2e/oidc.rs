//! OpenID Connect login against a real OpenID provider: the npm package `oidc-provider`,
//! started per test on loopback from `tests/oidc-provider/server.js`.
//!
//! The test plays the browser: a cookie-keeping client that follows every redirect itself,
//! so it can stop at Akta's callback and tamper with it. The provider has no login form: at
//! its interaction URL, `?account=<id>` logs that account in and consent is automatic.
//! Without Node.js the tests say so and pass.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use akta_testkit::{TestApp, TestTenant};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET_A: &str = "geheim-herdecke-0123456789";
const SECRET_B: &str = "geheim-wetter-9876543210";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// Installs the fixture's npm packages once per test process (`npm ci`, from the lock file).
fn npm_ready() -> Result<(), String> {
    static READY: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = fixture_dir();
            if dir.join("node_modules/oidc-provider/package.json").exists() {
                return Ok(());
            }
            let status = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .map_err(|e| format!("npm not runnable: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("npm ci in {} failed: {status}", dir.display()))
            }
        })
        .clone()
}

/// A running OpenID provider; killed when dropped.
struct Provider {
    url: String,
    _child: Child,
}

impl Provider {
    /// Starts the provider with two clients: `akta-herdecke` (RS256, client_secret_basic)
    /// for tenant `herdecke` and `akta-wetter` (ES256, client_secret_post) for `wetter`.
    /// `None` when Node.js is not installed.
    async fn start(app: &TestApp) -> Option<Provider> {
        Provider::start_with(app, 0, Vec::new()).await
    }

    /// [`Provider::start`] on `port` (0: any free one) with `extra` clients besides the two.
    async fn start_with(app: &TestApp, port: u16, extra: Vec<Value>) -> Option<Provider> {
        if std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!(
                "SKIPPED: Node.js is not installed; the OIDC tests need it for oidc-provider"
            );
            return None;
        }
        if let Err(e) = npm_ready() {
            panic!("the OIDC test provider cannot be installed: {e}");
        }
        let mut clients = json!([
            {
                "client_id": "akta-herdecke",
                "client_secret": SECRET_A,
                "redirect_uris": [format!("{}/auth/oidc/herdecke/callback", app.base_url)],
            },
            {
                "client_id": "akta-wetter",
                "client_secret": SECRET_B,
                "redirect_uris": [format!("{}/auth/oidc/wetter/callback", app.base_url)],
                "id_token_signed_response_alg": "ES256",
                "token_endpoint_auth_method": "client_secret_post",
            },
        ]);
        clients.as_array_mut().expect("client list").extend(extra);
        let mut child = Command::new("node")
            .arg("server.js")
            .arg(port.to_string())
            .current_dir(fixture_dir())
            .env("OIDC_CLIENTS", clients.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting node server.js");
        // The provider's complaints end up in the test's output.
        let stderr = child.stderr.take().expect("stderr");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[oidc-provider] {line}");
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = stdout.next_line().await.expect("provider stdout") {
                if let Some(url) = line.strip_prefix("OIDC_PROVIDER_URL=") {
                    return url.to_owned();
                }
            }
            panic!("the provider exited before it was ready");
        })
        .await
        .expect("the provider did not start within 30 s");
        // Keep reading: the provider writes notices to stdout later, and a closed pipe kills it.
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                eprintln!("[oidc-provider] {line}");
            }
        });
        Some(Provider { url, _child: child })
    }

    /// Replaces the claims of one of the provider's accounts.
    async fn set_claims(&self, account: &str, claims: Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/test/accounts/{account}", self.url))
            .json(&claims)
            .send()
            .await
            .expect("provider reachable");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
}

/// An answer as the browser saw it.
struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

/// A browser: keeps cookies (Akta's and the provider's), follows no redirect on its own.
struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    async fn get(&self, url: &str) -> Page {
        self.send(self.http.get(url)).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let response = request.send().await.expect("request");
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("location").to_owned());
        let set_cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("cookie").to_owned())
            .collect();
        let body = response.text().await.expect("body");
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    /// Starts a login at Akta and follows the redirects through the provider, logging in
    /// as `account`, up to Akta's callback. Returns the callback URL, not yet visited.
    async fn authorize(
        &self,
        app: &TestApp,
        provider: &Provider,
        slug: &str,
        account: &str,
    ) -> String {
        let start = format!("{}/auth/oidc/{slug}/login", app.base_url);
        let callback = format!("{}/auth/oidc/{slug}/callback", app.base_url);
        self.authorize_at(&start, &callback, provider, account)
            .await
    }

    /// Starts a login at `start` and follows the redirects through the provider as
    /// `account`, up to the URL beginning with `callback`, which it returns unvisited.
    async fn authorize_at(
        &self,
        start: &str,
        callback: &str,
        provider: &Provider,
        account: &str,
    ) -> String {
        let start = self.get(start).await;
        assert_eq!(
            start.status,
            StatusCode::FOUND,
            "login start: {}",
            start.body
        );
        let mut url = Url::parse(start.location.as_deref().expect("location")).expect("url");
        assert!(
            url.as_str().starts_with(&provider.url),
            "not sent to the provider: {url}"
        );
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("code_challenge_method"), Some("S256"));
        assert_eq!(param("response_type"), Some("code"));
        for name in ["state", "nonce", "code_challenge"] {
            assert!(
                param(name).is_some_and(|v| v.len() >= 43),
                "{name} missing or short"
            );
        }
        for _ in 0..10 {
            if url.path().starts_with("/interaction/") {
                url.query_pairs_mut().append_pair("account", account);
            }
            let page = self.get(url.as_str()).await;
            assert!(
                page.status.is_redirection(),
                "provider answered {} at {url}: {}",
                page.status,
                page.body
            );
            let next = url
                .join(page.location.as_deref().expect("location"))
                .expect("redirect url");
            if next.as_str().starts_with(callback) {
                return next.into();
            }
            url = next;
        }
        panic!("no way back to Akta within 10 redirects");
    }

    /// A whole login: authorize, then visit the callback.
    async fn login(&self, app: &TestApp, provider: &Provider, slug: &str, account: &str) -> Page {
        let callback = self.authorize(app, provider, slug, account).await;
        self.get(&callback).await
    }

    async fn session(&self, app: &TestApp) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/api/v1/session", app.base_url))
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The tenant admin's OIDC configuration for `provider`.
fn config(provider: &Provider, client_id: &str, secret: &str) -> Value {
    json!({
        "issuer": provider.url,
        "client_id": client_id,
        "client_secret": secret,
        "scopes": "openid profile email akta",
        "role_claim": "akta_role",
        "role_mapping": {"sachbearbeitung": "clerk", "it": "admin", "archiv": "archivist"},
        "default_role": null,
    })
}

async fn configure(tenant: &TestTenant, body: Value) {
    let reply = tenant
        .admin
        .send(
            tenant
                .admin
                .request(reqwest::Method::PUT, "/api/v1/oidc")
                .json(&body),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Sets up tenant `herdecke` (and `wetter`) with the provider; `None` without Node.js.
async fn setup() -> Option<(TestApp, Provider, TestTenant, TestTenant)> {
    let app = TestApp::spawn().await;
    let provider = Provider::start(&app).await?;
    let a = app.create_tenant("herdecke").await;
    let b = app.create_tenant("wetter").await;
    configure(&a, config(&provider, "akta-herdecke", SECRET_A)).await;
    Some((app, provider, a, b))
}

/// `(action, after)` of a tenant's audit events whose action starts with `login`.
async fn login_events(app: &TestApp, tenant: &TestTenant) -> Vec<(String, Value)> {
    let mut db = PgConnection::connect(&app.owner_url)
        .await
        .expect("owner connection");
    // Row-level security is forced on the owner too: read as the tenant.
    sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
        .bind(tenant.id.to_string())
        .execute(&mut db)
        .await
        .expect("tenant scope");
    sqlx::query_as::<_, (String, Option<Value>)>(
        "SELECT action, after FROM audit_events
          WHERE tenant_id = $1 AND action LIKE 'login%' ORDER BY id",
    )
    .bind(tenant.id)
    .fetch_all(&mut db)
    .await
    .expect("audit query")
    .into_iter()
    .map(|(action, after)| (action, after.unwrap_or(Value::Null)))
    .collect()
}

async fn users(tenant: &TestTenant) -> Vec<Value> {
    let reply = tenant.admin.get("/api/v1/users").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["items"].as_array().expect("items").clone()
}

fn has_session_cookie(page: &Page) -> bool {
    page.set_cookies
        .iter()
        .any(|c| c.starts_with("akta_session=") && !c.starts_with("akta_session=;"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_oidc_login_provisions_the_user_and_later_logins_follow_the_role_claim() {
    let Some((app, provider, a, _)) = setup().await else {
        return;
    };
    let browser = Browser::new();
    let page = browser.login(&app, &provider, "herdecke", "anna").await;
    assert_eq!(page.status, StatusCode::FOUND, "callback: {}", page.body);
    assert_eq!(page.location.as_deref(), Some("/"));
    assert!(
        has_session_cookie(&page),
        "no session cookie: {:?}",
        page.set_cookies
    );

    let (status, session) = browser.session(&app).await;
    assert_eq!(status, 200, "{session}");
    let user = &session["user"];
    assert_eq!(
        user["username"], "anna.schmidt",
        "username from preferred_username"
    );
    assert_eq!(user["display_name"], "Anna Schmidt");
    assert_eq!(user["role"], "clerk");
    assert_eq!(user["oidc_subject"], "anna");
    assert_eq!(session["tenant"]["slug"], "herdecke");
    let anna_id = user["id"].clone();

    // The claim changes at the provider; the next login carries the new role.
    provider
        .set_claims(
            "anna",
            json!({"preferred_username": "anna.schmidt", "name": "Anna Schmidt-Weber",
                   "email": "anna@herdecke.example", "akta_role": ["kantine", "it"]}),
        )
        .await;
    let second = Browser::new();
    let page = second.login(&app, &provider, "herdecke", "anna").await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "second callback: {}",
        page.body
    );
    let (_, session) = second.session(&app).await;
    assert_eq!(
        session["user"]["id"], anna_id,
        "the same user, found by subject"
    );
    assert_eq!(session["user"]["role"], "admin");
    assert_eq!(session["user"]["display_name"], "Anna Schmidt-Weber");
    // A changed role ends the sessions opened under the old one.
    assert_eq!(browser.session(&app).await.0, 401);
    assert_eq!(users(&a).await.len(), 1, "the second login created no user");

    // The same browser logs in again without a provider prompt (its provider session lives).
    let page = second.login(&app, &provider, "herdecke", "ignored").await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "third callback: {}",
        page.body
    );

    let events = login_events(&app, &a).await;
    let actions: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["login.oidc_succeeded"; 3]);
    assert_eq!(events[0].1["subject"], "anna");
    assert_eq!(events[0].1["role"], "clerk");
    assert_eq!(events[1].1["role"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_whose_role_claim_maps_to_nothing_is_refused_and_provisions_nobody() {
    let Some((app, provider, a, _)) = setup().await else {
        return;
    };
    let browser = Browser::new();
    let page = browser.login(&app, &provider, "herdecke", "bob").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("keine Berechtigung"), "{}", page.body);
    assert!(!has_session_cookie(&page));
    assert_eq!(browser.session(&app).await.0, 401);
    assert!(users(&a).await.is_empty(), "a refused login created a user");
    let events = login_events(&app, &a).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "login.failed");
    assert_eq!(events[0].1["reason"], "no_role");
    assert_eq!(events[0].1["subject"], "bob");

    // With a default role the same account gets in, as a reader.
    let mut with_default = config(&provider, "akta-herdecke", SECRET_A);
    with_default["default_role"] = json!("reader");
    with_default
        .as_object_mut()
        .expect("object")
        .remove("client_secret");
    configure(&a, with_default).await;
    let page = browser.login(&app, &provider, "herdecke", "bob").await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let (_, session) = browser.session(&app).await;
    assert_eq!(session["user"]["role"], "reader");
    assert_eq!(session["user"]["username"], "bob.becker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_foreign_and_replayed_callbacks_are_refused() {
    let Some((app, provider, _, _)) = setup().await else {
        return;
    };
    let browser = Browser::new();
    let callback = browser.authorize(&app, &provider, "herdecke", "anna").await;
    let url = Url::parse(&callback).expect("url");
    let state: String = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state in callback");

    // A changed state is refused.
    let mut tampered = url.clone();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    tampered.query_pairs_mut().clear();
    for (k, v) in &pairs {
        let v = if k == "state" {
            format!("{v}x")
        } else {
            v.clone()
        };
        tampered.query_pairs_mut().append_pair(k, &v);
    }
    let page = browser.get(tampered.as_str()).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(!has_session_cookie(&page));

    // The genuine answer opened in another browser (no state cookie): refused, so nobody
    // can log a victim into the attacker's account by sending a link.
    let stranger = Browser::new();
    let page = stranger.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);

    // In the right browser it works, once.
    let page = browser.get(&callback).await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    assert!(has_session_cookie(&page));
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
    // Even with the state cookie put back, the server has used the state up.
    let with_cookie = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let replay = browser
        .send(
            with_cookie
                .get(&callback)
                .header(COOKIE, format!("akta_oidc_state={state}")),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
    assert!(!has_session_cookie(&replay));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_provider_configuration_and_logins_are_of_no_use_to_another() {
    let Some((app, provider, a, b)) = setup().await else {
        return;
    };
    // Not configured: no login, no configuration to read.
    let browser = Browser::new();
    let page = browser
        .get(&format!("{}/auth/oidc/wetter/login", app.base_url))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    b.admin
        .get("/api/v1/oidc")
        .await
        .assert_problem(404, "not_found");

    // A's login answer delivered to B's callback, state cookie included: B does not know it.
    configure(&b, config(&provider, "akta-wetter", SECRET_B)).await;
    let callback = browser.authorize(&app, &provider, "herdecke", "anna").await;
    let url = Url::parse(&callback).expect("url");
    let state: String = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let foreign = format!(
        "{}/auth/oidc/wetter/callback?{}",
        app.base_url,
        url.query().expect("query")
    );
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = browser
        .send(
            plain
                .get(&foreign)
                .header(COOKIE, format!("akta_oidc_state={state}")),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert!(users(&b).await.is_empty());

    // B's own provider client (ES256 tokens, client_secret_post) logs carla into B only.
    let carla = Browser::new();
    let page = carla.login(&app, &provider, "wetter", "carla").await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let (_, session) = carla.session(&app).await;
    assert_eq!(session["tenant"]["slug"], "wetter");
    assert_eq!(
        session["user"]["role"], "archivist",
        "list claim ['gast', 'archiv']"
    );
    assert_eq!(
        session["user"]["username"], "carla.clausen@wetter.example",
        "no preferred_username: the email is the username"
    );
    assert!(users(&a).await.is_empty(), "carla appeared in herdecke");

    // B's configuration is B's: A's admin reads A's, and nobody reads a secret.
    let reply = a.admin.get("/api/v1/oidc").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["client_id"], "akta-herdecke");
    assert_eq!(reply.body["client_secret_set"], true);
    assert!(reply.body.get("client_secret").is_none(), "{}", reply.body);
    assert!(!reply.body.to_string().contains(SECRET_A));
    assert_eq!(
        reply.body["redirect_uri"],
        format!("{}/auth/oidc/herdecke/callback", app.base_url)
    );
    let reply = b.admin.get("/api/v1/oidc").await;
    assert_eq!(reply.body["client_id"], "akta-wetter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tenant_admins_configure_oidc_and_bad_settings_name_their_field() {
    let app = TestApp::spawn().await;
    let a = app.create_tenant("herdecke").await;
    let put = |client: &akta_testkit::Client, body: Value| {
        let client = client.clone();
        async move {
            client
                .send(
                    client
                        .request(reqwest::Method::PUT, "/api/v1/oidc")
                        .json(&body),
                )
                .await
        }
    };
    let good = json!({"issuer": "https://idp.example", "client_id": "akta",
                      "client_secret": "s3cr3t", "role_claim": "groups",
                      "role_mapping": {"Bauamt": "clerk"}});
    let clerk = app.client(&a, "clerk").await;
    put(&clerk, good.clone())
        .await
        .assert_problem(403, "forbidden");
    put(&app.anonymous(), good.clone())
        .await
        .assert_problem(401, "unauthorized");

    let mut no_secret = good.clone();
    no_secret
        .as_object_mut()
        .expect("object")
        .remove("client_secret");
    let cases = [
        (no_secret, "client_secret"),
        (
            json!({"issuer": "ftp://idp.example", "client_id": "akta", "client_secret": "x"}),
            "issuer",
        ),
        (
            json!({"issuer": "https://idp.example", "client_id": "akta", "client_secret": "x",
                "scopes": "profile email"}),
            "scopes",
        ),
        (
            json!({"issuer": "https://idp.example", "client_id": "akta", "client_secret": "x",
                "role_mapping": {"Bauamt": "chef"}}),
            "role_mapping.Bauamt",
        ),
        (
            json!({"issuer": "https://idp.example", "client_id": "akta", "client_secret": "x",
                "default_role": "operator"}),
            "default_role",
        ),
        (
            json!({"issuer": "https://idp.example", "client_id": "akta", "client_secret": "x",
                "token_auth_method": "private_key_jwt"}),
            "token_auth_method",
        ),
    ];
    for (body, field) in cases {
        let reply = put(&a.admin, body).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.body["field"], field, "{}", reply.body);
    }
    let reply = put(&a.admin, good.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["scopes"], "openid profile email");
    assert_eq!(reply.body["token_auth_method"], "client_secret_basic");
    assert_eq!(reply.body["enabled"], true);
    assert!(reply.body.get("client_secret").is_none());
    // Later changes may leave the secret out and keep it.
    let mut keep = good;
    keep.as_object_mut()
        .expect("object")
        .remove("client_secret");
    keep["enabled"] = json!(false);
    let reply = put(&a.admin, keep).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["client_secret_set"], true);
    // Disabled: the login route is closed.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/auth/oidc/herdecke/login", app.base_url))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_fails_at_the_provider_and_is_audited() {
    let Some((app, provider, a, _)) = setup().await else {
        return;
    };
    configure(&a, config(&provider, "akta-herdecke", "not-the-secret")).await;
    let browser = Browser::new();
    let page = browser.login(&app, &provider, "herdecke", "anna").await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY, "{}", page.body);
    assert!(page.body.contains("Identitätsanbieter"), "{}", page.body);
    assert!(users(&a).await.is_empty());
    let events = login_events(&app, &a).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "login.failed");
    assert_eq!(events[0].1["reason"], "provider_error");
}

/// The client secret columns as stored: plaintext, sealed, key version.
async fn stored_secret(conn: &mut PgConnection) -> (String, Option<Vec<u8>>, Option<i32>) {
    sqlx::query_as("SELECT client_secret, secret_sealed, secret_key_version FROM oidc_configs")
        .fetch_one(conn)
        .await
        .expect("config row")
}

/// The client secret is kept sealed under the tenant key: not in the clear in PostgreSQL,
/// re-wrapped when the tenant key rotates (logins go on working), and a secret stored in the
/// clear by an older Akta is sealed by the start-up pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_is_sealed_rewrapped_on_rotation_and_legacy_ones_get_sealed() {
    let Some((app, provider, a, _)) = setup().await else {
        return;
    };
    let mut owner = crate::common::owner(&app, a.id).await;
    let (plain, sealed, version) = stored_secret(&mut owner).await;
    assert_eq!(plain, "", "the secret is stored in the clear");
    let sealed = sealed.expect("sealed secret");
    assert!(
        !sealed
            .windows(SECRET_A.len())
            .any(|w| w == SECRET_A.as_bytes()),
        "the sealed secret contains the plaintext"
    );
    assert_eq!(version, Some(1));

    let rotation = app
        .keyring
        .rotate_tenant_key(&app.db, akta_domain::TenantId(a.id), "test")
        .await
        .expect("rotate");
    assert_eq!(rotation.retired, vec![1], "{rotation:?}");
    assert_eq!(stored_secret(&mut owner).await.2, Some(2));
    // The provider checks the secret: a login proves it opens under the new key.
    let page = Browser::new()
        .login(&app, &provider, "herdecke", "anna")
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "callback: {}", page.body);
    assert_eq!(page.location.as_deref(), Some("/"), "{}", page.body);

    // As an Akta before sealing left it.
    sqlx::query(
        "UPDATE oidc_configs SET client_secret = $1, secret_sealed = NULL, secret_len = NULL,
                secret_wrapped_key = NULL, secret_key_version = NULL",
    )
    .bind(SECRET_A)
    .execute(&mut owner)
    .await
    .expect("legacy secret");
    assert_eq!(app.core.seal_stored_secrets().await.expect("seal"), 1);
    assert_eq!(app.core.seal_stored_secrets().await.expect("seal"), 0);
    let (plain, sealed, _) = stored_secret(&mut owner).await;
    assert_eq!((plain.as_str(), sealed.is_some()), ("", true));
    let page = Browser::new()
        .login(&app, &provider, "herdecke", "anna")
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "callback: {}", page.body);
    assert_eq!(page.location.as_deref(), Some("/"), "{}", page.body);
}

// --- the operator console through the operator's own provider ---------------------------

const SECRET_OP: &str = "geheim-betrieb-0123456789";

/// An Akta whose console logs operators in through the provider (client `akta-betrieb`),
/// the provider with it; `None` without Node.js. The provider's port is chosen first, since
/// Akta's settings name the issuer and the provider's client names Akta's callback.
async fn operator_setup() -> Option<(TestApp, Provider, String)> {
    let port = akta_pgcluster::free_port().expect("a free port");
    let issuer = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(akta_testkit::TestOptions {
        operator_oidc: Some(akta_api::OperatorOidc {
            issuer: issuer.clone(),
            client_id: "akta-betrieb".into(),
            client_secret: SECRET_OP.into(),
        }),
        ..akta_testkit::TestOptions::default()
    })
    .await;
    let client = json!({
        "client_id": "akta-betrieb",
        "client_secret": SECRET_OP,
        "redirect_uris": [format!("{}/betrieb/oidc/rueckkehr", app.base_url)],
    });
    let provider = Provider::start_with(&app, port, vec![client]).await?;
    assert_eq!(provider.url, issuer);
    Some((app, provider, issuer))
}

/// A whole console login through the provider as `account`: the callback's answer.
async fn console_login(
    browser: &Browser,
    app: &TestApp,
    provider: &Provider,
    account: &str,
) -> Page {
    let start = format!("{}/betrieb/oidc/anmelden", app.base_url);
    let callback = format!("{}/betrieb/oidc/rueckkehr", app.base_url);
    let url = browser
        .authorize_at(&start, &callback, provider, account)
        .await;
    browser.get(&url).await
}

/// A console page without a console session sends the browser to the console's login.
fn assert_console_login_asked(page: &Page) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        page.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/betrieb/anmelden")),
        "{:?}",
        page.location
    );
}

fn has_console_cookie(page: &Page) -> bool {
    page.set_cookies
        .iter()
        .any(|c| c.starts_with("akta_betrieb=") && !c.starts_with("akta_betrieb=;"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_operator_logs_into_the_console_through_the_provider() {
    let Some((app, provider, issuer)) = operator_setup().await else {
        return;
    };
    app.create_tenant("herdecke").await;
    app.core
        .create_operator_with("betrieb.anna", None, Some((&issuer, "anna")))
        .await
        .expect("operator linked to anna");
    let browser = Browser::new();
    let login_page = browser
        .get(&format!("{}/betrieb/anmelden", app.base_url))
        .await;
    assert!(
        login_page.body.contains("Mit dem Anmeldedienst anmelden"),
        "{}",
        login_page.body
    );

    let page = console_login(&browser, &app, &provider, "anna").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "callback: {}",
        page.body
    );
    assert_eq!(page.location.as_deref(), Some("/betrieb/mandanten"));
    assert!(has_console_cookie(&page), "{:?}", page.set_cookies);

    let tenants = browser
        .get(&format!("{}/betrieb/mandanten", app.base_url))
        .await;
    assert_eq!(tenants.status, StatusCode::OK, "{}", tenants.body);
    assert!(tenants.body.contains("betrieb.anna"), "{}", tenants.body);
    assert!(tenants.body.contains("herdecke"), "{}", tenants.body);
    // The operator sees the console, not a tenant's records.
    assert_eq!(browser.session(&app).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlinked_subject_is_refused_and_nothing_is_created() {
    let Some((app, provider, issuer)) = operator_setup().await else {
        return;
    };
    app.core
        .create_operator_with("betrieb.anna", None, Some((&issuer, "anna")))
        .await
        .expect("operator linked to anna");
    let browser = Browser::new();
    let page = console_login(&browser, &app, &provider, "bob").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(
        page.body
            .contains("mit keinem Zugang für den Betrieb verknüpft"),
        "{}",
        page.body
    );
    assert!(!has_console_cookie(&page), "{:?}", page.set_cookies);
    let tenants = browser
        .get(&format!("{}/betrieb/mandanten", app.base_url))
        .await;
    assert_console_login_asked(&tenants);

    let mut db = PgConnection::connect(&app.owner_url)
        .await
        .expect("owner connection");
    let operators: i64 = sqlx::query_scalar("SELECT count(*) FROM operators")
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(operators, 1, "the refused login created no operator");
    // Nor was the refused subject linked to anyone by it.
    let other: Option<String> =
        sqlx::query_scalar("SELECT username FROM operators WHERE oidc_subject = 'bob'")
            .fetch_optional(&mut db)
            .await
            .expect("query");
    assert_eq!(other, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_oidc_login_does_not_open_the_console() {
    let Some((app, provider, issuer)) = operator_setup().await else {
        return;
    };
    // Even a subject linked to an operator: the tenant's login is a tenant session only.
    app.core
        .create_operator_with("betrieb.anna", None, Some((&issuer, "anna")))
        .await
        .expect("operator linked to anna");
    let tenant = app.create_tenant("herdecke").await;
    configure(&tenant, config(&provider, "akta-herdecke", SECRET_A)).await;
    let browser = Browser::new();
    let page = browser.login(&app, &provider, "herdecke", "anna").await;
    assert_eq!(page.status, StatusCode::FOUND, "callback: {}", page.body);
    assert!(has_session_cookie(&page));
    assert!(!has_console_cookie(&page), "{:?}", page.set_cookies);
    assert_eq!(browser.session(&app).await.0, 200);
    let console = browser
        .get(&format!("{}/betrieb/mandanten", app.base_url))
        .await;
    assert_console_login_asked(&console);
    // The console's callback does not take a state the tenant's login started.
    let replay = browser
        .get(&format!(
            "{}/betrieb/oidc/rueckkehr?code=x&state=y",
            app.base_url
        ))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
}
