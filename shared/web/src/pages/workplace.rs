//! "Mein Arbeitsplatz": due Wiedervorlagen, my open Akten and Vorgänge, recent changes.

use akta_api::AppState;
use akta_core::model::WorkItem;
use akta_core::Workplace;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::error::WebError;
use crate::pages::{action_label, actor_label, item_href};
use crate::render::{date, date_time, page, today, Chrome};
use crate::session::Session;

pub struct Due {
    href: String,
    reference: String,
    subject: String,
    date: String,
    overdue: bool,
    note: String,
}

pub struct Item {
    href: String,
    reference: String,
    subject: String,
    when: String,
}

pub struct Recent {
    href: String,
    reference: String,
    subject: String,
    action: String,
    actor: String,
    when: String,
}

#[derive(Template)]
#[template(path = "workplace.html")]
struct WorkplacePage {
    c: Chrome,
    due: Vec<Due>,
    files: Vec<Item>,
    cases: Vec<Item>,
    recent: Vec<Recent>,
    inbox: Vec<crate::pages::inbox::Row>,
    opened: Vec<Item>,
    favourites: Vec<Item>,
    deputies: Vec<DeputyRow>,
    colleagues: Vec<(String, String)>,
    today_iso: String,
    to_sign: Vec<Item>,
}

pub struct DeputyRow {
    id: String,
    text: String,
    mine: bool,
}

pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let Workplace {
        due,
        files,
        cases,
        recent,
    } = state
        .core
        .workplace(&session.principal, session.user_id)
        .await?;
    let waiting = state.core.inbox(&session.principal).await?;
    let desk = state.core.desk(&session.principal).await?;
    let to_sign = state
        .core
        .pending_routings(&session.principal)
        .await?
        .into_iter()
        .map(|p| Item {
            href: format!("/dokumente/{}#geschaeftsgang", p.document_id),
            reference: p.reference,
            subject: p.title,
            when: session.lang().t(&format!("gg.kind.{}", p.kind)).to_owned(),
        })
        .collect();
    let colleagues = crate::pages::colleague_options(&state, &session).await?;
    let inbox = crate::pages::inbox::rows(&session, waiting);
    let today = today();
    let lang = session.lang();
    let item = |w: WorkItem| Item {
        href: item_href(w.file_id, w.case_id),
        reference: w.reference,
        subject: w.subject,
        when: date_time(w.changed_at),
    };
    let template = WorkplacePage {
        due: due
            .into_iter()
            .map(|d| Due {
                href: item_href(d.file_id, d.case_id),
                reference: d.reference,
                subject: d.subject,
                date: date(d.resubmit_on),
                overdue: d.resubmit_on < today,
                note: d.note.unwrap_or_default(),
            })
            .collect(),
        files: files.into_iter().map(item).collect(),
        cases: cases.into_iter().map(item).collect(),
        recent: recent
            .into_iter()
            .map(|r| Recent {
                href: item_href(r.file_id, None),
                reference: r.reference,
                subject: r.subject,
                action: action_label(lang, &r.action),
                actor: actor_label(lang, &r.actor),
                when: date_time(r.at),
            })
            .collect(),
        inbox,
        opened: desk
            .recent
            .into_iter()
            .map(|f| Item {
                href: item_href(f.file_id, None),
                reference: f.reference,
                subject: f.subject,
                when: date_time(f.at),
            })
            .collect(),
        favourites: desk
            .favourites
            .into_iter()
            .map(|f| Item {
                href: item_href(f.file_id, None),
                reference: f.reference,
                subject: f.subject,
                when: String::new(),
            })
            .collect(),
        deputies: desk
            .deputies
            .into_iter()
            .map(|d| {
                let mine = d.user_id == session.user_id;
                let period = format!("{} – {}", date(d.from_day), date(d.until_day));
                DeputyRow {
                    id: d.id.to_string(),
                    text: if mine {
                        format!("{} {} ({period})", lang.t("deputy.by"), d.deputy_name)
                    } else {
                        format!("{} {} ({period})", lang.t("deputy.for"), d.user_name)
                    },
                    mine,
                }
            })
            .collect(),
        colleagues,
        today_iso: crate::render::iso_date(today),
        to_sign,
        c: session.chrome.with_nav("workplace"),
    };
    page(&template)
}

#[derive(serde::Deserialize)]
pub struct DeputyForm {
    #[serde(default)]
    deputy: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
}

/// `POST /vertretung`: names a colleague to stand in for me over a period.
pub async fn name_deputy(
    State(state): State<AppState>,
    posted: crate::session::Posted<DeputyForm>,
) -> Result<Response, WebError> {
    let crate::session::Posted { session, form } = posted;
    let mut errors = crate::forms::Errors::new(session.lang());
    let deputy = errors.id("deputy", &form.deputy).flatten();
    let from = errors.date("from", &form.from);
    let until = errors.date("until", &form.until);
    let (Some(deputy), Some(from), Some(until)) = (deputy, from, until) else {
        return Err(WebError::BadRequest(
            "deputy, from and until are needed".into(),
        ));
    };
    state
        .core
        .name_deputy(&session.principal, deputy, from, until)
        .await?;
    Ok(crate::render::see_other("/arbeitsplatz"))
}

/// `POST /vertretung/{id}/beenden`
pub async fn end_deputy(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    posted: crate::session::Posted<crate::pages::files::CsrfOnly>,
) -> Result<Response, WebError> {
    let id = crate::pages::parse_id(&id)?;
    state.core.end_deputy(&posted.session.principal, id).await?;
    Ok(crate::render::see_other("/arbeitsplatz"))
}
