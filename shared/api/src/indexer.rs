//! The index applier: tails the PostgreSQL index log and applies it to this node's local
//! per-tenant tantivy indexes. The indexes are a cache of PostgreSQL; the position reached
//! is kept in `<index root>/applied.seq`, written after each committed batch.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use akta_db::{Db, SearchSource};
use akta_domain::TenantId;
use akta_search::{DocKind, DocStatus, IndexManager, SearchDoc};

use crate::ApiError;

const ACTOR: &str = "system:indexer";
/// Log entries applied per round.
const BATCH: i32 = 500;
const POSITION_FILE: &str = "applied.seq";

/// A node's search indexes and how far it has applied the log.
pub struct SearchIndex {
    pub manager: IndexManager,
    root: PathBuf,
    applied: std::sync::atomic::AtomicI64,
}

impl SearchIndex {
    /// Opens (creating if needed) the indexes under `root`.
    pub fn open(root: PathBuf) -> Result<Self, ApiError> {
        std::fs::create_dir_all(&root)
            .map_err(|e| ApiError::Internal(format!("index directory {}: {e}", root.display())))?;
        let manager = IndexManager::open(root.clone()).map_err(internal)?;
        let applied = read_position(&root)?;
        Ok(Self {
            manager,
            root,
            applied: std::sync::atomic::AtomicI64::new(applied),
        })
    }

    /// The last log sequence number applied and committed.
    pub fn applied(&self) -> i64 {
        self.applied.load(std::sync::atomic::Ordering::Acquire)
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("search index: {e}"))
}

fn read_position(root: &Path) -> Result<i64, ApiError> {
    match std::fs::read_to_string(root.join(POSITION_FILE)) {
        Ok(s) => s
            .trim()
            .parse()
            .map_err(|_| internal(format!("{POSITION_FILE} is not a number"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(internal(e)),
    }
}

/// Writes the position atomically (temporary file, then rename).
fn write_position(root: &Path, seq: i64) -> Result<(), ApiError> {
    let tmp = root.join(format!("{POSITION_FILE}.tmp"));
    std::fs::write(&tmp, seq.to_string()).map_err(internal)?;
    std::fs::rename(&tmp, root.join(POSITION_FILE)).map_err(internal)
}

/// Applies the log every `interval` until the task is dropped.
pub async fn run(db: Db, index: Arc<SearchIndex>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = run_once(&db, &index).await {
            tracing::warn!(error = %e, "applying the index log failed; will retry");
        }
    }
}

/// Applies everything in the log after the current position; returns the entries applied.
pub async fn run_once(db: &Db, index: &Arc<SearchIndex>) -> Result<usize, ApiError> {
    let mut applied = 0;
    loop {
        let entries = db.index_log_after(index.applied(), BATCH).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            return Ok(applied);
        };
        let mut touched = BTreeSet::new();
        for entry in &entries {
            let doc = if entry.op == "upsert" {
                let mut tx = db.system_tx(entry.tenant, ACTOR).await?;
                let source = tx.search_source(entry.document_id).await?;
                tx.commit().await?;
                source.map(search_doc)
            } else {
                None
            };
            let (index2, tenant, id) = (index.clone(), entry.tenant, entry.document_id);
            tokio::task::spawn_blocking(move || match doc {
                Some(doc) => index2.manager.upsert(tenant.0, &doc),
                None => index2.manager.delete(tenant.0, id),
            })
            .await
            .map_err(internal)?
            .map_err(internal)?;
            touched.insert(entry.tenant.0);
        }
        let index2 = index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
            for tenant in touched {
                index2.manager.commit(tenant).map_err(internal)?;
            }
            write_position(&index2.root, last)
        })
        .await
        .map_err(internal)??;
        index
            .applied
            .store(last, std::sync::atomic::Ordering::Release);
        applied += entries.len();
    }
}

/// Recreates `tenant`'s index under `root` from PostgreSQL and the stored text: deletes its
/// directory, then adds every document. Run it while no server uses `root` (the index is
/// written by one process at a time). Returns the number of documents indexed.
pub async fn rebuild(db: &Db, root: &Path, tenant: TenantId) -> Result<usize, ApiError> {
    let dir = root.join(tenant.0.to_string());
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(internal(format!("removing {}: {e}", dir.display()))),
    }
    let index = SearchIndex::open(root.to_path_buf())?;
    let mut tx = db.system_tx(tenant, ACTOR).await?;
    let ids = tx.document_ids().await?;
    let mut indexed = 0;
    for id in ids {
        if let Some(source) = tx.search_source(id).await? {
            index
                .manager
                .upsert(tenant.0, &search_doc(source))
                .map_err(internal)?;
            indexed += 1;
        }
    }
    tx.commit().await?;
    index.manager.commit(tenant.0).map_err(internal)?;
    Ok(indexed)
}

fn search_doc(s: SearchSource) -> SearchDoc {
    let kind = match s.kind.as_str() {
        "Eingang" => DocKind::Eingang,
        "Ausgang" => DocKind::Ausgang,
        "Vermerk" => DocKind::Vermerk,
        "Bescheid" => DocKind::Bescheid,
        _ => DocKind::Sonstiges,
    };
    let status = if s.status == "zdA" {
        DocStatus::ZdA
    } else {
        DocStatus::Offen
    };
    SearchDoc {
        document_id: s.document_id,
        version: s.version,
        file_id: s.file_id,
        case_id: s.case_id,
        title: s.title,
        kind,
        reference: s.reference,
        case_reference: s.case_reference,
        subject: s.subject,
        sender: s.sender.unwrap_or_default(),
        recipient: s.recipient,
        document_date: s.document_date,
        created_at: s.created_at,
        plan_unit_path: s.plan_unit_path,
        org_unit: s.org_unit,
        status,
        metadata: match s.metadata {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        content: s.text.unwrap_or_default(),
    }
}
