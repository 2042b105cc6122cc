//! Akta's HTTP layer. Handlers stay thin: parse the request, call one operation of the
//! application core (`akta_core`), answer. Every error leaves through [`ApiError`] as
//! `application/problem+json`.

mod auth;
mod error;
mod headers;
mod idempotency;
mod input;
mod metrics;
pub mod peer;
mod routes;
mod state;
pub mod tls;

pub use auth::{cookie, hash_token, CSRF_HEADER, SESSION_COOKIE};
pub use error::ApiError;
pub use routes::documents::ContentDisposition;
pub use routes::session;
pub use routes::{api_not_found, health_router, router, router_with};
pub use state::{ApiSettings, AppState, OperatorOidc};

use std::future::Future;

/// Serves Akta on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, api_only(), shutdown).await
}

/// No extra routes: unknown paths answer the API's 404 problem document.
fn api_only() -> axum::Router<AppState> {
    axum::Router::new().fallback(api_not_found)
}

/// Like [`serve`], with `extra` routes (the web UI) merged into the API router.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    extra: axum::Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router_with(state, extra).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Like [`serve`], terminating TLS with `acceptor` (see [`tls::acceptor`]).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    acceptor: openssl::ssl::SslAcceptor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls_with(listener, state, api_only(), acceptor, shutdown).await
}

/// Like [`serve_tls`], with `extra` routes merged into the API router.
pub async fn serve_tls_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    extra: axum::Router<AppState>,
    acceptor: openssl::ssl::SslAcceptor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tls::serve(listener, router_with(state, extra), acceptor, shutdown).await
}
