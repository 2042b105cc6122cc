//! The one error type of the application core. `api` maps it once to problem+json, `web`
//! once to the German error page.

use akta_blob::BlobError;
use akta_db::DbError;
use akta_domain::lifecycle::Refusal;
use akta_domain::DomainError;
use akta_keys::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No such object in the caller's tenant, or one the caller may not see.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input that breaks a rule; names the field.
    #[error("{field}: {detail}")]
    Validation { field: String, detail: String },
    /// The object's state forbids the change (zdA, duplicates).
    #[error("{0}")]
    Conflict(String),
    /// The caller's version of the object is stale (optimistic locking).
    #[error("the object was changed since it was read")]
    PreconditionFailed,
    /// A change that needs the caller's version of the object came without it.
    #[error("this change needs the object's version (If-Match)")]
    PreconditionRequired,
    /// A new version identical to the current version (number given): nothing stored.
    #[error("the file is identical to version {0} (same SHA-256); no new version was stored")]
    IdenticalVersion(i32),
    #[error("the tenant's {0} quota is exhausted")]
    QuotaExceeded(&'static str),
    /// One answer for every failed login, whatever failed.
    #[error("login failed: wrong username or password, or the account is temporarily locked")]
    LoginFailed,
    #[error("the upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The upload body broke off; nothing was filed.
    #[error("the upload body could not be read: {0}")]
    UploadInterrupted(String),
    /// Too many attempts (logins) in a short time; retry after this many seconds.
    #[error("too many attempts; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// A part the core needs (database, blob store, search) is not there.
    #[error("{0}")]
    Unavailable(String),
    /// Logged by the surface, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        CoreError::Validation {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

impl From<DbError> for CoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => CoreError::NotFound,
            DbError::Conflict(m) => CoreError::Conflict(m),
            DbError::MissingReference { field } => {
                CoreError::validation(field, "refers to nothing that exists")
            }
            DbError::VersionMismatch => CoreError::PreconditionFailed,
            DbError::IdenticalVersion(nr) => CoreError::IdenticalVersion(nr),
            DbError::QuotaExceeded(what) => CoreError::QuotaExceeded(what),
            e @ (DbError::Sqlx(_) | DbError::Migrate(_)) => CoreError::Internal(e.to_string()),
        }
    }
}

impl From<DomainError> for CoreError {
    fn from(e: DomainError) -> Self {
        CoreError::Validation {
            field: e.field,
            detail: e.message,
        }
    }
}

impl From<Refusal> for CoreError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Conflict(message) => CoreError::Conflict(message.to_owned()),
            Refusal::Invalid(e) => e.into(),
        }
    }
}

impl From<BlobError> for CoreError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge { limit } => CoreError::TooLarge { limit },
            BlobError::Body(io) => CoreError::UploadInterrupted(io.to_string()),
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<akta_audit::AuditError> for CoreError {
    fn from(e: akta_audit::AuditError) -> Self {
        match e {
            akta_audit::AuditError::Db(e) => e.into(),
            akta_audit::AuditError::Blob(e) => e.into(),
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<KeyError> for CoreError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Conflict(m) => CoreError::Conflict(m),
            KeyError::Invalid { field, detail } => CoreError::Validation { field, detail },
            KeyError::TooLarge { limit } => CoreError::TooLarge { limit },
            KeyError::Blob(e) => e.into(),
            KeyError::Db(e) => e.into(),
            KeyError::Internal(cause) => CoreError::Internal(cause),
        }
    }
}
