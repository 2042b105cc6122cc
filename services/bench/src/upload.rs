use akta_blob::{S3Config, S3Store};
use anyhow::{bail, Context};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use rand::{RngCore, SeedableRng};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;
const CHUNK: usize = MIB as usize;

#[derive(clap::Args)]
pub struct Args {
    /// Size of the uploaded file in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Path of the `akta` binary (default: next to this one; build with
    /// `cargo build --release -p akta -p akta-bench`).
    #[arg(long)]
    akta_bin: Option<PathBuf>,
    /// S3 multipart part size in MiB, for both Akta and the baseline.
    #[arg(long, default_value_t = 8)]
    part_mib: usize,
    /// Parts in flight, for both Akta and the baseline.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
}

/// Deterministic pseudo-random content, generated while it is sent, so the client holds one
/// chunk at a time. Seeds differ per upload because Garage deduplicates identical blocks,
/// which would flatter whichever upload runs second.
fn content(seed: u64, size: u64) -> impl futures_util::Stream<Item = Bytes> + Send + 'static {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let chunks = size.div_ceil(CHUNK as u64);
    stream::iter(0..chunks).map(move |i| {
        let len = (size - i * CHUNK as u64).min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; len];
        rng.fill_bytes(&mut buf);
        Bytes::from(buf)
    })
}

/// SHA-256 of what [`content`] yields, for checking what the server stored.
async fn content_sha256(seed: u64, size: u64) -> String {
    let mut hasher = openssl::sha::Sha256::new();
    let mut s = Box::pin(content(seed, size));
    while let Some(chunk) = s.next().await {
        hasher.update(&chunk);
    }
    hex::encode(hasher.finish())
}

fn rss_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("{field} not in /proc/{pid}/status"))
}

struct Measured {
    seconds: f64,
    bytes: u64,
}

impl Measured {
    fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / MIB as f64 / self.seconds
    }
}

/// The baseline: what aws-sdk-s3 alone achieves against the same Garage.
async fn direct_put(
    store: &S3Store,
    key: &str,
    seed: u64,
    size: u64,
    part: usize,
    concurrency: usize,
) -> anyhow::Result<Measured> {
    let client = store.client().clone();
    let bucket = store.bucket().to_owned();
    let started = Instant::now();
    let upload = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .send()
        .await?;
    let upload_id = upload.upload_id().context("no upload id")?.to_owned();
    // Re-chunk the 1 MiB content chunks into parts of `part` bytes.
    let per_part = part / CHUNK;
    let parts = content(seed, size)
        .chunks(per_part.max(1))
        .enumerate()
        .map(|(i, chunks)| {
            let client = client.clone();
            let bucket = bucket.clone();
            let upload_id = upload_id.clone();
            let key = key.to_owned();
            async move {
                let mut body = Vec::with_capacity(part);
                for c in chunks {
                    body.extend_from_slice(&c);
                }
                let number = i as i32 + 1;
                let out = client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(SdkBody::from(body))
                    .send()
                    .await?;
                Ok::<_, anyhow::Error>(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_owned))
                        .build(),
                )
            }
        })
        .buffered(concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    client
        .complete_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;
    Ok(Measured {
        seconds: started.elapsed().as_secs_f64(),
        bytes: size,
    })
}

