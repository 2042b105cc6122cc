//! Akta's application core: the records operations (Aktenplan, Akten, Vorgänge, Dokumente
//! and their versions, access lists, Wiedervorlagen, people, tokens, tenants) as services
//! over a tenant-scoped transaction. REST handlers, web pages and the CLI call these and
//! nothing below them, so every surface obeys the same rules: the zdA rule, reopening with
//! a reason, optimistic locking, the way of an upload.

pub mod abgabe;
mod aktenauszug;
mod cases;
// Operator console and onboarding (issue 13).
pub mod console;
mod desk;
pub mod disposal;
mod documents;
mod error;
mod files;
mod filing;
pub mod idempotency;
pub mod import;
mod inbox;
mod login_guard;
pub mod metrics;
mod oidc;
mod people;
mod plan;
mod plan_exchange;
// Aktenplan templates (issue 13).
pub mod plan_templates;
mod retention;
mod routings;
pub mod search;
pub mod secrets;
mod shares;
mod tenants;
pub mod transfers;
pub mod usage;
mod views;
pub mod webhooks;

pub use cases::CaseUpdate;
pub use desk::Desk;
pub use documents::{DocumentUpdate, Readable};
pub use error::CoreError;
pub use files::FileUpdate;
pub use filing::{StoredBlob, Upload};
pub use inbox::{Delivery, Forward};
pub use login_guard::RequestUsage;
pub use oidc::SignInRefusal;
pub use people::{LoggedIn, NewSession, UserInput, UserUpdate};
pub use routings::{RoutingKind, RoutingRequest};
pub use shares::ShareRequest;
pub use tenants::{parse_username, TenantOverview, TokenSpec};
// Operator console and onboarding (issue 13).
pub use console::{
    AuditStatus, ConsoleSession, ConsoleTenant, ConsoleTenantDetail, InvitationState,
    InvitationView, NewConsoleSession, Onboarded, Onboarding, PlanSource,
};
pub use plan_exchange::PlanImport;
pub use plan_templates::PlanTemplate;
pub use views::{DocumentView, FileView, PlanOverview, SessionContext, Workplace};

/// The records the core hands out and takes (read and write models of the database layer).
pub mod model {
    pub use akta_db::repo::desk::{Deputy, DeskFile};
    pub use akta_db::repo::oidc::{OidcConfig, PendingOidcLogin};
    pub use akta_db::repo::routings::{PendingRouting, Routing, Signer};
    pub use akta_db::repo::workplace::{
        Branding, DueItem, LogoChange, NewResubmission, PlanNode, RecentChange, Resubmission,
        ResubmissionTarget, WorkItem,
    };
    pub use akta_db::Grantee;
    pub use akta_db::Share;
    pub use akta_db::UsageRow;
    pub use akta_db::{
        AccessEntry, AuditEvent, Case, Document, DocumentTarget, Extraction, FileFilter,
        FileRecord, InboxItem, IndexLag, NewDocument, NewFile, NewPlanUnit, OperatorTokenRow,
        OrgUnit, Page, PlanUnit, Quota, SupportGrant, TenantRow, TenantUsage, TokenRow, User,
        Version, WebhookDelivery, WebhookEndpoint,
    };
}

use std::sync::Arc;
use std::time::Duration;

use akta_blob::BlobStore;
use akta_db::Db;
use akta_keys::Keyring;
use akta_search::SearchIndex;

