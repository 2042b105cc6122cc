//! Aktenplan templates (issue 13): the operator publishes plans every tenant can list and
//! import; the built-in template (`kgst-kommunal`) is always there.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Admin, Auth, Operator};
use crate::input::ApiJson;
use crate::{ApiError, AppState};

/// `GET /api/v1/plan-templates`: every template, for the operator and every tenant.
#[utoipa::path(
    get,
    path = "/api/v1/plan-templates",
    tag = "Aktenplan",
    summary = "Aktenplan-Vorlagen (mitgelieferte und vom Betreiber veröffentlichte)",
    responses((status = 200, description = "Die Vorlagen", body = Object))
)]
pub async fn list(State(state): State<AppState>, _: Auth) -> Result<Json<Value>, ApiError> {
    let items = state.core.plan_templates().await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewPlanTemplate)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    name: String,
    title: String,
    /// The plan in the template CSV format.
    csv: String,
}

/// `POST /api/v1/plan-templates` (operator): publishes (or replaces) a template.
#[utoipa::path(
    post,
    path = "/api/v1/plan-templates",
    tag = "Mandanten",
    summary = "Aktenplan-Vorlage veröffentlichen (Betreiber)",
    request_body = PublishBody,
    responses((status = 201, description = "Die Vorlage", body = Object))
)]
pub async fn publish(
    State(state): State<AppState>,
    Operator(op): Operator,
    ApiJson(body): ApiJson<PublishBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let template = state
        .core
        .publish_plan_template(&body.name, &body.title, &body.csv, &op.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(template))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PlanTemplateImport)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    template: String,
}

/// `POST /api/v1/plan-units/import-template` (tenant admin): `{"template": name}` into the
/// tenant's Aktenplan, like an 0301 import (added, updated, nothing deleted).
#[utoipa::path(
    post,
    path = "/api/v1/plan-units/import-template",
    tag = "Aktenplan",
    summary = "Aktenplan aus einer Vorlage übernehmen (Admin)",
    request_body = ImportBody,
    responses((status = 200, description = "Was angelegt und geändert wurde", body = Object))
)]
pub async fn import(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<Value>, ApiError> {
    let report = state
        .core
        .import_plan_template(&admin.principal, &body.template)
        .await?;
    Ok(Json(json!(report)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewInvitation)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    role: Option<String>,
}

/// `POST /api/v1/tenants/{slug}/invitations` (operator): a one-time invitation link for a
/// tenant's person (admin unless `role` says otherwise), valid 7 days. The token is shown once.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/invitations",
    tag = "Mandanten",
    summary = "Einladung für eine Person des Mandanten (Betreiber); der Link steht nur in dieser Antwort",
    params(("slug" = String, Path, description = "Kennung des Mandanten")),
    request_body = InviteBody,
    responses((status = 201, description = "Die Einladung mit ihrem Token", body = Object))
)]
pub async fn invite(
    State(state): State<AppState>,
    Operator(op): Operator,
    axum::extract::Path(slug): axum::extract::Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tenant = state.core.tenant_by_slug(&slug).await?;
    let role = match body.role.as_deref() {
        None => akta_domain::Role::Admin,
        Some(r) => akta_domain::Role::parse(r).map_err(|_| {
            ApiError::validation("role", "must be admin, clerk, reader or archivist")
        })?,
    };
    let (row, token) = state
        .core
        .invite(
            akta_domain::TenantId(tenant.id),
            &body.email,
            role,
            &op.actor(),
        )
        .await?;
    let mut out = json!(row);
    out["token"] = json!(token);
    out["path"] = json!(format!("/einladung/{token}"));
    Ok((StatusCode::CREATED, Json(out)))
}
