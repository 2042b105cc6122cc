//! Tenant admins manage their people. Role, password and status changes end the user's
//! sessions (see `TenantTx::update_user`).

use akta_core::{UserInput, UserUpdate};
use akta_domain::Role;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Admin;
use crate::input::{double_option, parse_id, ApiJson};
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewUser)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    username: String,
    display_name: String,
    #[schema(value_type = akta_domain::Role)]
    role: String,
    password: Option<String>,
    org_unit_id: Option<Uuid>,
    /// Limits the user to the Akten under this Aktenplan unit.
    plan_unit_id: Option<Uuid>,
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "Benutzer",
    summary = "Benutzer anlegen (Admin)",
    request_body = CreateBody,
    responses((status = 201, description = "Der neue Benutzer", body = akta_core::model::User, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = UserInput {
        username: body.username,
        display_name: body.display_name,
        role: Role::parse(&body.role)?,
        password: body.password,
        org_unit_id: body.org_unit_id,
        plan_unit_id: body.plan_unit_id,
    };
    let user = state.core.create_user(&admin.principal, input).await?;
    let location = format!("/api/v1/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(user)),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "Benutzer",
    summary = "Benutzer auflisten (Admin)",
    responses((status = 200, description = "Die Benutzer", body = super::openapi::UserList))
)]
pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Json<Value>, ApiError> {
    let users = state.core.list_users(&admin.principal).await?;
    Ok(Json(json!({"items": users, "next_cursor": null})))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "Benutzer",
    summary = "Einen Benutzer lesen (Admin)",
    params(("id" = uuid::Uuid, Path, description = "Benutzer")),
    responses((status = 200, description = "Der Benutzer", body = akta_core::model::User))
)]
pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    Ok(Json(json!(state.core.user(&admin.principal, id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UserChange)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    display_name: Option<String>,
    #[schema(value_type = Option<akta_domain::Role>)]
    role: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    org_unit_id: Option<Option<Uuid>>,
    /// Limits the user to the Akten under this Aktenplan unit (`null` lifts the limit).
    #[serde(default, deserialize_with = "double_option")]
    plan_unit_id: Option<Option<Uuid>>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "Benutzer",
    summary = "Benutzer ändern; Rollen-, Passwort- und Statuswechsel beenden seine Sitzungen",
    params(("id" = uuid::Uuid, Path, description = "Benutzer")),
    request_body = PatchBody,
    responses((status = 200, description = "Der Benutzer", body = akta_core::model::User))
)]
pub async fn patch(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let update = UserUpdate {
        display_name: body.display_name,
        role: body.role.as_deref().map(Role::parse).transpose()?,
        password: body.password,
        disabled: body.disabled,
        org_unit_id: body.org_unit_id,
        plan_unit_id: body.plan_unit_id,
    };
    let user = state.core.update_user(&admin.principal, id, update).await?;
    Ok(Json(json!(user)))
}
