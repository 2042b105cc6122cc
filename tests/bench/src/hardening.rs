//! The hardening issue's measurements, each run with the `akta` binary from before the change
//! (`--before-bin`, built from an older commit) and the current one, one after the other in
//! the same run on the same machine. Each server gets its own throwaway database, made and
//! migrated by that binary itself (its tenant and tokens come from its own CLI).
//!
//! - `akta-bench ingest`: small text documents filed through the REST API by several
//!   clients until every text is searchable: documents per second end to end, and each
//!   document's time from its upload's answer until it is searchable. That moment is found
//!   without touching the server: every 100 ms the bench asks PostgreSQL for the index log's
//!   head and the server for its `index_lag`, which gives the position its index has applied;
//!   a document is searchable once that position passes the log entry its extraction wrote.
//! - `akta-bench logins`: concurrent failed password logins for a tenant that does not
//!   exist; the server's peak RSS growth and `/healthz` latency meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::ingest::{self, Api};
use crate::search::{start_akta, stats, Server, Stats};
use crate::upload::{locate_akta, rss_kib};

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Documents to file.
    #[arg(long, default_value_t = 10_000)]
    docs: usize,
    /// Concurrent REST clients filing them.
    #[arg(long, default_value_t = 4)]
    uploaders: usize,
    #[arg(long, default_value_t = 20_261_205)]
    seed: u64,
    /// The current `akta` binary (default: next to this one).
    #[arg(long)]
    akta_bin: Option<PathBuf>,
    /// An `akta` binary from before the change, measured first.
    #[arg(long)]
    before_bin: Option<PathBuf>,
    /// Give up waiting for searchability after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout_secs: u64,
}

#[derive(clap::Args)]
pub struct LoginArgs {
    /// Failed logins sent at once.
    #[arg(long, default_value_t = 200)]
    attempts: usize,
    #[arg(long)]
    akta_bin: Option<PathBuf>,
    #[arg(long)]
    before_bin: Option<PathBuf>,
}

/// A running server of one binary with its own database and tenant.
pub(crate) struct Node {
    pub(crate) server: Server,
    pub(crate) api: Api,
    owner: PgPool,
    pub(crate) urls: akta_pgcluster::ClusterUrls,
    pub(crate) data_dir: PathBuf,
    pub(crate) master_key_hex: String,
    _scratch: tempfile::TempDir,
}

