//! Password hashing with Argon2id (RFC 9106 parameters of the argon2 crate's defaults).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

use crate::ApiError;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Checks the password policy: long rather than complicated (BSI recommends length).
pub fn check_policy(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&n) {
        return Err(ApiError::validation(
            field,
            format!("must be {MIN_LENGTH} to {MAX_LENGTH} characters long"),
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Verifies `password` against `stored`; with no stored hash (unknown user, OIDC-only user)
/// a dummy hash is checked instead so the answer takes as long as for a real user.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash("not a real password, only for timing").unwrap_or_default());
    let (candidate, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(candidate)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let h = hash("korrekt pferd batterie").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("korrekt pferd batterie", Some(&h)));
        assert!(!verify("falsch", Some(&h)));
        assert!(!verify("korrekt pferd batterie", None));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_policy("password", "kurz").is_err());
        assert!(check_policy("password", "lang genug, wirklich").is_ok());
    }
}
