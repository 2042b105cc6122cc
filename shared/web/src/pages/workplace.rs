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
        c: session.chrome.with_nav("workplace"),
    };
    page(&template)
}
