//! Amtshilfe over REST: the owner shares an Akte (or a Vorgang of it) with another tenant and
//! ends the share; the receiving tenant lists what is shared with it and then reads with the
//! ordinary routes and the shared ids.

use akta_core::ShareRequest;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_date, parse_id, ApiJson};
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewShare)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    tenant: String,
    /// `YYYY-MM-DD`, today at the earliest, at most three years ahead.
    #[schema(format = Date)]
    until: String,
    reason: String,
    case_id: Option<Uuid>,
}

/// `POST /api/v1/files/{id}/shares`.
#[utoipa::path(
    post,
    path = "/api/v1/files/{id}/shares",
    tag = "Amtshilfe",
    summary = "Akte (oder einen Vorgang) mit einem anderen Mandanten teilen, nur lesend und befristet",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body = ShareBody,
    responses((status = 201, description = "Die Freigabe", body = Object))
)]
pub async fn create(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ShareBody>,
) -> Result<Response, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let until = parse_date("until", &body.until)?;
    akta_domain::check_input("tenant", &body.tenant)?;
    let share = state
        .core
        .share_file(
            &writer.principal,
            file_id,
            ShareRequest {
                tenant: &body.tenant,
                until,
                reason: &body.reason,
                case_id: body.case_id,
            },
        )
        .await?;
    let location = format!("/api/v1/files/{file_id}/shares/{}", share.id);
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        Json(share),
    )
        .into_response())
}

/// `GET /api/v1/files/{id}/shares`.
#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/shares",
    tag = "Amtshilfe",
    summary = "Freigaben einer Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Freigaben", body = Object))
)]
pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let items = state.core.file_shares(&reader.principal, file_id).await?;
    Ok(Json(json!({ "items": items })))
}

/// `DELETE /api/v1/files/{id}/shares/{share}`: the share ends now.
#[utoipa::path(
    delete,
    path = "/api/v1/files/{id}/shares/{share}",
    tag = "Amtshilfe",
    summary = "Freigabe sofort beenden",
    params(("id" = uuid::Uuid, Path, description = "Akte"), ("share" = uuid::Uuid, Path, description = "Freigabe")),
    responses((status = 200, description = "Die beendete Freigabe", body = Object))
)]
pub async fn revoke(
    State(state): State<AppState>,
    writer: Writer,
    Path((id, share)): Path<(String, String)>,
) -> Result<Json<akta_core::model::Share>, ApiError> {
    let file_id = parse_id(&id, "id")?;
    let share_id = parse_id(&share, "share")?;
    Ok(Json(
        state
            .core
            .revoke_share(&writer.principal, file_id, share_id)
            .await?,
    ))
}

/// `GET /api/v1/shared-with-us`: the open shares other tenants gave this one.
#[utoipa::path(
    get,
    path = "/api/v1/shared-with-us",
    tag = "Amtshilfe",
    summary = "Was andere Mandanten mit uns teilen (offene Freigaben)",
    responses((status = 200, description = "Die Freigaben", body = Object))
)]
pub async fn shared_with_us(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = state.core.shared_with_us(&reader.principal).await?;
    Ok(Json(json!({ "items": items })))
}
