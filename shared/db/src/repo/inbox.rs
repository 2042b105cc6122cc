//! The Posteingang: documents that arrived without an Akte, waiting for a clerk to file or
//! forward them. Filing moves the stored blob and its wrapped key into a document's first
//! version in the same transaction, so the content is never copied and never lost between.

use akta_domain::DocumentKind;
use serde::Serialize;
use uuid::Uuid;

use crate::repo::documents::{Intent, NewVersion};
use crate::repo::quotas::Charge;
use crate::serde_date::iso_date;
use crate::{DbError, Document, DocumentTarget, NewDocument, TenantTx};

/// One item of a Posteingang.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = InboxItem)]
pub struct InboxItem {
    pub id: Uuid,
    /// Addressed to an org unit, a person, or (neither) the whole authority.
    pub org_unit_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub title: String,
    pub kind: String,
    pub sender: Option<String>,
    #[serde(with = "iso_date::option")]
    pub document_date: Option<time::Date>,
    pub note: Option<String>,
    pub sha256: String,
    #[serde(rename = "size")]
    pub size_bytes: i64,
    pub media_type: String,
    pub file_name: String,
    pub received_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: time::OffsetDateTime,
    pub filed_document_id: Option<Uuid>,
    pub filed_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub filed_at: Option<time::OffsetDateTime>,
    /// What `If-Match` names.
    #[serde(rename = "version")]
    pub row_version: i32,
    #[serde(skip)]
    pub blob_key: String,
    #[serde(skip)]
    pub wrapped_dek: Option<Vec<u8>>,
    #[serde(skip)]
    pub tenant_key_version: Option<i32>,
}

/// Where a new item goes and what is known of it on arrival.
#[derive(Debug, Clone)]
pub struct NewInboxItem {
    pub org_unit_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub title: String,
    pub kind: DocumentKind,
    pub sender: Option<String>,
    pub document_date: Option<time::Date>,
    pub note: Option<String>,
}

/// Whose Posteingang a caller reads: everything (admins, Fachverfahren tokens) or a
/// person's own (and of those they stand in for), their org unit's and the authority's
/// general one.
#[derive(Debug, Clone)]
pub enum InboxScope {
    All,
    Person {
        /// The person and whom they stand in for today.
        user_ids: Vec<Uuid>,
        org_unit_id: Option<Uuid>,
    },
}

const ITEM_COLUMNS: &str = "id, org_unit_id, user_id, title, kind, sender, document_date, note,
    sha256, size_bytes, media_type, file_name, received_by, received_at, filed_document_id,
    filed_by, filed_at, row_version, blob_key, wrapped_dek, tenant_key_version";

/// The scope's condition on `inbox_items`, with `$1`/`$2` the people and the org unit.
const IN_SCOPE: &str = "($1::uuid[] IS NULL
    OR user_id = ANY($1)
    OR (user_id IS NULL AND org_unit_id = $2)
    OR (user_id IS NULL AND org_unit_id IS NULL))";

impl InboxScope {
    fn binds(&self) -> (Option<Vec<Uuid>>, Option<Uuid>) {
        match self {
            InboxScope::All => (None, None),
            InboxScope::Person {
                user_ids,
                org_unit_id,
            } => (Some(user_ids.clone()), *org_unit_id),
        }
    }
}

impl TenantTx {
    /// Records a stored blob as a new item; its upload intent ends here, as a version's does.
    pub async fn receive_inbox_item(
        &mut self,
        new: NewInboxItem,
        content: NewVersion,
    ) -> Result<InboxItem, DbError> {
        if let Some(unit) = new.org_unit_id {
            self.require_org_unit(unit, "org_unit_id").await?;
        }
        if let Some(user) = new.user_id {
            self.require("SELECT 1 FROM users WHERE id = $1", user, "user_id")
                .await?;
        }
        let size = i64::try_from(content.size)
            .map_err(|_| DbError::Conflict("size out of range".into()))?;
        let sql = format!(
            "INSERT INTO inbox_items (id, tenant_id, org_unit_id, user_id, title, kind, sender,
                                      document_date, note, blob_key, sha256, size_bytes,
                                      media_type, file_name, wrapped_dek, tenant_key_version,
                                      received_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             RETURNING {ITEM_COLUMNS}"
        );
        let item = sqlx::query_as::<_, InboxItem>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(new.org_unit_id)
            .bind(new.user_id)
            .bind(&new.title)
            .bind(new.kind.as_str())
            .bind(&new.sender)
            .bind(new.document_date)
            .bind(&new.note)
            .bind(&content.blob_key)
            .bind(&content.sha256_hex)
            .bind(size)
            .bind(&content.media_type)
            .bind(&content.file_name)
            .bind(content.dek.as_ref().map(|d| &d.wrapped))
            .bind(content.dek.as_ref().map(|d| d.key_version))
            .bind(&self.actor)
            .fetch_one(&mut *self.tx)
            .await?;
        if !self.forget_upload_intent(&content.blob_key).await? {
            return Err(DbError::Conflict(
                "the upload took longer than the orphan grace period; please upload again".into(),
            ));
        }
        // The content takes storage from now on; it becomes a document when filed.
        self.charge_usage(Charge::content(size, content.dek.is_some()))
            .await?;
        self.emit(
            "inbox.received",
            "inbox_item",
            item.id,
            None,
            None::<&()>,
            Some(&item),
        )
        .await?;
        Ok(item)
    }

