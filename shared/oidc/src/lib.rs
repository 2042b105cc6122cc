//! OpenID Connect relying party for Akta's tenants: provider discovery, the authorization-code
//! flow with PKCE, state and nonce, ID token validation (RS256/ES256 against the provider's
//! JWKS), the mapping from claims to an Akta role, and validation of the tenant's settings.
//!
//! Follows OpenID Connect Core 1.0 §3.1, Discovery 1.0 §4, RFC 7636 (PKCE), RFC 7517/7518
//! (JWK, JWA) and RFC 9207 (`iss` in the authorization response). Only what Akta needs:
//! confidential clients with `client_secret_basic` or `client_secret_post`.
//!
//! No HTTP server types here: callers pass plain values (the stored settings, the callback's
//! query, the state cookie's value) and get [`OidcError`] back, which says what failed.

mod address;
mod config;
mod error;
mod id_token;
mod identity;
mod login;
mod provider;

pub use config::{ConfigInput, ValidConfig};
pub use error::OidcError;
pub use id_token::{validate_id_token, Claims, Expected, Jwk, KeyLookup};
pub use identity::{identity, map_role, Identity};
pub use login::{pkce_challenge, random_token, Callback, Started, LOGIN_TTL};
pub use provider::{Discovery, Oidc};

/// A stored provider configuration for the unit tests of this crate.
#[cfg(test)]
pub(crate) fn test_config(default_role: Option<&str>) -> akta_db::repo::oidc::OidcConfig {
    akta_db::repo::oidc::OidcConfig {
        issuer: "https://idp.example".into(),
        client_id: "akta".into(),
        client_secret: "s".into(),
        secret_sealed: None,
        secret_len: None,
        secret_wrapped_key: None,
        secret_key_version: None,
        token_auth_method: "client_secret_basic".into(),
        scopes: "openid".into(),
        role_claim: None,
        role_mapping: serde_json::json!({}),
        default_role: default_role.map(str::to_owned),
        enabled: true,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
    }
}
