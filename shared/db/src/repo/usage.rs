//! Usage for cost sharing, per tenant and month: what the workers add as it happens, and the
//! operator's monthly report (rolled-up counters; see migration `…_usage.sql`).

use serde::Serialize;
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};

/// One tenant's usage in one month.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UsageRow {
    pub tenant_id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: String,
    /// Documents and versions filed in the month.
    pub documents: i64,
    pub versions: i64,
    /// Bytes filed in the month, as filed and as written to the store.
    pub bytes_added: i64,
    pub stored_bytes_added: i64,
    /// The tenant's storage at the end of the month (or now, for this month).
    pub logical_bytes: i64,
    pub stored_bytes: i64,
    /// People who made at least one request in the month.
    pub active_users: i64,
    pub api_requests: i64,
    pub search_requests: i64,
    /// Time the extraction workers (text and OCR) spent on the tenant's documents.
    pub extraction_ms: i64,
}

impl TenantTx {
    /// Adds extraction (or OCR) time to this month's usage.
    pub async fn add_extraction_time(&mut self, millis: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO usage_monthly AS u (tenant_id, month, extraction_ms)
             VALUES ($1, akta_usage_month(now()), $2)
             ON CONFLICT (tenant_id, month) DO UPDATE
                SET extraction_ms = u.extraction_ms + EXCLUDED.extraction_ms",
        )
        .bind(self.tenant.0)
        .bind(millis.max(0))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl Db {
    /// Every tenant's usage in the month starting `month` (its first day), by slug.
    pub async fn usage_report(&self, month: time::Date) -> Result<Vec<UsageRow>, DbError> {
        Ok(sqlx::query_as::<_, UsageRow>(
            "SELECT tenant_id, slug, display_name, status, documents, versions, bytes_added,
                    stored_bytes_added, logical_bytes, stored_bytes, active_users, api_requests,
                    search_requests, extraction_ms
               FROM akta_usage_report($1)",
        )
        .bind(month)
        .fetch_all(self.pool())
        .await?)
    }
}

/// What `/metrics` reads from the database at scrape time.
#[derive(Debug, Default)]
pub struct ScrapeGauges {
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// (outbox, state, rows).
    pub outboxes: Vec<(String, String, i64)>,
    /// (tenant slug, bytes as filed, bytes in the store).
    pub storage: Vec<(String, i64, i64)>,
}

impl Db {
    /// The pool's state, the outboxes' depths and each tenant's storage.
    pub async fn scrape_gauges(&self) -> Result<ScrapeGauges, DbError> {
        let pool = self.pool();
        let outboxes = sqlx::query_as("SELECT outbox, state, depth FROM akta_outbox_depths()")
            .fetch_all(pool)
            .await?;
        let storage = sqlx::query_as("SELECT slug, logical, stored FROM akta_storage_by_tenant()")
            .fetch_all(pool)
            .await?;
        Ok(ScrapeGauges {
            pool_connections: pool.size(),
            pool_idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            pool_max: pool.options().get_max_connections(),
            outboxes,
            storage,
        })
    }
}
