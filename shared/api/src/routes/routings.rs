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
use crate::{ApiError, AppState};

#[derive(Deserialize)]
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
pub async fn pending(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let items = state.core.pending_routings(&reader.principal).await?;
    Ok(Json(json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `sign` or `return`.
    decision: String,
    comment: Option<String>,
}

/// `POST /api/v1/routings/{id}/decision`
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
