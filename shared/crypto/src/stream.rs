//! Streaming encryption and decryption as small state machines over the input stream: no tasks,
//! memory bounded by one segment plus one input chunk.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{future, stream, StreamExt};

use crate::aead::Aead;
use crate::segment::{
    check_header, check_range, ciphertext_len, open_segment, seal_segment, segment_count,
    segment_plain_len, CipherRange, HEADER, HEADER_LEN, SEGMENT_SIZE, TAG_LEN,
};
use crate::{ByteStream, CryptoError, Key256};

/// Encrypts a plaintext stream of any chunking into header + segments, streaming: memory is
/// O(SEGMENT_SIZE) plus one input chunk. Errors of the input stream pass through as io errors
/// and end the stream.
///
/// The DEK must be fresh: never reuse it, not even for a retry (see the nonce note in the crate docs).
pub fn encrypt_stream(dek: Key256, plaintext: ByteStream) -> ByteStream {
    let aead = match Aead::sealer(&dek) {
        Ok(aead) => aead,
        Err(err) => return failed(err),
    };
    let state = Encryptor {
        aead,
        input: plaintext,
        pending: BytesMut::with_capacity(2 * SEGMENT_SIZE),
        index: 0,
        input_done: false,
        finished: false,
    };
    // Fused: a consumer may poll again after the end (unfold would panic).
    Box::pin(
        stream::unfold(state, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        })
        .fuse(),
    )
}

/// Whole object: header validated + all segments. Yields exactly `plain_len` bytes or ends with
/// an `InvalidData` error (see [`CryptoError::from_io`]).
pub fn decrypt_stream(dek: Key256, ciphertext: ByteStream, plain_len: u64) -> ByteStream {
    let whole = CipherRange {
        cipher_start: 0,
        cipher_end: ciphertext_len(plain_len) - 1,
        first_segment: 0,
        last_segment: segment_count(plain_len) - 1,
        skip: 0,
        take: plain_len,
    };
    decrypt(dek, ciphertext, plain_len, whole, true)
}

/// `ciphertext` yields exactly the bytes [cipher_start, cipher_end] of the object (no header).
/// Each segment is fully authenticated before any of its plaintext is yielded; on failure the
/// stream yields an io::Error (kind InvalidData, wrapping the [`CryptoError`]) and ends.
pub fn decrypt_range_stream(
    dek: Key256,
    ciphertext: ByteStream,
    plain_len: u64,
    range: CipherRange,
) -> ByteStream {
    if let Err(err) = check_range(plain_len, &range) {
        return failed(err);
    }
    decrypt(dek, ciphertext, plain_len, range, false)
}

fn decrypt(
    dek: Key256,
    ciphertext: ByteStream,
    plain_len: u64,
    range: CipherRange,
    with_header: bool,
) -> ByteStream {
    let aead = match Aead::opener(&dek) {
        Ok(aead) => aead,
        Err(err) => return failed(err),
    };
    let state = Decryptor {
        aead,
        input: ciphertext,
        buf: BytesMut::with_capacity(2 * (SEGMENT_SIZE + TAG_LEN)),
        header_pending: with_header,
        plain_len,
        next: range.first_segment,
        last: range.last_segment,
        final_index: segment_count(plain_len) - 1,
        skip: range.skip,
        remaining: range.take,
        held: None,
        finished: false,
    };
    // Fused: a consumer may poll again after the end (unfold would panic).
    Box::pin(
        stream::unfold(state, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        })
        .fuse(),
    )
}

/// A stream that only reports `err`.
fn failed(err: CryptoError) -> ByteStream {
    Box::pin(stream::once(future::ready(Err(err.into()))))
}

struct Encryptor {
    aead: Aead,
    input: ByteStream,
    /// Plaintext not yet sealed.
    pending: BytesMut,
    index: u64,
    input_done: bool,
    finished: bool,
}

impl Encryptor {
    async fn next_item(&mut self) -> Option<std::io::Result<Bytes>> {
        if self.finished {
            return None;
        }
        let item = self.seal_next().await;
        if item.is_err() {
            self.finished = true;
        }
        Some(item)
    }

