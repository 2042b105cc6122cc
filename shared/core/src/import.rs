//! Taking Akten in from an xdomea container (`Aussonderung.Aussonderung.0503` or
//! `Abgabe.Abgabe.0401`, 3.0.0 or 3.1.0): each Akte becomes a new Akte under the chosen plan
//! unit (with Akta's own Aktenzeichen; the previous one kept as metadata), its Vorgänge and
//! Dokumente with every version, dates, sender and recipient, through the same core
//! operations as any filing (sealed, audited, extracted, indexed). A container's checksum
//! list is verified before anything is written; a primary document missing from the
//! container is reported and the rest goes in; an Akte imported before (same xdomea id) is
//! not imported twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use akta_db::{DocumentTarget, FileChanges, NewDocument, NewFile, NewPlanUnit};
use akta_domain::{Confidentiality, DocumentKind, FileName, FileStatus, PlanCode, Principal};
use akta_xdomea::model::{DocumentObject, FileObject};
use akta_xdomea::read::{parse, Container, Limits};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::{Core, CoreError};

/// Largest primary document taken from a container.
const MAX_DOCUMENT: u64 = 4 * 1024 * 1024 * 1024;

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub files: Vec<ImportedFile>,
    /// Previous Aktenzeichen of Akten that came in whole before: nothing added.
    pub skipped: Vec<String>,
    /// Akten that cannot go in, with the reason.
    pub refused: Vec<Refused>,
    /// Primary documents the message names and the container lacks.
    pub missing: Vec<String>,
    /// Plan units added (or, dry, to be added) for Akten whose unit the plan lacked.
    pub plan_units_created: Vec<String>,
    /// A dry run's counts of what would be created.
    pub planned: Planned,
    pub documents: usize,
    pub versions: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub reference: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Planned {
    pub files: usize,
    pub cases: usize,
    pub documents: usize,
    pub versions: usize,
    pub bytes: u64,
}

impl ImportReport {
    fn count_planned(&mut self, f: &FileObject, present: &[String], sizes: &HashMap<String, u64>) {
        self.planned.files += 1;
        self.planned.cases += f.cases.len();
        for d in f
            .documents
            .iter()
            .chain(f.cases.iter().flat_map(|c| c.documents.iter()))
        {
            self.planned.documents += 1;
            for v in &d.versions {
                if present.contains(&v.file_name) {
                    self.planned.versions += 1;
                    self.planned.bytes += sizes.get(&v.file_name).copied().unwrap_or(0);
                } else {
                    self.missing.push(v.file_name.clone());
                }
            }
        }
    }
}

/// Where an import puts Akten and what it does.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// Every Akte under this plan unit (the Abgabe path); else by the message's plan codes.
    pub into: Option<Uuid>,
    /// Plan code in the message → plan code in this tenant's Aktenplan.
    pub plan_map: HashMap<String, String>,
    /// Adds plan units the tenant lacks from the message's own data; else such Akten are
    /// refused with the reason.
    pub create_plan_units: bool,
    /// Reports what would be created and refused, and writes nothing.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedFile {
    pub id: Uuid,
    pub reference: String,
    pub previous_reference: String,
    pub subject: String,
    /// The xdomea id of the Akte in the sending system.
    pub source_id: Uuid,
}

fn limits() -> Limits {
    Limits::default()
}

fn open(path: &Path) -> Result<Container<std::fs::File>, CoreError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CoreError::Internal(format!("opening the container: {e}")))?;
    Ok(Container::open(file, limits())?)
}

/// The message's Akten and the names of the primary documents present, after verifying the
/// container's checksum list (if it has one) against every listed entry.
/// The message's Akten, the names of the primary documents present and their sizes.
#[allow(clippy::type_complexity)]
fn read_container(
    path: &Path,
) -> Result<(Vec<FileObject>, Vec<String>, HashMap<String, u64>), CoreError> {
    let mut container = open(path)?;
    let xml = container.message()?;
    let message = parse(&xml, limits())?;
    let files = message.objects()?;
    let names: Vec<String> = files
        .iter()
        .flat_map(|f| {
            f.documents
                .iter()
                .chain(f.cases.iter().flat_map(|c| c.documents.iter()))
        })
        .flat_map(|d| d.versions.iter().map(|v| v.file_name.clone()))
        .collect();
    let present: Vec<String> = names
        .iter()
        .filter(|n| container.contains(n))
        .cloned()
        .collect();
    if let Some(list) = container
        .names()
        .into_iter()
        .find(|n| !n.contains('/') && n.ends_with("_Pruefsummen.sha256"))
    {
        let mut text = Vec::new();
        container.read_entry(&list, 16 * 1024 * 1024, |chunk| {
            text.extend_from_slice(chunk);
            Ok(())
        })?;
        for line in String::from_utf8_lossy(&text).lines() {
            let Some((sum, name)) = line.split_once("  ") else {
                continue;
            };
            if !present.iter().any(|p| p == name) {
                continue;
            }
            let mut hasher = openssl::sha::Sha256::new();
            container.read_entry(name, MAX_DOCUMENT, |chunk| {
                hasher.update(chunk);
                Ok(())
            })?;
            if hex::encode(hasher.finish()) != sum.trim() {
                return Err(CoreError::validation(
                    "message",
                    format!("{name}: its content does not match its checksum"),
                ));
            }
        }
    }
    let sizes = present
        .iter()
        .filter_map(|n| container.size_of(n).map(|s| (n.clone(), s)))
        .collect();
    Ok((files, present, sizes))
}

