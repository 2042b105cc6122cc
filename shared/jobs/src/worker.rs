//! The extraction worker: takes jobs from the PostgreSQL outbox, extracts text from the
//! decrypted content in an isolated child process (`<exe> extract-worker`, one per batch of
//! claimed jobs) and stores it.
//! A file that cannot be read fails its own job only; the server and other jobs carry on.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use akta_blob::BlobKey;
use akta_db::{ClaimedJob, ExtractedText};
use akta_domain::TenantId;
use akta_extract::{ExtractError, Extracted, Limits};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use uuid::Uuid;

use akta_keys::content;
use akta_keys::keyring::Keyring;
use akta_keys::Key256;

use crate::{JobContext, JobError};

const ACTOR: &str = "system:extraction";

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

/// How the extraction pool runs.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Workers at once; each claims up to 32 due jobs and extracts them in one isolated
    /// child process (one child per job should that child fail).
    pub workers: usize,
    /// How often the pool looks for due jobs without being told: retries after a backoff,
    /// leases that ran out, a lost notification listener. New jobs wake it at once.
    pub poll: Duration,
    /// A running job's lease; renewed every third of it while the job runs, so the jobs of
    /// a node that died are taken over after at most this long.
    pub lease: Duration,
    pub limits: Limits,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(30),
            limits: Limits::default(),
        }
    }
}

/// Runs `settings.workers` workers until the task is dropped. They sleep until a committed
/// job is announced (LISTEN/NOTIFY) or `settings.poll` passes.
pub async fn run(ctx: JobContext, exe: PathBuf, settings: PoolSettings) {
    let wake = Arc::new(Notify::new());
    let announcer = {
        let (wake, db, poll) = (wake.clone(), ctx.db.clone(), settings.poll);
        async move {
            let mut wakeup = db.wakeup(akta_db::wake::EXTRACTION);
            loop {
                // A timeout wakes the workers too: that is the fallback poll.
                wakeup.wait(poll).await;
                wake.notify_waiters();
            }
        }
    };
    let workers = (0..settings.workers.max(1)).map(|_| {
        let (ctx, exe, settings, wake) = (ctx.clone(), exe.clone(), settings.clone(), wake.clone());
        async move {
            loop {
                // Registered before looking, so a job announced while this worker looks is
                // not missed.
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                drain(&ctx, &exe, &settings).await;
                notified.await;
            }
        }
    });
    let workers = futures_util::future::join_all(workers);
    tokio::join!(announcer, workers);
}

/// Extracts due jobs until none is left (or a round fails, which the next wake retries).
async fn drain(ctx: &JobContext, exe: &Path, settings: &PoolSettings) {
    loop {
        // Its own task: a panic ends this job's round (its lease runs out and the job is
        // retried), not the worker.
        let (c, e, s) = (ctx.clone(), exe.to_owned(), settings.clone());
        match tokio::spawn(async move { process_batch(&c, &e, &s).await }).await {
            Ok(Ok(0)) => return,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "extraction round failed; will retry");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "extraction round panicked; will retry");
                return;
            }
        }
    }
}

/// Every job that is due now, one after the other (tests and the CLI). Returns how many.
pub async fn run_once(ctx: &JobContext, exe: &Path, limits: &Limits) -> Result<usize, JobError> {
    let settings = PoolSettings {
        workers: 1,
        limits: limits.clone(),
        ..PoolSettings::default()
    };
    let mut processed = 0;
    while process_next(ctx, exe, &settings).await? {
        processed += 1;
    }
    Ok(processed)
}

/// Jobs one worker claims at once and extracts in one child process. Each child costs a fork
/// of the server and an exec: with 16 per child, about a tenth of the server's CPU while a
/// file share of small documents was imported (issue 12).
const BATCH: usize = 32;

