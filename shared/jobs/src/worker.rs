//! The extraction worker: takes jobs from the PostgreSQL outbox, extracts text from the
//! decrypted content in an isolated child process (`<exe> extract-worker`) and stores it.
//! A file that cannot be read fails its own job only; the server and other jobs carry on.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use akta_blob::BlobKey;
use akta_db::{ClaimedJob, ExtractedText};
use akta_domain::TenantId;
use akta_extract::{ExtractError, Extracted, Limits};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use akta_keys::content;

use crate::{JobContext, JobError};

const ACTOR: &str = "system:extraction";
/// Jobs looked at per round.
const BATCH: i32 = 16;

/// Why a job did not produce text.
struct Failure {
    reason: String,
    /// The file itself is the problem: retrying cannot help.
    final_error: bool,
}

impl From<JobError> for Failure {
    // Storage, database or key trouble may pass: retried with backoff.
    fn from(e: JobError) -> Self {
        Failure {
            reason: format!("extraction could not read the content: {e}"),
            final_error: false,
        }
    }
}

impl From<ExtractError> for Failure {
    fn from(e: ExtractError) -> Self {
        let final_error = !matches!(e, ExtractError::Timeout(_) | ExtractError::Other(_));
        Failure {
            reason: e.to_string(),
            final_error,
        }
    }
}

/// Processes due jobs every `interval` until the task is dropped.
pub async fn run(ctx: JobContext, exe: PathBuf, interval: Duration) {
    let limits = Limits::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // Its own task: a panic ends this round (its job is retried when the lease
        // expires), not the worker.
        let (ctx2, exe2, limits2) = (ctx.clone(), exe.clone(), limits.clone());
        match tokio::spawn(async move { run_once(&ctx2, &exe2, &limits2).await }).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "extraction round failed; will retry"),
            Err(e) => tracing::error!(error = %e, "extraction round panicked; will retry"),
        }
    }
}

/// One round: every job that is due now. Returns how many this worker processed.
pub async fn run_once(ctx: &JobContext, exe: &Path, limits: &Limits) -> Result<usize, JobError> {
    let mut processed = 0;
    loop {
        let due = ctx.db.due_extraction_jobs(BATCH).await?;
        if due.is_empty() {
            return Ok(processed);
        }
        let mut claimed_any = false;
        for (id, tenant) in due {
            if process(ctx, exe, limits, id, tenant).await? {
                claimed_any = true;
                processed += 1;
            }
        }
        // Everything due was taken by other workers: nothing left for this round.
        if !claimed_any {
            return Ok(processed);
        }
    }
}

/// Claims and runs one job; `false` if another worker holds it.
async fn process(
    ctx: &JobContext,
    exe: &Path,
    limits: &Limits,
    id: Uuid,
    tenant: TenantId,
) -> Result<bool, JobError> {
    // The lease outlasts the child's own time limit, so only a crashed worker loses it.
    let lease = limits.time_limit + Duration::from_secs(60);
    let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
    let Some(job) = tx.claim_extraction_job(id, lease).await? else {
        return Ok(false);
    };
    tx.commit().await?;

    let outcome = extract(ctx, exe, limits, tenant, &job).await;
    let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
    let kept = match outcome {
        Ok(extracted) => {
            // PostgreSQL text and jsonb cannot hold NUL characters.
            let clean = |s: &str| s.replace('\0', "");
            let parts: Vec<(String, String)> = extracted
                .parts
                .iter()
                .map(|(n, t)| (clean(n), clean(t)))
                .collect();
            let notes: Vec<String> = extracted.notes.iter().map(|n| clean(n)).collect();
            let method = serde_json::to_value(extracted.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            let text = clean(&extracted.text);
            let parts = serde_json::json!(parts);
            // The text is content: sealed with a key under the version's DEK.
            let source = tx.extraction_source(job.version_id).await?;
            let blob_key = BlobKey::parse(&source.blob_key)?;
            let full = akta_db::full_text(text.clone(), &parts);
            let sealed = ctx.keyring.seal_text(&mut tx, &blob_key, &full).await?;
            tx.complete_extraction_job(
                &job,
                ExtractedText {
                    method: &method,
                    text: &text,
                    parts,
                    notes: serde_json::json!(notes),
                    sealed,
                },
            )
            .await?
        }
        Err(failure) => {
            tracing::info!(job = %job.id, reason = %failure.reason, "extraction failed");
            tx.fail_extraction_job(&job, &failure.reason, failure.final_error)
                .await?
        }
    };
    tx.commit().await?;
    if !kept {
        tracing::warn!(job = %job.id, "extraction lease expired before the result was stored");
    }
    Ok(true)
}

/// Decrypts the version into a private temporary file and extracts it in a child process.
async fn extract(
    ctx: &JobContext,
    exe: &Path,
    limits: &Limits,
    tenant: TenantId,
    job: &ClaimedJob,
) -> Result<Extracted, Failure> {
    let mut tx = ctx
        .db
        .system_tx(tenant, ACTOR)
        .await
        .map_err(JobError::from)?;
    let source = tx
        .extraction_source(job.version_id)
        .await
        .map_err(JobError::from)?;
    let key = BlobKey::parse(&source.blob_key).map_err(JobError::from)?;
    let dek = ctx
        .keyring
        .open_dek(&mut tx, &key)
        .await
        .map_err(JobError::from)?;
    tx.commit().await.map_err(JobError::from)?;

    let size = u64::try_from(source.size_bytes).unwrap_or(u64::MAX);
    if size > limits.max_input_bytes {
        return Err(ExtractError::TooLarge(format!(
            "{size} bytes exceed the extraction limit of {} bytes",
            limits.max_input_bytes
        ))
        .into());
    }
    let io = |e: std::io::Error| JobError::Internal(format!("temporary file: {e}"));
    // Plaintext on disk only for this job and only for this user.
    let file = tempfile::Builder::new()
        .prefix("akta-extract-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile()
        .map_err(io)?;
    let mut body = content::open(ctx.blobs.as_ref(), &key, dek, size, None)
        .await
        .map_err(JobError::from)?;
    let mut out = tokio::fs::File::from_std(file.as_file().try_clone().map_err(io)?);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| JobError::Internal(format!("reading content: {e}")))?;
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    drop(out);

    let exe = exe.to_owned();
    let limits = limits.clone();
    let (media_type, file_name) = (source.media_type, source.file_name);
    let result = tokio::task::spawn_blocking(move || {
        // `file` lives until the child is done with it, then is removed.
        akta_extract::extract_isolated(&exe, file.path(), &media_type, &file_name, &limits)
    })
    .await
    .map_err(|e| JobError::Internal(format!("extraction task: {e}")))?;
    Ok(result?)
}
