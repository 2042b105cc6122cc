//! The archivist's pages: Akten due for Aussonderung (offer them), one Aussonderung with its
//! objects, messages and next step (download what Akta produces, load what the archive
//! sends), and the Löschprotokoll. Every step is the core's, as over REST.

use akta_api::AppState;
use akta_core::transfers::TransferView;
use akta_core::CoreError;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::WebError;
use crate::pages::{actor_label, parse_id};
use crate::render::{date, date_time, page, page_with_status, see_other, Chrome};
use crate::session::{Posted, Session};

/// Largest message taken from the upload form (as over REST).
const MESSAGE_MAX: usize = 32 * 1024 * 1024;

pub struct UnitOption {
    id: Uuid,
    label: String,
    selected: bool,
}

pub struct DueRow {
    id: Uuid,
    reference: String,
    subject: String,
    closed_on: String,
    due_on: String,
    retention: String,
    hold: Option<String>,
}

pub struct TransferRow {
    id: Uuid,
    started: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "archive.html")]
struct DuePage {
    c: Chrome,
    units: Vec<UnitOption>,
    year: String,
    files: Vec<DueRow>,
    transfers: Vec<TransferRow>,
    none_chosen: bool,
}

#[derive(Deserialize)]
pub struct DueQuery {
    einheit: Option<String>,
    jahr: Option<String>,
    fehler: Option<String>,
}

/// `GET /aussonderung`: the due list with its filter, and the Aussonderungen so far.
pub async fn due(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<DueQuery>,
) -> Result<Response, WebError> {
    session.require_records_manager()?;
    let lang = session.lang();
    let unit = q
        .einheit
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .transpose()?;
    let year = match q.jahr.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(y) => Some(
            y.parse::<i32>()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(|| WebError::BadRequest("jahr".into()))?,
        ),
        None => None,
    };
    let files = state
        .core
        .due_for_disposal(&session.principal, unit, year)
        .await?;
    let transfers = state.core.transfers(&session.principal).await?;
    let plan = state.core.plan_tree(&session.principal).await?;
    let template = DuePage {
        units: plan
            .into_iter()
            .map(|u| UnitOption {
                selected: Some(u.id) == unit,
                label: format!("{} {}", u.code, u.title),
                id: u.id,
            })
            .collect(),
        year: year.map(|y| y.to_string()).unwrap_or_default(),
        files: files
            .into_iter()
            .map(|f| {
                let r = f.retention.clone().unwrap_or_default();
                DueRow {
                    id: f.id,
                    closed_on: f.closed_on().map(date).unwrap_or_default(),
                    due_on: r["due_on"]
                        .as_str()
                        .and_then(crate::render::parse_iso_date)
                        .map(date)
                        .unwrap_or_default(),
                    retention: crate::pages::files::retention_line(lang, f.retention.as_ref()),
                    hold: r["hold"]["reason"].as_str().map(str::to_owned),
                    reference: f.reference,
                    subject: f.subject,
                }
            })
            .collect(),
        transfers: transfers
            .into_iter()
            .map(|t| TransferRow {
                id: t.id,
                started: date_time(t.created_at),
                state: state_label(lang, &t.state),
            })
            .collect(),
        none_chosen: q.fehler.as_deref() == Some("auswahl"),
        c: session.chrome.with_nav("archive"),
    };
    page(&template)
}

fn state_label(lang: crate::Lang, state: &str) -> &'static str {
    lang.get(&format!("archive.state.{state}")).unwrap_or("")
}

/// `POST /aussonderung`: offers the chosen Akten (`akte`, repeated).
pub async fn offer(
    State(state): State<AppState>,
    posted: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_records_manager()?;
    let chosen = form
        .iter()
        .filter(|(k, _)| k == "akte")
        .map(|(_, v)| parse_id(v))
        .collect::<Result<Vec<Uuid>, WebError>>()?;
    if chosen.is_empty() {
        return Ok(see_other("/aussonderung?fehler=auswahl"));
    }
    let view = state
        .core
        .create_transfer(&session.principal, "aussonderung", &chosen)
        .await?;
    Ok(see_other(&format!("/aussonderung/{}", view.transfer.id)))
}

pub struct ItemRow {
    kind: &'static str,
    reference: String,
    subject: String,
    state: &'static str,
    rating: &'static str,
    is_case: bool,
}

pub struct MessageRow {
    code: String,
    direction: &'static str,
    when: String,
    by: String,
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    c: Chrome,
    id: Uuid,
    state: &'static str,
    items: Vec<ItemRow>,
    messages: Vec<MessageRow>,
    can_0501: bool,
    can_0505: bool,
    can_0503: bool,
    can_upload: bool,
    received: bool,
    refusal: Option<String>,
}

