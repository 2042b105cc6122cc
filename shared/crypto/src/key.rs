//! 256-bit keys and the key wrap used for DEKs (by tenant keys) and tenant keys (by the master key).

use base64::Engine as _;

use crate::aead::{Aead, NONCE_LEN};
use crate::{CryptoError, TAG_LEN};

/// A 256-bit symmetric key. Its bytes are overwritten with zeros when it is dropped and never
/// appear in `Debug` output.
#[derive(Clone)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// A fresh key from OpenSSL's CSPRNG.
    pub fn generate() -> Result<Key256, CryptoError> {
        let mut key = Key256([0; 32]);
        openssl::rand::rand_bytes(&mut key.0)?;
        Ok(key)
    }

    /// A key from exactly 32 raw bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Key256, CryptoError> {
        let mut key = Key256([0; 32]);
        if b.len() != key.0.len() {
            return Err(CryptoError::InvalidKey(format!(
                "expected 32 bytes, got {}",
                b.len()
            )));
        }
        key.0.copy_from_slice(b);
        Ok(key)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses a master key file/env value: 64 hex chars or base64 (standard) of 32 bytes,
    /// surrounding whitespace ignored.
    pub fn parse_text(s: &str) -> Result<Key256, CryptoError> {
        // Error messages never quote the input: it is (almost) a key.
        let s = s.trim();
        let mut key = Key256([0; 32]);
        if s.len() == 64 {
            hex::decode_to_slice(s, &mut key.0).map_err(|_| {
                CryptoError::InvalidKey("64 characters but not hex digits".to_owned())
            })?;
            return Ok(key);
        }
        // Base64 of 32 bytes is 44 characters; anything longer cannot fit the scratch buffer.
        if s.len() > 64 {
            return Err(CryptoError::InvalidKey(
                "expected 64 hex digits or base64 of 32 bytes".to_owned(),
            ));
        }
        let mut scratch = [0u8; 48];
        let decoded = base64::engine::general_purpose::STANDARD.decode_slice(s, &mut scratch);
        let result = match decoded {
            Ok(32) => {
                key.0.copy_from_slice(&scratch[..32]);
                Ok(key)
            }
            Ok(n) => Err(CryptoError::InvalidKey(format!(
                "base64 decodes to {n} bytes, expected 32"
            ))),
            Err(_) => Err(CryptoError::InvalidKey(
                "expected 64 hex digits or base64 of 32 bytes".to_owned(),
            )),
        };
        wipe(&mut scratch);
        result
    }

    /// Lowercase hex, for writing a generated master key to a file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Key256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key256(..)")
    }
}

impl Drop for Key256 {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites secret bytes with zeros. The workspace denies `unsafe`, so instead of
/// `write_volatile` the zeroed buffer is passed through `black_box`, which stops the optimiser
/// from treating the writes as dead stores (best effort, as with any zeroing in Rust).
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(bytes);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

const WRAP_VERSION: u8 = 1;
/// Length of [`wrap_key`]'s output: version, nonce, wrapped key, tag.
pub const WRAPPED_KEY_LEN: usize = 1 + NONCE_LEN + 32 + TAG_LEN;

/// AES-256-GCM key wrap: output = version byte 1 || 12-byte random nonce || 32-byte ciphertext
/// || 16-byte tag. `context` is bound as AAD (e.g. `b"tenant:<uuid>:v3"` or `b"blob:<key>"`) so a
/// wrapped key can't be moved to another context.
///
/// The nonce is random because a KEK wraps many keys; 96 random bits keep collisions negligible
/// far beyond any realistic number of wraps per KEK.
pub fn wrap_key(kek: &Key256, key: &Key256, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    openssl::rand::rand_bytes(&mut nonce)?;
    let mut out = vec![0u8; WRAPPED_KEY_LEN];
    out[0] = WRAP_VERSION;
    out[1..1 + NONCE_LEN].copy_from_slice(&nonce);
    Aead::sealer(kek)?.seal(&nonce, context, key.as_bytes(), &mut out[1 + NONCE_LEN..])?;
    Ok(out)
}

/// Reverses [`wrap_key`]. A wrong KEK, another context or any changed byte gives `Authentication`;
/// a wrong length or unknown version gives `Malformed`.
pub fn unwrap_key(kek: &Key256, wrapped: &[u8], context: &[u8]) -> Result<Key256, CryptoError> {
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(CryptoError::malformed(format!(
            "wrapped key is {} bytes, expected {WRAPPED_KEY_LEN}",
            wrapped.len()
        )));
    }
    if wrapped[0] != WRAP_VERSION {
        return Err(CryptoError::malformed(format!(
            "unknown key wrap version {}",
            wrapped[0]
        )));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&wrapped[1..1 + NONCE_LEN]);
    let mut key = Key256([0; 32]);
    Aead::opener(kek)?.open(&nonce, context, &wrapped[1 + NONCE_LEN..], &mut key.0)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_then_unwrap_returns_the_same_key() {
        let kek = Key256::generate().unwrap();
        let key = Key256::generate().unwrap();
        let wrapped = wrap_key(&kek, &key, b"tenant:42:v1").unwrap();
        assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
        assert_eq!(wrapped[0], 1);
        let back = unwrap_key(&kek, &wrapped, b"tenant:42:v1").unwrap();
        assert_eq!(back.as_bytes(), key.as_bytes());
    }