/// The core's tunables.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// Largest accepted document version (plaintext).
    pub max_upload_bytes: u64,
    /// Encrypt uploaded content (the default; off only to measure what encryption costs).
    pub encrypt_uploads: bool,
    /// Sessions end after this long without a request …
    pub session_idle: Duration,
    /// … and after this long in any case.
    pub session_lifetime: Duration,
    /// Failed password logins in a row before the account is locked for `lockout`.
    pub max_login_failures: i32,
    pub lockout: Duration,
    /// A node that serves search reports not ready while its index trails the index log by
    /// more entries than this (a new or restarted replica would serve incomplete results).
    pub ready_max_index_lag: i64,
    /// Password login attempts per client address and minute …
    pub logins_per_client_minute: u32,
    /// … and per tenant name and minute, counted across all replicas.
    pub logins_per_tenant_minute: u32,
    /// Requests per minute and tenant unless the operator set another limit for the tenant;
    /// counted across all replicas. A tenant's password logins count too.
    pub requests_per_minute: u32,
    /// Where tenant admins may point imports at manifests over REST: `<import_dir>/<tenant
    /// slug>/…` (the operator puts a town's file share there); `None`: only uploads.
    pub import_dir: Option<std::path::PathBuf>,
    /// Admit webhook endpoints on private, loopback and link-local addresses (tests, an
    /// operator's own network). Off, such targets are refused at registration and delivery.
    pub webhooks_allow_private: bool,
}

impl Default for CoreSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            encrypt_uploads: true,
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(10 * 3600),
            max_login_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            ready_max_index_lag: 1000,
            logins_per_client_minute: 30,
            logins_per_tenant_minute: 300,
            requests_per_minute: 1200,
            import_dir: None,
            webhooks_allow_private: false,
        }
    }
}

/// The application core; cheap to clone.
#[derive(Clone)]
pub struct Core {
    db: Db,
    /// Content and keys; absent for the CLI's operator commands (see [`Core::without_content`]).
    content: Option<Content>,
    settings: Arc<CoreSettings>,
    search: Option<Arc<SearchIndex>>,
    /// Searches running in the index at once (see [`Core::with_search`]).
    search_slots: Arc<tokio::sync::Semaphore>,
    /// This process's cache of the per-tenant request limits (the counts are shared).
    limits: Arc<login_guard::LimitCache>,
    /// What `GET /metrics` reports of this process.
    metrics: Arc<metrics::Metrics>,
    /// Signs (and anchors) a new tenant's first audit head; on nodes with the signing key.
    audit_seal: Option<
        Arc<(
            openssl::pkey::PKey<openssl::pkey::Private>,
            akta_audit::Anchors,
        )>,
    >,
}

impl Core {
    pub fn new(
        db: Db,
        blobs: Arc<dyn BlobStore>,
        keyring: Keyring,
        settings: CoreSettings,
    ) -> Core {
        Core {
            db,
            content: Some(Content { blobs, keyring }),
            settings: Arc::new(settings),
            search: None,
            search_slots: Arc::new(tokio::sync::Semaphore::new(1)),
            limits: Arc::default(),
            metrics: Arc::default(),
            audit_seal: None,
        }
    }

    /// A core for operator commands that touch no content and no keys (listing, suspending
    /// or shredding tenants, tokens, users), so they work without the master key at hand.
    /// Operations that need content or keys answer `Unavailable`.
    pub fn without_content(db: Db, settings: CoreSettings) -> Core {
        Core {
            db,
            content: None,
            settings: Arc::new(settings),
            search: None,
            search_slots: Arc::new(tokio::sync::Semaphore::new(1)),
            limits: Arc::default(),
            metrics: Arc::default(),
            audit_seal: None,
        }
    }

    /// Gives the core the audit signing key and the anchors, so a new tenant's log is signed
    /// from its first entry on (`akta audit verify` never meets an unsigned new tenant).
    pub fn with_audit_seal(
        mut self,
        key: openssl::pkey::PKey<openssl::pkey::Private>,
        anchors: akta_audit::Anchors,
    ) -> Core {
        self.audit_seal = Some(Arc::new((key, anchors)));
        self
    }

    fn content(&self) -> Result<&Content, CoreError> {
        self.content.as_ref().ok_or_else(|| {
            CoreError::Unavailable("this operation needs the master key and the blob store".into())
        })
    }

    fn keyring(&self) -> Result<&Keyring, CoreError> {
        Ok(&self.content()?.keyring)
    }

    fn blobs(&self) -> Result<&Arc<dyn BlobStore>, CoreError> {
        Ok(&self.content()?.blobs)
    }

