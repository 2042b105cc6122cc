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

/// What filing (or taking back) content adds to a tenant's usage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Charge {
    /// Content as filed.
    pub bytes: i64,
    /// Content as written to the store (sealed content is larger).
    pub stored: i64,
    pub documents: i64,
    pub versions: i64,
}

impl Charge {
    /// Content of `bytes` as filed, sealed in the store when `sealed`.
    pub fn content(bytes: i64, sealed: bool) -> Charge {
        let stored = if sealed {
            u64::try_from(bytes)
                .map(akta_crypto::ciphertext_len)
                .ok()
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(bytes)
        } else {
            bytes
        };
        Charge {
            bytes,
            stored,
            ..Charge::default()
        }
    }

    /// A new version (the first one of a new document when `first`).
    pub fn version(bytes: i64, sealed: bool, first: bool) -> Charge {
        Charge {
            documents: i64::from(first),
            versions: 1,
            ..Charge::content(bytes, sealed)
        }
    }

    /// The same content taken back.
    pub fn negate(self) -> Charge {
        Charge {
            bytes: -self.bytes,
            stored: -self.stored,
            documents: -self.documents,
            versions: -self.versions,
        }
    }

    pub(crate) fn add(&mut self, other: Charge) {
        self.bytes += other.bytes;
        self.stored += other.stored;
        self.documents += other.documents;
        self.versions += other.versions;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0 && self.stored == 0 && self.documents == 0 && self.versions == 0
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
    pub(crate) async fn charge_usage(&mut self, charge: Charge) -> Result<(), DbError> {
        if let Some(batch) = self.batch.as_mut() {
            // Charged (and checked against the quota) once, at commit.
            batch.usage.add(charge);
            return Ok(());
        }
        self.charge_usage_now(charge).await
    }

    /// Charges the quota and counts the month's usage (documents, versions, bytes as filed
    /// and as stored, and the storage level after it).
    pub(crate) async fn charge_usage_now(&mut self, charge: Charge) -> Result<(), DbError> {
        let (storage, documents, stored): (i64, i64, i64) = sqlx::query_as(
            "INSERT INTO tenant_usage (tenant_id, storage_bytes, documents, stored_bytes)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE SET storage_bytes = tenant_usage.storage_bytes + $2,
                    documents = tenant_usage.documents + $3,
                    stored_bytes = tenant_usage.stored_bytes + $4
             RETURNING storage_bytes, documents, stored_bytes",
        )
        .bind(self.tenant.0)
        .bind(charge.bytes)
        .bind(charge.documents)
        .bind(charge.stored)
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query(
            "INSERT INTO usage_monthly AS u (tenant_id, month, documents, versions, bytes_added,
                                             stored_bytes_added, logical_bytes, stored_bytes)
             VALUES ($1, akta_usage_month(now()), GREATEST($2, 0), $3, GREATEST($4, 0),
                     GREATEST($5, 0), $6, $7)
             ON CONFLICT (tenant_id, month) DO UPDATE
                SET documents = u.documents + EXCLUDED.documents,
                    versions = u.versions + EXCLUDED.versions,
                    bytes_added = u.bytes_added + EXCLUDED.bytes_added,
                    stored_bytes_added = u.stored_bytes_added + EXCLUDED.stored_bytes_added,
                    logical_bytes = EXCLUDED.logical_bytes,
                    stored_bytes = EXCLUDED.stored_bytes",
        )
        .bind(self.tenant.0)
        .bind(charge.documents)
        .bind(charge.versions)
        .bind(charge.bytes)
        .bind(charge.stored)
        .bind(storage)
        .bind(stored)
        .execute(&mut *self.tx)
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
