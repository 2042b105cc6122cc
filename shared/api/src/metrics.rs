//! `GET /metrics` in the Prometheus text format, and the layer that counts every request.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Counts the request by method and status class and observes its duration.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    state
        .core
        .metrics()
        .record_request(&method, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: counts and durations of this process; no tenant is named, so it is served
/// without a token (scrape it from the operator's network only).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Betrieb",
    summary = "Metriken im Prometheus-Textformat (ohne Mandantennamen)",
    security(()),
    responses((status = 200, description = "Prometheus-Text 0.0.4", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.core.render_metrics().await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
