//! The one error type of the crypto layer.

/// Everything key handling, wrapping and segment encryption can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("authentication failed: data was tampered with or the key is wrong")]
    Authentication,
    #[error("invalid key material: {0}")]
    InvalidKey(String),
    #[error("malformed ciphertext: {0}")]
    Malformed(String),
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

impl CryptoError {
    pub(crate) fn malformed(what: impl Into<String>) -> Self {
        CryptoError::Malformed(what.into())
    }

    /// The `CryptoError` inside an `io::Error` produced by one of the stream functions, if any.
    /// Lets callers tell tampering or a wrong key apart from a failing storage backend.
    pub fn from_io(err: &std::io::Error) -> Option<&CryptoError> {
        err.get_ref()?.downcast_ref::<CryptoError>()
    }
}

/// Streams speak `io::Error`; integrity failures become `InvalidData` so they are not mistaken
/// for transport trouble.
impl From<CryptoError> for std::io::Error {
    fn from(err: CryptoError) -> Self {
        let kind = match err {
            CryptoError::Authentication | CryptoError::Malformed(_) => {
                std::io::ErrorKind::InvalidData
            }
            CryptoError::InvalidKey(_) => std::io::ErrorKind::InvalidInput,
            CryptoError::OpenSsl(_) => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, err)
    }
}
