//! The way of a document into Akta, one path for REST, web UI and imports: check the target
//! (fail fast before a large body), record an upload intent, stream the body sealed into the
//! blob store (SHA-256 of the plaintext while streaming, a fresh data key, constant memory),
//! then write version row, audit event and index/extraction entries in one transaction. A
//! failed transaction deletes the blob; should even that fail, the intent outlives its grace
//! period and the sweeper removes it.

use std::sync::Arc;

use akta_blob::{BlobKey, BlobStore, ByteStream};
use akta_db::{Document, DocumentTarget, FiledText, NewDocument, NewVersion, TenantTx, Version};
use akta_domain::{FileName, Principal, TenantId};
use akta_keys::content::{self, Sealed};
use akta_keys::keyring::Keyring;
use bytes::Bytes;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::{Core, CoreError};

/// Plain-text versions up to this size are extracted while they are filed (see
/// [`akta_extract::extract_plain`]), so a file share of small text documents needs no
/// extraction job per document; everything else goes to the isolated workers.
const FILED_TEXT_MAX: usize = 64 * 1024;

/// A blob written for this upload and not yet referenced by a committed version.
pub struct StoredBlob {
    key: BlobKey,
    content: Sealed,
    media_type: String,
    file_name: FileName,
    /// The plaintext, kept when it is at most [`FILED_TEXT_MAX`] bytes.
    small: Option<Bytes>,
}

impl StoredBlob {
    pub fn file_name(&self) -> &FileName {
        &self.file_name
    }

    /// The version row, with the data key wrapped in the transaction that stores it.
    async fn new_version(&self, core: &Core, tx: &mut TenantTx) -> Result<NewVersion, CoreError> {
        let dek = match &self.content.dek {
            Some(dek) => Some(core.keyring()?.wrap_dek(tx, &self.key, dek).await?),
            None => None,
        };
        self.version_row(dek)
    }

    /// [`StoredBlob::new_version`] under a tenant key already opened in this transaction.
    fn new_version_under(
        &self,
        core: &Core,
        tenant_key: &(i32, akta_keys::Key256),
    ) -> Result<NewVersion, CoreError> {
        let dek = match &self.content.dek {
            Some(dek) => Some(core.keyring()?.wrap_dek_under(tenant_key, &self.key, dek)?),
            None => None,
        };
        self.version_row(dek)
    }

    fn version_row(&self, dek: Option<akta_db::StoredDek>) -> Result<NewVersion, CoreError> {
        Ok(NewVersion {
            blob_key: self.key.as_str().to_owned(),
            sha256_hex: self.content.sha256_hex.clone(),
            size: self.content.size,
            media_type: self.media_type.clone(),
            file_name: self.file_name.as_str().to_owned(),
            dek,
            text: self.filed_text()?,
        })
    }

    /// The text of a small plain-text version, sealed like a worker seals it; `None` leaves
    /// the version to the workers.
    fn filed_text(&self) -> Result<Option<FiledText>, CoreError> {
        let Some(small) = &self.small else {
            return Ok(None);
        };
        let Some(extracted) = akta_extract::extract_plain(
            small,
            &self.media_type,
            self.file_name.as_str(),
            FILED_TEXT_MAX,
        ) else {
            return Ok(None);
        };
        let method = extracted.method.name();
        // PostgreSQL text cannot hold NUL characters.
        let text = extracted.text.replace('\0', "");
        let sealed = Keyring::seal_text_under(self.content.dek.as_ref(), &self.key, &text)?;
        akta_telemetry::jobs()
            .extractions_done
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Some(FiledText {
            method,
            text: if sealed.is_some() {
                String::new()
            } else {
                text
            },
            sealed,
        }))
    }
}

/// What a stored blob becomes in [`Upload::commit_many`].
pub enum Filing {
    Document {
        target: DocumentTarget,
        metadata: NewDocument,
    },
    Version {
        document_id: Uuid,
    },
}

/// A blob filed by [`Upload::commit_many`].
#[derive(Debug, Clone, Copy)]
pub struct Filed {
    pub document_id: Uuid,
    pub size: u64,
}

/// One upload on behalf of a caller; every step runs as the caller, so confidential Akten and
/// token scopes hold throughout.
pub struct Upload {
    core: Core,
    principal: Principal,
    tenant: TenantId,
}

