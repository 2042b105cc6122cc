//! Pure types and rules of the records model (Aktenplan → Akte → Vorgang → Dokument).
//! Everything here is parsed once at the edge ("parse, don't validate") and trusted afterwards.

pub mod german;
pub mod geschaeftsgang;
pub mod lifecycle;
mod reference;
pub mod retention;
mod text;
mod types;
pub mod webhooks;

pub use reference::{ReferenceFormat, ReferenceNumber};
pub use text::{
    bounded_text, check_input, optional_text, optional_text_multiline, FileName, PlanCode,
    TenantSlug,
};
pub use types::{
    Confidentiality, Disposition, DocumentKind, FileStatus, Principal, Retention, Role, TenantId,
};

/// A value that does not satisfy a rule of the model; `field` names the input it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: String,
    pub message: String,
}

impl DomainError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
