//! Domain events: every change writes exactly one event, in the transaction of the change,
//! and this module is the one place that turns an event into what follows from it — the
//! audit chain entry, the search index log entries and the extraction outbox row. A further
//! consumer (a webhook outbox) is one more line in [`TenantTx::record`].

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One change: its type (`file.closed`, `document.created`, …), what it touched, who made it
/// (the transaction's actor), when (the transaction's time), why (a reason, where the change
/// needs one), and the object before and after.
#[derive(Debug, Clone)]
pub struct DomainEvent {
    pub kind: String,
    pub object_type: String,
    pub object_id: Uuid,
    /// The Akte the change belongs to (its history shows the event).
    pub file_id: Option<Uuid>,
    /// A new version whose text must be extracted.
    pub version_id: Option<Uuid>,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn to_json<T: Serialize>(v: &T) -> Result<Value, DbError> {
    serde_json::to_value(v).map_err(|e| DbError::Conflict(format!("event encoding: {e}")))
}

impl DomainEvent {
    pub fn new(kind: &str, object_type: &str, object_id: Uuid) -> Self {
        Self {
            kind: kind.to_owned(),
            object_type: object_type.to_owned(),
            object_id,
            file_id: None,
            version_id: None,
            reason: None,
            before: None,
            after: None,
        }
    }

    pub fn in_file(mut self, file_id: Uuid) -> Self {
        self.file_id = Some(file_id);
        self
    }

    pub fn with_version(mut self, version_id: Uuid) -> Self {
        self.version_id = Some(version_id);
        self
    }

    pub fn with_reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason.map(str::to_owned);
        self
    }

    pub fn before<T: Serialize>(mut self, before: &T) -> Result<Self, DbError> {
        self.before = Some(to_json(before)?);
        Ok(self)
    }

    pub fn after<T: Serialize>(mut self, after: &T) -> Result<Self, DbError> {
        self.after = Some(to_json(after)?);
        Ok(self)
    }

    /// What the search index holds of an Akte with each of its documents.
    const INDEXED_FILE_FIELDS: [&'static str; 4] =
        ["subject", "status", "lead_org_unit_id", "confidentiality"];

    /// What the event means for this tenant's search index.
    fn search_effect(&self) -> SearchEffect {
        match self.kind.as_str() {
            "document.created"
            | "document.version_added"
            | "document.updated"
            | "document.text_extracted" => SearchEffect::Document(self.object_id),
            "file.updated" | "file.closed" | "file.reopened" => {
                let field = |v: &Option<Value>, k: &str| v.as_ref().and_then(|v| v.get(k)).cloned();
                let changed = Self::INDEXED_FILE_FIELDS
                    .iter()
                    .any(|k| field(&self.before, k) != field(&self.after, k));
                if changed {
                    SearchEffect::FileDocuments(self.object_id)
                } else {
                    SearchEffect::None
                }
            }
            "tenant.deleted" => SearchEffect::Purge,
            _ => SearchEffect::None,
        }
    }

    /// Whether the event enters the audit chain. Extracted text is the system's own work on
    /// a version already audited when it was filed; it changes only what search finds.
    fn audited(&self) -> bool {
        self.kind != "document.text_extracted"
    }
}

enum SearchEffect {
    None,
    Document(Uuid),
    FileDocuments(Uuid),
    Purge,
}

impl TenantTx {
    /// Records `event` and everything that follows from it, in this transaction: it commits
    /// or rolls back with the change.
    pub async fn record(&mut self, event: DomainEvent) -> Result<(), DbError> {
        if event.audited() {
            self.write_audit_entry(&event).await?;
        }
        match event.search_effect() {
            SearchEffect::None => {}
            SearchEffect::Document(id) => self.log_index_change(id, "upsert").await?,
            SearchEffect::FileDocuments(id) => self.log_file_change(id).await?,
            SearchEffect::Purge => self.log_index_purge().await?,
        }
        if let Some(version) = event.version_id {
            self.enqueue_extraction(version).await?;
        }
        Ok(())
    }
}