    #[test]
    fn wrapping_twice_uses_fresh_nonces() {
        let kek = Key256::generate().unwrap();
        let key = Key256::generate().unwrap();
        let a = wrap_key(&kek, &key, b"ctx").unwrap();
        let b = wrap_key(&kek, &key, b"ctx").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn unwrap_in_another_context_fails() {
        let kek = Key256::generate().unwrap();
        let key = Key256::generate().unwrap();
        let wrapped = wrap_key(&kek, &key, b"blob:t1/a").unwrap();
        let err = unwrap_key(&kek, &wrapped, b"blob:t1/b").unwrap_err();
        assert!(matches!(err, CryptoError::Authentication), "{err:?}");
    }

    #[test]
    fn unwrap_with_another_kek_fails() {
        let key = Key256::generate().unwrap();
        let wrapped = wrap_key(&Key256::generate().unwrap(), &key, b"ctx").unwrap();
        let err = unwrap_key(&Key256::generate().unwrap(), &wrapped, b"ctx").unwrap_err();
        assert!(matches!(err, CryptoError::Authentication), "{err:?}");
    }

    #[test]
    fn unwrap_detects_every_flipped_byte_and_bad_lengths() {
        let kek = Key256::generate().unwrap();
        let wrapped = wrap_key(&kek, &Key256::generate().unwrap(), b"ctx").unwrap();
        for i in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert!(
                unwrap_key(&kek, &bad, b"ctx").is_err(),
                "flip at {i} undetected"
            );
        }
        for len in [0, WRAPPED_KEY_LEN - 1, WRAPPED_KEY_LEN + 1] {
            let mut bad = wrapped.clone();
            bad.resize(len, 0);
            let err = unwrap_key(&kek, &bad, b"ctx").unwrap_err();
            assert!(matches!(err, CryptoError::Malformed(_)), "{err:?}");
        }
    }

    #[test]
    fn parse_text_accepts_hex_and_base64_with_whitespace() {
        let key = Key256::generate().unwrap();
        let hex_text = format!("  {}\n", key.to_hex());
        assert_eq!(
            Key256::parse_text(&hex_text).unwrap().as_bytes(),
            key.as_bytes()
        );
        let upper = key.to_hex().to_uppercase();
        assert_eq!(
            Key256::parse_text(&upper).unwrap().as_bytes(),
            key.as_bytes()
        );
        let b64 = format!(
            "\t{}\r\n",
            base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
        );
        assert_eq!(Key256::parse_text(&b64).unwrap().as_bytes(), key.as_bytes());
    }

    #[test]
    fn parse_text_rejects_other_lengths_and_garbage() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let rejected = [
            String::new(),
            "00".repeat(31),
            "00".repeat(33),
            "zz".repeat(32),
            b64.encode([7u8; 31]),
            b64.encode([7u8; 33]),
            b64.encode([7u8; 48]),
            "not a key at all".to_owned(),
        ];
        for text in rejected {
            let err = Key256::parse_text(&text).unwrap_err();
            assert!(
                matches!(err, CryptoError::InvalidKey(_)),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn from_bytes_wants_exactly_32_bytes() {
        assert!(Key256::from_bytes(&[1; 32]).is_ok());
        assert!(matches!(
            Key256::from_bytes(&[1; 31]),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            Key256::from_bytes(&[1; 33]),
            Err(CryptoError::InvalidKey(_))
        ));
    }

    #[test]
    fn debug_does_not_print_key_material() {
        let key = Key256::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "Key256(..)");
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_hex() {
        let a = Key256::generate().unwrap();
        let b = Key256::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(
            Key256::parse_text(&a.to_hex()).unwrap().as_bytes(),
            a.as_bytes()
        );
    }
}
