//! Documents in the browser: the view with preview and versions, the no-script upload form,
//! new versions, and the Vermerk editor. Content is stored through the REST layer's filing
//! functions, so uploads from the web follow the same way of a document.

use akta_api::AppState;
use akta_core::model::{DocumentTarget, NewDocument};
use akta_core::DocumentUpdate;
use akta_core::DocumentView;
use akta_domain::DocumentKind;
use askama::Template;
use axum::extract::multipart::Field as Part;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Map;
use uuid::Uuid;

use crate::error::WebError;
use crate::forms::Errors;
use crate::i18n::Lang;
use crate::pages::files::{kind_label, kinds};
use crate::pages::simple::{Field, SimpleForm};
use crate::pages::{actor_label, item_href, parse_id};
use crate::render::{date, date_time, page, page_with_status, see_other, size, today, Chrome};
use crate::session::{Posted, Session};

/// Longest text shown in a preview; the download has everything.
const PREVIEW_CHARS: usize = 200_000;
const TITLE_MAX: usize = 300;

pub enum Preview {
    Pdf(String),
    /// Plain text shown from its URL (content not yet extracted, as in the Posteingang).
    Frame(String),
    Image(String),
    Text(String),
    Pending,
    None,
}

pub struct DocView {
    id: Uuid,
    title: String,
    kind: &'static str,
    date: String,
    sender: String,
    recipient: String,
    file_reference: String,
    back: String,
}

pub struct VersionRow {
    nr: i32,
    current: bool,
    note: String,
    file_name: String,
    media_type: String,
    size: String,
    author: String,
    created: String,
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    c: Chrome,
    d: DocView,
    preview: Preview,
    versions: Vec<VersionRow>,
    can_add_version: bool,
    /// After refusing an identical file: the version it matched.
    identical: Option<String>,
    routings: Vec<RoutingView>,
    /// Colleagues who can be asked to sign: (id, name).
    colleagues: Vec<(String, String)>,
}

/// A Geschäftsgang on the document, as its page shows it.
pub struct RoutingView {
    id: Uuid,
    kind: &'static str,
    mode: &'static str,
    state: &'static str,
    steps: Vec<String>,
    note: String,
    signers: Vec<SignerView>,
    /// The caller (or whom they stand in for) decides now.
    my_turn: bool,
}

pub struct SignerView {
    name: String,
    state: &'static str,
    comment: String,
    when: String,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    identisch: Option<i32>,
}

fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let lang = session.lang();
    let identical = q.identisch.map(|nr| {
        lang.t("doc.version.identical")
            .replace("{nr}", &nr.to_string())
    });
    let DocumentView {
        document: doc,
        file,
        case_open,
    } = state.core.document_view(&session.principal, id).await?;
    let latest = doc.versions.last().cloned();
    let content_url =
        |nr: i32| format!("/api/v1/documents/{id}/versions/{nr}/content?disposition=inline");
    let preview = match &latest {
        None => Preview::None,
        Some(v) => match essence(&v.media_type).as_str() {
            "application/pdf" => Preview::Pdf(content_url(v.nr)),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" => {
                Preview::Image(content_url(v.nr))
            }
            // Text, e-mail and office files: the extracted text, escaped like every value.
            _ => match state
                .core
                .preview_text(&session.principal, id, v.nr)
                .await?
            {
                Some(text) => Preview::Text(text.chars().take(PREVIEW_CHARS).collect()),
                None => match &v.extraction {
                    Some(e) if e.state == "pending" || e.state == "running" => Preview::Pending,
                    _ => Preview::None,
                },
            },
        },
    };
    let latest_nr = latest.as_ref().map(|v| v.nr);
    let pending: Vec<Uuid> = state
        .core
        .pending_routings(&session.principal)
        .await?
        .into_iter()
        .map(|p| p.routing_id)
        .collect();
    let routings = state
        .core
        .routings_of_document(&session.principal, id)
        .await?
        .into_iter()
        .map(|r| RoutingView {
            id: r.id,
            kind: lang.t(&format!("gg.kind.{}", r.kind)),
            mode: lang.t(&format!("gg.mode.{}", r.mode)),
            state: lang.t(&format!("gg.state.{}", r.state)),
            steps: r
                .steps
                .as_array()
                .map(|steps| {
                    steps
                        .iter()
                        .map(|s| format!("{}. {}", s["nr"], s["text"].as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default(),
            note: r.note.clone().unwrap_or_default(),
            my_turn: pending.contains(&r.id),
            signers: r
                .signers
                .iter()
                .map(|s| SignerView {
                    name: s.user_name.clone(),
                    state: lang.t(&format!("gg.signer.{}", s.state)),
                    comment: s.comment.clone().unwrap_or_default(),
                    when: s.decided_at.map(date_time).unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let colleagues = crate::pages::colleague_options(&state, &session).await?;
    // Authors by name, as the Verlauf names them.
    let people: std::collections::HashMap<String, String> = state
        .core
        .directory(&session.principal)
        .await?
        .into_iter()
        .map(|(_, login, name)| (login, name))
        .collect();
    let author = |actor: &str| match actor.strip_prefix("user:") {
        Some(login) => people
            .get(login)
            .cloned()
            .unwrap_or_else(|| login.to_owned()),
        None => actor_label(lang, actor),
    };
    let template = DocumentPage {
        identical,
        routings,
        colleagues,
        d: DocView {
            id,
            kind: kind_label(lang, &doc.kind),
            date: doc.document_date.map(date).unwrap_or_else(|| "–".into()),
            sender: doc.sender.unwrap_or_else(|| "–".into()),
            recipient: doc.recipient.unwrap_or_else(|| "–".into()),
            file_reference: file.reference,
            back: item_href(doc.file_id, doc.case_id),
            title: doc.title,
        },
        preview,
        versions: doc
            .versions
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                nr: v.nr,
                current: Some(v.nr) == latest_nr,
                note: v.change_note.clone().unwrap_or_default(),
                size: size(v.size_bytes),
                created: date_time(v.created_at),
                file_name: v.file_name,
                media_type: v.media_type,
                author: author(&v.author),
            })
            .collect(),
        can_add_version: session.chrome.can_write && file.status == "offen" && case_open,
        c: session.chrome.with_nav("plan"),
    };
    page(&template)
}

/// Reads a small text part completely, refusing anything larger than `limit` bytes.
pub(crate) async fn small_text(mut part: Part<'_>, limit: usize) -> Result<String, WebError> {
    let mut out = Vec::new();
    while let Some(chunk) = part
        .chunk()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
    {
        if out.len() + chunk.len() > limit {
            return Err(WebError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(out).map_err(|_| WebError::BadRequest("not UTF-8".into()))?;
    let name = part.name().unwrap_or("field").to_owned();
    akta_domain::check_input(&name, &text)
        .map_err(|e| WebError::BadRequest(format!("{}: {}", e.field, e.message)))?;
    Ok(text)
}

/// The first part of every upload form is the CSRF token: checked before anything is stored.
pub(crate) async fn check_first_part(
    session: &Session,
    multipart: &mut Multipart,
) -> Result<(), WebError> {
    let first = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
        .ok_or(WebError::Csrf)?;
    if first.name() != Some("csrf_token") {
        return Err(WebError::Csrf);
    }
    let token = small_text(first, 200).await?;
    session.check_csrf(&token)
}

#[derive(Default)]
struct UploadFields {
    title: String,
    kind: String,
    sender: String,
    recipient: String,
    document_date: String,
    vorgang: String,
}

/// The upload form's targets: the Akte itself and its Vorgänge.
async fn targets(
    state: &AppState,
    session: &Session,
    file_id: Uuid,
) -> Result<(String, Vec<(String, String)>), WebError> {
    let lang = session.lang();
    let (file, cases) = state
        .core
        .file_with_cases(&session.principal, file_id)
        .await?;
    let mut options = vec![(
        String::new(),
        format!("{} ({})", file.reference, lang.t("file.register.direct")),
    )];
    options.extend(
        cases
            .into_iter()
            .filter(|c| c.status == akta_domain::FileStatus::Open.as_str())
            .map(|c| (c.id.to_string(), format!("{} {}", c.reference, c.subject))),
    );
    Ok((file.reference, options))
}

fn upload_page(
    session: Session,
    file_id: Uuid,
    reference: &str,
    options: Vec<(String, String)>,
    fields: UploadFields,
    errors: Errors,
) -> SimpleForm {
    let lang = session.lang();
    SimpleForm {
        heading: format!("{} – {reference}", lang.t("doc.new")),
        explain: None,
        action: format!("/akten/{file_id}/dokumente/neu"),
        testid: "upload-form",
        hidden: Vec::new(),
        fields: vec![
            Field::text("vorgang", lang.t("doc.target"), fields.vorgang).options(options),
            Field::text("title", lang.t("doc.title"), fields.title),
            Field::text("kind", lang.t("doc.kind"), fields.kind).options(kinds(lang)),
            Field::text("sender", lang.t("doc.sender"), fields.sender),
            Field::text("recipient", lang.t("doc.recipient"), fields.recipient),
            Field::text("document_date", lang.t("doc.date"), fields.document_date).kind("date"),
            Field::text("file", lang.t("doc.file"), "").kind("file"),
        ],
        errors,
        submit: lang.t("doc.upload"),
        cancel: format!("/akten/{file_id}"),
        multipart: true,
        c: session.chrome.with_nav("plan"),
    }
}

#[derive(Deserialize)]
pub struct TargetQuery {
    vorgang: Option<String>,
}

pub async fn upload_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<TargetQuery>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let (reference, options) = targets(&state, &session, id).await?;
    let fields = UploadFields {
        vorgang: q.vorgang.unwrap_or_default(),
        kind: "Eingang".into(),
        ..UploadFields::default()
    };
    let errors = Errors::new(session.lang());
    page(&upload_page(
        session, id, &reference, options, fields, errors,
    ))
}

/// Checks the metadata of an upload; `None` with `errors` filled when something is wrong.
fn new_document(errors: &mut Errors, f: &UploadFields) -> Option<NewDocument> {
    let title = errors.text("title", &f.title, TITLE_MAX, true);
    let kind = errors.choice("kind", DocumentKind::parse(&f.kind));
    let sender = errors.text("sender", &f.sender, TITLE_MAX, false);
    let recipient = errors.text("recipient", &f.recipient, TITLE_MAX, false);
    let document_date = errors.date("document_date", &f.document_date);
    if !errors.is_empty() {
        return None;
    }
    Some(NewDocument {
        title: title?,
        kind: kind?,
        sender,
        recipient,
        document_date,
        metadata: Map::new(),
    })
}

fn target_of(errors: &mut Errors, file_id: Uuid, vorgang: &str) -> Option<DocumentTarget> {
    match errors.id("vorgang", vorgang)? {
        Some(case) => Some(DocumentTarget::Case(case)),
        None => Some(DocumentTarget::File(file_id)),
    }
}

/// `POST /akten/{id}/dokumente` (multipart, the file part last): files a document without
/// any script. Metadata is checked before the file streams into the blob store.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    // A body that is no multipart form gets the HTML error page, not axum's plain text.
    let mut multipart = multipart.map_err(|e| WebError::BadRequest(e.body_text()))?;
    session.require_write()?;
    let file_id = parse_id(&id)?;
    check_first_part(&session, &mut multipart).await?;
    let mut fields = UploadFields::default();
    let mut errors = Errors::new(session.lang());
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
    {
        let name = part.name().unwrap_or("").to_owned();
        let slot = match name.as_str() {
            "title" => &mut fields.title,
            "kind" => &mut fields.kind,
            "sender" => &mut fields.sender,
            "recipient" => &mut fields.recipient,
            "document_date" => &mut fields.document_date,
            "vorgang" => &mut fields.vorgang,
            "file" => {
                let file_name = part.file_name().unwrap_or("").to_owned();
                if file_name.is_empty() {
                    errors.add("file", "field.required");
                }
                let target = target_of(&mut errors, file_id, &fields.vorgang);
                let metadata = new_document(&mut errors, &fields);
                let (Some(target), Some(metadata), true) = (target, metadata, errors.is_empty())
                else {
                    break;
                };
                let media_type = part.content_type().map(str::to_owned);
                let doc = state
                    .core
                    .file_document(
                        &session.principal,
                        target,
                        metadata,
                        &file_name,
                        media_type.as_deref(),
                        part,
                    )
                    .await?;
                return Ok(see_other(&item_href(doc.file_id, doc.case_id)));
            }
            _ => return Err(WebError::BadRequest(format!("unknown part {name}"))),
        };
        *slot = small_text(part, 4096).await?;
    }
    if errors.is_empty() {
        errors.add("file", "field.required");
    }
    let (reference, options) = targets(&state, &session, file_id).await?;
    let page_ = upload_page(session, file_id, &reference, options, fields, errors);
    page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_)
}

/// `POST /dokumente/{id}/versionen` (multipart: csrf_token, file).
pub async fn add_version(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    // A body that is no multipart form gets the HTML error page, not axum's plain text.
    let mut multipart = multipart.map_err(|e| WebError::BadRequest(e.body_text()))?;
    session.require_write()?;
    let id = parse_id(&id)?;
    check_first_part(&session, &mut multipart).await?;
    // An optional Änderungsvermerk, then the file.
    let mut note = None;
    let part = loop {
        let part = multipart
            .next_field()
            .await
            .map_err(|e| WebError::BadRequest(e.body_text()))?
            .ok_or_else(|| WebError::BadRequest("the part 'file' is missing".into()))?;
        match part.name() {
            Some("note") if note.is_none() => {
                let text = small_text(part, 8 * 1024).await?;
                note = Some(text.trim().chars().take(2000).collect::<String>())
                    .filter(|t: &String| !t.is_empty());
            }
            Some("file") => break part,
            _ => return Err(WebError::BadRequest("unexpected form field".into())),
        }
    };
    let file_name = part.file_name().unwrap_or("").to_owned();
    if file_name.is_empty() {
        return Err(WebError::BadRequest("no file chosen".into()));
    }
    let media_type = part.content_type().map(str::to_owned);
    let filed = state
        .core
        .file_version(
            &session.principal,
            id,
            &file_name,
            media_type.as_deref(),
            part,
            note,
        )
        .await;
    match filed {
        Ok(_) => Ok(see_other(&format!("/dokumente/{id}"))),
        // Said on the document's page; nothing was stored, nothing is lost.
        Err(akta_core::CoreError::IdenticalVersion(nr)) => {
            Ok(see_other(&format!("/dokumente/{id}?identisch={nr}")))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct NoteFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    vorgang: String,
}

fn note_page(
    session: Session,
    file_id: Uuid,
    reference: &str,
    options: Vec<(String, String)>,
    fields: NoteFields,
    errors: Errors,
) -> SimpleForm {
    let lang: Lang = session.lang();
    SimpleForm {
        heading: format!("{} – {reference}", lang.t("note.new")),
        explain: None,
        action: format!("/akten/{file_id}/vermerk"),
        testid: "note-form",
        hidden: Vec::new(),
        fields: vec![
            Field::text("vorgang", lang.t("doc.target"), fields.vorgang).options(options),
            Field::text("title", lang.t("doc.title"), fields.title),
            Field::text("text", lang.t("note.text"), fields.text).multiline(),
        ],
        errors,
        submit: lang.t("note.save"),
        cancel: format!("/akten/{file_id}"),
        multipart: false,
        c: session.chrome.with_nav("plan"),
    }
}

pub async fn note_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<TargetQuery>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let (reference, options) = targets(&state, &session, id).await?;
    let fields = NoteFields {
        vorgang: q.vorgang.unwrap_or_default(),
        title: session.lang().t("doc.kind.Vermerk").to_owned(),
        ..NoteFields::default()
    };
    let errors = Errors::new(session.lang());
    page(&note_page(session, id, &reference, options, fields, errors))
}

/// Stores a Vermerk as a plain-text document (UTF-8), dated today.
pub async fn create_note(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoteFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let file_id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let title = errors.text("title", &form.title, TITLE_MAX, true);
    let text = errors.long_text("text", &form.text, 100_000);
    let target = target_of(&mut errors, file_id, &form.vorgang);
    let (Some(title), Some(text), Some(target)) = (title, text, target) else {
        let (reference, options) = targets(&state, &session, file_id).await?;
        let page_ = note_page(session, file_id, &reference, options, form, errors);
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    let metadata = NewDocument {
        title,
        kind: DocumentKind::Note,
        sender: None,
        recipient: None,
        document_date: Some(today()),
        metadata: Map::new(),
    };
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(text))]);
    let doc = state
        .core
        .file_document(
            &session.principal,
            target,
            metadata,
            "vermerk.txt",
            Some("text/plain; charset=utf-8"),
            body,
        )
        .await?;
    Ok(see_other(&format!("/dokumente/{}", doc.id)))
}

#[derive(Deserialize, Default)]
pub struct MetadataFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    document_date: String,
    #[serde(default)]
    version: i32,
}

fn metadata_page(session: Session, id: Uuid, fields: MetadataFields, errors: Errors) -> SimpleForm {
    let lang = session.lang();
    SimpleForm {
        heading: format!("{} – {}", lang.t("doc.edit"), fields.title),
        explain: None,
        action: format!("/dokumente/{id}/bearbeiten"),
        testid: "document-form",
        hidden: vec![("version", fields.version.to_string())],
        fields: vec![
            Field::text("title", lang.t("doc.title"), fields.title),
            Field::text("kind", lang.t("doc.kind"), fields.kind).options(kinds(lang)),
            Field::text("sender", lang.t("doc.sender"), fields.sender),
            Field::text("recipient", lang.t("doc.recipient"), fields.recipient),
            Field::text("document_date", lang.t("doc.date"), fields.document_date).kind("date"),
        ],
        errors,
        submit: lang.t("file.save"),
        cancel: format!("/dokumente/{id}"),
        multipart: false,
        c: session.chrome.with_nav("plan"),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let doc = state.core.document(&session.principal, id).await?;
    let fields = MetadataFields {
        version: doc.row_version,
        title: doc.title,
        kind: doc.kind,
        sender: doc.sender.unwrap_or_default(),
        recipient: doc.recipient.unwrap_or_default(),
        document_date: doc
            .document_date
            .map(crate::render::iso_date)
            .unwrap_or_default(),
    };
    let errors = Errors::new(session.lang());
    page(&metadata_page(session, id, fields, errors))
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MetadataFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let upload = UploadFields {
        title: form.title.clone(),
        kind: form.kind.clone(),
        sender: form.sender.clone(),
        recipient: form.recipient.clone(),
        document_date: form.document_date.clone(),
        vorgang: String::new(),
    };
    let Some(new) = new_document(&mut errors, &upload) else {
        state.core.document(&session.principal, id).await?;
        let page_ = metadata_page(session, id, form, errors);
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    let update = DocumentUpdate {
        title: Some(new.title),
        kind: Some(new.kind),
        sender: Some(new.sender),
        recipient: Some(new.recipient),
        document_date: Some(new.document_date),
        metadata: None,
    };
    state
        .core
        .update_document(&session.principal, id, Some(form.version), update)
        .await?;
    Ok(see_other(&format!("/dokumente/{id}")))
}

#[derive(Deserialize, Default)]
pub struct RoutingForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    mode: String,
    /// Checkbox values, repeated: read from the raw form.
    #[serde(default)]
    steps: String,
    #[serde(default)]
    note: String,
}

/// `POST /dokumente/{id}/geschaeftsgang`: starts a Mitzeichnung or Verfügung (`kind`,
/// `mode`, `signer` repeated, `steps`, `note`).
pub async fn start_routing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    crate::session::check_form_text(&body)?;
    let mut csrf = String::new();
    let mut signers = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf_token" => csrf = v.into_owned(),
            "signer" => signers
                .push(Uuid::parse_str(&v).map_err(|_| WebError::BadRequest("signer".into()))?),
            _ => {}
        }
    }
    session.check_csrf(&csrf)?;
    let form: RoutingForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let kind = if form.kind == "verfuegung" {
        akta_core::RoutingKind::Verfuegung
    } else {
        akta_core::RoutingKind::Mitzeichnung
    };
    let request = akta_core::RoutingRequest {
        kind,
        parallel: form.mode == "gleichzeitig",
        signers,
        steps: Some(form.steps).filter(|s| !s.trim().is_empty()),
        note: Some(form.note.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    state
        .core
        .start_routing(&session.principal, id, request)
        .await?;
    Ok(see_other(&format!("/dokumente/{id}#geschaeftsgang")))
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

/// `POST /geschaeftsgang/{id}/entscheidung`: `decision=sign` or `decision=return` with a
/// `comment`.
pub async fn decide_routing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<DecisionForm>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    let id = parse_id(&id)?;
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    let routing = state
        .core
        .decide_routing(&session.principal, id, form.decision == "sign", comment)
        .await?;
    Ok(see_other(&format!(
        "/dokumente/{}#geschaeftsgang",
        routing.document_id
    )))
}
