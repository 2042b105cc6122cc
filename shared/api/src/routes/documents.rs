//! REST routes of Dokumente: multipart uploads handed part by part to the core's upload
//! (which streams them sealed into the blob store and files them), downloads with ETag and
//! Range, extracted text, and metadata changes with If-Match.

use akta_blob::ByteRange;
use akta_core::model::{DocumentTarget, NewDocument};
use akta_core::{DocumentUpdate, StoredBlob, Upload};
use akta_domain::{bounded_text, optional_text, DocumentKind};
use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::{Reader, Writer};
use crate::input::{
    check_metadata, double_option, parse_date, parse_id, parse_json, ApiJson, ApiQuery,
};
use crate::routes::openapi::{Binary, Page};
use crate::routes::versioned::{if_match, versioned};
use crate::{ApiError, AppState};

const METADATA_PART_LIMIT: usize = 128 * 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DocumentMetadata)]
#[serde(deny_unknown_fields)]
struct UploadMetadata {
    title: String,
    #[schema(value_type = akta_domain::DocumentKind)]
    kind: String,
    sender: Option<String>,
    recipient: Option<String>,
    #[schema(format = Date)]
    document_date: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

impl UploadMetadata {
    /// Field names are prefixed with the part name so clients see `metadata.title`.
    fn into_new_document(self) -> Result<NewDocument, ApiError> {
        let prefixed = |e: akta_domain::DomainError| {
            ApiError::validation(format!("metadata.{}", e.field), e.message)
        };
        Ok(NewDocument {
            title: bounded_text("title", &self.title, 300).map_err(prefixed)?,
            kind: DocumentKind::parse(&self.kind).map_err(prefixed)?,
            sender: optional_text("sender", self.sender.as_deref().unwrap_or(""), 300)
                .map_err(prefixed)?,
            recipient: optional_text("recipient", self.recipient.as_deref().unwrap_or(""), 300)
                .map_err(prefixed)?,
            document_date: self
                .document_date
                .as_deref()
                .map(|d| parse_date("metadata.document_date", d))
                .transpose()?,
            metadata: check_metadata("metadata.metadata", self.metadata)?,
        })
    }
}

/// A new document: the `metadata` part (JSON) first, then the `file` part.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only described: the parts are read one by one as they stream
pub(crate) struct DocumentUpload {
    metadata: UploadMetadata,
    #[schema(value_type = Binary)]
    file: Vec<u8>,
}

/// A new version: optionally the `metadata` part (JSON, the Änderungsvermerk), then `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only described
pub(crate) struct VersionUpload {
    metadata: Option<VersionMetadata>,
    #[schema(value_type = Binary)]
    file: Vec<u8>,
}

pub(crate) struct Parts<M> {
    pub(crate) metadata: Option<M>,
    pub(crate) file: Option<StoredBlob>,
}

/// How a `metadata` part is read; `None`: the request takes none.
pub(crate) type MetadataParser<M> = Option<fn(&[u8]) -> Result<M, ApiError>>;

/// The answer when a required multipart part did not come.
pub(crate) fn missing_part(name: &str) -> ApiError {
    ApiError::bad_request(
        "missing_part",
        Some(name),
        format!("the multipart part '{name}' is missing"),
    )
}

/// The optional `metadata` part of a new version: `{"note": "…"}`, the Änderungsvermerk.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = VersionMetadata)]
#[serde(deny_unknown_fields)]
struct VersionMetadata {
    note: Option<String>,
}

fn version_metadata(bytes: &[u8]) -> Result<Option<String>, ApiError> {
    let meta: VersionMetadata = parse_json(bytes, "metadata.")?;
    akta_domain::optional_text_multiline("note", meta.note.as_deref().unwrap_or(""), 2000)
        .map_err(|e| ApiError::validation(format!("metadata.{}", e.field), e.message))
}

fn document_metadata(bytes: &[u8]) -> Result<NewDocument, ApiError> {
    let meta: UploadMetadata = parse_json(bytes, "metadata.")?;
    meta.into_new_document()
}

/// Reads all parts of an upload request, streaming the file part through the core's upload;
/// a `metadata` part before the file is checked before the file streams. On any failure, a
/// blob already written is removed before returning.
pub(crate) async fn read_upload<M>(
    state: &AppState,
    upload: &Upload,
    req: Request,
    metadata: MetadataParser<M>,
) -> Result<Parts<M>, ApiError> {
    let mut parts = Parts {
        metadata: None,
        file: None,
    };
    let result = read_parts(state, upload, req, metadata, &mut parts).await;
    if let Err(e) = result {
        if let Some(blob) = parts.file.take() {
            upload.discard_blob(blob).await;
        }
        return Err(e);
    }
    Ok(parts)
}

async fn read_parts<M>(
    state: &AppState,
    upload: &Upload,
    req: Request,
    metadata: MetadataParser<M>,
    parts: &mut Parts<M>,
) -> Result<(), ApiError> {
    let mut multipart = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_request("malformed_multipart", None, e.body_text()))?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request("malformed_multipart", None, e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "metadata" if metadata.is_some() && parts.metadata.is_none() => {
                let bytes = read_small(field, METADATA_PART_LIMIT).await?;
                if let Some(parse) = metadata {
                    parts.metadata = Some(parse(&bytes)?);
                }
            }
            "file" if parts.file.is_none() => {
                let file_name = field.file_name().unwrap_or("dokument").to_owned();
                let media_type = field.content_type().map(str::to_owned);
                parts.file = Some(
                    upload
                        .store(&file_name, media_type.as_deref(), field)
                        .await?,
                );
            }
            "metadata" | "file" => {
                return Err(ApiError::bad_request(
                    "unexpected_part",
                    Some(&name),
                    format!("the part '{name}' is not expected here or appears twice"),
                ))
            }
            _ => {
                return Err(ApiError::bad_request(
                    "unexpected_part",
                    Some(&name),
                    format!("unknown multipart part '{name}'"),
                ))
            }
        }
    }
    Ok(())
}

