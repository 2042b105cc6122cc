//! The Posteingang in the browser: what waits for me, my org unit and the authority; an
//! item with its preview, filed with its metadata into an Akte named by its Aktenzeichen
//! (suggested as one types) in one step, or forwarded to a colleague. Forms post to the
//! page's own address, so after an error the address bar still holds a page, not a POST.

use akta_api::AppState;
use akta_core::model::InboxItem;
use akta_core::{Delivery, Forward};
use akta_domain::DocumentKind;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::WebError;
use crate::forms::Errors;
use crate::pages::documents::{check_first_part, Preview};
use crate::pages::files::{kind_label, kinds};
use crate::pages::{actor_label, parse_id};
use crate::render::{date_time, page, page_with_status, see_other, size, Chrome};
use crate::session::{Posted, Session};

const TITLE_MAX: usize = 300;

pub struct Row {
    pub(crate) href: String,
    pub(crate) title: String,
    pub(crate) sender: String,
    pub(crate) received: String,
    pub(crate) received_by: String,
    pub(crate) kind: &'static str,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    rows: Vec<Row>,
    filed: bool,
}

pub(crate) fn rows(session: &Session, items: Vec<InboxItem>) -> Vec<Row> {
    let lang = session.lang();
    items
        .into_iter()
        .map(|i| Row {
            href: format!("/posteingang/{}", i.id),
            sender: i.sender.unwrap_or_else(|| "–".into()),
            received: date_time(i.received_at),
            received_by: actor_label(lang, &i.received_by),
            kind: kind_label(lang, &i.kind),
            title: i.title,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ListQuery {
    abgelegt: Option<String>,
}

/// `GET /posteingang`
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Response, WebError> {
    let items = state.core.inbox(&session.principal).await?;
    let template = InboxPage {
        rows: rows(&session, items),
        filed: q.abgelegt.is_some(),
        c: session.chrome.with_nav("inbox"),
    };
    page(&template)
}

/// `POST /posteingang` (multipart: `csrf_token`, `file`): a document into the Posteingang,
/// titled after its file name until someone files it.
pub async fn deliver(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let mut multipart = multipart.map_err(|e| WebError::BadRequest(e.body_text()))?;
    session.require_write()?;
    check_first_part(&session, &mut multipart).await?;
    let mut delivered = false;
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
    {
        if part.name() != Some("file") || delivered {
            return Err(WebError::BadRequest("unexpected form field".into()));
        }
        let file_name = part.file_name().unwrap_or("dokument").to_owned();
        if file_name.is_empty() {
            // The form was sent without choosing a file.
            return Ok(see_other("/posteingang"));
        }
        let media_type = part.content_type().map(str::to_owned);
        state
            .core
            .receive_into_inbox(
                &session.principal,
                Delivery::default(),
                &file_name,
                media_type.as_deref(),
                part,
            )
            .await?;
        delivered = true;
    }
    Ok(see_other("/posteingang"))
}

#[derive(Default, Deserialize)]
pub struct FilingFields {
    #[serde(default)]
    version: String,
    #[serde(default)]
    aktenzeichen: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    document_date: String,
    /// `ablegen` (file) or `weiterleiten` (forward).
    #[serde(default)]
    action: String,
    #[serde(default)]
    colleague: String,
    #[serde(default)]
    note: String,
}

pub struct ItemView {
    id: Uuid,
    title: String,
    file_name: String,
    size: String,
    received: String,
    received_by: String,
    note: String,
    version: i32,
}

#[derive(Template)]
#[template(path = "inbox_item.html")]
struct ItemPage {
    c: Chrome,
    i: ItemView,
    preview: Preview,
    f: FilingFields,
    kinds: Vec<(String, String)>,
    colleagues: Vec<(String, String)>,
    errors: Errors,
}

fn preview_of(item: &InboxItem) -> Preview {
    let url = format!("/api/v1/inbox/{}/content?disposition=inline", item.id);
    let essence = item
        .media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/pdf" => Preview::Pdf(url),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => Preview::Image(url),
        "text/plain" => Preview::Frame(url),
        _ => Preview::None,
    }
}

async fn item_page(
    state: &AppState,
    session: Session,
    item: InboxItem,
    f: FilingFields,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lang = session.lang();
    let colleagues = crate::pages::colleague_options(state, &session).await?;
    let template = ItemPage {
        preview: preview_of(&item),
        i: ItemView {
            id: item.id,
            file_name: item.file_name,
            size: size(item.size_bytes),
            received: date_time(item.received_at),
            received_by: actor_label(lang, &item.received_by),
            note: item.note.unwrap_or_default(),
            version: item.row_version,
            title: item.title,
        },
        f,
        kinds: kinds(lang),
        colleagues,
        errors,
        c: session.chrome.with_nav("inbox"),
    };
    page_with_status(status, &template)
}

/// `GET /posteingang/{id}`: the item with its preview and the filing form, prefilled with
/// what is known.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let item = state.core.inbox_item(&session.principal, id).await?;
    if let Some(doc) = item.filed_document_id {
        return Ok(see_other(&format!("/dokumente/{doc}")));
    }
    let f = FilingFields {
        version: item.row_version.to_string(),
        title: item.title.clone(),
        kind: item.kind.clone(),
        sender: item.sender.clone().unwrap_or_default(),
        document_date: item.document_date.map(iso).unwrap_or_default(),
        ..FilingFields::default()
    };
    let errors = Errors::new(session.lang());
    item_page(&state, session, item, f, errors, StatusCode::OK).await
}

fn iso(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `POST /posteingang/{id}`: files the item (`action=ablegen`) or forwards it
/// (`action=weiterleiten`).
pub async fn act(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<FilingFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let item = state.core.inbox_item(&session.principal, id).await?;
    let expected = form.version.trim().parse::<i32>().ok();
    let mut errors = Errors::new(session.lang());
    if form.action == "weiterleiten" {
        let to = match errors.id("colleague", &form.colleague) {
            Some(Some(user)) => Some(user),
            Some(None) => {
                errors.add("colleague", "field.required");
                None
            }
            None => None,
        };
        let note = errors.text("note", &form.note, 2000, false);
        let Some(to) = to.filter(|_| errors.is_empty()) else {
            return item_page(
                &state,
                session,
                item,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        state
            .core
            .forward_inbox_item(&session.principal, id, expected, Forward::Person(to), note)
            .await?;
        return Ok(see_other("/posteingang"));
    }
    let title = errors.text("title", &form.title, TITLE_MAX, true);
    let kind = errors.choice("kind", DocumentKind::parse(&form.kind));
    let sender = errors.text("sender", &form.sender, TITLE_MAX, false);
    let document_date = errors.date("document_date", &form.document_date);
    let reference = errors.text("aktenzeichen", &form.aktenzeichen, 100, true);
    let target = match &reference {
        Some(r) => match state
            .core
            .target_by_reference(&session.principal, r)
            .await?
        {
            Some(t) => Some(t),
            None => {
                errors.add("aktenzeichen", "inbox.no_such_file");
                None
            }
        },
        None => None,
    };
    let (Some(title), Some(kind), Some(target)) = (title, kind, target) else {
        return item_page(
            &state,
            session,
            item,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if !errors.is_empty() {
        return item_page(
            &state,
            session,
            item,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // The form shows every field, so what it sends is what the document gets.
    let details = akta_core::DocumentUpdate {
        title: Some(title),
        kind: Some(kind),
        sender: Some(sender),
        recipient: None,
        document_date: Some(document_date),
        metadata: None,
    };
    match state
        .core
        .file_inbox_item(&session.principal, id, expected, target, details)
        .await
    {
        Ok(_) => Ok(see_other("/posteingang?abgelegt=1")),
        // A closed Akte or Vorgang: said at the field, nothing is lost.
        Err(akta_core::CoreError::Conflict(_)) => {
            errors.add("aktenzeichen", "inbox.closed_target");
            item_page(&state, session, item, form, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
