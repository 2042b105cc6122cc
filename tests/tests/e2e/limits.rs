//! Per-tenant limits set by the operator: requests per minute (429 with Retry-After) and
//! storage quotas (507, nothing written); the operator sees usage but no content.

use akta_testkit::TestApp;
use serde_json::json;

use crate::common::{item_ids, random_bytes, seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_over_its_request_limit_gets_429_and_others_carry_on() {
    let app = TestApp::spawn().await;
    let busy = seed(&app, "witten").await;
    let calm = seed(&app, "herdecke").await;
    let set = app
        .operator
        .send(
            app.operator
                .request(reqwest::Method::PUT, "/api/v1/tenants/witten/quota")
                .json(&json!({"requests_per_minute": 5})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(busy.tenant.admin.get("/api/v1/files").await);
    }
    let limited = statuses
        .iter()
        .find(|r| r.status == 429)
        .expect("no 429 after 8 requests");
    limited.assert_problem(429, "rate_limited");
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=61).contains(&retry));
    // The seeding requests count in the same minute, so the limit may bite even earlier.
    let allowed = statuses.iter().take_while(|r| r.status == 200).count();
    assert!(allowed <= 5, "{allowed} requests passed a limit of 5");
    assert!(statuses.iter().skip(allowed).all(|r| r.status == 429));
    assert_eq!(calm.tenant.admin.get("/api/v1/files").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_the_quota_answer_507_and_write_nothing() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    // The seed stored one document of 10,000 bytes.
    let set = app
        .operator
        .send(
            app.operator
                .request(reqwest::Method::PUT, "/api/v1/tenants/witten/quota")
                .json(&json!({"max_storage_bytes": 15_000})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let admin = &seeded.tenant.admin;
    let too_big = admin
        .upload(
            &format!("/api/v1/files/{}/documents", seeded.file),
            Some(json!({"title": "Gutachten", "kind": "Eingang"})),
            Some(("gutachten.pdf", "application/pdf", random_bytes(8_000))),
        )
        .await;
    too_big.assert_problem(507, "quota_exceeded");
    let docs = admin
        .get(&format!("/api/v1/files/{}/documents", seeded.file))
        .await;
    assert_eq!(item_ids(&docs), vec![seeded.document.clone()]);
    app.sweep(std::time::Duration::ZERO).await;
    assert_eq!(
        app.blob_keys().await.len(),
        1,
        "the refused upload left a blob"
    );
    let small = admin
        .upload(
            &format!("/api/v1/files/{}/documents", seeded.file),
            Some(json!({"title": "Vermerk", "kind": "Vermerk"})),
            Some(("vermerk.txt", "text/plain", random_bytes(3_000))),
        )
        .await;
    assert_eq!(small.status, 201, "{}", small.body);

    // The operator sees counts, not content.
    let tenants = app.operator.get("/api/v1/tenants").await;
    let witten = tenants.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["slug"] == "witten"))
        .expect("witten listed")
        .clone();
    assert_eq!(witten["usage"]["documents"], 2);
    assert_eq!(witten["usage"]["storage_bytes"], 13_000);
    assert_eq!(witten["quota"]["max_storage_bytes"], 15_000);
    app.operator
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await
        .assert_problem(403, "forbidden");
}

/// Counters are per minute (UTC, shared by all replicas): a burst started in a minute's last
/// seconds would straddle two windows, so it waits for the next minute to begin.
async fn start_of_a_fresh_minute() {
    let second = time::OffsetDateTime::now_utc().second();
    if second >= 45 {
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(61 - second))).await;
    }
}

async fn set_requests_per_minute(app: &TestApp, slug: &str, n: i32) {
    let set = app
        .operator
        .send(
            app.operator
                .request(
                    reqwest::Method::PUT,
                    &format!("/api/v1/tenants/{slug}/quota"),
                )
                .json(&json!({"requests_per_minute": n})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
}

/// Two replicas share one limit: a tenant allowed 30 requests a minute gets 30 in all, not 30
/// from each (the count lives in PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_limit_holds_across_replicas() {
    let app = TestApp::spawn().await;
    let busy = seed(&app, "witten").await;
    let second = app.spawn_node(akta_testkit::Role::Api, None).await;
    start_of_a_fresh_minute().await;
    set_requests_per_minute(&app, "witten", 30).await;
    let first = &busy.tenant.admin;
    let other = akta_testkit::Client::new(&second.base_url, first.token.as_deref());
    let mut statuses = Vec::new();
    for i in 0..50 {
        let node = if i % 2 == 0 { first } else { &other };
        statuses.push((i % 2, node.get("/api/v1/files").await.status.as_u16()));
    }
    let allowed = statuses.iter().filter(|(_, s)| *s == 200).count();
    assert!(
        (25..=30).contains(&allowed),
        "{allowed} requests passed a limit of 30 over two replicas: {statuses:?}"
    );
    for node in [0, 1] {
        assert!(
            statuses.iter().any(|&(n, s)| n == node && s == 429),
            "replica {node} never refused: {statuses:?}"
        );
    }
    assert!(statuses.iter().all(|(_, s)| *s == 200 || *s == 429));
}

/// Password logins are one of the tenant's requests: over its limit, no login gets through,
/// not even with the right password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_over_its_request_limit_cannot_log_in() {
    let app = TestApp::spawn().await;
    let busy = seed(&app, "witten").await;
    let created = busy
        .tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "anna", "display_name": "Anna Muster", "role": "clerk",
                   "password": "ein langes Passwort"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    start_of_a_fresh_minute().await;
    set_requests_per_minute(&app, "witten", 3).await;
    let anonymous = app.anonymous();
    let login = || {
        anonymous.post(
            "/api/v1/session",
            json!({"tenant": "witten", "username": "anna", "password": "ein langes Passwort"}),
        )
    };
    for _ in 0..3 {
        let _ = busy.tenant.admin.get("/api/v1/files").await;
    }
    login().await.assert_problem(429, "rate_limited");
}

/// The login limits hold across replicas too: three attempts per client address in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limits_hold_across_replicas() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "ennepetal").await;
    let strict = akta_testkit::CoreSettings {
        logins_per_client_minute: 3,
        ..akta_testkit::CoreSettings::default()
    };
    let mut nodes = Vec::new();
    for _ in 0..2 {
        nodes.push(
            app.spawn_node_with(
                akta_testkit::Role::Api,
                akta_testkit::JobSettings::default(),
                strict.clone(),
            )
            .await,
        );
    }
    start_of_a_fresh_minute().await;
    let clients: Vec<_> = nodes
        .iter()
        .map(|n| akta_testkit::Client::new(&n.base_url, None))
        .collect();
    let attempt = |node: usize| {
        clients[node].post(
            "/api/v1/session",
            json!({"tenant": seeded.tenant.slug, "username": "niemand", "password": "falsch falsch"}),
        )
    };
    attempt(0).await.assert_problem(401, "login_failed");
    attempt(1).await.assert_problem(401, "login_failed");
    attempt(0).await.assert_problem(401, "login_failed");
    attempt(1).await.assert_problem(429, "rate_limited");
    attempt(0).await.assert_problem(429, "rate_limited");
}
