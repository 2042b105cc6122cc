//! One module per page or flow; handlers parse, call the db layer (or the REST layer's
//! shared functions), and render.

pub mod admin;
pub mod archive;
// Operator console and invitations (issue 13).
pub mod console;
pub mod documents;
pub mod files;
pub mod history;
pub mod imports;
pub mod inbox;
pub mod invitation;
pub mod login;
pub mod plan;
pub mod search;
pub mod shares;
pub mod simple;
pub mod workplace;

use uuid::Uuid;

use crate::error::WebError;
use crate::i18n::Lang;

/// Link to an Akte, opened at a Vorgang's register when given.
pub fn item_href(file: Uuid, case: Option<Uuid>) -> String {
    match case {
        Some(c) => format!("/akten/{file}?register={c}#register"),
        None => format!("/akten/{file}"),
    }
}

/// A readable name for an audit action.
pub fn action_label(lang: Lang, action: &str) -> String {
    lang.get(&format!("action.{action}"))
        .map(str::to_owned)
        .unwrap_or_else(|| action.to_owned())
}

/// Who did it, as a clerk reads it: the user name, an API token's name marked as such, or
/// the system.
pub fn actor_label(lang: Lang, actor: &str) -> String {
    match actor.split_once(':') {
        Some(("user", name)) => name.to_owned(),
        Some(("token", name)) => format!("{name} ({})", lang.t("actor.api")),
        Some(("operator", _)) => lang.t("actor.operator").to_owned(),
        Some(("system", _)) => lang.t("actor.system").to_owned(),
        _ => actor.to_owned(),
    }
}

/// The caller's colleagues (active people but the caller) as (id, name) choices for
/// selects: whom to forward to, ask to sign, name as deputy or give a Wiedervorlage.
pub async fn colleague_options(
    state: &akta_api::AppState,
    session: &crate::session::Session,
) -> Result<Vec<(String, String)>, WebError> {
    Ok(state
        .core
        .colleagues(&session.principal)
        .await?
        .into_iter()
        .filter(|(id, _)| *id != session.user_id)
        .map(|(id, name)| (id.to_string(), name))
        .collect())
}

/// Ids in paths: anything that is not a UUID is a page that does not exist.
pub fn parse_id(raw: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(raw).map_err(|_| WebError::NotFound)
}
