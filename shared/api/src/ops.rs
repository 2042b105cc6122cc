//! Administrative operations shared by the HTTP API and the `akta` command line.

use akta_db::{Db, NewToken, OperatorTokenRow, TenantRow, TokenRow};
use akta_domain::{bounded_text, ReferenceFormat, Role, TenantId, TenantSlug};

use crate::auth::issue_token;
use crate::ApiError;
use akta_keys::keyring::Keyring;

/// Creates a tenant with its first key and admin token; the token is returned once and stored
/// hashed.
pub async fn create_tenant(
    db: &Db,
    keyring: &Keyring,
    slug: &str,
    name: &str,
    reference_format: Option<&str>,
    actor: &str,
) -> Result<(TenantRow, String), ApiError> {
    let slug = TenantSlug::parse(slug)?;
    let name = bounded_text("name", name, 200)?;
    if let Some(format) = reference_format {
        ReferenceFormat::parse(format)?;
    }
    let tenant = db.insert_tenant(slug.as_str(), &name).await?;
    let id = TenantId(tenant.id);
    let mut tx = db.tenant_tx(id, actor).await?;
    if let Some(format) = reference_format {
        tx.set_reference_format(format).await?;
    }
    tx.audit_tenant_event("tenant.created", "tenant", tenant.id, &tenant)
        .await?;
    keyring.create_tenant_key(&mut tx).await?;
    tx.commit().await?;
    let (_, token) = create_token(db, id, Role::Admin, "initial admin", actor).await?;
    let tenant = db.tenant_by_id(id).await?;
    Ok((tenant, token))
}

/// Deletes a tenant by crypto-shredding: marks it `deleted` (its tokens and sessions stop
/// working at once) and destroys every version of its key, so its stored blobs can never be
/// decrypted again, wherever copies of them remain. Returns the tenant and how many key
/// versions were destroyed. Running it again destroys nothing more.
pub async fn delete_tenant(db: &Db, slug: &str, actor: &str) -> Result<(TenantRow, u64), ApiError> {
    let tenant = db.tenant_by_slug(slug).await?;
    let mut tx = db.system_tx(TenantId(tenant.id), actor).await?;
    let destroyed = tx.shred_tenant().await?;
    let after = serde_json::json!({"slug": tenant.slug, "key_versions_destroyed": destroyed});
    tx.audit_tenant_event("tenant.deleted", "tenant", tenant.id, &after)
        .await?;
    tx.commit().await?;
    Ok((db.tenant_by_id(TenantId(tenant.id)).await?, destroyed))
}

pub async fn create_token(
    db: &Db,
    tenant: TenantId,
    role: Role,
    name: &str,
    actor: &str,
) -> Result<(TokenRow, String), ApiError> {
    let mut tx = db.tenant_tx(tenant, actor).await?;
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

/// What a tenant token may do.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub name: String,
    pub role: Role,
    pub can_write: bool,
    pub plan_unit_id: Option<uuid::Uuid>,
    pub expires_at: Option<time::OffsetDateTime>,
}

/// Issues a token inside `tx`; the secret is returned once and stored hashed.
pub async fn issue_tenant_token(
    tx: &mut akta_db::TenantTx,
    spec: &TokenSpec,
) -> Result<(TokenRow, String), ApiError> {
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

pub async fn create_operator_token(
    db: &Db,
    name: &str,
) -> Result<(OperatorTokenRow, String), ApiError> {
    let name = bounded_text("name", name, 200)?;
    let (token, hash) = issue_token();
    let row = db.insert_operator_token(&name, &hash).await?;
    Ok((row, token))
}

/// Creates a user with a password (CLI; the API does the same in `routes::users`).
pub async fn create_user(
    db: &Db,
    tenant: TenantId,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    actor: &str,
) -> Result<akta_db::User, ApiError> {
    let username = crate::routes::users::parse_username(username)?;
    let display_name = bounded_text("display_name", display_name, 200)?;
    crate::passwords::check_policy("password", password)?;
    let hash = crate::passwords::hash(password)?;
    let mut tx = db.tenant_tx(tenant, actor).await?;
    let user = tx
        .create_user(akta_db::NewUser {
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

/// Suspends (`active = false`) or resumes a tenant: while suspended, none of its tokens,
/// sessions or logins work; its data stays untouched.
pub async fn set_tenant_active(
    db: &Db,
    slug: &str,
    active: bool,
    actor: &str,
) -> Result<TenantRow, ApiError> {
    let tenant = db.tenant_by_slug(slug).await?;
    let status = if active { "active" } else { "suspended" };
    let row = db.set_tenant_status(TenantId(tenant.id), status).await?;
    let mut tx = db.tenant_tx(TenantId(tenant.id), actor).await?;
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
