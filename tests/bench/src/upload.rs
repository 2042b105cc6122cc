//! `akta-bench upload`: uploads through the REST API against a direct S3 PUT, side by side.

use akta_blob::{BlobStore, S3Config, S3Store};
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

/// Writes what [`content`] yields to `path`: clients of every upload in the comparison read
/// their bytes from a file (from the page cache, as boto3's `upload_file` does), so none pays
/// for generating them on the machine's two cores while the others do not.
async fn write_content(seed: u64, size: u64, path: &std::path::Path) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(path).await?);
    let mut s = Box::pin(content(seed, size));
    while let Some(chunk) = s.next().await {
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(())
}

/// The file's bytes as a stream of 1 MiB chunks.
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match file.read(&mut buf[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Some((Err(e), None)),
            }
        }
        if filled == 0 {
            return None;
        }
        buf.truncate(filled);
        Some((Ok(Bytes::from(buf)), Some(file)))
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

pub(crate) fn rss_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
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

pub(crate) fn locate_akta(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
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

/// An `akta serve` process on the throwaway PostgreSQL and Garage; killed when dropped.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

struct Stack<'a> {
    akta_bin: &'a std::path::Path,
    urls: &'a akta_pgcluster::ClusterUrls,
    garage: &'a akta_testkit::garage::GarageInfo,
    master_key_hex: String,
    max_upload: u64,
    /// Multipart part size (MiB) and parts in flight of the servers it starts.
    part_mib: usize,
    parts_in_flight: usize,
    http: reqwest::Client,
}

