//! Wiedervorlage (resubmission date) of an Akte or Vorgang: `PUT {"date": "2026-12-01"}`
//! sets it for the calling user (for everyone when a token sets it), `DELETE` clears it.

use akta_core::model::ResubmissionTarget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Writer;
use crate::input::{parse_date, parse_id, ApiJson};
use crate::{ApiError, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResubmissionBody {
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
        .set_resubmission(&writer.principal, target, date)
        .await?;
    Ok(())
}

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

pub async fn delete_file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    set(&state, &writer, ResubmissionTarget::File(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

pub async fn delete_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    set(&state, &writer, ResubmissionTarget::Case(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}
