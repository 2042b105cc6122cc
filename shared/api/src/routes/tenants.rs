use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Operator;
use crate::extract::ApiJson;
use crate::{ops, ApiError, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    slug: String,
    name: String,
    reference_format: Option<String>,
}

/// Operator: creates a tenant and returns its first admin token, once.
pub async fn create(
    State(state): State<AppState>,
    Operator(op): Operator,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (tenant, token) = ops::create_tenant(
        &state.db,
        &body.slug,
        &body.name,
        body.reference_format.as_deref(),
        &op.actor(),
    )
    .await?;
    let mut out = serde_json::to_value(&tenant).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["admin_token"] = json!(token);
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn list(State(state): State<AppState>, _: Operator) -> Result<Json<Value>, ApiError> {
    let tenants = state.db.list_tenants().await?;
    Ok(Json(json!({"items": tenants, "next_cursor": null})))
}
