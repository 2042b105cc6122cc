//! Arbitrary text — control characters, NUL, direction overrides, invisible characters,
//! lone surrogate escapes — in every text field and metadata key of the JSON routes and the
//! web forms: never a 5xx, and NUL is refused naming its field. A property test with a fixed
//! seed and a bounded number of cases, so CI runs the same inputs every time.

use akta_testkit::{Client, TestApp};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::seed;

/// Cases per route; every route gets the same texts.
const CASES: usize = 24;

/// Texts from arbitrary Unicode, weighted towards the characters that broke things.
fn hostile_texts() -> Vec<String> {
    let tricky = proptest::prop_oneof![
        proptest::char::any(),
        proptest::sample::select(vec![
            '\u{0}', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{2066}', '\u{200b}',
            '\u{feff}', '\n', '\t', 'ä', '😀',
        ]),
    ];
    let strategy = proptest::collection::vec(tricky, 0..24)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    (0..CASES)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("value tree")
                .current()
        })
        .collect()
}

/// A JSON route and a body builder that puts `text` into every text field and a metadata key.
struct Route {
    method: Method,
    path: String,
    client: Client,
    body: fn(&str) -> Value,
}

async fn send_raw(route: &Route, body: String) -> (u16, String) {
    let reply = route
        .client
        .send(
            route
                .client
                .request(route.method.clone(), &route.path)
                .header("content-type", "application/json")
                .header("if-match", "\"v1\"")
                .body(body),
        )
        .await;
    (reply.status.as_u16(), reply.body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_in_json_and_forms_never_answers_5xx() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "hagen").await;
    let admin = seeded.tenant.admin.clone();
    let (file, case, doc) = (&seeded.file, &seeded.case, &seeded.document);
    let routes = [
        Route {
            method: Method::POST,
            path: "/api/v1/session".into(),
            client: app.anonymous(),
            body: |t| json!({"tenant": t, "username": t, "password": t}),
        },
        Route {
            method: Method::POST,
            path: "/api/v1/files".into(),
            client: admin.clone(),
            body: |t| {
                json!({"plan_unit_id": "00000000-0000-0000-0000-000000000000",
                             "subject": t, "metadata": {t: t}})
            },
        },
        Route {
            method: Method::PATCH,
            path: format!("/api/v1/files/{file}"),
            client: admin.clone(),
            body: |t| json!({"subject": t, "metadata": {t: t}}),
        },
        Route {
            method: Method::POST,
            path: format!("/api/v1/files/{file}/cases"),
            client: admin.clone(),
            body: |t| json!({"subject": t, "metadata": {t: [t]}}),
        },
        Route {
            method: Method::PATCH,
            path: format!("/api/v1/cases/{case}"),
            client: admin.clone(),
            body: |t| json!({"subject": t, "status": t, "reason": t}),
        },
        Route {
            method: Method::PATCH,
            path: format!("/api/v1/documents/{doc}"),
            client: admin.clone(),
            body: |t| json!({"title": t, "sender": t, "recipient": t, "metadata": {t: t}}),
        },
        Route {
            method: Method::POST,
            path: "/api/v1/plan-units".into(),
            client: admin.clone(),
            body: |t| json!({"code": t, "title": t}),
        },
        Route {
            method: Method::POST,
            path: "/api/v1/users".into(),
            client: admin.clone(),
            body: |t| json!({"username": t, "display_name": t, "role": "clerk", "password": t}),
        },
        Route {
            method: Method::POST,
            path: "/api/v1/tokens".into(),
            client: admin.clone(),
            body: |t| json!({"name": t, "role": "reader"}),
        },
        Route {
            method: Method::PUT,
            path: "/api/v1/oidc".into(),
            client: admin.clone(),
            body: |t| {
                json!({"issuer": t, "client_id": t, "client_secret": t,
                             "role_mapping": {t: "clerk"}})
            },
        },
        Route {
            method: Method::POST,
            path: "/api/v1/tenants".into(),
            client: app.operator.clone(),
            body: |t| json!({"slug": t, "name": t, "reference_format": t}),
        },
    ];
    let texts = hostile_texts();
    for route in &routes {
        for text in &texts {
            let body = (route.body)(text).to_string();
            let (status, answer) = send_raw(route, body).await;
            assert!(
                status < 500,
                "{} {} answered {status} for {text:?}: {answer}",
                route.method,
                route.path
            );
        }
        // A lone surrogate escape is not JSON text: malformed, not a crash.
        let lone = (route.body)("X").to_string().replacen("X", "\\ud800", 1);
        let (status, answer) = send_raw(route, lone).await;
        assert!(
            status == 400 || status == 401,
            "{} {}: {status} {answer}",
            route.method,
            route.path
        );
    }

    // NUL is refused naming where it was, wherever it is.
    let (status, answer) = send_raw(
        &routes[2],
        json!({"metadata": {"bauort\u{0}": "x"}}).to_string(),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.contains("metadata"), "{answer}");
    let quota = app
        .operator
        .send(
            app.operator
                .request(Method::PUT, "/api/v1/tenants/%00/quota")
                .json(&json!({"max_documents": 5})),
        )
        .await;
    assert_eq!(quota.status, 404, "{}", quota.body);

    // The web UI's forms and paths.
    let web = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for text in &texts {
        let login = web
            .post(format!("{}/anmelden", app.base_url))
            .form(&[
                ("tenant", text.as_str()),
                ("username", text),
                ("password", text),
            ])
            .send()
            .await
            .expect("login");
        assert!(
            login.status().as_u16() < 500,
            "login: {} for {text:?}",
            login.status()
        );
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let page = web
            .get(format!("{}/t/{encoded}/anmelden", app.base_url))
            .send()
            .await
            .expect("tenant login page");
        assert!(
            page.status().as_u16() < 500,
            "login page: {} for {text:?}",
            page.status()
        );
    }
    let nul = web
        .get(format!("{}/t/%00/anmelden", app.base_url))
        .send()
        .await
        .expect("nul page");
    assert_eq!(nul.status(), 404);
}

