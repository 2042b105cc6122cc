//! The one error type of the blob layer.

/// Everything a [`crate::BlobStore`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object exceeds the size limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("object not found")]
    NotFound,
    #[error("invalid blob key: {0}")]
    InvalidKey(String),
    /// The upload body itself failed (client disconnected, multipart broke...). Nothing is left stored.
    #[error("upload body failed: {0}")]
    Body(std::io::Error),
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl BlobError {
    /// A backend failure described as "<what we were doing>: <cause>".
    pub(crate) fn backend(context: impl std::fmt::Display, cause: impl std::fmt::Display) -> Self {
        BlobError::Backend(format!("{context}: {cause}"))
    }
}
