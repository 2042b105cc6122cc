//! The Posteingang over REST: scanners and Fachverfahren deliver documents without an Akte
//! (multipart like a document upload), clerks list, preview, file and forward them.

use akta_core::model::DocumentTarget;
use akta_core::{Delivery, DocumentUpdate, Forward};
use akta_domain::{bounded_text, optional_text, DocumentKind};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{parse_date, parse_id, parse_json, ApiJson, ApiQuery};
use crate::routes::documents::{missing_part, read_upload, serve_content, ContentQuery};
use crate::routes::openapi::Binary;
use crate::routes::versioned::{if_match, versioned};
use crate::{ApiError, AppState};

/// The optional `metadata` part of a delivery.
/// A delivery into the Posteingang: optionally the `metadata` part (JSON), then `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only described: the parts are read one by one as they stream
pub(crate) struct InboxUpload {
    metadata: Option<DeliveryMetadata>,
    #[schema(value_type = Binary)]
    file: Vec<u8>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = DeliveryMetadata)]
#[serde(deny_unknown_fields)]
struct DeliveryMetadata {
    title: Option<String>,
    #[schema(value_type = Option<akta_domain::DocumentKind>)]
    kind: Option<String>,
    sender: Option<String>,
    #[schema(format = Date)]
    document_date: Option<String>,
    note: Option<String>,
    org_unit_id: Option<Uuid>,
    user_id: Option<Uuid>,
}

fn delivery(bytes: &[u8]) -> Result<Delivery, ApiError> {
    let m: DeliveryMetadata = parse_json(bytes, "metadata.")?;
    let prefixed = |e: akta_domain::DomainError| {
        ApiError::validation(format!("metadata.{}", e.field), e.message)
    };
    if m.org_unit_id.is_some() && m.user_id.is_some() {
        return Err(ApiError::validation(
            "metadata.user_id",
            "address a delivery to a person or an org unit, not both",
        ));
    }
    Ok(Delivery {
        org_unit_id: m.org_unit_id,
        user_id: m.user_id,
        title: m
            .title
            .as_deref()
            .map(|t| bounded_text("title", t, 300))
            .transpose()
            .map_err(prefixed)?,
        kind: m
            .kind
            .as_deref()
            .map(DocumentKind::parse)
            .transpose()
            .map_err(prefixed)?,
        sender: optional_text("sender", m.sender.as_deref().unwrap_or(""), 300)
            .map_err(prefixed)?,
        document_date: m
            .document_date
            .as_deref()
            .map(|d| parse_date("metadata.document_date", d))
            .transpose()?,
        note: optional_text("note", m.note.as_deref().unwrap_or(""), 2000).map_err(prefixed)?,
    })
}

/// `POST /api/v1/inbox`: a `file` part and an optional `metadata` part (title, kind,
/// sender, document_date, note, and `org_unit_id` or `user_id`; neither: the general one).
#[utoipa::path(
    post,
    path = "/api/v1/inbox",
    tag = "Posteingang",
    summary = "Eingang in den Posteingang legen (Multipart)",
    request_body(content = InboxUpload, content_type = "multipart/form-data", description = "Optional Teil `metadata` (JSON), dann Teil `file`"),
    responses((status = 201, description = "Der Eingang", body = Object, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn deliver(
    State(state): State<AppState>,
    writer: Writer,
    req: Request,
) -> Result<Response, ApiError> {
    let upload = state.core.upload(&writer.principal)?;
    let parts = read_upload(&state, &upload, req, Some(delivery)).await?;
    let Some(blob) = parts.file else {
        return Err(missing_part("file"));
    };
    let item = state
        .core
        .deliver_to_inbox(&upload, blob, parts.metadata.unwrap_or_default())
        .await?;
    versioned(
        StatusCode::CREATED,
        &item,
        item.row_version,
        Some(format!("/api/v1/inbox/{}", item.id)),
    )
}

/// `GET /api/v1/inbox`: what waits in the caller's Posteingang, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    tag = "Posteingang",
    summary = "Posteingang",
    responses((status = 200, description = "Die offenen Eingänge", body = super::openapi::InboxList))
)]
pub async fn list(State(state): State<AppState>, reader: Reader) -> Result<Json<Value>, ApiError> {
    let items = state.core.inbox(&reader.principal).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

#[utoipa::path(
    get,
    path = "/api/v1/inbox/{id}",
    tag = "Posteingang",
    summary = "Ein Eingang",
    params(("id" = uuid::Uuid, Path, description = "Eingang")),
    responses((status = 200, description = "Der Eingang", body = akta_core::model::InboxItem, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let item = state.core.inbox_item(&reader.principal, id).await?;
    versioned(StatusCode::OK, &item, item.row_version, None)
}

/// `GET /api/v1/inbox/{id}/content`: the waiting item's content (`?disposition=inline` for
/// the preview).
#[utoipa::path(
    get,
    path = "/api/v1/inbox/{id}/content",
    tag = "Posteingang",
    summary = "Inhalt eines Eingangs",
    params(("id" = uuid::Uuid, Path, description = "Eingang"), ContentQuery),
    responses((status = 200, description = "Der Inhalt mit seinem Medientyp (Range-Anfragen möglich)", content_type = "*/*", body = Binary, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))), (status = 206, description = "Ein Teil des Inhalts", content_type = "*/*", body = Binary), (status = 304, description = "Unverändert seit If-None-Match"), (status = 416, description = "Bereich nicht erfüllbar", content_type = "application/problem+json", body = crate::error::Problem))
)]
pub async fn content(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let readable = state.core.open_inbox_item(&reader.principal, id).await?;
    serve_content(readable, &headers, q.disposition).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = InboxFiling)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    file_id: Option<Uuid>,
    case_id: Option<Uuid>,
    title: Option<String>,
    #[schema(value_type = Option<akta_domain::DocumentKind>)]
    kind: Option<String>,
    sender: Option<String>,
    recipient: Option<String>,
    #[schema(format = Date)]
    document_date: Option<String>,
}