/// Runs one of the binary's CLI commands against the database; returns its stdout.
pub(crate) fn cli(
    bin: &Path,
    urls: &akta_pgcluster::ClusterUrls,
    data_dir: &Path,
    master_key_hex: &str,
    args: &[&str],
) -> anyhow::Result<String> {
    let out = std::process::Command::new(bin)
        .args(args)
        .env("AKTA_DATABASE_URL", &urls.app_url)
        .env("AKTA_DATABASE_OWNER_URL", &urls.owner_url)
        .env("AKTA_DATA_DIR", data_dir)
        .env("AKTA_MASTER_KEY", master_key_hex)
        .env("AKTA_LOG", "warn")
        .env_remove("AKTA_MASTER_KEY_FILE")
        .env_remove("AKTA_S3_BUCKET")
        .output()
        .with_context(|| format!("running {} {args:?}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} {args:?} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

pub(crate) async fn start_node(bin: &Path) -> anyhow::Result<Node> {
    let urls = akta_testkit::postgres::fresh_database().await;
    let master_key_hex = akta_crypto::Key256::generate()?.to_hex();
    let scratch = tempfile::tempdir()?;
    let data_dir = scratch.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let run = |args: &[&str]| cli(bin, &urls, &data_dir, &master_key_hex, args);
    let token = run(&["tenant", "create", "bench", "--name", "Stadt Bergheide"])?;
    let operator = run(&["token", "create", "--operator", "--name", "bench"])?;
    let server = start_akta(bin, &urls, &data_dir, &master_key_hex).await?;
    server.lift_rate_limit(&operator, "bench").await?;
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect(&urls.owner_url)
        .await?;
    let api = Api {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token,
    };
    Ok(Node {
        server,
        api,
        owner,
        urls,
        data_dir,
        master_key_hex,
        _scratch: scratch,
    })
}

/// Opens a transaction scoped to the bench tenant (row-level security binds the owner too).
async fn bench_tx(owner: &PgPool) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = owner.begin().await?;
    sqlx::query(
        "SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'bench'), true)",
    )
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// The index log position the server's index has applied, as of now: the log's head minus
/// the lag the server reports (a lower bound: entries written between the two reads count
/// as not applied).
async fn applied(api: &Api, owner: &PgPool) -> anyhow::Result<i64> {
    let mut tx = bench_tx(owner).await?;
    let (head,): (Option<i64>,) = sqlx::query_as("SELECT max(seq) FROM index_log")
        .fetch_one(&mut *tx)
        .await?;
    drop(tx);
    let response = api
        .http
        .get(format!("{}/api/v1/search", api.base))
        .query(&[("q", "Fortschrittsprobe"), ("limit", "1")])
        .bearer_auth(&api.token)
        .send()
        .await?;
    let body: serde_json::Value = response.json().await?;
    let lag = body["index_lag"]
        .as_i64()
        .with_context(|| format!("no index_lag in {body}"))?;
    Ok(head.unwrap_or(0) - lag)
}

/// Each document's index log entry written with its extracted text.
async fn text_entries(node: &Node) -> anyhow::Result<Vec<(String, i64)>> {
    let mut tx = bench_tx(&node.owner).await?;
    Ok(sqlx::query_as(
        "SELECT v.document_id::text, min(l.seq)
           FROM extraction_jobs j
           JOIN document_versions v ON v.id = j.version_id
           JOIN index_log l ON l.document_id = v.document_id AND l.created_at = j.updated_at
          WHERE j.state = 'done'
          GROUP BY v.document_id",
    )
    .fetch_all(&mut *tx)
    .await?)
}

struct IngestResult {
    documents: usize,
    upload: Duration,
    searchable: Duration,
    upload_latency: Stats,
    to_searchable: Stats,
    unmatched: usize,
}

async fn ingest_once(bin: &Path, args: &IngestArgs) -> anyhow::Result<IngestResult> {
    let node = start_node(bin).await?;
    let samples: Arc<Mutex<Vec<(Instant, i64)>>> = Arc::default();
    let sampler = {
        let samples = samples.clone();
        let (api, owner) = (node.api.clone(), node.owner.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(position) = applied(&api, &owner).await {
                    samples.lock().await.push((Instant::now(), position));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let ingested = ingest::upload(&node.api, args.seed, args.docs, args.uploaders).await?;
    let documents = ingested.loaded.documents;
    eprintln!(
        "  {documents} documents uploaded in {:.1} s; waiting until every text is searchable …",
        ingested.upload.as_secs_f64()
    );
    let searchable = ingest::wait_searchable(
        &node.api,
        documents,
        ingested.started,
        Duration::from_secs(args.timeout_secs),
    )
    .await?;
    // One more sample after the end, so the last documents have one to be matched with.
    tokio::time::sleep(Duration::from_millis(250)).await;
    sampler.abort();
    let samples = samples.lock().await.clone();
    let entries: std::collections::HashMap<String, i64> =
        text_entries(&node).await?.into_iter().collect();
    let mut to_searchable = Vec::with_capacity(documents);
    let mut unmatched = 0;
    for (id, answered) in &ingested.uploaded_at {
        let uploaded = ingested.started + *answered;
        let at = entries.get(id).and_then(|seq| {
            samples
                .iter()
                .find(|(_, position)| position >= seq)
                .map(|(t, _)| *t)
        });
        match at {
            Some(t) => {
                to_searchable.push(t.saturating_duration_since(uploaded).as_secs_f64() * 1000.0)
            }
            None => unmatched += 1,
        }
    }
    node.server.stop().await;
    Ok(IngestResult {
        documents,
        upload: ingested.upload,
        searchable,
        upload_latency: stats(
            ingested
                .upload_latencies
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
        ),
        to_searchable: stats(to_searchable),
        unmatched,
    })
}

pub(crate) fn binaries(
    akta_bin: Option<PathBuf>,
    before_bin: Option<PathBuf>,
) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let mut out = Vec::new();
    if let Some(before) = before_bin {
        out.push(("before", locate_akta(Some(before))?));
    }
    out.push(("now", locate_akta(akta_bin)?));
    Ok(out)
}

pub async fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    if args.docs == 0 || args.uploaders == 0 {
        bail!("--docs and --uploaders must be at least 1");
    }
    let mut results = Vec::new();
    for (label, bin) in binaries(args.akta_bin.clone(), args.before_bin.clone())? {
        eprintln!(
            "{label}: {} — filing {} documents with {} clients …",
            bin.display(),
            args.docs,
            args.uploaders
        );
        results.push((label, ingest_once(&bin, &args).await?));
    }
    println!(
        "\n{} small text documents filed through the REST API by {} clients, until every text is searchable",
        args.docs, args.uploaders
    );
    let row = table_header(&results);
    row("documents", &|r| r.documents.to_string());
    row("upload phase", &|r| {
        format!("{:.1} s", r.upload.as_secs_f64())
    });
    row("uploads answered per second", &|r| {
        format!("{:.1}", r.documents as f64 / r.upload.as_secs_f64())
    });
    row("upload latency p50 / p99", &|r| {
        format!(
            "{:.0} / {:.0} ms",
            r.upload_latency.p50, r.upload_latency.p99
        )
    });
    row("first request → all searchable", &|r| {
        format!("{:.1} s", r.searchable.as_secs_f64())
    });
    row("documents per second end to end", &|r| {
        format!("{:.1}", r.documents as f64 / r.searchable.as_secs_f64())
    });
    row("upload → searchable p50", &|r| {
        format!("{:.2} s", r.to_searchable.p50 / 1000.0)
    });
    row("upload → searchable p99", &|r| {
        format!("{:.2} s", r.to_searchable.p99 / 1000.0)
    });
    row("documents matched / not", &|r| {
        format!("{} / {}", r.to_searchable.n, r.unmatched)
    });
    println!(
        "\nupload → searchable: from the upload's answer until the server's index had applied \
         the log entry of its extracted text (sampled every 100 ms: ±0.1 s)."
    );
    Ok(())
}

struct LoginResult {
    statuses: std::collections::BTreeMap<u16, usize>,
    wall: Duration,
    rss_idle_mib: f64,
    peak_growth_mib: f64,
    healthz: Stats,
    healthz_max_ms: f64,
}

async fn logins_once(bin: &Path, attempts: usize) -> anyhow::Result<LoginResult> {
    let node = start_node(bin).await?;
    let pid = node.server.child.id().context("server pid")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kib(pid, "VmRSS:")?;
    let hwm_before = rss_kib(pid, "VmHWM:")?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stop, base) = (stop.clone(), node.api.base.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut latencies, mut peak) = (Vec::new(), 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(rss) = rss_kib(pid, "VmRSS:") {
                    peak = peak.max(rss);
                }
                let started = Instant::now();
                if http.get(format!("{base}/healthz")).send().await.is_ok() {
                    latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (latencies, peak)
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..attempts {
        let (http, base) = (reqwest::Client::new(), node.api.base.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/session"))
                .json(&serde_json::json!({
                    "tenant": "gibt-es-nicht",
                    "username": format!("niemand{i}"),
                    "password": "falsch falsch falsch",
                }))
                .send()
                .await;
            r.map(|r| r.status().as_u16()).unwrap_or(0)
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await?).or_insert(0) += 1;
    }
    let wall = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (latencies, sampled_peak) = watcher.await?;
    let hwm_after = rss_kib(pid, "VmHWM:")?;
    // VmHWM catches a peak between two samples, but counts only if it rose meanwhile.
    let peak = if hwm_after > hwm_before {
        hwm_after.max(sampled_peak)
    } else {
        sampled_peak
    };
    node.server.stop().await;
    let healthz_max_ms = latencies.iter().copied().fold(0.0, f64::max);
    Ok(LoginResult {
        statuses,
        wall,
        rss_idle_mib: rss_idle as f64 / 1024.0,
        peak_growth_mib: peak.saturating_sub(rss_idle) as f64 / 1024.0,
        healthz: stats(latencies),
        healthz_max_ms,
    })
}

pub async fn logins(args: LoginArgs) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for (label, bin) in binaries(args.akta_bin.clone(), args.before_bin.clone())? {
        eprintln!(
            "{label}: {} — {} concurrent failed logins …",
            bin.display(),
            args.attempts
        );
        results.push((label, logins_once(&bin, args.attempts).await?));
    }
    println!(
        "\n{} concurrent failed password logins (tenant unknown, one client address)",
        args.attempts
    );
    let row = table_header(&results);
    row("answers", &|r| {
        r.statuses
            .iter()
            .map(|(s, n)| format!("{n}× {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    row("all answered after", &|r| {
        format!("{:.2} s", r.wall.as_secs_f64())
    });
    row("RSS idle", &|r| format!("{:.0} MiB", r.rss_idle_mib));
    row("peak RSS growth", &|r| {
        format!("{:.0} MiB", r.peak_growth_mib)
    });
    row("/healthz p50 / p99 / max", &|r| {
        format!(
            "{:.1} / {:.1} / {:.1} ms ({} probes)",
            r.healthz.p50, r.healthz.p99, r.healthz_max_ms, r.healthz.n
        )
    });
    Ok(())
}

/// Prints the header of a table with one column per binary; returns the printer of a row.
pub(crate) fn table_header<'a, R>(
    results: &'a [(&'static str, R)],
) -> impl Fn(&str, &dyn Fn(&R) -> String) + 'a {
    print!("\n| |");
    for (label, _) in results {
        print!(" {label} |");
    }
    print!("\n|---|");
    for _ in results {
        print!("--:|");
    }
    println!();
    move |name: &str, f: &dyn Fn(&R) -> String| {
        print!("| {name} |");
        for (_, r) in results {
            print!(" {} |", f(r));
        }
        println!();
    }
}
