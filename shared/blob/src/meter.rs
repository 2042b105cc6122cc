//! Size bookkeeping shared by every backend's `put`. The store does not hash what it writes:
//! it sees ciphertext, and the plaintext's SHA-256 is taken where the plaintext streams
//! past (`akta_keys::content`); a second hash of every uploaded byte cost upload throughput.

use crate::{BlobError, PutOutcome};

/// Counts upload bytes as they stream past and enforces the size limit.
pub(crate) struct Meter {
    size: u64,
    limit: u64,
}

impl Meter {
    pub(crate) fn new(limit: u64) -> Self {
        Meter { size: 0, limit }
    }

    /// Accounts for `chunk`. Checked before the caller stores the chunk, so a backend never
    /// writes past the limit.
    pub(crate) fn update(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let size = self.size.saturating_add(chunk.len() as u64);
        if size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.size = size;
        Ok(())
    }

    pub(crate) fn finish(self) -> PutOutcome {
        PutOutcome { size: self.size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_chunks() {
        let mut meter = Meter::new(100);
        meter.update(b"hello ").expect("within limit");
        meter.update(b"").expect("within limit");
        meter.update(b"world").expect("within limit");
        assert_eq!(meter.finish().size, 11);
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
}
