//! The on-disk format of an encrypted blob (described in the crate docs) and the arithmetic
//! around it.

use crate::aead::{Aead, NONCE_LEN};
use crate::{CryptoError, Key256};

/// Plaintext bytes per segment.
pub const SEGMENT_SIZE: usize = 64 * 1024;
/// AES-GCM tag bytes after every segment.
pub const TAG_LEN: usize = 16;
/// Magic plus segment size.
pub const HEADER_LEN: usize = MAGIC.len() + 4;

const MAGIC: [u8; 8] = *b"AKTAENC1";
pub(crate) const HEADER: [u8; HEADER_LEN] = header();

const SEG: u64 = SEGMENT_SIZE as u64;
const SEALED: u64 = SEG + TAG_LEN as u64;

const fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let size = (SEGMENT_SIZE as u32).to_be_bytes();
    let mut i = 0;
    while i < HEADER_LEN {
        h[i] = if i < MAGIC.len() {
            MAGIC[i]
        } else {
            size[i - MAGIC.len()]
        };
        i += 1;
    }
    h
}

/// Number of segments for a plaintext of `plain_len` bytes; an empty plaintext still has one
/// (empty, final) segment so that it is authenticated too.
pub fn segment_count(plain_len: u64) -> u64 {
    plain_len.div_ceil(SEG).max(1)
}

/// Ciphertext length for a plaintext of `plain_len` bytes: header + ceil(plain_len / SEGMENT)
/// segments (at least one, an empty plaintext is one empty final segment) each + TAG_LEN.
pub fn ciphertext_len(plain_len: u64) -> u64 {
    (HEADER_LEN as u64)
        .saturating_add(plain_len)
        .saturating_add(segment_count(plain_len).saturating_mul(TAG_LEN as u64))
}

/// Plaintext bytes in segment `index` (which must exist).
pub(crate) fn segment_plain_len(plain_len: u64, index: u64) -> usize {
    // At most SEG, so the cast cannot truncate.
    plain_len.saturating_sub(index.saturating_mul(SEG)).min(SEG) as usize
}

/// Where segment `index` starts in the ciphertext.
fn segment_offset(index: u64) -> u64 {
    (HEADER_LEN as u64).saturating_add(index.saturating_mul(SEALED))
}

/// Which ciphertext bytes to fetch for the inclusive plaintext range [start, end] of a plaintext of
/// `plain_len` bytes, and how to cut the decrypted segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherRange {
    pub cipher_start: u64,
    /// Inclusive.
    pub cipher_end: u64,
    pub first_segment: u64,
    pub last_segment: u64,
    /// Plaintext bytes to drop from the first decrypted segment.
    pub skip: usize,
    /// Plaintext bytes to yield in total.
    pub take: u64,
}

impl CipherRange {
    /// Number of ciphertext bytes to fetch.
    pub fn cipher_len(&self) -> u64 {
        self.cipher_end - self.cipher_start + 1
    }
}

/// The caller guarantees `start <= end < plain_len` (HTTP range validation happens before);
/// [`crate::decrypt_range_stream`] rejects a range that doesn't fit.
pub fn cipher_range(plain_len: u64, start: u64, end: u64) -> CipherRange {
    debug_assert!(
        start <= end && end < plain_len,
        "range {start}-{end} of {plain_len}"
    );
    let first_segment = start / SEG;
    let last_segment = end / SEG;
    let last_sealed = segment_plain_len(plain_len, last_segment) as u64 + TAG_LEN as u64;
    CipherRange {
        cipher_start: segment_offset(first_segment),
        cipher_end: segment_offset(last_segment) + last_sealed - 1,
        first_segment,
        last_segment,
        // Less than SEG, so the cast cannot truncate.
        skip: (start - first_segment * SEG) as usize,
        take: (end - start).saturating_add(1),
    }
}

