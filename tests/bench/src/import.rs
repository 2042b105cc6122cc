//! `akta-bench import`: a town's file share moved onto Akta with `akta import folder`, next to
//! the same documents filed one by one through the REST API by 4 clients, in the same run.
//!
//! The tree is the search corpus (German letters, Vermerke, Bescheide in Akten and
//! Vorgänge by plan unit and year), written as text files under plan code / year / Akte /
//! Vorgang with the manifest the import reads; then, optionally, a second tree of large PDFs
//! (`--pdf-mib`). Each side runs its own `akta serve` on a throwaway database with filesystem
//! blobs and a local index (the embedded default's parts), and is timed from its first
//! request (or the import's start) until every document is searchable by its text; the
//! import process's and the server's peak RSS are read from `/proc` while it runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::{RngCore, SeedableRng};

use crate::corpus::Corpus;
use crate::hardening::{start_node, table_header, Node};
use crate::ingest;
use crate::upload::{locate_akta, rss_kib};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Small text documents in the generated tree.
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// Documents filed through the REST API for the comparison (default: all of them).
    #[arg(long)]
    rest_docs: Option<usize>,
    /// MiB of PDFs imported after the text documents (0: none).
    #[arg(long, default_value_t = 1024)]
    pdf_mib: u64,
    /// Size of each PDF.
    #[arg(long, default_value_t = 16)]
    pdf_each_mib: u64,
    #[arg(long, default_value_t = 20_261_205)]
    seed: u64,
    /// The `akta` binary (default: next to this one).
    #[arg(long)]
    akta_bin: Option<PathBuf>,
    /// Give up waiting for searchability after this many seconds.
    #[arg(long, default_value_t = 7200)]
    timeout_secs: u64,
}

/// A manifest field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A path segment from free text.
fn segment(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    cleaned.trim().to_owned()
}

/// Writes the corpus as a tree with its manifest; returns the manifest, the plan units
/// (code, title, parent code) and the number of documents and bytes.
#[allow(clippy::type_complexity)]
pub(crate) fn write_tree(
    root: &Path,
    seed: u64,
    docs: usize,
) -> anyhow::Result<(PathBuf, Vec<(String, String, Option<String>)>, usize, u64)> {
    let mut corpus = Corpus::new(seed, docs);
    let plan = corpus.plan().to_vec();
    let units = plan
        .iter()
        .map(|u| {
            (
                u.code.to_owned(),
                u.title.to_owned(),
                u.parent.map(|p| plan[p].code.to_owned()),
            )
        })
        .collect();
    let mut manifest =
        String::from("path,plan_code,file_subject,case_subject,title,date,kind,aktenzeichen_alt\n");
    let (mut count, mut bytes) = (0usize, 0u64);
    for file in corpus.by_ref() {
        let unit = plan[file.plan_unit].code;
        let akte = format!("{} {}", file.reference, file.subject);
        let dir = root
            .join(segment(unit))
            .join(file.year.to_string())
            .join(segment(&akte));
        for (i, d) in file.documents.iter().enumerate() {
            let case = d.case.map(|c| file.cases[c].subject.clone());
            let mut dir = dir.clone();
            if let Some(case) = &case {
                dir = dir.join(segment(case));
            }
            std::fs::create_dir_all(&dir)?;
            let name = format!("{i:03} {}.txt", segment(&d.title));
            let path = dir.join(&name);
            std::fs::write(&path, &d.text)?;
            bytes += d.text.len() as u64;
            count += 1;
            let relative = path.strip_prefix(root)?.to_string_lossy().into_owned();
            writeln!(
                manifest,
                "{},{},{},{},{},{},{},{}",
                field(&relative),
                field(unit),
                field(&imported_subject(&file)),
                field(&case.unwrap_or_default()),
                field(&d.title),
                crate::search::iso(d.date),
                d.kind,
                field(&file.reference),
            )?;
        }
    }
    let path = root.join("manifest.csv");
    std::fs::write(&path, manifest)?;
    Ok((path, units, count, bytes))
}