impl Stack<'_> {
    async fn start(&self, prefix: &str, encrypt: bool) -> anyhow::Result<Server> {
        let port = akta_pgcluster::free_port()?;
        let child = tokio::process::Command::new(self.akta_bin)
            .arg("serve")
            .env("AKTA_LISTEN", format!("127.0.0.1:{port}"))
            .env("AKTA_DATABASE_URL", &self.urls.app_url)
            .env("AKTA_DATABASE_OWNER_URL", &self.urls.owner_url)
            .env("AKTA_MASTER_KEY", &self.master_key_hex)
            .env("AKTA_ENCRYPTION", if encrypt { "on" } else { "off" })
            .env("AKTA_S3_ENDPOINT", &self.garage.endpoint)
            .env("AKTA_S3_REGION", &self.garage.region)
            .env("AKTA_S3_BUCKET", &self.garage.bucket)
            .env("AKTA_S3_ACCESS_KEY", &self.garage.access_key_id)
            .env("AKTA_S3_SECRET_KEY", &self.garage.secret_access_key)
            .env("AKTA_S3_PREFIX", prefix)
            .env("AKTA_MAX_UPLOAD_BYTES", self.max_upload.to_string())
            .env("AKTA_S3_PART_MIB", self.part_mib.to_string())
            .env("AKTA_S3_PARTS_IN_FLIGHT", self.parts_in_flight.to_string())
            .env("AKTA_LOG", "warn")
            .env_remove("AKTA_MASTER_KEY_FILE")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting akta serve")?;
        let pid = child.id().context("server pid")?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(format!("{base}/readyz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                bail!("akta serve did not become ready");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Server { child, pid, base })
    }

    fn store(&self, prefix: &str, part: usize, concurrency: usize) -> anyhow::Result<S3Store> {
        let mut cfg = S3Config::new(
            Some(self.garage.endpoint.clone()),
            self.garage.region.clone(),
            self.garage.bucket.clone(),
            self.garage.access_key_id.clone(),
            self.garage.secret_access_key.clone(),
        );
        cfg.key_prefix = prefix.into();
        cfg.part_size = part;
        cfg.max_concurrent_parts = concurrency;
        Ok(S3Store::new(cfg)?)
    }
}

/// One upload through the Akta API, with the server's memory around it.
struct AktaRun {
    measured: Measured,
    rss_idle_kib: u64,
    peak_kib: u64,
    /// Size of the object Akta stored (ciphertext when encrypting).
    stored_bytes: u64,
}

impl AktaRun {
    fn growth_mib(&self) -> f64 {
        self.peak_kib.saturating_sub(self.rss_idle_kib) as f64 / 1024.0
    }
}

/// Uploads `size` bytes of content `seed` into a new Akte under plan unit `code` through a
/// fresh `akta serve` (encrypting or not), checks the stored SHA-256, and stops the server.
async fn akta_upload(
    stack: &Stack<'_>,
    token: &str,
    code: &str,
    encrypt: bool,
    seed: u64,
    size: u64,
) -> anyhow::Result<AktaRun> {
    let prefix = format!("bench-akta-{code}/");
    let mut server = stack.start(&prefix, encrypt).await?;
    let (base, pid, http) = (server.base.clone(), server.pid, &stack.http);
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let unit: serde_json::Value = post(
        "/api/v1/plan-units",
        json!({"code": code, "title": "Bench"}),
    )
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
    let file_id = file["id"]
        .as_str()
        .with_context(|| format!("no file id in {file}"))?
        .to_owned();

    let scratch = tempfile::tempdir()?;
    let source = scratch.path().join("upload.bin");
    write_content(seed, size, &source).await?;
    // Let the server settle so the RSS baseline is its idle footprint.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle_kib = rss_kib(pid, "VmRSS:")?;
    let hwm_before = rss_kib(pid, "VmHWM:")?;
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
    let file = tokio::fs::File::open(&source).await?;
    let started = Instant::now();
    let body = reqwest::Body::wrap_stream(file_stream(file));
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
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?;
    let measured = Measured {
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
    server.child.start_kill()?;
    let _ = server.child.wait().await;

    let stored_sha = doc["versions"][0]["sha256"].as_str().unwrap_or_default();
    let expected_sha = content_sha256(seed, size).await;
    if stored_sha != expected_sha {
        bail!("Akta stored sha256 {stored_sha}, expected {expected_sha}");
    }
    let store = stack.store(&prefix, 8 * CHUNK, 2)?;
    let keys = store.list("").await?;
    let [key] = keys.as_slice() else {
        bail!("expected one object under {prefix}, found {}", keys.len());
    };
    let stored_bytes = store
        .get(key, Some(akta_blob::ByteRange { start: 0, end: 0 }))
        .await?
        .size;
    // VmHWM catches a peak between two samples, but only counts if it rose during the upload.
    let peak_kib = if hwm_after > hwm_before {
        sampled_peak.max(hwm_after)
    } else {
        sampled_peak
    };
    Ok(AktaRun {
        measured,
        rss_idle_kib,
        peak_kib,
        stored_bytes,
    })
}

/// akta_crypto's streaming encryption alone, in this process, over `size` bytes in 1 MiB
/// chunks (one random chunk repeated, so generating content costs nothing).
/// The issue's baseline: boto3's managed upload (16 MiB parts, 4 in flight) of a file of
/// `size` random bytes to the same Garage, timed inside Python around `upload_file` alone.
/// `None` (with the reason) when python3 or boto3 is missing.
async fn boto3_put(
    garage: &akta_testkit::garage::GarageInfo,
    key: &str,
    size: u64,
) -> anyhow::Result<Result<Measured, String>> {
    const SCRIPT: &str = r#"
import sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
endpoint, region, bucket, ak, sk, key, path = sys.argv[1:8]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=ak,
                  aws_secret_access_key=sk,
                  config=Config(s3={"addressing_style": "path"},
                                request_checksum_calculation="when_required"))
mib = 1024 * 1024
cfg = TransferConfig(multipart_threshold=16 * mib, multipart_chunksize=16 * mib,
                     max_concurrency=4, use_threads=True)
started = time.monotonic()
s3.upload_file(path, bucket, key, Config=cfg)
print(time.monotonic() - started)
"#;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("boto3.bin");
    write_content(4, size, &file).await?;
    let script = dir.path().join("put.py");
    std::fs::write(&script, SCRIPT)?;
    let output = match tokio::process::Command::new("python3")
        .arg(&script)
        .args([
            &garage.endpoint,
            &garage.region,
            &garage.bucket,
            &garage.access_key_id,
            &garage.secret_access_key,
            key,
        ])
        .arg(&file)
        .output()
        .await
    {
        Ok(o) => o,
        Err(e) => return Ok(Err(format!("python3: {e}"))),
    };
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Ok(Err(format!(
            "boto3 upload failed: {}",
            err.lines().last().unwrap_or("")
        )));
    }
    let seconds: f64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
    Ok(Ok(Measured {
        seconds,
        bytes: size,
    }))
}

