//! The Posteingang: documents arrive without an Akte (a scanner, a Fachverfahren, a clerk's
//! upload), addressed to a person, an org unit or the whole authority; they are previewed,
//! given metadata and filed into an Akte or Vorgang in one step, or forwarded.
//!
//! Who reads which Posteingang is decided here, once: admins and API tokens read all of
//! them, everyone else their own, their org unit's and the general one.

use akta_blob::BlobKey;
use akta_db::{
    Document, DocumentTarget, InboxItem, InboxScope, NewDocument, NewInboxItem, TenantTx, Version,
};
use akta_domain::{DocumentKind, Principal, Role};
use bytes::Bytes;
use uuid::Uuid;

use crate::documents::Readable;
use crate::{Core, CoreError, DocumentUpdate, StoredBlob, Upload};

/// What arrives with a delivery; the title defaults to one made from the file name.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub org_unit_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub title: Option<String>,
    pub kind: Option<DocumentKind>,
    pub sender: Option<String>,
    pub document_date: Option<time::Date>,
    pub note: Option<String>,
}

/// Where a forwarded item goes.
#[derive(Debug, Clone)]
pub enum Forward {
    Person(Uuid),
    OrgUnit(Uuid),
}

/// The Posteingang `who` reads: admins and API tokens all of it, a person their own (and
/// of those they stand in for today), their org unit's and the general one.
async fn inbox_scope(tx: &mut TenantTx, who: &Principal) -> Result<InboxScope, CoreError> {
    match who {
        Principal::Tenant { .. } => Ok(InboxScope::All),
        Principal::User {
            role: Role::Admin, ..
        } => Ok(InboxScope::All),
        Principal::User {
            user_id,
            org_unit_id,
            ..
        } => {
            let mut user_ids = vec![*user_id];
            user_ids.extend(tx.standing_in_for(*user_id).await?);
            Ok(InboxScope::Person {
                user_ids,
                org_unit_id: *org_unit_id,
            })
        }
        Principal::Operator { .. } => Err(CoreError::NotFound),
    }
}

/// An item is filed or forwarded once (a second time is a conflict), so a caller that
/// names no version (a scanner, a Fachverfahren) acts on the current one.
fn expected_or_current(expected: Option<i32>, current: i32) -> Result<i32, CoreError> {
    match expected {
        Some(v) if v != current => Err(CoreError::PreconditionFailed),
        _ => Ok(current),
    }
}

fn require_writer(who: &Principal) -> Result<(), CoreError> {
    if who.can_write() {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "the Posteingang needs a role that writes",
        ))
    }
}

