//! What Akta exchanges, in Akta's words; [`crate::write`] maps it onto xdomea types.

use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Aussonderungsart / Bewertung: A archivwürdig (übernehmen), B bewerten, V vernichten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rating {
    A,
    B,
    V,
}

impl Rating {
    pub fn code(self) -> &'static str {
        match self {
            Rating::A => "A",
            Rating::B => "B",
            Rating::V => "V",
        }
    }

    pub fn parse(code: &str) -> Option<Rating> {
        match code {
            "A" => Some(Rating::A),
            "B" => Some(Rating::B),
            "V" => Some(Rating::V),
            _ => None,
        }
    }
}

/// Aufbewahrungsdauer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Years(u16),
    Unlimited,
}

/// One side of an exchange (Absender, Empfänger).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// Behördenschlüssel as agreed with the partner (e.g. the tenant's slug).
    pub authority_key: Option<String>,
    /// The institution's name, e.g. "Stadt Witten".
    pub institution: Option<String>,
}

/// The head every message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// One id for every message of one process (Akta: the transfer's id).
    pub process_id: Uuid,
    pub created: OffsetDateTime,
    pub sender: Party,
    pub recipient: Party,
    /// Asks the other side for its receipt message.
    pub receipt_requested: bool,
}

/// Vertraulichkeitsstufe as Akta knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidentiality {
    Open,
    Confidential,
    StrictlyConfidential,
}

/// Retention data of an Akte or Vorgang (ArchivspezifischeMetadaten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub keep: Keep,
    pub rating: Rating,
    /// The day it fell due (Aufbewahrungsende).
    pub ends: Option<Date>,
}

/// An Akte with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileObject {
    pub id: Uuid,
    pub reference: String,
    pub subject: String,
    pub confidentiality: Confidentiality,
    pub lead: Option<String>,
    pub plan_unit: Option<(String, String)>,
    pub retention: Retention,
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    pub closed_on: Option<Date>,
    /// Documents filed directly in the Akte.
    pub documents: Vec<DocumentObject>,
    pub cases: Vec<CaseObject>,
}

/// A Vorgang.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseObject {
    pub id: Uuid,
    pub reference: String,
    pub subject: String,
    pub retention: Retention,
    pub closed_on: Option<Date>,
    pub period_from: Option<Date>,
    pub documents: Vec<DocumentObject>,
}

/// A Dokument; `versions` empty in an offer (0501 carries no primary documents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentObject {
    pub id: Uuid,
    pub title: String,
    /// Dokumentart (Eingang, Ausgang, Vermerk, …).
    pub kind: String,
    pub received_on: Option<Date>,
    pub sent_on: Option<Date>,
    pub dated: Option<Date>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub versions: Vec<VersionObject>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionObject {
    pub number: u32,
    /// The file in the container: must start with a UUID (`<uuid>_<name>`).
    pub file_name: String,
    pub original_name: String,
    pub format_code: String,
    pub created: OffsetDateTime,
    pub created_by: String,
}

/// A unit of the Aktenplan with its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanUnitObject {
    pub code: String,
    pub title: String,
    pub rating: Rating,
    pub keep: Keep,
    pub retired: bool,
    pub children: Vec<PlanUnitObject>,
}

/// An Aktenplan (0301).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub version: String,
    pub units: Vec<PlanUnitObject>,
}

/// The file-format code (xdomea Dateiformat list, version 2.0) for a media type or file name.
pub fn format_code(media_type: &str, file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match (media_type, ext.as_str()) {
        ("application/pdf", _) | (_, "pdf") => "018",
        (_, "docx") => "035",
        ("text/plain", _) | (_, "txt") => "045",
        _ => "100",
    }
}
