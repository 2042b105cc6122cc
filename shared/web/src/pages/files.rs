//! The Akte, shaped like the paper file: header, registers (documents filed directly, one per
//! Vorgang, history), and its forms: create/edit, Vorgang, Wiedervorlage, zdA and reopening.

use akta_api::AppState;
use akta_core::model::{NewFile, ResubmissionTarget};
use akta_core::FileView as CoreFileView;
use akta_core::{CaseUpdate, CoreError, FileUpdate};
use akta_domain::{Confidentiality, DocumentKind, FileStatus};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Map;
use uuid::Uuid;

use crate::error::WebError;
use crate::forms::Errors;
use crate::i18n::Lang;
use crate::pages::simple::{Field, SimpleForm};
use crate::pages::{actor_label, parse_id};
use crate::render::{
    berlin_offset, date, date_time, iso_date, page, page_with_status, see_other, Chrome,
};
use crate::session::{Posted, Session};

const SUBJECT_MAX: usize = 500;

pub struct FileView {
    id: Uuid,
    plan_unit_id: Uuid,
    plan_unit: String,
    reference: String,
    subject: String,
    lead: String,
    status: &'static str,
    open: bool,
    period: String,
    /// "10 Jahre, A (archivwürdig)".
    retention: String,
    /// When the closed Akte falls due for Aussonderung.
    due_on: Option<String>,
    /// The legal hold, as one line.
    hold: Option<String>,
    confidentiality: &'static str,
    /// The caller's own next Wiedervorlage on the Akte itself.
    resubmit_on: Option<String>,
    resubmit_iso: String,
}

/// One open Wiedervorlage of the Akte or one of its Vorgänge.
pub struct WvRow {
    id: Uuid,
    date: String,
    overdue: bool,
    /// A person's name, or "alle".
    whom: String,
    note: String,
    /// The Vorgangszeichen, or empty for the Akte itself.
    on_case: String,
}

pub struct CaseView {
    id: Uuid,
    open: bool,
    reference: String,
    status: &'static str,
    resubmit_on: Option<String>,
    resubmit_iso: String,
}

pub struct Register {
    key: String,
    label: String,
    selected: bool,
}

pub struct DocRow {
    id: Uuid,
    kind: &'static str,
    date: String,
    correspondent: String,
    title: String,
}

pub struct HistoryRow {
    when: String,
    actor: String,
    action: String,
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    c: Chrome,
    f: FileView,
    registers: Vec<Register>,
    register_title: String,
    register_query: String,
    case: Option<CaseView>,
    /// Documents may be added here: the Akte and the shown Vorgang are open.
    register_open: bool,
    documents: Vec<DocRow>,
    show_history: bool,
    history: Vec<HistoryRow>,
    upload_url: String,
    kinds: Vec<(String, String)>,
    wv: Vec<WvRow>,
    /// Whom a new Wiedervorlage can be for: (id, name), the caller first.
    colleagues: Vec<(String, String)>,
    favourite: bool,
}

/// Document kinds with their labels, for selects.
pub fn kinds(lang: Lang) -> Vec<(String, String)> {
    DocumentKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                lang.t(&format!("doc.kind.{k}")).to_owned(),
            )
        })
        .collect()
}

/// "10 Jahre, A (archivwürdig)" / "unbefristet, B (bewerten)" from the core's `retention`.
pub(crate) fn retention_line(lang: Lang, retention: Option<&serde_json::Value>) -> String {
    let Some(r) = retention else {
        return "–".into();
    };
    let period = match r["years"].as_u64() {
        Some(n) => format!("{n} {}", lang.t("file.retention.years")),
        None => lang.t("file.retention.unlimited").to_owned(),
    };
    let disposition = r["disposition"]
        .as_str()
        .and_then(|d| lang.get(&format!("file.disposition.{d}")))
        .unwrap_or("");
    format!("{period}, {disposition}")
}

/// "Klageverfahren … (bis 31.12.2099, gesetzt von user:anna)".
fn hold_line(lang: Lang, hold: &serde_json::Value) -> String {
    let reason = hold["reason"].as_str().unwrap_or("");
    let by = actor_label(lang, hold["by"].as_str().unwrap_or(""));
    match hold["until"]
        .as_str()
        .and_then(crate::render::parse_iso_date)
    {
        Some(until) => format!(
            "{reason} ({} {}, {} {by})",
            lang.t("file.hold.until"),
            date(until),
            lang.t("file.hold.by")
        ),
        None => format!("{reason} ({} {by})", lang.t("file.hold.by")),
    }
}