    /// The items waiting in `scope`, oldest first.
    pub async fn list_inbox(&mut self, scope: &InboxScope) -> Result<Vec<InboxItem>, DbError> {
        let (user, unit) = scope.binds();
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM inbox_items
              WHERE filed_document_id IS NULL AND {IN_SCOPE}
              ORDER BY received_at, id LIMIT 500"
        );
        Ok(sqlx::query_as::<_, InboxItem>(&sql)
            .bind(user)
            .bind(unit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// One item in `scope`, filed or waiting; another's item is not found.
    pub async fn inbox_item(&mut self, scope: &InboxScope, id: Uuid) -> Result<InboxItem, DbError> {
        self.inbox_item_inner(scope, id, "").await
    }

    async fn inbox_item_inner(
        &mut self,
        scope: &InboxScope,
        id: Uuid,
        lock: &str,
    ) -> Result<InboxItem, DbError> {
        let (user, unit) = scope.binds();
        let sql =
            format!("SELECT {ITEM_COLUMNS} FROM inbox_items WHERE id = $3 AND {IN_SCOPE} {lock}");
        sqlx::query_as::<_, InboxItem>(&sql)
            .bind(user)
            .bind(unit)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(DbError::NotFound)
    }

    /// Locks a waiting item at the caller's `expected` version.
    async fn waiting_item(
        &mut self,
        scope: &InboxScope,
        id: Uuid,
        expected: i32,
    ) -> Result<InboxItem, DbError> {
        let item = self.inbox_item_inner(scope, id, "FOR UPDATE").await?;
        if item.filed_document_id.is_some() {
            return Err(DbError::Conflict("this item has already been filed".into()));
        }
        if item.row_version != expected {
            return Err(DbError::VersionMismatch);
        }
        Ok(item)
    }

    /// Files a waiting item as a new Dokument in `target`: the item's blob and wrapped key
    /// become the document's first version.
    pub async fn file_inbox_item(
        &mut self,
        scope: &InboxScope,
        id: Uuid,
        expected: i32,
        target: DocumentTarget,
        metadata: NewDocument,
    ) -> Result<Document, DbError> {
        let item = self.waiting_item(scope, id, expected).await?;
        let dek = match (&item.wrapped_dek, item.tenant_key_version) {
            (Some(wrapped), Some(key_version)) => Some(crate::StoredDek {
                wrapped: wrapped.clone(),
                key_version,
            }),
            _ => None,
        };
        let content = NewVersion {
            blob_key: item.blob_key.clone(),
            sha256_hex: item.sha256.clone(),
            size: u64::try_from(item.size_bytes).unwrap_or(0),
            media_type: item.media_type.clone(),
            file_name: item.file_name.clone(),
            dek,
            // Its text is extracted by a worker, like any Posteingang item's.
            text: None,
        };
        // The version charges the storage again as a new document: take back the item's.
        self.charge_usage(Charge::content(item.size_bytes, item.wrapped_dek.is_some()).negate())
            .await?;
        let doc = self
            .create_document_from(target, metadata, content, Intent::Inbox)
            .await?;
        // The version holds the key now; the item keeps only where its content went.
        let sql = format!(
            "UPDATE inbox_items
                SET filed_document_id = $2, filed_by = $3, filed_at = now(),
                    wrapped_dek = NULL, tenant_key_version = NULL, row_version = row_version + 1
              WHERE id = $1 RETURNING {ITEM_COLUMNS}"
        );
        let filed = sqlx::query_as::<_, InboxItem>(&sql)
            .bind(id)
            .bind(doc.id)
            .bind(&self.actor)
            .fetch_one(&mut *self.tx)
            .await?;
        self.emit(
            "inbox.filed",
            "inbox_item",
            id,
            Some(doc.file_id),
            Some(&item),
            Some(&filed),
        )
        .await?;
        Ok(doc)
    }

    /// Hands a waiting item on to a colleague or an org unit, with a note.
    pub async fn forward_inbox_item(
        &mut self,
        scope: &InboxScope,
        id: Uuid,
        expected: i32,
        to_user: Option<Uuid>,
        to_unit: Option<Uuid>,
        note: Option<String>,
    ) -> Result<InboxItem, DbError> {
        let item = self.waiting_item(scope, id, expected).await?;
        if let Some(unit) = to_unit {
            self.require_org_unit(unit, "org_unit_id").await?;
        }
        if let Some(user) = to_user {
            self.require(
                "SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL",
                user,
                "user_id",
            )
            .await?;
        }
        let sql = format!(
            "UPDATE inbox_items
                SET user_id = $2, org_unit_id = $3, note = coalesce($4, note),
                    row_version = row_version + 1
              WHERE id = $1 RETURNING {ITEM_COLUMNS}"
        );
        let forwarded = sqlx::query_as::<_, InboxItem>(&sql)
            .bind(id)
            .bind(to_user)
            .bind(to_unit)
            .bind(&note)
            .fetch_one(&mut *self.tx)
            .await?;
        self.emit(
            "inbox.forwarded",
            "inbox_item",
            id,
            None,
            Some(&item),
            Some(&forwarded),
        )
        .await?;
        Ok(forwarded)
    }
}
