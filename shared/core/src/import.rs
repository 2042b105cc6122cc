//! Taking Akten in from other systems: an xdomea container (`Aussonderung.Aussonderung.0503`
//! or `Abgabe.Abgabe.0401`, 3.0.0 or 3.1.0; a zip, or the XML beside its primary documents)
//! or a file share's tree described as the same objects (see the CLI's manifest). Each Akte
//! becomes a new Akte under the chosen plan unit (with Akta's own Aktenzeichen; the previous
//! one kept as metadata), its Vorgänge and Dokumente with every version, dates, sender and
//! recipient, through the same filing as any upload (sealed, audited as imported with their
//! source, extracted, indexed).
//!
//! One engine for every source. It works in batches: up to [`BATCH`] versions are streamed
//! into the blob store [`PARALLEL_WRITES`] at a time and filed in one transaction, so memory
//! stays bounded whatever the size of the import. A container's checksum list is verified
//! before anything is written; a primary document missing from the container is reported
//! and the rest goes in. Resumable: an Akte, Vorgang, Dokument or version that came in
//! before (same xdomea id, same version count) is not created again, so a run that stopped
//! half-way (even killed) finishes where it stopped when run again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use akta_db::{DocumentTarget, FileChanges, NewDocument, NewFile, NewPlanUnit};
use akta_domain::{Confidentiality, DocumentKind, FileName, FileStatus, PlanCode, Principal};
use akta_xdomea::model::{DocumentObject, FileObject, VersionObject};
use akta_xdomea::read::{parse, Container, Limits};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::filing::{Filing, StoredBlob};

mod manifest;

use crate::{Core, CoreError};
pub use akta_db::repo::imports::ImportJob;

/// Largest primary document taken from a container.
const MAX_DOCUMENT: u64 = 4 * 1024 * 1024 * 1024;

/// Versions filed per transaction: large enough that a commit's cost spreads thin, small
/// enough that an interrupted batch costs little and memory stays bounded.
const BATCH: usize = 200;

/// Blobs written at once within a batch.
const PARALLEL_WRITES: usize = 8;

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub files: Vec<ImportedFile>,
    /// Previous Aktenzeichen of Akten that came in whole before: nothing added.
    pub skipped: Vec<String>,
    /// Akten (or single documents) that cannot go in, with the reason.
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
    /// Estimated duration of the import itself, from a sample read and sealed as the import
    /// would (extraction and indexing follow in the background).
    pub estimated_seconds: Option<f64>,
}

/// How far an import is: versions (files) and bytes done of the total.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub bytes_total: u64,
    pub bytes_done: u64,
}

/// Told of the progress after every batch.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Send + Sync);

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

/// Where the primary documents of an import are read from.
pub enum Entries {
    /// A zip container, opened once and read entry by entry.
    Zip(Arc<Mutex<Container<std::fs::File>>>),
    /// Regular files on disk by entry name (a message beside its folder); whoever builds
    /// the map has checked that each lies inside its tree.
    Files(HashMap<String, PathBuf>),
    /// A manifest's tree (its canonical directory): entry names are paths relative to it,
    /// checked to be regular files inside it when the manifest was read and again on every
    /// use (the manifest is read twice, and a file may have become a symlink meanwhile).
    Tree(PathBuf),
}

/// The Akten of an import: a message's, parsed whole (the reader's limits bound a
/// message), or a manifest's, read one Akte at a time.
pub enum Akten {
    Message(Vec<FileObject>),
    Manifest(manifest::Index),
}

/// One Akte to import, with further metadata of its documents (by xdomea id), e.g. a
/// manifest's own columns.
pub struct AkteInput<'a> {
    pub file: std::borrow::Cow<'a, FileObject>,
    pub metadata: HashMap<Uuid, Map<String, Value>>,
}

/// What an import reads: the Akten, their primary documents, and what the audit entries
/// name as the source.
pub struct ImportInput {
    pub files: Akten,
    pub entries: Entries,
    /// A file name or path, recorded with every audit entry of the import.
    pub source: String,
    /// The message's process id, where there is a message.
    pub message_id: Option<Uuid>,
    /// What the source itself could not describe (a manifest's bad lines): reported as
    /// refused, the rest goes in.
    pub refused: Vec<Refused>,
}

fn limits() -> Limits {
    Limits::default()
}

fn versions_of(f: &FileObject) -> impl Iterator<Item = &DocumentObject> {
    f.documents
        .iter()
        .chain(f.cases.iter().flat_map(|c| c.documents.iter()))
}

fn io_error(context: &str) -> impl Fn(std::io::Error) -> CoreError + '_ {
    move |e| CoreError::validation("message", format!("{context}: {e}"))
}