    async fn seal_next(&mut self) -> std::io::Result<Bytes> {
        // A segment is only known not to be the last once a byte beyond it has arrived, and
        // the final flag must go into the AAD before encryption starts: so read one byte ahead.
        while !self.input_done && self.pending.len() <= SEGMENT_SIZE {
            match self.input.next().await {
                Some(chunk) => self.pending.extend_from_slice(&chunk?),
                None => self.input_done = true,
            }
        }
        let is_final = self.pending.len() <= SEGMENT_SIZE;
        let len = self.pending.len().min(SEGMENT_SIZE);
        let header: &[u8] = if self.index == 0 { &HEADER } else { &[] };
        let mut out = BytesMut::zeroed(header.len() + len + TAG_LEN);
        out[..header.len()].copy_from_slice(header);
        seal_segment(
            &mut self.aead,
            self.index,
            is_final,
            &self.pending[..len],
            &mut out[header.len()..],
        )?;
        self.pending.advance(len);
        self.index += 1;
        self.finished = is_final;
        Ok(out.freeze())
    }
}

struct Decryptor {
    aead: Aead,
    input: ByteStream,
    /// Ciphertext received but not yet opened.
    buf: BytesMut,
    header_pending: bool,
    plain_len: u64,
    /// Next segment to open, last segment to open, last segment of the whole object.
    next: u64,
    last: u64,
    final_index: u64,
    skip: usize,
    remaining: u64,
    /// Plaintext of the last wanted segment, released only once the input has ended cleanly so
    /// that appended bytes fail the stream before it completes.
    held: Option<Bytes>,
    finished: bool,
}

impl Decryptor {
    async fn next_item(&mut self) -> Option<std::io::Result<Bytes>> {
        if self.finished {
            return None;
        }
        match self.open_next().await {
            Ok(Some(plain)) => Some(Ok(plain)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(err) => {
                self.finished = true;
                Some(Err(err))
            }
        }
    }

    /// The next non-empty piece of plaintext, or `None` at a clean end.
    async fn open_next(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.header_pending {
            self.fill(HEADER_LEN).await?;
            check_header(&self.buf[..HEADER_LEN])?;
            self.buf.advance(HEADER_LEN);
            self.header_pending = false;
        }
        while self.next <= self.last {
            let index = self.next;
            let len = segment_plain_len(self.plain_len, index);
            self.fill(len + TAG_LEN).await?;
            let mut plain = BytesMut::zeroed(len);
            open_segment(
                &mut self.aead,
                index,
                index == self.final_index,
                &self.buf[..len + TAG_LEN],
                &mut plain,
            )?;
            self.buf.advance(len + TAG_LEN);
            self.next += 1;

            let mut plain = plain.freeze();
            plain.advance(std::mem::take(&mut self.skip).min(plain.len()));
            // Bounded by the segment length, so the cast cannot truncate.
            let take = self.remaining.min(plain.len() as u64) as usize;
            plain.truncate(take);
            self.remaining -= take as u64;
            if index == self.last {
                self.held = Some(plain);
            } else if !plain.is_empty() {
                return Ok(Some(plain));
            }
        }
        self.expect_end().await?;
        Ok(self.held.take().filter(|plain| !plain.is_empty()))
    }

    /// Reads until `buf` holds at least `need` bytes.
    async fn fill(&mut self, need: usize) -> std::io::Result<()> {
        while self.buf.len() < need {
            match self.input.next().await {
                Some(chunk) => self.buf.extend_from_slice(&chunk?),
                None => return Err(CryptoError::malformed("ciphertext ends early").into()),
            }
        }
        Ok(())
    }

    /// Every expected byte was consumed: anything further is appended data.
    async fn expect_end(&mut self) -> std::io::Result<()> {
        let appended = || CryptoError::malformed("data after the last expected segment").into();
        if !self.buf.is_empty() {
            return Err(appended());
        }
        while let Some(chunk) = self.input.next().await {
            if !chunk?.is_empty() {
                return Err(appended());
            }
        }
        Ok(())
    }
}
