//! Behaviour of the blob format as a whole: round trips, range reads, tamper detection.

use std::io;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{stream, StreamExt};

use crate::*;

const SEG: usize = SEGMENT_SIZE;
/// 3.5 segments: full segments plus a short final one.
const PLAIN_LEN: usize = 3 * SEG + SEG / 2;

/// Bytes that differ from segment to segment, so a misplaced segment could never pass as right.
fn plaintext(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn key(fill: u8) -> Key256 {
    Key256::from_bytes(&[fill; 32]).unwrap()
}

fn chunked(data: &[u8], chunk: usize) -> ByteStream {
    let chunks: Vec<io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(stream::iter(chunks))
}

fn offset(segment: usize) -> usize {
    HEADER_LEN + segment * (SEG + TAG_LEN)
}

/// Everything the stream yields up to its end or its first error; also checks that a failed
/// stream ends right after the error.
async fn drain(mut s: ByteStream) -> (Vec<u8>, Option<io::Error>) {
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        match item {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(err) => {
                assert!(s.next().await.is_none(), "stream went on after an error");
                return (out, Some(err));
            }
        }
    }
    (out, None)
}

async fn collect_ok(s: ByteStream) -> Vec<u8> {
    match drain(s).await {
        (out, None) => out,
        (_, Some(err)) => panic!("unexpected stream error: {err}"),
    }
}

#[tokio::test]
async fn round_trips_every_size_with_any_input_chunking() {
    // One DEK for all cases is fine here only because equal plaintexts give equal ciphertexts;
    // production code uses a fresh DEK per blob.
    let dek = key(1);
    for size in [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG + 17] {
        let plain = plaintext(size);
        let reference = encrypt_to_vec(&dek, &plain).unwrap();
        assert_eq!(
            reference.len() as u64,
            ciphertext_len(size as u64),
            "size {size}"
        );
        assert_eq!(
            decrypt_to_vec(&dek, &reference, size as u64).unwrap(),
            plain
        );
        for chunk in [1, 7, 100_000] {
            let cipher = collect_ok(encrypt_stream(dek.clone(), chunked(&plain, chunk))).await;
            assert_eq!(cipher.len() as u64, ciphertext_len(size as u64));
            assert!(
                cipher == reference,
                "size {size}, chunk {chunk}: stream differs from encrypt_to_vec"
            );
            let back = collect_ok(decrypt_stream(
                dek.clone(),
                chunked(&cipher, chunk),
                size as u64,
            ))
            .await;
            assert!(
                back == plain,
                "size {size}, chunk {chunk}: round trip differs"
            );
        }
    }
}

#[test]
fn ciphertext_len_counts_header_and_one_tag_per_segment() {
    let (h, t, s) = (HEADER_LEN as u64, TAG_LEN as u64, SEG as u64);
    assert_eq!(HEADER_LEN, 12);
    assert_eq!(ciphertext_len(0), h + t);
    assert_eq!(ciphertext_len(1), h + 1 + t);
    assert_eq!(ciphertext_len(s), h + s + t);
    assert_eq!(ciphertext_len(s + 1), h + s + 1 + 2 * t);
    assert_eq!(ciphertext_len(3 * s + 17), h + 3 * s + 17 + 4 * t);
}

#[test]
fn segments_follow_the_documented_nonce_and_aad() {
    // Checked against OpenSSL's one-shot AEAD, independent of the reused context in `aead`.
    let dek = key(2);
    let plain = plaintext(2 * SEG + 5);
    let cipher = encrypt_to_vec(&dek, &plain).unwrap();
    assert_eq!(&cipher[..8], b"AKTAENC1");
    assert_eq!(&cipher[8..12], &(SEG as u32).to_be_bytes());
    for (index, is_final) in [(0u64, false), (1, false), (2, true)] {
        let start = index as usize * SEG;
        let len = SEG.min(plain.len() - start);
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&index.to_be_bytes());
        let mut aad = index.to_be_bytes().to_vec();
        aad.push(u8::from(is_final));
        let mut tag = [0u8; TAG_LEN];
        let expected = openssl::symm::encrypt_aead(
            openssl::symm::Cipher::aes_256_gcm(),
            dek.as_bytes(),
            Some(&nonce),
            &aad,
            &plain[start..start + len],
            &mut tag,
        )
        .unwrap();
        let at = offset(index as usize);
        assert!(cipher[at..at + len] == expected[..], "segment {index} body");
        assert_eq!(
            &cipher[at + len..at + len + TAG_LEN],
            &tag,
            "segment {index} tag"
        );
    }
}