fn locate_akta(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("no parent dir")?
            .join("akta"),
    };
    if !path.exists() {
        bail!(
            "akta binary not found at {}: build it with `cargo build --release -p akta -p akta-bench`",
            path.display()
        );
    }
    Ok(path)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let size = args.size_mib * MIB;
    let part = args.part_mib * CHUNK;
    let akta_bin = locate_akta(args.akta_bin)?;
    eprintln!("starting throwaway PostgreSQL and Garage …");
    let urls = akta_testkit::postgres::fresh_database().await;
    let garage = akta_testkit::garage::shared().clone();
    akta_db::Db::migrate(&urls.owner_url).await?;
    let db = akta_db::Db::connect(&urls.app_url, 2).await?;
    let (tenant, token) =
        akta_api::ops::create_tenant(&db, "bench", "Benchmark-Stadt", None, "bench").await?;
    eprintln!("tenant {} created", tenant.slug);

    let port = akta_pgcluster::free_port()?;
    let mut server = tokio::process::Command::new(&akta_bin)
        .arg("serve")
        .env("AKTA_LISTEN", format!("127.0.0.1:{port}"))
        .env("AKTA_DATABASE_URL", &urls.app_url)
        .env("AKTA_DATABASE_OWNER_URL", &urls.owner_url)
        .env("AKTA_S3_ENDPOINT", &garage.endpoint)
        .env("AKTA_S3_REGION", &garage.region)
        .env("AKTA_S3_BUCKET", &garage.bucket)
        .env("AKTA_S3_ACCESS_KEY", &garage.access_key_id)
        .env("AKTA_S3_SECRET_KEY", &garage.secret_access_key)
        .env("AKTA_S3_PREFIX", "bench-akta/")
        .env("AKTA_MAX_UPLOAD_BYTES", (size + MIB).to_string())
        .env("AKTA_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting akta serve")?;
    let pid = server.id().context("server pid")?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("akta serve did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let unit: serde_json::Value =
        post("/api/v1/plan-units", json!({"code": "1", "title": "Bench"}))
            .await?
            .json()
            .await?;
    let file: serde_json::Value = post(
        "/api/v1/files",
        json!({"plan_unit_id": unit["id"], "subject": "Benchmark"}),
    )
    .await?
    .json()
    .await?;
    let file_id = file["id"].as_str().context("file id")?.to_owned();

    let mut s3cfg = S3Config::new(
        Some(garage.endpoint.clone()),
        garage.region.clone(),
        garage.bucket.clone(),
        garage.access_key_id.clone(),
        garage.secret_access_key.clone(),
    );
    s3cfg.key_prefix = "bench-direct/".into();
    s3cfg.part_size = part;
    s3cfg.max_concurrent_parts = args.concurrency;
    let store = S3Store::new(s3cfg)?;

    // Let the server settle so the RSS baseline is its idle footprint.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(pid, "VmRSS:")?;
    let hwm_before = rss_kib(pid, "VmHWM:")?;

    eprintln!("uploading {} MiB through the Akta API …", args.size_mib);
    let akta_seed = 1;
    let sampler_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = sampler_stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(rss) = rss_kib(pid, "VmRSS:") {
                    peak = peak.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let body = reqwest::Body::wrap_stream(content(akta_seed, size).map(Ok::<_, std::io::Error>));
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(
                json!({"title": "Großer Scan", "kind": "Eingang"}).to_string(),
            )
            .mime_str("application/json")?,
        )
        .part(
            "file",
            reqwest::multipart::Part::stream_with_length(body, size)
                .file_name("scan.bin")
                .mime_str("application/octet-stream")?,
        );
    let response = http
        .post(format!("{base}/api/v1/files/{file_id}/documents"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await?;
    let akta = Measured {
        seconds: started.elapsed().as_secs_f64(),
        bytes: size,
    };
    sampler_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled_peak = sampler.await?;
    let status = response.status();
    let doc: serde_json::Value = response.json().await?;
    if status.as_u16() != 201 {
        bail!("upload through Akta failed: {status} {doc}");
    }
    let hwm_after = rss_kib(pid, "VmHWM:")?;
    let stored_sha = doc["versions"][0]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let expected_sha = content_sha256(akta_seed, size).await;
    if stored_sha != expected_sha {
        bail!("Akta stored sha256 {stored_sha}, expected {expected_sha}");
    }

    eprintln!(
        "uploading {} MiB directly with aws-sdk-s3 multipart …",
        args.size_mib
    );
    let direct = direct_put(
        &store,
        "bench-direct/direct.bin",
        2,
        size,
        part,
        args.concurrency,
    )
    .await?;

    server.start_kill()?;
    let _ = server.wait().await;

    // VmHWM catches a peak between two samples, but only counts if it rose during the upload.
    let peak_kib = if hwm_after > hwm_before {
        sampled_peak.max(hwm_after)
    } else {
        sampled_peak
    };
    let growth_mib = (peak_kib.saturating_sub(rss_before)) as f64 / 1024.0;
    let ratio = akta.mib_per_s() / direct.mib_per_s();
    println!();
    println!(
        "Upload of {} MiB to Garage (single node, loopback), part {} MiB × {} in flight",
        args.size_mib, args.part_mib, args.concurrency
    );
    println!();
    println!("| path                                   | seconds | MiB/s   |");
    println!("|----------------------------------------|--------:|--------:|");
    println!(
        "| direct aws-sdk-s3 multipart PUT        | {:7.2} | {:7.1} |",
        direct.seconds,
        direct.mib_per_s()
    );
    println!(
        "| Akta API (multipart POST → S3)         | {:7.2} | {:7.1} |",
        akta.seconds,
        akta.mib_per_s()
    );
    println!();
    println!("throughput ratio Akta / direct : {ratio:.2}   (target ≥ 0.70)");
    println!(
        "server RSS: idle {:.1} MiB, peak during upload {:.1} MiB, growth {:.1} MiB (target ≤ 64 MiB); VmHWM before {:.1} MiB, after {:.1} MiB",
        rss_before as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        growth_mib,
        hwm_before as f64 / 1024.0,
        hwm_after as f64 / 1024.0
    );
    println!("stored sha256 verified: {stored_sha}");
    Ok(())
}