/// Whether `m` looks like `type/subtype` (parameters allowed); anything else is stored as
/// `application/octet-stream`.
fn is_plausible_media_type(m: &str) -> bool {
    let mut parts = m.split(';').next().unwrap_or("").trim().splitn(2, '/');
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if token(a) && token(b))
}

impl Core {
    /// Starts an upload for `who` (a tenant principal).
    pub fn upload(&self, who: &Principal) -> Result<Upload, CoreError> {
        let (tenant, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        // Content needs somewhere to go and keys to seal it before anything is recorded.
        self.content()?;
        Ok(Upload {
            core: self.clone(),
            principal: who.clone(),
            tenant,
        })
    }

    /// Files a new Dokument with `body` as its first version (web UI forms, Vermerke,
    /// imports): the whole way in one call.
    #[allow(clippy::too_many_arguments)]
    pub async fn file_document<S, E>(
        &self,
        who: &Principal,
        target: DocumentTarget,
        metadata: NewDocument,
        file_name: &str,
        media_type: Option<&str>,
        body: S,
    ) -> Result<Document, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.upload(who)?;
        upload.check_target(target).await?;
        let blob = upload.store(file_name, media_type, body).await?;
        upload.commit_document(blob, target, metadata).await
    }

    /// Adds a version with its Änderungsvermerk to a Dokument from `body` (see
    /// [`Core::file_document`]).
    pub async fn file_version<S, E>(
        &self,
        who: &Principal,
        document_id: Uuid,
        file_name: &str,
        media_type: Option<&str>,
        body: S,
        note: Option<String>,
    ) -> Result<Version, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.upload(who)?;
        upload.check_version_target(document_id).await?;
        let blob = upload.store(file_name, media_type, body).await?;
        upload.commit_noted_version(blob, document_id, note).await
    }
}

impl Upload {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    async fn tx(&self) -> Result<TenantTx, CoreError> {
        Ok(self.core.db.tx_for(&self.principal).await?)
    }

    /// Fails fast, before a possibly large body is read, on a wrong or closed target.
    pub async fn check_target(&self, target: DocumentTarget) -> Result<(), CoreError> {
        self.tx().await?.resolve_target(target).await?;
        Ok(())
    }

    /// Like [`Upload::check_target`] for a new version of `document_id`.
    pub async fn check_version_target(&self, document_id: Uuid) -> Result<(), CoreError> {
        let mut tx = self.tx().await?;
        let doc = tx.document(document_id).await?;
        let target = match doc.case_id {
            Some(case) => DocumentTarget::Case(case),
            None => DocumentTarget::File(doc.file_id),
        };
        tx.resolve_target(target).await?;
        Ok(())
    }

