//! The tenant's lifecycle (operator: create, suspend, resume, crypto-shred, quotas) and its
//! administration by the tenant admin: API tokens, org units, support access grants.

use akta_db::{
    NewToken, NewUser, OperatorTokenRow, OrgUnit, Quota, SupportGrant, TenantRow, TenantTx,
    TenantUsage, TokenRow, User,
};
use akta_domain::{bounded_text, PlanCode, Principal, ReferenceFormat, Role, TenantId, TenantSlug};
use uuid::Uuid;

use crate::secrets::{checked_password_hash, issue_token};
use crate::{Core, CoreError};

/// What a tenant token may do.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub name: String,
    pub role: Role,
    pub can_write: bool,
    pub plan_unit_id: Option<Uuid>,
    pub expires_at: Option<time::OffsetDateTime>,
}

/// Issues a token inside `tx`; the secret is returned once and stored hashed.
async fn issue_tenant_token(
    tx: &mut TenantTx,
    spec: &TokenSpec,
) -> Result<(TokenRow, String), CoreError> {
    let name = bounded_text("name", &spec.name, 200)?;
    let (token, hash) = issue_token();
    let row = tx
        .create_token(NewToken {
            name: &name,
            role: spec.role,
            token_hash: &hash,
            can_write: spec.can_write,
            plan_unit_id: spec.plan_unit_id,
            expires_at: spec.expires_at,
        })
        .await?;
    Ok((row, token))
}

/// Usernames are compared lowercased: `Anna.Muster` and `anna.muster` are one person.
pub fn parse_username(raw: &str) -> Result<String, CoreError> {
    let name = raw.trim().to_lowercase();
    let ok = (2..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(CoreError::validation(
            "username",
            "must be 2-100 characters: letters, digits, '.', '_', '@', '-'",
        ))
    }
}

/// A tenant with its usage and quota, as the operator sees it (no content).
pub struct TenantOverview {
    pub tenant: TenantRow,
    pub usage: Option<TenantUsage>,
}

impl Core {
    /// Creates a tenant with its first key and admin token; the token is returned once and
    /// stored hashed.
    pub async fn create_tenant(
        &self,
        slug: &str,
        name: &str,
        reference_format: Option<&str>,
        actor: &str,
    ) -> Result<(TenantRow, String), CoreError> {
        let slug = TenantSlug::parse(slug)?;
        let name = bounded_text("name", name, 200)?;
        if let Some(format) = reference_format {
            ReferenceFormat::parse(format)?;
        }
        // Before anything is written: a tenant without its key must not come to be.
        let keyring = self.keyring()?;
        let tenant = self.db.insert_tenant(slug.as_str(), &name).await?;
        let id = TenantId(tenant.id);
        let mut tx = self.db.tenant_tx(id, actor).await?;
        if let Some(format) = reference_format {
            tx.set_reference_format(format).await?;
        }
        tx.audit_tenant_event("tenant.created", "tenant", tenant.id, &tenant)
            .await?;
        keyring.create_tenant_key(&mut tx).await?;
        tx.commit().await?;
        let (_, token) = self
            .create_token(id, Role::Admin, "initial admin", actor)
            .await?;
        if let Some(seal) = &self.audit_seal {
            let (key, anchors) = seal.as_ref();
            akta_audit::sign_tenant(&self.db, key, anchors, id).await?;
        }
        let tenant = self.db.tenant_by_id(id).await?;
        Ok((tenant, token))
    }

    /// Deletes a tenant by crypto-shredding: marks it `deleted` (its tokens and sessions stop
    /// working at once) and destroys every version of its key, so its stored blobs can never
    /// be decrypted again. Returns the tenant and how many key versions were destroyed;
    /// running it again destroys nothing more.
    pub async fn delete_tenant(
        &self,
        slug: &str,
        actor: &str,
    ) -> Result<(TenantRow, u64), CoreError> {
        let tenant = self.tenant_by_slug(slug).await?;
        let mut tx = self.db.system_tx(TenantId(tenant.id), actor).await?;
        let destroyed = tx.shred_tenant().await?;
        let after = serde_json::json!({"slug": tenant.slug, "key_versions_destroyed": destroyed});
        tx.audit_tenant_event("tenant.deleted", "tenant", tenant.id, &after)
            .await?;
        tx.commit().await?;
        Ok((self.db.tenant_by_id(TenantId(tenant.id)).await?, destroyed))
    }

