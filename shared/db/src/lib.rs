//! PostgreSQL access for Akta. SQL lives here and nowhere else.
//!
//! Tenant data is reachable only through [`TenantTx`], a transaction that has set
//! `app.tenant_id`; row-level security in the database is the second wall behind it.

pub mod audit_chain;
mod error;
pub mod events;
mod pool;
pub mod repo;
pub mod serde_date;
pub mod wake;

pub use error::DbError;
pub use events::DomainEvent;
pub use pool::{Db, OperatorTokenRow, TenantRow, TenantTx};
pub use repo::access::{AccessEntry, Grantee};
pub use repo::audit::AuditEvent;
// Operator console and onboarding (issue 13).
pub use repo::console::{
    InvitationRow, OperatorRow, OperatorSessionRow, PlanTemplateRow, TenantActivity,
};
pub use repo::documents::{Document, DocumentTarget, NewDocument, NewVersion, Version};
pub use repo::extraction::{
    full_text, ClaimedJob, ExtractedText, Extraction, ExtractionSource, FiledText, SealedText,
    StoredText,
};
pub use repo::files::{Case, CaseChanges, FileChanges, FileFilter, FileRecord, Lock, NewFile};
pub use repo::idempotency::{IdempotencyState, StoredResponse};
pub use repo::inbox::{InboxItem, InboxScope, NewInboxItem};
pub use repo::keys::{ContentKey, StoredDek, TenantKeyRow, WrappedDekRow};
pub use repo::plan_units::{NewPlanUnit, PlanUnit};
pub use repo::quotas::{Quota, TenantUsage};
pub use repo::rate::RateHit;
pub use repo::records::RecordHit;
pub use repo::search::{IndexLag, IndexLogEntry, SearchScope, SearchSource};
pub use repo::shares::{NewShare, Share};
pub use repo::support::SupportGrant;
pub use repo::tokens::{Authenticated, NewToken, TokenRow};
pub use repo::usage::{ScrapeGauges, UsageRow};
pub use repo::users::{NewUser, SessionRow, User, UserChanges};
pub use repo::webhooks::{AttemptOutcome, ClaimedDelivery, WebhookDelivery, WebhookEndpoint};
pub use repo::{OrgUnit, Page};
pub use wake::Wakeup;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
