//! A person's desk over REST (session users only; tokens have none): favourite Akten and
//! Vertretung.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_date, parse_id, ApiJson};
use crate::{ApiError, AppState};

/// `PUT /api/v1/files/{id}/favourite`
#[utoipa::path(
    put,
    path = "/api/v1/files/{id}/favourite",
    tag = "Schreibtisch",
    summary = "Akte als Favorit merken",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 204, description = "Gemerkt"))
)]
pub async fn add_favourite(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state
        .core
        .set_favourite(&reader.principal, id, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/files/{id}/favourite`
#[utoipa::path(
    delete,
    path = "/api/v1/files/{id}/favourite",
    tag = "Schreibtisch",
    summary = "Favorit entfernen",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 204, description = "Entfernt"))
)]
pub async fn remove_favourite(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state
        .core
        .set_favourite(&reader.principal, id, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/desk`: my favourites, recently opened Akten and Vertretungen.
#[utoipa::path(
    get,
    path = "/api/v1/desk",
    tag = "Schreibtisch",
    summary = "Mein Schreibtisch: Favoriten, zuletzt geöffnet, Vertretungen",
    responses((status = 200, description = "`favourites`, `recent`, `deputies`", body = Object))
)]
pub async fn desk(State(state): State<AppState>, reader: Reader) -> Result<Json<Value>, ApiError> {
    let desk = state.core.desk(&reader.principal).await?;
    Ok(Json(json!({
        "favourites": desk.favourites,
        "recent": desk.recent,
        "deputies": desk.deputies,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewDeputy)]
#[serde(deny_unknown_fields)]
pub struct DeputyBody {
    deputy_id: Uuid,
    #[schema(format = Date)]
    from: String,
    #[schema(format = Date)]
    until: String,
}

/// `POST /api/v1/deputies`: a colleague stands in for me from `from` to `until`.
#[utoipa::path(
    post,
    path = "/api/v1/deputies",
    tag = "Schreibtisch",
    summary = "Vertretung benennen",
    request_body = DeputyBody,
    responses((status = 201, description = "Die Vertretung", body = Object))
)]
pub async fn name_deputy(
    State(state): State<AppState>,
    writer: Writer,
    ApiJson(body): ApiJson<DeputyBody>,
) -> Result<Response, ApiError> {
    let from = parse_date("from", &body.from)?;
    let until = parse_date("until", &body.until)?;
    let named = state
        .core
        .name_deputy(&writer.principal, body.deputy_id, from, until)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(named))).into_response())
}

/// `DELETE /api/v1/deputies/{id}`: ends a Vertretung I named.
#[utoipa::path(
    delete,
    path = "/api/v1/deputies/{id}",
    tag = "Schreibtisch",
    summary = "Vertretung beenden",
    params(("id" = uuid::Uuid, Path, description = "Vertretung")),
    responses((status = 204, description = "Beendet"))
)]
pub async fn end_deputy(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "id")?;
    state.core.end_deputy(&writer.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
