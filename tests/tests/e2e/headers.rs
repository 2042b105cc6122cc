//! Security headers on every response, errors included.

use akta_testkit::TestApp;

use crate::common::seed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let admin = &seeded.tenant.admin;
    let replies = [
        app.anonymous().get("/healthz").await,
        app.anonymous().get("/api/v1/files").await,
        admin.get("/api/v1/files").await,
        admin
            .get(&format!("/api/v1/documents/{}/content", seeded.document))
            .await,
        admin.get("/api/v1/nowhere").await,
    ];
    for reply in &replies {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let csp = reply.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") || csp.contains("sandbox"),
            "{csp}"
        );
        assert!(reply.header("x-request-id").is_some());
        // Plain HTTP without HSTS configured: no Strict-Transport-Security.
        assert!(reply.header("strict-transport-security").is_none());
    }
}
