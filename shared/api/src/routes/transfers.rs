//! Transfers out of Akta in xdomea: `POST /transfers`, `GET /transfers/{id}`, the messages Akta
//! produces (`GET /transfers/{id}/messages/{code}`) and those it takes
//! (`POST /transfers/{id}/messages`, XML or a zip holding it). Thin: the core decides.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Reader;
use crate::input::{parse_id, ApiJson};
use crate::{ApiError, AppState};

/// Largest message body taken (a zip of an XML message; primary documents go elsewhere).
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    kind: String,
    file_ids: Vec<Uuid>,
    /// For an Abgabe inside Akta: the receiving tenant.
    to_tenant: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    reader: Reader,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    if body.to_tenant.is_some() && body.kind != "abgabe" {
        return Err(ApiError::validation(
            "to_tenant",
            "is given only for an Abgabe",
        ));
    }
    let view = state
        .core
        .create_transfer(&reader.principal, &body.kind, &body.file_ids)
        .await?;
    let location = format!("/api/v1/transfers/{}", view.transfer.id);
    let mut response = (StatusCode::CREATED, Json(json!(view))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let view = state.core.transfer(&reader.principal, id).await?;
    Ok(Json(json!(view)))
}

pub async fn message(
    State(state): State<AppState>,
    reader: Reader,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation(
            "code",
            "must be a message code like 0501",
        ));
    }
    let produced = state
        .core
        .transfer_message(&reader.principal, id, &code)
        .await?;
    let mut response = produced.bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(produced.media_type),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", produced.file_name))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

pub async fn receive(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let received = state
        .core
        .receive_transfer_message(&reader.principal, id, &body)
        .await?;
    Ok(Json(json!(received)))
}