#[test]
fn cipher_range_fetches_only_the_touched_segments() {
    let plain_len = PLAIN_LEN as u64;
    let (s, t, h) = (SEG as u64, TAG_LEN as u64, HEADER_LEN as u64);
    let across = cipher_range(plain_len, s - 1, s);
    assert_eq!(
        across,
        CipherRange {
            cipher_start: h,
            cipher_end: h + 2 * (s + t) - 1,
            first_segment: 0,
            last_segment: 1,
            skip: SEG - 1,
            take: 2,
        }
    );
    let inside = cipher_range(plain_len, s + 10, 2 * s - 1);
    assert_eq!(inside.cipher_len(), s + t);
    assert_eq!(
        (inside.first_segment, inside.last_segment, inside.skip),
        (1, 1, 10)
    );
    let last_byte = cipher_range(plain_len, plain_len - 1, plain_len - 1);
    assert_eq!(last_byte.cipher_end, ciphertext_len(plain_len) - 1);
    assert_eq!(last_byte.cipher_len(), s / 2 + t);
}

#[tokio::test]
async fn range_reads_around_segment_boundaries_match_the_plaintext() {
    let dek = key(3);
    let plain = plaintext(PLAIN_LEN);
    let cipher = encrypt_to_vec(&dek, &plain).unwrap();
    let mut points = vec![0, 1, SEG / 2, PLAIN_LEN - 2, PLAIN_LEN - 1];
    for boundary in [SEG, 2 * SEG, 3 * SEG] {
        points.extend([boundary - 1, boundary, boundary + 1]);
    }
    for &start in &points {
        for &end in points.iter().filter(|&&end| end >= start) {
            let range = cipher_range(PLAIN_LEN as u64, start as u64, end as u64);
            let fetched = &cipher[range.cipher_start as usize..=range.cipher_end as usize];
            assert_eq!(fetched.len() as u64, range.cipher_len());
            let got = collect_ok(decrypt_range_stream(
                dek.clone(),
                chunked(fetched, 7_777),
                PLAIN_LEN as u64,
                range,
            ))
            .await;
            assert!(got == plain[start..=end], "range {start}-{end}");
        }
    }
}

/// Decrypts a tampered ciphertext (streamed in two chunkings and in memory) and checks that it
/// fails the expected way and yields nothing beyond the first `safe_prefix` plaintext bytes,
/// which all lie in segments before the tampered one.
async fn assert_rejected(
    case: &str,
    dek: &Key256,
    cipher: &[u8],
    plain_len: u64,
    safe_prefix: usize,
    expected: fn(&CryptoError) -> bool,
) {
    let plain = plaintext(PLAIN_LEN);
    for chunk in [10_000, cipher.len().max(1)] {
        let (got, err) = drain(decrypt_stream(
            dek.clone(),
            chunked(cipher, chunk),
            plain_len,
        ))
        .await;
        let err = err.unwrap_or_else(|| panic!("{case}: tampering not detected"));
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{case}");
        let inner = CryptoError::from_io(&err).unwrap_or_else(|| panic!("{case}: {err}"));
        assert!(expected(inner), "{case}: unexpected {inner:?}");
        assert!(
            got.len() <= safe_prefix,
            "{case}: yielded {} bytes, only {safe_prefix} precede the tampering",
            got.len()
        );
        assert!(
            got == plain[..got.len()],
            "{case}: yielded bytes are not the plaintext prefix"
        );
    }
    let err = decrypt_to_vec(dek, cipher, plain_len).unwrap_err();
    assert!(expected(&err), "{case}: decrypt_to_vec gave {err:?}");
}

fn is_auth(err: &CryptoError) -> bool {
    matches!(err, CryptoError::Authentication)
}

fn is_malformed(err: &CryptoError) -> bool {
    matches!(err, CryptoError::Malformed(_))
}

