//! REST routes of the Aktenplan (plan units).

use akta_core::model::NewPlanUnit;
use akta_domain::{bounded_text, Disposition, PlanCode, Retention};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Admin, Reader};
use crate::input::{double_option, page_limit, parse_cursor, parse_id, ApiJson, ApiQuery};
use crate::routes::openapi::Binary;
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewPlanUnit)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    code: String,
    title: String,
    parent_id: Option<Uuid>,
    /// Absent: inherit; `null`: unbefristet; a number: years.
    #[serde(default, deserialize_with = "double_option")]
    retention_years: Option<Option<i64>>,
    #[schema(value_type = Option<akta_domain::Disposition>)]
    disposition: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/plan-units",
    tag = "Aktenplan",
    summary = "Aktenplaneinheit anlegen; ihr Kennzeichen verlängert das der übergeordneten (Admin)",
    request_body = CreateBody,
    responses((status = 201, description = "Die neue Einheit", body = akta_core::model::PlanUnit, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let new = NewPlanUnit {
        code: PlanCode::parse(&body.code)?,
        title: bounded_text("title", &body.title, 300)?,
        parent_id: body.parent_id,
        retention: body
            .retention_years
            .map(Retention::from_years)
            .transpose()?,
        disposition: body
            .disposition
            .as_deref()
            .map(Disposition::parse)
            .transpose()?,
    };
    let unit = state.core.create_plan_unit(&admin.principal, new).await?;
    let location = format!("/api/v1/plan-units/{}", unit.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(unit)),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/plan-units/{id}",
    tag = "Aktenplan",
    summary = "Eine Aktenplaneinheit",
    params(("id" = uuid::Uuid, Path, description = "Aktenplaneinheit")),
    responses((status = 200, description = "Die Einheit", body = akta_core::model::PlanUnit))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    Ok(Json(json!(
        state.core.plan_unit(&reader.principal, id).await?
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    parent_id: Option<Uuid>,
    cursor: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/plan-units",
    tag = "Aktenplan",
    summary = "Aktenplaneinheiten auflisten",
    params(ListQuery),
    responses((status = 200, description = "Eine Seite Einheiten", body = super::openapi::PlanUnitPage))
)]
pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let after = parse_cursor(q.cursor.as_deref())?;
    let limit = page_limit(q.limit)?;
    let page = state
        .core
        .list_plan_units(&reader.principal, q.parent_id, after, limit)
        .await?;
    Ok(Json(json!(page)))
}

/// `GET /plan-units/export`: the Aktenplan as `Aktenplan.Aktenplan.0301`.
#[utoipa::path(
    get,
    path = "/api/v1/plan-units/export",
    tag = "Aktenplan",
    summary = "Aktenplan als xdomea-0301-Nachricht",
    responses((status = 200, description = "xdomea 0301", content_type = "application/xml", body = String))
)]
pub async fn export(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<axum::response::Response, ApiError> {
    let xml = state.core.export_plan(&reader.principal).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"Aktenplan.Aktenplan.0301.xml\"",
            ),
        ],
        xml,
    )
        .into_response())
}

/// `POST /plan-units/import`: an `Aktenplan.Aktenplan.0301` as the body; answers the report.
#[utoipa::path(
    post,
    path = "/api/v1/plan-units/import",
    tag = "Aktenplan",
    summary = "Aktenplan aus einer xdomea-0301-Nachricht übernehmen (Admin)",
    request_body(content((String = "application/xml"), (Binary = "application/octet-stream")), description = "xdomea-0301-Nachricht"),
    responses((status = 200, description = "Bericht der Übernahme", body = Object))
)]
pub async fn import(
    State(state): State<AppState>,
    admin: Admin,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let report = state.core.import_plan(&admin.principal, &body).await?;
    Ok(Json(json!(report)))
}
