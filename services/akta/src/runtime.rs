//! Turns a [`Config`] into running parts: database URLs (starting the embedded cluster when
//! needed), the blob store, migrations applied.

use akta_blob::{BlobStore, FsStore, S3Store};
use akta_db::Db;
use akta_pgcluster::Cluster;
use anyhow::Context;
use std::sync::Arc;

use crate::config::{Blobs, Config, Database};

/// The database side of a running Akta. Stops the embedded cluster on [`Backend::shutdown`]
/// if this process started it; a cluster another `akta` process started is left running.
pub struct Backend {
    pub db: Db,
    cluster: Option<(Cluster, bool)>,
}

impl Backend {
    pub async fn open(config: &Config) -> anyhow::Result<Backend> {
        let (app_url, owner_url, cluster) = match &config.database {
            Database::External { app_url, owner_url } => (app_url.clone(), owner_url.clone(), None),
            Database::Embedded => {
                let dir = config.data_dir.join("postgres");
                std::fs::create_dir_all(&config.data_dir)
                    .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
                let dir = std::path::absolute(&dir)?;
                let cluster =
                    tokio::task::spawn_blocking(move || -> anyhow::Result<(Cluster, bool)> {
                        let cluster = Cluster::open_or_init(&dir)?;
                        let started = cluster.start()?;
                        Ok((cluster, started))
                    })
                    .await??;
                let urls = cluster.0.ensure_database("akta").await?;
                if cluster.1 {
                    tracing::info!(port = cluster.0.port(), "started the embedded PostgreSQL");
                }
                (urls.app_url, urls.owner_url, Some(cluster))
            }
        };
        let result = async {
            Db::migrate(&owner_url)
                .await
                .context("applying migrations")?;
            Db::connect(&app_url, config.database_pool_size)
                .await
                .context("connecting to PostgreSQL")
        }
        .await;
        let backend_cluster = cluster;
        match result {
            Ok(db) => Ok(Backend {
                db,
                cluster: backend_cluster,
            }),
            Err(e) => {
                stop_if_ours(backend_cluster).await;
                Err(e)
            }
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.cluster.is_some()
    }

    pub async fn shutdown(self) {
        self.db.close().await;
        stop_if_ours(self.cluster).await;
    }
}

async fn stop_if_ours(cluster: Option<(Cluster, bool)>) {
    if let Some((cluster, true)) = cluster {
        let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
        match stopped {
            Ok(Ok(())) => tracing::info!("stopped the embedded PostgreSQL"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL"),
            Err(e) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL"),
        }
    }
}

pub fn blob_store(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    Ok(match &config.blobs {
        Blobs::Filesystem(dir) => Arc::new(FsStore::new(dir.clone())?),
        Blobs::S3(cfg) => Arc::new(S3Store::new(cfg.clone())?),
    })
}

/// The data directory's lock file: `akta serve` holds it for its whole life, so a second
/// server on the same directory (sharing the embedded PostgreSQL and the search indexes)
/// refuses to start.
const LOCK_FILE: &str = "akta.lock";

/// Takes the data directory's lock if nobody holds it: `Some` while this process holds it,
/// `None` when a running server does.
pub fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<Option<std::fs::File>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data dir {}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// The message for a second server, or a command that needs the directory to itself.
pub fn busy(dir: &std::path::Path) -> anyhow::Error {
    anyhow::anyhow!(
        "another `akta serve` is using the data directory {} (it holds {}): stop it first, or \
         give this process its own AKTA_DATA_DIR",
        dir.display(),
        dir.join(LOCK_FILE).display()
    )
}
