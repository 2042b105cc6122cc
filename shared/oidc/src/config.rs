//! The tenant admin's provider settings: the input as sent, its validation field by field,
//! and the rule that a stored client secret never follows the settings to another provider.

use akta_db::repo::oidc::{NewOidcConfig, OidcConfig, SealedSecret};
use akta_domain::{bounded_text, optional_text, Role};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::address::check_url;
use crate::{Oidc, OidcError};

/// The settings as the admin sends them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    pub issuer: String,
    pub client_id: String,
    /// Write-only; absent keeps the stored secret.
    pub client_secret: Option<String>,
    pub token_auth_method: Option<String>,
    pub scopes: Option<String>,
    pub role_claim: Option<String>,
    pub role_mapping: Option<Map<String, Value>>,
    pub default_role: Option<String>,
    pub enabled: Option<bool>,
}

/// Settings that passed every check of their own; [`ValidConfig::check_secret`] adds the
/// one that needs the stored settings.
pub struct ValidConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub token_auth_method: &'static str,
    pub scopes: String,
    pub role_claim: Option<String>,
    pub role_mapping: Value,
    pub default_role: Option<Role>,
    pub enabled: bool,
}

/// Debug output never shows the client secret, only whether one was given.
fn redacted(secret: &Option<String>) -> &'static str {
    if secret.is_some() {
        "<set>"
    } else {
        "<not given>"
    }
}

impl std::fmt::Debug for ConfigInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigInput")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ValidConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// Validates the admin's settings, naming the first field that is unusable. The issuer
    /// must be a URL this client may contact (see [`Oidc::new`]).
    pub fn check_config(&self, input: ConfigInput) -> Result<ValidConfig, OidcError> {
        let issuer = bounded_text("issuer", &input.issuer, 500)?;
        let issuer_url =
            check_url(&issuer, self.allow_http).map_err(|e| OidcError::config("issuer", e))?;
        // Discovery appends its path to the issuer; a query would end up in the middle.
        if issuer_url.query().is_some() {
            return Err(OidcError::config("issuer", "must not have a query"));
        }
        let client_id = bounded_text("client_id", &input.client_id, 255)?;
        let client_secret = input
            .client_secret
            .map(|s| check_secret(&s).map(|()| s))
            .transpose()?;
        let token_auth_method = match input.token_auth_method.as_deref() {
            None | Some("client_secret_basic") => "client_secret_basic",
            Some("client_secret_post") => "client_secret_post",
            Some(_) => {
                return Err(OidcError::config(
                    "token_auth_method",
                    "must be client_secret_basic or client_secret_post",
                ))
            }
        };
        let scopes = parse_scopes(input.scopes.as_deref())?;
        let role_claim = match input.role_claim.as_deref() {
            Some(raw) => optional_text("role_claim", raw, 200)?,
            None => None,
        };
        if role_claim
            .as_deref()
            .is_some_and(|c| c.split('.').any(str::is_empty))
        {
            return Err(OidcError::config(
                "role_claim",
                "must be a claim name or a dotted path like realm_access.roles",
            ));
        }
        let role_mapping = parse_mapping(input.role_mapping.unwrap_or_default())?;
        let default_role = input
            .default_role
            .as_deref()
            .map(|r| Role::parse(r).map_err(|e| OidcError::config("default_role", e.message)))
            .transpose()?;
        Ok(ValidConfig {
            issuer,
            client_id,
            client_secret,
            token_auth_method,
            scopes,
            role_claim,
            role_mapping,
            default_role,
            enabled: input.enabled.unwrap_or(true),
        })
    }
}

impl ValidConfig {
    /// Whether the settings may go without a new secret, given the stored ones.
    pub fn check_secret(&self, current: Option<&OidcConfig>) -> Result<(), OidcError> {
        if self.client_secret.is_some() {
            return Ok(());
        }
        let Some(current) = current else {
            return Err(OidcError::config(
                "client_secret",
                "is required for the first configuration",
            ));
        };
        // The stored secret belongs to one provider and client: pointing the configuration
        // elsewhere without a new secret would send the old one to the new provider.
        if current.issuer != self.issuer || current.client_id != self.client_id {
            return Err(OidcError::config(
                "client_secret",
                "is required when the issuer or client id changes",
            ));
        }
        Ok(())
    }

