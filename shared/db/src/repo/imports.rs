//! Imports started over REST: their state and report.

use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ImportJob {
    pub id: Uuid,
    pub state: String,
    pub dry_run: bool,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<time::OffsetDateTime>,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    /// What is imported (a file name, a manifest's path, "REST upload").
    pub source: String,
    /// While it runs: versions and bytes done of the total.
    pub progress: Option<serde_json::Value>,
}

const COLUMNS: &str =
    "id, state, dry_run, created_by, created_at, finished_at, report, error, source, progress";

impl TenantTx {
    pub async fn insert_import(
        &mut self,
        id: Uuid,
        dry_run: bool,
        source: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO imports (id, tenant_id, dry_run, created_by, source)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(dry_run)
        .bind(&self.actor)
        .bind(source)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn finish_import(
        &mut self,
        id: Uuid,
        report: Option<&serde_json::Value>,
        error: Option<&str>,
        last_progress: Option<&serde_json::Value>,
    ) -> Result<(), DbError> {
        // The last progress the import told, which the throttled progress writer may not
        // have stored yet (a small import ends before its first write).
        sqlx::query(
            "UPDATE imports SET state = CASE WHEN $3::text IS NULL THEN 'fertig' ELSE 'fehlgeschlagen' END,
                    finished_at = now(), report = $2, error = $3,
                    progress = CASE WHEN $3::text IS NULL AND coalesce($4, progress) IS NOT NULL
                                    THEN coalesce($4, progress)
                                         || jsonb_build_object('done', coalesce($4, progress)->'total',
                                                               'bytes_done', coalesce($4, progress)->'bytes_total')
                                    ELSE coalesce($4, progress) END
              WHERE id = $1",
        )
        .bind(id)
        .bind(report)
        .bind(error)
        .bind(last_progress)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn import_progress(
        &mut self,
        id: Uuid,
        progress: &serde_json::Value,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE imports SET progress = $2 WHERE id = $1 AND state = 'laufend'")
            .bind(id)
            .bind(progress)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The tenant's imports, newest first.
    pub async fn imports(&mut self, limit: i64) -> Result<Vec<ImportJob>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM imports ORDER BY created_at DESC LIMIT $1");
        Ok(sqlx::query_as::<_, ImportJob>(&sql)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn import_job(&mut self, id: Uuid) -> Result<ImportJob, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1");
        Ok(sqlx::query_as::<_, ImportJob>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }
}