    /// Streams `body` into the blob store under a new key, after recording the upload intent.
    pub async fn store<S, E>(
        &self,
        file_name: &str,
        media_type: Option<&str>,
        body: S,
    ) -> Result<StoredBlob, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file_name = FileName::parse(file_name)?;
        let key = self.new_key()?;
        let mut tx = self.tx().await?;
        tx.record_upload_intent(key.as_str()).await?;
        tx.commit().await?;
        self.write(key, file_name, media_type, body).await
    }

    fn new_key(&self) -> Result<BlobKey, CoreError> {
        Ok(BlobKey::parse(&format!(
            "t/{}/{}",
            self.tenant,
            Uuid::now_v7()
        ))?)
    }

    /// Stores several bodies (imports): their upload intents in one transaction, then up to
    /// `parallel` of them streaming into the blob store at once. Each answers for itself: a
    /// body that fails leaves no blob and does not stop the others.
    pub async fn store_many<S, E>(
        &self,
        items: Vec<(String, Option<String>, S)>,
        parallel: usize,
    ) -> Result<Vec<Result<StoredBlob, CoreError>>, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut keyed = Vec::with_capacity(items.len());
        for (name, media_type, body) in items {
            keyed.push((self.new_key()?, name, media_type, body));
        }
        let keys: Vec<String> = keyed.iter().map(|(k, ..)| k.as_str().to_owned()).collect();
        let mut tx = self.tx().await?;
        tx.record_upload_intents(&keys).await?;
        tx.commit().await?;
        let written = futures_util::stream::iter(keyed.into_iter().map(
            |(key, name, media_type, body)| async move {
                match FileName::parse(&name) {
                    Ok(file_name) => {
                        self.write(key, file_name, media_type.as_deref(), body)
                            .await
                    }
                    Err(e) => {
                        self.discard(&key).await;
                        Err(e.into())
                    }
                }
            },
        ))
        .buffered(parallel.max(1))
        .collect()
        .await;
        Ok(written)
    }

    /// Seals `body` into the blob store under `key`, whose upload intent is committed.
    async fn write<S, E>(
        &self,
        key: BlobKey,
        file_name: FileName,
        media_type: Option<&str>,
        mut body: S,
    ) -> Result<StoredBlob, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let media_type = media_type
            .filter(|m| is_plausible_media_type(m))
            .unwrap_or("application/octet-stream")
            .to_owned();

        // The blob store wants a 'static stream, the caller's body may borrow its request:
        // a small channel bridges them and bounds what is buffered.
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
        let stream: ByteStream = Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver));
        let settings = &self.core.settings;
        let (sealed_body, sealing) =
            content::seal(stream, settings.max_upload_bytes, settings.encrypt_uploads)?;
        let blobs: &Arc<dyn BlobStore> = self.core.blobs()?;
        let put = blobs.put(&key, sealed_body, sealing.stored_limit);
        let pump = async move {
            // A small body is kept for extraction while filing (chunks are shared, not copied).
            let mut small = Some(Vec::new());
            let mut seen = 0usize;
            loop {
                let item = match body.next().await {
                    Some(Ok(chunk)) => Ok(chunk),
                    None => break,
                    Some(Err(e)) => Err(std::io::Error::other(e.to_string())),
                };
                if let Ok(chunk) = &item {
                    seen = seen.saturating_add(chunk.len());
                    match small.as_mut() {
                        Some(kept) if seen <= FILED_TEXT_MAX => kept.push(chunk.clone()),
                        _ => small = None,
                    }
                }
                let failed = item.is_err();
                if sender.send(item).await.is_err() || failed {
                    break;
                }
            }
            small.map(|chunks: Vec<Bytes>| Bytes::from(chunks.concat()))
        };
        let (stored, small) = tokio::join!(put, pump);
        match stored {
            Ok(_) => Ok(StoredBlob {
                key,
                content: sealing.finish(),
                media_type,
                file_name,
                small,
            }),
            Err(e) => {
                self.discard(&key).await;
                Err(sealing.error(e).into())
            }
        }
    }

    /// Files the stored blob as a new Dokument in one transaction; if that fails, the blob
    /// is deleted (the sweeper catches it should even that fail).
    pub async fn commit_document(
        &self,
        blob: StoredBlob,
        target: DocumentTarget,
        metadata: NewDocument,
    ) -> Result<Document, CoreError> {
        let written = async {
            let mut tx = self.tx().await?;
            let new_version = blob.new_version(&self.core, &mut tx).await?;
            let doc = tx.create_document(target, metadata, new_version).await?;
            tx.commit().await?;
            self.core.metrics.record_filed(blob.content.size);
            Ok::<_, CoreError>(doc)
        }
        .await;
        if written.is_err() {
            self.discard_blob(blob).await;
        }
        written
    }

    /// Puts the stored blob into a Posteingang (see [`Upload::commit_document`]).
    pub(crate) async fn commit_inbox_item(
        &self,
        blob: StoredBlob,
        new: akta_db::NewInboxItem,
    ) -> Result<akta_db::InboxItem, CoreError> {
        let written = async {
            let mut tx = self.tx().await?;
            let content = blob.new_version(&self.core, &mut tx).await?;
            let item = tx.receive_inbox_item(new, content).await?;
            tx.commit().await?;
            Ok::<_, CoreError>(item)
        }
        .await;
        if written.is_err() {
            self.discard_blob(blob).await;
        }
        written
    }

    /// Adds the stored blob as the next version of a Dokument (see
    /// [`Upload::commit_document`]).
    pub async fn commit_version(
        &self,
        blob: StoredBlob,
        document_id: Uuid,
    ) -> Result<Version, CoreError> {
        self.commit_noted_version(blob, document_id, None).await
    }

    /// [`Upload::commit_version`] with an Änderungsvermerk. A version identical to the
    /// current one is refused (409) and its blob removed.
    pub async fn commit_noted_version(
        &self,
        blob: StoredBlob,
        document_id: Uuid,
        note: Option<String>,
    ) -> Result<Version, CoreError> {
        let written = async {
            let mut tx = self.tx().await?;
            let new_version = blob.new_version(&self.core, &mut tx).await?;
            let version = tx
                .add_noted_version(document_id, new_version, note.as_deref())
                .await?;
            tx.commit().await?;
            self.core.metrics.record_filed(blob.content.size);
            Ok::<_, CoreError>(version)
        }
        .await;
        if written.is_err() {
            self.discard_blob(blob).await;
        }
        written
    }

    /// Files stored blobs, each as a new Dokument or the next version of one, in one
    /// transaction (imports), every audit entry marked with `provenance`. If it fails, every
    /// blob is deleted and nothing of the batch is filed.
    pub async fn commit_many(
        &self,
        items: Vec<(StoredBlob, Filing)>,
        provenance: Option<serde_json::Value>,
    ) -> Result<Vec<Filed>, CoreError> {
        let written = async {
            let mut tx = self.tx().await?;
            tx.set_provenance(provenance);
            tx.batch_writes();
            let tenant_key = match self.core.keyring() {
                Ok(keyring) => Some(keyring.current_tenant_key(&mut tx).await?),
                Err(_) => None,
            };
            let mut filed = Vec::with_capacity(items.len());
            // New Dokumente go in together (one statement per table); a new version of a
            // Dokument waits for those before it, which may include its first version.
            let mut documents = Vec::new();
            for (blob, filing) in &items {
                let new_version = match &tenant_key {
                    Some(key) => blob.new_version_under(&self.core, key)?,
                    None => blob.new_version(&self.core, &mut tx).await?,
                };
                match filing {
                    Filing::Document { target, metadata } => {
                        documents.push((*target, metadata.clone(), new_version));
                    }
                    Filing::Version { document_id } => {
                        create_documents(&mut tx, &mut documents, &mut filed).await?;
                        tx.add_version(*document_id, new_version).await?;
                        filed.push(*document_id);
                    }
                }
            }
            create_documents(&mut tx, &mut documents, &mut filed).await?;
            let filed: Vec<Filed> = filed
                .into_iter()
                .zip(&items)
                .map(|(document_id, (blob, _))| Filed {
                    document_id,
                    size: blob.content.size,
                })
                .collect();
            tx.commit().await?;
            Ok::<_, CoreError>(filed)
        }
        .await;
        if written.is_err() {
            for (blob, _) in items {
                self.discard(&blob.key).await;
            }
        }
        written
    }

    /// Removes a stored blob that will not be filed (the request failed after it).
    pub async fn discard_blob(&self, blob: StoredBlob) {
        self.discard(&blob.key).await;
    }

    /// Best effort: if this fails, the upload intent stays and the sweeper removes the blob.
    async fn discard(&self, key: &BlobKey) {
        let Ok(blobs) = self.core.blobs() else {
            return;
        };
        if let Err(e) = blobs.delete(key).await {
            tracing::warn!(%key, error = %e, "could not delete blob of failed upload");
            return;
        }
        let forgotten = async {
            let mut tx = self.tx().await?;
            tx.forget_upload_intent(key.as_str()).await?;
            tx.commit().await?;
            Ok::<_, CoreError>(())
        };
        if let Err(e) = forgotten.await {
            tracing::warn!(%key, error = %e, "could not clear upload intent");
        }
    }
}

/// Files the gathered new Dokumente of [`Upload::commit_many`], noting their ids in order.
async fn create_documents(
    tx: &mut TenantTx,
    documents: &mut Vec<(DocumentTarget, NewDocument, NewVersion)>,
    filed: &mut Vec<Uuid>,
) -> Result<(), CoreError> {
    if documents.is_empty() {
        return Ok(());
    }
    let created = tx.create_documents(std::mem::take(documents)).await?;
    filed.extend(created.iter().map(|d| d.id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_checked_for_shape() {
        assert!(is_plausible_media_type("application/pdf"));
        assert!(is_plausible_media_type("text/plain; charset=utf-8"));
        assert!(!is_plausible_media_type("pdf"));
        assert!(!is_plausible_media_type("text/html\r\nX: y"));
    }
}
