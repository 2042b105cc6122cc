//! The tenant admin's imports: every import of the tenant (started here, over REST or with
//! `akta import` on the server) with its progress while it runs and its report when done,
//! and a form that starts one from an xdomea container. The work is the core's import
//! engine, as over REST and in the CLI.

use akta_api::AppState;
use akta_core::import::ImportPlan;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

use crate::error::WebError;
use crate::pages::actor_label;
use crate::pages::documents::{check_first_part, small_text};
use crate::render::{date_time, page, see_other, Chrome};
use crate::session::Session;

pub struct ImportRow {
    id: Uuid,
    started: String,
    by: String,
    source: String,
    state: &'static str,
    running: bool,
    dry_run: bool,
    done: u64,
    total: u64,
    percent: u64,
    created: usize,
    skipped: usize,
    refused: usize,
    error: String,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    c: Chrome,
    imports: Vec<ImportRow>,
    any_running: bool,
}

fn count(report: &Option<Value>, key: &str) -> usize {
    report
        .as_ref()
        .and_then(|r| r[key].as_array())
        .map_or(0, Vec::len)
}

/// `GET /importe`.
pub async fn list(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require_admin()?;
    let lang = session.lang();
    let imports: Vec<ImportRow> = state
        .core
        .imports(&session.principal)
        .await?
        .into_iter()
        .map(|j| {
            let progress = j.progress.clone().unwrap_or_default();
            let (done, total) = (
                progress["done"].as_u64().unwrap_or(0),
                progress["total"].as_u64().unwrap_or(0),
            );
            let created = if j.dry_run {
                j.report
                    .as_ref()
                    .and_then(|r| r["planned"]["files"].as_u64())
                    .map_or(0, |n| usize::try_from(n).unwrap_or(0))
            } else {
                count(&j.report, "files")
            };
            ImportRow {
                id: j.id,
                started: date_time(j.created_at),
                by: actor_label(lang, &j.created_by),
                source: j.source.clone(),
                state: lang.t(&format!("imports.state.{}", j.state)),
                running: j.state == "laufend",
                dry_run: j.dry_run,
                done,
                total,
                percent: (done * 100).checked_div(total).unwrap_or(0),
                created,
                skipped: count(&j.report, "skipped"),
                refused: count(&j.report, "refused"),
                error: j.error.clone().unwrap_or_default(),
            }
        })
        .collect();
    let template = ImportsPage {
        any_running: imports.iter().any(|i| i.running),
        imports,
        c: session.chrome.with_nav("imports"),
    };
    page(&template)
}

/// `POST /importe` (multipart: `csrf_token` first, then `probelauf` and `plan_anlegen`
/// checkboxes, the `container` last): the container streams into the import job.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let mut multipart = multipart.map_err(|e| WebError::BadRequest(e.body_text()))?;
    session.require_admin()?;
    check_first_part(&session, &mut multipart).await?;
    let mut plan = ImportPlan::default();
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
    {
        match part.name().unwrap_or("") {
            "probelauf" => plan.dry_run = small_text(part, 10).await? == "1",
            "plan_anlegen" => plan.create_plan_units = small_text(part, 10).await? == "1",
            "container" => {
                if part.file_name().unwrap_or("").is_empty() {
                    return Err(WebError::BadRequest("container".into()));
                }
                state
                    .core
                    .start_import(&session.principal, part, plan)
                    .await?;
                return Ok(see_other("/importe"));
            }
            other => return Err(WebError::BadRequest(format!("unknown part {other}"))),
        }
    }
    Err(WebError::BadRequest("container".into()))
}