/// What a job read before its extraction: where its content lies, how it opens, and the
/// Dokument the text belongs to. Kept for storing the result, which needs the same.
struct Source {
    key: BlobKey,
    /// The version's data key; `None` for content stored before encryption existed.
    dek: Option<Key256>,
    document_id: Uuid,
    size: u64,
    media_type: String,
    file_name: String,
}

/// A job's text with what it was read from, or why there is none.
type Outcome = Result<(Source, Extracted), Failure>;

/// Claims the next due job of any tenant and runs it; `false` when nothing is due.
async fn process_next(
    ctx: &JobContext,
    exe: &Path,
    settings: &PoolSettings,
) -> Result<bool, JobError> {
    let Some((tenant, job)) = ctx.db.claim_next_extraction_job(settings.lease).await? else {
        return Ok(false);
    };
    run_one(ctx, exe, settings, tenant, &job).await?;
    Ok(true)
}

/// Extracts one claimed job in its own child process and stores the outcome.
async fn run_one(
    ctx: &JobContext,
    exe: &Path,
    settings: &PoolSettings,
    tenant: TenantId,
    job: &ClaimedJob,
) -> Result<(), JobError> {
    let started = std::time::Instant::now();
    let outcome = tokio::select! {
        outcome = extract(ctx, exe, &settings.limits, tenant, job) => outcome,
        never = heartbeat(ctx, tenant, job, settings.lease) => match never {},
    };
    let took = millis(started.elapsed());
    count_outcome(&outcome, took);
    finish(ctx, tenant, job, &outcome, took).await
}

/// Claims up to [`BATCH`] due jobs (one statement) and extracts them in one child process
/// (small documents then cost one process start per batch, not per document); returns how
/// many it ran. A child that fails as a whole is no verdict on any one file: each is then
/// extracted alone.
async fn process_batch(
    ctx: &JobContext,
    exe: &Path,
    settings: &PoolSettings,
) -> Result<usize, JobError> {
    let jobs = ctx.db.claim_extraction_jobs(settings.lease, BATCH).await?;
    match jobs.as_slice() {
        [] => return Ok(0),
        [(tenant, job)] => {
            run_one(ctx, exe, settings, *tenant, job).await?;
            return Ok(1);
        }
        _ => {}
    }
    let beats = futures_util::future::select_all(
        jobs.iter()
            .map(|(tenant, job)| Box::pin(heartbeat(ctx, *tenant, job, settings.lease))),
    );
    let started = std::time::Instant::now();
    let outcomes = tokio::select! {
        outcomes = extract_many(ctx, exe, &settings.limits, &jobs) => outcomes,
        (never, _, _) = beats => match never {},
    };
    // One process extracted them all: each job's share of its time.
    let each = millis(started.elapsed()) / i64::try_from(jobs.len()).unwrap_or(1).max(1);
    finish_many(ctx, &jobs, outcomes, each).await?;
    Ok(jobs.len())
}

