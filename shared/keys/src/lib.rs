//! Encryption at rest: the key hierarchy (master → tenant → data key) with rotation and
//! crypto-shredding ([`keyring`]), and the sealing of content streams ([`content`]) and
//! extracted text. Used by the upload path, the jobs and the CLI alike.

pub mod content;
pub mod keyring;

pub use akta_crypto::Key256;
pub use keyring::{fingerprint, Keyring};

use akta_blob::BlobError;
use akta_crypto::CryptoError;
use akta_db::DbError;

/// The one error type of key handling and sealing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A state that forbids the operation (a deleted tenant, a concurrent rotation).
    #[error("{0}")]
    Conflict(String),
    /// Bad key material given by the operator (a master key file).
    #[error("{field}: {detail}")]
    Invalid { field: String, detail: String },
    /// Content above the plaintext limit.
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Never the client's fault; the cause goes to the log.
    #[error("{0}")]
    Internal(String),
}

impl From<CryptoError> for KeyError {
    fn from(e: CryptoError) -> Self {
        KeyError::Internal(format!("encryption: {e}"))
    }
}
