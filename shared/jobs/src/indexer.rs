//! The index applier: tails the PostgreSQL index log and applies it to this node's local
//! per-tenant tantivy indexes. The indexes are a cache of PostgreSQL; the position reached
//! is kept in `<index root>/applied.seq`, written after each committed batch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use akta_db::{Db, SearchSource, TenantTx};
use akta_domain::TenantId;
use akta_search::{DocKind, DocStatus, SearchDoc, SearchIndex};
use uuid::Uuid;

use crate::JobError;
use akta_keys::keyring::Keyring;

const ACTOR: &str = "system:indexer";
/// Log entries applied per round.
const BATCH: i32 = 500;

fn internal(e: impl std::fmt::Display) -> JobError {
    JobError::Internal(format!("search index: {e}"))
}

/// How long index log entries are kept. A node that was down longer rebuilds its indexes
/// from PostgreSQL when it comes back.
pub const LOG_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Under a stream of commits, at most one round (one index commit) per this long. Every
/// round commits a segment, and tantivy merges small segments again and again: with rounds
/// back to back (about six commits a second under four uploaders, and rounds of about 100
/// entries during an import) the merges took a fifth to a third of the server's CPU (issue
/// 12). A text uploaded while others stream in is searchable up to this much later; one
/// upload on a quiet node as fast as before (the gap counts from the previous round).
const MIN_GAP: Duration = Duration::from_millis(500);

/// A round that applied at least this many entries is part of a bulk load (an import): the
/// next round waits [`BULK_GAP`].
const BULK_ROUND: usize = 200;
const BULK_GAP: Duration = Duration::from_secs(1);

/// Entries applied between two index commits at most, should the log hold that many.
const COMMIT_EVERY: usize = 20_000;

/// Applies the log whenever entries are committed (LISTEN/NOTIFY), and every `poll` in case
/// a notification was lost, until the task is dropped. Runs on every node that serves
/// search: the index is the node's own cache.
pub async fn run(db: Db, keyring: Keyring, index: Arc<SearchIndex>, poll: Duration) {
    let mut wakeup = db.wakeup(akta_db::wake::INDEX_LOG);
    // Listening before the first round: nothing committed after it is missed.
    wakeup.listen().await;
    loop {
        let started = tokio::time::Instant::now();
        // Its own task: a panic ends this round, not the applier.
        let (db2, keyring2, index2) = (db.clone(), keyring.clone(), index.clone());
        let gap = match tokio::spawn(async move { run_once(&db2, &keyring2, &index2).await }).await
        {
            Ok(Ok(applied)) if applied >= BULK_ROUND => BULK_GAP,
            Ok(Ok(_)) => MIN_GAP,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "applying the index log failed; will retry");
                MIN_GAP
            }
            Err(e) => {
                tracing::error!(error = %e, "applying the index log panicked; will retry");
                MIN_GAP
            }
        };
        wakeup.wait(poll).await;
        tokio::time::sleep_until(started + gap).await;
    }
}

/// Prunes index log entries older than [`LOG_RETENTION`] hourly until the task is dropped:
/// shared housekeeping, run by the worker role.
pub async fn prune(db: Db) {
    let mut ticker = tokio::time::interval(PRUNE_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match db.prune_index_log(LOG_RETENTION).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "pruned the index log"),
            Err(e) => tracing::warn!(error = %e, "pruning the index log failed"),
        }
    }
}

