//! REST routes of Akten and Vorgänge: parse, call the core, answer.

use akta_core::model::{FileFilter, NewFile};
use akta_core::{CaseUpdate, FileUpdate};
use akta_domain::{bounded_text, Confidentiality, FileStatus};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{
    check_metadata, double_option, page_limit, parse_cursor, parse_date, parse_id, ApiJson,
    ApiQuery,
};
use crate::routes::openapi::{Binary, Page};
use crate::routes::versioned::{if_match, versioned};
use crate::{ApiError, AppState};

const SUBJECT_MAX: usize = 500;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewFile)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    plan_unit_id: Uuid,
    subject: String,
    lead_org_unit_id: Option<Uuid>,
    #[schema(value_type = Option<akta_domain::Confidentiality>)]
    confidentiality: Option<String>,
    #[schema(format = Date)]
    period_from: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

#[utoipa::path(
    post,
    path = "/api/v1/files",
    tag = "Akten",
    summary = "Akte anlegen",
    request_body = CreateBody,
    responses((status = 201, description = "Die neue Akte", body = akta_core::model::FileRecord, headers(("Location" = String, description = "Adresse der neuen Ressource"), ("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
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
    let file = state.core.create_file(&writer.principal, new).await?;
    let location = format!("/api/v1/files/{}", file.id);
    versioned(StatusCode::CREATED, &file, file.row_version, Some(location))
}

#[utoipa::path(
    get,
    path = "/api/v1/files/{id}",
    tag = "Akten",
    summary = "Eine Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Akte", body = akta_core::model::FileRecord, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let file = state.core.file(&reader.principal, id).await?;
    versioned(StatusCode::OK, &file, file.row_version, None)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    plan_unit_id: Option<Uuid>,
    #[param(value_type = Option<akta_domain::FileStatus>, inline)]
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/files",
    tag = "Akten",
    summary = "Akten auflisten",
    params(ListQuery),
    responses((status = 200, description = "Eine Seite Akten", body = super::openapi::FilePage))
)]
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
    let page = state
        .core
        .list_files(&reader.principal, &filter, after, limit)
        .await?;
    Ok(Json(json!(page)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = FileChange)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    subject: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    lead_org_unit_id: Option<Option<Uuid>>,
    #[schema(value_type = Option<akta_domain::Confidentiality>)]
    confidentiality: Option<String>,
    #[schema(value_type = Option<akta_domain::FileStatus>)]
    status: Option<String>,
    /// Required when reopening (`"status": "offen"`).
    reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
    /// With `"status": "zdA"`: the day it was closed on paper (admins only).
    #[schema(format = Date)]
    closed_on: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/files/{id}",
    tag = "Akten",
    summary = "Akte ändern, schließen (zdA) oder wieder öffnen",
    params(("id" = uuid::Uuid, Path, description = "Akte"), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Fassung (sonst 428)")),
    request_body = PatchBody,
    responses((status = 200, description = "Die Akte", body = akta_core::model::FileRecord, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn patch(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let update = FileUpdate {
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
        reason: body.reason,
        metadata: body
            .metadata
            .map(|m| check_metadata("metadata", Some(m)))
            .transpose()?,
        closed_on: body
            .closed_on
            .as_deref()
            .map(|d| parse_date("closed_on", d))
            .transpose()?,
    };
    let file = state
        .core
        .update_file(&writer.principal, id, if_match(&headers), update)
        .await?;
    versioned(StatusCode::OK, &file, file.row_version, None)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewCase)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    subject: String,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

#[utoipa::path(
    post,
    path = "/api/v1/files/{id}/cases",
    tag = "Akten",
    summary = "Vorgang in der Akte anlegen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = CaseBody,
    responses((status = 201, description = "Der neue Vorgang", body = akta_core::model::Case, headers(("Location" = String, description = "Adresse der neuen Ressource"), ("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn create_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CaseBody>,
) -> Result<Response, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let subject = bounded_text("subject", &body.subject, SUBJECT_MAX)?;
    let metadata = check_metadata("metadata", body.metadata)?;
    let case = state
        .core
        .create_case(&writer.principal, file_id, &subject, metadata)
        .await?;
    let location = format!("/api/v1/cases/{}", case.id);
    versioned(StatusCode::CREATED, &case, case.row_version, Some(location))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/cases",
    tag = "Akten",
    summary = "Vorgänge der Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte"), PageQuery),
    responses((status = 200, description = "Eine Seite Vorgänge", body = super::openapi::CasePage))
)]
pub async fn list_cases(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let limit = page_limit(q.limit)?;
    let cases = state
        .core
        .list_cases(&reader.principal, file_id, after, limit)
        .await?;
    Ok(Json(json!(cases)))
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "Akten",
    summary = "Ein Vorgang",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    responses((status = 200, description = "Der Vorgang", body = akta_core::model::Case, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn get_case(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let case = state.core.case(&reader.principal, id).await?;
    versioned(StatusCode::OK, &case, case.row_version, None)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CaseChange)]
#[serde(deny_unknown_fields)]
pub struct CasePatchBody {
    subject: Option<String>,
    #[schema(value_type = Option<akta_domain::FileStatus>)]
    status: Option<String>,
    /// Required when reopening (`"status": "offen"`).
    reason: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/cases/{id}",
    tag = "Akten",
    summary = "Vorgang ändern, schließen oder wieder öffnen",
    params(("id" = uuid::Uuid, Path, description = "Vorgang"), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Fassung (sonst 428)")),
    request_body = CasePatchBody,
    responses((status = 200, description = "Der Vorgang", body = akta_core::model::Case, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn patch_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CasePatchBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let update = CaseUpdate {
        subject: body
            .subject
            .as_deref()
            .map(|s| bounded_text("subject", s, SUBJECT_MAX))
            .transpose()?,
        status: body.status.as_deref().map(FileStatus::parse).transpose()?,
        reason: body.reason,
    };
    let case = state
        .core
        .update_case(&writer.principal, id, if_match(&headers), update)
        .await?;
    versioned(StatusCode::OK, &case, case.row_version, None)
}

#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/history",
    tag = "Akten",
    summary = "Verlauf der Akte (Protokoll)",
    params(("id" = uuid::Uuid, Path, description = "Akte"), PageQuery),
    responses((status = 200, description = "Eine Seite Einträge", body = Page))
)]
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
    let history = state
        .core
        .file_history(&reader.principal, file_id, after, limit)
        .await?;
    Ok(Json(json!(history)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Hold)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    reason: String,
    /// Holds until the end of this day; absent or null: until lifted.
    #[schema(format = Date)]
    until: Option<String>,
}

/// `PUT /files/{id}/hold`: sets the legal hold (Aussonderungssperre).
#[utoipa::path(
    put,
    path = "/api/v1/files/{id}/hold",
    tag = "Akten",
    summary = "Aussonderungssperre setzen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = HoldBody,
    responses((status = 200, description = "Die Akte", body = akta_core::model::FileRecord, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn put_hold(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let until = body
        .until
        .as_deref()
        .map(|d| parse_date("until", d))
        .transpose()?;
    let file = state
        .core
        .set_hold(&reader.principal, id, &body.reason, until)
        .await?;
    versioned(StatusCode::OK, &file, file.row_version, None)
}

/// `DELETE /files/{id}/hold`: lifts it.
#[utoipa::path(
    delete,
    path = "/api/v1/files/{id}/hold",
    tag = "Akten",
    summary = "Aussonderungssperre aufheben",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Akte", body = akta_core::model::FileRecord, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn delete_hold(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let file = state.core.lift_hold(&reader.principal, id).await?;
    versioned(StatusCode::OK, &file, file.row_version, None)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    plan_unit_id: Option<Uuid>,
    year: Option<i32>,
}

/// `GET /disposal/due`: closed Akten due for Aussonderung (archivists and admins).
#[utoipa::path(
    get,
    path = "/api/v1/disposal/due",
    tag = "Aussonderung",
    summary = "Akten, deren Aufbewahrungsfrist abgelaufen ist",
    params(DueQuery),
    responses((status = 200, description = "Die fälligen Akten", body = Page))
)]
pub async fn due(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> Result<Json<Value>, ApiError> {
    let items = state
        .core
        .due_for_disposal(&reader.principal, q.plan_unit_id, q.year)
        .await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Retention)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// Absent: inherit from the plan unit; `null`: unbefristet; a number: years.
    #[serde(default, deserialize_with = "double_option")]
    retention_years: Option<Option<i64>>,
    /// Absent or `null`: inherit; `A`, `B` or `V`.
    #[schema(value_type = Option<akta_domain::Disposition>)]
    disposition: Option<String>,
}

/// `PUT /files/{id}/retention`: the Akte's own Aufbewahrung (archivists and admins).
#[utoipa::path(
    put,
    path = "/api/v1/files/{id}/retention",
    tag = "Akten",
    summary = "Aufbewahrungsfrist und Aussonderungsart der Akte setzen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = RetentionBody,
    responses((status = 200, description = "Die Akte", body = akta_core::model::FileRecord, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn put_retention(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RetentionBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let retention = body
        .retention_years
        .map(akta_domain::Retention::from_years)
        .transpose()?;
    let disposition = body
        .disposition
        .as_deref()
        .map(akta_domain::Disposition::parse)
        .transpose()?;
    let file = state
        .core
        .set_file_retention(&reader.principal, id, retention, disposition)
        .await?;
    versioned(StatusCode::OK, &file, file.row_version, None)
}

/// `GET /api/v1/files/{id}/summary.pdf`: the Aktenauszug (Aktendeckel and
/// Inhaltsverzeichnis) as a PDF, shown inline.
#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/summary.pdf",
    tag = "Akten",
    summary = "Aktenauszug als PDF",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Der Aktenauszug", content_type = "application/pdf", body = Binary))
)]
pub async fn summary_pdf(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let pdf = state.core.aktenauszug(&reader.principal, id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"Aktenauszug.pdf\""),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        pdf,
    )
        .into_response())
}
