//! Akta's HTTP layer. Handlers stay thin: parse the request, call `akta_db`/`akta_blob`,
//! answer. Every error leaves through [`ApiError`] as `application/problem+json`.

pub mod audit;
mod auth;
mod error;
mod extract;
mod headers;
pub mod ops;
pub mod passwords;
mod routes;
mod state;
pub mod sweeper;

pub use error::ApiError;
pub use routes::router;
pub use state::{ApiSettings, AppState};

use std::future::Future;

/// Serves Akta on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
