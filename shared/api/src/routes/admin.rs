use akta_domain::{bounded_text, PlanCode, Role};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Admin, Reader};
use crate::extract::ApiJson;
use crate::{ops, ApiError, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    role: String,
}

/// Tenant admin: issues a token for this tenant; the secret is shown once.
pub async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let role = Role::parse(&body.role)?;
    let (row, token) = ops::create_token(
        &state.db,
        admin.tenant,
        role,
        &body.name,
        &admin.principal.actor(),
    )
    .await?;
    let mut out = serde_json::to_value(&row).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnit {
    code: String,
    name: String,
    parent_id: Option<Uuid>,
}

pub async fn create_org_unit(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<NewOrgUnit>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let code = PlanCode::parse(&body.code)?;
    let name = bounded_text("name", &body.name, 200)?;
    let mut tx = state.db.tx_for(&admin.principal).await?;
    let unit = tx
        .create_org_unit(code.as_str(), &name, body.parent_id)
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(unit))))
}

pub async fn list_org_units(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tx_for(&reader.principal).await?;
    let units = tx.list_org_units().await?;
    Ok(Json(json!({"items": units, "next_cursor": null})))
}
