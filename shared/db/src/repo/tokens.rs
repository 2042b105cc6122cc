use akta_domain::{Principal, Role, TenantId};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// What a valid token resolves to.
pub type Authenticated = Principal;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub token_hash: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    kind: String,
    token_id: Uuid,
    tenant_id: Option<Uuid>,
    role: Option<String>,
    name: String,
}

pub(crate) async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<Principal>, DbError> {
    let row = sqlx::query_as::<_, AuthRow>(
        "SELECT kind, token_id, tenant_id, role, name FROM akta_authenticate($1)",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(
        match (row.kind.as_str(), row.tenant_id, row.role.as_deref()) {
            ("operator", _, _) => Some(Principal::Operator {
                token_id: row.token_id,
                name: row.name,
            }),
            ("tenant", Some(tenant), Some(role)) => {
                Role::parse(role).ok().map(|role| Principal::Tenant {
                    tenant_id: TenantId(tenant),
                    role,
                    token_id: row.token_id,
                    name: row.name,
                })
            }
            _ => None,
        },
    )
}

impl TenantTx {
    pub async fn create_token(&mut self, new: NewToken<'_>) -> Result<TokenRow, DbError> {
        let row = sqlx::query_as::<_, TokenRow>(
            "INSERT INTO api_tokens (id, tenant_id, name, role, token_hash) VALUES ($1, $2, $3, $4, $5)
             RETURNING id, name, role, created_at",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(new.token_hash)
        .fetch_one(&mut *self.tx)
        .await?;
        self.audit_tenant_event("token.created", "token", row.id, &row)
            .await?;
        Ok(row)
    }
}

impl TenantTx {
    /// Sets the tenant's Aktenzeichen template (validated by the caller).
    pub async fn set_reference_format(&mut self, format: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE tenants SET reference_format = $2 WHERE id = $1")
            .bind(self.tenant.0)
            .bind(format)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