fn transfer_page(
    session: Session,
    view: TransferView,
    received: bool,
    refusal: Option<String>,
) -> TransferPage {
    let lang = session.lang();
    let state = view.transfer.state.as_str();
    TransferPage {
        id: view.transfer.id,
        state: state_label(lang, state),
        can_0501: state != "abgeschlossen",
        can_0505: view
            .messages
            .iter()
            .any(|m| m.code == "0502" && m.direction == "in"),
        can_0503: matches!(state, "bewertet" | "übergeben")
            && view
                .items
                .iter()
                .any(|i| i.object_type == "file" && i.rating.as_deref() == Some("A")),
        can_upload: state != "abgeschlossen",
        items: view
            .items
            .iter()
            .map(|i| ItemRow {
                kind: lang.t(&format!("archive.type.{}", i.object_type)),
                reference: i.reference.clone(),
                subject: i.subject.clone(),
                state: state_label(lang, &i.state),
                rating: i
                    .rating
                    .as_deref()
                    .and_then(|r| lang.get(&format!("archive.rating.{r}")))
                    .unwrap_or("–"),
                is_case: i.object_type == "case",
            })
            .collect(),
        messages: view
            .messages
            .iter()
            .map(|m| MessageRow {
                code: m.code.clone(),
                direction: lang.t(&format!("archive.direction.{}", m.direction)),
                when: date_time(m.created_at),
                by: actor_label(lang, &m.created_by),
            })
            .collect(),
        received,
        refusal,
        c: session.chrome.with_nav("archive"),
    }
}

#[derive(Deserialize)]
pub struct TransferQuery {
    eingespielt: Option<String>,
}

/// `GET /aussonderung/{id}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<TransferQuery>,
) -> Result<Response, WebError> {
    session.require_records_manager()?;
    let id = parse_id(&id)?;
    let view = state.core.transfer(&session.principal, id).await?;
    page(&transfer_page(session, view, q.eingespielt.is_some(), None))
}

/// `GET /aussonderung/{id}/nachrichten/{code}`: a message Akta produces, as a download.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, WebError> {
    session.require_records_manager()?;
    let id = parse_id(&id)?;
    if code == "0503" {
        let (name, stream) = state
            .core
            .aussonderung_0503(&session.principal, id, true)
            .await?;
        return Ok(attachment(
            axum::body::Body::from_stream(stream).into_response(),
            "application/zip",
            &name,
        ));
    }
    if !matches!(code.as_str(), "0501" | "0505") {
        return Err(WebError::NotFound);
    }
    let produced = state
        .core
        .transfer_message(&session.principal, id, &code)
        .await?;
    Ok(attachment(
        produced.bytes.into_response(),
        produced.media_type,
        &produced.file_name,
    ))
}

fn attachment(mut response: Response, media_type: &'static str, name: &str) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `POST /aussonderung/{id}/nachrichten`: a message of the archive (multipart: `csrf_token`
/// first, then `nachricht`). A refused message shows the page again with the reason.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    session.require_records_manager()?;
    let id = parse_id(&id)?;
    let mut message = Vec::new();
    for (name, bytes) in crate::session::multipart_parts(&session, multipart, MESSAGE_MAX).await? {
        match name.as_str() {
            "nachricht" => message = bytes,
            _ => return Err(WebError::BadRequest(format!("unknown part {name}"))),
        }
    }
    match state
        .core
        .receive_transfer_message(&session.principal, id, &message)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/aussonderung/{id}?eingespielt=1"))),
        Err(CoreError::Validation { detail, .. }) | Err(CoreError::Conflict(detail)) => {
            let view = state.core.transfer(&session.principal, id).await?;
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &transfer_page(session, view, false, Some(detail)),
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub struct ProtocolRow {
    reference: String,
    subject: String,
    closed_on: String,
    rating: String,
    outcome: &'static str,
    archive_reference: String,
    documents: i32,
    disposed: String,
    by: String,
}

#[derive(Template)]
#[template(path = "protocol.html")]
struct ProtocolPage {
    c: Chrome,
    entries: Vec<ProtocolRow>,
}

/// `GET /loeschprotokoll`.
pub async fn protocol(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    session.require_records_manager()?;
    let lang = session.lang();
    let entries = state.core.disposal_protocol(&session.principal).await?;
    let template = ProtocolPage {
        entries: entries
            .into_iter()
            .map(|e| ProtocolRow {
                closed_on: e.closed_on.map(date).unwrap_or_default(),
                outcome: state_label(lang, &e.outcome),
                archive_reference: e.archive_reference.unwrap_or_default(),
                documents: e.documents,
                disposed: date_time(e.disposed_at),
                by: actor_label(lang, &e.disposed_by),
                rating: e.rating.unwrap_or_default(),
                reference: e.reference,
                subject: e.subject,
            })
            .collect(),
        c: session.chrome.with_nav("archive"),
    };
    page(&template)
}