/// A valid PDF of about `size` bytes: one page whose text holds `word`, and an image
/// resource of random bytes (as scans carry) that makes up the size.
fn pdf(word: &str, n: usize, size: usize, rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let text = format!("BT /F1 12 Tf 72 720 Td ({word} Nummer {n}) Tj ET");
    let side = ((size as f64 / 3.0).sqrt() as usize).max(1);
    let mut image = vec![0u8; side * side * 3];
    rng.fill_bytes(&mut image);
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
          /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
    );
    object(
        &mut out,
        format!(
            "<< /Length {} >>\nstream\n{text}\nendstream",
            text.len() + 1
        )
        .as_bytes(),
    );
    object(
        &mut out,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    );
    let mut body = format!(
        "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceRGB \
         /BitsPerComponent 8 /Length {} >>\nstream\n",
        image.len()
    )
    .into_bytes();
    body.extend_from_slice(&image);
    body.extend_from_slice(b"\nendstream");
    object(&mut out, &body);
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(tail, "{o:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

/// The Betreff a corpus Akte gets on the share's manifest: the subject alone repeats between
/// Akten, the corpus' Aktenzeichen makes it one.
pub(crate) fn imported_subject(file: &crate::corpus::File) -> String {
    format!("{} ({})", file.subject, file.reference)
}

/// The word every generated PDF holds (and nothing else does).
const PDF_WORD: &str = "Lageplanbeilage";

fn write_pdfs(
    root: &Path,
    total_mib: u64,
    each_mib: u64,
    seed: u64,
) -> anyhow::Result<(PathBuf, usize, u64)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let count = total_mib.div_ceil(each_mib.max(1)) as usize;
    let mut manifest = String::from("path,plan_code,file_subject,case_subject,title,date,kind\n");
    let mut bytes = 0;
    let dir = root.join("Planarchiv");
    std::fs::create_dir_all(&dir)?;
    for n in 0..count {
        let body = pdf(PDF_WORD, n, (each_mib * 1024 * 1024) as usize, &mut rng);
        bytes += body.len() as u64;
        let name = format!("Plan {n:04}.pdf");
        std::fs::write(dir.join(&name), body)?;
        writeln!(
            manifest,
            "Planarchiv/{name},63,Planarchiv {},,Lageplan {n},2024-05-02,Eingang",
            n / 16
        )?;
    }
    let path = root.join("plans.csv");
    std::fs::write(&path, manifest)?;
    Ok((path, count, bytes))
}

struct Run {
    documents: usize,
    bytes: u64,
    /// Until the import process ended (or the last upload was answered).
    written: Duration,
    /// Until every document was searchable.
    searchable: Duration,
    import_peak_kib: Option<u64>,
    server_peak_kib: u64,
    last_line: String,
}

/// Where an import goes: the database, data dir and master key of a running server, and
/// the tenant.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) urls: &'a akta_pgcluster::ClusterUrls,
    pub(crate) data_dir: &'a Path,
    pub(crate) master_key_hex: &'a str,
    pub(crate) slug: &'a str,
}

impl<'a> From<&'a Node> for Target<'a> {
    fn from(node: &'a Node) -> Self {
        Target {
            urls: &node.urls,
            data_dir: &node.data_dir,
            master_key_hex: &node.master_key_hex,
            slug: "bench",
        }
    }
}

/// Creates the Aktenplan `units` (code, title, parent code; parents first) over the API.
pub(crate) async fn create_plan(
    api: &ingest::Api,
    units: &[(String, String, Option<String>)],
) -> anyhow::Result<()> {
    let mut ids: std::collections::HashMap<String, String> = Default::default();
    for (code, title, parent) in units {
        let created = api
            .create(
                "/api/v1/plan-units",
                serde_json::json!({
                    "code": code,
                    "title": title,
                    "parent_id": parent.as_ref().and_then(|p| ids.get(p)),
                }),
            )
            .await?;
        let id = created["id"].as_str().context("plan unit id")?.to_owned();
        ids.insert(code.clone(), id);
    }
    Ok(())
}

