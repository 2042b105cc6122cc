//! Access lists of confidential Akten (vertraulich, streng vertraulich): only the named users,
//! org units and tokens see such an Akte, and whoever sees it may name others.

use akta_core::model::Grantee;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_id, ApiJson};
use crate::{ApiError, AppState};

#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/access",
    tag = "Zugriff",
    summary = "Zugriffsliste der Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Einträge", body = super::openapi::AccessList))
)]
pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let entries = state.core.list_access(&reader.principal, file_id).await?;
    Ok(Json(json!({"items": entries, "next_cursor": null})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AccessGrant)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    user_id: Option<Uuid>,
    org_unit_id: Option<Uuid>,
    token_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/files/{id}/access",
    tag = "Zugriff",
    summary = "Zugriff auf eine vertrauliche Akte gewähren (genau eines: user_id, org_unit_id, token_id)",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = GrantBody,
    responses((status = 201, description = "Der Eintrag", body = akta_core::model::AccessEntry))
)]
pub async fn grant(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let file_id = parse_id(&id, "id")?;
    let grantee = match (body.user_id, body.org_unit_id, body.token_id) {
        (Some(u), None, None) => Grantee::User(u),
        (None, Some(o), None) => Grantee::OrgUnit(o),
        (None, None, Some(t)) => Grantee::Token(t),
        _ => {
            return Err(ApiError::validation(
                "body",
                "name exactly one of user_id, org_unit_id, token_id",
            ))
        }
    };
    let entry = state
        .core
        .grant_access(&writer.principal, file_id, grantee)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(entry))))
}

#[utoipa::path(
    delete,
    path = "/api/v1/files/{id}/access/{entry}",
    tag = "Zugriff",
    summary = "Eintrag der Zugriffsliste entfernen",
    params(("id" = uuid::Uuid, Path, description = "Akte"), ("entry" = uuid::Uuid, Path, description = "Eintrag")),
    responses((status = 204, description = "Entfernt"))
)]
pub async fn revoke(
    State(state): State<AppState>,
    writer: Writer,
    Path((id, entry)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let entry = parse_id(&entry, "entry_id")?;
    state
        .core
        .revoke_access(&writer.principal, file_id, entry)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
