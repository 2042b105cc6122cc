//! Validated object keys.

use crate::BlobError;

/// Longest key we accept; well below S3's 1024-byte limit so a bucket-level key prefix still fits.
const MAX_KEY_LEN: usize = 512;

/// Validated object key: 1..=512 chars, segments separated by '/', each segment non-empty, only
/// `[A-Za-z0-9._-]`, no segment "." or "..", no leading '/'.
///
/// The rules are strict on purpose: a valid key is also a safe relative path for the filesystem
/// backend, so no backend has to defend against traversal on its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(s: &str) -> Result<BlobKey, BlobError> {
        let reject = |reason: &str| {
            // The input may come from a client; keep the error message short.
            let shown: String = s.chars().take(64).collect();
            let ellipsis = if s.chars().count() > 64 { "..." } else { "" };
            Err(BlobError::InvalidKey(format!(
                "{shown:?}{ellipsis}: {reason}"
            )))
        };
        if s.is_empty() {
            return reject("empty");
        }
        if s.len() > MAX_KEY_LEN {
            return reject("longer than 512 characters");
        }
        for segment in s.split('/') {
            if segment.is_empty() {
                return reject("empty path segment (leading, trailing or double '/')");
            }
            if segment == "." || segment == ".." {
                return reject("'.' and '..' segments are not allowed");
            }
            if !segment.bytes().all(is_key_byte) {
                return reject("only A-Z, a-z, 0-9, '.', '_', '-' and '/' are allowed");
            }
        }
        Ok(BlobKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for a byte that may appear inside a key segment.
pub(crate) fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_invalid(s: &str) -> bool {
        matches!(BlobKey::parse(s), Err(BlobError::InvalidKey(_)))
    }

    #[test]
    fn accepts_typical_keys() {
        for s in [
            "a",
            "tenant-1/doc_2/v3.pdf",
            "A.B-c_d/0123456789",
            "..a/b..",
            ".hidden",
            "a/.b/c.",
            "-/_/.x",
        ] {
            let key = BlobKey::parse(s).expect("valid key");
            assert_eq!(key.as_str(), s);
            assert_eq!(key.to_string(), s);
        }
    }

    #[test]
    fn accepts_exactly_512_chars_and_rejects_513() {
        let long = "a".repeat(512);
        assert!(BlobKey::parse(&long).is_ok());
        assert!(is_invalid(&"a".repeat(513)));
        let segmented = format!("{}/{}", "b".repeat(255), "c".repeat(256));
        assert_eq!(segmented.len(), 512);
        assert!(BlobKey::parse(&segmented).is_ok());
    }

    #[test]
    fn rejects_empty_and_slash_misuse() {
        for s in ["", "/", "/a", "a/", "a//b", "//"] {
            assert!(is_invalid(s), "{s:?} should be rejected");
        }
    }

    #[test]
    fn rejects_dot_segments() {
        for s in [".", "..", "a/../b", "a/./b", "../a", "a/..", "a/."] {
            assert!(is_invalid(s), "{s:?} should be rejected");
        }
    }

    #[test]
    fn rejects_characters_outside_the_alphabet() {
        for s in [
            "a b", "a\\b", "a:b", "ä", "a\0b", "a\nb", "a~b", "a%2Fb", "a+b", "a?b", "a#b", "a*b",
        ] {
            assert!(is_invalid(s), "{s:?} should be rejected");
        }
    }

    #[test]
    fn long_invalid_input_yields_a_short_message() {
        let huge = format!("{}/", "x".repeat(10_000));
        match BlobKey::parse(&huge) {
            Err(BlobError::InvalidKey(msg)) => assert!(msg.len() < 200, "{msg}"),
            other => panic!("expected InvalidKey, got {other:?}"),
        }
    }
}
