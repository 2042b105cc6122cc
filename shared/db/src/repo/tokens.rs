//! API tokens: issued hashed, looked up through the one security-definer door, revoked.

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
    pub can_write: bool,
    pub plan_unit_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub token_hash: &'a [u8],
    pub can_write: bool,
    pub plan_unit_id: Option<Uuid>,
    pub expires_at: Option<time::OffsetDateTime>,
}

const TOKEN_COLUMNS: &str =
    "id, name, role, can_write, plan_unit_id, expires_at, created_at, revoked_at";

#[derive(sqlx::FromRow)]
struct AuthRow {
    kind: String,
    token_id: Uuid,
    tenant_id: Option<Uuid>,
    role: Option<String>,
    name: String,
    can_write: bool,
    plan_unit_id: Option<Uuid>,
}

pub(crate) async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<Principal>, DbError> {
    let row = sqlx::query_as::<_, AuthRow>(
        "SELECT kind, token_id, tenant_id, role, name, can_write, plan_unit_id FROM akta_authenticate($1)",
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
                    can_write: row.can_write,
                    plan_scope: row.plan_unit_id,
                })
            }
            _ => None,
        },
    )
}

impl TenantTx {
    pub async fn create_token(&mut self, new: NewToken<'_>) -> Result<TokenRow, DbError> {
        if let Some(unit) = new.plan_unit_id {
            self.require(
                "SELECT 1 FROM plan_units WHERE id = $1",
                unit,
                "plan_unit_id",
            )
            .await?;
        }
        let sql = format!(
            "INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, can_write, plan_unit_id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query_as::<_, TokenRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(new.name)
            .bind(new.role.as_str())
            .bind(new.token_hash)
            .bind(new.can_write)
            .bind(new.plan_unit_id)
            .bind(new.expires_at)
            .fetch_one(&mut *self.tx)
            .await?;
        self.audit_tenant_event("token.created", "token", row.id, &row)
            .await?;
        Ok(row)
    }
}

impl TenantTx {
    pub async fn token(&mut self, id: Uuid) -> Result<TokenRow, DbError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        Ok(sqlx::query_as::<_, TokenRow>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn list_tokens(&mut self) -> Result<Vec<TokenRow>, DbError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        Ok(sqlx::query_as::<_, TokenRow>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Revokes a token at once; idempotent.
    pub async fn revoke_token(&mut self, id: Uuid) -> Result<TokenRow, DbError> {
        let before = self.token(id).await?;
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
             RETURNING {TOKEN_COLUMNS}"
        );
        let after = sqlx::query_as::<_, TokenRow>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.emit(
            "token.revoked",
            "token",
            id,
            None,
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

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