/// The entry `name` as a stream of chunks, read on a blocking thread.
fn entry_stream(
    path: PathBuf,
    name: String,
) -> tokio_stream::wrappers::ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let sent = (|| {
            let mut container = open(&path).map_err(|e| e.to_string())?;
            container
                .read_entry(&name, MAX_DOCUMENT, |chunk| {
                    tx.blocking_send(Ok(Bytes::copy_from_slice(chunk)))
                        .map_err(|_| akta_xdomea::XdomeaError::Write("reader gone".into()))
                })
                .map_err(|e| e.to_string())
        })();
        if let Err(e) = sent {
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Writes a request body to a private temporary file (never held in memory whole); the
/// directory lives as long as the returned guard.
async fn spool<S, E>(mut body: S) -> Result<(tempfile::TempDir, PathBuf), CoreError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let io = |e: std::io::Error| CoreError::Internal(format!("temporary file: {e}"));
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join("container.zip");
    let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| CoreError::UploadInterrupted(e.to_string()))?;
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok((dir, path))
}

fn media_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// A file name Akta takes: the original if it is one, else its safe characters.
fn file_name(original: &str, fallback: &str) -> String {
    if FileName::parse(original).is_ok() {
        return original.to_owned();
    }
    let safe: String = original
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .collect();
    match FileName::parse(safe.trim()) {
        Ok(n) => n.as_str().to_owned(),
        Err(_) => fallback.to_owned(),
    }
}

fn kind_of(text: &str) -> DocumentKind {
    DocumentKind::parse(text).unwrap_or(DocumentKind::Other)
}

