//! `GET /metrics` in the Prometheus text format, and the layer that counts every request.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The route template a request matched, handed out to [`track`] on the response.
#[derive(Clone)]
struct MatchedRoute(String);

/// Inside the router (a route layer): notes the matched route template on the response.
pub async fn note_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| MatchedRoute(p.as_str().to_owned()));
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// Counts the request by method, route template and status class and observes its duration.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<MatchedRoute>()
        .map(|r| r.0.as_str());
    state.core.metrics().record_request(
        &method,
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics`: counts and durations of this process, and gauges read at scrape time. It
/// names tenants only by slug with their storage (no content), and is served without a token:
/// scrape it from the operator's network only. A request that came through a reverse proxy
/// (it carries `Forwarded` or `X-Forwarded-For`, as everything through the Ingress does) gets
/// the 404 problem: Prometheus scrapes the pods directly.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Betrieb",
    summary = "Metriken im Prometheus-Textformat",
    security(()),
    responses((status = 200, description = "Prometheus-Text 0.0.4", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for") {
        return crate::ApiError::NotFound.into_response();
    }
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
