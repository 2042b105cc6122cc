//! Tenant administration over REST: tokens, org units, support access and quotas.

use akta_domain::Role;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Admin, Reader};
use crate::input::{parse_id, ApiJson};
use crate::routes::openapi::Page;
use crate::{ApiError, AppState};
use akta_core::model::TokenRow;
use akta_core::TokenSpec;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewToken)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    #[schema(value_type = akta_domain::Role)]
    role: String,
    /// `["read"]` or `["read", "write"]` (default).
    scopes: Option<Vec<String>>,
    /// Limits the token to the Akten under this Aktenplan unit.
    plan_unit_id: Option<Uuid>,
    /// Days until the token stops working (1-3650); none = until revoked.
    expires_in_days: Option<i64>,
}

fn token_spec(body: NewToken) -> Result<TokenSpec, ApiError> {
    let can_write = match body.scopes.as_deref() {
        None => true,
        Some(scopes) => {
            if let Some(bad) = scopes
                .iter()
                .find(|s| !matches!(s.as_str(), "read" | "write"))
            {
                return Err(ApiError::validation(
                    "scopes",
                    format!("unknown scope '{bad}': use read, write"),
                ));
            }
            if !scopes.iter().any(|s| s == "read") {
                return Err(ApiError::validation(
                    "scopes",
                    "every token can read: include 'read'",
                ));
            }
            scopes.iter().any(|s| s == "write")
        }
    };
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days) if (1..=3650).contains(&days) => {
            Some(time::OffsetDateTime::now_utc() + time::Duration::days(days))
        }
        Some(_) => {
            return Err(ApiError::validation(
                "expires_in_days",
                "must be between 1 and 3650",
            ))
        }
    };
    Ok(TokenSpec {
        name: body.name,
        role: Role::parse(&body.role)?,
        can_write,
        plan_unit_id: body.plan_unit_id,
        expires_at,
    })
}

fn with_secret(row: &TokenRow, token: String) -> Result<Value, ApiError> {
    let mut out = serde_json::to_value(row).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["token"] = json!(token);
    out["scopes"] = json!(if row.can_write {
        vec!["read", "write"]
    } else {
        vec!["read"]
    });
    Ok(out)
}

/// Tenant admin: issues a token for this tenant; the secret is shown once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "Verwaltung",
    summary = "API-Token ausstellen; das Geheimnis steht nur in dieser Antwort",
    request_body = NewToken,
    responses((status = 201, description = "Das Token mit `token`", body = Object))
)]
pub async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = token_spec(body)?;
    let (row, token) = state.core.issue_token(&admin.principal, &spec).await?;
    Ok((StatusCode::CREATED, Json(with_secret(&row, token)?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "Verwaltung",
    summary = "API-Tokens auflisten",
    responses((status = 200, description = "Die Tokens ohne Geheimnis", body = Page))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Value>, ApiError> {
    let tokens = state.core.list_tokens(&admin.principal).await?;
    Ok(Json(json!({"items": tokens, "next_cursor": null})))
}

/// Revokes a token at once.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "Verwaltung",
    summary = "Token sofort widerrufen",
    params(("id" = uuid::Uuid, Path, description = "Token")),
    responses((status = 204, description = "Widerrufen"))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state.core.revoke_token(&admin.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a token by a new secret with the same rights; the old one stops working now.
#[utoipa::path(
    post,
    path = "/api/v1/tokens/{id}/rotate",
    tag = "Verwaltung",
    summary = "Token durch ein neues Geheimnis ersetzen",
    params(("id" = uuid::Uuid, Path, description = "Token")),
    responses((status = 201, description = "Das neue Token mit `token`", body = Object))
)]
pub async fn rotate_token(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_id(&id, "id")?;
    let (row, token) = state.core.rotate_token(&admin.principal, id).await?;
    Ok((StatusCode::CREATED, Json(with_secret(&row, token)?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewOrgUnit)]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnit {
    code: String,
    name: String,
    parent_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/org-units",
    tag = "Verwaltung",
    summary = "Organisationseinheit anlegen",
    request_body = NewOrgUnit,
    responses((status = 201, description = "Die neue Organisationseinheit", body = akta_core::model::OrgUnit))
)]
pub async fn create_org_unit(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<NewOrgUnit>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let unit = state
        .core
        .create_org_unit(&admin.principal, &body.code, &body.name, body.parent_id)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(unit))))
}

#[utoipa::path(
    get,
    path = "/api/v1/org-units",
    tag = "Verwaltung",
    summary = "Organisationseinheiten auflisten",
    responses((status = 200, description = "Die Organisationseinheiten", body = super::openapi::OrgUnitList))
)]
pub async fn list_org_units(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let units = state.core.list_org_units(&reader.principal).await?;
    Ok(Json(json!({"items": units, "next_cursor": null})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewSupportAccess)]
#[serde(deny_unknown_fields)]
pub struct SupportBody {
    reason: String,
    /// 1-72 hours.
    hours: i64,
}

/// Tenant admin: lets the operator read this tenant's records for a few hours.
#[utoipa::path(
    post,
    path = "/api/v1/support-access",
    tag = "Verwaltung",
    summary = "Dem Betreiber befristet Support-Zugang geben",
    request_body = SupportBody,
    responses((status = 201, description = "Die Freigabe", body = akta_core::model::SupportGrant))
)]
pub async fn grant_support(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<SupportBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let grant = state
        .core
        .grant_support(&admin.principal, &body.reason, body.hours)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(grant))))
}

#[utoipa::path(
    get,
    path = "/api/v1/support-access",
    tag = "Verwaltung",
    summary = "Support-Freigaben auflisten",
    responses((status = 200, description = "Die Freigaben", body = super::openapi::SupportGrantList))
)]
pub async fn list_support(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Value>, ApiError> {
    let grants = state.core.list_support_grants(&admin.principal).await?;
    Ok(Json(json!({"items": grants, "next_cursor": null})))
}

#[utoipa::path(
    delete,
    path = "/api/v1/support-access/{id}",
    tag = "Verwaltung",
    summary = "Support-Freigabe beenden",
    params(("id" = uuid::Uuid, Path, description = "Freigabe")),
    responses((status = 204, description = "Beendet"))
)]
pub async fn revoke_support(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state.core.revoke_support(&admin.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
