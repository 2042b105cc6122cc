//! The state every handler shares: the application core, the HTTP settings, the OpenID
//! Connect client and the request limits.

use akta_blob::BlobStore;
use akta_db::Db;

use crate::ApiError;
use std::sync::Arc;
use std::time::Duration;

/// Tunables of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest accepted document version; bigger uploads answer 413.
    pub max_upload_bytes: u64,
    /// How long an upload's blob may exist without a committed version before the sweeper
    /// deletes it. Must exceed the longest upload.
    pub orphan_grace: Duration,
    /// Send Strict-Transport-Security: Akta terminates TLS itself or sits behind a TLS proxy.
    pub hsts: bool,
    /// Sessions end after this long without a request …
    pub session_idle: Duration,
    /// … and after this long in any case.
    pub session_lifetime: Duration,
    /// Mark session cookies `Secure` (HTTPS only); on whenever clients use HTTPS.
    pub secure_cookies: bool,
    /// Failed password logins in a row before the account is locked for `lockout`.
    pub max_login_failures: i32,
    pub lockout: Duration,
    /// Requests per minute and tenant unless the operator set another limit for the tenant.
    pub requests_per_minute: u32,
    /// Reverse proxies whose X-Forwarded-For/-Proto headers are believed.
    pub trusted_proxies: Vec<crate::peer::ProxyNet>,
    /// Akta's external base URL (e.g. `https://akta.example.de`) for OpenID Connect redirect
    /// URIs; `None` derives it from the request's Host header (https if `secure_cookies`).
    pub public_url: Option<String>,
    /// Admit `http://` OpenID providers (tests, development). Off, every provider URL must be
    /// HTTPS: the client secret and tokens travel over it.
    pub oidc_allow_http: bool,
    /// Encrypt uploaded content (the default). Off only for the benchmark that measures what
    /// encryption costs; content stored without it stays readable either way.
    pub encrypt_uploads: bool,
    /// Root of this node's search indexes; `None`: no search (the route answers 503).
    pub index_dir: Option<std::path::PathBuf>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            orphan_grace: Duration::from_secs(6 * 3600),
            hsts: false,
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(10 * 3600),
            secure_cookies: false,
            max_login_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            requests_per_minute: 1200,
            trusted_proxies: Vec::new(),
            public_url: None,
            oidc_allow_http: false,
            encrypt_uploads: true,
            index_dir: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// The application core: every records operation goes through it.
    pub core: akta_core::Core,
    /// Only for the OpenID Connect login, which is not a core service yet.
    pub db: Db,
    pub settings: Arc<ApiSettings>,
    /// OpenID Connect client with its discovery and key caches.
    pub oidc: Arc<akta_oidc::Oidc>,
    /// Per-tenant request limits.
    pub limits: Arc<crate::limits::RateLimiter>,
}

impl AppState {
    pub fn new(
        db: Db,
        blobs: Arc<dyn BlobStore>,
        keyring: akta_keys::keyring::Keyring,
        settings: ApiSettings,
    ) -> Self {
        let core_settings = akta_core::CoreSettings {
            max_upload_bytes: settings.max_upload_bytes,
            encrypt_uploads: settings.encrypt_uploads,
            session_idle: settings.session_idle,
            session_lifetime: settings.session_lifetime,
            max_login_failures: settings.max_login_failures,
            lockout: settings.lockout,
        };
        Self {
            core: akta_core::Core::new(db.clone(), blobs, keyring, core_settings),
            db,
            oidc: Arc::new(akta_oidc::Oidc::new(settings.oidc_allow_http)),
            limits: Arc::new(crate::limits::RateLimiter::new(
                settings.requests_per_minute,
            )),
            settings: Arc::new(settings),
        }
    }

    /// Opens the search indexes under `settings.index_dir`, if set. Run
    /// `akta_jobs::indexer::run` with the core's search index to keep them current.
    pub fn with_search(mut self) -> Result<Self, ApiError> {
        if let Some(dir) = &self.settings.index_dir {
            let index = akta_search::SearchIndex::open(dir.clone())
                .map_err(|e| ApiError::Internal(format!("search index: {e}")))?;
            self.core = self.core.with_search(Arc::new(index));
        }
        Ok(self)
    }
}
