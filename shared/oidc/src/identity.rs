//! From validated claims to an Akta identity: the subject, username candidates, a display
//! name and the role the tenant's mapping gives the role claim.

use akta_db::repo::oidc::OidcConfig;
use akta_domain::Role;
use serde_json::Value;

use crate::{Claims, OidcError};

/// The Akta identity a set of claims stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Candidates for the username, best first: `preferred_username`, `email`, `sub`. Which
    /// of them is a valid username is the user model's rule, not the protocol's.
    pub usernames: Vec<String>,
    /// `name`, else the first username candidate.
    pub display_name: String,
    /// `None`: the claims map to no role and there is no default, so the login is refused
    /// (by the caller, which audits it with the subject).
    pub role: Option<Role>,
}

/// Longest username and display name taken from claims.
const NAME_MAX: usize = 200;

/// Reads the identity from validated claims with the tenant's role settings.
pub fn identity(claims: &Claims, cfg: &OidcConfig) -> Result<Identity, OidcError> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().count() <= NAME_MAX)
            .filter(|s| !s.chars().any(char::is_control))
    };
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| OidcError::token("no subject"))?
        .to_owned();
    let usernames: Vec<String> = ["preferred_username", "email", "sub"]
        .into_iter()
        .filter_map(text)
        .map(str::to_owned)
        .collect();
    let display_name = text("name")
        .map(str::to_owned)
        .or_else(|| usernames.first().cloned())
        .ok_or_else(|| OidcError::token("no usable name claim"))?;
    let role = map_role(
        claims,
        cfg.role_claim.as_deref(),
        &cfg.role_mapping,
        cfg.default_role.as_deref(),
    );
    Ok(Identity {
        subject,
        usernames,
        display_name,
        role,
    })
}

/// Maps the role claim to a role. The claim may be a string or a list of strings (group
/// lists); `role_claim` may be a dotted path into nested objects (`realm_access.roles`).
/// Of several mapped roles the most powerful wins: admin, clerk, archivist, reader. A claim
/// that maps to nothing gives `default_role`, which may be none (login refused).
pub fn map_role(
    claims: &Claims,
    role_claim: Option<&str>,
    mapping: &Value,
    default_role: Option<&str>,
) -> Option<Role> {
    let default = default_role.and_then(|r| Role::parse(r).ok());
    let Some(path) = role_claim else {
        return default;
    };
    let mut segments = path.split('.').peekable();
    let mut scope = claims;
    let value = loop {
        let Some(segment) = segments.next() else {
            break None;
        };
        let found = scope.get(segment);
        if segments.peek().is_none() {
            break found;
        }
        match found {
            Some(Value::Object(inner)) => scope = inner,
            _ => break None,
        }
    };
    let values: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let rank = |role: &Role| match role {
        Role::Admin => 3,
        Role::Clerk => 2,
        Role::Archivist => 1,
        Role::Reader => 0,
    };
    values
        .into_iter()
        .filter_map(|v| mapping.get(v).and_then(Value::as_str))
        .filter_map(|r| Role::parse(r).ok())
        .max_by_key(rank)
        .or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Claims {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn maps_string_list_and_nested_role_claims() {
        let mapping = json!({"Sachbearbeitung": "clerk", "IT": "admin", "Archiv": "archivist"});
        let c = claims(json!({"role": "Sachbearbeitung"}));
        assert_eq!(
            map_role(&c, Some("role"), &mapping, None),
            Some(Role::Clerk)
        );
        let c = claims(json!({"groups": ["Archiv", "IT", "Kantine"]}));
        assert_eq!(
            map_role(&c, Some("groups"), &mapping, None),
            Some(Role::Admin)
        );
        let c = claims(json!({"realm_access": {"roles": ["Archiv"]}}));
        assert_eq!(
            map_role(&c, Some("realm_access.roles"), &mapping, None),
            Some(Role::Archivist)
        );
        let c = claims(json!({"role": "Kantine"}));
        assert_eq!(map_role(&c, Some("role"), &mapping, None), None);
        assert_eq!(
            map_role(&c, Some("role"), &mapping, Some("reader")),
            Some(Role::Reader)
        );
        assert_eq!(
            map_role(&c, None, &mapping, Some("clerk")),
            Some(Role::Clerk)
        );
        assert_eq!(map_role(&c, Some("missing.path"), &mapping, None), None);
    }

    #[test]
    fn names_come_from_the_best_usable_claims() {
        let cfg = crate::test_config(Some("reader"));
        let who = identity(
            &claims(json!({"sub": "42", "preferred_username": " ", "email": "a@b.example"})),
            &cfg,
        )
        .expect("identity");
        assert_eq!(who.usernames, ["a@b.example", "42"]);
        assert_eq!(
            who.display_name, "a@b.example",
            "no name: the first username"
        );
        assert_eq!(who.role, Some(Role::Reader));
        assert!(identity(&claims(json!({"name": "Anna"})), &cfg).is_err());
    }
}
