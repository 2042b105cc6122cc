//! Full-text search for Akta: one tantivy index per tenant, German analysis, a small
//! clerk-friendly query language, filters, facets and highlighted snippets.
//!
//! ```text
//! let manager = IndexManager::open(data_dir.join("search"))?;
//! manager.upsert(tenant, &doc)?;
//! manager.commit(tenant)?;
//! let query = Query::parse("Bauantrag az:63.01-")?; // QueryError → HTTP 400
//! let results = manager.search(tenant, &query, &SearchOptions::default())?;
//! ```

pub mod analysis;
mod doc;
mod facets;
mod index;
mod merge;
mod node;
mod query;

use std::path::PathBuf;

pub use doc::{DocKind, DocStatus, FacetCount, Facets, SearchDoc, SearchHit, SearchResults};
pub use index::{
    IndexManager, SearchOptions, SortOrder, Visibility, DEFAULT_WRITER_MEMORY, MAX_LIMIT,
    SCHEMA_VERSION,
};
pub use node::SearchIndex;
pub use query::{Query, QueryError, QueryErrorKind, QueryField, RecordTerms};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text is malformed; show the message to the user (HTTP 400).
    #[error("invalid query: {0}")]
    Query(#[from] QueryError),
    /// The cursor was not produced by this crate.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The page size is 0 or too large.
    #[error("limit must be between 1 and {0}")]
    InvalidLimit(usize),
    #[error("search configuration: {0}")]
    Config(String),
    #[error("index directory {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("stored hit: {0}")]
    Json(#[from] serde_json::Error),
    #[error("index is corrupt: {0}")]
    Corrupt(&'static str),
    /// A thread panicked while holding an index lock.
    #[error("index lock poisoned")]
    Poisoned,
}
