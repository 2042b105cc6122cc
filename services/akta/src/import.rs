//! `akta import xdomea`: Akten from other systems' xdomea messages (0503 or 0401, 3.0.0 or
//! 3.1.0; a zip, or the XML beside its primary documents in a directory) into a tenant,
//! through the core's import engine: placed by the message's plan codes (mapped with
//! `--plan-map`, missing units added with `--create-plan-units`), resumable, and with a dry
//! run that writes nothing. Exit code 0 when everything went in, 1 when something was
//! refused, 2 on a usage or environment error; the last line is the summary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use akta_core::import::{ImportInput, ImportPlan, ImportReport, Progress};
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

/// Runs one import of what `open` reads for `who`: kept as an import of the tenant (its
/// progress and report can be read over REST and in the web UI), with a progress bar on a
/// terminal.
async fn run_import(
    core: &Core,
    who: &akta_domain::Principal,
    plan: &ImportPlan,
    source: &Path,
    open: impl FnOnce() -> Result<ImportInput, akta_core::CoreError> + Send + 'static,
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
    let show = |p: Progress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    };
    let outcome = core.run_kept(who, id, plan, open, Some(&show)).await;
    bar.finish_and_clear();
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
            let report = run_import(core, who, &plan, path, move || ImportInput::open(&owned))
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
    let plan = ImportPlan {
        dry_run,
        ..ImportPlan::default()
    };
    let report = as_import_token(core, TenantId(tenant.id), async |who| {
        run_import(core, who, &plan, manifest, move || {
            ImportInput::manifest(&owned)
        })
        .await
    })
    .await?;
    print_report(manifest, &report);
    let created = if dry_run {
        report.planned.files
    } else {
        report.files.len()
    };
    let refused = report.refused.len();
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