/// Rejects a range that `cipher_range` could not have produced for this plaintext length.
pub(crate) fn check_range(plain_len: u64, range: &CipherRange) -> Result<(), CryptoError> {
    let start = range
        .first_segment
        .checked_mul(SEG)
        .and_then(|s| s.checked_add(range.skip as u64));
    let end = start.and_then(|s| s.checked_add(range.take)?.checked_sub(1));
    match (start, end) {
        (Some(start), Some(end))
            if range.take > 0
                && end < plain_len
                && cipher_range(plain_len, start, end) == *range =>
        {
            Ok(())
        }
        _ => Err(CryptoError::malformed(format!(
            "range {range:?} does not fit a plaintext of {plain_len} bytes"
        ))),
    }
}

pub(crate) fn check_header(header: &[u8]) -> Result<(), CryptoError> {
    if header.len() != HEADER_LEN || header[..MAGIC.len()] != MAGIC {
        return Err(CryptoError::malformed(
            "not an Akta encrypted object (bad magic)",
        ));
    }
    if header[MAGIC.len()..] != HEADER[MAGIC.len()..] {
        return Err(CryptoError::malformed("unsupported segment size in header"));
    }
    Ok(())
}

pub(crate) fn segment_nonce(index: u64) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&index.to_be_bytes());
    nonce
}

pub(crate) fn segment_aad(index: u64, is_final: bool) -> [u8; 9] {
    let mut aad = [0u8; 9];
    aad[..8].copy_from_slice(&index.to_be_bytes());
    aad[8] = u8::from(is_final);
    aad
}

/// Seals one segment into `out` (`plain.len() + TAG_LEN` bytes).
pub(crate) fn seal_segment(
    aead: &mut Aead,
    index: u64,
    is_final: bool,
    plain: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    aead.seal(
        &segment_nonce(index),
        &segment_aad(index, is_final),
        plain,
        out,
    )
}

/// Opens one segment into `out` (`sealed.len() - TAG_LEN` bytes); discard `out` on error.
pub(crate) fn open_segment(
    aead: &mut Aead,
    index: u64,
    is_final: bool,
    sealed: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    aead.open(
        &segment_nonce(index),
        &segment_aad(index, is_final),
        sealed,
        out,
    )
}

/// In-memory [`crate::encrypt_stream`], byte-identical to it, for tests and benchmarks.
pub fn encrypt_to_vec(dek: &Key256, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let plain_len = plaintext.len() as u64;
    let total = usize::try_from(ciphertext_len(plain_len))
        .map_err(|_| CryptoError::malformed("plaintext too large for memory"))?;
    let mut out = vec![0u8; total];
    out[..HEADER_LEN].copy_from_slice(&HEADER);
    let mut aead = Aead::sealer(dek)?;
    let count = segment_count(plain_len);
    let mut pos = HEADER_LEN;
    for (index, start) in (0..count).zip((0..).step_by(SEGMENT_SIZE)) {
        let len = segment_plain_len(plain_len, index);
        let plain = &plaintext[start..start + len];
        let sealed = &mut out[pos..pos + len + TAG_LEN];
        seal_segment(&mut aead, index, index + 1 == count, plain, sealed)?;
        pos += len + TAG_LEN;
    }
    Ok(out)
}

/// In-memory [`crate::decrypt_stream`] for tests and benchmarks.
pub fn decrypt_to_vec(
    dek: &Key256,
    ciphertext: &[u8],
    plain_len: u64,
) -> Result<Vec<u8>, CryptoError> {
    if ciphertext.len() as u64 != ciphertext_len(plain_len) {
        return Err(CryptoError::malformed(format!(
            "ciphertext is {} bytes, expected {} for {plain_len} plaintext bytes",
            ciphertext.len(),
            ciphertext_len(plain_len)
        )));
    }
    check_header(&ciphertext[..HEADER_LEN])?;
    // Fits: the ciphertext, which is longer, is already in memory.
    let mut out = vec![0u8; plain_len as usize];
    let mut aead = Aead::opener(dek)?;
    let count = segment_count(plain_len);
    let mut pos = HEADER_LEN;
    for (index, start) in (0..count).zip((0..).step_by(SEGMENT_SIZE)) {
        let len = segment_plain_len(plain_len, index);
        let sealed = &ciphertext[pos..pos + len + TAG_LEN];
        open_segment(
            &mut aead,
            index,
            index + 1 == count,
            sealed,
            &mut out[start..start + len],
        )?;
        pos += len + TAG_LEN;
    }
    Ok(out)
}
