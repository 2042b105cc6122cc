//! Document content at rest: encrypted on its way into the blob store, decrypted on its way out.
//! The API speaks plaintext only (size, SHA-256/ETag, Range and the upload limit all refer to
//! the plaintext); the blob store only ever sees ciphertext.

use std::sync::{Arc, Mutex, PoisonError};

use akta_blob::{BlobError, BlobKey, BlobStore, ByteRange, ByteStream};
use akta_crypto::{
    cipher_range, ciphertext_len, decrypt_range_stream, decrypt_stream, encrypt_stream,
    CryptoError, Key256,
};
use futures_util::StreamExt;
use openssl::sha::Sha256;

use crate::KeyError;

/// The plaintext limit was exceeded. Travels inside the io::Error of the upload stream through
/// the blob store, which reports it as a body error.
#[derive(Debug, thiserror::Error)]
#[error("the upload exceeds the limit of {limit} bytes")]
struct PlaintextTooLarge {
    limit: u64,
}

/// Size and SHA-256 of the plaintext, computed while it streams past.
struct Meter {
    hasher: Sha256,
    size: u64,
}

/// An upload on its way into the blob store.
pub struct Sealing {
    /// The `max_size` for [`BlobStore::put`]: the ciphertext length of the largest plaintext.
    pub stored_limit: u64,
    limit: u64,
    meter: Arc<Mutex<Meter>>,
    dek: Option<Key256>,
}

/// What was stored, in plaintext terms, and the blob's DEK (`None`: stored unencrypted).
pub struct Sealed {
    pub size: u64,
    pub sha256_hex: String,
    pub dek: Option<Key256>,
}

/// Prepares `plaintext` (at most `limit` bytes) for the blob store: encrypted under a fresh DEK
/// if `encrypt`, else passed through (benchmark setting only). Returns the stream to hand to
/// [`BlobStore::put`] and what to ask about the upload once `put` has returned.
pub fn seal(
    plaintext: ByteStream,
    limit: u64,
    encrypt: bool,
) -> Result<(ByteStream, Sealing), KeyError> {
    let meter = Arc::new(Mutex::new(Meter {
        hasher: Sha256::new(),
        size: 0,
    }));
    let metered = metered(plaintext, limit, meter.clone());
    // A fresh DEK for every upload, retries included: the crypto format derives nonces from
    // segment indexes, so a DEK must never encrypt two plaintexts.
    let dek = encrypt.then(Key256::generate).transpose()?;
    let (body, stored_limit) = match &dek {
        Some(dek) => (encrypt_stream(dek.clone(), metered), ciphertext_len(limit)),
        None => (metered, limit),
    };
    let sealing = Sealing {
        stored_limit,
        limit,
        meter,
        dek,
    };
    Ok((body, sealing))
}

fn metered(body: ByteStream, limit: u64, meter: Arc<Mutex<Meter>>) -> ByteStream {
    Box::pin(body.map(move |item| {
        let chunk = item?;
        let mut meter = meter.lock().unwrap_or_else(PoisonError::into_inner);
        let size = meter.size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(std::io::Error::other(PlaintextTooLarge { limit }));
        }
        meter.hasher.update(&chunk);
        meter.size = size;
        Ok(chunk)
    }))
}

impl Sealing {
    /// The outcome once [`BlobStore::put`] has returned successfully.
    pub fn finish(self) -> Sealed {
        let meter = self.meter.lock().unwrap_or_else(PoisonError::into_inner);
        Sealed {
            size: meter.size,
            sha256_hex: hex::encode(meter.hasher.clone().finish()),
            dek: self.dek.clone(),
        }
    }

    /// Maps a failed `put` to the error, with the plaintext limit where it was exceeded.
    pub fn error(&self, e: BlobError) -> KeyError {
        match e {
            BlobError::TooLarge { .. } => KeyError::TooLarge { limit: self.limit },
            BlobError::Body(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.is::<PlaintextTooLarge>()) =>
            {
                KeyError::TooLarge { limit: self.limit }
            }
            other => other.into(),
        }
    }
}

/// Streams the plaintext of a stored blob of `size` plaintext bytes, or the inclusive `range`
/// of it. Encrypted blobs are authenticated segment by segment before anything is released; if
/// a segment fails, the stream ends with an error, which aborts the HTTP response.
pub async fn open(
    blobs: &dyn BlobStore,
    key: &BlobKey,
    dek: Option<Key256>,
    size: u64,
    range: Option<ByteRange>,
) -> Result<ByteStream, KeyError> {
    let Some(dek) = dek else {
        // Stored before encryption existed.
        return Ok(blobs.get(key, range).await?.body);
    };
    // Only the segments covering the range are fetched and opened.
    let cipher = range.map(|r| cipher_range(size, r.start, r.end));
    let fetch = cipher.map(|c| ByteRange {
        start: c.cipher_start,
        end: c.cipher_end,
    });
    let object = blobs.get(key, fetch).await?;
    check_length(key, object.size, ciphertext_len(size))?;
    let plaintext = match cipher {
        None => decrypt_stream(dek, object.body, size),
        Some(c) => decrypt_range_stream(dek, object.body, size, c),
    };
    Ok(logged(plaintext, key.clone()))
}

/// A stored object of the wrong length was truncated or extended: refuse before any header is
/// sent rather than abort mid-body.
fn check_length(key: &BlobKey, actual: u64, expected: u64) -> Result<(), KeyError> {
    if actual == expected {
        return Ok(());
    }
    Err(KeyError::Internal(format!(
        "stored object {key} is {actual} bytes, expected {expected}: tampered or damaged"
    )))
}

/// Logs a failed authentication, which the client only sees as an aborted download.
fn logged(body: ByteStream, key: BlobKey) -> ByteStream {
    Box::pin(body.inspect(move |item| {
        if let Err(e) = item {
            match CryptoError::from_io(e) {
                Some(cause) => {
                    tracing::error!(%key, error = %cause, "stored content failed authentication")
                }
                None => tracing::warn!(%key, error = %e, "reading stored content failed"),
            }
        }
    }))
}