/// Runs `akta import folder` for `manifest` against `node`, sampling peak RSS; returns the
/// import's wall time, its own peak RSS and its summary line.
pub(crate) async fn import_folder(
    bin: &Path,
    node: Target<'_>,
    manifest: &Path,
) -> anyhow::Result<(Duration, u64, String)> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .args(["import", "folder", "--tenant", node.slug, "--manifest"])
        .arg(manifest)
        .env("AKTA_DATABASE_URL", &node.urls.app_url)
        .env("AKTA_DATABASE_OWNER_URL", &node.urls.owner_url)
        .env("AKTA_DATA_DIR", node.data_dir)
        .env("AKTA_MASTER_KEY", node.master_key_hex)
        .env("AKTA_LOG", "warn")
        .env_remove("AKTA_MASTER_KEY_FILE")
        .env_remove("AKTA_S3_BUCKET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting akta import folder")?;
    let pid = child.id().context("import pid")?;
    // Read while it runs: a full pipe would stop the import.
    let mut out = child.stdout.take().context("stdout")?;
    let mut err = child.stderr.take().context("stderr")?;
    let reading = tokio::spawn(async move {
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let _ = tokio::join!(
            tokio::io::AsyncReadExt::read_to_string(&mut out, &mut stdout),
            tokio::io::AsyncReadExt::read_to_string(&mut err, &mut stderr),
        );
        (stdout, stderr)
    });
    let mut peak = 0;
    let output = loop {
        if let Ok(kib) = rss_kib(pid, "VmHWM:") {
            peak = peak.max(kib);
        }
        tokio::select! {
            status = child.wait() => break status?,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    };
    let elapsed = started.elapsed();
    let (stdout, stderr) = reading.await?;
    let last = stdout.lines().last().unwrap_or("").to_owned();
    if !output.success() {
        bail!("akta import folder failed ({output}): {last}\n{stderr}");
    }
    Ok((elapsed, peak, last))
}

