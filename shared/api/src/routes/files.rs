use akta_db::{FileChanges, FileFilter, NewFile};
use akta_domain::{bounded_text, Confidentiality, FileStatus};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::extract::{
    check_metadata, double_option, page_limit, parse_cursor, parse_date, parse_id, ApiJson,
    ApiQuery,
};
use crate::{ApiError, AppState};

const SUBJECT_MAX: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    plan_unit_id: Uuid,
    subject: String,
    lead_org_unit_id: Option<Uuid>,
    confidentiality: Option<String>,
    period_from: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// The ETag of an Akte is its row version, which every change increments.
fn file_response(status: StatusCode, file: &akta_db::FileRecord) -> Result<Response, ApiError> {
    let etag = HeaderValue::from_str(&format!("\"v{}\"", file.row_version))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (status, Json(json!(file))).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    if status == StatusCode::CREATED {
        let location = HeaderValue::from_str(&format!("/api/v1/files/{}", file.id))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn create(
    State(state): State<AppState>,
    writer: Writer,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let new = NewFile {
        plan_unit_id: body.plan_unit_id,
        subject: bounded_text("subject", &body.subject, SUBJECT_MAX)?,
        lead_org_unit_id: body.lead_org_unit_id,
        confidentiality: body
            .confidentiality
            .as_deref()
            .map(Confidentiality::parse)
            .transpose()?
            .unwrap_or(Confidentiality::Normal),
        period_from: body
            .period_from
            .as_deref()
            .map(|d| parse_date("period_from", d))
            .transpose()?,
        metadata: check_metadata("metadata", body.metadata)?,
    };
    let mut tx = state.db.tx_for(&writer.principal).await?;
    let file = tx.create_file(new).await?;
    tx.commit().await?;
    file_response(StatusCode::CREATED, &file)
}

pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let mut tx = state.db.tx_for(&reader.principal).await?;
    let file = tx.file(id).await?;
    tx.note_read(id, "file", id).await?;
    tx.commit().await?;
    file_response(StatusCode::OK, &file)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    plan_unit_id: Option<Uuid>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = FileFilter {
        plan_unit_id: q.plan_unit_id,
        status: q
            .status
            .as_deref()
            .map(|s| {
                FileStatus::parse(s)
                    .map_err(|e| ApiError::bad_request("invalid_query", Some("status"), e.message))
            })
            .transpose()?,
    };
    let after = parse_cursor(q.cursor.as_deref())?;
    let limit = page_limit(q.limit)?;
    let mut tx = state.db.tx_for(&reader.principal).await?;
    Ok(Json(json!(tx.list_files(&filter, after, limit).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    subject: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    lead_org_unit_id: Option<Option<Uuid>>,
    confidentiality: Option<String>,
    status: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// `If-Match: "v3"` (weak or strong) → 3.
fn expected_version(headers: &HeaderMap) -> Result<i32, ApiError> {
    let raw = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.strip_prefix("\"v")
        .and_then(|r| r.strip_suffix('"'))
        .and_then(|n| n.parse().ok())
        .ok_or(ApiError::PreconditionFailed)
}

pub async fn patch(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let changes = FileChanges {
        subject: body
            .subject
            .as_deref()
            .map(|s| bounded_text("subject", s, SUBJECT_MAX))
            .transpose()?,
        lead_org_unit_id: body.lead_org_unit_id,
        confidentiality: body
            .confidentiality
            .as_deref()
            .map(Confidentiality::parse)
            .transpose()?,
        status: body.status.as_deref().map(FileStatus::parse).transpose()?,
        metadata: body
            .metadata
            .map(|m| check_metadata("metadata", Some(m)))
            .transpose()?,
    };
    let mut tx = state.db.tx_for(&writer.principal).await?;
    // Existence first: another tenant's id must answer 404, not 412 or 428.
    tx.file(id).await?;
    let expected = expected_version(&headers)?;
    let file = tx.update_file(id, expected, changes).await?;
    tx.commit().await?;
    file_response(StatusCode::OK, &file)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    subject: String,
    metadata: Option<Map<String, Value>>,
}

pub async fn create_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CaseBody>,
) -> Result<impl IntoResponse, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let subject = bounded_text("subject", &body.subject, SUBJECT_MAX)?;
    let metadata = check_metadata("metadata", body.metadata)?;
    let mut tx = state.db.tx_for(&writer.principal).await?;
    let case = tx.create_case(file_id, &subject, metadata).await?;
    tx.commit().await?;
    let location = format!("/api/v1/cases/{}", case.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(case)),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

pub async fn list_cases(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let limit = page_limit(q.limit)?;
    let mut tx = state.db.tx_for(&reader.principal).await?;
    let cases = tx.list_cases(file_id, after, limit).await?;
    tx.note_read(file_id, "cases", file_id).await?;
    tx.commit().await?;
    Ok(Json(json!(cases)))
}

pub async fn get_case(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let mut tx = state.db.tx_for(&reader.principal).await?;
    let case = tx.case(id).await?;
    tx.note_read(case.file_id, "case", id).await?;
    tx.commit().await?;
    Ok(Json(json!(case)))
}

pub async fn history(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::bad_request("invalid_query", Some("cursor"), "unknown cursor")
            })
        })
        .transpose()?;
    let limit = page_limit(q.limit)?;
    let mut tx = state.db.tx_for(&reader.principal).await?;
    let history = tx.file_history(file_id, after, limit).await?;
    tx.note_read(file_id, "history", file_id).await?;
    tx.commit().await?;
    Ok(Json(json!(history)))
}