/// Failed logins answer alike whether the tenant exists or not: a name with a NUL is refused
/// as input (422) for every tenant, any other failure is the one 401 `login_failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_answer_alike_whatever_failed() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "wetter").await;
    let anonymous = app.anonymous();
    let login = |tenant: String, username: &'static str| {
        let anonymous = anonymous.clone();
        async move {
            let reply = anonymous
                .post(
                    "/api/v1/session",
                    json!({"tenant": tenant, "username": username, "password": "falsch falsch"}),
                )
                .await;
            (reply.status.as_u16(), reply.body.clone())
        }
    };
    let existing = seeded.tenant.slug.clone();
    let nul_here = login(existing.clone(), "a\u{0}b").await;
    let nul_nowhere = login("gibt-es-nicht".into(), "a\u{0}b").await;
    assert_eq!(nul_here.0, 422);
    assert_eq!(
        nul_here, nul_nowhere,
        "NUL is refused alike for every tenant"
    );
    let unknown_user = login(existing, "niemand").await;
    let unknown_tenant = login("gibt-es-nicht".into(), "niemand").await;
    let invalid_tenant = login("t\u{1}x".into(), "niemand").await;
    assert_eq!(unknown_user.0, 401, "{:?}", unknown_user.1);
    assert_eq!(unknown_user, unknown_tenant);
    // A tenant name with a control character is refused as input, like any other field.
    assert_eq!(invalid_tenant.0, 422, "{:?}", invalid_tenant.1);
}

/// Password logins are bounded per client address (and tenant name): past the limit they are
/// refused with 429 before any password is hashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_limited_per_client() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "ennepetal").await;
    let node = app
        .spawn_node_with(
            akta_testkit::Role::Api,
            akta_testkit::JobSettings::default(),
            akta_testkit::CoreSettings {
                logins_per_client_minute: 3,
                ..akta_testkit::CoreSettings::default()
            },
        )
        .await;
    let anonymous = Client::new(&node.base_url, None);
    let attempt = || {
        anonymous.post(
            "/api/v1/session",
            json!({"tenant": seeded.tenant.slug, "username": "niemand", "password": "falsch falsch"}),
        )
    };
    // Counters are per calendar minute: should the attempts cross into the next minute, the
    // count starts again there, so the limit shows after three failed logins in one of the two.
    let mut failed = 0;
    let limited = loop {
        let reply = attempt().await;
        if reply.status == 429 {
            break reply;
        }
        reply.assert_problem(401, "login_failed");
        failed += 1;
        assert!(failed <= 6, "no 429 after {failed} failed logins");
    };
    assert!(failed >= 3, "limited after only {failed} failed logins");
    limited.assert_problem(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
}
