//! The index log (one row per change a search index must apply, written in the change's
//! transaction) and what the index applier reads to build an index entry.

use serde_json::Value;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};
use akta_domain::TenantId;

/// One entry of the index log.
#[derive(Debug, Clone)]
pub struct IndexLogEntry {
    pub seq: i64,
    pub tenant: TenantId,
    pub document_id: Uuid,
    /// `upsert` or `delete`.
    pub op: String,
}

/// Everything the index stores about a document (its latest version).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchSource {
    pub document_id: Uuid,
    pub version: i32,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub title: String,
    pub kind: String,
    pub reference: String,
    pub case_reference: Option<String>,
    pub subject: String,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub document_date: Option<Date>,
    pub created_at: OffsetDateTime,
    /// Plan unit codes from the root down to the Akte's unit.
    pub plan_unit_path: Vec<String>,
    pub org_unit: Option<Uuid>,
    pub status: String,
    pub metadata: Value,
    /// Extracted text of the latest version (attachments appended); `None` until extracted.
    pub text: Option<String>,
    pub parts: Option<Value>,
}

impl Db {
    /// Index log entries of all tenants after `seq`, oldest first.
    pub async fn index_log_after(
        &self,
        seq: i64,
        limit: i32,
    ) -> Result<Vec<IndexLogEntry>, DbError> {
        let rows: Vec<(i64, Uuid, Uuid, String)> = sqlx::query_as(
            "SELECT seq, tenant_id, document_id, op FROM akta_index_log_after($1, $2)",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, t, document_id, op)| IndexLogEntry {
                seq,
                tenant: TenantId(t),
                document_id,
                op,
            })
            .collect())
    }

    /// The newest sequence number of the index log (0 when empty).
    pub async fn index_log_head(&self) -> Result<i64, DbError> {
        let (head,): (i64,) = sqlx::query_as("SELECT akta_index_log_head()")
            .fetch_one(self.pool())
            .await?;
        Ok(head)
    }
}

impl TenantTx {
    /// Appends an index log entry (in the transaction of the change it describes).
    pub(crate) async fn log_index_change(
        &mut self,
        document_id: Uuid,
        op: &str,
    ) -> Result<(), DbError> {
        // Held until commit: the applier waits for it before reading (see the migration).
        sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('akta:index_log'))")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("INSERT INTO index_log (tenant_id, document_id, op) VALUES ($1, $2, $3)")
            .bind(self.tenant.0)
            .bind(document_id)
            .bind(op)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// What the index needs about a document; `None` when this transaction cannot see it
    /// (deleted, or hidden from it).
    pub async fn search_source(
        &mut self,
        document_id: Uuid,
    ) -> Result<Option<SearchSource>, DbError> {
        let mut source = sqlx::query_as::<_, SearchSource>(
            "WITH RECURSIVE doc AS (
                 SELECT d.*, f.plan_unit_id FROM documents d JOIN files f ON f.id = d.file_id
                  WHERE d.id = $1
             ), path AS (
                 SELECT p.id, p.parent_id, p.code, 0 AS depth FROM plan_units p
                  WHERE p.id = (SELECT plan_unit_id FROM doc)
                 UNION ALL
                 SELECT p.id, p.parent_id, p.code, path.depth + 1 FROM plan_units p
                   JOIN path ON p.id = path.parent_id
                  WHERE path.depth < 64
             )
             SELECT d.id AS document_id, v.nr AS version, d.file_id, d.case_id, d.title, d.kind,
                    f.reference, c.reference AS case_reference, f.subject, d.sender, d.recipient,
                    d.document_date, d.created_at,
                    ARRAY(SELECT code FROM path ORDER BY depth DESC) AS plan_unit_path,
                    f.lead_org_unit_id AS org_unit, f.status, d.metadata,
                    t.text, t.parts
               FROM doc d
               JOIN files f ON f.id = d.file_id
               LEFT JOIN cases c ON c.id = d.case_id
               JOIN LATERAL (SELECT id, nr FROM document_versions
                              WHERE document_id = d.id ORDER BY nr DESC LIMIT 1) v ON true
               LEFT JOIN extracted_texts t ON t.version_id = v.id",
        )
        .bind(document_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        // Same layout as `extracted_text`: name line, then the attachment's text.
        if let Some(s) = source.as_mut() {
            if let (Some(text), Some(parts)) = (s.text.as_mut(), s.parts.take()) {
                for part in parts.as_array().into_iter().flatten() {
                    if let (Some(name), Some(body)) = (part[0].as_str(), part[1].as_str()) {
                        text.push_str("\n\n");
                        text.push_str(name);
                        text.push('\n');
                        text.push_str(body);
                    }
                }
            }
        }
        Ok(source)
    }

    /// Ids of every document this transaction can see (for rebuilding an index).
    pub async fn document_ids(&mut self) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM documents ORDER BY id")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Ids among `ids` that this transaction may see (RLS: plan scope, confidential Akten).
    pub async fn visible_documents(&mut self, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM documents WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
