//! Liveness and readiness probes (`/healthz`, `/readyz`), served by every node role.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Betrieb",
    summary = "Lebenszeichen: der Prozess antwortet",
    security(()),
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object))
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: PostgreSQL and the blob store both answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "Betrieb",
    summary = "Bereitschaft: PostgreSQL und Blob-Speicher antworten",
    security(()),
    responses((status = 200, description = "Bereit", body = Object), (status = 503, description = "Noch nicht bereit", content_type = "application/problem+json", body = crate::error::Problem))
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let blob_backend = state.core.check_ready().await?;
    Ok(Json(
        json!({"status": "ready", "blob_backend": blob_backend}),
    ))
}
