//! The operator console's tables: operators and their sessions (outside every tenant),
//! published Aktenplan templates, tenants' host names, and the invitations of a tenant's
//! first people (tenant rows, found by their token through one security-definer door).

use serde::Serialize;
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OperatorRow {
    pub id: Uuid,
    pub username: String,
    /// `None`: the operator logs in only through the operator's OpenID provider.
    #[serde(skip)]
    pub password_hash: Option<String>,
    #[serde(skip)]
    pub disabled_at: Option<time::OffsetDateTime>,
}

/// A live console session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperatorSessionRow {
    pub session_id: Uuid,
    pub operator_id: Uuid,
    pub username: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlanTemplateRow {
    pub name: String,
    pub title: String,
    pub csv: String,
    pub published_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<time::OffsetDateTime>,
}

/// What the console shows of a tenant beyond its usage: counts and times, no content.
#[derive(Debug, Clone, Default)]
pub struct TenantActivity {
    pub users: i64,
    pub last_activity: Option<time::OffsetDateTime>,
}

impl Db {
    /// A new operator with a password, or linked to `oidc` = (issuer, subject), or both.
    pub async fn insert_operator(
        &self,
        username: &str,
        password_hash: Option<&str>,
        oidc: Option<(&str, &str)>,
    ) -> Result<OperatorRow, DbError> {
        Ok(sqlx::query_as::<_, OperatorRow>(
            "INSERT INTO operators (id, username, password_hash, oidc_issuer, oidc_subject)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, username, password_hash, disabled_at",
        )
        .bind(Uuid::now_v7())
        .bind(username)
        .bind(password_hash)
        .bind(oidc.map(|o| o.0))
        .bind(oidc.map(|o| o.1))
        .fetch_one(self.pool())
        .await?)
    }

