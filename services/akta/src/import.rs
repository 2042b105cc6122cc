//! `akta import xdomea`: Akten from other systems' xdomea messages (0503 or 0401, 3.0.0 or
//! 3.1.0; a zip, or the XML beside its primary documents in a directory) into a tenant,
//! through the core's import engine: placed by the message's plan codes (mapped with
//! `--plan-map`, missing units added with `--create-plan-units`), resumable, and with a dry
//! run that writes nothing. Exit code 0 when everything went in, 1 when something was
//! refused, 2 on a usage or environment error; the last line is the summary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use akta_core::import::{Entries, ImportInput, ImportPlan, ImportReport, Progress};
use akta_core::Core;
use akta_domain::{Role, TenantId};
use anyhow::{bail, Context};

/// Something was refused: exit code 1 (everything else that fails is 2).
#[derive(Debug, thiserror::Error)]
#[error("{0} Akten were refused (see above)")]
pub struct Refused(pub usize);

/// `from,to` plan codes per line (a header line and `#` comments are skipped).
fn plan_map(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the plan map {}", path.display()))?;
    let mut map = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((from, to)) = line.split_once(',') else {
            bail!("{} line {}: expected from,to", path.display(), i + 1);
        };
        let (from, to) = (from.trim(), to.trim());
        if i == 0 && akta_domain::PlanCode::parse(from).is_err() {
            continue;
        }
        map.insert(from.to_owned(), to.to_owned());
    }
    Ok(map)
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Runs one import of `input` for `who`: kept as an import of the tenant (its progress and
/// report can be read over REST and in the web UI), with a progress bar on a terminal.
async fn run_import(
    core: &Core,
    who: &akta_domain::Principal,
    input: &ImportInput,
    plan: &ImportPlan,
    source: &Path,
) -> anyhow::Result<ImportReport> {
    let id = core
        .record_import_start(who, plan.dry_run, &source.display().to_string())
        .await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} Dateien, {bytes_per_sec}, noch {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(source.display().to_string());
    let recorder = core.progress_recorder(who, id);
    let show = |p: Progress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        recorder(p);
    };
    let outcome = core.import_input(who, input, plan, Some(&show)).await;
    bar.finish_and_clear();
    core.record_import_end(who, id, &outcome).await;
    Ok(outcome?)
}

fn print_report(source: &Path, report: &ImportReport) {
    println!("{}:", source.display());
    for f in &report.files {
        println!(
            "  + {} ← {} {}",
            f.reference, f.previous_reference, f.subject
        );
    }
    for r in &report.skipped {
        println!("  = {r} (already present)");
    }
    for r in &report.refused {
        println!("  ! {}: {}", r.reference, r.reason);
    }
    for m in &report.missing {
        println!("  ? primary document {m} is missing from the container");
    }
    for u in &report.plan_units_created {
        println!(
            "  + plan unit {u}{}",
            if report.dry_run {
                " (would be added)"
            } else {
                ""
            }
        );
    }
    if report.dry_run {
        let p = &report.planned;
        println!(
            "  would create {} Akten, {} Vorgänge, {} documents with {} versions, {} bytes",
            p.files, p.cases, p.documents, p.versions, p.bytes
        );
        if let Some(seconds) = p.estimated_seconds {
            println!("  estimated duration of the import: {}", duration(seconds));
        }
    }
}

/// Runs `work` as a token of its own for `tenant` (audited as `token:akta import`), revoked
/// when it ends, however it ends.
async fn as_import_token<T>(
    core: &Core,
    tenant: TenantId,
    work: impl AsyncFnOnce(&akta_domain::Principal) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let (row, token) = core
        .create_token(tenant, Role::Admin, "akta import", "cli")
        .await?;
    let who = core
        .authenticate_token(&token)
        .await?
        .context("the import token does not authenticate")?;
    let result = work(&who).await;
    core.revoke_token(&who, row.id).await?;
    result
}

pub struct Options<'a> {
    pub tenant: &'a str,
    pub dry_run: bool,
    pub plan_map: Option<&'a Path>,
    pub create_plan_units: bool,
    pub paths: &'a [PathBuf],
}