pub fn kind_label(lang: Lang, kind: &str) -> &'static str {
    lang.get(&format!("doc.kind.{kind}")).unwrap_or("")
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    register: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let lang = session.lang();
    let register = q.register.unwrap_or_default();
    let show_history = register == "verlauf";
    let CoreFileView {
        file,
        plan_unit: unit,
        org_units,
        cases,
        documents,
        resubmissions,
        history,
    } = state
        .core
        .file_view(&session.principal, id, show_history)
        .await?;

    let me = session.user_id;
    // The caller's own (or everyone's) next date on the Akte itself or on a Vorgang.
    let resubmit = |object: Uuid| {
        resubmissions
            .iter()
            .filter(|r| r.case_id.unwrap_or(r.file_id) == object)
            .filter(|r| r.user_id.is_none_or(|u| u == me))
            .map(|r| r.due_on)
            .min()
    };
    let today = crate::render::today();
    let case_refs: std::collections::HashMap<Uuid, String> =
        cases.iter().map(|c| (c.id, c.reference.clone())).collect();
    let wv: Vec<WvRow> = resubmissions
        .iter()
        .map(|r| WvRow {
            id: r.id,
            date: date(r.due_on),
            overdue: r.due_on < today,
            whom: r
                .user_name
                .clone()
                .unwrap_or_else(|| lang.t("wv.everyone").to_owned()),
            note: r.note.clone().unwrap_or_default(),
            on_case: r
                .case_id
                .and_then(|c| case_refs.get(&c).cloned())
                .unwrap_or_default(),
        })
        .collect();
    let selected_case = cases.iter().find(|c| c.id.to_string() == register).cloned();
    let mut registers = vec![Register {
        key: "akte".into(),
        label: lang.t("file.register.direct").into(),
        selected: selected_case.is_none() && !show_history,
    }];
    registers.extend(cases.iter().map(|c| Register {
        key: c.id.to_string(),
        label: if c.status == FileStatus::Closed.as_str() {
            format!("{} {} (zdA)", c.reference, c.subject)
        } else {
            format!("{} {}", c.reference, c.subject)
        },
        selected: selected_case.as_ref().is_some_and(|s| s.id == c.id),
    }));
    registers.push(Register {
        key: "verlauf".into(),
        label: lang.t("file.register.history").into(),
        selected: show_history,
    });
    let names = if show_history {
        let people = state.core.directory(&session.principal).await?;
        crate::pages::history::Names {
            people: people
                .iter()
                .map(|(_, login, name)| (login.clone(), name.clone()))
                .collect(),
            people_by_id: people.into_iter().map(|(id, _, name)| (id, name)).collect(),
            documents: documents.iter().map(|d| (d.id, d.title.clone())).collect(),
            cases: cases.iter().map(|c| (c.id, c.reference.clone())).collect(),
        }
    } else {
        crate::pages::history::Names::default()
    };
    let case_id = selected_case.as_ref().map(|c| c.id);
    let documents = documents
        .into_iter()
        .filter(|d| d.case_id == case_id)
        .map(|d| DocRow {
            id: d.id,
            kind: kind_label(lang, &d.kind),
            // Without a date of its own, a document is dated by the day it was filed.
            date: date(
                d.document_date
                    .unwrap_or_else(|| d.created_at.to_offset(berlin_offset(d.created_at)).date()),
            ),
            correspondent: match (d.sender, d.recipient) {
                (Some(s), _) if d.kind == "Eingang" => s,
                (_, Some(r)) => r,
                (Some(s), None) => s,
                (None, None) => String::new(),
            },
            title: d.title,
        })
        .collect();
    let lead = file
        .lead_org_unit_id
        .and_then(|o| org_units.iter().find(|u| u.id == o))
        .map(|u| format!("{} {}", u.code, u.name))
        .unwrap_or_else(|| "–".into());
    let file_resubmit = resubmit(file.id);
    let f = FileView {
        id: file.id,
        plan_unit_id: unit.id,
        plan_unit: format!("{} {}", unit.code, unit.title),
        open: file.status == FileStatus::Open.as_str(),
        status: lang.t(&format!("file.status.{}", file.status)),
        period: match file.period_to {
            Some(to) => format!("{} – {}", date(file.period_from), date(to)),
            None => format!("{} –", date(file.period_from)),
        },
        retention: retention_line(lang, file.retention.as_ref()),
        due_on: file
            .retention
            .as_ref()
            .and_then(|r| r["due_on"].as_str())
            .and_then(crate::render::parse_iso_date)
            .map(date),
        hold: file
            .retention
            .as_ref()
            .map(|r| &r["hold"])
            .filter(|h| !h.is_null())
            .map(|h| hold_line(lang, h)),
        confidentiality: lang.t(&format!("file.conf.{}", file.confidentiality)),
        resubmit_on: file_resubmit.map(date),
        resubmit_iso: file_resubmit.map(iso_date).unwrap_or_default(),
        reference: file.reference,
        subject: file.subject,
        lead,
    };
    let (register_title, register_query, upload_url) = match &selected_case {
        Some(c) => (
            format!("{} {} {}", lang.t("case.title"), c.reference, c.subject),
            format!("?vorgang={}", c.id),
            format!("/api/v1/cases/{}/documents", c.id),
        ),
        None if show_history => (
            lang.t("file.register.history").to_owned(),
            String::new(),
            String::new(),
        ),
        None => (
            lang.t("file.register.direct").to_owned(),
            String::new(),
            format!("/api/v1/files/{}/documents", f.id),
        ),
    };
    let case = selected_case.map(|c| {
        let on = resubmit(c.id);
        CaseView {
            id: c.id,
            open: c.status == FileStatus::Open.as_str(),
            reference: c.reference,
            status: lang.t(&format!("file.status.{}", c.status)),
            resubmit_on: on.map(date),
            resubmit_iso: on.map(iso_date).unwrap_or_default(),
        }
    });
    let register_open = f.open && case.as_ref().is_none_or(|c| c.open);
    let template = FilePage {
        register_open,
        registers,
        register_title,
        register_query,
        case,
        documents,
        show_history,
        history: history
            .iter()
            .map(|e| HistoryRow {
                when: date_time(e.at),
                actor: names.actor(lang, &e.actor),
                action: crate::pages::history::sentence(lang, e, &names),
            })
            .collect(),
        upload_url,
        kinds: kinds(lang),
        wv,
        colleagues: colleague_choices(&state, &session).await?,
        favourite: state.core.is_favourite(&session.principal, id).await?,
        f,
        c: session.chrome.with_nav("plan"),
    };
    page(&template)
}