/// This process's extraction metrics (`/metrics`).
fn count_outcome(outcome: &Outcome, took_ms: i64) {
    let jobs = akta_telemetry::jobs();
    let counter = match outcome {
        Ok(_) => &jobs.extractions_done,
        Err(_) => &jobs.extractions_failed,
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    jobs.extraction_seconds
        .observe(std::time::Duration::from_millis(
            u64::try_from(took_ms).unwrap_or(0),
        ));
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Stores a job's outcome in its own transaction, with the time it took in the tenant's
/// usage.
async fn finish(
    ctx: &JobContext,
    tenant: TenantId,
    job: &ClaimedJob,
    outcome: &Outcome,
    took_ms: i64,
) -> Result<(), JobError> {
    let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
    let kept = store_outcome(&mut tx, job, outcome).await?;
    if kept {
        tx.add_extraction_time(took_ms).await?;
    }
    tx.commit().await?;
    if !kept {
        tracing::warn!(job = %job.id, "extraction lease expired before the result was stored");
    }
    Ok(())
}

/// A job of a batch with its outcome.
type Done<'a> = (&'a ClaimedJob, Outcome);

/// Stores the outcomes of a batch, one transaction per tenant whose follow-ups (index log,
/// webhook messages) are written once at commit. Should one of them fail (a document
/// deleted meanwhile, say), its jobs are stored one by one, so no job holds up the others.
async fn finish_many(
    ctx: &JobContext,
    jobs: &[(TenantId, ClaimedJob)],
    outcomes: Vec<Outcome>,
    each_ms: i64,
) -> Result<(), JobError> {
    let mut by_tenant: std::collections::BTreeMap<Uuid, Vec<Done<'_>>> =
        std::collections::BTreeMap::new();
    for ((tenant, job), outcome) in jobs.iter().zip(outcomes) {
        count_outcome(&outcome, each_ms);
        by_tenant.entry(tenant.0).or_default().push((job, outcome));
    }
    for (tenant, done) in by_tenant {
        let tenant = TenantId(tenant);
        let together = async {
            let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
            tx.batch_writes();
            let mut lost = Vec::new();
            for (job, outcome) in &done {
                if !store_outcome(&mut tx, job, outcome).await? {
                    lost.push(job.id);
                }
            }
            let kept = i64::try_from(done.len() - lost.len()).unwrap_or(0);
            tx.add_extraction_time(each_ms * kept).await?;
            tx.commit().await?;
            Ok::<_, JobError>(lost)
        }
        .await;
        match together {
            Ok(lost) => {
                for id in lost {
                    tracing::warn!(job = %id, "extraction lease expired before the result was stored");
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "storing a batch of extractions failed; one by one");
                for (job, outcome) in &done {
                    // One that cannot be stored is retried after its lease, as alone.
                    if let Err(e) = finish(ctx, tenant, job, outcome, each_ms).await {
                        tracing::warn!(job = %job.id, error = %e, "storing an extraction failed; will retry");
                    }
                }
            }
        }
    }
    Ok(())
}

/// Writes a job's outcome in `tx`: its text (sealed) or why it failed. `false` when the
/// job's lease was lost to another worker (nothing is stored then).
async fn store_outcome(
    tx: &mut akta_db::TenantTx,
    job: &ClaimedJob,
    outcome: &Outcome,
) -> Result<bool, JobError> {
    Ok(match outcome {
        Ok((source, extracted)) => {
            // PostgreSQL text and jsonb cannot hold NUL characters.
            let clean = |s: &str| s.replace('\0', "");
            let parts: Vec<(String, String)> = extracted
                .parts
                .iter()
                .map(|(n, t)| (clean(n), clean(t)))
                .collect();
            let notes: Vec<String> = extracted.notes.iter().map(|n| clean(n)).collect();
            let method = extracted.method.name();
            let text = clean(&extracted.text);
            let parts = serde_json::json!(parts);
            // The text is content: sealed with a key under the version's DEK.
            let full = akta_db::full_text(text.clone(), &parts);
            let sealed = Keyring::seal_text_under(source.dek.as_ref(), &source.key, &full)?;
            tx.complete_extraction_job(
                job,
                source.document_id,
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
            tx.fail_extraction_job(job, &failure.reason, failure.final_error)
                .await?
        }
    })
}

/// Renews the job's lease every third of `lease` for as long as it is polled. Never ends: a
/// lost lease only stops the renewing (completing the job then finds it taken over).
async fn heartbeat(
    ctx: &JobContext,
    tenant: TenantId,
    job: &ClaimedJob,
    lease: Duration,
) -> std::convert::Infallible {
    let mut ticker = tokio::time::interval((lease / 3).max(Duration::from_millis(100)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let renewed = async {
            let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
            let renewed = tx.renew_extraction_lease(job, lease).await?;
            tx.commit().await?;
            Ok::<_, akta_db::DbError>(renewed)
        }
        .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "extraction lease lost to another worker");
                return std::future::pending().await;
            }
            // The next beat tries again; the lease is three beats long.
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "renewing the extraction lease failed")
            }
        }
    }
}

