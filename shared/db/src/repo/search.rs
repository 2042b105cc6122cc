//! The index log (one row per change a search index must apply, written in the change's
//! transaction) and what the index applier reads to build an index entry.

use serde_json::Value;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::repo::extraction::StoredText;
use crate::{Db, DbError, TenantTx};
use akta_domain::TenantId;

/// One entry of the index log.
#[derive(Debug, Clone)]
pub struct IndexLogEntry {
    pub seq: i64,
    pub tenant: TenantId,
    /// `None` for `purge`.
    pub document_id: Option<Uuid>,
    /// `upsert` or `delete` a document, or `purge` the tenant's whole index.
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
    pub confidentiality: String,
    pub metadata: Value,
    /// Blob of the latest version (its DEK opens sealed text).
    pub blob_key: String,
    pub text: Option<String>,
    pub parts: Option<Value>,
    pub sealed: Option<Vec<u8>>,
    pub sealed_len: Option<i64>,
    pub sealed_key: Option<Vec<u8>>,
    /// The latest version's key columns (see [`crate::ContentKey`]): read here, so opening
    /// sealed text costs no query per document.
    pub wrapped_dek: Option<Vec<u8>>,
    pub tenant_key_version: Option<i32>,
    pub wrapped_key: Option<Vec<u8>>,
    pub master_key_id: Option<String>,
}

impl SearchSource {
    /// The latest version's key columns, as [`TenantTx::content_key`] reads them.
    pub fn content_key(&mut self) -> crate::ContentKey {
        crate::ContentKey {
            wrapped_dek: self.wrapped_dek.take(),
            tenant_key_version: self.tenant_key_version,
            wrapped_key: self.wrapped_key.take(),
            master_key_id: self.master_key_id.take(),
        }
    }

    /// Extracted text of the latest version; `None` until extracted.
    pub fn stored_text(&mut self) -> Option<StoredText> {
        let text = self.text.take()?;
        Some(StoredText::from_columns(
            self.blob_key.clone(),
            text,
            self.parts.take().unwrap_or(Value::Null),
            self.sealed.take(),
            self.sealed_len.take(),
            self.sealed_key.take(),
        ))
    }
}

/// What a search may show its caller, read at its start (see
/// [`TenantTx::search_visibility`]).
#[derive(Debug, Clone)]
pub struct SearchScope {
    /// The code of the plan unit the caller is confined to, if any.
    pub plan_scope: Option<String>,
    /// The confidential Akten the caller is named on.
    pub confidential_files: Vec<Uuid>,
    pub lag: IndexLag,
    /// Whether another tenant shares an Akte with this one (Amtshilfe) now.
    pub shared_with_us: bool,
}

/// How far a node's index trails the index log for one tenant.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct IndexLag {
    /// Log entries not yet applied.
    pub entries: i64,
    /// Age of the oldest of them in seconds.
    pub seconds: f64,
}

