use akta_blob::BlobStore;
use akta_db::Db;
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
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub blobs: Arc<dyn BlobStore>,
    pub settings: Arc<ApiSettings>,
}

impl AppState {
    pub fn new(db: Db, blobs: Arc<dyn BlobStore>, settings: ApiSettings) -> Self {
        Self {
            db,
            blobs,
            settings: Arc::new(settings),
        }
    }
}