/// Whom a Wiedervorlage can be for: the caller first ("mich"), then colleagues by name.
async fn colleague_choices(
    state: &AppState,
    session: &Session,
) -> Result<Vec<(String, String)>, WebError> {
    let mut choices = vec![(String::new(), session.lang().t("wv.me").to_owned())];
    if session.chrome.can_write {
        choices.extend(crate::pages::colleague_options(state, session).await?);
    }
    Ok(choices)
}

#[derive(Template)]
#[template(path = "file_form.html")]
struct FileForm {
    c: Chrome,
    heading: &'static str,
    action: String,
    cancel: String,
    submit: &'static str,
    creating: bool,
    version: i32,
    units: Vec<(String, String)>,
    org_units: Vec<(String, String)>,
    confidentialities: Vec<(String, String)>,
    plan_unit_id: String,
    subject: String,
    lead: String,
    confidentiality: String,
    errors: Errors,
    notice: Option<&'static str>,
    /// Open Akten of the same plan unit with the same Betreff, pointed out before a second
    /// one is created; the form then asks to confirm.
    duplicates: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub struct FileFields {
    #[serde(default)]
    plan_unit_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    lead_org_unit_id: String,
    #[serde(default)]
    confidentiality: String,
    #[serde(default)]
    version: i32,
    /// `1`: create even though an Akte with this Betreff exists.
    #[serde(default)]
    trotzdem: String,
}

/// The create/edit form, filled with `fields`, showing `errors`.
async fn file_form(
    state: &AppState,
    session: &Session,
    editing: Option<Uuid>,
    fields: FileFields,
    errors: Errors,
    notice: Option<&'static str>,
) -> Result<FileForm, WebError> {
    let lang = session.lang();
    let (units, org_units) = state.core.file_form_choices(&session.principal).await?;
    let (heading, action, submit, cancel) = match editing {
        Some(id) => (
            lang.t("file.edit"),
            format!("/akten/{id}/bearbeiten"),
            lang.t("file.save"),
            format!("/akten/{id}"),
        ),
        None => (
            lang.t("file.new"),
            // The form's own address: after an error the address bar still holds a page.
            format!("/akten/neu?einheit={}", fields.plan_unit_id),
            lang.t("file.create"),
            format!("/aktenplan?einheit={}", fields.plan_unit_id),
        ),
    };
    Ok(FileForm {
        c: session.chrome.clone().with_nav("plan"),
        heading,
        action,
        cancel,
        submit,
        creating: editing.is_none(),
        version: fields.version,
        units: units
            .into_iter()
            .map(|u| (u.id.to_string(), format!("{} {}", u.code, u.title)))
            .collect(),
        org_units: org_units
            .into_iter()
            .map(|o| (o.id.to_string(), format!("{} {}", o.code, o.name)))
            .collect(),
        confidentialities: ["normal", "vertraulich", "streng_vertraulich"]
            .iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    lang.t(&format!("file.conf.{c}")).to_owned(),
                )
            })
            .collect(),
        plan_unit_id: fields.plan_unit_id,
        subject: fields.subject,
        lead: fields.lead_org_unit_id,
        confidentiality: if fields.confidentiality.is_empty() {
            "normal".into()
        } else {
            fields.confidentiality
        },
        errors,
        notice,
        duplicates: Vec::new(),
    })
}