    /// The operator linked to `subject` at `issuer`, if any.
    pub async fn operator_by_oidc(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<OperatorRow>, DbError> {
        Ok(sqlx::query_as::<_, OperatorRow>(
            "SELECT id, username, password_hash, disabled_at FROM operators
              WHERE oidc_issuer = $1 AND oidc_subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Remembers a console login sent to the operator's provider, and forgets expired ones.
    pub async fn insert_operator_oidc_login(
        &self,
        state_hash: &[u8],
        login: &crate::repo::oidc::PendingOidcLogin,
        ttl: std::time::Duration,
    ) -> Result<(), DbError> {
        let ttl = interval(ttl)?;
        sqlx::query("DELETE FROM operator_oidc_logins WHERE expires_at < now()")
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO operator_oidc_logins (state_hash, nonce, pkce_verifier, redirect_uri, expires_at)
             VALUES ($1, $2, $3, $4, now() + $5)",
        )
        .bind(state_hash)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.redirect_uri)
        .bind(ttl)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes a pending console login out (once); an expired one is deleted and not returned.
    pub async fn take_operator_oidc_login(
        &self,
        state_hash: &[u8],
    ) -> Result<Option<crate::repo::oidc::PendingOidcLogin>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            login: crate::repo::oidc::PendingOidcLogin,
            live: bool,
        }
        let row = sqlx::query_as::<_, Row>(
            "DELETE FROM operator_oidc_logins WHERE state_hash = $1
             RETURNING nonce, pkce_verifier, redirect_uri, expires_at > now() AS live",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.filter(|r| r.live).map(|r| r.login))
    }

    pub async fn operator_by_username(
        &self,
        username: &str,
    ) -> Result<Option<OperatorRow>, DbError> {
        Ok(sqlx::query_as::<_, OperatorRow>(
            "SELECT id, username, password_hash, disabled_at FROM operators WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn insert_operator_session(
        &self,
        operator: Uuid,
        token_hash: &[u8],
        csrf_token: &str,
        lifetime: std::time::Duration,
    ) -> Result<(), DbError> {
        let lifetime = interval(lifetime)?;
        sqlx::query(
            "INSERT INTO operator_sessions (id, operator_id, token_hash, csrf_token, expires_at)
             VALUES ($1, $2, $3, $4, now() + $5)",
        )
        .bind(Uuid::now_v7())
        .bind(operator)
        .bind(token_hash)
        .bind(csrf_token)
        .bind(lifetime)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live console session of a cookie's hash (not revoked, not expired, not idle longer
    /// than `idle`, its operator not disabled); seen now.
    pub async fn operator_session(
        &self,
        token_hash: &[u8],
        idle: std::time::Duration,
    ) -> Result<Option<OperatorSessionRow>, DbError> {
        let idle = interval(idle)?;
        Ok(sqlx::query_as::<_, OperatorSessionRow>(
            "UPDATE operator_sessions s SET last_seen_at = now()
               FROM operators o
              WHERE s.token_hash = $1 AND o.id = s.operator_id AND o.disabled_at IS NULL
                AND s.revoked_at IS NULL AND s.expires_at > now()
                AND s.last_seen_at > now() - $2
             RETURNING s.id AS session_id, o.id AS operator_id, o.username, s.csrf_token",
        )
        .bind(token_hash)
        .bind(idle)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn revoke_operator_session(&self, session: Uuid) -> Result<(), DbError> {
        sqlx::query("UPDATE operator_sessions SET revoked_at = now() WHERE id = $1")
            .bind(session)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn plan_templates(&self) -> Result<Vec<PlanTemplateRow>, DbError> {
        Ok(sqlx::query_as::<_, PlanTemplateRow>(
            "SELECT name, title, csv, published_by, updated_at FROM plan_templates ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn plan_template(&self, name: &str) -> Result<Option<PlanTemplateRow>, DbError> {
        Ok(sqlx::query_as::<_, PlanTemplateRow>(
            "SELECT name, title, csv, published_by, updated_at FROM plan_templates WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Publishes a template, replacing an earlier one of the same name.
    pub async fn put_plan_template(
        &self,
        name: &str,
        title: &str,
        csv: &str,
        by: &str,
    ) -> Result<PlanTemplateRow, DbError> {
        Ok(sqlx::query_as::<_, PlanTemplateRow>(
            "INSERT INTO plan_templates (name, title, csv, published_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET title = $2, csv = $3, published_by = $4,
                    updated_at = now()
             RETURNING name, title, csv, published_by, updated_at",
        )
        .bind(name)
        .bind(title)
        .bind(csv)
        .bind(by)
        .fetch_one(self.pool())
        .await?)
    }

    /// Every tenant's own host name, where one is set.
    pub async fn tenant_host_names(&self) -> Result<Vec<(Uuid, String)>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, host_name FROM tenants WHERE host_name IS NOT NULL ORDER BY slug",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The slug of the active tenant whose own host name this is.
    pub async fn tenant_slug_by_host(&self, host: &str) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT slug FROM tenants WHERE host_name = $1 AND status = 'active'",
        )
        .bind(host)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The tenant of an invitation token's hash (active tenants only).
    pub async fn invitation_tenant(&self, token_hash: &[u8]) -> Result<Option<Uuid>, DbError> {
        Ok(
            sqlx::query_scalar::<_, Option<Uuid>>("SELECT akta_invitation_tenant($1)")
                .bind(token_hash)
                .fetch_one(self.pool())
                .await?,
        )
    }
}

fn interval(d: std::time::Duration) -> Result<sqlx::postgres::types::PgInterval, DbError> {
    sqlx::postgres::types::PgInterval::try_from(d)
        .map_err(|e| DbError::Conflict(format!("interval: {e}")))
}

impl TenantTx {
    /// Sets (or clears) the tenant's own host name, audited in its chain.
    pub async fn set_host_name(&mut self, host_name: Option<&str>) -> Result<(), DbError> {
        sqlx::query("UPDATE tenants SET host_name = $2 WHERE id = $1")
            .bind(self.tenant.0)
            .bind(host_name)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| match DbError::from(e) {
                DbError::Conflict(_) => {
                    DbError::Conflict("another tenant has this host name".into())
                }
                other => other,
            })?;
        self.audit_tenant_event(
            "tenant.host_name_set",
            "tenant",
            self.tenant.0,
            &serde_json::json!({"host_name": host_name}),
        )
        .await
    }

    /// Users and the time of the last audited change, for the console.
    pub async fn tenant_activity(&mut self) -> Result<TenantActivity, DbError> {
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE disabled_at IS NULL")
            .fetch_one(&mut *self.tx)
            .await?;
        let last_activity: Option<time::OffsetDateTime> =
            sqlx::query_scalar("SELECT max(at) FROM audit_events")
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(TenantActivity {
            users,
            last_activity,
        })
    }

    pub async fn create_invitation(
        &mut self,
        email: &str,
        role: &str,
        token_hash: &[u8],
        valid: std::time::Duration,
    ) -> Result<InvitationRow, DbError> {
        let valid = interval(valid)?;
        let row = sqlx::query_as::<_, InvitationRow>(
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, now() + $7)
             RETURNING id, email, role, expires_at, used_at",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(email)
        .bind(role)
        .bind(token_hash)
        .bind(&self.actor)
        .bind(valid)
        .fetch_one(&mut *self.tx)
        .await?;
        self.audit_tenant_event(
            "invitation.created",
            "invitation",
            row.id,
            &serde_json::json!({"email": row.email, "role": row.role, "expires_at": row.expires_at}),
        )
        .await?;
        Ok(row)
    }

    /// The invitation of a token's hash, locked, whatever its state.
    pub async fn invitation_locked(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<InvitationRow>, DbError> {
        Ok(sqlx::query_as::<_, InvitationRow>(
            "SELECT id, email, role, expires_at, used_at FROM invitations
              WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    pub async fn use_invitation(&mut self, id: Uuid, user: Uuid) -> Result<(), DbError> {
        sqlx::query("UPDATE invitations SET used_at = now(), user_id = $2 WHERE id = $1")
            .bind(id)
            .bind(user)
            .execute(&mut *self.tx)
            .await?;
        self.audit_tenant_event(
            "invitation.used",
            "invitation",
            id,
            &serde_json::json!({"user_id": user}),
        )
        .await
    }
}
