//! Akta's application core: the records operations (Akten, Vorgänge, Dokumente, …) as
//! services over a tenant-scoped transaction. REST handlers, web pages and the CLI call these
//! and nothing below them, so every surface obeys the same rules: the zdA rule, reopening
//! with a reason, optimistic locking.

mod cases;
mod documents;
mod error;
mod files;

pub use cases::CaseUpdate;
pub use documents::DocumentUpdate;
pub use error::CoreError;
pub use files::FileUpdate;

/// The records the core hands out (read models of the database layer).
pub mod model {
    pub use akta_db::{AuditEvent, Case, Document, FileFilter, FileRecord, NewFile, Page, Version};
}

use akta_db::Db;

/// The application core; cheap to clone.
#[derive(Clone)]
pub struct Core {
    db: Db,
}

impl Core {
    pub fn new(db: Db) -> Core {
        Core { db }
    }

    /// The database handle, for the layers below the surfaces (jobs, CLI) that are not yet
    /// services of their own.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// The caller's version of an object (from `If-Match` or a form's hidden field); a change
/// without it is refused, so no one overwrites what they have not seen.
pub(crate) fn require_version(expected: Option<i32>) -> Result<i32, CoreError> {
    expected.ok_or(CoreError::PreconditionRequired)
}
