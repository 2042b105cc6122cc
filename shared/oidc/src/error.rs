//! The crate's one error type: what failed in an OpenID Connect login or configuration.

use akta_domain::DomainError;

/// Why an OpenID Connect operation failed, told apart by who is at fault: the tenant
/// admin's settings, the provider, the answer that came back through the browser, or Akta.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A field of the tenant's provider settings is unusable; `field` names it as sent.
    #[error("{field}: {detail}")]
    InvalidConfig { field: String, detail: String },
    /// The provider could not be reached: DNS, connection, TLS, timeout, or an address
    /// Akta refuses to contact.
    #[error("identity provider unreachable ({what}): {detail}")]
    ProviderUnreachable { what: String, detail: String },
    /// The provider answered, but not as OpenID Connect requires: an error status, an
    /// unreadable or oversized document, another issuer, an endpoint Akta may not use.
    #[error("identity provider misbehaves ({what}): {detail}")]
    ProviderMisbehaving { what: String, detail: String },
    /// The token endpoint would not redeem the code. Its OAuth error code (`invalid_client`:
    /// wrong secret; `invalid_grant`: wrong redirect URI or used code) tells the admin why.
    #[error("the token endpoint refused the code: HTTP {status} {error}")]
    CodeRefused { status: u16, error: String },
    /// The provider reports that the login failed or was cancelled (`error=` on the callback).
    #[error("the identity provider refused the login: error={0}")]
    LoginRefused(String),
    /// The callback's `state` is missing, not this browser's, used up or expired.
    #[error("login state: {0}")]
    InvalidState(String),
    /// The authorization response or the userinfo answer is unacceptable: no code, another
    /// issuer, another subject.
    #[error("invalid authorization response: {0}")]
    InvalidResponse(String),
    /// The ID token or its claims failed validation: signature, key, issuer, audience,
    /// times, nonce, subject or name.
    #[error("invalid ID token: {0}")]
    InvalidToken(String),
    /// Akta's own side failed: no randomness, no HTTP client.
    #[error("OpenID Connect client: {0}")]
    Internal(String),
}

impl OidcError {
    pub(crate) fn config(field: impl Into<String>, detail: impl Into<String>) -> OidcError {
        OidcError::InvalidConfig {
            field: field.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn unreachable(what: &str, detail: impl std::fmt::Display) -> OidcError {
        OidcError::ProviderUnreachable {
            what: what.to_owned(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn misbehaving(what: &str, detail: impl std::fmt::Display) -> OidcError {
        OidcError::ProviderMisbehaving {
            what: what.to_owned(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn token(detail: impl Into<String>) -> OidcError {
        OidcError::InvalidToken(detail.into())
    }
}

/// Text and role checks of the domain model report the field they refused.
impl From<DomainError> for OidcError {
    fn from(e: DomainError) -> Self {
        OidcError::InvalidConfig {
            field: e.field,
            detail: e.message,
        }
    }
}
