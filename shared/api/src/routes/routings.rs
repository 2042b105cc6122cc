//! The Geschäftsgang over REST: start a Mitzeichnung or Verfügung on a document, read it,
//! decide at one's turn, list what waits for one's signature.

use akta_core::{RoutingKind, RoutingRequest};
use akta_domain::optional_text_multiline;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_id, ApiJson};
use crate::routes::openapi::Page;
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewRouting)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    kind: String,
    mode: Option<String>,
    signers: Vec<Uuid>,
    /// A Verfügung's steps, one per line ("1. Schreiben ab\n2. WV 14 Tage\n3. z.d.A.").
    steps: Option<String>,
    note: Option<String>,
}

/// `POST /api/v1/documents/{id}/routings`
#[utoipa::path(
    post,
    path = "/api/v1/documents/{id}/routings",
    tag = "Geschäftsgang",
    summary = "Umlauf für ein Dokument starten",
    params(("id" = uuid::Uuid, Path, description = "Dokument")),
    request_body = StartBody,
    responses((status = 201, description = "Der Umlauf", body = akta_core::model::Routing))
)]
pub async fn start(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let kind = match body.kind.as_str() {
        "mitzeichnung" => RoutingKind::Mitzeichnung,
        "verfuegung" => RoutingKind::Verfuegung,
        _ => {
            return Err(ApiError::validation(
                "kind",
                "must be mitzeichnung or verfuegung",
            ))
        }
    };
    let parallel = match body.mode.as_deref() {
        None | Some("nacheinander") => false,
        Some("gleichzeitig") => true,
        Some(_) => {
            return Err(ApiError::validation(
                "mode",
                "must be nacheinander or gleichzeitig",
            ))
        }
    };
    let request = RoutingRequest {
        kind,
        parallel,
        signers: body.signers,
        steps: body.steps,
        note: optional_text_multiline("note", body.note.as_deref().unwrap_or(""), 2000)?,
    };
    let routing = state
        .core
        .start_routing(&writer.principal, id, request)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(routing))).into_response())
}

/// `GET /api/v1/documents/{id}/routings`
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/routings",
    tag = "Geschäftsgang",
    summary = "Umläufe eines Dokuments",
    params(("id" = uuid::Uuid, Path, description = "Dokument")),
    responses((status = 200, description = "Die Umläufe", body = super::openapi::RoutingList))
)]
pub async fn of_document(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let items = state
        .core
        .routings_of_document(&reader.principal, id)
        .await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `GET /api/v1/routings/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/routings/{id}",
    tag = "Geschäftsgang",
    summary = "Ein Umlauf",
    params(("id" = uuid::Uuid, Path, description = "Umlauf")),
    responses((status = 200, description = "Der Umlauf", body = akta_core::model::Routing))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    Ok(Json(json!(
        state.core.routing(&reader.principal, id).await?
    )))
}

/// `GET /api/v1/routings/pending`: what waits for my signature.
#[utoipa::path(
    get,
    path = "/api/v1/routings/pending",
    tag = "Geschäftsgang",
    summary = "Umläufe, die auf mich warten",
    responses((status = 200, description = "Die Umläufe", body = Page))
)]
pub async fn pending(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let items = state.core.pending_routings(&reader.principal).await?;
    Ok(Json(json!({"items": items})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = RoutingDecision)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `sign` or `return`.
    decision: String,
    comment: Option<String>,
}

/// `POST /api/v1/routings/{id}/decision`
#[utoipa::path(
    post,
    path = "/api/v1/routings/{id}/decision",
    tag = "Geschäftsgang",
    summary = "Im Umlauf zeichnen, zur Kenntnis nehmen oder ablehnen",
    params(("id" = uuid::Uuid, Path, description = "Umlauf")),
    request_body = DecisionBody,
    responses((status = 200, description = "Der Umlauf", body = akta_core::model::Routing))
)]
pub async fn decide(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let sign = match body.decision.as_str() {
        "sign" => true,
        "return" => false,
        _ => return Err(ApiError::validation("decision", "must be sign or return")),
    };
    let comment = optional_text_multiline("comment", body.comment.as_deref().unwrap_or(""), 2000)?;
    let routing = state
        .core
        .decide_routing(&writer.principal, id, sign, comment)
        .await?;
    Ok(Json(json!(routing)))
}