async fn crypto_in_process(size: u64) -> anyhow::Result<Measured> {
    let mut chunk = vec![0u8; CHUNK];
    rand::rngs::StdRng::seed_from_u64(3).fill_bytes(&mut chunk);
    let chunk = Bytes::from(chunk);
    let chunks = size.div_ceil(CHUNK as u64);
    let input: akta_crypto::ByteStream = Box::pin(stream::iter((0..chunks).map(move |i| {
        let len = (size - i * CHUNK as u64).min(CHUNK as u64) as usize;
        Ok(chunk.slice(..len))
    })));
    let dek = akta_crypto::Key256::generate()?;
    let started = Instant::now();
    let mut encrypted = akta_crypto::encrypt_stream(dek, input);
    let mut out = 0u64;
    while let Some(c) = encrypted.next().await {
        out += c?.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    if out != akta_crypto::ciphertext_len(size) {
        bail!("encrypt_stream produced {out} bytes for {size}");
    }
    Ok(Measured {
        seconds,
        bytes: size,
    })
}

/// `openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3`: bytes per second, from the
/// "AES-256-GCM <n>k" line (in 1000s of bytes per second).
async fn openssl_speed() -> anyhow::Result<f64> {
    let out = tokio::process::Command::new("openssl")
        .args([
            "speed",
            "-evp",
            "aes-256-gcm",
            "-bytes",
            "65536",
            "-seconds",
            "3",
        ])
        .stderr(Stdio::null())
        .output()
        .await
        .context("running openssl speed")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kilobytes = text
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("aes-256-gcm"))
        .filter_map(|l| l.split_whitespace().last())
        .filter_map(|v| v.strip_suffix('k'))
        .find_map(|v| v.parse::<f64>().ok())
        .with_context(|| {
            format!("no AES-256-GCM result in the output of openssl speed:\n{text}")
        })?;
    Ok(kilobytes * 1000.0)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let size = args.size_mib * MIB;
    let part = args.part_mib * CHUNK;
    let akta_bin = locate_akta(args.akta_bin)?;
    eprintln!("starting throwaway PostgreSQL and Garage …");
    let garage = akta_testkit::garage::shared().clone();
    // The bench creates the tenant (and its key) itself, so it shares the master key with
    // the servers it starts.
    let crate::setup::BenchTenant {
        urls,
        master_key_hex,
        tenant,
        token,
        ..
    } = crate::setup::bench_tenant("Benchmark-Stadt").await?;
    eprintln!("tenant {} created", tenant.slug);
    let stack = Stack {
        akta_bin: &akta_bin,
        urls: &urls,
        garage: &garage,
        master_key_hex,
        max_upload: size + MIB,
        part_mib: args.part_mib,
        parts_in_flight: args.concurrency,
        http: reqwest::Client::new(),
    };

    eprintln!(
        "uploading {} MiB through the Akta API, encryption off …",
        args.size_mib
    );
    let plain = akta_upload(&stack, &token, "1", false, 1, size).await?;
    eprintln!(
        "uploading {} MiB through the Akta API, encryption on …",
        args.size_mib
    );
    let encrypted = akta_upload(&stack, &token, "2", true, 2, size).await?;
    if plain.stored_bytes != size || encrypted.stored_bytes != akta_crypto::ciphertext_len(size) {
        bail!(
            "stored object sizes {} (off) and {} (on) do not match the settings",
            plain.stored_bytes,
            encrypted.stored_bytes
        );
    }
    eprintln!(
        "uploading {} MiB directly with aws-sdk-s3 multipart …",
        args.size_mib
    );
    let store = stack.store("bench-direct/", part, args.concurrency)?;
    let direct = direct_put(
        &store,
        "bench-direct/direct.bin",
        3,
        size,
        part,
        args.concurrency,
    )
    .await?;
    eprintln!(
        "uploading {} MiB directly with boto3 (16 MiB parts, 4 in flight) …",
        args.size_mib
    );
    let boto3 = boto3_put(&garage, "bench-direct/boto3.bin", size).await?;
    eprintln!(
        "encrypting {} MiB in process with akta_crypto …",
        args.size_mib
    );
    let crypto = crypto_in_process(size).await?;
    eprintln!("running openssl speed -evp aes-256-gcm …");
    let openssl = openssl_speed().await?;
    let openssl_mib = openssl / MIB as f64;

    println!();
    println!(
        "Upload of {} MiB to Garage (single node, loopback), part {} MiB × {} in flight",
        args.size_mib, args.part_mib, args.concurrency
    );
    println!();
    println!(
        "| path                                            | seconds | MiB/s   | RSS growth |"
    );
    println!(
        "|-------------------------------------------------|--------:|--------:|-----------:|"
    );
    println!(
        "| direct aws-sdk-s3 multipart PUT                 | {:7.2} | {:7.1} |            |",
        direct.seconds,
        direct.mib_per_s()
    );
    match &boto3 {
        Ok(b) => println!(
            "| direct boto3 upload_file, 16 MiB × 4 in flight  | {:7.2} | {:7.1} |            |",
            b.seconds,
            b.mib_per_s()
        ),
        Err(why) => println!("| direct boto3 upload_file: not run ({why}) | | | |"),
    }
    for (name, run) in [
        ("Akta API, unencrypted (AKTA_ENCRYPTION=off)", &plain),
        ("Akta API, encrypted (default)", &encrypted),
    ] {
        println!(
            "| {name:<47} | {:7.2} | {:7.1} | {:6.1} MiB |",
            run.measured.seconds,
            run.measured.mib_per_s(),
            run.growth_mib()
        );
    }
    println!(
        "| akta_crypto encrypt_stream, in process          | {:7.2} | {:7.1} |            |",
        crypto.seconds,
        crypto.mib_per_s()
    );
    println!(
        "| openssl speed -evp aes-256-gcm, 64 KiB blocks   |         | {openssl_mib:7.1} |            |"
    );
    println!();
    let enc = encrypted.measured.mib_per_s();
    println!(
        "encrypted Akta / unencrypted Akta       : {:.2}",
        enc / plain.measured.mib_per_s()
    );
    println!(
        "encrypted Akta / direct S3 PUT          : {:.2}   (foundation target for Akta ≥ 0.70)",
        enc / direct.mib_per_s()
    );
    if let Ok(b) = &boto3 {
        println!(
            "encrypted Akta / direct boto3 PUT       : {:.2}   (issue #15 target ≥ 0.90)",
            enc / b.mib_per_s()
        );
    }
    println!(
        "unencrypted Akta / direct S3 PUT        : {:.2}",
        plain.measured.mib_per_s() / direct.mib_per_s()
    );
    println!(
        "akta_crypto in process / openssl speed  : {:.2}",
        crypto.mib_per_s() / openssl_mib
    );
    println!(
        "encrypted Akta / openssl speed          : {:.2}",
        enc / openssl_mib
    );
    println!(
        "server RSS idle {:.1} / {:.1} MiB, peak {:.1} / {:.1} MiB (unencrypted / encrypted; target growth ≤ 64 MiB)",
        plain.rss_idle_kib as f64 / 1024.0,
        encrypted.rss_idle_kib as f64 / 1024.0,
        plain.peak_kib as f64 / 1024.0,
        encrypted.peak_kib as f64 / 1024.0
    );
    println!(
        "stored objects: {} bytes unencrypted, {} bytes encrypted (= ciphertext_len); sha256 of both uploads verified",
        plain.stored_bytes, encrypted.stored_bytes
    );
    Ok(())
}
