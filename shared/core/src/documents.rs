//! Dokumente: reading and changing their metadata (content and versions are filed by the
//! upload path).

use akta_db::repo::workplace::DocumentChanges;
use akta_db::Document;
use akta_domain::{DocumentKind, FileStatus, Principal};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{require_version, Core, CoreError};

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

impl Core {
    /// The Dokument with its versions; a read in a confidential Akte is audited.
    pub async fn document(&self, who: &Principal, id: Uuid) -> Result<Document, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let doc = tx.document(id).await?;
        tx.note_read(doc.file_id, "document", id).await?;
        tx.commit().await?;
        Ok(doc)
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
        let current = tx.document(id).await?;
        let expected = require_version(expected)?;
        let file = tx.file(current.file_id).await?;
        if FileStatus::parse(&file.status)? == FileStatus::Closed {
            return Err(CoreError::Conflict("the file is closed (zdA)".into()));
        }
        if let Some(case_id) = current.case_id {
            let case = tx.case(case_id).await?;
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