impl Core {
    /// Starts an import of a container that arrives as a stream (a request body) as a
    /// background job of this node: the body is stored first, then the job runs; its state
    /// and report are read with [`Core::import_job`]. An import that stopped with its node is
    /// started again the same way and resumes (see [`Core::import_with`]).
    pub async fn start_import<S, E>(
        &self,
        who: &Principal,
        body: S,
        plan: ImportPlan,
    ) -> Result<Uuid, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if !matches!(who.tenant_role(), Some((_, akta_domain::Role::Admin))) || !who.can_write() {
            return Err(CoreError::Forbidden(
                "imports are started by a tenant admin",
            ));
        }
        let (dir, path) = spool(body).await?;
        let id = Uuid::now_v7();
        self.as_caller(who, async |tx| tx.insert_import(id, plan.dry_run).await)
            .await?;
        let (core, who) = (self.clone(), who.clone());
        tokio::spawn(async move {
            let outcome = core.import_with(&who, &path, &plan).await;
            drop(dir);
            let (report, error) = match outcome {
                Ok(report) => (serde_json::to_value(&report).ok(), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let finished = core
                .as_caller(&who, async |tx| {
                    tx.finish_import(id, report.as_ref(), error.as_deref())
                        .await
                })
                .await;
            if let Err(e) = finished {
                tracing::warn!(import = %id, error = %e, "the import's report could not be stored");
            }
        });
        Ok(id)
    }

    /// An import's state and, once finished, its report.
    pub async fn import_job(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<akta_db::repo::imports::ImportJob, CoreError> {
        self.as_caller(who, async |tx| tx.import_job(id).await)
            .await
    }

    /// Imports a container that arrives as a stream (a request body): it is written to a
    /// private temporary file first, never held in memory whole.
    pub async fn import_transfer_from<S, E>(
        &self,
        who: &Principal,
        plan_unit_id: Uuid,
        body: S,
    ) -> Result<ImportReport, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "importing records needs a role that writes",
            ));
        }
        let (_dir, path) = spool(body).await?;
        self.import_transfer(who, plan_unit_id, &path).await
    }

    /// Imports the Akten of the container at `path` under `plan_unit_id` for `who` (the Abgabe
    /// path: one plan unit for everything).
    pub async fn import_transfer(
        &self,
        who: &Principal,
        plan_unit_id: Uuid,
        path: &Path,
    ) -> Result<ImportReport, CoreError> {
        let plan = ImportPlan {
            into: Some(plan_unit_id),
            ..ImportPlan::default()
        };
        self.import_with(who, path, &plan).await
    }

    /// Imports the Akten of the container at `path`, each under the plan unit `plan` says (by
    /// the message's Aktenplaneinheit, mapped), or only reports what it would do (`dry_run`).
    /// Resumable: an Akte, Vorgang, Dokument or version that came in before (same xdomea id,
    /// same version count) is not created again, so a run that stopped half-way finishes
    /// where it stopped when run again.
    pub async fn import_with(
        &self,
        who: &Principal,
        path: &Path,
        plan: &ImportPlan,
    ) -> Result<ImportReport, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "importing records needs a role that writes",
            ));
        }
        if let Some(unit) = plan.into {
            // The target first: another tenant's or a missing plan unit answers 404 at once.
            self.plan_unit(who, unit).await?;
        }
        let owned = path.to_owned();
        let (files, present, sizes) = tokio::task::spawn_blocking(move || read_container(&owned))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))??;
        let mut units = self.unit_codes(who).await?;
        let mut report = ImportReport {
            dry_run: plan.dry_run,
            ..ImportReport::default()
        };
        for f in files {
            let unit = match self.unit_for(who, &f, plan, &mut units, &mut report).await {
                Ok(unit) => unit,
                Err(reason) => {
                    report.refused.push(Refused {
                        reference: f.reference.clone(),
                        reason,
                    });
                    continue;
                }
            };
            if plan.dry_run {
                report.count_planned(&f, &present, &sizes);
                continue;
            }
            let before = (report.documents, report.versions);
            let existing = self
                .as_caller(who, async |tx| {
                    tx.file_with_metadata("xdomea_id", &f.id.to_string()).await
                })
                .await?;
            let akte = match existing {
                Some(id) => self.file(who, id).await?,
                None => {
                    let mut metadata = Map::new();
                    metadata.insert("vorheriges_aktenzeichen".into(), json!(f.reference));
                    metadata.insert("xdomea_id".into(), json!(f.id));
                    self.create_file(
                        who,
                        NewFile {
                            plan_unit_id: unit,
                            subject: f.subject.clone(),
                            lead_org_unit_id: None,
                            confidentiality: match f.confidentiality {
                                akta_xdomea::model::Confidentiality::Open => {
                                    Confidentiality::Normal
                                }
                                _ => Confidentiality::Confidential,
                            },
                            period_from: f.period_from,
                            metadata,
                        },
                    )
                    .await?
                }
            };
            let open = akte.status == FileStatus::Open.as_str();
            if open {
                for d in &f.documents {
                    self.import_document(
                        who,
                        akte.id,
                        DocumentTarget::File(akte.id),
                        d,
                        path,
                        &present,
                        &mut report,
                    )
                    .await?;
                }
                for c in &f.cases {
                    let found = self
                        .as_caller(who, async |tx| {
                            tx.case_with_metadata(akte.id, "xdomea_id", &c.id.to_string())
                                .await
                        })
                        .await?;
                    let case = match found {
                        Some(id) => id,
                        None => {
                            let mut metadata = Map::new();
                            metadata
                                .insert("vorheriges_vorgangszeichen".into(), json!(c.reference));
                            metadata.insert("xdomea_id".into(), json!(c.id));
                            self.create_case(who, akte.id, &c.subject, metadata)
                                .await?
                                .id
                        }
                    };
                    for d in &c.documents {
                        self.import_document(
                            who,
                            akte.id,
                            DocumentTarget::Case(case),
                            d,
                            path,
                            &present,
                            &mut report,
                        )
                        .await?;
                    }
                }
                if let Some(closed_on) = f.closed_on {
                    self.close_imported(who, akte.id, closed_on).await?;
                }
            }
            if existing.is_some() && before == (report.documents, report.versions) {
                // Came in whole before: nothing was added.
                report.skipped.push(f.reference.clone());
                continue;
            }
            report.files.push(ImportedFile {
                id: akte.id,
                reference: akte.reference.clone(),
                previous_reference: f.reference.clone(),
                subject: akte.subject.clone(),
                source_id: f.id,
            });
        }
        Ok(report)
    }

    /// The tenant's plan units by code.
    async fn unit_codes(&self, who: &Principal) -> Result<HashMap<String, Uuid>, CoreError> {
        self.as_caller(who, async |tx| tx.all_plan_units().await)
            .await
            .map(|units| units.into_iter().map(|u| (u.code, u.id)).collect())
    }

    /// The plan unit an Akte goes into, or why it cannot go in.
    async fn unit_for(
        &self,
        who: &Principal,
        f: &FileObject,
        plan: &ImportPlan,
        units: &mut HashMap<String, Uuid>,
        report: &mut ImportReport,
    ) -> Result<Uuid, String> {
        if let Some(unit) = plan.into {
            return Ok(unit);
        }
        let Some((code, title)) = &f.plan_unit else {
            return Err("the message names no Aktenplaneinheit for it".into());
        };
        let code = plan.plan_map.get(code).unwrap_or(code).clone();
        if let Some(id) = units.get(&code) {
            return Ok(*id);
        }
        if !plan.create_plan_units {
            return Err(format!(
                "plan unit {code} is not in the Aktenplan (map it with --plan-map or add it with --create-plan-units)"
            ));
        }
        // Under the longest code of the plan that the new code extends.
        let parent = units
            .iter()
            .filter(|(c, _)| code.starts_with(c.as_str()) && c.len() < code.len())
            .max_by_key(|(c, _)| c.len())
            .map(|(_, id)| *id);
        let parsed =
            PlanCode::parse(&code).map_err(|e| format!("plan unit {code}: {}", e.message))?;
        let title = if title.trim().is_empty() {
            code.clone()
        } else {
            title.clone()
        };
        report.plan_units_created.push(code.clone());
        if plan.dry_run {
            // Counted as if it were there, so the Akten under it count as going in.
            units.insert(code, Uuid::nil());
            return Ok(Uuid::nil());
        }
        let created = self
            .create_plan_unit(
                who,
                NewPlanUnit {
                    code: parsed,
                    title,
                    parent_id: parent,
                    retention: None,
                    disposition: None,
                },
            )
            .await
            .map_err(|e| format!("plan unit {code} could not be added: {e}"))?;
        units.insert(code, created.id);
        Ok(created.id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_document(
        &self,
        who: &Principal,
        file: Uuid,
        target: DocumentTarget,
        d: &DocumentObject,
        path: &Path,
        present: &[String],
        report: &mut ImportReport,
    ) -> Result<(), CoreError> {
        // Resuming: a Dokument that came in before keeps its versions; only later ones follow.
        let found = self
            .as_caller(who, async |tx| {
                tx.document_with_metadata(file, "xdomea_id", &d.id.to_string())
                    .await
            })
            .await?;
        let (mut document, have) = match found {
            Some((id, versions)) => (Some(id), usize::try_from(versions).unwrap_or(0)),
            None => (None, 0),
        };
        let mut added = false;
        for v in d.versions.iter().skip(have) {
            if !present.contains(&v.file_name) {
                report.missing.push(v.file_name.clone());
                continue;
            }
            let name = file_name(&v.original_name, &v.file_name);
            let media = media_type(&name);
            let body = entry_stream(path.to_owned(), v.file_name.clone());
            let stored = match document {
                None => {
                    let mut metadata = Map::new();
                    metadata.insert("xdomea_id".into(), json!(d.id));
                    if !d.kind.is_empty() {
                        metadata.insert("dokumenttyp".into(), Value::String(d.kind.clone()));
                    }
                    let created = self
                        .file_document(
                            who,
                            target,
                            NewDocument {
                                title: d.title.clone(),
                                kind: kind_of(&d.kind),
                                sender: d.sender.clone(),
                                recipient: d.recipient.clone(),
                                document_date: d.dated.or(d.received_on).or(d.sent_on),
                                metadata,
                            },
                            &name,
                            Some(media),
                            body,
                        )
                        .await?;
                    document = Some(created.id);
                    created.versions.last().map(|v| v.size_bytes)
                }
                Some(id) => Some(
                    self.file_version(who, id, &name, Some(media), body)
                        .await?
                        .size_bytes,
                ),
            };
            added = true;
            report.versions += 1;
            report.bytes += stored.map_or(0, |b| u64::try_from(b).unwrap_or(0));
        }
        if added && have == 0 {
            report.documents += 1;
        }
        Ok(())
    }

    /// Closes an imported Akte on the day it was closed where it came from (imports may give
    /// a past date, like admins).
    async fn close_imported(
        &self,
        who: &Principal,
        id: Uuid,
        closed_on: time::Date,
    ) -> Result<(), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let current = tx.file_locked(id, akta_db::Lock::Update).await?;
        let today = crate::retention::today();
        let closed_on =
            akta_domain::retention::check_closed_on(closed_on, today)?.max(current.period_from);
        tx.update_file(
            id,
            current.row_version,
            FileChanges {
                status: Some(FileStatus::Closed),
                closed_on: Some(closed_on),
                ..FileChanges::default()
            },
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
