//! The audit chain's entries (written from domain events, see `crate::events`) and an
//! Akte's history.

use serde::Serialize;
use uuid::Uuid;

use crate::events::DomainEvent;
use crate::{DbError, Page, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub file_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl TenantTx {
    /// Records a change as a domain event (see [`crate::events`]): its audit entry and what
    /// else follows from it, in this transaction.
    pub(crate) async fn emit<B: Serialize, A: Serialize>(
        &mut self,
        action: &str,
        object_type: &str,
        object_id: Uuid,
        file_id: Option<Uuid>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<(), DbError> {
        let mut event = DomainEvent::new(action, object_type, object_id);
        event.file_id = file_id;
        if let Some(before) = before {
            event = event.before(before)?;
        }
        if let Some(after) = after {
            event = event.after(after)?;
        }
        self.record(event).await
    }

    /// The audit chain's entry of `event`; a reason is kept beside the object's fields.
    /// What an event's audit entry stores as `after`: the object after the change, with the
    /// reason and where an import took it from.
    pub(crate) fn audit_after(
        &self,
        event: &DomainEvent,
    ) -> Result<Option<serde_json::Value>, DbError> {
        let mut after = event.after.clone();
        if let Some(reason) = &event.reason {
            let map = match after.get_or_insert_with(|| serde_json::json!({})) {
                serde_json::Value::Object(map) => map,
                _ => return Err(DbError::Conflict("event without an object".into())),
            };
            map.insert("reason".into(), serde_json::Value::String(reason.clone()));
        }
        if let Some(provenance) = &self.provenance {
            if let serde_json::Value::Object(map) =
                after.get_or_insert_with(|| serde_json::json!({}))
            {
                map.insert("imported_from".into(), provenance.clone());
            }
        }
        Ok(after)
    }

    pub(crate) async fn write_audit_entry(&mut self, event: &DomainEvent) -> Result<(), DbError> {
        let after = self.audit_after(event)?;
        sqlx::query(
            "INSERT INTO audit_events (tenant_id, actor, action, object_type, object_id, file_id, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.tenant.0)
        .bind(&self.actor)
        .bind(&event.kind)
        .bind(&event.object_type)
        .bind(event.object_id)
        .bind(event.file_id)
        .bind(&event.before)
        .bind(after)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Audit events of an Akte and everything in it, oldest first.
    pub async fn file_history(
        &mut self,
        file_id: Uuid,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Page<AuditEvent>, DbError> {
        self.file(file_id).await?;
        let rows = sqlx::query_as::<_, AuditEvent>(
            "SELECT id, at, actor, action, object_type, object_id, file_id, before, after
               FROM audit_events
              WHERE file_id = $1 AND id > $2
              ORDER BY id LIMIT $3",
        )
        .bind(file_id)
        .bind(after_id.unwrap_or(0))
        .bind(limit + 1)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(Page::from_rows(rows, limit, |e| e.id.to_string()))
    }

    /// Writes an audit event for a tenant-level change made outside the records (tokens, tenant).
    pub async fn audit_tenant_event<A: Serialize>(
        &mut self,
        action: &str,
        object_type: &str,
        object_id: Uuid,
        after: &A,
    ) -> Result<(), DbError> {
        self.emit::<(), A>(action, object_type, object_id, None, None, Some(after))
            .await
    }
}
