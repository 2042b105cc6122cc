//! OpenID Connect on the records side: the tenant's provider settings, the pending logins,
//! and signing a person in from a validated identity — found by subject, created on the first
//! login, never linked to an existing account by name, the role following the provider at
//! every login. The protocol itself is `akta_oidc`'s.

use akta_db::repo::oidc::{OidcConfig, PendingOidcLogin};
use akta_db::{NewUser, User, UserChanges};
use akta_domain::{bounded_text, Principal, TenantId, TenantSlug};
use akta_oidc::{Identity, OidcError, ValidConfig};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::people::NewSession;
use crate::secrets::hash_token;
use crate::tenants::parse_username;
use crate::{Core, CoreError};

/// Actor of the audit events written before the person is known, and of provisioning.
const ACTOR: &str = "system:oidc";

/// Why a validated identity may still not sign in (audited with the subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRefusal {
    /// The role claim maps to no role and the tenant has no default role.
    NoRole,
    /// The account exists and is disabled.
    AccountDisabled(Uuid),
    /// No name candidate is a valid username.
    NoUsername,
    /// The username belongs to another (local or other provider's) account.
    UsernameTaken(String),
}

impl SignInRefusal {
    /// The stable reason written to the audit log.
    pub fn reason(&self) -> &'static str {
        match self {
            SignInRefusal::NoRole => "no_role",
            SignInRefusal::AccountDisabled(_) => "account_disabled",
            SignInRefusal::NoUsername => "no_username",
            SignInRefusal::UsernameTaken(_) => "username_taken",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            SignInRefusal::NoRole => {
                "the role claim maps to no role and there is no default role".into()
            }
            SignInRefusal::AccountDisabled(id) => format!("user {id} is disabled"),
            SignInRefusal::NoUsername => {
                "none of preferred_username, email, sub is a valid username".into()
            }
            SignInRefusal::UsernameTaken(name) => {
                format!("username {name} belongs to another user")
            }
        }
    }
}