/// Applies everything in the log after the current position; returns the entries applied.
/// A node whose position lies below the pruning horizon rebuilds every index instead.
pub async fn run_once(
    db: &Db,
    keyring: &Keyring,
    index: &Arc<SearchIndex>,
) -> Result<usize, JobError> {
    // A new index directory (no position yet) or one behind the pruning horizon may lack
    // documents the log no longer (or never) mentions: rebuild it from PostgreSQL.
    if index.applied() < 0 {
        // A new node (or a new schema version): nothing was missed, it just starts.
        tracing::info!("building this node's search indexes from PostgreSQL");
        return rebuild_all(db, keyring, index).await;
    }
    if index.applied() < db.index_log_horizon().await? {
        tracing::warn!(
            applied = index.applied(),
            "this node missed pruned index log entries; rebuilding its indexes"
        );
        return rebuild_all(db, keyring, index).await;
    }
    let mut applied = 0;
    // Read up to here; committed (and recorded as applied) up to index.applied().
    let mut cursor = index.applied();
    let mut uncommitted: BTreeSet<Uuid> = BTreeSet::new();
    let mut since_commit = 0;
    loop {
        let round = std::time::Instant::now();
        let entries = db.index_log_after(cursor, BATCH).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            commit(index, std::mem::take(&mut uncommitted), cursor).await?;
            return Ok(applied);
        };
        // The last entry of a document in this batch decides; a purge empties the tenant's
        // index and voids what came before it. Sources are read per tenant in one query.
        let mut purged: BTreeSet<Uuid> = BTreeSet::new();
        let mut latest: BTreeMap<(Uuid, Uuid), &str> = BTreeMap::new();
        for entry in &entries {
            let tenant = entry.tenant.0;
            match entry.document_id {
                Some(id) => {
                    latest.insert((tenant, id), entry.op.as_str());
                }
                None => {
                    purged.insert(tenant);
                    latest.retain(|(t, _), _| *t != tenant);
                }
            }
        }
        for tenant in purged {
            empty_tenant(index, tenant).await?;
            uncommitted.remove(&tenant);
        }
        let mut by_tenant: BTreeMap<Uuid, (Vec<Uuid>, Vec<Uuid>)> = BTreeMap::new();
        for ((tenant, id), op) in latest {
            let (upserts, deletes) = by_tenant.entry(tenant).or_default();
            if op == "upsert" {
                upserts.push(id);
            } else {
                deletes.push(id);
            }
        }
        for (tenant, (upserts, mut deletes)) in by_tenant {
            let mut tx = db.system_tx(TenantId(tenant), ACTOR).await?;
            let docs = search_docs(&mut tx, keyring, &upserts).await?;
            tx.commit().await?;
            // An upserted document that is gone by now leaves the index.
            let found: BTreeSet<Uuid> = docs.iter().map(|d| d.document_id).collect();
            deletes.extend(upserts.iter().filter(|id| !found.contains(id)));
            let index2 = index.clone();
            tokio::task::spawn_blocking(move || -> Result<(), JobError> {
                for doc in &docs {
                    // A document the index refuses is logged and skipped, not retried forever.
                    if let Err(e) = index2.manager.upsert(tenant, doc) {
                        tracing::error!(document = %doc.document_id, error = %e,
                            "document could not be indexed; skipped");
                    }
                }
                for id in deletes {
                    index2.manager.delete(tenant, id).map_err(internal)?;
                }
                Ok(())
            })
            .await
            .map_err(internal)??;
            uncommitted.insert(tenant);
        }
        cursor = last;
        applied += entries.len();
        since_commit += entries.len();
        akta_telemetry::jobs()
            .index_apply_seconds
            .observe(round.elapsed());
        // A short batch means the log is read to its end: commit, and what comes meanwhile
        // is the next round's (after the gap). A long log is committed in steps, so a node
        // that restarts has little to apply again.
        if entries.len() < BATCH as usize {
            commit(index, uncommitted, cursor).await?;
            return Ok(applied);
        }
        if since_commit >= COMMIT_EVERY {
            commit(index, std::mem::take(&mut uncommitted), cursor).await?;
            since_commit = 0;
        }
    }
}

/// Commits the indexes of `tenants`, then records everything up to `last` as applied (only
/// then: a node that stops in between applies those entries again).
async fn commit(
    index: &Arc<SearchIndex>,
    tenants: BTreeSet<Uuid>,
    last: i64,
) -> Result<(), JobError> {
    if last <= index.applied() {
        return Ok(());
    }
    let index2 = index.clone();
    tokio::task::spawn_blocking(move || -> Result<(), JobError> {
        for tenant in tenants {
            index2.manager.commit(tenant).map_err(internal)?;
        }
        index2.set_applied(last).map_err(internal)
    })
    .await
    .map_err(internal)?
}