#[derive(Deserialize)]
pub struct NewFileQuery {
    einheit: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NewFileQuery>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let fields = FileFields {
        plan_unit_id: q.einheit.unwrap_or_default(),
        ..FileFields::default()
    };
    let form = file_form(
        &state,
        &session,
        None,
        fields,
        Errors::new(session.lang()),
        None,
    )
    .await?;
    page(&form)
}

/// Maps what the db layer refuses to the field it concerns.
fn field_error(errors: &mut Errors, e: CoreError) -> Result<(), WebError> {
    match e {
        CoreError::Validation { field, .. } => {
            let field = match field.as_str() {
                "plan_unit_id" => "plan_unit_id",
                "lead_org_unit_id" => "lead_org_unit_id",
                _ => return Err(WebError::BadRequest(field)),
            };
            errors.add(field, "field.invalid_choice");
            Ok(())
        }
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    posted: Posted<FileFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let mut errors = Errors::new(session.lang());
    let plan_unit = errors.id("plan_unit_id", &form.plan_unit_id).flatten();
    if plan_unit.is_none() && !errors.has("plan_unit_id") {
        errors.add("plan_unit_id", "field.required");
    }
    let subject = errors.text("subject", &form.subject, SUBJECT_MAX, true);
    let lead = errors.id("lead_org_unit_id", &form.lead_org_unit_id);
    let confidentiality = errors.choice(
        "confidentiality",
        Confidentiality::parse(&form.confidentiality),
    );
    if let (Some(plan_unit_id), Some(subject), Some(lead), Some(confidentiality)) =
        (plan_unit, subject, lead, confidentiality)
    {
        if form.trotzdem != "1" {
            let same = state
                .core
                .files_with_subject(&session.principal, plan_unit_id, &subject)
                .await?;
            if !same.is_empty() {
                let mut page_ = file_form(&state, &session, None, form, errors, None).await?;
                page_.duplicates = same
                    .into_iter()
                    .map(|f| (format!("/akten/{}", f.id), f.reference))
                    .collect();
                return page_with_status(StatusCode::CONFLICT, &page_);
            }
        }
        let created = state
            .core
            .create_file(
                &session.principal,
                NewFile {
                    plan_unit_id,
                    subject,
                    lead_org_unit_id: lead,
                    confidentiality,
                    period_from: None,
                    metadata: Map::new(),
                },
            )
            .await;
        match created {
            Ok(file) => return Ok(see_other(&format!("/akten/{}", file.id))),
            Err(e) => field_error(&mut errors, e)?,
        }
    }
    let form = file_form(&state, &session, None, form, errors, None).await?;
    page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &form)
}

