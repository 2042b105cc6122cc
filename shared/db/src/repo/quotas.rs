//! Quotas per tenant and the usage they limit.

use akta_domain::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};

/// Limits of one tenant; `None` is unlimited (or, for requests, the server default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Quota {
    pub max_storage_bytes: Option<i64>,
    pub max_documents: Option<i64>,
    pub requests_per_minute: Option<i32>,
}

/// What the operator sees of a tenant: counts, never content.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TenantUsage {
    pub tenant_id: Uuid,
    pub storage_bytes: i64,
    pub documents: i64,
    pub max_storage_bytes: Option<i64>,
    pub max_documents: Option<i64>,
    pub requests_per_minute: Option<i32>,
}

impl Db {
    pub async fn tenant_overview(&self) -> Result<Vec<TenantUsage>, DbError> {
        Ok(sqlx::query_as::<_, TenantUsage>(
            "SELECT tenant_id, storage_bytes, documents, max_storage_bytes, max_documents,
                    requests_per_minute FROM akta_tenant_overview()",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Request limits of all tenants that have one, for the rate limiter.
    pub async fn request_limits(&self) -> Result<Vec<(TenantId, i32)>, DbError> {
        let rows: Vec<(Uuid, Option<i32>)> =
            sqlx::query_as("SELECT tenant_id, requests_per_minute FROM akta_tenant_overview()")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(t, r)| r.map(|r| (TenantId(t), r)))
            .collect())
    }
}

impl TenantTx {
    pub async fn set_quota(&mut self, quota: Quota) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO tenant_quotas (tenant_id, max_storage_bytes, max_documents, requests_per_minute)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE SET max_storage_bytes = $2, max_documents = $3,
                    requests_per_minute = $4, updated_at = now()",
        )
        .bind(self.tenant.0)
        .bind(quota.max_storage_bytes)
        .bind(quota.max_documents)
        .bind(quota.requests_per_minute)
        .execute(&mut *self.tx)
        .await?;
        self.audit_tenant_event("tenant.quota_set", "tenant", self.tenant.0, &quota)
            .await
    }

    /// Counts a new version (and maybe a new document) against the tenant's quota, in the
    /// transaction that writes it: over quota, the whole write rolls back.
    pub(crate) async fn charge_usage(
        &mut self,
        bytes: i64,
        new_document: bool,
    ) -> Result<(), DbError> {
        if let Some(batch) = self.batch.as_mut() {
            // Charged (and checked against the quota) once, at commit.
            batch.usage.0 += bytes;
            batch.usage.1 += i64::from(new_document);
            return Ok(());
        }
        self.charge_usage_now(bytes, i64::from(new_document)).await
    }

    pub(crate) async fn charge_usage_now(
        &mut self,
        bytes: i64,
        new_documents: i64,
    ) -> Result<(), DbError> {
        let (storage, documents): (i64, i64) = sqlx::query_as(
            "INSERT INTO tenant_usage (tenant_id, storage_bytes, documents) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET storage_bytes = tenant_usage.storage_bytes + $2,
                    documents = tenant_usage.documents + $3
             RETURNING storage_bytes, documents",
        )
        .bind(self.tenant.0)
        .bind(bytes)
        .bind(new_documents)
        .fetch_one(&mut *self.tx)
        .await?;
        let quota: Option<Quota> = sqlx::query_as(
            "SELECT max_storage_bytes, max_documents, requests_per_minute FROM tenant_quotas",
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        let quota = quota.unwrap_or_default();
        if quota.max_storage_bytes.is_some_and(|max| storage > max) {
            return Err(DbError::QuotaExceeded("storage"));
        }
        if quota.max_documents.is_some_and(|max| documents > max) {
            return Err(DbError::QuotaExceeded("documents"));
        }
        Ok(())
    }

    /// The tenant's quota and usage, to refuse an upload before it streams.
    pub async fn quota_headroom(&mut self) -> Result<(Quota, i64, i64), DbError> {
        let quota: Option<Quota> = sqlx::query_as(
            "SELECT max_storage_bytes, max_documents, requests_per_minute FROM tenant_quotas",
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        let usage: Option<(i64, i64)> =
            sqlx::query_as("SELECT storage_bytes, documents FROM tenant_usage")
                .fetch_optional(&mut *self.tx)
                .await?;
        let (storage, documents) = usage.unwrap_or((0, 0));
        Ok((quota.unwrap_or_default(), storage, documents))
    }
}