async fn read_small(mut field: Field<'_>, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request("malformed_multipart", None, e.body_text()))?
    {
        if out.len() + chunk.len() > limit {
            return Err(ApiError::validation(
                "metadata",
                "part is larger than 128 KiB",
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn create_document(
    state: AppState,
    writer: Writer,
    target: DocumentTarget,
    req: Request,
) -> Result<Response, ApiError> {
    let upload = state.core.upload(&writer.principal)?;
    // Fail fast on a wrong or closed target before reading a possibly large body.
    upload.check_target(target).await?;
    let parts = read_upload(&state, &upload, req, Some(document_metadata)).await?;
    let Some(blob) = parts.file else {
        return Err(missing_part("file"));
    };
    let Some(metadata) = parts.metadata else {
        upload.discard_blob(blob).await;
        return Err(missing_part("metadata"));
    };
    let doc = upload.commit_document(blob, target, metadata).await?;
    let location = format!("/api/v1/documents/{}", doc.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(doc)),
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/files/{id}/documents",
    tag = "Dokumente",
    summary = "Dokument in der Akte ablegen (Multipart)",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data", description = "Teil `metadata` (JSON) vor Teil `file` (die Datei)"),
    responses((status = 201, description = "Das neue Dokument", body = akta_core::model::Document, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn create_in_file(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    create_document(state, writer, DocumentTarget::File(id), req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/documents",
    tag = "Dokumente",
    summary = "Dokument im Vorgang ablegen (Multipart)",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data", description = "Teil `metadata` (JSON) vor Teil `file` (die Datei)"),
    responses((status = 201, description = "Das neue Dokument", body = akta_core::model::Document, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn create_in_case(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    create_document(state, writer, DocumentTarget::Case(id), req).await
}

#[utoipa::path(
    post,
    path = "/api/v1/documents/{id}/versions",
    tag = "Dokumente",
    summary = "Neue Version hochladen (Multipart)",
    params(("id" = uuid::Uuid, Path, description = "Dokument")),
    request_body(content = VersionUpload, content_type = "multipart/form-data", description = "Optional Teil `metadata` (JSON), dann Teil `file`"),
    responses((status = 201, description = "Die neue Version", body = akta_core::model::Version, headers(("Location" = String, description = "Adresse der neuen Ressource"))))
)]
pub async fn add_version(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let doc_id = parse_id(&id, "id")?;
    let upload = state.core.upload(&writer.principal)?;
    upload.check_version_target(doc_id).await?;
    let parts = read_upload(&state, &upload, req, Some(version_metadata)).await?;
    let Some(blob) = parts.file else {
        return Err(missing_part("file"));
    };
    let note = parts.metadata.flatten();
    let version = upload.commit_noted_version(blob, doc_id, note).await?;
    let location = format!("/api/v1/documents/{doc_id}/versions/{}/content", version.nr);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(json!(version)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}",
    tag = "Dokumente",
    summary = "Ein Dokument",
    params(("id" = uuid::Uuid, Path, description = "Dokument")),
    responses((status = 200, description = "Das Dokument", body = akta_core::model::Document, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let doc = state.core.document(&reader.principal, id).await?;
    versioned(StatusCode::OK, &doc, doc.row_version, None)
}

/// `PATCH /api/v1/documents/{id}`: the metadata a clerk can change; absent fields stay,
/// `null` clears an optional one.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DocumentChange)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    title: Option<String>,
    #[schema(value_type = Option<akta_domain::DocumentKind>)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    sender: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    recipient: Option<Option<String>>,
    #[schema(format = Date)]
    #[serde(default, deserialize_with = "double_option")]
    document_date: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/documents/{id}",
    tag = "Dokumente",
    summary = "Metadaten des Dokuments ändern; `null` leert ein Feld",
    params(("id" = uuid::Uuid, Path, description = "Dokument"), ("If-Match" = Option<String>, Header, description = "ETag der gelesenen Fassung (sonst 428)")),
    request_body = PatchBody,
    responses((status = 200, description = "Das Dokument", body = akta_core::model::Document, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))))
)]
pub async fn patch(
    State(state): State<AppState>,
    writer: Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let optional = |field: &str, v: Option<Option<String>>| {
        v.map(|v| optional_text(field, v.as_deref().unwrap_or(""), 300))
            .transpose()
    };
    let update = DocumentUpdate {
        title: body
            .title
            .as_deref()
            .map(|t| bounded_text("title", t, 300))
            .transpose()?,
        kind: body.kind.as_deref().map(DocumentKind::parse).transpose()?,
        sender: optional("sender", body.sender)?,
        recipient: optional("recipient", body.recipient)?,
        document_date: body
            .document_date
            .map(|d| {
                d.map(|d: String| parse_date("document_date", &d))
                    .transpose()
            })
            .transpose()?,
        metadata: body
            .metadata
            .map(|m| check_metadata("metadata", Some(m)))
            .transpose()?,
    };
    let doc = state
        .core
        .update_document(&writer.principal, id, if_match(&headers), update)
        .await?;
    versioned(StatusCode::OK, &doc, doc.row_version, None)
}

async fn list(
    state: AppState,
    reader: Reader,
    file: Option<Uuid>,
    case: Option<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let docs = state
        .core
        .list_documents(&reader.principal, file, case)
        .await?;
    Ok(Json(json!({"items": docs, "next_cursor": null})))
}

#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/documents",
    tag = "Dokumente",
    summary = "Dokumente der Akte",
    params(("id" = uuid::Uuid, Path, description = "Akte")),
    responses((status = 200, description = "Die Dokumente", body = super::openapi::DocumentList))
)]
pub async fn list_in_file(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    list(state, reader, Some(id), None).await
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/documents",
    tag = "Dokumente",
    summary = "Dokumente des Vorgangs",
    params(("id" = uuid::Uuid, Path, description = "Vorgang")),
    responses((status = 200, description = "Die Dokumente", body = super::openapi::DocumentList))
)]
pub async fn list_in_case(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    list(state, reader, None, Some(id)).await
}

/// How content is delivered: a download (the default) or, for media types browsers show
/// safely, inline for the web UI's preview (`?disposition=inline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentDisposition {
    #[default]
    Attachment,
    Inline,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContentQuery {
    #[serde(default)]
    #[param(inline)]
    pub(crate) disposition: ContentDisposition,
}

/// Media types shown inline in the preview; anything else (HTML, SVG, …) is always a download.
fn previewable(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    matches!(
        essence.to_ascii_lowercase().as_str(),
        "application/pdf" | "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "text/plain"
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/content",
    tag = "Dokumente",
    summary = "Inhalt der neuesten Version",
    params(("id" = uuid::Uuid, Path, description = "Dokument"), ContentQuery),
    responses((status = 200, description = "Der Inhalt mit seinem Medientyp (Range-Anfragen möglich)", content_type = "*/*", body = Binary, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))), (status = 206, description = "Ein Teil des Inhalts", content_type = "*/*", body = Binary), (status = 304, description = "Unverändert seit If-None-Match"), (status = 416, description = "Bereich nicht erfüllbar", content_type = "application/problem+json", body = crate::error::Problem))
)]
pub async fn latest_content(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    content(state, reader, id, None, &headers, q.disposition).await
}

#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/versions/{n}/content",
    tag = "Dokumente",
    summary = "Inhalt einer Version",
    params(("id" = uuid::Uuid, Path, description = "Dokument"), ("n" = i32, Path, minimum = 1, description = "Versionsnummer ab 1"), ContentQuery),
    responses((status = 200, description = "Der Inhalt mit seinem Medientyp (Range-Anfragen möglich)", content_type = "*/*", body = Binary, headers(("ETag" = String, description = "Zeilenversion, für If-Match"))), (status = 206, description = "Ein Teil des Inhalts", content_type = "*/*", body = Binary), (status = 304, description = "Unverändert seit If-None-Match"), (status = 416, description = "Bereich nicht erfüllbar", content_type = "application/problem+json", body = crate::error::Problem))
)]
pub async fn version_content(
    State(state): State<AppState>,
    reader: Reader,
    Path((id, n)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let n = parse_version_nr(&n)?;
    content(state, reader, id, Some(n), &headers, q.disposition).await
}

fn parse_version_nr(n: &str) -> Result<i32, ApiError> {
    n.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_id",
            Some("n"),
            "'n' must be a version number from 1",
        )
    })
}