pub async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let file = state.core.file(&session.principal, id).await?;
    let fields = FileFields {
        plan_unit_id: file.plan_unit_id.to_string(),
        subject: file.subject,
        lead_org_unit_id: file
            .lead_org_unit_id
            .map(|o| o.to_string())
            .unwrap_or_default(),
        confidentiality: file.confidentiality,
        version: file.row_version,
        trotzdem: String::new(),
    };
    let form = file_form(
        &state,
        &session,
        Some(id),
        fields,
        Errors::new(session.lang()),
        None,
    )
    .await?;
    page(&form)
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<FileFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let subject = errors.text("subject", &form.subject, SUBJECT_MAX, true);
    let lead = errors.id("lead_org_unit_id", &form.lead_org_unit_id);
    let confidentiality = errors.choice(
        "confidentiality",
        Confidentiality::parse(&form.confidentiality),
    );
    let mut notice = None;
    if let (Some(subject), Some(lead), Some(confidentiality)) = (subject, lead, confidentiality) {
        let update = FileUpdate {
            subject: Some(subject),
            lead_org_unit_id: Some(lead),
            confidentiality: Some(confidentiality),
            ..FileUpdate::default()
        };
        let updated = state
            .core
            .update_file(&session.principal, id, Some(form.version), update)
            .await;
        match updated {
            Ok(_) => return Ok(see_other(&format!("/akten/{id}"))),
            Err(CoreError::PreconditionFailed) => notice = Some(session.lang().t("file.changed")),
            Err(e) => field_error(&mut errors, e)?,
        }
    }
    let status = if notice.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form = file_form(&state, &session, Some(id), form, errors, notice).await?;
    page_with_status(status, &form)
}

#[derive(Deserialize)]
pub struct ResubmissionFields {
    #[serde(default)]
    date: String,
    #[serde(default)]
    action: String,
    /// For whom (a user id); empty: the caller.
    #[serde(default)]
    fuer: String,
    #[serde(default)]
    note: String,
}

async fn resubmit(
    state: &AppState,
    session: &Session,
    target: ResubmissionTarget,
    form: &ResubmissionFields,
) -> Result<Uuid, WebError> {
    session.require_write()?;
    let mut errors = Errors::new(session.lang());
    if form.action == "clear" {
        return Ok(state
            .core
            .set_resubmission(&session.principal, target, None, None)
            .await?);
    }
    let (Some(due_on), Some(user_id), note) = (
        errors.date("date", &form.date),
        errors.id("fuer", &form.fuer),
        errors.text("note", &form.note, 2000, false),
    ) else {
        return Err(WebError::BadRequest("date".into()));
    };
    if !errors.is_empty() {
        return Err(WebError::BadRequest("date".into()));
    }
    // My own Wiedervorlage on an Akte is one date that moves; a colleague gets one more.
    let Some(user_id) = user_id.filter(|u| *u != session.user_id) else {
        return Ok(state
            .core
            .set_resubmission(&session.principal, target, Some(due_on), note)
            .await?);
    };
    let new = akta_core::model::NewResubmission {
        due_on,
        user_id: Some(user_id),
        note,
    };
    let created = state
        .core
        .add_resubmission(&session.principal, target, new)
        .await?;
    Ok(created.file_id)
}

/// `POST /wiedervorlagen/{id}/erledigt`: marks a Wiedervorlage done.
pub async fn complete_resubmission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<CsrfOnly>,
) -> Result<Response, WebError> {
    posted.session.require_write()?;
    let id = parse_id(&id)?;
    let done = state
        .core
        .complete_resubmission(&posted.session.principal, id)
        .await?;
    Ok(see_other(&crate::pages::item_href(
        done.file_id,
        done.case_id,
    )))
}

/// A form that carries nothing but its CSRF token (checked by [`Posted`]).
#[derive(Deserialize)]
pub struct CsrfOnly {}

pub async fn resubmit_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ResubmissionFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let file = resubmit(
        &state,
        &posted.session,
        ResubmissionTarget::File(id),
        &posted.form,
    )
    .await?;
    Ok(see_other(&format!("/akten/{file}")))
}

pub async fn resubmit_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ResubmissionFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let file = resubmit(
        &state,
        &posted.session,
        ResubmissionTarget::Case(id),
        &posted.form,
    )
    .await?;
    Ok(see_other(&format!("/akten/{file}?register={id}#register")))
}

