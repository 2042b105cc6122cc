//! OpenTelemetry traces: with `AKTA_OTLP_ENDPOINT`, `akta serve` sends its spans (the
//! per-request `request` span among them) as OTLP/HTTP protobuf to `<endpoint>/v1/traces`,
//! and the last ones still go out when it stops on SIGTERM.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One POST the fake collector received: its content type and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A collector that only records what is posted to `/v1/traces`; returns its base URL.
fn fake_collector(received: Received) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind collector");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/traces",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                        let content_type = headers
                            .get(axum::http::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        received
                            .lock()
                            .expect("lock")
                            .push((content_type, body.to_vec()));
                        axum::http::StatusCode::OK
                    },
                ),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("collector");
        });
    });
    url
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn serve_exports_request_spans_over_otlp_http() {
    let received = Received::default();
    let collector = fake_collector(received.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");

    let (server, lines) =
        support::serve_with_env(dir.path(), &listen, &[("AKTA_OTLP_ENDPOINT", &collector)]);
    let token = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("akta_"))
        .unwrap_or_else(|| panic!("no admin token printed; stdout: {lines:?}"))
        .to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        let health = client
            .get(format!("http://{listen}/healthz"))
            .send()
            .await
            .expect("healthz");
        assert!(health.status().is_success());
        let units = client
            .get(format!("http://{listen}/api/v1/plan-units?limit=5"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("plan units");
        assert!(units.status().is_success(), "{}", units.status());
    });
    // SIGTERM: the spans still queued must be flushed before the process exits.
    support::stop(server);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posts = received.lock().expect("lock").clone();
        let traced = posts.iter().any(|(content_type, body)| {
            content_type == "application/x-protobuf"
                && contains(body, b"akta")
                && contains(body, b"request")
        });
        if traced {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no OTLP export with the request span; content types received: {:?}",
            posts.iter().map(|(c, _)| c).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_unreachable_collector_breaks_nothing() {
    // A port nobody listens on any more: every export fails at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let collector = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");

    let (server, _) =
        support::serve_with_env(dir.path(), &listen, &[("AKTA_OTLP_ENDPOINT", &collector)]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..20 {
            let health = client
                .get(format!("http://{listen}/healthz"))
                .send()
                .await
                .expect("healthz");
            assert!(health.status().is_success());
        }
    });
    // The final flush fails too, and the server still stops cleanly (exit code 0).
    support::stop(server);
}