impl Db {
    /// Index log entries of all tenants after `seq`, oldest first.
    pub async fn index_log_after(
        &self,
        seq: i64,
        limit: i32,
    ) -> Result<Vec<IndexLogEntry>, DbError> {
        let rows: Vec<(i64, Uuid, Option<Uuid>, String)> = sqlx::query_as(
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

    /// Highest sequence number deleted by pruning: a node below it has missed entries.
    pub async fn index_log_horizon(&self) -> Result<i64, DbError> {
        let (h,): (i64,) = sqlx::query_as("SELECT akta_index_log_horizon()")
            .fetch_one(self.pool())
            .await?;
        Ok(h)
    }

    /// The newest sequence number after waiting for writers in flight (see the migration):
    /// where a rebuild that reads PostgreSQL afterwards may continue from.
    pub async fn index_log_settled_head(&self) -> Result<i64, DbError> {
        let (h,): (i64,) = sqlx::query_as("SELECT akta_index_log_settled_head()")
            .fetch_one(self.pool())
            .await?;
        Ok(h)
    }

    /// Deletes log entries older than `keep`; returns how many.
    pub async fn prune_index_log(&self, keep: std::time::Duration) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT akta_index_log_prune(make_interval(secs => $1))")
            .bind(keep.as_secs_f64())
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

impl TenantTx {
    /// Holds the index log's shared lock until commit: the applier waits for it before
    /// reading (see the migration), so entries become visible in number order.
    async fn hold_index_log_lock(&mut self) -> Result<(), DbError> {
        sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('akta:index_log'))")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Appends an index log entry (in the transaction of the change it describes); written
    /// when the transaction commits (see [`TenantTx::flush_index_log`]).
    pub(crate) async fn log_index_change(
        &mut self,
        document_id: Uuid,
        op: &'static str,
    ) -> Result<(), DbError> {
        self.pending_index.push((document_id, op));
        Ok(())
    }

    /// Writes the pending index log entries, in the order they were logged, in one
    /// statement under the log's shared lock.
    pub(crate) async fn flush_index_log(&mut self) -> Result<(), DbError> {
        if self.pending_index.is_empty() {
            return Ok(());
        }
        let (ids, ops): (Vec<Uuid>, Vec<&str>) =
            std::mem::take(&mut self.pending_index).into_iter().unzip();
        self.hold_index_log_lock().await?;
        sqlx::query(
            "INSERT INTO index_log (tenant_id, document_id, op)
             SELECT $1, e.document_id, e.op
               FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS e(document_id, op, n)
              ORDER BY e.n",
        )
        .bind(self.tenant.0)
        .bind(&ids)
        .bind(&ops)
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
        Ok(self.search_sources(&[document_id]).await?.pop())
    }

    /// [`TenantTx::search_source`] for many documents in one query (the applier reads a
    /// batch of log entries at a time). Documents this transaction cannot see are left out.
    /// The batch's documents are picked first, by id, and each plan unit's path is built
    /// once: left to the planner, the plan units were found by walking every Akte of the
    /// tenant, which made each batch slower the larger the tenant (70 ms per 500 documents
    /// at 100,000 on an idle database, about 10 ms now).
    pub async fn search_sources(
        &mut self,
        document_ids: &[Uuid],
    ) -> Result<Vec<SearchSource>, DbError> {
        let sources = sqlx::query_as::<_, SearchSource>(
            "WITH RECURSIVE picked AS MATERIALIZED (
                 SELECT d.file_id FROM documents d WHERE d.id = ANY($1)
             ), path AS (
                 SELECT p.id AS unit_id, p.parent_id, p.code, 0 AS depth FROM plan_units p
                  WHERE p.id IN (SELECT f.plan_unit_id FROM picked JOIN files f ON f.id = picked.file_id)
                 UNION ALL
                 SELECT path.unit_id, p.parent_id, p.code, path.depth + 1 FROM plan_units p
                   JOIN path ON p.id = path.parent_id
                  WHERE path.depth < 64
             ), paths AS MATERIALIZED (
                 SELECT unit_id, array_agg(code ORDER BY depth DESC) AS codes
                   FROM path GROUP BY unit_id
             )
             SELECT d.id AS document_id, v.nr AS version, d.file_id, d.case_id, d.title, d.kind,
                    f.reference, c.reference AS case_reference, f.subject, d.sender, d.recipient,
                    d.document_date, d.created_at,
                    coalesce(paths.codes, ARRAY[]::text[]) AS plan_unit_path,
                    f.lead_org_unit_id AS org_unit, f.status, f.confidentiality, d.metadata,
                    v.blob_key, t.text, t.parts, t.sealed, t.sealed_len, t.sealed_key,
                    v.wrapped_dek, v.tenant_key_version, k.wrapped_key, k.master_key_id
               FROM documents d
               JOIN files f ON f.id = d.file_id
               LEFT JOIN paths ON paths.unit_id = f.plan_unit_id
               LEFT JOIN cases c ON c.id = d.case_id
               JOIN LATERAL (SELECT id, nr, blob_key, wrapped_dek, tenant_key_version
                               FROM document_versions
                              WHERE document_id = d.id ORDER BY nr DESC LIMIT 1) v ON true
               LEFT JOIN extracted_texts t ON t.version_id = v.id
               LEFT JOIN tenant_keys k
                 ON k.tenant_id = d.tenant_id AND k.version = v.tenant_key_version
              WHERE d.id = ANY($1)",
        )
        .bind(document_ids)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(sources)
    }

    /// Logs that every node must empty this tenant's index (the tenant was deleted).
    pub(crate) async fn log_index_purge(&mut self) -> Result<(), DbError> {
        self.flush_index_log().await?;
        self.hold_index_log_lock().await?;
        sqlx::query(
            "INSERT INTO index_log (tenant_id, document_id, op) VALUES ($1, NULL, 'purge')",
        )
        .bind(self.tenant.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Logs an upsert for every document of the Akte: what the index stores of the Akte
    /// (Betreff, status, Federführung) changed.
    pub(crate) async fn log_file_change(&mut self, file_id: Uuid) -> Result<(), DbError> {
        self.flush_index_log().await?;
        self.hold_index_log_lock().await?;
        sqlx::query(
            "INSERT INTO index_log (tenant_id, document_id, op)
             SELECT tenant_id, id, 'upsert' FROM documents WHERE file_id = $1 ORDER BY id",
        )
        .bind(file_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Ids of every document this transaction can see (for rebuilding an index).
    pub async fn document_ids(&mut self) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM documents ORDER BY id")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// What of the tenant's index this transaction's caller may see: the plan unit code of
    /// its scope and the confidential Akten it is named on (RLS decides both); with how far
    /// a node at log position `applied` trails the tenant's log, and whether other tenants
    /// share Akten with this one. One round trip: every search asks.
    pub async fn search_visibility(&mut self, applied: i64) -> Result<SearchScope, DbError> {
        let (plan_scope, confidential_files, entries, seconds, shared_with_us): (
            Option<String>,
            Vec<Uuid>,
            i64,
            f64,
            bool,
        ) = sqlx::query_as(concat!(
            "SELECT (SELECT code FROM plan_units
                      WHERE id = nullif(current_setting('app.plan_scope', true), '')::uuid),
                    ARRAY(SELECT id FROM files WHERE confidentiality <> 'normal'),
                    l.entries, l.seconds,
                    EXISTS (SELECT 1 FROM file_shares s
                             WHERE s.grantee_tenant_id = $2 AND ",
            crate::repo::shares::share_open!(),
            ")
               FROM akta_index_lag($1) l"
        ))
        .bind(applied)
        .bind(self.tenant.0)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(SearchScope {
            plan_scope,
            confidential_files,
            lag: IndexLag {
                entries,
                seconds: seconds.max(0.0),
            },
            shared_with_us,
        })
    }

    /// Ids among `ids` that this transaction may see (RLS: plan scope, confidential Akten).
    /// A hit shows content (title, snippet): hits in confidential Akten are audited as
    /// reads, like downloads. `confidential_files` are the confidential Akten this transaction
    /// may see (from [`TenantTx::search_visibility`]): knowing them, the query needs no join
    /// on `files`, whose row-level policy would be evaluated once more per hit.
    pub async fn visible_search_hits(
        &mut self,
        ids: &[Uuid],
        confidential_files: &[Uuid],
    ) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT d.id, d.file_id FROM documents d WHERE d.id = ANY($1)")
                .bind(ids)
                .fetch_all(&mut *self.tx)
                .await?;
        for (id, file_id) in &rows {
            if confidential_files.contains(file_id) {
                self.note_read(*file_id, "search_hit", *id).await?;
            }
        }
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }
}
