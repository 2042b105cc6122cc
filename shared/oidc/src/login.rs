//! One login through the authorization-code flow: state, nonce and PKCE on the way out
//! (Core §3.1.2.1, RFC 7636), and on the way back the callback's checks (RFC 9207 `iss`),
//! the code exchange and the validated identity.

use akta_db::repo::oidc::{OidcConfig, PendingOidcLogin};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use std::time::Duration;

use crate::id_token::{validate_id_token, Expected, KeyLookup};
use crate::provider::Discovery;
use crate::{identity, Claims, Identity, Oidc, OidcError};

/// How long a person may take at the provider before the login's state expires.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// A login about to leave for the provider.
pub struct Started {
    /// Where to send the browser.
    pub url: String,
    /// The `state` value, to be bound to the browser (cookie) and stored as a hash.
    pub state: String,
    /// What the callback needs again; stored until the provider's answer comes back.
    pub pending: PendingOidcLogin,
}

/// The provider's answer as the browser brings it to the callback's query string.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

impl Callback {
    pub fn from_query(query: &str) -> Result<Callback, OidcError> {
        serde_urlencoded::from_str(query)
            .map_err(|e| OidcError::InvalidState(format!("unreadable callback query: {e}")))
    }

    /// The answer's `state`, provided it is the one bound to this browser (`bound`, from
    /// its cookie). Otherwise anyone could push their own provider answer into another
    /// person's browser and log them into the wrong account (login CSRF).
    pub fn state(&self, bound: Option<&str>) -> Result<&str, OidcError> {
        let sent = self
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 100)
            .ok_or_else(|| OidcError::InvalidState("callback without state".into()))?;
        let bound = bound.unwrap_or("");
        if !akta_crypto::secrets_match(sent.as_bytes(), bound.as_bytes()) {
            return Err(OidcError::InvalidState(
                "state does not match this browser's login".into(),
            ));
        }
        Ok(sent)
    }
}

impl Oidc {
    /// Prepares a login: fresh state, nonce and PKCE verifier, and the provider URL that
    /// carries them (with the S256 challenge, never the verifier).
    pub async fn start(&self, cfg: &OidcConfig, redirect_uri: &str) -> Result<Started, OidcError> {
        let discovery = self.discover(&cfg.issuer).await?;
        let state = random_token()?;
        let nonce = random_token()?;
        let verifier = random_token()?;
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| OidcError::misbehaving("authorization_endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &cfg.scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Started {
            url: url.into(),
            state,
            pending: PendingOidcLogin {
                nonce,
                pkce_verifier: verifier,
                redirect_uri: redirect_uri.to_owned(),
            },
        })
    }

    /// Completes a login whose state the caller has matched to `pending`: checks the
    /// answer's `iss`, redeems the code, validates the ID token, adds the userinfo claims
    /// and reads the identity from them.
    pub async fn finish(
        &self,
        cfg: &OidcConfig,
        pending: &PendingOidcLogin,
        callback: &Callback,
    ) -> Result<Identity, OidcError> {
        if let Some(error) = &callback.error {
            return Err(OidcError::LoginRefused(error.clone()));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .ok_or_else(|| OidcError::InvalidResponse("callback without code".into()))?;
        let discovery = self.discover(&cfg.issuer).await?;
        // RFC 9207: a provider that announces `iss` in responses must send the right one;
        // this stops a mix-up with another tenant's (or an attacker's) provider.
        match callback.iss.as_deref() {
            Some(iss) if iss != discovery.issuer => {
                return Err(OidcError::InvalidResponse(
                    "the authorization response names another issuer".into(),
                ));
            }
            None if discovery.authorization_response_iss_parameter_supported => {
                return Err(OidcError::InvalidResponse(
                    "the authorization response lacks its issuer".into(),
                ));
            }
            _ => {}
        }
        let tokens = self.redeem(cfg, &discovery, pending, code).await?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| OidcError::misbehaving("token endpoint", "no id_token in the answer"))?;
        let expect = Expected {
            issuer: &discovery.issuer,
            client_id: &cfg.client_id,
            nonce: &pending.nonce,
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let mut claims = match self.validate(&discovery, &id_token, &expect, false).await {
            Err(KeyLookup::UnknownKid) => self.validate(&discovery, &id_token, &expect, true).await,
            other => other,
        }
        .map_err(KeyLookup::into_error)?;
        if let (Some(endpoint), Some(access_token)) =
            (&discovery.userinfo_endpoint, &tokens.access_token)
        {
            self.add_userinfo(endpoint, access_token, &mut claims)
                .await?;
        }
        identity(&claims, cfg)
    }

    async fn validate(
        &self,
        discovery: &Discovery,
        id_token: &str,
        expect: &Expected<'_>,
        refresh: bool,
    ) -> Result<Claims, KeyLookup> {
        let keys = self
            .keys(&discovery.jwks_uri, refresh)
            .await
            .map_err(KeyLookup::Failed)?;
        validate_id_token(id_token, &keys, expect)
    }
}

/// 256 random bits, base64url: for state, nonce and the PKCE verifier (43 characters, within
/// RFC 7636's 43..=128).
pub fn random_token() -> Result<String, OidcError> {
    let mut raw = [0u8; 32];
    openssl::rand::rand_bytes(&mut raw).map_err(|e| OidcError::Internal(format!("random: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// The S256 code challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_example() {
        // RFC 7636, Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let token = random_token().expect("random");
        assert_eq!(token.len(), 43);
    }

    #[test]
    fn the_callback_state_must_be_this_browsers() {
        let callback = Callback::from_query("code=c&state=abc").expect("query");
        assert_eq!(callback.state(Some("abc")).expect("bound"), "abc");
        for bound in [None, Some(""), Some("abd")] {
            assert!(matches!(
                callback.state(bound),
                Err(OidcError::InvalidState(_))
            ));
        }
        let without = Callback::from_query("code=c").expect("query");
        assert!(matches!(
            without.state(Some("")),
            Err(OidcError::InvalidState(_))
        ));
    }
}
