//! The Verlauf of an Akte in sentences, as a clerk reads a paper file's Laufzettel: who (by
//! name), did what, to which document (by title) or Vorgang (by Zeichen), which version, and
//! why (the reason given when reopening, the note of a Wiedervorlage).

use std::collections::HashMap;

use akta_core::model::AuditEvent;
use serde_json::Value;
use uuid::Uuid;

use crate::i18n::Lang;
use crate::pages::{action_label, actor_label};
use crate::render::{date, parse_iso_date};

/// What the sentences name besides the event itself.
#[derive(Default)]
pub struct Names {
    /// Login name → display name.
    pub people: HashMap<String, String>,
    /// User id → display name.
    pub people_by_id: HashMap<Uuid, String>,
    /// Document id → title (now).
    pub documents: HashMap<Uuid, String>,
    /// Vorgang id → Zeichen.
    pub cases: HashMap<Uuid, String>,
}

impl Names {
    /// Who did it: a person's display name, else what [`actor_label`] says.
    pub fn actor(&self, lang: Lang, actor: &str) -> String {
        match actor.split_once(':') {
            Some(("user", login)) => self
                .people
                .get(login)
                .cloned()
                .unwrap_or_else(|| login.to_owned()),
            _ => actor_label(lang, actor),
        }
    }
}

fn text<'a>(v: &'a Option<Value>, key: &str) -> Option<&'a str> {
    v.as_ref()?.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// Fields of an Akte or Vorgang that changed, by their labels.
fn changed_fields(lang: Lang, e: &AuditEvent) -> String {
    let labels = [
        ("subject", "file.subject"),
        ("lead_org_unit_id", "file.lead"),
        ("confidentiality", "file.confidentiality"),
        ("metadata", "history.field.metadata"),
        ("title", "doc.title"),
        ("kind", "doc.kind"),
        ("sender", "doc.sender"),
        ("recipient", "doc.recipient"),
        ("document_date", "doc.date"),
    ];
    let get = |v: &Option<Value>, k: &str| v.as_ref().and_then(|v| v.get(k)).cloned();
    labels
        .iter()
        .filter(|(k, _)| get(&e.before, k) != get(&e.after, k) && get(&e.after, k).is_some())
        .map(|(_, label)| lang.t(label))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One history entry as a sentence (without the actor, who has a column of their own).
pub fn sentence(lang: Lang, e: &AuditEvent, names: &Names) -> String {
    let doc_title = || {
        text(&e.after, "title")
            .map(str::to_owned)
            .or_else(|| names.documents.get(&e.object_id).cloned())
            .unwrap_or_default()
    };
    let case_ref = || {
        text(&e.after, "reference")
            .map(str::to_owned)
            .or_else(|| names.cases.get(&e.object_id).cloned())
            .unwrap_or_default()
    };
    let fill = |key: &str, pairs: &[(&str, String)]| {
        let mut s = lang.t(key).to_owned();
        for (k, v) in pairs {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let reason = text(&e.after, "reason").unwrap_or("").to_owned();
    match e.action.as_str() {
        "file.created" => fill("history.file.created", &[]),
        "file.updated" => fill(
            "history.file.updated",
            &[("fields", changed_fields(lang, e))],
        ),
        "file.closed" => fill("history.file.closed", &[]),
        "file.reopened" => fill("history.file.reopened", &[("reason", reason)]),
        "file.read" => fill("history.file.read", &[]),
        "case.created" => fill(
            "history.case.created",
            &[
                ("case", case_ref()),
                (
                    "subject",
                    text(&e.after, "subject").unwrap_or("").to_owned(),
                ),
            ],
        ),
        "case.updated" => fill("history.case.updated", &[("case", case_ref())]),
        "case.closed" => fill("history.case.closed", &[("case", case_ref())]),
        "case.reopened" => fill(
            "history.case.reopened",
            &[("case", case_ref()), ("reason", reason)],
        ),
        "document.created" => fill("history.document.created", &[("title", doc_title())]),
        "document.version_added" => fill(
            "history.document.version_added",
            &[
                (
                    "version",
                    e.after
                        .as_ref()
                        .and_then(|a| a.get("number"))
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                ),
                (
                    "title",
                    names
                        .documents
                        .get(&e.object_id)
                        .cloned()
                        .unwrap_or_default(),
                ),
            ],
        ),
        "document.updated" => fill(
            "history.document.updated",
            &[("title", doc_title()), ("fields", changed_fields(lang, e))],
        ),
        "inbox.filed" => fill(
            "history.inbox.filed",
            &[("title", text(&e.after, "title").unwrap_or("").to_owned())],
        ),
        "file.resubmission_set" | "case.resubmission_set" => {
            let due = text(&e.after, "due_on")
                .or_else(|| text(&e.after, "resubmit_on"))
                .and_then(parse_iso_date)
                .map(date)
                .unwrap_or_default();
            let whom = text(&e.after, "user_name")
                .map(str::to_owned)
                .or_else(|| {
                    text(&e.after, "user_id")
                        .and_then(|id| Uuid::parse_str(id).ok())
                        .and_then(|id| names.people_by_id.get(&id).cloned())
                })
                .unwrap_or_else(|| lang.t("wv.everyone").to_owned());
            let mut s = fill("history.resubmission.set", &[("date", due), ("whom", whom)]);
            if let Some(note) = text(&e.after, "note") {
                s.push_str(&format!(" – „{note}“"));
            }
            s
        }
        "file.resubmission_cleared" | "case.resubmission_cleared" => {
            let why = e
                .after
                .as_ref()
                .and_then(|a| a.get("reason"))
                .and_then(Value::as_str)
                .unwrap_or("erledigt");
            match why {
                "ersetzt" => fill("history.resubmission.replaced", &[]),
                _ => fill("history.resubmission.done", &[]),
            }
        }
        other => action_label(lang, other),
    }
}