/// Waits until `search(q)` finds `expected` documents and the index has applied everything.
async fn wait_for(
    node: &Node,
    q: &str,
    expected: u64,
    started: Instant,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    loop {
        let body: serde_json::Value = node
            .api
            .http
            .get(format!("{}/api/v1/search", node.api.base))
            .query(&[("q", q), ("limit", "1")])
            .bearer_auth(&node.api.token)
            .send()
            .await?
            .json()
            .await?;
        let total = if body["fuzzy"] == serde_json::Value::Bool(true) {
            0
        } else {
            body["total"].as_u64().unwrap_or(0)
        };
        if total >= expected && body["index_lag"].as_i64() == Some(0) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            bail!("{q}: {total} of {expected} searchable after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn server_peak(node: &Node) -> u64 {
    node.server
        .child
        .id()
        .and_then(|pid| rss_kib(pid, "VmHWM:").ok())
        .unwrap_or(0)
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let bin = locate_akta(args.akta_bin.clone())?;
    let timeout = Duration::from_secs(args.timeout_secs);
    let scratch = tempfile::tempdir()?;
    let share = scratch.path().join("share");
    eprintln!("writing a tree of {} text documents …", args.docs);
    let (manifest, units, documents, bytes) = write_tree(&share, args.seed, args.docs)?;

    // The same documents one by one through the REST API, on the first node of the run
    // (later nodes of a run were measured 10–15 % slower, so this favours REST).
    let rest_docs = args.rest_docs.unwrap_or(args.docs).min(args.docs);
    eprintln!("filing {rest_docs} documents through the REST API with 4 clients …");
    let node = start_node(&bin).await?;
    let ingested = ingest::upload(&node.api, args.seed, rest_docs, 4).await?;
    let rest_written = ingested.upload;
    let searchable = ingest::wait_searchable(
        &node.api,
        ingested.loaded.documents,
        ingested.started,
        timeout,
    )
    .await?;
    let rest_run = (
        "REST, 4 clients",
        Run {
            documents: ingested.loaded.documents,
            bytes: ingested.loaded.text_bytes,
            written: rest_written,
            searchable,
            import_peak_kib: None,
            server_peak_kib: server_peak(&node),
            last_line: String::new(),
        },
    );
    node.server.stop().await;

    // The import, on a node of its own.
    let node = start_node(&bin).await?;
    create_plan(&node.api, &units).await?;
    eprintln!("importing with akta import folder …");
    let started = Instant::now();
    let (written, import_peak, last_line) = import_folder(&bin, (&node).into(), &manifest).await?;
    eprintln!(
        "  {last_line} in {:.1} s; waiting until every text is searchable …",
        written.as_secs_f64()
    );
    let searchable = ingest::wait_searchable(&node.api, documents, started, timeout).await?;
    let mut runs = vec![(
        "akta import folder",
        Run {
            documents,
            bytes,
            written,
            searchable,
            import_peak_kib: Some(import_peak),
            server_peak_kib: server_peak(&node),
            last_line,
        },
    )];
    let mut pdf_run = None;
    if args.pdf_mib > 0 {
        eprintln!("writing {} MiB of PDFs …", args.pdf_mib);
        let (plans, count, pdf_bytes) =
            write_pdfs(&share, args.pdf_mib, args.pdf_each_mib, args.seed)?;
        eprintln!("importing {count} PDFs …");
        let started = Instant::now();
        let (written, peak, last_line) = import_folder(&bin, (&node).into(), &plans).await?;
        let searchable = wait_for(&node, PDF_WORD, count as u64, started, timeout).await?;
        pdf_run = Some(Run {
            documents: count,
            bytes: pdf_bytes,
            written,
            searchable,
            import_peak_kib: Some(peak),
            server_peak_kib: server_peak(&node),
            last_line,
        });
    }
    node.server.stop().await;
    runs.push(rest_run);

    println!(
        "\n{documents} small text documents (a generated file share) until every text is searchable"
    );
    let row = table_header(&runs);
    rows(&row);
    let (import, rest) = (&runs[0].1, &runs[1].1);
    println!(
        "\nimport vs. REST, documents per second end to end: {:.1}×",
        rate(import) / rate(rest)
    );
    if let Some(p) = pdf_run {
        println!("\n{} PDFs of {} MiB each", p.documents, args.pdf_each_mib);
        let runs = [("akta import folder", p)];
        let row = table_header(&runs);
        rows(&row);
    }
    Ok(())
}

fn rate(r: &Run) -> f64 {
    r.documents as f64 / r.searchable.as_secs_f64()
}

/// Prints one table row: its name and a cell per run.
type Row<'a> = &'a dyn Fn(&str, &dyn Fn(&Run) -> String);

fn rows(row: Row<'_>) {
    row("documents", &|r| r.documents.to_string());
    row("MiB", &|r| format!("{:.1}", r.bytes as f64 / 1048576.0));
    row("written (import ended / last upload answered)", &|r| {
        format!("{:.1} s", r.written.as_secs_f64())
    });
    row("documents per second written", &|r| {
        format!("{:.1}", r.documents as f64 / r.written.as_secs_f64())
    });
    row("start → all searchable", &|r| {
        format!("{:.1} s", r.searchable.as_secs_f64())
    });
    row("documents per second end to end", &|r| {
        format!("{:.1}", rate(r))
    });
    row("MiB/s end to end", &|r| {
        format!(
            "{:.1}",
            r.bytes as f64 / 1048576.0 / r.searchable.as_secs_f64()
        )
    });
    row("peak RSS import process", &|r| {
        r.import_peak_kib
            .map_or("–".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
    });
    row("peak RSS server", &|r| {
        format!("{:.0} MiB", r.server_peak_kib as f64 / 1024.0)
    });
    row("import summary", &|r| r.last_line.clone());
}