/// A message file in a directory: the one `*.xml` at its top (one message per directory).
fn message_in(dir: &Path) -> Result<(PathBuf, HashMap<String, PathBuf>), CoreError> {
    let mut message = None;
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(dir).map_err(io_error("reading the directory"))? {
        let entry = entry.map_err(io_error("reading the directory"))?;
        // Only the directory's own regular files: a symlink could lead out of the tree.
        let kind = std::fs::symlink_metadata(entry.path())
            .map_err(io_error("reading the directory"))?
            .file_type();
        if !kind.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.to_ascii_lowercase().ends_with(".xml") {
            if message.is_some() {
                return Err(CoreError::validation(
                    "message",
                    "more than one message (*.xml) in the directory",
                ));
            }
            message = Some(entry.path());
        } else {
            files.insert(name, entry.path());
        }
    }
    let message = message
        .ok_or_else(|| CoreError::validation("message", "no message (*.xml) in the directory"))?;
    Ok((message, files))
}

impl ImportInput {
    /// An xdomea message: a zip container, a directory holding the message and its primary
    /// documents, or the message's XML file in such a directory. The container's checksum
    /// list, where it has one, is verified against every listed entry first.
    pub fn open(path: &Path) -> Result<ImportInput, CoreError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| CoreError::validation("message", format!("{}: {e}", path.display())))?;
        let is_xml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
        let (xml, entries) = if meta.is_dir() || is_xml {
            let dir = if meta.is_dir() {
                path.to_owned()
            } else {
                path.parent().map(Path::to_owned).unwrap_or_default()
            };
            let (message, files) = message_in(&dir)?;
            let size = std::fs::metadata(&message)
                .map_err(io_error("the message"))?
                .len();
            if size > limits().max_bytes as u64 {
                return Err(CoreError::validation(
                    "message",
                    format!("the message is larger than {} bytes", limits().max_bytes),
                ));
            }
            let xml = std::fs::read(&message).map_err(io_error("the message"))?;
            (xml, Entries::Files(files))
        } else {
            let file = std::fs::File::open(path).map_err(io_error("opening the container"))?;
            let mut container = Container::open(file, limits())?;
            let xml = container.message()?;
            (xml, Entries::Zip(Arc::new(Mutex::new(container))))
        };
        let message = parse(&xml, limits())?;
        let message_id = message.head().ok().map(|h| h.process_id);
        let input = ImportInput {
            files: Akten::Message(message.objects()?),
            entries,
            source: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            message_id,
            refused: Vec::new(),
        };
        input.verify_checksums()?;
        Ok(input)
    }

    /// The files a CSV manifest names (see the `manifest` module): path relative to the
    /// manifest, plan code, Akte and Vorgang subject, title, date, kind, and further columns
    /// kept as metadata. Lines naming no regular file inside the manifest's directory are
    /// refused by line.
    pub fn manifest(path: &Path) -> Result<ImportInput, CoreError> {
        manifest::folder_input(path)
    }

    /// Checks the container's `*_Pruefsummen.sha256` list (if any) against the entries it
    /// names that the message uses.
    fn verify_checksums(&self) -> Result<(), CoreError> {
        let (Entries::Zip(zip), Akten::Message(files)) = (&self.entries, &self.files) else {
            return Ok(());
        };
        let mut zip = zip
            .lock()
            .map_err(|_| CoreError::Internal("container lock".into()))?;
        let Some(list) = zip
            .names()
            .into_iter()
            .find(|n| !n.contains('/') && n.ends_with("_Pruefsummen.sha256"))
        else {
            return Ok(());
        };
        let mut text = Vec::new();
        zip.read_entry(&list, 16 * 1024 * 1024, |chunk| {
            text.extend_from_slice(chunk);
            Ok(())
        })?;
        let used: std::collections::HashSet<&str> = files
            .iter()
            .flat_map(versions_of)
            .flat_map(|d| d.versions.iter().map(|v| v.file_name.as_str()))
            .collect();
        for line in String::from_utf8_lossy(&text).lines() {
            let Some((sum, name)) = line.split_once("  ") else {
                continue;
            };
            if !used.contains(name) || !zip.contains(name) {
                continue;
            }
            let declared = zip.size_of(name).unwrap_or(0).min(MAX_DOCUMENT);
            let mut hasher = openssl::sha::Sha256::new();
            zip.read_entry(name, declared, |chunk| {
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
        Ok(())
    }
}

impl ImportInput {
    /// The Akten one by one (a manifest's read again as the import reaches them).
    fn akten(&self) -> Box<dyn Iterator<Item = Result<AkteInput<'_>, CoreError>> + Send + '_> {
        match &self.files {
            Akten::Message(files) => Box::new(files.iter().map(|f| {
                Ok(AkteInput {
                    file: std::borrow::Cow::Borrowed(f),
                    metadata: HashMap::new(),
                })
            })),
            Akten::Manifest(index) => Box::new(index.akten()),
        }
    }

    /// The versions whose content is there, and their bytes.
    fn totals(&self) -> (usize, u64) {
        match &self.files {
            Akten::Message(files) => files
                .iter()
                .flat_map(versions_of)
                .flat_map(|d| d.versions.iter())
                .filter_map(|v| self.entries.size_of(&v.file_name))
                .fold((0, 0), |(n, bytes), size| (n + 1, bytes + size)),
            Akten::Manifest(index) => (index.versions, index.bytes),
        }
    }
}

impl Entries {
    fn path_of(&self, name: &str) -> Option<PathBuf> {
        match self {
            Entries::Zip(_) => None,
            Entries::Files(files) => files.get(name).cloned(),
            Entries::Tree(base) => {
                let path = base.join(name);
                let inside = path.canonicalize().ok()?.starts_with(base);
                inside.then_some(path)
            }
        }
    }

    fn size_of(&self, name: &str) -> Option<u64> {
        match self {
            Entries::Zip(zip) => zip.lock().ok()?.size_of(name),
            _ => std::fs::symlink_metadata(self.path_of(name)?)
                .ok()
                .filter(|m| m.file_type().is_file())
                .map(|m| m.len()),
        }
    }

    /// The entry as a stream of chunks, read on a blocking thread; at most `MAX_DOCUMENT`
    /// bytes and, in a zip, never more than the entry declares (a zip bomb stops there).
    fn stream(&self, name: &str) -> ReceiverStream<Result<Bytes, std::io::Error>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let name = name.to_owned();
        let source = match self {
            Entries::Zip(zip) => Ok(zip.clone()),
            _ => Err(self.path_of(&name)),
        };
        tokio::task::spawn_blocking(move || {
            let send = |chunk: &[u8]| {
                tx.blocking_send(Ok(Bytes::copy_from_slice(chunk)))
                    .map_err(|_| "the reader is gone".to_owned())
            };
            let read = match source {
                Ok(zip) => (|| {
                    let mut zip = zip.lock().map_err(|_| "container lock".to_owned())?;
                    let declared = zip.size_of(&name).unwrap_or(0);
                    zip.read_entry(&name, declared.min(MAX_DOCUMENT), |chunk| {
                        send(chunk).map_err(akta_xdomea::XdomeaError::Write)
                    })
                    .map(|_| ())
                    .map_err(|e| e.to_string())
                })(),
                Err(path) => (|| {
                    use std::io::Read;
                    let path = path.ok_or_else(|| format!("{name} is not there"))?;
                    let mut file = std::fs::File::open(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let mut buffer = vec![0u8; 256 * 1024];
                    let mut total = 0u64;
                    loop {
                        let n = file
                            .read(&mut buffer)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        if n == 0 {
                            return Ok(());
                        }
                        total += n as u64;
                        if total > MAX_DOCUMENT {
                            return Err(format!("{name} is larger than {MAX_DOCUMENT} bytes"));
                        }
                        send(&buffer[..n])?;
                    }
                })(),
            };
            if let Err(e) = read {
                let _ = tx.blocking_send(Err(std::io::Error::other(e)));
            }
        });
        ReceiverStream::new(rx)
    }
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

pub fn media_type(name: &str) -> &'static str {
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

/// A batch's blobs as stored, each or why not.
type Stored = Vec<Result<StoredBlob, CoreError>>;

/// Streams a batch's versions into the blob store, [`PARALLEL_WRITES`] at a time.
async fn store(
    upload: &crate::filing::Upload,
    entries: &Entries,
    batch: &[Pending],
) -> Result<Stored, CoreError> {
    let bodies = batch
        .iter()
        .map(|p| {
            let name = file_name(&p.version.original_name, &p.version.file_name);
            let media = media_type(&name).to_owned();
            (name, Some(media), entries.stream(&p.version.file_name))
        })
        .collect();
    upload.store_many(bodies, PARALLEL_WRITES).await
}

/// One version waiting to be filed.
struct Pending {
    /// What it becomes: a new Dokument (its first version here) or the next version of one.
    filing: PendingFiling,
    version: VersionObject,
    /// The versions of a new Dokument that follow its first (filed once it has an id).
    later: Vec<VersionObject>,
    /// The Dokument's xdomea id, for the report and follow-ups.
    document: Uuid,
}

enum PendingFiling {
    New(DocumentTarget, Box<NewDocument>),
    Next(Uuid),
}

/// The state of one run: what waits to be filed, and what follows a filed batch.
struct Run<'a> {
    core: &'a Core,
    who: &'a Principal,
    input: &'a ImportInput,
    queue: Vec<Pending>,
    /// A batch whose blobs are stored and whose transaction has not run yet: it commits while
    /// the next batch streams into the blob store, also across calls of [`Run::flush`] (the
    /// Akten and Vorgänge of the next batch are created in between). Should the run fail
    /// before it commits, its blobs are removed by the sweeper (their upload intents).
    in_flight: Option<(Vec<Pending>, Stored)>,
    /// Akten to close once everything queued before them is filed.
    closes: Vec<(Uuid, time::Date)>,
    report: ImportReport,
    progress: Progress,
    on_progress: Option<OnProgress<'a>>,
    provenance: Value,
}

impl Run<'_> {
    fn tell(&self) {
        if let Some(on) = self.on_progress {
            on(self.progress);
        }
    }

    /// Files what is queued in full batches, or with `all` everything (follow-up versions
    /// of new Dokumente in a later batch) and then closes the Akten waiting for it. The next
    /// batch streams into the blob store while the one before it commits; without `all` the
    /// last stored batch stays in flight until the next call. A rest smaller than a batch
    /// waits for more (each batch is a transaction of its own).
    async fn flush(&mut self, all: bool) -> Result<(), CoreError> {
        let upload = self.core.upload(self.who)?;
        let input = self.input;
        loop {
            let take = if all || self.queue.len() >= BATCH {
                self.queue.len().min(BATCH)
            } else {
                0
            };
            let next: Vec<Pending> = self.queue.drain(..take).collect();
            let Some((batch, stored)) = self.in_flight.take() else {
                if next.is_empty() {
                    break;
                }
                let stored = store(&upload, &input.entries, &next).await?;
                self.in_flight = Some((next, stored));
                if !all && self.queue.len() < BATCH {
                    break;
                }
                continue;
            };
            let (filings, kept) = self.sort_out(batch, stored);
            let (filed, next_stored) = tokio::join!(
                upload.commit_many(filings, Some(self.provenance.clone())),
                async {
                    if next.is_empty() {
                        Ok(Vec::new())
                    } else {
                        store(&upload, &input.entries, &next).await
                    }
                }
            );
            let filed = match filed {
                Ok(filed) => filed,
                Err(e) => {
                    // Nothing of this batch is filed; the next one's blobs go too.
                    for blob in next_stored.into_iter().flatten().flatten() {
                        upload.discard_blob(blob).await;
                    }
                    return Err(e);
                }
            };
            self.account(kept, filed);
            self.tell();
            if !next.is_empty() {
                self.in_flight = Some((next, next_stored?));
            }
            if !all && self.queue.len() < BATCH {
                break;
            }
        }
        if all {
            for (id, closed_on) in std::mem::take(&mut self.closes) {
                self.core.close_imported(self.who, id, closed_on).await?;
            }
        }
        Ok(())
    }

    /// The stored blobs of a batch with what each becomes; a document whose blob could not
    /// be stored fails on its own (unreadable entry, bad name) and the rest goes in. Its
    /// later versions wait for a run that can read it.
    fn sort_out(
        &mut self,
        batch: Vec<Pending>,
        stored: Stored,
    ) -> (Vec<(StoredBlob, Filing)>, Vec<Pending>) {
        let mut filings = Vec::with_capacity(batch.len());
        let mut kept = Vec::with_capacity(batch.len());
        for (pending, blob) in batch.into_iter().zip(stored) {
            match blob {
                Ok(blob) => {
                    let filing = match &pending.filing {
                        PendingFiling::New(target, metadata) => Filing::Document {
                            target: *target,
                            metadata: (**metadata).clone(),
                        },
                        PendingFiling::Next(id) => Filing::Version { document_id: *id },
                    };
                    filings.push((blob, filing));
                    kept.push(pending);
                }
                Err(e) => {
                    self.progress.done += 1 + pending.later.len();
                    self.report.refused.push(Refused {
                        reference: pending.version.file_name.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        (filings, kept)
    }

    /// Counts a filed batch and queues the next versions of its new Dokumente.
    fn account(&mut self, kept: Vec<Pending>, filed: Vec<crate::filing::Filed>) {
        for (pending, filed) in kept.into_iter().zip(filed) {
            self.report.versions += 1;
            self.report.bytes += filed.size;
            self.progress.done += 1;
            self.progress.bytes_done += self
                .input
                .entries
                .size_of(&pending.version.file_name)
                .unwrap_or(filed.size);
            if matches!(pending.filing, PendingFiling::New(..)) {
                self.report.documents += 1;
            }
            let mut later = pending.later.into_iter();
            if let Some(next) = later.next() {
                self.queue.push(Pending {
                    filing: PendingFiling::Next(filed.document_id),
                    version: next,
                    later: later.collect(),
                    document: pending.document,
                });
            }
        }
    }

    /// Queues what of `d` is not in Akta yet; `have` is how many of its versions are.
    fn queue_document(
        &mut self,
        target: DocumentTarget,
        d: &DocumentObject,
        known: Option<(Uuid, i64)>,
        metadata: Option<&Map<String, Value>>,
    ) {
        let have = known.map_or(0, |(_, n)| usize::try_from(n).unwrap_or(0));
        let mut todo = Vec::new();
        for v in d.versions.iter().skip(have) {
            if self.input.entries.size_of(&v.file_name).is_some() {
                todo.push(v.clone());
            } else {
                self.report.missing.push(v.file_name.clone());
            }
        }
        let mut todo = todo.into_iter();
        let Some(first) = todo.next() else {
            return;
        };
        let filing = match known {
            Some((id, _)) => PendingFiling::Next(id),
            None => {
                let mut metadata = metadata.cloned().unwrap_or_default();
                metadata.insert("xdomea_id".into(), json!(d.id));
                if !d.kind.is_empty() {
                    metadata.insert("dokumenttyp".into(), Value::String(d.kind.clone()));
                }
                PendingFiling::New(
                    target,
                    Box::new(NewDocument {
                        title: d.title.clone(),
                        kind: kind_of(&d.kind),
                        sender: d.sender.clone(),
                        recipient: d.recipient.clone(),
                        document_date: d.dated.or(d.received_on).or(d.sent_on),
                        metadata,
                    }),
                )
            }
        };
        self.queue.push(Pending {
            filing,
            version: first,
            later: todo.collect(),
            document: d.id,
        });
    }
}

impl Core {
    /// Starts an import of a container that arrives as a stream (a request body) as a
    /// background job of this node: the body is stored first, then the job runs; its state,
    /// progress and report are read with [`Core::import_job`]. An import that stopped with
    /// its node is started again the same way and resumes (see [`Core::import_with`]).
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
        Self::require_import_admin(who)?;
        let (dir, path) = spool(body).await?;
        let id = self
            .record_import_start(who, plan.dry_run, "REST-Upload")
            .await?;
        self.spawn_kept(who, id, plan, dir, move || ImportInput::open(&path));
        Ok(id)
    }

    /// Starts an import of the manifest at `relative` under this tenant's import directory
    /// (`<import_dir>/<tenant slug>/`, set up by the operator) as a background job, like
    /// [`Core::start_import`]. Paths that leave that directory answer 422.
    pub async fn start_manifest_import(
        &self,
        who: &Principal,
        relative: &str,
        plan: ImportPlan,
    ) -> Result<Uuid, CoreError> {
        Self::require_import_admin(who)?;
        let (tenant, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        let Some(root) = &self.settings.import_dir else {
            return Err(CoreError::Conflict(
                "imports from the server's file system are not set up (AKTA_IMPORT_DIR)".into(),
            ));
        };
        let slug = self.tenant_by_id(tenant).await?.slug;
        let base = root.join(&slug);
        let outside = || {
            CoreError::validation(
                "manifest",
                format!("no manifest {relative:?} in this town's import directory"),
            )
        };
        let path = Path::new(relative);
        if relative.is_empty()
            || path.is_absolute()
            || path
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(outside());
        }
        // Resolved, so a symlink out of the town's directory is caught too.
        let manifest = match (base.canonicalize(), base.join(path).canonicalize()) {
            (Ok(b), Ok(m)) if m.starts_with(&b) && m.is_file() => m,
            _ => return Err(outside()),
        };
        let id = self
            .record_import_start(who, plan.dry_run, relative)
            .await?;
        self.spawn_kept(who, id, plan, (), move || ImportInput::manifest(&manifest));
        Ok(id)
    }

    /// Runs [`Core::run_kept`] as a background task of this node; `keep` (a spooled
    /// container's directory) lives until it ends.
    fn spawn_kept<K: Send + 'static>(
        &self,
        who: &Principal,
        id: Uuid,
        plan: ImportPlan,
        keep: K,
        open: impl FnOnce() -> Result<ImportInput, CoreError> + Send + 'static,
    ) {
        let (core, who) = (self.clone(), who.clone());
        tokio::spawn(async move {
            // The outcome is kept in the import's row.
            let _ = core.run_kept(&who, id, &plan, open, None).await;
            drop(keep);
        });
    }

    /// Runs the import recorded as `id` (see [`Core::record_import_start`]): its input opened
    /// on a blocking thread, its progress written to its row (and told to `on_progress`), its
    /// report or error kept at the end. REST, web and CLI imports all run through here.
    pub async fn run_kept(
        &self,
        who: &Principal,
        id: Uuid,
        plan: &ImportPlan,
        open: impl FnOnce() -> Result<ImportInput, CoreError> + Send + 'static,
        on_progress: Option<OnProgress<'_>>,
    ) -> Result<ImportReport, CoreError> {
        let recorder = self.progress_recorder(who, id);
        let last = std::sync::Mutex::new(None);
        let tell = |p: Progress| {
            recorder(p);
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(p);
            if let Some(on) = on_progress {
                on(p);
            }
        };
        let outcome = match tokio::task::spawn_blocking(open).await {
            Ok(Ok(input)) => self.import_input(who, &input, plan, Some(&tell)).await,
            Ok(Err(e)) => Err(e),
            Err(e) => Err(CoreError::Internal(format!("opening the import: {e}"))),
        };
        let last = *last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.record_import_end(who, id, &outcome, last).await;
        outcome
    }

    fn require_import_admin(who: &Principal) -> Result<(), CoreError> {
        if !matches!(who.tenant_role(), Some((_, akta_domain::Role::Admin))) || !who.can_write() {
            return Err(CoreError::Forbidden(
                "imports are started by a tenant admin",
            ));
        }
        Ok(())
    }

    /// Records an import that starts now (REST, CLI), so its progress and report are kept
    /// and can be read and downloaded later.
    pub async fn record_import_start(
        &self,
        who: &Principal,
        dry_run: bool,
        source: &str,
    ) -> Result<Uuid, CoreError> {
        Self::require_import_admin(who)?;
        let id = Uuid::now_v7();
        self.as_caller(who, async |tx| tx.insert_import(id, dry_run, source).await)
            .await?;
        Ok(id)
    }

    /// Keeps an import's report (or why it failed).
    async fn record_import_end(
        &self,
        who: &Principal,
        id: Uuid,
        outcome: &Result<ImportReport, CoreError>,
        last_progress: Option<Progress>,
    ) {
        let (report, error) = match outcome {
            Ok(report) => (serde_json::to_value(report).ok(), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let progress = last_progress.map(|p| json!(p));
        let finished = self
            .as_caller(who, async |tx| {
                tx.finish_import(id, report.as_ref(), error.as_deref(), progress.as_ref())
                    .await
            })
            .await;
        if let Err(e) = finished {
            tracing::warn!(import = %id, error = %e, "the import's report could not be stored");
        }
    }

    /// A progress callback that writes the import's progress to its row (at most every
    /// half second, from a task of its own so the import never waits for it).
    fn progress_recorder(&self, who: &Principal, id: Uuid) -> Box<dyn Fn(Progress) + Send + Sync> {
        let (sender, mut receiver) = tokio::sync::watch::channel(Progress::default());
        let (core, who) = (self.clone(), who.clone());
        tokio::spawn(async move {
            while receiver.changed().await.is_ok() {
                let progress = *receiver.borrow_and_update();
                let value = json!(progress);
                let stored = core
                    .as_caller(&who, async |tx| tx.import_progress(id, &value).await)
                    .await;
                if let Err(e) = stored {
                    tracing::debug!(import = %id, error = %e, "import progress not stored");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        Box::new(move |p| {
            let _ = sender.send(p);
        })
    }

    /// An import's state, progress and, once finished, its report.
    pub async fn import_job(&self, who: &Principal, id: Uuid) -> Result<ImportJob, CoreError> {
        self.as_caller(who, async |tx| tx.import_job(id).await)
            .await
    }

    /// The tenant's imports, newest first.
    pub async fn imports(&self, who: &Principal) -> Result<Vec<ImportJob>, CoreError> {
        self.as_caller(who, async |tx| tx.imports(100).await).await
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

    /// Imports the message at `path` (a zip, a directory, or the XML in one); see
    /// [`Core::import_input`].
    pub async fn import_with(
        &self,
        who: &Principal,
        path: &Path,
        plan: &ImportPlan,
    ) -> Result<ImportReport, CoreError> {
        let owned = path.to_owned();
        let input = tokio::task::spawn_blocking(move || ImportInput::open(&owned))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))??;
        self.import_input(who, &input, plan, None).await
    }

    /// Imports the Akten of `input`, each under the plan unit `plan` says (by the message's
    /// Aktenplaneinheit, mapped), or only reports what it would do (`dry_run`, with an
    /// estimate of the duration from a measured sample).
    pub async fn import_input(
        &self,
        who: &Principal,
        input: &ImportInput,
        plan: &ImportPlan,
        on_progress: Option<OnProgress<'_>>,
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
        let mut units = self.unit_codes(who).await?;
        let (total, bytes_total) = input.totals();
        let progress = Progress {
            total,
            bytes_total,
            ..Progress::default()
        };
        let mut run = Run {
            core: self,
            who,
            input,
            queue: Vec::new(),
            in_flight: None,
            closes: Vec::new(),
            report: ImportReport {
                dry_run: plan.dry_run,
                refused: input.refused.clone(),
                ..ImportReport::default()
            },
            progress,
            on_progress,
            provenance: json!({"source": input.source, "message_id": input.message_id}),
        };
        run.tell();
        let known = self
            .as_caller(who, async |tx| tx.files_by_xdomea_id().await)
            .await?;
        // The new Akten and Vorgänge of a batch are created in one transaction, committed
        // before the batch's documents are filed into them: one commit per Akte and per
        // Vorgang was a commit for every four documents of a file share.
        let mut structure: Option<akta_db::TenantTx> = None;
        for akte in input.akten() {
            let akte_input = akte?;
            let f = &*akte_input.file;
            let unit = match self
                .unit_for(who, f, plan, &mut units, &mut run.report)
                .await
            {
                Ok(unit) => unit,
                Err(reason) => {
                    run.report.refused.push(Refused {
                        reference: f.reference.clone(),
                        reason,
                    });
                    run.progress.done += present_versions(f, &input.entries);
                    continue;
                }
            };
            let existing = known.get(&f.id).copied();
            if plan.dry_run {
                if existing.is_some() {
                    run.report.skipped.push(f.reference.clone());
                } else {
                    count_planned(&mut run.report, f, &input.entries);
                }
                continue;
            }
            let queued = run.queue.len();
            let akte = match existing {
                Some(id) => self.file(who, id).await?,
                None => {
                    let tx = open(&mut structure, self, who).await?;
                    create_imported_file(tx, f, unit).await?
                }
            };
            if akte.status == FileStatus::Open.as_str() {
                let (cases, documents) = if existing.is_some() {
                    self.as_caller(who, async |tx| {
                        Ok::<_, akta_db::DbError>((
                            tx.cases_by_xdomea_id(akte.id).await?,
                            tx.documents_by_xdomea_id(akte.id).await?,
                        ))
                    })
                    .await?
                } else {
                    Default::default()
                };
                for d in &f.documents {
                    run.queue_document(
                        DocumentTarget::File(akte.id),
                        d,
                        documents.get(&d.id).copied(),
                        akte_input.metadata.get(&d.id),
                    );
                }
                for c in &f.cases {
                    let case = match cases.get(&c.id) {
                        Some(id) => *id,
                        None => {
                            let mut metadata = Map::new();
                            metadata
                                .insert("vorheriges_vorgangszeichen".into(), json!(c.reference));
                            metadata.insert("xdomea_id".into(), json!(c.id));
                            let tx = open(&mut structure, self, who).await?;
                            tx.create_case(akte.id, &c.subject, metadata).await?.id
                        }
                    };
                    for d in &c.documents {
                        run.queue_document(
                            DocumentTarget::Case(case),
                            d,
                            documents.get(&d.id).copied(),
                            akte_input.metadata.get(&d.id),
                        );
                    }
                }
                if let Some(closed_on) = f.closed_on {
                    run.closes.push((akte.id, closed_on));
                }
            }
            if existing.is_some()
                && run.queue.len() == queued
                && !run.closes.iter().any(|(id, _)| *id == akte.id)
            {
                // Came in whole before: nothing was added.
                run.report.skipped.push(f.reference.clone());
                run.progress.done += present_versions(f, &input.entries);
            } else {
                run.report.files.push(ImportedFile {
                    id: akte.id,
                    reference: akte.reference.clone(),
                    previous_reference: f.reference.clone(),
                    subject: akte.subject.clone(),
                    source_id: f.id,
                });
            }
            if run.queue.len() >= BATCH {
                if let Some(tx) = structure.take() {
                    tx.commit().await?;
                }
                run.flush(false).await?;
            }
        }
        if plan.dry_run {
            run.report.planned.estimated_seconds = self.estimate(who, &run.report, input).await;
            return Ok(run.report);
        }
        if let Some(tx) = structure.take() {
            tx.commit().await?;
        }
        run.flush(true).await?;
        run.progress.done = run.progress.total;
        run.progress.bytes_done = run.progress.bytes_total;
        run.tell();
        Ok(run.report)
    }

    /// How long writing the planned import would take: a sample of its documents is read
    /// and sealed exactly as the import would (into nothing), and a database round trip is
    /// timed; scaled by bytes and document count (batches of [`BATCH`] in one transaction).
    async fn estimate(
        &self,
        who: &Principal,
        report: &ImportReport,
        input: &ImportInput,
    ) -> Option<f64> {
        use futures_util::StreamExt;
        let p = &report.planned;
        if p.versions == 0 {
            return Some(0.0);
        }
        let mut sample: Vec<String> = Vec::new();
        for akte in input.akten() {
            let akte = akte.ok()?;
            sample.extend(
                versions_of(&akte.file)
                    .flat_map(|d| d.versions.iter())
                    .filter(|v| input.entries.size_of(&v.file_name).is_some())
                    .take(32 - sample.len())
                    .map(|v| v.file_name.clone()),
            );
            if sample.len() >= 32 {
                break;
            }
        }
        let started = Instant::now();
        let mut bytes = 0u64;
        for name in &sample {
            let body = input
                .entries
                .stream(name)
                .map(|c| c.map_err(std::io::Error::other));
            let (sealed, sealing) = akta_keys::content::seal(
                Box::pin(body),
                self.settings.max_upload_bytes,
                self.settings.encrypt_uploads,
            )
            .ok()?;
            let mut sealed = sealed;
            while let Some(chunk) = sealed.next().await {
                bytes += chunk.ok()?.len() as u64;
            }
            drop(sealing);
        }
        let sealing = started.elapsed().as_secs_f64();
        let round_trip = {
            let started = Instant::now();
            self.unit_codes(who).await.ok()?;
            started.elapsed().as_secs_f64()
        };
        // Reading and sealing: the sample's pace, by documents or by bytes, whichever is
        // slower; the database: a few statements per version and per Akte, in batches.
        let n = sample.len().max(1) as f64;
        let by_documents = sealing / n * p.versions as f64;
        let by_bytes = sealing / bytes.max(1) as f64 * p.bytes as f64;
        let database = round_trip * (3.0 * p.versions as f64 + 3.0 * p.files as f64);
        Some(by_documents.max(by_bytes) + database)
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
        let parsed =
            PlanCode::parse(&code).map_err(|e| format!("plan unit {code}: {}", e.message))?;
        // Under the unit one level above it, if the plan has it; else at the top.
        let parent = units
            .iter()
            .filter(|(c, _)| PlanCode::parse(c).is_ok_and(|p| parsed.is_child_of(&p)))
            .map(|(_, id)| *id)
            .next();
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
        if current.status != FileStatus::Open.as_str() {
            return Ok(());
        }
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

fn present_versions(f: &FileObject, entries: &Entries) -> usize {
    versions_of(f)
        .flat_map(|d| d.versions.iter())
        .filter(|v| entries.size_of(&v.file_name).is_some())
        .count()
}

fn count_planned(report: &mut ImportReport, f: &FileObject, entries: &Entries) {
    report.planned.files += 1;
    report.planned.cases += f.cases.len();
    for d in versions_of(f) {
        report.planned.documents += 1;
        for v in &d.versions {
            match entries.size_of(&v.file_name) {
                Some(size) => {
                    report.planned.versions += 1;
                    report.planned.bytes += size;
                }
                None => report.missing.push(v.file_name.clone()),
            }
        }
    }
}

/// The transaction in `slot`, begun on first use.
async fn open<'a>(
    slot: &'a mut Option<akta_db::TenantTx>,
    core: &Core,
    who: &Principal,
) -> Result<&'a mut akta_db::TenantTx, CoreError> {
    Ok(match slot {
        Some(tx) => tx,
        None => slot.insert(core.db.tx_for(who).await?),
    })
}

async fn create_imported_file(
    tx: &mut akta_db::TenantTx,
    f: &FileObject,
    unit: Uuid,
) -> Result<akta_db::FileRecord, CoreError> {
    let mut metadata = Map::new();
    metadata.insert("vorheriges_aktenzeichen".into(), json!(f.reference));
    metadata.insert("xdomea_id".into(), json!(f.id));
    let new = NewFile {
        plan_unit_id: unit,
        subject: f.subject.clone(),
        lead_org_unit_id: None,
        confidentiality: match f.confidentiality {
            akta_xdomea::model::Confidentiality::Open => Confidentiality::Normal,
            _ => Confidentiality::Confidential,
        },
        period_from: f.period_from,
        metadata,
    };
    crate::files::create_file_in(tx, new).await
}
