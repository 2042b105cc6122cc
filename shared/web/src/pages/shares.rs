//! Amtshilfe in the web UI: "Geteilt mit uns" (what other towns share with this one, and a
//! shared Akte's documents), and the owner's page to share an Akte and end its shares. The
//! rules are the core's, as over REST.

use akta_api::AppState;
use akta_core::model::Share;
use akta_core::{CoreError, ShareRequest};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::WebError;
use crate::forms::Errors;
use crate::pages::files::{kind_label, CsrfOnly};
use crate::pages::parse_id;
use crate::render::{page, page_with_status, see_other, Chrome};
use crate::session::{Posted, Session};

pub struct ShareRow {
    id: Uuid,
    reference: String,
    label: String,
    /// The other side: the owner on "Geteilt mit uns", the receiving town on the owner's page.
    party: String,
    reason: String,
    until: String,
    active: bool,
}

fn row(share: Share, owner_side: bool) -> ShareRow {
    ShareRow {
        id: share.id,
        reference: share.file_reference,
        label: share.label,
        party: if owner_side {
            share.grantee_name
        } else {
            share.owner_name
        },
        reason: share.reason,
        until: akta_domain::german::date(share.until),
        active: share.active,
    }
}

#[derive(Template)]
#[template(path = "shares.html")]
struct SharesPage {
    c: Chrome,
    shares: Vec<ShareRow>,
}

/// `GET /geteilt`.
pub async fn list(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let shares = state
        .core
        .shared_with_us(&session.principal)
        .await?
        .into_iter()
        .map(|s| row(s, false))
        .collect();
    page(&SharesPage {
        c: session.chrome.with_nav("shares"),
        shares,
    })
}

pub struct SharedDocument {
    id: Uuid,
    title: String,
    kind: &'static str,
    date: String,
    versions: usize,
}

#[derive(Template)]
#[template(path = "shared_file.html")]
struct SharedFilePage {
    c: Chrome,
    share: ShareRow,
    documents: Vec<SharedDocument>,
}

/// `GET /geteilt/{share}`: the shared Akte (or Vorgang) with its documents, read through the
/// share like every other read of it.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let lang = session.lang();
    let share = state
        .core
        .shared_with_us(&session.principal)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(WebError::NotFound)?;
    let (file, case) = match share.case_id {
        Some(case) => (None, Some(case)),
        None => (Some(share.file_id), None),
    };
    let documents = state
        .core
        .list_documents(&session.principal, file, case)
        .await?
        .into_iter()
        .map(|d| SharedDocument {
            id: d.id,
            kind: kind_label(lang, &d.kind),
            date: d
                .document_date
                .map(akta_domain::german::date)
                .unwrap_or_default(),
            versions: d.versions.len(),
            title: d.title,
        })
        .collect();
    page(&SharedFilePage {
        c: session.chrome.with_nav("shares"),
        share: row(share, false),
        documents,
    })
}

#[derive(Template)]
#[template(path = "share_form.html")]
struct ShareForm {
    c: Chrome,
    file_id: Uuid,
    reference: String,
    subject: String,
    tenant: String,
    until: String,
    reason: String,
    errors: Errors,
    shares: Vec<ShareRow>,
}

#[derive(Deserialize, Default)]
pub struct ShareInput {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

async fn form(
    state: &AppState,
    session: Session,
    file_id: Uuid,
    input: ShareInput,
    errors: Errors,
) -> Result<Response, WebError> {
    let file = state.core.file(&session.principal, file_id).await?;
    let shares = state
        .core
        .file_shares(&session.principal, file_id)
        .await?
        .into_iter()
        .map(|s| row(s, true))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let template = ShareForm {
        c: session.chrome,
        file_id,
        reference: file.reference,
        subject: file.subject,
        tenant: input.tenant,
        until: input.until,
        reason: input.reason,
        errors,
        shares,
    };
    page_with_status(status, &template)
}

/// `GET /akten/{id}/teilen`.
pub async fn share_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let errors = Errors::new(session.lang());
    form(&state, session, id, ShareInput::default(), errors).await
}

/// `POST /akten/{id}/teilen`.
pub async fn share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ShareInput>,
) -> Result<Response, WebError> {
    let Posted {
        session,
        form: input,
    } = posted;
    session.require_write()?;
    let id = parse_id(&id)?;
    let mut errors = Errors::new(session.lang());
    let tenant = errors.text("tenant", &input.tenant, 100, true);
    let until = errors.date("until", &input.until);
    let reason = errors.text("reason", &input.reason, 2000, true);
    if let (Some(tenant), Some(until), Some(reason)) = (tenant, until, reason) {
        let request = ShareRequest {
            tenant: &tenant,
            until,
            reason: &reason,
            case_id: None,
        };
        match state.core.share_file(&session.principal, id, request).await {
            Ok(_) => return Ok(see_other(&format!("/akten/{id}/teilen"))),
            Err(CoreError::Validation { field, .. }) => match field.as_str() {
                "tenant" => errors.add("tenant", "shares.invalid.tenant"),
                "until" => errors.add("until", "shares.invalid.until"),
                _ => errors.add("reason", "field.invalid"),
            },
            Err(e) => return Err(e.into()),
        }
    }
    form(&state, session, id, input, errors).await
}

/// `POST /akten/{id}/teilen/{share}/beenden`.
pub async fn end(
    State(state): State<AppState>,
    Path((id, share)): Path<(String, String)>,
    posted: Posted<CsrfOnly>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let share = parse_id(&share)?;
    state
        .core
        .revoke_share(&posted.session.principal, id, share)
        .await?;
    Ok(see_other(&format!("/akten/{id}/teilen")))
}
