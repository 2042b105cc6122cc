//! REST routes of webhooks: a tenant admin registers, lists, inspects, test-sends and removes
//! endpoints; the signing secret is in the answer to the registration only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Admin;
use crate::input::{parse_id, ApiJson};
use crate::{ApiError, AppState};
use akta_core::webhooks::NewWebhook;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewWebhook)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    url: String,
    events: Vec<String>,
    description: Option<String>,
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "Webhooks",
    summary = "Webhook-Endpunkt anmelden (Admin); das Geheimnis steht nur in dieser Antwort",
    request_body = CreateBody,
    responses((status = 201, description = "Der Endpunkt mit `secret` (whsec_…)", body = Object))
)]
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (endpoint, secret) = state
        .core
        .create_webhook(
            &admin.principal,
            NewWebhook {
                url: &body.url,
                events: &body.events,
                description: body.description.as_deref(),
            },
        )
        .await?;
    let mut out = to_json(&endpoint)?;
    out["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "Webhooks",
    summary = "Webhook-Endpunkte des Mandanten (ohne Geheimnisse)",
    responses((status = 200, description = "Die Endpunkte", body = Object))
)]
pub async fn list(State(state): State<AppState>, admin: Admin) -> Result<Json<Value>, ApiError> {
    let items = state.core.webhooks(&admin.principal).await?;
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "Webhooks",
    summary = "Ein Webhook-Endpunkt",
    params(("id" = uuid::Uuid, Path, description = "Endpunkt")),
    responses((status = 200, description = "Der Endpunkt", body = Object))
)]
pub async fn get(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    Ok(Json(to_json(
        &state.core.webhook(&admin.principal, id).await?,
    )?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "Webhooks",
    summary = "Webhook-Endpunkt löschen (mit seinem Zustellprotokoll)",
    params(("id" = uuid::Uuid, Path, description = "Endpunkt")),
    responses((status = 204, description = "Gelöscht"))
)]
pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state.core.delete_webhook(&admin.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "Webhooks",
    summary = "Zustellprotokoll eines Endpunkts",
    params(("id" = uuid::Uuid, Path, description = "Endpunkt")),
    responses((status = 200, description = "Die Zustellungen", body = Object))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let items = state.core.webhook_deliveries(&admin.principal, id).await?;
    Ok(Json(json!({ "items": items })))
}

/// Enqueues a `webhook.test` delivery; 202: it is sent by a worker shortly.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    tag = "Webhooks",
    summary = "Testzustellung (`webhook.test`)",
    params(("id" = uuid::Uuid, Path, description = "Endpunkt")),
    responses((status = 202, description = "Die Zustellung ist eingereiht", body = Object))
)]
pub async fn test(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_id(&id, "id")?;
    let delivery = state.core.test_webhook(&admin.principal, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "delivery_id": delivery, "event_type": "webhook.test" })),
    ))
}
