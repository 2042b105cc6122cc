//! Dokumente: reading them, their content and extracted text (audited), and changing their
//! metadata. Content and versions are filed by the upload path (`filing`).

use std::sync::Arc;

use akta_blob::{BlobKey, BlobStore, ByteRange, ByteStream};
use akta_db::repo::workplace::DocumentChanges;
use akta_db::{Document, Lock, Version};
use akta_domain::{DocumentKind, FileStatus, Principal};
use akta_keys::Key256;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::shares::or_shared;
use crate::{lock_open_file, require_version, Core, CoreError};

/// A change to a Dokument's metadata; `None` leaves a field as it is, `Some(None)` clears an
/// optional one.
#[derive(Debug, Default)]
pub struct DocumentUpdate {
    pub title: Option<String>,
    pub kind: Option<DocumentKind>,
    pub sender: Option<Option<String>>,
    pub recipient: Option<Option<String>>,
    pub document_date: Option<Option<time::Date>>,
    pub metadata: Option<Map<String, Value>>,
}

/// A version whose content the caller may read: its metadata now, the content as a stream
/// (the whole or a range) when asked.
pub struct Readable {
    pub version: Version,
    pub(crate) key: BlobKey,
    pub(crate) dek: Option<Key256>,
    pub(crate) blobs: Arc<dyn BlobStore>,
}

impl Readable {
    /// The plaintext, whole or the inclusive `range`; encrypted content is authenticated
    /// segment by segment before anything is released.
    pub async fn stream(self, range: Option<ByteRange>) -> Result<ByteStream, CoreError> {
        let size = u64::try_from(self.version.size_bytes)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(akta_keys::content::open(self.blobs.as_ref(), &self.key, self.dek, size, range).await?)
    }
}

impl Core {
    /// The Dokumente of an Akte (all) or of one Vorgang.
    pub async fn list_documents(
        &self,
        who: &Principal,
        file_id: Option<Uuid>,
        case_id: Option<Uuid>,
    ) -> Result<Vec<Document>, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let file = match (file_id, case_id) {
                    (Some(f), _) => f,
                    (None, Some(c)) => tx.case(c).await?.file_id,
                    (None, None) => return Err(CoreError::NotFound),
                };
                let docs = tx.list_documents(file, case_id).await?;
                tx.note_read(file, "documents", case_id.unwrap_or(file))
                    .await?;
                Ok::<_, CoreError>(docs)
            })
            .await;
        or_shared(own, self.shared_documents(who, file_id, case_id)).await
    }

    /// Version `nr` (or the latest) of a Dokument, ready to stream; the read is audited.
    pub async fn open_version(
        &self,
        who: &Principal,
        document_id: Uuid,
        nr: Option<i32>,
    ) -> Result<Readable, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let doc = tx.document(document_id).await?;
                let version = tx.version(document_id, nr).await?;
                let key = BlobKey::parse(&version.blob_key)?;
                let dek = self.keyring()?.open_dek(tx, &key).await?;
                tx.note_read(doc.file_id, "document_content", document_id)
                    .await?;
                Ok::<_, CoreError>((version, key, dek))
            })
            .await;
        let (version, key, dek) = or_shared(own, self.shared_content(who, document_id, nr)).await?;
        Ok(Readable {
            version,
            key,
            dek,
            blobs: self.blobs()?.clone(),
        })
    }

    /// The extracted text of version `nr`; 404 until its extraction is done. The text is
    /// content: reading it is audited like a download.
    pub async fn version_text(
        &self,
        who: &Principal,
        document_id: Uuid,
        nr: i32,
    ) -> Result<String, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let doc = tx.document(document_id).await?;
                let stored = tx.extracted_text(document_id, nr).await?;
                let text = self.keyring()?.open_text(tx, stored).await?;
                tx.note_read(doc.file_id, "document_text", document_id)
                    .await?;
                Ok::<_, CoreError>(text)
            })
            .await;
        or_shared(own, self.shared_text(who, document_id, nr)).await
    }

    /// The Dokument with its versions; a read in a confidential Akte is audited.
    pub async fn document(&self, who: &Principal, id: Uuid) -> Result<Document, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let doc = tx.document(id).await?;
                tx.note_read(doc.file_id, "document", id).await?;
                Ok::<_, akta_db::DbError>(doc)
            })
            .await;
        or_shared(own, self.shared_document(who, id)).await
    }

    /// Changes a Dokument's metadata at the caller's `expected` version; nothing changes in
    /// a closed Akte or a closed Vorgang.
    pub async fn update_document(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        update: DocumentUpdate,
    ) -> Result<Document, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let current = tx.document_for_update(id).await?;
        let expected = require_version(expected, current.row_version)?;
        // Neither the Akte nor the Vorgang can be closed while this change is under way.
        lock_open_file(&mut tx, current.file_id).await?;
        if let Some(case_id) = current.case_id {
            let case = tx.case_locked(case_id, Lock::Share).await?;
            if FileStatus::parse(&case.status)? == FileStatus::Closed {
                return Err(CoreError::Conflict("the case is closed (zdA)".into()));
            }
        }
        let changes = DocumentChanges {
            title: update.title.unwrap_or(current.title),
            kind: match update.kind {
                Some(kind) => kind,
                None => DocumentKind::parse(&current.kind)?,
            },
            sender: update.sender.unwrap_or(current.sender),
            recipient: update.recipient.unwrap_or(current.recipient),
            document_date: update.document_date.unwrap_or(current.document_date),
            metadata: update.metadata,
        };
        let document = tx.update_document(id, expected, changes).await?;
        tx.commit().await?;
        Ok(document)
    }
}

impl Core {
    /// Documents of an Akte that already hold this content (SHA-256, hex), so a clerk is
    /// told before filing the same file again.
    pub async fn identical_in_file(
        &self,
        who: &Principal,
        file_id: Uuid,
        sha256_hex: &str,
    ) -> Result<Vec<akta_db::repo::documents::IdenticalContent>, CoreError> {
        let sha = sha256_hex.trim().to_ascii_lowercase();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CoreError::validation(
                "sha256",
                "must be 64 hexadecimal digits",
            ));
        }
        self.as_caller(who, async |tx| tx.identical_in_file(file_id, &sha).await)
            .await
    }
}
