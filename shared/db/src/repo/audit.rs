//! Audit events: written in the transaction of the change they record; an Akte's history.

use serde::Serialize;
use uuid::Uuid;

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
    /// Writes one audit event in this transaction, so a change and its trace commit together.
    pub(crate) async fn audit<B: Serialize, A: Serialize>(
        &mut self,
        action: &str,
        object_type: &str,
        object_id: Uuid,
        file_id: Option<Uuid>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<(), DbError> {
        let to_json = |v: Option<serde_json::Result<serde_json::Value>>| v.transpose();
        let before = to_json(before.map(serde_json::to_value))
            .map_err(|e| DbError::Conflict(format!("audit encoding: {e}")))?;
        let after = to_json(after.map(serde_json::to_value))
            .map_err(|e| DbError::Conflict(format!("audit encoding: {e}")))?;
        sqlx::query(
            "INSERT INTO audit_events (tenant_id, actor, action, object_type, object_id, file_id, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.tenant.0)
        .bind(&self.actor)
        .bind(action)
        .bind(object_type)
        .bind(object_id)
        .bind(file_id)
        .bind(before)
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
        self.audit::<(), A>(action, object_type, object_id, None, None, Some(after))
            .await
    }
}
