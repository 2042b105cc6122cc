//! Deletes blobs whose upload never became a committed version (client vanished, metadata
//! transaction failed, server crashed mid-upload).

use akta_blob::{BlobKey, BlobStore};
use akta_db::Db;
use std::time::Duration;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub deleted: usize,
    pub kept: usize,
}

const ACTOR: &str = "system:sweeper";

/// One pass: every upload intent older than `grace` is either referenced by a committed
/// version (then only the intent goes) or an orphan (then the blob goes, then the intent).
pub async fn sweep_once(
    db: &Db,
    blobs: &dyn BlobStore,
    grace: Duration,
) -> Result<SweepReport, crate::JobError> {
    let cutoff = time::OffsetDateTime::now_utc() - grace;
    let mut report = SweepReport::default();
    for (key, tenant) in db.expired_upload_intents(cutoff).await? {
        // Sees confidential Akten too: their blobs must never look like orphans.
        let mut tx = db.system_tx(tenant, ACTOR).await?;
        // Claim the intent first and commit: from then on no version can take this blob (it
        // would find its intent gone), so deleting the blob after the commit is safe.
        if !tx.claim_expired_upload_intent(&key, cutoff).await? {
            continue;
        }
        let referenced = tx.blob_is_referenced(&key).await?;
        tx.commit().await?;
        if referenced {
            report.kept += 1;
        } else {
            let blob_key = BlobKey::parse(&key)?;
            blobs.delete(&blob_key).await?;
            report.deleted += 1;
        }
    }
    if report.deleted > 0 {
        tracing::info!(deleted = report.deleted, "swept orphaned upload blobs");
    }
    Ok(report)
}

/// Runs [`sweep_once`] every `interval` until the task is dropped.
pub async fn run(
    db: Db,
    blobs: std::sync::Arc<dyn BlobStore>,
    grace: Duration,
    interval: Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        // Rate counters of past minutes: housekeeping of the shared limits.
        if let Err(e) = db.prune_rate_counters().await {
            tracing::warn!(error = %e, "pruning rate counters failed");
        }
        if let Err(e) = sweep_once(&db, blobs.as_ref(), grace).await {
            tracing::warn!(error = %e, "orphan sweep failed; will retry");
        }
    }
}
