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
