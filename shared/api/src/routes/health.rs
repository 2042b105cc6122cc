//! Liveness and readiness probes (`/healthz`, `/readyz`), served by every node role.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{ApiError, AppState};

/// Liveness: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: PostgreSQL and the blob store both answer.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let blob_backend = state.core.check_ready().await?;
    Ok(Json(
        json!({"status": "ready", "blob_backend": blob_backend}),
    ))
}
