//! Secrets Akta hands out and checks: API and session tokens (random, stored as SHA-256) and
//! passwords (Argon2id; long rather than complicated, as the BSI recommends).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use std::sync::OnceLock;

use crate::CoreError;

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 256;

/// `bytes` random bytes as URL-safe text.
pub fn random_text(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A new 256-bit token (shown once) and the hash that is stored.
pub fn issue_token() -> (String, Vec<u8>) {
    let token = format!("akta_{}", random_text(32));
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    openssl::sha::sha256(token.as_bytes()).to_vec()
}

/// Checks the password policy.
pub fn check_password_policy(field: &str, password: &str) -> Result<(), CoreError> {
    let n = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(CoreError::validation(
            field,
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"),
        ));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String, CoreError> {
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(|e| CoreError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(e.to_string()))
}

/// Checks the policy, then hashes off the async threads (a hash takes tens of milliseconds).
pub async fn checked_password_hash(field: &str, password: String) -> Result<String, CoreError> {
    check_password_policy(field, &password)?;
    let _permit = crate::login_guard::hashing()
        .acquire()
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?
}

/// Verifies `password` against `stored`; with no stored hash (unknown user, OIDC-only user)
/// a dummy hash is checked instead so the answer takes as long as for a real user.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY
        .get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default());
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
        let h = hash_password("korrekt pferd batterie").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("korrekt pferd batterie", Some(&h)));
        assert!(!verify_password("falsch", Some(&h)));
        assert!(!verify_password("korrekt pferd batterie", None));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password_policy("password", "kurz").is_err());
        assert!(check_password_policy("password", "lang genug, wirklich").is_ok());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash) = issue_token();
        let (b, _) = issue_token();
        assert_ne!(a, b);
        assert!(a.starts_with("akta_"));
        assert_eq!(hash, hash_token(&a));
    }
}