/// Reads the sources of a tenant's jobs in one transaction: the version's content key and
/// data key, and its Dokument. Each job answers for itself.
async fn sources(
    ctx: &JobContext,
    tenant: TenantId,
    jobs: &[&ClaimedJob],
) -> Vec<Result<Source, Failure>> {
    let read = async {
        let mut tx = ctx.db.system_tx(tenant, ACTOR).await?;
        let mut read = Vec::with_capacity(jobs.len());
        for job in jobs {
            read.push(source(ctx, &mut tx, job).await);
        }
        tx.commit().await?;
        Ok::<_, JobError>(read)
    }
    .await;
    match read {
        Ok(read) => read,
        Err(e) => {
            let reason = Failure::from(e).reason;
            jobs.iter()
                .map(|_| {
                    Err(Failure {
                        reason: reason.clone(),
                        final_error: false,
                    })
                })
                .collect()
        }
    }
}

async fn source(
    ctx: &JobContext,
    tx: &mut akta_db::TenantTx,
    job: &ClaimedJob,
) -> Result<Source, Failure> {
    let source = tx
        .extraction_source(job.version_id)
        .await
        .map_err(JobError::from)?;
    let key = BlobKey::parse(&source.blob_key).map_err(JobError::from)?;
    let dek = ctx
        .keyring
        .open_dek(tx, &key)
        .await
        .map_err(JobError::from)?;
    Ok(Source {
        key,
        dek,
        document_id: source.document_id,
        size: u64::try_from(source.size_bytes).unwrap_or(u64::MAX),
        media_type: source.media_type,
        file_name: source.file_name,
    })
}

/// Decrypts the version into a private temporary file and extracts it in a child process.
async fn extract(
    ctx: &JobContext,
    exe: &Path,
    limits: &Limits,
    tenant: TenantId,
    job: &ClaimedJob,
) -> Outcome {
    let source = sources(ctx, tenant, &[job]).await.remove(0)?;
    let file = prepare(ctx, limits, &source).await?;
    let (exe, limits) = (exe.to_owned(), limits.clone());
    let (source, result) = tokio::task::spawn_blocking(move || {
        // `file` lives until the child is done with it, then is removed.
        let result = akta_extract::extract_isolated(
            &exe,
            file.path(),
            &source.media_type,
            &source.file_name,
            &limits,
        );
        (source, result)
    })
    .await
    .map_err(|e| JobError::Internal(format!("extraction task: {e}")))?;
    Ok((source, result?))
}

/// [`extract`] for several jobs: their sources read in one transaction per tenant, one
/// child for all of them; should it fail as a whole, one child per job.
async fn extract_many(
    ctx: &JobContext,
    exe: &Path,
    limits: &Limits,
    jobs: &[(TenantId, ClaimedJob)],
) -> Vec<Outcome> {
    let mut read: Vec<Option<Result<Source, Failure>>> = jobs.iter().map(|_| None).collect();
    let mut by_tenant: std::collections::BTreeMap<Uuid, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, (tenant, _)) in jobs.iter().enumerate() {
        by_tenant.entry(tenant.0).or_default().push(i);
    }
    for (tenant, at) in by_tenant {
        let of_tenant: Vec<&ClaimedJob> = at.iter().map(|&i| &jobs[i].1).collect();
        for (i, source) in at
            .into_iter()
            .zip(sources(ctx, TenantId(tenant), &of_tenant).await)
        {
            read[i] = Some(source);
        }
    }
    let mut prepared: Vec<Result<(Source, tempfile::NamedTempFile), Failure>> =
        Vec::with_capacity(jobs.len());
    for source in read {
        let source = source
            .unwrap_or_else(|| Err(JobError::Internal("extraction source not read".into()).into()));
        prepared.push(match source {
            Ok(source) => match prepare(ctx, limits, &source).await {
                Ok(file) => Ok((source, file)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        });
    }
    let (exe, limits) = (exe.to_owned(), limits.clone());
    let count = jobs.len();
    let outcome = tokio::task::spawn_blocking(move || {
        let inputs: Vec<akta_extract::Input<'_>> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|(source, file)| akta_extract::Input {
                path: file.path(),
                media_type: &source.media_type,
                file_name: &source.file_name,
            })
            .collect();
        let mut together = match akta_extract::extract_isolated_many(&exe, &inputs, &limits) {
            Ok(results) => Some(results.into_iter()),
            Err(e) => {
                tracing::info!(error = %e, "batch extraction failed; extracting one by one");
                None
            }
        };
        drop(inputs);
        prepared
            .into_iter()
            .map(|p| {
                let (source, file) = p?;
                let result = match together.as_mut().and_then(Iterator::next) {
                    Some(result) => result,
                    None => akta_extract::extract_isolated(
                        &exe,
                        file.path(),
                        &source.media_type,
                        &source.file_name,
                        &limits,
                    ),
                };
                Ok((source, result?))
            })
            .collect::<Vec<Outcome>>()
    })
    .await;
    match outcome {
        Ok(results) => results,
        Err(e) => (0..count)
            .map(|_| Err(JobError::Internal(format!("extraction task: {e}")).into()))
            .collect(),
    }
}

