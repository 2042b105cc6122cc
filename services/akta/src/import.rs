//! `akta import xdomea`: Akten from other systems' xdomea messages (0503 or 0401, 3.0.0 or
//! 3.1.0; a zip, or the XML beside its primary documents in a directory) into a tenant,
//! through the core's import engine: placed by the message's plan codes (mapped with
//! `--plan-map`, missing units added with `--create-plan-units`), resumable, and with a dry
//! run that writes nothing. Exit code 0 when everything went in, 1 when something was
//! refused, 2 on a usage or environment error; the last line is the summary.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use akta_core::import::{ImportPlan, ImportReport};
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

/// The message as a container: a zip as it is, a directory (or the directory of an XML file)
/// packed into a temporary zip of its files.
fn container(path: &Path, scratch: &Path) -> anyhow::Result<PathBuf> {
    let dir = if path.is_dir() {
        path.to_owned()
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    {
        path.parent().map(Path::to_owned).unwrap_or_default()
    } else {
        if !path.is_file() {
            bail!("{} does not exist", path.display());
        }
        return Ok(path.to_owned());
    };
    let packed = scratch.join(format!("{}.zip", uuid::Uuid::new_v4()));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&packed)?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        // Only the directory's own regular files: a symlink could lead out of the tree.
        let kind = std::fs::symlink_metadata(entry.path())?.file_type();
        if !kind.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        zip.start_file(name, options)?;
        std::io::copy(&mut std::fs::File::open(entry.path())?, &mut zip)?;
    }
    zip.finish()?.flush()?;
    Ok(packed)
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
    }
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
    // The import acts through a token of its own, audited as `token:akta import`, revoked
    // when it ends.
    let (token_row, token) = core
        .create_token(TenantId(tenant.id), Role::Admin, "akta import", "cli")
        .await?;
    let who = core
        .authenticate_token(&token)
        .await?
        .context("the import token does not authenticate")?;
    let scratch = tempfile::tempdir()?;
    let mut totals = (0usize, 0usize, 0usize);
    let mut outcome = Ok(());
    for path in options.paths {
        let run = async {
            let packed = container(path, scratch.path())?;
            Ok::<_, anyhow::Error>(core.import_with(&who, &packed, &plan).await?)
        }
        .await;
        match run {
            Ok(report) => {
                print_report(path, &report);
                totals.0 += if report.dry_run {
                    report.planned.files
                } else {
                    report.files.len()
                };
                totals.1 += report.skipped.len();
                totals.2 += report.refused.len();
            }
            Err(e) => {
                outcome = Err(e.context(format!("importing {}", path.display())));
                break;
            }
        }
    }
    core.revoke_token(&who, token_row.id).await?;
    outcome?;
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