pub async fn xdomea(core: &Core, options: Options<'_>) -> anyhow::Result<()> {
    if options.paths.is_empty() {
        bail!("name at least one message (zip, xml or directory)");
    }
    let tenant = core
        .tenant_by_slug(options.tenant)
        .await
        .with_context(|| format!("no tenant '{}'", options.tenant))?;
    let plan = ImportPlan {
        into: None,
        plan_map: options
            .plan_map
            .map(plan_map)
            .transpose()?
            .unwrap_or_default(),
        create_plan_units: options.create_plan_units,
        dry_run: options.dry_run,
    };
    let totals = as_import_token(core, TenantId(tenant.id), async |who| {
        let mut totals = (0usize, 0usize, 0usize);
        for path in options.paths {
            let owned = path.clone();
            let input = tokio::task::spawn_blocking(move || ImportInput::open(&owned))
                .await?
                .with_context(|| format!("importing {}", path.display()))?;
            let report = run_import(core, who, &input, &plan, path)
                .await
                .with_context(|| format!("importing {}", path.display()))?;
            print_report(path, &report);
            totals.0 += if report.dry_run {
                report.planned.files
            } else {
                report.files.len()
            };
            totals.1 += report.skipped.len();
            totals.2 += report.refused.len();
        }
        Ok(totals)
    })
    .await?;
    let verb = if options.dry_run {
        "would create"
    } else {
        "created"
    };
    println!(
        "{verb} {}, skipped {}, refused {}",
        totals.0, totals.1, totals.2
    );
    if totals.2 > 0 {
        return Err(Refused(totals.2).into());
    }
    Ok(())
}

/// One row of a folder manifest.
struct Row {
    line: usize,
    path: String,
    plan_code: String,
    file_subject: String,
    case_subject: String,
    title: String,
    date: Option<time::Date>,
    kind: String,
    /// The manifest's further columns (name, value), kept as the document's metadata.
    extra: Vec<(String, String)>,
}

