//! OpenID Connect: a tenant's provider settings and its logins in flight.

use crate::{DbError, TenantTx};
use serde::Serialize;

/// A client secret sealed under the tenant key: encrypted with its own key, which the tenant
/// key (version `key_version`) wraps.
#[derive(Debug, Clone)]
pub struct SealedSecret {
    pub ciphertext: Vec<u8>,
    pub plain_len: i64,
    pub wrapped_key: Vec<u8>,
    pub key_version: i32,
}

/// A tenant's OpenID provider. The client secret is skipped in JSON so it cannot leak
/// through an answer or an audit event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// Empty as stored once the secret is sealed; the core fills it in from `sealed_secret`
    /// for the one use it has (the token request).
    #[serde(skip)]
    pub client_secret: String,
    /// The sealed secret's columns (see [`OidcConfig::sealed_secret`]).
    #[serde(skip)]
    pub secret_sealed: Option<Vec<u8>>,
    #[serde(skip)]
    pub secret_len: Option<i64>,
    #[serde(skip)]
    pub secret_wrapped_key: Option<Vec<u8>>,
    #[serde(skip)]
    pub secret_key_version: Option<i32>,
    pub token_auth_method: String,
    pub scopes: String,
    pub role_claim: Option<String>,
    pub role_mapping: serde_json::Value,
    pub default_role: Option<String>,
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

impl OidcConfig {
    /// The sealed client secret; `None` for a secret stored before sealing existed.
    pub fn sealed_secret(&self) -> Option<SealedSecret> {
        Some(SealedSecret {
            ciphertext: self.secret_sealed.clone()?,
            plain_len: self.secret_len?,
            wrapped_key: self.secret_wrapped_key.clone()?,
            key_version: self.secret_key_version?,
        })
    }
}

/// A complete new configuration; `client_secret: None` keeps the stored secret.
pub struct NewOidcConfig<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a SealedSecret>,
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
    role_claim, role_mapping, default_role, enabled, updated_at,
    secret_sealed, secret_len, secret_wrapped_key, secret_key_version";

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
        // A new secret replaces the stored one (and any plaintext one from before sealing);
        // without one, the stored secret stays as it is.
        let sql = format!(
            "INSERT INTO oidc_configs (tenant_id, issuer, client_id, client_secret, token_auth_method,
                                       scopes, role_claim, role_mapping, default_role, enabled,
                                       secret_sealed, secret_len, secret_wrapped_key, secret_key_version)
             VALUES ($1, $2, $3, '', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id,
                 client_secret = CASE WHEN $4 THEN '' ELSE oidc_configs.client_secret END,
                 secret_sealed = CASE WHEN $4 THEN EXCLUDED.secret_sealed ELSE oidc_configs.secret_sealed END,
                 secret_len = CASE WHEN $4 THEN EXCLUDED.secret_len ELSE oidc_configs.secret_len END,
                 secret_wrapped_key = CASE WHEN $4 THEN EXCLUDED.secret_wrapped_key ELSE oidc_configs.secret_wrapped_key END,
                 secret_key_version = CASE WHEN $4 THEN EXCLUDED.secret_key_version ELSE oidc_configs.secret_key_version END,
                 token_auth_method = EXCLUDED.token_auth_method, scopes = EXCLUDED.scopes,
                 role_claim = EXCLUDED.role_claim, role_mapping = EXCLUDED.role_mapping,
                 default_role = EXCLUDED.default_role, enabled = EXCLUDED.enabled,
                 updated_at = now()
             RETURNING {CONFIG_COLUMNS}"
        );
        let sealed = new.client_secret;
        let after = sqlx::query_as::<_, OidcConfig>(&sql)
            .bind(self.tenant.0)
            .bind(new.issuer)
            .bind(new.client_id)
            .bind(sealed.is_some())
            .bind(new.token_auth_method)
            .bind(new.scopes)
            .bind(new.role_claim)
            .bind(new.role_mapping)
            .bind(new.default_role)
            .bind(new.enabled)
            .bind(sealed.map(|s| s.ciphertext.as_slice()))
            .bind(sealed.map(|s| s.plain_len))
            .bind(sealed.map(|s| s.wrapped_key.as_slice()))
            .bind(sealed.map(|s| s.key_version))
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

    /// Replaces the stored secret with `sealed` (sealing a plaintext one from before, or
    /// re-wrapping it under a new tenant key version). No audit event: the configuration
    /// does not change, only how its secret is kept.
    pub async fn store_sealed_oidc_secret(&mut self, sealed: &SealedSecret) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE oidc_configs SET client_secret = '', secret_sealed = $1, secret_len = $2,
                    secret_wrapped_key = $3, secret_key_version = $4",
        )
        .bind(&sealed.ciphertext)
        .bind(sealed.plain_len)
        .bind(&sealed.wrapped_key)
        .bind(sealed.key_version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
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
