//! Envelope encryption at rest for document blobs.
//!
//! Every blob gets its own random 256-bit data key (DEK), wrapped with AES-256-GCM by the
//! tenant's key ([`wrap_key`]); tenant keys are wrapped the same way by the master key, which
//! comes from a file or the environment and never from the database. Deleting a tenant's key
//! makes all its blobs unreadable.
//!
//! Blob content is AES-256-GCM in 64 KiB plaintext segments, so uploads and downloads stream
//! with bounded memory, HTTP Range reads fetch and open only the segments they need
//! ([`cipher_range`], [`decrypt_range_stream`]), and no plaintext is released before its segment
//! has been authenticated.
//!
//! ```text
//! header:    b"AKTAENC1" || segment size (u32 BE)                      HEADER_LEN bytes
//! segment i: AES-256-GCM(plaintext[i*S .. (i+1)*S]) || tag          up to S + TAG_LEN bytes
//!            nonce = 0u32 BE || i (u64 BE); AAD = i (u64 BE) || final flag (1 on the last segment)
//! ```
//!
//! Nonce uniqueness is structural: a DEK encrypts exactly one blob, and within that blob the
//! nonce is the segment index, which never repeats. There is no random nonce that could collide
//! and no counter state that could be lost. The flip side: a DEK must never encrypt a second
//! plaintext, not even a retry of the same upload; generate a new one every time.
//!
//! The index in nonce and AAD stops reordering; the final flag stops truncation at a segment
//! boundary; the expected total length (from the plaintext length kept in the blob's metadata)
//! stops truncation and appending; the fixed header is compared byte for byte.

mod aead;
mod error;
mod key;
mod segment;
mod stream;

#[cfg(test)]
mod tests;

pub use error::CryptoError;

/// Compares a secret someone sent (a CSRF token, an OpenID state or nonce) with the expected
/// one in constant time, so the time of a refusal tells nothing about how much matched. An
/// empty expected secret matches nothing.
pub fn secrets_match(sent: &[u8], expected: &[u8]) -> bool {
    !expected.is_empty() && sent.len() == expected.len() && openssl::memcmp::eq(sent, expected)
}
pub use key::{unwrap_key, wrap_key, Key256, WRAPPED_KEY_LEN};
pub use segment::{
    cipher_range, ciphertext_len, decrypt_to_vec, encrypt_to_vec, segment_count, CipherRange,
    HEADER_LEN, SEGMENT_SIZE, TAG_LEN,
};
pub use stream::{decrypt_range_stream, decrypt_stream, encrypt_stream};

/// A stream of body bytes; the same shape as `akta_blob::ByteStream`, so streams pass between
/// the two crates without adapters.
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>,
>;
