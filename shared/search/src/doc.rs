//! What gets indexed for one document version, and what a search returns.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

// Dates as `2026-11-25` in JSON, like everywhere else in the API.
time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Kind of a document (Dokumentart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocKind {
    /// Incoming mail.
    Eingang,
    /// Outgoing mail.
    Ausgang,
    /// Internal note.
    Vermerk,
    /// Administrative decision.
    Bescheid,
    /// Anything else.
    Sonstiges,
}

impl From<akta_domain::DocumentKind> for DocKind {
    fn from(kind: akta_domain::DocumentKind) -> Self {
        use akta_domain::DocumentKind as K;
        match kind {
            K::Incoming => Self::Eingang,
            K::Outgoing => Self::Ausgang,
            K::Note => Self::Vermerk,
            K::Decision => Self::Bescheid,
            K::Other => Self::Sonstiges,
        }
    }
}

impl DocKind {
    /// The kind named by its German name (the records model's [`akta_domain::DocumentKind`]).
    pub fn parse(s: &str) -> Result<DocKind, akta_domain::DomainError> {
        akta_domain::DocumentKind::parse(s).map(DocKind::from)
    }

    /// The German name as shown and as stored in PostgreSQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eingang => "Eingang",
            Self::Ausgang => "Ausgang",
            Self::Vermerk => "Vermerk",
            Self::Bescheid => "Bescheid",
            Self::Sonstiges => "Sonstiges",
        }
    }
}

/// Status of the Akte the document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocStatus {
    /// `offen`: the file is being worked on.
    Offen,
    /// `zdA` (zu den Akten): closed.
    ZdA,
}

impl DocStatus {
    /// `offen` or `zdA`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offen => "offen",
            Self::ZdA => "zdA",
        }
    }
}

/// One document version as the index sees it. The index keeps one entry per
/// `document_id`: indexing a newer version replaces the older one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    pub document_id: Uuid,
    pub version: i32,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub title: String,
    pub kind: DocKind,
    /// Aktenzeichen of the Akte, e.g. `63.01-0042/2026`.
    pub reference: String,
    /// Vorgangszeichen, e.g. `63.01-0042/2026-1`.
    pub case_reference: Option<String>,
    /// Betreff of the Akte.
    pub subject: String,
    pub sender: String,
    pub recipient: Option<String>,
    pub document_date: Option<Date>,
    pub created_at: OffsetDateTime,
    /// Plan unit codes from the root, e.g. `["6", "63", "63.01"]`.
    pub plan_unit_path: Vec<String>,
    pub org_unit: Option<Uuid>,
    pub status: DocStatus,
    /// Whether the Akte is confidential (vertraulich or streng vertraulich): then only
    /// callers named on it find the document (see [`crate::Visibility`]).
    #[serde(default)]
    pub confidential: bool,
    /// Free metadata; indexed as text and as `key=value` terms (nested keys dotted).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Extracted text.
    pub content: String,
}

impl SearchDoc {
    /// The date a document is sorted, filtered and counted by: its own date, or the day
    /// it was created when it has none.
    pub fn effective_date(&self) -> Date {
        self.document_date.unwrap_or(self.created_at.date())
    }
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub document_id: Uuid,
    pub version: i32,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub title: String,
    pub kind: DocKind,
    pub reference: String,
    pub case_reference: Option<String>,
    #[serde(with = "iso_date::option")]
    pub document_date: Option<Date>,
    /// The Akte's Betreff.
    pub subject: String,
    /// Relevance; `None` when sorted by date.
    pub score: Option<f32>,
    /// HTML fragment of the content, escaped, with matches in `<mark>…</mark>`; empty when
    /// the content did not match.
    pub snippet: String,
}

/// One facet value and how many hits have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts over all hits (not just the page).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Facets {
    /// By document kind.
    pub kind: Vec<FacetCount>,
    /// By top-level plan unit code.
    pub plan_unit: Vec<FacetCount>,
    /// By year of the effective date.
    pub year: Vec<FacetCount>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchResults {
    /// Exact number of matching documents.
    pub total: u64,
    pub items: Vec<SearchHit>,
    /// Present when [`crate::SearchOptions::facets`] was set.
    pub facets: Option<Facets>,
    /// Pass as [`crate::SearchOptions::cursor`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// `true` when nothing matched exactly and these are typo-tolerant matches.
    pub fuzzy: bool,
}
