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
    state
        .db
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
    state
        .blobs
        .check()
        .await
        .map_err(|e| ApiError::Unavailable(format!("blob store: {e}")))?;
    Ok(Json(
        json!({"status": "ready", "blob_backend": state.blobs.backend_name()}),
    ))
}
