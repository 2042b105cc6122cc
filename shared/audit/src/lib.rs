//! The seal of the tamper-evident audit log. Each tenant's events form a hash chain in
//! PostgreSQL (see `akta_db::audit_chain`); here its heads are signed with Ed25519, and every
//! signed head is also **anchored outside PostgreSQL**: written as an object to the blob store
//! (`audit-anchors/<tenant>/…`) and, if configured, appended to a file the operator ships
//! elsewhere. Someone with database-owner rights can then no longer delete the newer
//! signatures and rebuild the chain after the oldest one they keep: `verify` checks the
//! database against the anchors and reports a signed head that is missing or differs.

mod anchors;
mod seal;

pub use anchors::{Anchor, Anchors};
pub use seal::{
    generate_key_pair, load_public_key, load_signing_key, public_of, sign_heads, sign_tenant,
    verify, Verification,
};

/// The one error type of the audit seal.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Db(#[from] akta_db::DbError),
    #[error(transparent)]
    Blob(#[from] akta_blob::BlobError),
    /// An anchor file or object that cannot be written or read.
    #[error("audit anchors: {0}")]
    Anchors(String),
    /// Bad input from the operator (a tenant that does not exist).
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    #[error("{0}")]
    Key(String),
}