/// The extracted text of a version; 404 until its extraction is done.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/versions/{n}/text",
    tag = "Dokumente",
    summary = "Extrahierter Text einer Version (404, bis die Extraktion fertig ist)",
    params(("id" = uuid::Uuid, Path, description = "Dokument"), ("n" = i32, Path, minimum = 1, description = "Versionsnummer ab 1")),
    responses((status = 200, description = "Der Text", content_type = "text/plain", body = String))
)]
pub async fn version_text(
    State(state): State<AppState>,
    reader: Reader,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, "id")?;
    let n = parse_version_nr(&n)?;
    let text = state.core.version_text(&reader.principal, id, n).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        text,
    )
        .into_response())
}

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    Full,
    Partial(ByteRange),
    Unsatisfiable,
}

/// Single byte ranges only; anything else is served whole, which RFC 9110 allows.
fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(s), Some(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
        (Some(s), None) if end.is_empty() => (s, size.saturating_sub(1)),
        (None, Some(n)) if start.is_empty() => {
            if n == 0 {
                return RangeRequest::Unsatisfiable;
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return RangeRequest::Full,
    };
    if size == 0 || range.0 >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial(ByteRange {
        start: range.0,
        end: range.1,
    })
}

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 8187).
fn content_disposition(file_name: &str) -> String {
    disposition_header("attachment", file_name)
}

