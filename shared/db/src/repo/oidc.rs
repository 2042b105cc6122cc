//! OpenID Connect: a tenant's provider settings and its logins in flight.

use crate::{DbError, TenantTx};
use serde::Serialize;

/// A tenant's OpenID provider. The client secret is skipped in JSON so it cannot leak
/// through an answer or an audit event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub token_auth_method: String,
    pub scopes: String,
    pub role_claim: Option<String>,
    pub role_mapping: serde_json::Value,
    pub default_role: Option<String>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// A complete new configuration; `client_secret: None` keeps the stored secret.
pub struct NewOidcConfig<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub token_auth_method: &'a str,
    pub scopes: &'a str,
    pub role_claim: Option<&'a str>,
    pub role_mapping: &'a serde_json::Value,
    pub default_role: Option<&'a str>,
    pub enabled: bool,
}

/// What Akta remembered when it sent the browser to the provider.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingOidcLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_uri: String,
}

const CONFIG_COLUMNS: &str = "issuer, client_id, client_secret, token_auth_method, scopes,
    role_claim, role_mapping, default_role, enabled, updated_at";

impl TenantTx {
    pub async fn oidc_config(&mut self) -> Result<Option<OidcConfig>, DbError> {
        let sql = format!("SELECT {CONFIG_COLUMNS} FROM oidc_configs");
        Ok(sqlx::query_as::<_, OidcConfig>(&sql)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Creates or replaces the configuration; without a new secret the stored one stays. A
    /// first configuration needs a secret: the caller checks that, here its absence would
    /// fail the NOT NULL constraint.
    pub async fn put_oidc_config(&mut self, new: NewOidcConfig<'_>) -> Result<OidcConfig, DbError> {
        let before = self.oidc_config().await?;
        let sql = format!(
            "INSERT INTO oidc_configs (tenant_id, issuer, client_id, client_secret, token_auth_method,
                                       scopes, role_claim, role_mapping, default_role, enabled)
             VALUES ($1, $2, $3,
                     COALESCE($4, (SELECT client_secret FROM oidc_configs WHERE tenant_id = $1)),
                     $5, $6, $7, $8, $9, $10)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id,
                 client_secret = EXCLUDED.client_secret,
                 token_auth_method = EXCLUDED.token_auth_method, scopes = EXCLUDED.scopes,
                 role_claim = EXCLUDED.role_claim, role_mapping = EXCLUDED.role_mapping,
                 default_role = EXCLUDED.default_role, enabled = EXCLUDED.enabled,
                 updated_at = now()
             RETURNING {CONFIG_COLUMNS}"
        );
        let after = sqlx::query_as::<_, OidcConfig>(&sql)
            .bind(self.tenant.0)
            .bind(new.issuer)
            .bind(new.client_id)
            .bind(new.client_secret)
            .bind(new.token_auth_method)
            .bind(new.scopes)
            .bind(new.role_claim)
            .bind(new.role_mapping)
            .bind(new.default_role)
            .bind(new.enabled)
            .fetch_one(&mut *self.tx)
            .await?;
        // A changed secret shows in the audit trail only as the fact that it changed.
        let secret_changed = new.client_secret.is_some();
        self.emit(
            "oidc.configured",
            "oidc_config",
            self.tenant.0,
            None,
            before.as_ref(),
            Some(&serde_json::json!({"config": &after, "client_secret_changed": secret_changed})),
        )
        .await?;
        Ok(after)
    }

    /// Remembers a login sent to the provider, and forgets this tenant's expired ones so
    /// abandoned logins do not pile up.
    pub async fn insert_oidc_login(
        &mut self,
        state_hash: &[u8],
        login: &PendingOidcLogin,
        ttl: std::time::Duration,
    ) -> Result<(), DbError> {
        let ttl = sqlx::postgres::types::PgInterval::try_from(ttl)
            .map_err(|e| DbError::Conflict(format!("login lifetime: {e}")))?;
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at < now()")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, tenant_id, nonce, pkce_verifier, redirect_uri, expires_at)
             VALUES ($1, $2, $3, $4, $5, now() + $6)",
        )
        .bind(state_hash)
        .bind(self.tenant.0)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.redirect_uri)
        .bind(ttl)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Takes a pending login out: a state is good for one callback only, so a replayed or
    /// expired one finds nothing. An expired one is deleted all the same.
    pub async fn take_oidc_login(
        &mut self,
        state_hash: &[u8],
    ) -> Result<Option<PendingOidcLogin>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            login: PendingOidcLogin,
            live: bool,
        }
        let row = sqlx::query_as::<_, Row>(
            "DELETE FROM oidc_logins WHERE state_hash = $1
             RETURNING nonce, pkce_verifier, redirect_uri, expires_at > now() AS live",
        )
        .bind(state_hash)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.filter(|r| r.live).map(|r| r.login))
    }
}