    /// Suspends (`active = false`) or resumes a tenant: while suspended, none of its tokens,
    /// sessions or logins work; its data stays untouched.
    pub async fn set_tenant_active(
        &self,
        slug: &str,
        active: bool,
        actor: &str,
    ) -> Result<TenantRow, CoreError> {
        let tenant = self.tenant_by_slug(slug).await?;
        let status = if active { "active" } else { "suspended" };
        let row = self
            .db
            .set_tenant_status(TenantId(tenant.id), status)
            .await?;
        let mut tx = self.db.tenant_tx(TenantId(tenant.id), actor).await?;
        let action = if active {
            "tenant.resumed"
        } else {
            "tenant.suspended"
        };
        tx.audit_tenant_event(action, "tenant", tenant.id, &row)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The tenant named by `slug`; a text that cannot be a slug names no tenant (404).
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<TenantRow, CoreError> {
        let slug = TenantSlug::parse(slug).map_err(|_| CoreError::NotFound)?;
        Ok(self.db.tenant_by_slug(slug.as_str()).await?)
    }

    pub async fn tenant_by_id(&self, id: TenantId) -> Result<TenantRow, CoreError> {
        Ok(self.db.tenant_by_id(id).await?)
    }

    pub async fn list_tenants(&self) -> Result<Vec<TenantRow>, CoreError> {
        Ok(self.db.list_tenants().await?)
    }

    /// Every tenant with its usage and quota, for the operator.
    pub async fn tenant_overview(&self) -> Result<Vec<TenantOverview>, CoreError> {
        let tenants = self.db.list_tenants().await?;
        let usage = self.db.tenant_overview().await?;
        Ok(tenants
            .into_iter()
            .map(|tenant| {
                let usage = usage.iter().find(|u| u.tenant_id == tenant.id).cloned();
                TenantOverview { tenant, usage }
            })
            .collect())
    }

    /// Sets a tenant's quota (the operator's decision; audited in the tenant's chain).
    pub async fn set_quota(&self, slug: &str, quota: Quota, actor: &str) -> Result<(), CoreError> {
        let positive = |field: &str, v: Option<i64>| match v {
            Some(n) if n < 0 => Err(CoreError::validation(field, "must not be negative")),
            _ => Ok(()),
        };
        positive("max_storage_bytes", quota.max_storage_bytes)?;
        positive("max_documents", quota.max_documents)?;
        if quota.requests_per_minute.is_some_and(|n| n < 1) {
            return Err(CoreError::validation(
                "requests_per_minute",
                "must be at least 1",
            ));
        }
        let tenant = self.tenant_by_slug(slug).await?;
        let mut tx = self.db.tenant_tx(TenantId(tenant.id), actor).await?;
        tx.set_quota(quota).await?;
        tx.commit().await?;
        self.limits.invalidate();
        Ok(())
    }

    /// Refuses to give a suspended or deleted tenant new ways in.
    async fn require_active(&self, tenant: TenantId) -> Result<(), CoreError> {
        let row = self.db.tenant_by_id(tenant).await?;
        if row.status != "active" {
            return Err(CoreError::Conflict(format!(
                "the tenant '{}' is {}",
                row.slug, row.status
            )));
        }
        Ok(())
    }

    /// A token for `tenant`, issued by the CLI.
    pub async fn create_token(
        &self,
        tenant: TenantId,
        role: Role,
        name: &str,
        actor: &str,
    ) -> Result<(TokenRow, String), CoreError> {
        self.require_active(tenant).await?;
        let mut tx = self.db.tenant_tx(tenant, actor).await?;
        let spec = TokenSpec {
            name: name.to_owned(),
            role,
            can_write: true,
            plan_unit_id: None,
            expires_at: None,
        };
        let issued = issue_tenant_token(&mut tx, &spec).await?;
        tx.commit().await?;
        Ok(issued)
    }

    pub async fn create_operator_token(
        &self,
        name: &str,
    ) -> Result<(OperatorTokenRow, String), CoreError> {
        let name = bounded_text("name", name, 200)?;
        let (token, hash) = issue_token();
        let row = self.db.insert_operator_token(&name, &hash).await?;
        Ok((row, token))
    }

    /// Creates a user with a password (the CLI; admins use [`Core::create_user`]).
    pub async fn create_user_with_password(
        &self,
        tenant: TenantId,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<User, CoreError> {
        self.require_active(tenant).await?;
        let username = parse_username(username)?;
        let display_name = bounded_text("display_name", display_name, 200)?;
        if password.is_empty() {
            return Err(CoreError::validation("password", "no password given"));
        }
        let hash = checked_password_hash("password", password.to_owned()).await?;
        let mut tx = self.db.tenant_tx(tenant, actor).await?;
        let user = tx
            .create_user(NewUser {
                username: &username,
                display_name: &display_name,
                role,
                password_hash: Some(&hash),
                oidc_subject: None,
                org_unit_id: None,
                plan_unit_id: None,
            })
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A tenant token issued by its admin.
    pub async fn issue_token(
        &self,
        who: &Principal,
        spec: &TokenSpec,
    ) -> Result<(TokenRow, String), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let issued = issue_tenant_token(&mut tx, spec).await?;
        tx.commit().await?;
        Ok(issued)
    }

    pub async fn list_tokens(&self, who: &Principal) -> Result<Vec<TokenRow>, CoreError> {
        self.as_caller(who, async |tx| tx.list_tokens().await).await
    }

    pub async fn revoke_token(&self, who: &Principal, id: Uuid) -> Result<TokenRow, CoreError> {
        self.as_caller(who, async |tx| tx.revoke_token(id).await)
            .await
    }

    /// A new secret with the same rights; the old one is revoked at once.
    pub async fn rotate_token(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(TokenRow, String), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let old = tx.token(id).await?;
        if old.revoked_at.is_some() {
            return Err(CoreError::Conflict(
                "the token is revoked; issue a new one".into(),
            ));
        }
        let spec = TokenSpec {
            name: old.name.clone(),
            role: Role::parse(&old.role)?,
            can_write: old.can_write,
            plan_unit_id: old.plan_unit_id,
            expires_at: old.expires_at,
        };
        tx.revoke_token(id).await?;
        let issued = issue_tenant_token(&mut tx, &spec).await?;
        tx.commit().await?;
        Ok(issued)
    }

    pub async fn create_org_unit(
        &self,
        who: &Principal,
        code: &str,
        name: &str,
        parent_id: Option<Uuid>,
    ) -> Result<OrgUnit, CoreError> {
        let code = PlanCode::parse(code)?;
        let name = bounded_text("name", name, 200)?;
        self.as_caller(who, async |tx| {
            tx.create_org_unit(code.as_str(), &name, parent_id).await
        })
        .await
    }

    pub async fn list_org_units(&self, who: &Principal) -> Result<Vec<OrgUnit>, CoreError> {
        self.as_caller(who, async |tx| tx.list_org_units().await)
            .await
    }

    /// Lets the operator read the tenant for `hours` (1-72), with a reason.
    pub async fn grant_support(
        &self,
        who: &Principal,
        reason: &str,
        hours: i64,
    ) -> Result<SupportGrant, CoreError> {
        let reason = bounded_text("reason", reason, 500)?;
        if !(1..=72).contains(&hours) {
            return Err(CoreError::validation("hours", "must be between 1 and 72"));
        }
        self.as_caller(who, async |tx| tx.grant_support(&reason, hours).await)
            .await
    }

    pub async fn list_support_grants(
        &self,
        who: &Principal,
    ) -> Result<Vec<SupportGrant>, CoreError> {
        self.as_caller(who, async |tx| tx.list_support_grants().await)
            .await
    }

    pub async fn revoke_support(&self, who: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.as_caller(who, async |tx| tx.revoke_support(id).await)
            .await?;
        Ok(())
    }
}