/// Re-adds every document of every tenant and moves the position to the settled head of
/// the log. Returns the number of documents indexed.
async fn rebuild_all(
    db: &Db,
    keyring: &Keyring,
    index: &Arc<SearchIndex>,
) -> Result<usize, JobError> {
    // Taken before reading: whatever commits later has a larger number and is applied next.
    let head = db.index_log_settled_head().await?;
    let mut indexed = 0;
    for tenant in db.list_tenants().await? {
        let id = TenantId(tenant.id);
        if tenant.status == "deleted" {
            empty_tenant(index, id.0).await?;
        } else {
            indexed += reindex_tenant(db, keyring, index, id).await?;
        }
    }
    let index2 = index.clone();
    tokio::task::spawn_blocking(move || index2.set_applied(head))
        .await
        .map_err(internal)??;
    Ok(indexed)
}

/// Removes every document from the tenant's index (a deleted tenant's plaintext goes).
async fn empty_tenant(index: &Arc<SearchIndex>, tenant: Uuid) -> Result<(), JobError> {
    let index2 = index.clone();
    tokio::task::spawn_blocking(move || -> Result<(), JobError> {
        index2.manager.clear(tenant).map_err(internal)?;
        index2.manager.commit(tenant).map_err(internal)
    })
    .await
    .map_err(internal)?
}

/// Replaces the tenant's index content with every document in PostgreSQL, in batches.
async fn reindex_tenant(
    db: &Db,
    keyring: &Keyring,
    index: &Arc<SearchIndex>,
    tenant: TenantId,
) -> Result<usize, JobError> {
    let mut tx = db.system_tx(tenant, ACTOR).await?;
    let ids = tx.document_ids().await?;
    let index2 = index.clone();
    tokio::task::spawn_blocking(move || index2.manager.clear(tenant.0))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let mut indexed = 0;
    for chunk in ids.chunks(BATCH as usize) {
        let docs = search_docs(&mut tx, keyring, chunk).await?;
        indexed += docs.len();
        let index2 = index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), JobError> {
            for doc in &docs {
                index2.manager.upsert(tenant.0, doc).map_err(internal)?;
            }
            Ok(())
        })
        .await
        .map_err(internal)??;
    }
    tx.commit().await?;
    let index2 = index.clone();
    tokio::task::spawn_blocking(move || index2.manager.commit(tenant.0))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(indexed)
}

/// Recreates `tenant`'s index under `root` from PostgreSQL and the stored text. Run it
/// while no server uses `root` (the index is written by one process at a time). Returns
/// the number of documents indexed.
pub async fn rebuild(
    db: &Db,
    keyring: &Keyring,
    root: &Path,
    tenant: TenantId,
) -> Result<usize, JobError> {
    // A deleted tenant's documents never go back into an index.
    if db.tenant_by_id(tenant).await?.status == "deleted" {
        let index = Arc::new(SearchIndex::open(root.to_path_buf())?);
        empty_tenant(&index, tenant.0).await?;
        return Ok(0);
    }
    let index = Arc::new(SearchIndex::open(root.to_path_buf())?);
    // Starting from an empty directory also recovers an index that no longer opens.
    let dir = index.tenant_dir(tenant.0);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(internal(format!("removing {}: {e}", dir.display()))),
    }
    reindex_tenant(db, keyring, &index, tenant).await
}

/// The index entries of `ids` (those `tx` can see), sealed text opened.
async fn search_docs(
    tx: &mut TenantTx,
    keyring: &Keyring,
    ids: &[Uuid],
) -> Result<Vec<SearchDoc>, JobError> {
    let mut docs = Vec::with_capacity(ids.len());
    let tenant = tx.tenant();
    for mut source in tx.search_sources(ids).await? {
        let content = match source.stored_text() {
            // One unreadable text must not stop the index of every tenant: the document
            // stays findable by its metadata, and the failure is logged.
            Some(stored) => keyring
                .open_text_from(tenant, source.content_key(), stored)
                .unwrap_or_else(|e| {
                    tracing::error!(document = %source.document_id, error = %e,
                    "extracted text cannot be opened; indexing the metadata only");
                    String::new()
                }),
            None => String::new(),
        };
        docs.push(search_doc(source, content));
    }
    Ok(docs)
}

fn search_doc(s: SearchSource, content: String) -> SearchDoc {
    // Stored kinds passed the model's check; anything else is filed as "Sonstiges".
    let kind = DocKind::parse(&s.kind).unwrap_or(DocKind::Sonstiges);
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
        confidential: s.confidentiality != "normal",
        metadata: match s.metadata {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        content,
    }
}
