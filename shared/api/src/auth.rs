//! Bearer-token authentication and role checks, as extractors so that a request is refused
//! before its body is even parsed.

use akta_domain::{Principal, Role};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::{ApiError, AppState};

pub use akta_core::secrets::hash_token;

/// Name of the session cookie set at login.
pub const SESSION_COOKIE: &str = "akta_session";
/// Header carrying the session's CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request headers, if any.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Any authenticated caller: a bearer token (API clients, operator) or a session cookie
/// (people in the browser). Cookie-authenticated changes must carry the CSRF header, because
/// browsers attach cookies to requests other sites trigger; bearer tokens they never attach.
pub struct Auth(pub Principal);

/// The principal a layer already authenticated for this request (the Idempotency-Key
/// layer), so the handler's extractor neither asks again nor counts the request twice.
#[derive(Clone)]
pub(crate) struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(Authenticated(principal)) = parts.extensions.get::<Authenticated>() {
            return Ok(Auth(principal.clone()));
        }
        let principal = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    // The scheme name is case-insensitive (RFC 9110 §11.1).
                    .and_then(|v| {
                        v.get(..7)
                            .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                            .map(|_| &v[7..])
                    })
                    .map(str::trim)
                    .filter(|t| !t.is_empty() && t.len() <= 200)
                    .ok_or(ApiError::Unauthorized)?;
                state
                    .core
                    .authenticate_token(token)
                    .await?
                    .ok_or(ApiError::Unauthorized)?
            }
            None => {
                let token = cookie(&parts.headers, SESSION_COOKIE)
                    .filter(|t| !t.is_empty() && t.len() <= 200)
                    .ok_or(ApiError::Unauthorized)?;
                let principal = state
                    .core
                    .authenticate_session(token)
                    .await?
                    .ok_or(ApiError::Unauthorized)?;
                if !parts.method.is_safe() {
                    check_csrf(parts, &principal)?;
                }
                principal
            }
        };
        if let Some((tenant_id, _)) = principal.tenant_role() {
            tracing::Span::current().record("tenant", tracing::field::display(tenant_id));
            let usage = akta_core::RequestUsage {
                api: true,
                search: parts.uri.path() == "/api/v1/search",
            };
            state.core.admit_usage(&principal, usage).await?;
        }
        Ok(Auth(principal))
    }
}

fn check_csrf(parts: &Parts, principal: &Principal) -> Result<(), ApiError> {
    let Principal::User { csrf_token, .. } = principal else {
        return Ok(());
    };
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = csrf_token.as_bytes();
    if akta_crypto::secrets_match(sent, expected) {
        Ok(())
    } else {
        Err(ApiError::CsrfFailed)
    }
}

/// A caller acting inside a tenant with at least the role `MIN`.
pub struct TenantAuth<const MIN: u8> {
    pub principal: Principal,
}

pub const READ: u8 = 0;
pub const WRITE: u8 = 1;
pub const ADMIN: u8 = 2;

fn rank(role: Role) -> u8 {
    match role {
        Role::Reader | Role::Archivist => READ,
        Role::Clerk => WRITE,
        Role::Admin => ADMIN,
    }
}

pub type Reader = TenantAuth<READ>;
pub type Writer = TenantAuth<WRITE>;
pub type Admin = TenantAuth<ADMIN>;

impl<const MIN: u8> FromRequestParts<AppState> for TenantAuth<MIN> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth(principal) = Auth::from_request_parts(parts, state).await?;
        let principal = match principal {
            Principal::Operator { token_id, name }
                if parts.headers.contains_key(SUPPORT_HEADER) =>
            {
                support_principal(parts, state, token_id, &name, MIN).await?
            }
            other => other,
        };
        let Some((_, role)) = principal.tenant_role() else {
            return Err(ApiError::Forbidden(
                "operator tokens manage tenants and cannot access tenant records",
            ));
        };
        if rank(role) < MIN {
            return Err(ApiError::Forbidden(match MIN {
                WRITE => "this role may only read",
                _ => "this action needs a tenant admin",
            }));
        }
        if MIN >= WRITE && !principal.can_write() {
            return Err(ApiError::Forbidden("this token has read scope only"));
        }
        // Tokens and users limited to a plan subtree do not administer the tenant: an admin
        // could otherwise lift its own limit (a new unscoped token, a changed user).
        if MIN >= ADMIN
            && matches!(
                principal,
                Principal::Tenant {
                    plan_scope: Some(_),
                    ..
                } | Principal::User {
                    plan_scope: Some(_),
                    ..
                }
            )
        {
            return Err(ApiError::Forbidden(
                "tokens and users limited to a plan unit cannot administer the tenant",
            ));
        }
        Ok(TenantAuth { principal })
    }
}

/// Header by which the operator asks to read a tenant's records under a support grant.
pub const SUPPORT_HEADER: &str = "x-akta-support-tenant";

/// The operator acting as a reader of one tenant, allowed only while that tenant's admin has
/// granted support access; every such request is audited in the tenant's log.
async fn support_principal(
    parts: &Parts,
    state: &AppState,
    token_id: uuid::Uuid,
    name: &str,
    min: u8,
) -> Result<Principal, ApiError> {
    if min > READ {
        return Err(ApiError::Forbidden("support access is read-only"));
    }
    let slug = parts
        .headers
        .get(SUPPORT_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(state
        .core
        .support_principal(
            slug,
            token_id,
            name,
            parts.method.as_str(),
            parts.uri.path(),
        )
        .await?)
}

/// The hosting city's operator.
pub struct Operator(pub Principal);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Auth::from_request_parts(parts, state).await? {
            Auth(p @ Principal::Operator { .. }) => Ok(Operator(p)),
            Auth(_) => Err(ApiError::Forbidden("this action needs an operator token")),
        }
    }
}