/// Confirmation page before zdA.
pub async fn close_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let file = state.core.file(&session.principal, id).await?;
    let lang = session.lang();
    let form = SimpleForm {
        heading: format!("{} {}", lang.t("file.close.confirm"), file.reference),
        explain: Some(lang.t("file.close.explain")),
        action: format!("/akten/{id}/zda"),
        testid: "close-form",
        hidden: vec![("version", file.row_version.to_string())],
        fields: Vec::new(),
        errors: Errors::new(lang),
        submit: lang.t("file.close.yes"),
        cancel: format!("/akten/{id}"),
        multipart: false,
        c: session.chrome.with_nav("plan"),
    };
    page(&form)
}

#[derive(Deserialize)]
pub struct VersionFields {
    #[serde(default)]
    version: i32,
    #[serde(default)]
    reason: String,
}

pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<VersionFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    state
        .core
        .close_file(&session.principal, id, Some(form.version))
        .await?;
    Ok(see_other(&format!("/akten/{id}")))
}

fn reopen_page(
    session: Session,
    id: Uuid,
    reference: &str,
    version: i32,
    reason: String,
    errors: Errors,
) -> SimpleForm {
    let lang = session.lang();
    SimpleForm {
        heading: format!("{} {}", lang.t("file.reopen"), reference),
        explain: None,
        action: format!("/akten/{id}/wiedereroeffnen"),
        testid: "reopen-form",
        hidden: vec![("version", version.to_string())],
        fields: vec![Field::text("reason", lang.t("file.reopen.reason"), reason).multiline()],
        errors,
        submit: lang.t("file.reopen.submit"),
        cancel: format!("/akten/{id}"),
        multipart: false,
        c: session.chrome.with_nav("plan"),
    }
}

pub async fn reopen_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let file = state.core.file(&session.principal, id).await?;
    let errors = Errors::new(session.lang());
    page(&reopen_page(
        session,
        id,
        &file.reference,
        file.row_version,
        String::new(),
        errors,
    ))
}

pub async fn reopen(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<VersionFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let reason = errors.long_text("reason", &form.reason, 2000);
    let Some(reason) = reason else {
        let file = state.core.file(&session.principal, id).await?;
        let page_ = reopen_page(
            session,
            id,
            &file.reference,
            form.version,
            form.reason,
            errors,
        );
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    state
        .core
        .reopen_file(&session.principal, id, Some(form.version), &reason)
        .await?;
    Ok(see_other(&format!("/akten/{id}")))
}

/// The Vorgang form: one field, the Betreff. New (`id` is the Akte) or edit (`id` is the
/// Vorgang).
/// The new-Vorgang form says for which Akte (`reference`); the edit form edits the Vorgang.
#[allow(clippy::too_many_arguments)]
fn case_form(
    session: Session,
    new: bool,
    id: Uuid,
    reference: &str,
    version: i32,
    subject: String,
    errors: Errors,
) -> SimpleForm {
    let lang = session.lang();
    let (heading, action, submit, cancel) = if new {
        (
            format!("{} {} {reference}", lang.t("case.new"), lang.t("case.in")),
            format!("/akten/{id}/vorgaenge/neu"),
            "case.create",
            format!("/akten/{id}"),
        )
    } else {
        (
            lang.t("case.edit").to_owned(),
            format!("/vorgaenge/{id}/bearbeiten"),
            "file.save",
            format!("/vorgaenge/{id}"),
        )
    };
    SimpleForm {
        heading,
        explain: None,
        action,
        testid: "case-form",
        hidden: if new {
            Vec::new()
        } else {
            vec![("version", version.to_string())]
        },
        fields: vec![Field::text("subject", lang.t("file.subject"), subject)],
        errors,
        submit: lang.t(submit),
        cancel,
        multipart: false,
        c: session.chrome.with_nav("plan"),
    }
}

pub async fn new_case_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let file = state.core.file(&session.principal, id).await?;
    let errors = Errors::new(session.lang());
    page(&case_form(
        session,
        true,
        id,
        &file.reference,
        0,
        String::new(),
        errors,
    ))
}

#[derive(Deserialize)]
pub struct CaseFields {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    version: i32,
}

pub async fn create_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<CaseFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let Some(subject) = errors.text("subject", &form.subject, SUBJECT_MAX, true) else {
        let file = state.core.file(&session.principal, id).await?;
        let page_ = case_form(session, true, id, &file.reference, 0, form.subject, errors);
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    let case = state
        .core
        .create_case(&session.principal, id, &subject, Map::new())
        .await?;
    Ok(see_other(&format!(
        "/akten/{id}?register={}#register",
        case.id
    )))
}

