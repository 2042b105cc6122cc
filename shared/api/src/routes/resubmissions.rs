//! Wiedervorlagen of Akten and Vorgänge: several per object, each for a person (or for
//! everyone) with a note. `PUT …/resubmission {"date": "2026-12-01"}` sets the caller's own
//! (for everyone when a token sets it), `DELETE` ends it; `POST …/resubmissions` adds one for
//! anyone, `POST /api/v1/resubmissions/{id}/done` ends one.

use akta_core::model::{NewResubmission, ResubmissionTarget};
use akta_domain::optional_text_multiline;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_date, parse_id, ApiJson};
use crate::routes::openapi::Page;
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ResubmissionDate)]
#[serde(deny_unknown_fields)]
pub struct ResubmissionBody {
    #[schema(format = Date)]
    date: String,
}

/// The person a Wiedervorlage returns to; tokens set it for everyone.
async fn set(
    state: &AppState,
    writer: &Writer,
    target: ResubmissionTarget,
    date: Option<time::Date>,
) -> Result<(), ApiError> {
    state
        .core
        .set_resubmission(&writer.principal, target, date, None)
        .await?;
    Ok(())
}

#[utoipa::path(
    put,
    path = "/api/v1/files/{id}/resubmission",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlagedatum der Akte setzen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = ResubmissionBody,
    responses((status = 200, description = "`date`", body = Object))
)]
pub async fn put_file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResubmissionBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let date = parse_date("date", &body.date)?;
    set(&state, &writer, ResubmissionTarget::File(id), Some(date)).await?;
    Ok(Json(json!({"date": body.date})))
}

#[utoipa::path(
    delete,
    path = "/api/v1/files/{id}/resubmission",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlagedatum der Akte löschen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 204, description = "Gelöscht"))
)]
pub async fn delete_file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    set(&state, &writer, ResubmissionTarget::File(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/cases/{id}/resubmission",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlagedatum des Vorgangs setzen",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    request_body = ResubmissionBody,
    responses((status = 200, description = "`date`", body = Object))
)]
pub async fn put_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResubmissionBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let date = parse_date("date", &body.date)?;
    set(&state, &writer, ResubmissionTarget::Case(id), Some(date)).await?;
    Ok(Json(json!({"date": body.date})))
}

#[utoipa::path(
    delete,
    path = "/api/v1/cases/{id}/resubmission",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlagedatum des Vorgangs löschen",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    responses((status = 204, description = "Gelöscht"))
)]
pub async fn delete_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    set(&state, &writer, ResubmissionTarget::Case(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/files/{id}/resubmissions` and `/api/v1/cases/{id}/resubmissions`: one more
/// Wiedervorlage, for `user_id` (a colleague) or the caller, with a note.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewResubmission)]
#[serde(deny_unknown_fields)]
pub struct NewBody {
    #[schema(format = Date)]
    due_on: String,
    user_id: Option<Uuid>,
    note: Option<String>,
}

async fn add(
    state: &AppState,
    writer: &Writer,
    target: ResubmissionTarget,
    body: NewBody,
) -> Result<Response, ApiError> {
    let new = NewResubmission {
        due_on: parse_date("due_on", &body.due_on)?,
        user_id: body.user_id,
        note: optional_text_multiline("note", body.note.as_deref().unwrap_or(""), 2000)?,
    };
    let created = state
        .core
        .add_resubmission(&writer.principal, target, new)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/files/{id}/resubmissions",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlage an einer Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = NewBody,
    responses((status = 201, description = "Die Wiedervorlage", body = Object))
)]
pub async fn add_to_file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    add(&state, &writer, ResubmissionTarget::File(id), body).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/resubmissions",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlage an einem Vorgang",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    request_body = NewBody,
    responses((status = 201, description = "Die Wiedervorlage", body = Object))
)]
pub async fn add_to_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    add(&state, &writer, ResubmissionTarget::Case(id), body).await
}

/// `GET /api/v1/files/{id}/resubmissions`: the open ones on the Akte and its Vorgänge.
#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/resubmissions",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlagen der Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Wiedervorlagen", body = Page))
)]
pub async fn list_in_file(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let items = state
        .core
        .resubmissions_in_file(&reader.principal, id)
        .await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

/// `POST /api/v1/resubmissions/{id}/done`: marks it done.
#[utoipa::path(
    post,
    path = "/api/v1/resubmissions/{id}/done",
    tag = "Wiedervorlagen",
    summary = "Wiedervorlage erledigen",
    params(("id" = uuid::Uuid, Path, description = "Wiedervorlage")),
    responses((status = 200, description = "Die Wiedervorlage", body = Object))
)]
pub async fn done(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let ended = state
        .core
        .complete_resubmission(&writer.principal, id)
        .await?;
    Ok(Json(json!(ended)))
}