impl Core {
    /// Stores `body` sealed like any upload and puts it into a Posteingang.
    pub async fn receive_into_inbox<S, E>(
        &self,
        who: &Principal,
        delivery: Delivery,
        file_name: &str,
        media_type: Option<&str>,
        body: S,
    ) -> Result<InboxItem, CoreError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        require_writer(who)?;
        let upload = self.upload(who)?;
        let blob = upload.store(file_name, media_type, body).await?;
        self.deliver_to_inbox(&upload, blob, delivery).await
    }

    /// Puts a blob stored by `upload` into a Posteingang (REST multipart, where the body
    /// streamed part by part); the blob is removed if that fails.
    pub async fn deliver_to_inbox(
        &self,
        upload: &Upload,
        blob: StoredBlob,
        delivery: Delivery,
    ) -> Result<InboxItem, CoreError> {
        if let Err(e) = require_writer(upload.principal()) {
            upload.discard_blob(blob).await;
            return Err(e);
        }
        let new = NewInboxItem {
            org_unit_id: delivery.org_unit_id,
            user_id: delivery.user_id,
            title: delivery
                .title
                .unwrap_or_else(|| blob.file_name().suggested_title()),
            kind: delivery.kind.unwrap_or(DocumentKind::Incoming),
            sender: delivery.sender,
            document_date: delivery.document_date,
            note: delivery.note,
        };
        upload.commit_inbox_item(blob, new).await
    }

    /// The items waiting in the caller's Posteingang, oldest first.
    pub async fn inbox(&self, who: &Principal) -> Result<Vec<InboxItem>, CoreError> {
        self.as_caller(who, async |tx| {
            let scope = inbox_scope(tx, who).await?;
            Ok::<_, CoreError>(tx.list_inbox(&scope).await?)
        })
        .await
    }

    pub async fn inbox_item(&self, who: &Principal, id: Uuid) -> Result<InboxItem, CoreError> {
        self.as_caller(who, async |tx| {
            let scope = inbox_scope(tx, who).await?;
            Ok::<_, CoreError>(tx.inbox_item(&scope, id).await?)
        })
        .await
    }

    /// A waiting item's content for the preview and download.
    pub async fn open_inbox_item(&self, who: &Principal, id: Uuid) -> Result<Readable, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let scope = inbox_scope(&mut tx, who).await?;
        let item = tx.inbox_item(&scope, id).await?;
        if item.filed_document_id.is_some() {
            // The content belongs to its document now, read there.
            return Err(CoreError::NotFound);
        }
        let key = BlobKey::parse(&item.blob_key)?;
        let dek = self.keyring()?.open_dek(&mut tx, &key).await?;
        tx.commit().await?;
        Ok(Readable {
            version: Version {
                nr: 0,
                sha256: item.sha256,
                size_bytes: item.size_bytes,
                media_type: item.media_type,
                file_name: item.file_name,
                author: item.received_by,
                created_at: item.received_at,
                change_note: None,
                blob_key: item.blob_key,
                extraction: None,
            },
            key,
            dek,
            blobs: self.blobs()?.clone(),
        })
    }

    /// Files a waiting item into an Akte or Vorgang as a new Dokument, at the caller's
    /// `expected` version of the item (`None`: the current one). What `details` leaves out
    /// keeps what the item has (title, kind, sender, date), for every surface alike. The Akte's rules hold as for an upload
    /// (open, visible to the caller).
    pub async fn file_inbox_item(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        target: DocumentTarget,
        details: DocumentUpdate,
    ) -> Result<Document, CoreError> {
        require_writer(who)?;
        let mut tx = self.db.tx_for(who).await?;
        let scope = inbox_scope(&mut tx, who).await?;
        let current = tx.inbox_item(&scope, id).await?;
        let expected = expected_or_current(expected, current.row_version)?;
        let metadata = NewDocument {
            kind: match details.kind {
                Some(kind) => kind,
                None => DocumentKind::parse(&current.kind)?,
            },
            title: details.title.unwrap_or(current.title),
            sender: details.sender.unwrap_or(current.sender),
            recipient: details.recipient.unwrap_or(None),
            document_date: details.document_date.unwrap_or(current.document_date),
            metadata: details.metadata.unwrap_or_default(),
        };
        let doc = tx
            .file_inbox_item(&scope, id, expected, target, metadata)
            .await?;
        tx.commit().await?;
        Ok(doc)
    }

    /// Hands a waiting item on to a colleague or an org unit, with a note.
    pub async fn forward_inbox_item(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        to: Forward,
        note: Option<String>,
    ) -> Result<InboxItem, CoreError> {
        require_writer(who)?;
        let mut tx = self.db.tx_for(who).await?;
        let scope = inbox_scope(&mut tx, who).await?;
        let current = tx.inbox_item(&scope, id).await?;
        let expected = expected_or_current(expected, current.row_version)?;
        let (user, unit) = match to {
            Forward::Person(u) => (Some(u), None),
            Forward::OrgUnit(o) => (None, Some(o)),
        };
        let item = tx
            .forward_inbox_item(&scope, id, expected, user, unit, note)
            .await?;
        tx.commit().await?;
        Ok(item)
    }
}
