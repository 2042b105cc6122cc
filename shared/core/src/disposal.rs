//! The end of an Aussonderung: the 0503 with the primary documents (a zip streamed as it is
//! written, never held in memory), the archive's confirmations (0507 receipt, 0506 import),
//! and the destruction of what the archive took or rated V, with the Löschprotokoll.

use std::io::Write;

use akta_blob::BlobKey;
use akta_db::repo::disposal::{Disposal, ProtocolEntry};
use akta_domain::retention::check_not_held;
use akta_domain::Principal;
use akta_keys::content;
use akta_xdomea::model::{Head, VersionObject};
use akta_xdomea::{write, MessageType};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::transfers::require_archivist;
use crate::{Core, CoreError};

/// Chunks of the zip as it is written.
pub type ZipStream = tokio_stream::wrappers::ReceiverStream<Result<bytes::Bytes, std::io::Error>>;

/// One primary document for the container.
pub(crate) struct Entry {
    name: String,
    blob_key: BlobKey,
    dek: Option<akta_keys::Key256>,
    size: u64,
    sha256: String,
}

/// A `Write` that hands what is written to the response, a chunk at a time.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

const CHUNK: usize = 256 * 1024;

impl ChannelWriter {
    fn flush_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::take(&mut self.buffer));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download ended"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK {
            self.flush_buffer()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_buffer()
    }
}

/// `<uuid>_<name>` with the name reduced to characters every archive's file system takes.
fn container_name(original: &str) -> String {
    let safe: String = original
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'Ä' => 'A',
            'Ö' => 'O',
            'Ü' => 'U',
            'ß' => 's',
            _ => '_',
        })
        .collect();
    format!("{}_{}", Uuid::now_v7(), safe.trim_matches('_'))
}

impl Core {
    /// `Aussonderung.Aussonderung.0503` as a zip (`{ProzessID}_Aussonderung.Aussonderung.0503.zip`):
    /// the XML, every version (or, with `all_versions` false, the latest) of every Dokument of
    /// the Akten the archive takes, and a list of their SHA-256 checksums. Streamed while it
    /// is written. The taken Akten become `übergeben`; producing it again is allowed until the
    /// archive confirms the import.
    pub async fn aussonderung_0503(
        &self,
        who: &Principal,
        id: Uuid,
        all_versions: bool,
    ) -> Result<(String, ZipStream), CoreError> {
        require_archivist(who)?;
        let content = self.content()?;
        let (blobs, keyring) = (content.blobs.clone(), content.keyring.clone());
        let mut tx = self.lifecycle_tx(who).await?;
        let transfer = tx.transfer(id, true).await?;
        if !matches!(transfer.state.as_str(), "bewertet" | "übergeben") {
            return Err(CoreError::Conflict(match transfer.state.as_str() {
                "angeboten" => "the archive's rating (0502) has not been received yet".into(),
                _ => "the transfer is finished".into(),
            }));
        }
        let items = tx.transfer_items(id).await?;
        let taken: Vec<Uuid> = items
            .iter()
            .filter(|i| {
                i.object_type == "file"
                    && i.rating.as_deref() == Some("A")
                    && matches!(i.state.as_str(), "bewertet" | "übergeben")
            })
            .map(|i| i.file_id)
            .collect();
        if taken.is_empty() {
            return Err(CoreError::Conflict(
                "the archive takes none of the offered Akten".into(),
            ));
        }
        let today = crate::retention::today();
        for file in &taken {
            let record = tx.file_locked(*file, akta_db::Lock::Share).await?;
            check_not_held(record.hold().as_ref(), today)
                .map_err(|m| CoreError::Conflict(m.into()))?;
        }
        let mut files = crate::transfers::objects(&mut tx, &taken).await?;
        let entries = with_documents(&keyring, &mut tx, &mut files, all_versions).await?;
        for file in files.iter_mut() {
            file.retention.rating = akta_xdomea::model::Rating::A;
            for case in &mut file.cases {
                case.retention.rating = akta_xdomea::model::Rating::A;
            }
        }
        for file in &taken {
            tx.set_transfer_file_state(id, *file, "übergeben").await?;
        }
        tx.set_transfer_state(id, "übergeben").await?;
        let head: Head = self.head(&tx, &transfer).await?;
        let xml = write::aussonderung_0503(&head, &files)?;
        tx.log_transfer_message(id, MessageType::Aussonderung0503.code(), "out", &xml)
            .await?;
        tx.commit().await?;

        Ok((
            format!("{id}_{}.zip", MessageType::Aussonderung0503.root()),
            stream_container(id, MessageType::Aussonderung0503, xml, entries, blobs),
        ))
    }