    /// The settings as the database stores them, with the new secret (if any) sealed.
    pub fn to_store<'a>(&'a self, sealed_secret: Option<&'a SealedSecret>) -> NewOidcConfig<'a> {
        NewOidcConfig {
            issuer: &self.issuer,
            client_id: &self.client_id,
            client_secret: sealed_secret,
            token_auth_method: self.token_auth_method,
            scopes: &self.scopes,
            role_claim: self.role_claim.as_deref(),
            role_mapping: &self.role_mapping,
            default_role: self.default_role.map(Role::as_str),
            enabled: self.enabled,
        }
    }
}

fn check_secret(secret: &str) -> Result<(), OidcError> {
    if secret.trim().is_empty() || secret.len() > 1000 || secret.chars().any(char::is_control) {
        return Err(OidcError::config(
            "client_secret",
            "must be 1 to 1000 characters without control characters",
        ));
    }
    Ok(())
}

/// Scopes as RFC 6749 §3.3 scope tokens; `openid` is required for OpenID Connect.
fn parse_scopes(raw: Option<&str>) -> Result<String, OidcError> {
    let raw = raw.unwrap_or("openid profile email");
    let scopes: Vec<&str> = raw.split_whitespace().collect();
    let valid = |s: &&str| {
        s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    };
    if !scopes.iter().all(valid) || raw.len() > 500 {
        return Err(OidcError::config(
            "scopes",
            "must be space-separated scope names, at most 500 characters",
        ));
    }
    if !scopes.contains(&"openid") {
        return Err(OidcError::config("scopes", "must include openid"));
    }
    Ok(scopes.join(" "))
}

/// Claim value → role name; each role is checked and stored in its canonical spelling.
fn parse_mapping(mapping: Map<String, Value>) -> Result<Value, OidcError> {
    if mapping.len() > 200 {
        return Err(OidcError::config(
            "role_mapping",
            "must have at most 200 entries",
        ));
    }
    let mut out = Map::new();
    for (claim_value, role) in mapping {
        let field = format!("role_mapping.{claim_value}");
        if claim_value.is_empty() || claim_value.chars().count() > 200 {
            return Err(OidcError::config(
                field,
                "claim values must be 1 to 200 characters",
            ));
        }
        let role = role
            .as_str()
            .ok_or_else(|| OidcError::config(&field, "must be a role name"))
            .and_then(|r| Role::parse(r).map_err(|e| OidcError::config(&field, e.message)))?;
        out.insert(claim_value, json!(role.as_str()));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(extra: Value) -> ConfigInput {
        let mut body = json!({"issuer": "https://idp.example", "client_id": "akta"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        serde_json::from_value(body).expect("input")
    }

    fn refused_field(result: Result<ValidConfig, OidcError>) -> String {
        match result {
            Err(OidcError::InvalidConfig { field, .. }) => field,
            other => panic!("not refused for a field: {other:?}"),
        }
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let cfg = Oidc::new(false)
            .check_config(input(json!({})))
            .expect("valid");
        assert_eq!(cfg.scopes, "openid profile email");
        assert_eq!(cfg.token_auth_method, "client_secret_basic");
        assert_eq!(cfg.role_mapping, json!({}));
        assert!(cfg.enabled);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let oidc = Oidc::new(false);
        let cases = [
            (json!({"issuer": "http://idp.example"}), "issuer"),
            (json!({"issuer": "https://idp.example/?realm=x"}), "issuer"),
            (json!({"issuer": "https://192.168.0.1/"}), "issuer"),
            (json!({"client_id": " "}), "client_id"),
            (json!({"client_secret": "a\nb"}), "client_secret"),
            (json!({"token_auth_method": "none"}), "token_auth_method"),
            (json!({"scopes": "profile"}), "scopes"),
            (json!({"role_claim": "realm_access..roles"}), "role_claim"),
            (json!({"role_mapping": {"IT": "root"}}), "role_mapping.IT"),
            (json!({"default_role": "root"}), "default_role"),
        ];
        for (extra, field) in cases {
            assert_eq!(refused_field(oidc.check_config(input(extra))), field);
        }
    }

    #[test]
    fn the_stored_secret_stays_with_its_provider_and_client() {
        let oidc = Oidc::new(false);
        let without = oidc.check_config(input(json!({}))).expect("valid");
        let stored = crate::test_config(None);
        assert!(without.check_secret(None).is_err(), "first configuration");
        without.check_secret(Some(&stored)).expect("same provider");
        let moved = OidcConfig {
            issuer: "https://other.example".into(),
            ..stored
        };
        assert!(without.check_secret(Some(&moved)).is_err());
        let with = oidc
            .check_config(input(json!({"client_secret": "new"})))
            .expect("valid");
        with.check_secret(None)
            .expect("a new secret is always enough");
    }
}
