//! Administrative operations shared by the HTTP API and the `akta` command line.

use akta_db::{Db, NewToken, OperatorTokenRow, TenantRow, TokenRow};
use akta_domain::{bounded_text, ReferenceFormat, Role, TenantId, TenantSlug};

use crate::auth::issue_token;
use crate::ApiError;

/// Creates a tenant and its first admin token; the token is returned once and stored hashed.
pub async fn create_tenant(
    db: &Db,
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
    tx.commit().await?;
    let (_, token) = create_token(db, id, Role::Admin, "initial admin", actor).await?;
    let tenant = db.tenant_by_id(id).await?;
    Ok((tenant, token))
}

pub async fn create_token(
    db: &Db,
    tenant: TenantId,
    role: Role,
    name: &str,
    actor: &str,
) -> Result<(TokenRow, String), ApiError> {
    let name = bounded_text("name", name, 200)?;
    let (token, hash) = issue_token();
    let mut tx = db.tenant_tx(tenant, actor).await?;
    let row = tx
        .create_token(NewToken {
            name: &name,
            role,
            token_hash: &hash,
        })
        .await?;
    tx.commit().await?;
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
        })
        .await?;
    tx.commit().await?;
    Ok(user)
}