    /// The Löschprotokoll of the tenant (archivists and admins).
    pub async fn disposal_protocol(
        &self,
        who: &Principal,
    ) -> Result<Vec<ProtocolEntry>, CoreError> {
        require_archivist(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        let entries = tx.disposal_protocol().await?;
        tx.commit().await?;
        Ok(entries)
    }

    /// Deletes the blobs of destroyed Akten; their keys are gone already, so a blob left by
    /// a failure here can never be read again.
    pub(crate) async fn delete_blobs(&self, blobs: Vec<String>) {
        let Ok(content) = self.content() else {
            return;
        };
        for key in blobs {
            let deleted = match BlobKey::parse(&key) {
                Ok(k) => content.blobs.delete(&k).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = deleted {
                tracing::warn!(blob = %key, error = %e, "a destroyed Akte's blob could not be deleted (its key is destroyed)");
            }
        }
    }
}

/// Destroys `files` of `transfer` with their protocol entries; the blobs are left for after
/// the commit.
pub(crate) async fn destroy(
    tx: &mut akta_db::TenantTx,
    transfer: Uuid,
    files: &[(Uuid, Option<&str>, &str, Option<String>)],
) -> Result<Vec<String>, CoreError> {
    let messages: Vec<String> = tx
        .transfer_messages(transfer)
        .await?
        .into_iter()
        .map(|m| m.code)
        .collect();
    let today = crate::retention::today();
    let mut blobs = Vec::new();
    for (file, rating, outcome, archive_reference) in files {
        let record = tx.file_locked(*file, akta_db::Lock::Update).await?;
        check_not_held(record.hold().as_ref(), today).map_err(|m| CoreError::Conflict(m.into()))?;
        blobs.extend(
            tx.destroy_file(
                *file,
                Disposal {
                    rating: *rating,
                    outcome,
                    archive_reference: archive_reference.as_deref(),
                    transfer_id: transfer,
                    messages: &messages,
                },
            )
            .await?,
        );
        tx.set_transfer_file_state(transfer, *file, outcome).await?;
    }
    Ok(blobs)
}

/// Attaches every version (or the latest) of every Dokument of `files` as a primary document
/// named for the container; returns what the container must hold.
pub(crate) async fn with_documents(
    keyring: &akta_keys::Keyring,
    tx: &mut akta_db::TenantTx,
    files: &mut [akta_xdomea::model::FileObject],
    all_versions: bool,
) -> Result<Vec<Entry>, CoreError> {
    let mut entries = Vec::new();
    for file in files.iter_mut() {
        let documents = file
            .documents
            .iter_mut()
            .chain(file.cases.iter_mut().flat_map(|c| c.documents.iter_mut()));
        for doc in documents {
            let stored = tx.document(doc.id).await?;
            let count = stored.versions.len();
            let chosen = stored
                .versions
                .iter()
                .enumerate()
                .filter(|(i, _)| all_versions || *i + 1 == count)
                .map(|(_, v)| v);
            for v in chosen {
                let name = container_name(&v.file_name);
                let blob_key = BlobKey::parse(&v.blob_key)?;
                let dek = keyring.open_dek(tx, &blob_key).await?;
                entries.push(Entry {
                    name: name.clone(),
                    blob_key,
                    dek,
                    size: u64::try_from(v.size_bytes).unwrap_or(0),
                    sha256: v.sha256.clone(),
                });
                doc.versions.push(VersionObject {
                    number: u32::try_from(v.nr).unwrap_or(0),
                    file_name: name,
                    original_name: v.file_name.clone(),
                    format_code: akta_xdomea::model::format_code(&v.media_type, &v.file_name)
                        .to_owned(),
                    created: v.created_at,
                    created_by: v.author.clone(),
                });
            }
        }
    }
    Ok(entries)
}

/// Writes the container: the message, each primary document decrypted from the blob store,
/// and the checksum list. Blocking: runs on a blocking thread, pulling content through `handle`.
fn write_container<W: Write>(
    out: W,
    process: Uuid,
    message: MessageType,
    xml: &[u8],
    entries: Vec<Entry>,
    blobs: &dyn akta_blob::BlobStore,
    handle: &tokio::runtime::Handle,
) -> Result<(), String> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let e = |e: &dyn std::fmt::Display| e.to_string();
    zip.start_file(format!("{process}_{}.xml", message.root()), options)
        .map_err(|x| e(&x))?;
    zip.write_all(xml).map_err(|x| e(&x))?;
    let mut sums = String::new();
    for entry in entries {
        zip.start_file(entry.name.clone(), options)
            .map_err(|x| e(&x))?;
        let mut body = handle
            .block_on(content::open(
                blobs,
                &entry.blob_key,
                entry.dek,
                entry.size,
                None,
            ))
            .map_err(|x| e(&x))?;
        while let Some(chunk) = handle.block_on(body.next()) {
            zip.write_all(&chunk.map_err(|x| e(&x))?)
                .map_err(|x| e(&x))?;
        }
        sums.push_str(&format!("{}  {}\n", entry.sha256, entry.name));
    }
    zip.start_file(format!("{process}_Pruefsummen.sha256"), options)
        .map_err(|x| e(&x))?;
    zip.write_all(sums.as_bytes()).map_err(|x| e(&x))?;
    let mut out = zip.finish().map_err(|x| e(&x))?;
    out.flush().map_err(|x| e(&x))?;
    Ok(())
}

/// The container as a stream of chunks, written while it is read.
pub(crate) fn stream_container(
    process: Uuid,
    message: MessageType,
    xml: Vec<u8>,
    entries: Vec<Entry>,
    blobs: std::sync::Arc<dyn akta_blob::BlobStore>,
) -> ZipStream {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let errors = sender.clone();
        let out = ChannelWriter {
            tx: sender,
            buffer: Vec::new(),
        };
        if let Err(detail) = write_container(
            out,
            process,
            message,
            &xml,
            entries,
            blobs.as_ref(),
            &handle,
        ) {
            tracing::warn!(transfer = %process, error = %detail, "writing a container failed");
            let _ = errors.blocking_send(Err(std::io::Error::other(detail)));
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

/// The container written to `path` (for a transfer inside Akta).
pub(crate) async fn container_file(
    path: std::path::PathBuf,
    process: Uuid,
    message: MessageType,
    xml: Vec<u8>,
    entries: Vec<Entry>,
    blobs: std::sync::Arc<dyn akta_blob::BlobStore>,
) -> Result<(), CoreError> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        write_container(
            std::io::BufWriter::new(file),
            process,
            message,
            &xml,
            entries,
            blobs.as_ref(),
            &handle,
        )
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))?
    .map_err(CoreError::Internal)
}
