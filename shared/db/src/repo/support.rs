//! Support access grants: the operator may read a tenant's records only while a tenant admin
//! allows it.

use akta_domain::TenantId;
use serde::Serialize;
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = SupportGrant)]
pub struct SupportGrant {
    pub id: Uuid,
    pub granted_by: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

const GRANT_COLUMNS: &str = "id, granted_by, reason, created_at, expires_at, revoked_at";

impl Db {
    /// The live support grant of the tenant with this slug, if any.
    pub async fn live_support_grant(
        &self,
        slug: &str,
    ) -> Result<Option<(TenantId, Uuid)>, DbError> {
        let row: Option<(Uuid, Uuid, time::OffsetDateTime)> =
            sqlx::query_as("SELECT tenant_id, grant_id, expires_at FROM akta_support_grant($1)")
                .bind(slug)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(t, g, _)| (TenantId(t), g)))
    }
}

impl TenantTx {
    pub async fn grant_support(
        &mut self,
        reason: &str,
        hours: i64,
    ) -> Result<SupportGrant, DbError> {
        let sql = format!(
            "INSERT INTO support_grants (id, tenant_id, granted_by, reason, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5)) RETURNING {GRANT_COLUMNS}"
        );
        let grant = sqlx::query_as::<_, SupportGrant>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(&self.actor)
            .bind(reason)
            .bind(i32::try_from(hours).unwrap_or(1))
            .fetch_one(&mut *self.tx)
            .await?;
        self.audit_tenant_event("support.granted", "support_grant", grant.id, &grant)
            .await?;
        Ok(grant)
    }

    pub async fn list_support_grants(&mut self) -> Result<Vec<SupportGrant>, DbError> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM support_grants ORDER BY id DESC");
        Ok(sqlx::query_as::<_, SupportGrant>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn revoke_support(&mut self, id: Uuid) -> Result<SupportGrant, DbError> {
        let sql = format!(
            "UPDATE support_grants SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
             RETURNING {GRANT_COLUMNS}"
        );
        let grant = sqlx::query_as::<_, SupportGrant>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.audit_tenant_event("support.revoked", "support_grant", id, &grant)
            .await?;
        Ok(grant)
    }

    /// One audit event per request made under support access.
    pub async fn audit_support_request(
        &mut self,
        grant: Uuid,
        method: &str,
        path: &str,
    ) -> Result<(), DbError> {
        let detail = serde_json::json!({"method": method, "path": path});
        self.audit_tenant_event("support.request", "support_grant", grant, &detail)
            .await
    }
}
