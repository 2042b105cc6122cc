//! Akta's background work. The shared jobs run with `akta serve --role worker` (and `all`):
//! the extraction worker ([`worker`]), the orphan sweeper ([`sweeper`]), the audit signer
//! ([`audit_signer`]), the pruning of the index log ([`indexer::prune`]) and webhook
//! delivery with the pruning of idempotency keys ([`webhooks`]). The index
//! applier ([`indexer::run`]) keeps a node's own search indexes, a cache of PostgreSQL, and
//! runs wherever search is served (`api` and `all`).

pub mod audit_signer;
pub mod indexer;
pub mod sweeper;
pub mod webhooks;
pub mod worker;

use std::sync::Arc;

use akta_blob::{BlobError, BlobStore};
use akta_db::{Db, DbError};
use akta_keys::{KeyError, Keyring};
use akta_search::SearchError;

/// What the jobs work with: the database, the keys and the blob store.
#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub keyring: Keyring,
    pub blobs: Arc<dyn BlobStore>,
}

/// The one error type of the jobs; a failed round is logged and retried.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Audit(#[from] akta_audit::AuditError),
    /// Bad input from the operator (a tenant that does not exist).
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error("{0}")]
    Internal(String),
}