/// `POST /api/v1/inbox/{id}/file`: files the item into an Akte (`file_id`) or a Vorgang
/// (`case_id`) with its metadata (absent fields keep what the item has); 201 with the new
/// document. `If-Match` is optional: an item is filed once, a second filing answers 409.
#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}/file",
    tag = "Posteingang",
    summary = "Eingang als Dokument zu den Akten nehmen",
    params(("id" = uuid::Uuid, Path, description = "Eingang"), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Fassung (sonst 428)")),
    request_body = FileBody,
    responses((status = 201, description = "Das neue Dokument", body = akta_core::model::Document, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FileBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let target = match (body.file_id, body.case_id) {
        (Some(f), None) => DocumentTarget::File(f),
        (None, Some(c)) => DocumentTarget::Case(c),
        _ => {
            return Err(ApiError::validation(
                "file_id",
                "give either file_id (an Akte) or case_id (a Vorgang)",
            ))
        }
    };
    let details = DocumentUpdate {
        title: body
            .title
            .as_deref()
            .map(|t| bounded_text("title", t, 300))
            .transpose()?,
        kind: body.kind.as_deref().map(DocumentKind::parse).transpose()?,
        sender: body
            .sender
            .as_deref()
            .map(|s| optional_text("sender", s, 300))
            .transpose()?,
        recipient: body
            .recipient
            .as_deref()
            .map(|r| optional_text("recipient", r, 300))
            .transpose()?,
        document_date: body
            .document_date
            .as_deref()
            .map(|d| parse_date("document_date", d).map(Some))
            .transpose()?,
        metadata: None,
    };
    let doc = state
        .core
        .file_inbox_item(&writer.principal, id, if_match(&headers), target, details)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/documents/{}", doc.id))],
        Json(json!(doc)),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = InboxForward)]
#[serde(deny_unknown_fields)]
pub struct ForwardBody {
    user_id: Option<Uuid>,
    org_unit_id: Option<Uuid>,
    note: Option<String>,
}

/// `POST /api/v1/inbox/{id}/forward`: to a colleague (`user_id`) or an org unit, with a note.
#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}/forward",
    tag = "Posteingang",
    summary = "Eingang weiterleiten",
    params(("id" = uuid::Uuid, Path, description = "Eingang"), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Fassung (sonst 428)")),
    request_body = ForwardBody,
    responses((status = 200, description = "Der Eingang", body = akta_core::model::InboxItem, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn forward(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ForwardBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let to = match (body.user_id, body.org_unit_id) {
        (Some(u), None) => Forward::Person(u),
        (None, Some(o)) => Forward::OrgUnit(o),
        _ => {
            return Err(ApiError::validation(
                "user_id",
                "give either user_id (a colleague) or org_unit_id (an org unit)",
            ))
        }
    };
    let note = optional_text("note", body.note.as_deref().unwrap_or(""), 2000)?;
    let item = state
        .core
        .forward_inbox_item(&writer.principal, id, if_match(&headers), to, note)
        .await?;
    versioned(StatusCode::OK, &item, item.row_version, None)
}