    /// Serves search from this node's index, at most one search per CPU at a time. Searches
    /// are CPU-bound: more at once only share the cores, so a heavy query (a phrase of common
    /// words) takes several times its own time; in a fair queue it waits for a slot instead and
    /// then runs at full speed.
    pub fn with_search(mut self, index: Arc<SearchIndex>) -> Core {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        self.search = Some(index);
        self.search_slots = Arc::new(tokio::sync::Semaphore::new(cpus));
        self
    }

    pub fn search_index(&self) -> Option<&Arc<SearchIndex>> {
        self.search.as_ref()
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// `GET /metrics`: this process's figures and, where it serves search, its index lag.
    pub async fn render_metrics(&self) -> String {
        let lag = match &self.search {
            Some(index) => self
                .db
                .index_log_head()
                .await
                .ok()
                .map(|head| (head - index.applied()).max(0)),
            None => None,
        };
        // A database that does not answer leaves its gauges out; the counters still show.
        let scraped = self.db.scrape_gauges().await.unwrap_or_default();
        self.metrics.render(&metrics::Gauges {
            index_lag: lag,
            pool_connections: scraped.pool_connections,
            pool_idle: scraped.pool_idle,
            pool_max: scraped.pool_max,
            outboxes: scraped.outboxes,
            storage: scraped.storage,
        })
    }

    /// Readiness: PostgreSQL and the blob store answer, and this node's search index (if it
    /// serves search) has caught up with the index log.
    pub async fn check_ready(&self) -> Result<&'static str, CoreError> {
        self.db
            .ping()
            .await
            .map_err(|e| CoreError::Unavailable(format!("database: {e}")))?;
        let blobs = self.blobs()?;
        blobs
            .check()
            .await
            .map_err(|e| CoreError::Unavailable(format!("blob store: {e}")))?;
        if let Some(index) = &self.search {
            let head = self
                .db
                .index_log_head()
                .await
                .map_err(|e| CoreError::Unavailable(format!("database: {e}")))?;
            let behind = head - index.applied();
            if behind > self.settings.ready_max_index_lag {
                return Err(CoreError::Unavailable(format!(
                    "the search index is {behind} index log entries behind"
                )));
            }
        }
        Ok(blobs.backend_name())
    }
}

impl Core {
    /// Runs `op` in one transaction as `who` (row-level security with the caller's tenant,
    /// scope and access lists) and commits it when `op` succeeds.
    async fn as_caller<T, E>(
        &self,
        who: &akta_domain::Principal,
        op: impl AsyncFnOnce(&mut akta_db::TenantTx) -> Result<T, E>,
    ) -> Result<T, CoreError>
    where
        CoreError: From<E>,
    {
        let mut tx = self.db.tx_for(who).await?;
        let out = op(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// Where content lives and the keys that open it.
#[derive(Clone)]
struct Content {
    blobs: Arc<dyn BlobStore>,
    keyring: Keyring,
}

/// The caller's version of an object (from `If-Match` or a form's hidden field) checked
/// against the locked record's: a change without it, or from a stale one, is refused before
/// any rule looks at it, so no one overwrites what they have not seen.
pub(crate) fn require_version(expected: Option<i32>, current: i32) -> Result<i32, CoreError> {
    let expected = expected.ok_or(CoreError::PreconditionRequired)?;
    if expected != current {
        return Err(CoreError::PreconditionFailed);
    }
    Ok(expected)
}

/// Locks the Akte that holds what is being changed (shared: it cannot be closed meanwhile)
/// and refuses the change when it is closed.
pub(crate) async fn lock_open_file(
    tx: &mut akta_db::TenantTx,
    file_id: uuid::Uuid,
) -> Result<akta_db::FileRecord, CoreError> {
    let file = tx.file_locked(file_id, akta_db::Lock::Share).await?;
    if akta_domain::FileStatus::parse(&file.status)? == akta_domain::FileStatus::Closed {
        return Err(CoreError::Conflict("the file is closed (zdA)".into()));
    }
    Ok(file)
}