/// RFC 4180 fields of one line (quotes, doubled quotes inside).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A stable id for a manifest's object, so that running the same manifest again finds what
/// came in before.
fn stable_id(key: &str) -> uuid::Uuid {
    let digest = openssl::sha::sha256(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

const MANIFEST_HEADER: [&str; 7] = [
    "path",
    "plan_code",
    "file_subject",
    "case_subject",
    "title",
    "date",
    "kind",
];

fn read_manifest(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the manifest {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = lines
        .next()
        .map(|(_, l)| csv_fields(l))
        .context("the manifest is empty")?;
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let mut index = Vec::new();
    for name in MANIFEST_HEADER {
        index.push(column(name).with_context(|| {
            format!(
                "the manifest's header lacks '{name}' (expected {})",
                MANIFEST_HEADER.join(",")
            )
        })?);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(line);
        let get = |k: usize| {
            fields
                .get(index[k])
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let date = get(5);
        rows.push(Row {
            line: i + 1,
            path: get(0),
            plan_code: get(1),
            file_subject: get(2),
            case_subject: get(3),
            title: get(4),
            date: if date.is_empty() {
                None
            } else {
                Some(time::Date::parse(&date, &format).with_context(|| {
                    format!(
                        "{} line {}: date '{date}' is not YYYY-MM-DD",
                        path.display(),
                        i + 1
                    )
                })?)
            },
            kind: get(6),
            extra: header
                .iter()
                .enumerate()
                .filter(|(k, _)| !index.contains(k))
                .filter_map(|(k, name)| {
                    let value = fields.get(k)?.trim();
                    (!value.is_empty() && !name.trim().is_empty())
                        .then(|| (name.trim().to_owned(), value.to_owned()))
                })
                .collect(),
        });
    }
    Ok(rows)
}

/// The manifest's files as the import engine's input (one Akte per plan code and Akte
/// subject, with stable ids so that a second run finds what the first brought in); rows whose
/// file is missing or leaves the manifest's directory are returned as refusals.
fn folder_input(manifest: &Path) -> anyhow::Result<(ImportInput, Vec<(usize, String)>)> {
    use akta_xdomea::model::*;
    let base = manifest
        .parent()
        .context("the manifest has no directory")?
        .canonicalize()?;
    let rows = read_manifest(manifest)?;
    let mut refused = Vec::new();
    let mut files: Vec<FileObject> = Vec::new();
    let mut payload: HashMap<String, PathBuf> = HashMap::new();
    let mut document_metadata = HashMap::new();
    let keep = Retention {
        keep: Keep::Unlimited,
        rating: Rating::B,
        ends: None,
    };
    for row in rows {
        let source = base.join(&row.path);
        let inside = std::fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_file())
            && source.canonicalize().is_ok_and(|p| p.starts_with(&base));
        if !inside {
            refused.push((
                row.line,
                format!(
                    "{}: no regular file inside the manifest's directory",
                    row.path
                ),
            ));
            continue;
        }
        if row.plan_code.is_empty() || row.file_subject.is_empty() {
            refused.push((row.line, "plan_code and file_subject are required".into()));
            continue;
        }
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let modified = std::fs::metadata(&source)
            .and_then(|m| m.modified())
            .map(time::OffsetDateTime::from)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let doc_id = stable_id(&format!("doc|{}", row.path));
        let entry = format!("{doc_id}_{}", payload.len());
        payload.insert(entry.clone(), source.clone());
        let mut metadata = serde_json::Map::new();
        metadata.insert("pfad".into(), row.path.clone().into());
        for (name, value) in &row.extra {
            metadata.insert(name.clone(), value.clone().into());
        }
        document_metadata.insert(doc_id, metadata);
        let document = DocumentObject {
            id: doc_id,
            title: if row.title.is_empty() {
                name.clone()
            } else {
                row.title.clone()
            },
            kind: row.kind.clone(),
            received_on: None,
            sent_on: None,
            // The manifest's date, else the file's own.
            dated: row.date.or(Some(modified.date())),
            sender: None,
            recipient: None,
            versions: vec![VersionObject {
                number: 1,
                file_name: entry,
                original_name: name,
                format_code: format_code("", &row.path).to_owned(),
                created: modified,
                created_by: String::new(),
            }],
        };
        let file_id = stable_id(&format!("akte|{}|{}", row.plan_code, row.file_subject));
        let position = match files.iter().position(|f| f.id == file_id) {
            Some(p) => p,
            None => {
                files.push(FileObject {
                    id: file_id,
                    reference: row.file_subject.clone(),
                    subject: row.file_subject.clone(),
                    confidentiality: Confidentiality::Open,
                    lead: None,
                    plan_unit: Some((row.plan_code.clone(), String::new())),
                    retention: keep,
                    period_from: row.date,
                    period_to: None,
                    closed_on: None,
                    documents: Vec::new(),
                    cases: Vec::new(),
                });
                files.len() - 1
            }
        };
        let file = &mut files[position];
        if let Some(d) = row.date {
            file.period_from = Some(file.period_from.map_or(d, |p| p.min(d)));
        }
        if row.case_subject.is_empty() {
            file.documents.push(document);
        } else {
            let case_id = stable_id(&format!(
                "case|{}|{}|{}",
                row.plan_code, row.file_subject, row.case_subject
            ));
            match file.cases.iter_mut().find(|c| c.id == case_id) {
                Some(case) => case.documents.push(document),
                None => file.cases.push(CaseObject {
                    id: case_id,
                    reference: row.case_subject.clone(),
                    subject: row.case_subject.clone(),
                    retention: keep,
                    closed_on: None,
                    period_from: None,
                    documents: vec![document],
                }),
            }
        }
    }
    let input = ImportInput {
        files,
        entries: Entries::Files(payload),
        source: manifest.display().to_string(),
        message_id: None,
        document_metadata,
    };
    Ok((input, refused))
}

/// `akta import folder`: the files a manifest names, as Akten, Vorgänge and Dokumente.
pub async fn folder(
    core: &Core,
    tenant: &str,
    manifest: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let tenant = core
        .tenant_by_slug(tenant)
        .await
        .with_context(|| format!("no tenant '{tenant}'"))?;
    let owned = manifest.to_owned();
    let (input, refused_rows) = tokio::task::spawn_blocking(move || folder_input(&owned)).await??;
    let plan = ImportPlan {
        dry_run,
        ..ImportPlan::default()
    };
    let report = as_import_token(core, TenantId(tenant.id), async |who| {
        run_import(core, who, &input, &plan, manifest).await
    })
    .await?;
    print_report(manifest, &report);
    for (line, reason) in &refused_rows {
        println!("  ! line {line}: {reason}");
    }
    let created = if dry_run {
        report.planned.files
    } else {
        report.files.len()
    };
    let refused = report.refused.len() + refused_rows.len();
    let verb = if dry_run { "would create" } else { "created" };
    println!(
        "{verb} {created}, skipped {}, refused {refused}",
        report.skipped.len()
    );
    if refused > 0 {
        return Err(Refused(refused).into());
    }
    Ok(())
}