#[tokio::test]
async fn tampering_is_detected_before_any_affected_plaintext_is_released() {
    let dek = key(4);
    let good = encrypt_to_vec(&dek, &plaintext(PLAIN_LEN)).unwrap();
    let len = PLAIN_LEN as u64;
    let flipped = |at: usize| {
        let mut c = good.clone();
        c[at] ^= 0x04;
        c
    };

    assert_rejected("magic bit flip", &dek, &flipped(5), len, 0, is_malformed).await;
    assert_rejected(
        "segment size bit flip",
        &dek,
        &flipped(10),
        len,
        0,
        is_malformed,
    )
    .await;
    let first = offset(0);
    assert_rejected(
        "segment 0 first byte",
        &dek,
        &flipped(first),
        len,
        0,
        is_auth,
    )
    .await;
    let mid = offset(1) + SEG / 2;
    assert_rejected("segment 1 middle", &dek, &flipped(mid), len, SEG, is_auth).await;
    let tag2 = offset(2) + SEG + 3;
    assert_rejected("segment 2 tag", &dek, &flipped(tag2), len, 2 * SEG, is_auth).await;
    let last_tag = good.len() - 1;
    assert_rejected("final tag", &dek, &flipped(last_tag), len, 3 * SEG, is_auth).await;

    let mut swapped = good.clone();
    swapped[offset(0)..offset(2)].rotate_left(SEG + TAG_LEN);
    assert_rejected("segments 0 and 1 swapped", &dek, &swapped, len, 0, is_auth).await;

    let cut = &good[..good.len() - 10];
    assert_rejected(
        "last segment cut short",
        &dek,
        cut,
        len,
        3 * SEG,
        is_malformed,
    )
    .await;
    // Same cut with a plaintext length that makes the total add up: the tag catches it.
    let one_short = &good[..good.len() - 1];
    assert_rejected(
        "cut and length adjusted",
        &dek,
        one_short,
        len - 1,
        3 * SEG,
        is_auth,
    )
    .await;

    let boundary = &good[..offset(3)];
    assert_rejected(
        "final segment dropped",
        &dek,
        boundary,
        len,
        3 * SEG,
        is_malformed,
    )
    .await;
    // Dropped at a boundary with a matching length: only the final flag reveals it.
    let three = 3 * SEG as u64;
    assert_rejected(
        "final segment dropped, length adjusted",
        &dek,
        boundary,
        three,
        2 * SEG,
        is_auth,
    )
    .await;

    let mut appended = good.clone();
    appended.push(0);
    assert_rejected("byte appended", &dek, &appended, len, 3 * SEG, is_malformed).await;
    assert_rejected(
        "byte appended, length adjusted",
        &dek,
        &appended,
        len + 1,
        3 * SEG,
        is_auth,
    )
    .await;

    assert_rejected("wrong key", &key(5), &good, len, 0, is_auth).await;
}

#[tokio::test]
async fn range_reads_detect_tampering_and_wrong_extent() {
    let dek = key(6);
    let plain = plaintext(PLAIN_LEN);
    let mut cipher = encrypt_to_vec(&dek, &plain).unwrap();
    let start = SEG / 2;
    let range = cipher_range(PLAIN_LEN as u64, start as u64, PLAIN_LEN as u64 - 1);
    let fetch = |c: &[u8]| c[range.cipher_start as usize..=range.cipher_end as usize].to_vec();
    let read = |fetched: Vec<u8>| {
        drain(decrypt_range_stream(
            dek.clone(),
            chunked(&fetched, 5_000),
            PLAIN_LEN as u64,
            range,
        ))
    };

    let mut longer = fetch(&cipher);
    longer.push(1);
    let (got, err) = read(longer).await;
    assert!(is_malformed(CryptoError::from_io(&err.unwrap()).unwrap()));
    assert!(got.len() <= 3 * SEG - start && got == plain[start..start + got.len()]);

    let mut shorter = fetch(&cipher);
    shorter.pop();
    let (got, err) = read(shorter).await;
    assert!(is_malformed(CryptoError::from_io(&err.unwrap()).unwrap()));
    assert!(got.len() <= 3 * SEG - start && got == plain[start..start + got.len()]);

    cipher[offset(2) + 100] ^= 0x80;
    let (got, err) = read(fetch(&cipher)).await;
    assert!(is_auth(CryptoError::from_io(&err.unwrap()).unwrap()));
    assert!(got.len() <= 2 * SEG - start && got == plain[start..start + got.len()]);
}

#[tokio::test]
async fn range_that_does_not_fit_the_length_is_refused() {
    let dek = key(7);
    let cipher = encrypt_to_vec(&dek, &plaintext(PLAIN_LEN)).unwrap();
    let good = cipher_range(PLAIN_LEN as u64, 10, 20);
    let bad = [
        CipherRange { take: 0, ..good },
        CipherRange { skip: SEG, ..good },
        CipherRange {
            last_segment: 1,
            ..good
        },
        cipher_range(
            PLAIN_LEN as u64 + SEG as u64,
            PLAIN_LEN as u64,
            PLAIN_LEN as u64,
        ),
    ];
    for range in bad {
        let (got, err) = drain(decrypt_range_stream(
            dek.clone(),
            chunked(&cipher, 1_000),
            PLAIN_LEN as u64,
            range,
        ))
        .await;
        assert!(got.is_empty(), "{range:?}");
        let err = err.unwrap_or_else(|| panic!("{range:?} accepted"));
        assert!(
            is_malformed(CryptoError::from_io(&err).unwrap()),
            "{range:?}"
        );
    }
}