fn disposition_header(kind: &str, file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

async fn content(
    state: AppState,
    reader: Reader,
    document_id: Uuid,
    nr: Option<i32>,
    headers: &HeaderMap,
    disposition: ContentDisposition,
) -> Result<Response, ApiError> {
    let readable = state
        .core
        .open_version(&reader.principal, document_id, nr)
        .await?;
    serve_content(readable, headers, disposition).await
}

/// Streams readable content with ETag, Range and the headers that keep a browser from
/// interpreting it (documents' versions and Posteingang items alike).
pub(crate) async fn serve_content(
    readable: akta_core::Readable,
    headers: &HeaderMap,
    disposition: ContentDisposition,
) -> Result<Response, ApiError> {
    let version = readable.version.clone();
    let etag = format!("\"{}\"", version.sha256);
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // Weak comparison, and `*` matches any current representation (RFC 9110 §13.1.2).
    let matches_etag = |t: &str| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    };
    if header_str(header::IF_NONE_MATCH).is_some_and(|v| v.split(',').any(matches_etag)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let size = u64::try_from(version.size_bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    // If-Range with another validator means "the copy I have is stale": send it all.
    let range_applies = header_str(header::IF_RANGE).is_none_or(|v| v.trim() == etag);
    let range = if range_applies {
        parse_range(header_str(header::RANGE), size)
    } else {
        RangeRequest::Full
    };
    let (status, range) = match range {
        RangeRequest::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable { size }),
        RangeRequest::Full => (StatusCode::OK, None),
        RangeRequest::Partial(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
    };
    let body = readable.stream(range).await?;
    let content_range = range.map(|r| (r, format!("bytes {}-{}/{size}", r.start, r.end)));
    let length = content_range
        .as_ref()
        .map_or(size, |(r, _)| r.end - r.start + 1);
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    let value =
        |s: String| HeaderValue::from_str(&s).map_err(|e| ApiError::Internal(e.to_string()));
    h.insert(header::CONTENT_TYPE, value(version.media_type.clone())?);
    h.insert(header::CONTENT_LENGTH, value(length.to_string())?);
    h.insert(header::ETAG, value(etag)?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let inline = disposition == ContentDisposition::Inline && previewable(&version.media_type);
    h.insert(
        header::CONTENT_DISPOSITION,
        value(if inline {
            disposition_header("inline", &version.file_name)
        } else {
            content_disposition(&version.file_name)
        })?,
    );
    // Uploaded content is never interpreted by the browser as something else (e.g. HTML).
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if inline {
        // The web UI frames the preview from its own origin. PDF viewers refuse to run in a
        // sandboxed document, so PDFs get no sandbox but still no scripts, styles or fetches.
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
        let pdf = version.media_type.starts_with("application/pdf");
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if pdf {
                "default-src 'none'; frame-ancestors 'self'"
            } else {
                "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'self'"
            }),
        );
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
    }
    if let Some((_, content_range)) = content_range {
        h.insert(header::CONTENT_RANGE, value(content_range)?);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 10), RangeRequest::Full);
        assert_eq!(parse_range(Some("bytes=0-0"), 10), partial(0, 0));
        assert_eq!(parse_range(Some("bytes=2-"), 10), partial(2, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), partial(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), partial(0, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), partial(5, 9));
        assert_eq!(
            parse_range(Some("bytes=10-"), 10),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), RangeRequest::Full);
        assert_eq!(parse_range(Some("bytes=x-y"), 10), RangeRequest::Full);
        assert_eq!(
            parse_range(Some("bytes=0-0"), 0),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeRequest::Full);
    }

    #[test]
    fn content_disposition_keeps_umlauts_safely() {
        let d = content_disposition("Bescheid Müller \"final\".pdf");
        assert!(d.starts_with("attachment; filename=\"Bescheid M_ller _final_.pdf\""));
        assert!(d.contains("filename*=UTF-8''Bescheid%20M%C3%BCller%20%22final%22.pdf"));
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IdenticalQuery {
    sha256: String,
}

/// `GET /api/v1/files/{id}/identical?sha256=…`: documents of the Akte that already hold
/// this content (asked before an upload, so the same file is not filed twice unseen).
#[utoipa::path(
    get,
    path = "/api/v1/files/{id}/identical",
    tag = "Dokumente",
    summary = "Dokumente der Akte mit gleichem Inhalt (SHA-256)",
    params(("id" = uuid::Uuid, Path, description = "Akte"), IdenticalQuery),
    responses((status = 200, description = "Die Dokumente", body = Page))
)]
pub async fn identical_in_file(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<IdenticalQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id, "id")?;
    let items = state
        .core
        .identical_in_file(&reader.principal, id, &q.sha256)
        .await?;
    Ok(Json(json!({"items": items})))
}