/// Versions up to this size are decrypted into shared memory (a tmpfs) where the system has
/// one. Creating and removing a file on a disk file system was the largest single cost of the
/// server while a file share of small documents was imported (ext4's inode allocation: about
/// a sixth of its CPU); bounded so that a small `/dev/shm` (64 MiB in a container) holds a
/// batch of every worker.
const IN_MEMORY_UP_TO: u64 = 256 * 1024;
const SHARED_MEMORY: &str = "/dev/shm";

fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder
        .prefix("akta-extract-")
        .permissions(std::fs::Permissions::from_mode(0o600));
    builder
}

/// Decrypts the version into a private temporary file (only for this job and only for this
/// user), ready for a child to read.
async fn prepare(
    ctx: &JobContext,
    limits: &Limits,
    source: &Source,
) -> Result<tempfile::NamedTempFile, Failure> {
    if source.size > limits.max_input_bytes {
        return Err(ExtractError::TooLarge(format!(
            "{} bytes exceed the extraction limit of {} bytes",
            source.size, limits.max_input_bytes
        ))
        .into());
    }
    let io = |e: std::io::Error| JobError::Internal(format!("temporary file: {e}"));
    let mut body = content::open(
        ctx.blobs.as_ref(),
        &source.key,
        source.dek.clone(),
        source.size,
        None,
    )
    .await
    .map_err(JobError::from)?;
    let read_error = |e: std::io::Error| JobError::Internal(format!("reading content: {e}"));
    if source.size <= IN_MEMORY_UP_TO {
        let mut plain = Vec::with_capacity(usize::try_from(source.size).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            plain.extend_from_slice(&chunk.map_err(read_error)?);
        }
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let write = |mut file: tempfile::NamedTempFile| {
                file.write_all(&plain)?;
                file.flush()?;
                Ok::<_, std::io::Error>(file)
            };
            // Shared memory full or missing: the disk, as for larger versions.
            match temp_builder().tempfile_in(SHARED_MEMORY).and_then(write) {
                Ok(file) => Ok(file),
                Err(_) => temp_builder().tempfile().and_then(write),
            }
        })
        .await
        .map_err(|e| JobError::Internal(format!("temporary file: {e}")))?;
        return Ok(written.map_err(io)?);
    }
    let file = temp_builder().tempfile().map_err(io)?;
    let mut out = tokio::fs::File::from_std(file.as_file().try_clone().map_err(io)?);
    while let Some(chunk) = body.next().await {
        out.write_all(&chunk.map_err(read_error)?)
            .await
            .map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    drop(out);
    Ok(file)
}