fn failing_after(data: &[u8]) -> ByteStream {
    Box::pin(stream::iter([
        Ok(Bytes::copy_from_slice(data)),
        Err(io::Error::other("disk on fire")),
    ]))
}

#[tokio::test]
async fn input_errors_pass_through_unchanged() {
    let dek = key(8);
    let (_, err) = drain(encrypt_stream(
        dek.clone(),
        failing_after(&plaintext(2 * SEG)),
    ))
    .await;
    let err = err.unwrap();
    assert_eq!(
        (err.kind(), err.to_string()),
        (io::ErrorKind::Other, "disk on fire".to_owned())
    );

    let cipher = encrypt_to_vec(&dek, &plaintext(PLAIN_LEN)).unwrap();
    let input = failing_after(&cipher[..offset(2)]);
    let (got, err) = drain(decrypt_stream(dek, input, PLAIN_LEN as u64)).await;
    let err = err.unwrap();
    assert!(CryptoError::from_io(&err).is_none());
    assert_eq!(err.to_string(), "disk on fire");
    assert!(got == plaintext(2 * SEG));
}

#[tokio::test]
#[ignore = "throughput measurement: cargo test -p akta-crypto --release -- --ignored --nocapture"]
async fn throughput_of_256_mib() {
    const TOTAL: usize = 256 << 20;
    const CHUNK: usize = 1 << 20;
    let mib = (TOTAL >> 20) as f64;
    let dek = Key256::generate().unwrap();

    let chunk = Bytes::from(plaintext(CHUNK));
    let input = || -> ByteStream {
        let chunk = chunk.clone();
        Box::pin(stream::iter(
            (0..TOTAL / CHUNK).map(move |_| Ok(chunk.clone())),
        ))
    };
    // Timed with the output dropped as it comes, as an upload does; keeping 256 MiB would
    // mostly measure page faults.
    let started = Instant::now();
    let mut encrypted = encrypt_stream(dek.clone(), input());
    let mut cipher_len = 0;
    while let Some(c) = encrypted.next().await {
        cipher_len += c.unwrap().len();
    }
    let encrypt_secs = started.elapsed().as_secs_f64();
    assert_eq!(cipher_len as u64, ciphertext_len(TOTAL as u64));
    let cipher_chunks: Vec<Bytes> = encrypt_stream(dek.clone(), input())
        .map(Result::unwrap)
        .collect()
        .await;

    let started = Instant::now();
    let input: ByteStream = Box::pin(stream::iter(cipher_chunks.into_iter().map(Ok)));
    let mut decrypted = decrypt_stream(dek.clone(), input, TOTAL as u64);
    let mut plain_len = 0;
    while let Some(c) = decrypted.next().await {
        plain_len += c.unwrap().len();
    }
    let decrypt_secs = started.elapsed().as_secs_f64();
    assert_eq!(plain_len, TOTAL);

    let plain = plaintext(TOTAL);
    // The first large allocations from the OS are much slower than later ones; warm up once.
    let warm = encrypt_to_vec(&dek, &plain).unwrap();
    drop(decrypt_to_vec(&dek, &warm, TOTAL as u64).unwrap());
    drop(warm);
    let started = Instant::now();
    let cipher = encrypt_to_vec(&dek, &plain).unwrap();
    let encrypt_vec_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let back = decrypt_to_vec(&dek, &cipher, TOTAL as u64).unwrap();
    let decrypt_vec_secs = started.elapsed().as_secs_f64();
    assert!(back == plain);

    println!("256 MiB, 1 MiB input chunks:");
    println!("  encrypt_stream  {:7.0} MiB/s", mib / encrypt_secs);
    println!("  decrypt_stream  {:7.0} MiB/s", mib / decrypt_secs);
    println!(
        "  encrypt_to_vec  {:7.0} MiB/s (includes first touch of a fresh output buffer)",
        mib / encrypt_vec_secs
    );
    println!(
        "  decrypt_to_vec  {:7.0} MiB/s (includes first touch of a fresh output buffer)",
        mib / decrypt_vec_secs
    );
}
