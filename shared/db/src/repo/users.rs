//! People of a tenant, their password and OIDC logins, sessions and lockouts.

use akta_domain::{Principal, Role, TenantId};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// A person of a tenant. The password hash never leaves the database layer in JSON.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = User)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_unit_id: Option<Uuid>,
    /// Limits the user to the Akten under this Aktenplan unit.
    pub plan_unit_id: Option<Uuid>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub oidc_subject: Option<String>,
    #[serde(skip)]
    pub failed_logins: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
    pub oidc_subject: Option<&'a str>,
    pub org_unit_id: Option<Uuid>,
    pub plan_unit_id: Option<Uuid>,
}

/// A partial change of a user; `None` keeps the value.
#[derive(Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    pub org_unit_id: Option<Option<Uuid>>,
    pub plan_unit_id: Option<Option<Uuid>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

const USER_COLUMNS: &str =
    "id, username, display_name, role, org_unit_id, plan_unit_id, password_hash, oidc_subject,
    failed_logins, locked_until, disabled_at, created_at";

#[derive(sqlx::FromRow)]
struct SessionAuthRow {
    session_id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    username: String,
    role: String,
    csrf_token: String,
    org_unit_id: Option<Uuid>,
    plan_unit_id: Option<Uuid>,
}

/// Resolves a session cookie's hash through the database's security-definer door, honouring
/// the idle timeout, and marks the session as seen.
pub(crate) async fn authenticate_session(
    pool: &PgPool,
    token_hash: &[u8],
    idle: std::time::Duration,
) -> Result<Option<Principal>, DbError> {
    let idle = sqlx::postgres::types::PgInterval::try_from(idle)
        .map_err(|e| DbError::Conflict(format!("idle timeout: {e}")))?;
    let row = sqlx::query_as::<_, SessionAuthRow>(
        "SELECT session_id, tenant_id, user_id, username, role, csrf_token, org_unit_id,
                plan_unit_id
           FROM akta_authenticate_session($1, $2)",
    )
    .bind(token_hash)
    .bind(idle)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Ok(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    // Sliding idle timeout; written in the session's own tenant scope.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(row.tenant_id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE id = $1")
        .bind(row.session_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(Principal::User {
        tenant_id: TenantId(row.tenant_id),
        role,
        user_id: row.user_id,
        username: row.username,
        session_id: row.session_id,
        csrf_token: row.csrf_token,
        org_unit_id: row.org_unit_id,
        plan_scope: row.plan_unit_id,
    }))
}

impl TenantTx {
    /// The user's UI language (`de`, `en`), if chosen.
    pub async fn user_language(&mut self, user: Uuid) -> Result<Option<String>, DbError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT language FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(row.and_then(|(l,)| l))
    }

    /// Remembers the user's UI language (`de` or `en`).
    pub async fn set_user_language(&mut self, user: Uuid, code: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
            .bind(user)
            .bind(code)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn create_user(&mut self, new: NewUser<'_>) -> Result<User, DbError> {
        if let Some(org) = new.org_unit_id {
            self.require_org_unit(org, "org_unit_id").await?;
        }
        if let Some(unit) = new.plan_unit_id {
            self.require(
                "SELECT 1 FROM plan_units WHERE id = $1",
                unit,
                "plan_unit_id",
            )
            .await?;
        }
        let sql = format!(
            "INSERT INTO users (id, tenant_id, username, display_name, role, password_hash, oidc_subject,
                                org_unit_id, plan_unit_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {USER_COLUMNS}"
        );
        let user = sqlx::query_as::<_, User>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(new.username)
            .bind(new.display_name)
            .bind(new.role.as_str())
            .bind(new.password_hash)
            .bind(new.oidc_subject)
            .bind(new.org_unit_id)
            .bind(new.plan_unit_id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.audit_tenant_event("user.created", "user", user.id, &user)
            .await?;
        Ok(user)
    }

    pub async fn user(&mut self, id: Uuid) -> Result<User, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn user_by_username(&mut self, username: &str) -> Result<Option<User>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1 FOR UPDATE");
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn user_by_oidc_subject(&mut self, subject: &str) -> Result<Option<User>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE oidc_subject = $1 FOR UPDATE");
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(subject)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn list_users(&mut self) -> Result<Vec<User>, DbError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        Ok(sqlx::query_as::<_, User>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Changes a user; a change of role, password or status ends all their sessions, so a
    /// revoked permission cannot live on in an open browser.
    pub async fn update_user(&mut self, id: Uuid, changes: UserChanges) -> Result<User, DbError> {
        let before = self.user(id).await?;
        if let Some(Some(org)) = changes.org_unit_id {
            self.require_org_unit(org, "org_unit_id").await?;
        }
        if let Some(Some(unit)) = changes.plan_unit_id {
            self.require(
                "SELECT 1 FROM plan_units WHERE id = $1",
                unit,
                "plan_unit_id",
            )
            .await?;
        }
        // Any change of what the user may see ends their sessions.
        let ends_sessions = changes.role.is_some()
            || changes.password_hash.is_some()
            || changes.disabled == Some(true)
            || changes.org_unit_id.is_some()
            || changes.plan_unit_id.is_some();
        let org = match changes.org_unit_id {
            Some(v) => v,
            None => before.org_unit_id,
        };
        let plan = match changes.plan_unit_id {
            Some(v) => v,
            None => before.plan_unit_id,
        };
        let sql = format!(
            "UPDATE users SET display_name = COALESCE($2, display_name), role = COALESCE($3, role),
                    password_hash = COALESCE($4, password_hash), org_unit_id = $5,
                    disabled_at = CASE WHEN $6::bool IS NULL THEN disabled_at
                                       WHEN $6 THEN COALESCE(disabled_at, now()) ELSE NULL END,
                    failed_logins = CASE WHEN $4::text IS NULL THEN failed_logins ELSE 0 END,
                    locked_until = CASE WHEN $4::text IS NULL THEN locked_until ELSE NULL END,
                    plan_unit_id = $7
              WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let after = sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .bind(changes.display_name)
            .bind(changes.role.map(Role::as_str))
            .bind(changes.password_hash)
            .bind(org)
            .bind(changes.disabled)
            .bind(plan)
            .fetch_one(&mut *self.tx)
            .await?;
        if ends_sessions {
            self.revoke_sessions(id).await?;
        }
        self.emit(
            "user.updated",
            "user",
            id,
            None,
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

    /// Records a failed password check: after `max_failures` in a row the account is locked
    /// for `lockout`. Returns whether it is locked now.
    pub async fn record_login_failure(
        &mut self,
        id: Uuid,
        max_failures: i32,
        lockout: std::time::Duration,
    ) -> Result<bool, DbError> {
        let lockout = sqlx::postgres::types::PgInterval::try_from(lockout)
            .map_err(|e| DbError::Conflict(format!("lockout: {e}")))?;
        let (locked,): (bool,) = sqlx::query_as(
            "UPDATE users SET
                    -- An expired lock starts the count afresh.
                    failed_logins = CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END,
                    locked_until = CASE
                        WHEN (CASE WHEN locked_until <= now() THEN 1 ELSE failed_logins + 1 END) >= $2
                            THEN now() + $3
                        WHEN locked_until <= now() THEN NULL
                        ELSE locked_until END
              WHERE id = $1 RETURNING locked_until IS NOT NULL AND locked_until > now()",
        )
        .bind(id)
        .bind(max_failures)
        .bind(lockout)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(locked)
    }

    pub async fn record_login_success(&mut self, id: Uuid) -> Result<(), DbError> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Writes a login event (success or failure); `user` is nil when no such user exists.
    pub async fn audit_login(
        &mut self,
        action: &str,
        user: Uuid,
        detail: &serde_json::Value,
    ) -> Result<(), DbError> {
        self.emit::<(), _>(action, "user", user, None, None, Some(detail))
            .await
    }

    pub async fn create_session(
        &mut self,
        user_id: Uuid,
        token_hash: &[u8],
        csrf_token: &str,
        lifetime: std::time::Duration,
    ) -> Result<SessionRow, DbError> {
        let lifetime = sqlx::postgres::types::PgInterval::try_from(lifetime)
            .map_err(|e| DbError::Conflict(format!("session lifetime: {e}")))?;
        Ok(sqlx::query_as::<_, SessionRow>(
            "INSERT INTO sessions (id, tenant_id, user_id, token_hash, csrf_token, expires_at)
             VALUES ($1, $2, $3, $4, $5, now() + $6) RETURNING id, expires_at",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(user_id)
        .bind(token_hash)
        .bind(csrf_token)
        .bind(lifetime)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    pub async fn revoke_session(&mut self, session_id: Uuid) -> Result<(), DbError> {
        sqlx::query("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
            .bind(session_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Ends every session of a user ("logout everywhere"). Returns how many were open.
    pub async fn revoke_sessions(&mut self, user_id: Uuid) -> Result<u64, DbError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
