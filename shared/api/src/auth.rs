//! Bearer-token authentication and role checks, as extractors so that a request is refused
//! before its body is even parsed.

use akta_domain::{Principal, Role, TenantId};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use base64::Engine;
use rand::RngCore;

use crate::{ApiError, AppState};

/// Creates a new random token and the hash stored for it. Tokens carry 256 random bits, so
/// a fast hash suffices: there is nothing to brute-force.
pub fn issue_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = format!(
        "akta_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    openssl::sha::sha256(token.as_bytes()).to_vec()
}

/// Any authenticated caller.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme name is case-insensitive (RFC 9110 §11.1).
            .and_then(|v| {
                v.get(..7)
                    .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                    .map(|_| &v[7..])
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(ApiError::Unauthorized)?;
        let principal = state
            .db
            .authenticate(&hash_token(token))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if let Principal::Tenant { tenant_id, .. } = &principal {
            tracing::Span::current().record("tenant", tracing::field::display(tenant_id));
        }
        Ok(Auth(principal))
    }
}

/// A caller acting inside a tenant with at least the role `MIN`.
pub struct TenantAuth<const MIN: u8> {
    pub principal: Principal,
    pub tenant: TenantId,
}

pub const READ: u8 = 0;
pub const WRITE: u8 = 1;
pub const ADMIN: u8 = 2;

fn rank(role: Role) -> u8 {
    match role {
        Role::Reader => READ,
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
        match principal {
            Principal::Tenant {
                tenant_id, role, ..
            } => {
                if rank(role) < MIN {
                    return Err(ApiError::Forbidden(match MIN {
                        WRITE => "this token may only read",
                        _ => "this action needs a tenant admin token",
                    }));
                }
                Ok(TenantAuth {
                    principal,
                    tenant: tenant_id,
                })
            }
            Principal::Operator { .. } => Err(ApiError::Forbidden(
                "operator tokens manage tenants and cannot access tenant records",
            )),
        }
    }
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
