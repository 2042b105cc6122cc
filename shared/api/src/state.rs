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
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            orphan_grace: Duration::from_secs(6 * 3600),
            hsts: false,
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
