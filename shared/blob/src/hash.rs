//! Size and SHA-256 bookkeeping shared by every backend's `put`.

use openssl::sha::Sha256;

use crate::{BlobError, PutOutcome};

/// Counts and hashes upload bytes as they stream past and enforces the size limit.
pub(crate) struct Meter {
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl Meter {
    pub(crate) fn new(limit: u64) -> Self {
        Meter {
            hasher: Sha256::new(),
            size: 0,
            limit,
        }
    }

    /// Accounts for `chunk`. Checked before the caller stores the chunk, so a backend never
    /// writes past the limit.
    pub(crate) fn update(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let size = self.size.saturating_add(chunk.len() as u64);
        if size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        self.size = size;
        Ok(())
    }

    pub(crate) fn finish(self) -> PutOutcome {
        PutOutcome {
            size: self.size,
            sha256: self.hasher.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_across_chunks_like_one_shot() {
        let mut meter = Meter::new(100);
        meter.update(b"hello ").expect("within limit");
        meter.update(b"").expect("within limit");
        meter.update(b"world").expect("within limit");
        let outcome = meter.finish();
        assert_eq!(outcome.size, 11);
        assert_eq!(outcome.sha256, openssl::sha::sha256(b"hello world"));
    }

    #[test]
    fn limit_is_inclusive() {
        let mut meter = Meter::new(4);
        meter.update(b"abcd").expect("exactly at the limit is fine");
        assert!(matches!(
            meter.update(b"e"),
            Err(BlobError::TooLarge { limit: 4 })
        ));
    }

    #[test]
    fn empty_input_has_the_well_known_digest() {
        let outcome = Meter::new(0).finish();
        assert_eq!(outcome.size, 0);
        assert_eq!(
            outcome.sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