/// `GET /vorgaenge/{id}`: the Vorgang's register in its Akte.
pub async fn show_case(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let case = state.core.case(&session.principal, id).await?;
    Ok(see_other(&crate::pages::item_href(case.file_id, Some(id))))
}

pub async fn edit_case_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let case = state.core.case(&session.principal, id).await?;
    let errors = Errors::new(session.lang());
    page(&case_form(
        session,
        false,
        id,
        "",
        case.row_version,
        case.subject,
        errors,
    ))
}

pub async fn update_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<CaseFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let Some(subject) = errors.text("subject", &form.subject, SUBJECT_MAX, true) else {
        state.core.case(&session.principal, id).await?;
        let page_ = case_form(session, false, id, "", form.version, form.subject, errors);
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    let update = CaseUpdate {
        subject: Some(subject),
        ..CaseUpdate::default()
    };
    let case = state
        .core
        .update_case(&session.principal, id, Some(form.version), update)
        .await?;
    Ok(see_other(&crate::pages::item_href(case.file_id, Some(id))))
}

/// Confirmation (zdA) or reason (reopen) page of a Vorgang.
fn case_status_page(
    session: Session,
    id: Uuid,
    reference: &str,
    version: i32,
    closing: bool,
    reason: String,
    errors: Errors,
) -> SimpleForm {
    let lang = session.lang();
    let (heading, action, testid, fields, submit, explain) = if closing {
        (
            format!("{} {reference}", lang.t("case.close.confirm")),
            format!("/vorgaenge/{id}/zda"),
            "case-close-form",
            Vec::new(),
            lang.t("file.close.yes"),
            Some(lang.t("case.close.explain")),
        )
    } else {
        (
            format!("{} {reference}", lang.t("case.reopen")),
            format!("/vorgaenge/{id}/wiedereroeffnen"),
            "case-reopen-form",
            vec![Field::text("reason", lang.t("file.reopen.reason"), reason).multiline()],
            lang.t("case.reopen"),
            None,
        )
    };
    SimpleForm {
        heading,
        explain,
        action,
        testid,
        hidden: vec![("version", version.to_string())],
        fields,
        errors,
        submit,
        cancel: format!("/vorgaenge/{id}"),
        multipart: false,
        c: session.chrome.with_nav("plan"),
    }
}

async fn case_status_form(
    state: AppState,
    session: Session,
    id: String,
    closing: bool,
) -> Result<Response, WebError> {
    session.require_write()?;
    let id = parse_id(&id)?;
    let case = state.core.case(&session.principal, id).await?;
    let errors = Errors::new(session.lang());
    page(&case_status_page(
        session,
        id,
        &case.reference,
        case.row_version,
        closing,
        String::new(),
        errors,
    ))
}

pub async fn close_case_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    case_status_form(state, session, id, true).await
}

pub async fn reopen_case_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    case_status_form(state, session, id, false).await
}

pub async fn close_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<VersionFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let update = CaseUpdate {
        status: Some(FileStatus::Closed),
        ..CaseUpdate::default()
    };
    let case = state
        .core
        .update_case(&session.principal, id, Some(form.version), update)
        .await?;
    Ok(see_other(&crate::pages::item_href(case.file_id, Some(id))))
}

pub async fn reopen_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<VersionFields>,
) -> Result<Response, WebError> {
    let Posted { session, form } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let reason = errors.long_text("reason", &form.reason, 2000);
    let Some(reason) = reason else {
        let case = state.core.case(&session.principal, id).await?;
        let page_ = case_status_page(
            session,
            id,
            &case.reference,
            form.version,
            false,
            form.reason,
            errors,
        );
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page_);
    };
    let update = CaseUpdate {
        status: Some(FileStatus::Open),
        reason: Some(reason),
        ..CaseUpdate::default()
    };
    let case = state
        .core
        .update_case(&session.principal, id, Some(form.version), update)
        .await?;
    Ok(see_other(&crate::pages::item_href(case.file_id, Some(id))))
}

#[derive(Deserialize)]
pub struct FavouriteForm {
    #[serde(default)]
    action: String,
}

/// `POST /akten/{id}/favorit`: `action=add` or `action=remove`.
pub async fn favourite(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<FavouriteForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let on = posted.form.action != "remove";
    state
        .core
        .set_favourite(&posted.session.principal, id, on)
        .await?;
    Ok(see_other(&format!("/akten/{id}")))
}