impl From<OidcError> for CoreError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::InvalidConfig { field, detail } => CoreError::Validation { field, detail },
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl Core {
    /// The tenant of `slug` and its enabled provider settings; `None` when the tenant does
    /// not exist, is not active or has no enabled provider.
    pub async fn oidc_login_config(
        &self,
        slug: &str,
    ) -> Result<Option<(TenantId, OidcConfig)>, CoreError> {
        let Ok(slug) = TenantSlug::parse(slug) else {
            return Ok(None);
        };
        let tenant = match self.db.tenant_by_slug(slug.as_str()).await {
            Ok(t) if t.status == "active" => TenantId(t.id),
            Ok(_) | Err(akta_db::DbError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut tx = self.db.tenant_tx(tenant, ACTOR).await?;
        let Some(mut cfg) = tx.oidc_config().await?.filter(|c| c.enabled) else {
            return Ok(None);
        };
        // The secret is opened for the token request only, never stored in the clear.
        if let Some(sealed) = cfg.sealed_secret() {
            cfg.client_secret = self.keyring()?.open_secret(&mut tx, &sealed).await?;
        }
        tx.commit().await?;
        Ok(Some((tenant, cfg)))
    }

    /// Keeps a started login until the browser comes back with `state` (stored hashed).
    pub async fn store_oidc_login(
        &self,
        tenant: TenantId,
        state: &str,
        pending: &PendingOidcLogin,
        ttl: std::time::Duration,
    ) -> Result<(), CoreError> {
        let mut tx = self.db.tenant_tx(tenant, ACTOR).await?;
        tx.insert_oidc_login(&hash_token(state), pending, ttl)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The login started with `state`, used up at once (committed before anything else
    /// happens, so a state works once even if the rest fails).
    pub async fn take_oidc_login(
        &self,
        tenant: TenantId,
        state: &str,
    ) -> Result<Option<PendingOidcLogin>, CoreError> {
        let mut tx = self.db.tenant_tx(tenant, ACTOR).await?;
        let pending = tx.take_oidc_login(&hash_token(state)).await?;
        tx.commit().await?;
        Ok(pending)
    }

    /// Signs the person of a validated `identity` in: finds or creates the account, audits
    /// the login and starts a session. The inner `Err` is a refusal the caller audits with
    /// [`Core::audit_oidc_failure`].
    pub async fn oidc_sign_in(
        &self,
        tenant: TenantId,
        issuer: &str,
        identity: &Identity,
    ) -> Result<Result<(User, NewSession), SignInRefusal>, CoreError> {
        let mut tx = self.db.tenant_tx(tenant, ACTOR).await?;
        let Some(role) = identity.role else {
            return Ok(Err(SignInRefusal::NoRole));
        };
        let user = match tx.user_by_oidc_subject(&identity.subject).await? {
            Some(user) if user.disabled_at.is_some() => {
                return Ok(Err(SignInRefusal::AccountDisabled(user.id)))
            }
            Some(user) => {
                let role_changed = user.role != role.as_str();
                let name_changed = user.display_name != identity.display_name;
                if role_changed || name_changed {
                    let changes = UserChanges {
                        role: role_changed.then_some(role),
                        display_name: name_changed.then(|| identity.display_name.clone()),
                        ..UserChanges::default()
                    };
                    tx.update_user(user.id, changes).await?
                } else {
                    user
                }
            }
            None => {
                let Some(username) = identity
                    .usernames
                    .iter()
                    .find_map(|candidate| parse_username(candidate).ok())
                else {
                    return Ok(Err(SignInRefusal::NoUsername));
                };
                // Never link to an existing account by name: whoever controls a name at the
                // provider would take over the local account of that name.
                if tx.user_by_username(&username).await?.is_some() {
                    return Ok(Err(SignInRefusal::UsernameTaken(username)));
                }
                let display_name = bounded_text("display_name", &identity.display_name, 200)
                    .unwrap_or_else(|_| username.clone());
                tx.create_user(NewUser {
                    username: &username,
                    display_name: &display_name,
                    role,
                    password_hash: None,
                    oidc_subject: Some(&identity.subject),
                    org_unit_id: None,
                    plan_unit_id: None,
                })
                .await?
            }
        };
        tx.audit_login(
            "login.oidc_succeeded",
            user.id,
            &json!({"method": "oidc", "issuer": issuer, "subject": identity.subject,
                    "role": user.role}),
        )
        .await?;
        let session = self.start_session_in(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(Ok((user, session)))
    }

    /// Audits a refused login attempt of a browser that started it (so strangers without a
    /// valid state cannot flood the audit trail).
    pub async fn audit_oidc_failure(
        &self,
        tenant: TenantId,
        detail: &Value,
    ) -> Result<(), CoreError> {
        let mut tx = self.db.tenant_tx(tenant, ACTOR).await?;
        tx.audit_login("login.failed", Uuid::nil(), detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's provider settings (admins), with its slug for the redirect URIs.
    pub async fn oidc_config(&self, who: &Principal) -> Result<(OidcConfig, String), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let cfg = tx.oidc_config().await?.ok_or(CoreError::NotFound)?;
        let tenant = tx.tenant();
        tx.commit().await?;
        Ok((cfg, self.db.tenant_by_id(tenant).await?.slug))
    }

    /// Stores checked provider settings; a missing client secret keeps the stored one.
    pub async fn put_oidc_config(
        &self,
        who: &Principal,
        settings: &ValidConfig,
    ) -> Result<(OidcConfig, String), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let current = tx.oidc_config().await?;
        settings.check_secret(current.as_ref())?;
        let sealed = match settings.client_secret.as_deref() {
            Some(secret) => Some(self.keyring()?.seal_secret(&mut tx, secret).await?),
            None => None,
        };
        let cfg = tx
            .put_oidc_config(settings.to_store(sealed.as_ref()))
            .await?;
        let tenant = tx.tenant();
        tx.commit().await?;
        Ok((cfg, self.db.tenant_by_id(tenant).await?.slug))
    }

    /// Seals client secrets stored in the clear before sealing existed (run at start-up;
    /// does nothing once all are sealed). Returns how many were sealed.
    pub async fn seal_stored_secrets(&self) -> Result<usize, CoreError> {
        let keyring = self.keyring()?;
        let mut sealed = 0;
        for tenant in self.db.list_tenants().await? {
            if tenant.status == "deleted" {
                continue;
            }
            let mut tx = self.db.system_tx(TenantId(tenant.id), ACTOR).await?;
            let Some(cfg) = tx.oidc_config().await? else {
                continue;
            };
            if cfg.sealed_secret().is_some() || cfg.client_secret.is_empty() {
                continue;
            }
            let secret = keyring.seal_secret(&mut tx, &cfg.client_secret).await?;
            tx.store_sealed_oidc_secret(&secret).await?;
            tx.commit().await?;
            sealed += 1;
        }
        Ok(sealed)
    }
}
