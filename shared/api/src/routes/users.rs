//! Tenant admins manage their people. Role, password and status changes end the user's
//! sessions (see `TenantTx::update_user`).

use akta_db::{NewUser, UserChanges};
use akta_domain::{bounded_text, Role};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Admin;
use crate::input::{double_option, parse_id, ApiJson};
use crate::{passwords, ApiError, AppState};

/// Usernames are case-insensitive: stored lowercase, 2-100 of `a-z 0-9 . _ @ -`.
pub fn parse_username(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim().to_lowercase();
    let ok = (2..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::validation(
            "username",
            "must be 2-100 characters: letters, digits, '.', '_', '@', '-'",
        ))
    }
}

async fn hash_password(field: &str, password: String) -> Result<String, ApiError> {
    passwords::check_policy(field, &password)?;
    tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    username: String,
    display_name: String,
    role: String,
    password: Option<String>,
    org_unit_id: Option<Uuid>,
    /// Limits the user to the Akten under this Aktenplan unit.
    plan_unit_id: Option<Uuid>,
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let username = parse_username(&body.username)?;
    let display_name = bounded_text("display_name", &body.display_name, 200)?;
    let role = Role::parse(&body.role)?;
    let password_hash = match body.password {
        Some(p) => Some(hash_password("password", p).await?),
        None => None,
    };
    let mut tx = state.db.tx_for(&admin.principal).await?;
    let user = tx
        .create_user(NewUser {
            username: &username,
            display_name: &display_name,
            role,
            password_hash: password_hash.as_deref(),
            oidc_subject: None,
            org_unit_id: body.org_unit_id,
            plan_unit_id: body.plan_unit_id,
        })
        .await?;
    tx.commit().await?;
    let location = format!("/api/v1/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(user)),
    ))
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tx_for(&admin.principal).await?;
    Ok(Json(
        json!({"items": tx.list_users().await?, "next_cursor": null}),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let mut tx = state.db.tx_for(&admin.principal).await?;
    Ok(Json(json!(tx.user(id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    display_name: Option<String>,
    role: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    org_unit_id: Option<Option<Uuid>>,
    /// Limits the user to the Akten under this Aktenplan unit (`null` lifts the limit).
    #[serde(default, deserialize_with = "double_option")]
    plan_unit_id: Option<Option<Uuid>>,
}

pub async fn patch(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let changes = UserChanges {
        display_name: body
            .display_name
            .as_deref()
            .map(|d| bounded_text("display_name", d, 200))
            .transpose()?,
        role: body.role.as_deref().map(Role::parse).transpose()?,
        password_hash: match body.password {
            Some(p) => Some(hash_password("password", p).await?),
            None => None,
        },
        disabled: body.disabled,
        org_unit_id: body.org_unit_id,
        plan_unit_id: body.plan_unit_id,
    };
    let mut tx = state.db.tx_for(&admin.principal).await?;
    let user = tx.update_user(id, changes).await?;
    tx.commit().await?;
    Ok(Json(json!(user)))
}
