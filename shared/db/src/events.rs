//! Domain events: every change writes exactly one event, in the transaction of the change,
//! and this module is the one place that turns an event into what follows from it — the
//! audit chain entry, the search index log entries, the extraction outbox row and the
//! webhook outbox rows (`repo::webhooks`).

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

/// What a transaction in batch mode (many documents filed at once, see
/// [`TenantTx::batch_writes`]) writes at commit instead of after each change: audit entries
/// in their order, extraction jobs, webhook messages, the usage charge; and the targets it resolved, each
/// resolved (and locked) once. The audit chain's head is then locked only for the final
/// insert, not for the whole batch.
#[derive(Default)]
pub(crate) struct Batched {
    audit: Vec<(DomainEvent, Option<Value>)>,
    extractions: Vec<Uuid>,
    /// Versions among `extractions` whose text was stored while filing: their jobs are done.
    pub(crate) texts_filed: std::collections::HashSet<Uuid>,
    /// Blob keys whose upload intents end with this batch.
    pub(crate) intents: Vec<String>,
    /// Webhook messages: (public type, body).
    webhooks: Vec<(&'static str, String)>,
    pub(crate) usage: crate::repo::quotas::Charge,
    pub(crate) targets: std::collections::HashMap<(bool, Uuid), (Uuid, Option<Uuid>)>,
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
        if self.batch.is_some() {
            return self.record_batched(event).await;
        }
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
        self.enqueue_webhooks(&event).await?;
        Ok(())
    }

    /// Records the `document.text_extracted` event of text stored while its version was filed:
    /// only its webhook messages. It is not audited (see [`DomainEvent::audited`]), and the
    /// version's own event already logged the Dokument for the index, which reads the text
    /// committed with it.
    pub(crate) async fn record_filed_text(&mut self, document_id: Uuid) -> Result<(), DbError> {
        let event = DomainEvent::new("document.text_extracted", "document", document_id);
        match self.batch.as_mut() {
            Some(batch) => {
                if let Some(message) = crate::repo::webhooks::webhook_message(&event) {
                    batch.webhooks.push(message);
                }
                Ok(())
            }
            None => self.enqueue_webhooks(&event).await,
        }
    }

    /// Files many documents (or stores many extraction results) in this transaction: what
    /// follows from each change is written at commit (see [`Batched`]). Only for
    /// transactions that create documents and versions or complete extraction jobs.
    pub fn batch_writes(&mut self) {
        self.batch.get_or_insert_with(Batched::default);
    }

    async fn record_batched(&mut self, event: DomainEvent) -> Result<(), DbError> {
        match event.search_effect() {
            SearchEffect::None => {}
            SearchEffect::Document(id) => self.log_index_change(id, "upsert").await?,
            SearchEffect::FileDocuments(id) => self.log_file_change(id).await?,
            SearchEffect::Purge => self.log_index_purge().await?,
        }
        let after = if event.audited() {
            Some(self.audit_after(&event)?)
        } else {
            None
        };
        let batch = self.batch.get_or_insert_with(Batched::default);
        if let Some(message) = crate::repo::webhooks::webhook_message(&event) {
            batch.webhooks.push(message);
        }
        if let Some(version) = event.version_id {
            batch.extractions.push(version);
        }
        if let Some(after) = after {
            batch.audit.push((event, after));
        }
        Ok(())
    }

    /// Writes what batch mode gathered: audit entries in one statement (in order, so the
    /// chain links them as if written one by one), extraction jobs in one, the usage charge
    /// with its quota check.
    pub(crate) async fn flush_batch(&mut self) -> Result<(), DbError> {
        let Some(batch) = self.batch.take() else {
            return Ok(());
        };
        if !batch.intents.is_empty() {
            let done = sqlx::query("DELETE FROM upload_intents WHERE blob_key = ANY($1)")
                .bind(&batch.intents)
                .execute(&mut *self.tx)
                .await?;
            if done.rows_affected() != batch.intents.len() as u64 {
                return Err(DbError::Conflict(
                    crate::repo::documents::UPLOAD_TOOK_TOO_LONG.into(),
                ));
            }
        }
        if !batch.audit.is_empty() {
            let mut actions = Vec::with_capacity(batch.audit.len());
            let mut types = Vec::with_capacity(batch.audit.len());
            let mut objects = Vec::with_capacity(batch.audit.len());
            let mut files: Vec<Option<Uuid>> = Vec::with_capacity(batch.audit.len());
            let mut befores: Vec<Option<String>> = Vec::with_capacity(batch.audit.len());
            let mut afters: Vec<Option<String>> = Vec::with_capacity(batch.audit.len());
            for (event, after) in &batch.audit {
                actions.push(event.kind.clone());
                types.push(event.object_type.clone());
                objects.push(event.object_id);
                files.push(event.file_id);
                befores.push(event.before.as_ref().map(Value::to_string));
                afters.push(after.as_ref().map(Value::to_string));
            }
            sqlx::query(
                "INSERT INTO audit_events (tenant_id, actor, action, object_type, object_id, file_id, before, after)
                 SELECT $1, $2, e.action, e.object_type, e.object_id, e.file_id, e.before::jsonb, e.after::jsonb
                   FROM unnest($3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::text[], $8::text[])
                        WITH ORDINALITY AS e(action, object_type, object_id, file_id, before, after, n)
                  ORDER BY e.n",
            )
            .bind(self.tenant.0)
            .bind(&self.actor)
            .bind(&actions)
            .bind(&types)
            .bind(&objects)
            .bind(&files)
            .bind(&befores)
            .bind(&afters)
            .execute(&mut *self.tx)
            .await?;
        }
        if !batch.extractions.is_empty() {
            let ids: Vec<Uuid> = batch.extractions.iter().map(|_| Uuid::now_v7()).collect();
            let states: Vec<&str> = batch
                .extractions
                .iter()
                .map(|v| {
                    if batch.texts_filed.contains(v) {
                        "done"
                    } else {
                        "pending"
                    }
                })
                .collect();
            sqlx::query(
                "INSERT INTO extraction_jobs (id, tenant_id, version_id, state)
                 SELECT e.id, $1, e.version_id, e.state
                   FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS e(id, version_id, state)",
            )
            .bind(self.tenant.0)
            .bind(&ids)
            .bind(&batch.extractions)
            .bind(&states)
            .execute(&mut *self.tx)
            .await?;
        }
        if !batch.webhooks.is_empty() {
            let (types, payloads): (Vec<&str>, Vec<String>) = batch.webhooks.into_iter().unzip();
            self.insert_webhook_rows(&types, &payloads).await?;
        }
        if !batch.usage.is_empty() {
            self.charge_usage_now(batch.usage).await?;
        }
        Ok(())
    }
}
