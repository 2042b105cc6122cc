//! Akta, assembled once: [`App::build`] turns the running parts (database, blob store, keys,
//! settings) into the HTTP service and the background jobs of the node's [`Role`]. `akta
//! serve` and the test harness both start Akta through here, so tests run the wiring that
//! production runs.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use akta_api::{ApiError, ApiSettings, AppState};
use akta_blob::BlobStore;
use akta_core::{Core, CoreSettings};
use akta_db::Db;
use akta_jobs::JobContext;
use akta_keys::Keyring;
use openssl::pkey::{PKey, Private};
use tokio::task::JoinHandle;

/// What a node does. API replicas and worker replicas scale apart; `All` is one process
/// doing both (the default, and the embedded single-machine setup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    All,
    /// Serves REST and the web UI, and keeps its own search index (a cache of PostgreSQL)
    /// current; runs none of the shared jobs.
    Api,
    /// Runs the shared jobs (extraction, index log pruning, sweeper, audit signer, webhook
    /// delivery); answers only `/healthz` and `/readyz` over HTTP.
    Worker,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "all" => Ok(Role::All),
            "api" => Ok(Role::Api),
            "worker" => Ok(Role::Worker),
            other => Err(format!("unknown role '{other}': all, api or worker")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Api => "api",
            Role::Worker => "worker",
        }
    }

    fn serves_requests(self) -> bool {
        self != Role::Worker
    }

    fn runs_jobs(self) -> bool {
        self != Role::Api
    }
}

/// The background jobs' timing.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// The binary that answers `extract-worker` (the `akta` binary itself); `None`:
    /// extraction jobs stay in the outbox for another node.
    pub extract_exe: Option<PathBuf>,
    /// The extraction pool: workers, fallback poll, lease.
    pub extraction: akta_jobs::worker::PoolSettings,
    /// How often a node's index applier looks at the index log without being notified.
    pub index_interval: Duration,
    pub sweep_interval: Duration,
    /// How long an upload's blob may exist without a committed version before the sweeper
    /// deletes it. Must exceed the longest upload.
    pub orphan_grace: Duration,
    /// Signs the audit chain heads with this key this often.
    pub audit_signing: Option<(PKey<Private>, Duration)>,
    /// Also appends every signed head to this file (besides the blob store's anchors).
    pub audit_anchor_file: Option<PathBuf>,
    /// Webhook delivery: polling, retry backoff, timeout, private targets.
    pub webhooks: akta_jobs::webhooks::WebhookSettings,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            extract_exe: None,
            extraction: akta_jobs::worker::PoolSettings::default(),
            index_interval: Duration::from_secs(2),
            sweep_interval: Duration::from_secs(600),
            orphan_grace: Duration::from_secs(6 * 3600),
            audit_signing: None,
            audit_anchor_file: None,
            webhooks: akta_jobs::webhooks::WebhookSettings::default(),
        }
    }
}

/// Everything Akta runs on.
pub struct AppConfig {
    pub role: Role,
    pub db: Db,
    pub blobs: Arc<dyn BlobStore>,
    pub keyring: Keyring,
    pub core: CoreSettings,
    pub api: ApiSettings,
    pub jobs: JobSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("opening the search index: {0}")]
    Search(#[from] ApiError),
}

/// A built Akta: its state and the tasks of its role, which stop when it is dropped.
pub struct App {
    role: Role,
    state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl App {
    /// Builds the state and starts the jobs of `config.role` on the current runtime.
    pub fn build(config: AppConfig) -> Result<App, AppError> {
        let AppConfig {
            role,
            db,
            blobs,
            keyring,
            core,
            mut api,
            jobs,
        } = config;
        if !role.serves_requests() {
            // A worker serves no search: no local index to keep.
            api.index_dir = None;
        }
        let anchors = akta_audit::Anchors::new(blobs.clone(), jobs.audit_anchor_file.clone());
        let mut core = Core::new(db.clone(), blobs.clone(), keyring.clone(), core);
        if let Some((key, _)) = &jobs.audit_signing {
            core = core.with_audit_seal(key.clone(), anchors.clone());
        }
        let state = AppState::new(core, api).with_search()?;
        let mut tasks = Vec::new();
        // The index is this node's cache of search: it follows the node that serves search.
        if let Some(index) = state.core.search_index().cloned() {
            tasks.push(tokio::spawn(akta_jobs::indexer::run(
                db.clone(),
                keyring.clone(),
                index,
                jobs.index_interval,
            )));
        }
        if role.runs_jobs() {
            let ctx = JobContext {
                db: db.clone(),
                keyring,
                blobs: blobs.clone(),
            };
            if let Some(exe) = jobs.extract_exe {
                tasks.push(tokio::spawn(akta_jobs::worker::run(
                    ctx.clone(),
                    exe,
                    jobs.extraction,
                )));
            }
            tasks.push(tokio::spawn(akta_jobs::indexer::prune(db.clone())));
            tasks.push(tokio::spawn(akta_jobs::webhooks::run(
                ctx.clone(),
                jobs.webhooks,
            )));
            tasks.push(tokio::spawn(akta_jobs::webhooks::prune_idempotency_keys(
                db.clone(),
            )));
            tasks.push(tokio::spawn(akta_jobs::sweeper::run(
                db.clone(),
                blobs,
                jobs.orphan_grace,
                jobs.sweep_interval,
            )));
            if let Some((key, interval)) = jobs.audit_signing {
                tasks.push(tokio::spawn(akta_jobs::audit_signer::run_signer(
                    db, key, anchors, interval,
                )));
            }
        }
        tracing::info!(role = role.as_str(), tasks = tasks.len(), "Akta is built");
        Ok(App { role, state, tasks })
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What this node answers over HTTP: the REST API and the web UI, or (worker) only the
    /// health probes.
    pub fn router(&self) -> axum::Router {
        if self.role.serves_requests() {
            akta_api::router_with(self.state.clone(), akta_web::routes(self.state.clone()))
        } else {
            akta_api::health_router(self.state.clone())
        }
    }

    /// Serves until `shutdown` resolves (TLS with `tls`), then stops the jobs.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        tls: Option<openssl::ssl::SslAcceptor>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        match tls {
            Some(acceptor) => akta_api::tls::serve(listener, router, acceptor, shutdown).await,
            None => {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .with_graceful_shutdown(shutdown)
                .await
            }
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
