//! Contract suite shared by every backend; each fn panics (assert!) on failure.
//!
//! A backend is correct when [`run_all`] passes against it. The filesystem backend runs it in
//! this crate's unit tests; the S3 backend runs it in the end-to-end tests against Garage.
//! Every function removes the objects it created, so a shared bucket stays clean.
//!
//! `prefix` is prepended to every key a check uses. Give each call its own prefix ending in '/'
//! (e.g. "contract/<uuid>/"), or "" for a store nobody else uses.

use std::io;

use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};

use crate::{BlobError, BlobKey, BlobObject, BlobStore, ByteRange, ByteStream};

const MIB: usize = 1024 * 1024;

/// Irregular chunk sizes, so object and part boundaries never line up with chunk boundaries.
const ODD_CHUNKS: &[usize] = &[65_536 + 17, 1, 0, 300_001, 4_096 * 3 + 5, 1_048_583];

/// Runs every check below against `store` using keys under `prefix` (a unique prefix per call,
/// e.g. "contract/<uuid>/").
pub async fn run_all(store: &dyn BlobStore, prefix: &str) {
    check_ok(store).await;
    small_roundtrip(store, prefix).await;
    empty_object(store, prefix).await;
    large_multipart_roundtrip(store, prefix).await;
    range_reads(store, prefix).await;
    overwrite_replaces(store, prefix).await;
    too_large_leaves_nothing(store, prefix).await;
    failing_body_leaves_nothing(store, prefix).await;
    get_missing_is_not_found(store, prefix).await;
    delete_is_idempotent(store, prefix).await;
    list_by_prefix(store, prefix).await;
    list_paginates(store, prefix).await;
}

/// The readiness probe succeeds and the backend names itself.
pub async fn check_ok(store: &dyn BlobStore) {
    if let Err(e) = store.check().await {
        panic!(
            "check() failed on a healthy {} store: {e}",
            store.backend_name()
        );
    }
    assert!(!store.backend_name().is_empty());
}

/// A small object written in a few chunks comes back byte for byte with the right size.
pub async fn small_roundtrip(store: &dyn BlobStore, prefix: &str) {
    let key = key(prefix, "small/hello.bin");
    let data = Bytes::from_static(b"Akta small object \x00\xff\x7f roundtrip");
    let outcome = store
        .put(&key, chunked(&data, &[3, 1, 7]), 1024)
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
    assert_eq!(outcome.size, data.len() as u64);
    assert!(exists(store, &key).await, "{key} should exist after put");

    let (size, body) = read(store, &key, None).await;
    assert_eq!(size, data.len() as u64);
    assert_same_bytes(&body, &data, "small object");

    delete(store, &key).await;
    assert!(
        !exists(store, &key).await,
        "{key} should be gone after delete"
    );
}

/// Zero bytes are a valid object, whether the body yields nothing or only empty chunks.
pub async fn empty_object(store: &dyn BlobStore, prefix: &str) {
    let bodies: [(&str, ByteStream); 2] = [
        ("empty/none", Box::pin(stream::empty())),
        (
            "empty/blank-chunks",
            Box::pin(stream::iter([Ok(Bytes::new()), Ok(Bytes::new())])),
        ),
    ];
    for (name, body) in bodies {
        let key = key(prefix, name);
        let outcome = store
            .put(&key, body, 0)
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
        assert_eq!(outcome.size, 0);
        assert!(exists(store, &key).await, "{key} should exist after put");
        let (size, body) = read(store, &key, None).await;
        assert_eq!(size, 0);
        assert!(
            body.is_empty(),
            "empty object read back {} bytes",
            body.len()
        );
        delete(store, &key).await;
    }
}

/// An object spanning several S3 parts, with a size that is no multiple of anything, keeps its
/// bytes and size; ranges across part boundaries read correctly.
pub async fn large_multipart_roundtrip(store: &dyn BlobStore, prefix: &str) {
    let key = key(prefix, "large/object.bin");
    let data = test_data(21 * MIB + 4_321, 21);
    let len = data.len() as u64;
    // The limit equals the size: the limit is inclusive.
    let outcome = store
        .put(&key, chunked(&data, ODD_CHUNKS), len)
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
    assert_eq!(outcome.size, len);

    let (size, body) = read(store, &key, None).await;
    assert_eq!(size, len);
    assert_same_bytes(&body, &data, "large object");

    let boundary = 8 * MIB as u64;
    for (start, end) in [
        (boundary - 10, boundary + 10),
        (2 * boundary - 1, 2 * boundary),
        (len - 1, len - 1),
        (3, len - 2),
    ] {
        check_range(store, &key, &data, start, end).await;
    }
    delete(store, &key).await;
}

/// Inclusive ranges: first byte, middle, last byte, tail, whole object; size is always the total.
pub async fn range_reads(store: &dyn BlobStore, prefix: &str) {
    let key = key(prefix, "range/object.bin");
    let data = test_data(100_003, 7);
    let len = data.len() as u64;
    put_ok(store, &key, &data).await;
    for (start, end) in [
        (0, 0),
        (1_000, 54_321),
        (len - 1, len - 1),
        (len - 10, len - 1),
        (0, len - 1),
    ] {
        check_range(store, &key, &data, start, end).await;
    }
    delete(store, &key).await;
}

/// A second put under the same key replaces the content completely.
pub async fn overwrite_replaces(store: &dyn BlobStore, prefix: &str) {
    let key = key(prefix, "overwrite/object");
    put_ok(store, &key, &Bytes::from_static(b"first, longer version")).await;
    let second = Bytes::from_static(b"second");
    put_ok(store, &key, &second).await;
    let (size, body) = read(store, &key, None).await;
    assert_eq!(size, second.len() as u64);
    assert_same_bytes(&body, &second, "overwritten object");
    delete(store, &key).await;
}

/// A body over the limit fails with TooLarge and leaves no object, whether it is caught in the
/// first part or after several parts were uploaded; exactly at the limit is fine.
pub async fn too_large_leaves_nothing(store: &dyn BlobStore, prefix: &str) {
    let cases = [
        (
            "too-large/small",
            test_data(3_000, 1),
            2_999u64,
            &[1_000usize][..],
        ),
        (
            "too-large/multipart",
            test_data(20 * MIB, 2),
            17 * MIB as u64,
            &[MIB][..],
        ),
    ];
    for (name, data, limit, chunk_sizes) in cases {
        let key = key(prefix, name);
        match store.put(&key, chunked(&data, chunk_sizes), limit).await {
            Err(BlobError::TooLarge { limit: reported }) => assert_eq!(reported, limit),
            other => panic!("put {key} over the limit: expected TooLarge, got {other:?}"),
        }
        assert_nothing_at(store, &key).await;
    }
    assert_no_keys(store, &format!("{prefix}too-large/")).await;

    let key = key(prefix, "too-large/exact");
    let data = test_data(3_000, 3);
    store
        .put(&key, chunked(&data, &[1_000]), 3_000)
        .await
        .unwrap_or_else(|e| panic!("put {key} exactly at the limit: {e}"));
    delete(store, &key).await;
}

/// A body that breaks midway fails with Body and leaves no object, in either upload path.
pub async fn failing_body_leaves_nothing(store: &dyn BlobStore, prefix: &str) {
    let cases = [
        ("failing/immediately", 0usize, 1usize),
        ("failing/small", 2, 1_000),
        ("failing/multipart", 18, MIB),
    ];
    for (name, good_chunks, chunk_len) in cases {
        let key = key(prefix, name);
        let chunk = test_data(chunk_len, 4);
        let mut items: Vec<io::Result<Bytes>> =
            (0..good_chunks).map(|_| Ok(chunk.clone())).collect();
        items.push(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away (contract test)",
        )));
        match store
            .put(&key, Box::pin(stream::iter(items)), u64::MAX)
            .await
        {
            Err(BlobError::Body(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("put {key} with a failing body: expected Body, got {other:?}"),
        }
        assert_nothing_at(store, &key).await;
    }
    assert_no_keys(store, &format!("{prefix}failing/")).await;
}

/// Reading a key that was never written is NotFound, also with a range, and also when the key
/// is only a prefix of another object.
pub async fn get_missing_is_not_found(store: &dyn BlobStore, prefix: &str) {
    let child = key(prefix, "missing/dir/child");
    put_ok(store, &child, &Bytes::from_static(b"child")).await;
    for name in [
        "missing/never-written",
        "missing/dir",
        "missing/dir/child/deeper",
    ] {
        let key = key(prefix, name);
        assert_nothing_at(store, &key).await;
        let range = Some(ByteRange { start: 0, end: 0 });
        match store.get(&key, range).await {
            Err(BlobError::NotFound) => {}
            Err(e) => panic!("ranged get {key}: expected NotFound, got {e}"),
            Ok(object) => panic!("ranged get {key}: expected NotFound, got {object:?}"),
        }
    }
    delete(store, &child).await;
}

/// Deleting twice, or deleting what never existed, succeeds.
pub async fn delete_is_idempotent(store: &dyn BlobStore, prefix: &str) {
    let key = key(prefix, "delete/object");
    delete(store, &key).await;
    put_ok(store, &key, &Bytes::from_static(b"to be deleted")).await;
    delete(store, &key).await;
    delete(store, &key).await;
    assert_nothing_at(store, &key).await;
}

/// Listing is by string prefix (not only whole segments), sorted, and sees nothing else.
pub async fn list_by_prefix(store: &dyn BlobStore, prefix: &str) {
    let names = ["list/b/1", "list/ab", "list/a/2", "list/b/c/d", "list/a/1"];
    let keys: Vec<BlobKey> = names.iter().map(|name| key(prefix, name)).collect();
    for key in &keys {
        put_ok(store, key, &Bytes::from(key.to_string())).await;
    }
    let expect =
        |wanted: &[&str]| -> Vec<BlobKey> { wanted.iter().map(|name| key(prefix, name)).collect() };

    let all = expect(&["list/a/1", "list/a/2", "list/ab", "list/b/1", "list/b/c/d"]);
    assert_keys(list(store, &format!("{prefix}list/")).await, &all);
    assert_keys(
        list(store, &format!("{prefix}list/a/")).await,
        &expect(&["list/a/1", "list/a/2"]),
    );
    assert_keys(
        list(store, &format!("{prefix}list/a")).await,
        &expect(&["list/a/1", "list/a/2", "list/ab"]),
    );
    assert_keys(
        list(store, &format!("{prefix}list/b/c/d")).await,
        &expect(&["list/b/c/d"]),
    );
    assert_keys(list(store, &format!("{prefix}list/zzz")).await, &[]);
    assert_keys(list(store, &format!("{prefix}list-nothing/")).await, &[]);

    // The whole store may hold other callers' keys; ours must be there, in order.
    let everything = list(store, "").await;
    assert!(
        everything.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
        "list(\"\") is not sorted"
    );
    for key in &all {
        assert!(everything.contains(key), "list(\"\") misses {key}");
    }

    for key in &keys {
        delete(store, key).await;
    }
    assert_no_keys(store, &format!("{prefix}list/")).await;
}

/// More keys than one S3 listing page (1000) are all listed.
pub async fn list_paginates(store: &dyn BlobStore, prefix: &str) {
    const COUNT: usize = 1_005;
    let keys: Vec<BlobKey> = (0..COUNT)
        .map(|i| key(prefix, &format!("many/{i:04}")))
        .collect();
    stream::iter(&keys)
        .map(|key| async move {
            store
                .put(key, chunked(&Bytes::from_static(b"x"), &[1]), 1)
                .await
                .map_err(|e| format!("put {key}: {e}"))
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    assert_keys(list(store, &format!("{prefix}many/")).await, &keys);

    stream::iter(&keys)
        .map(|key| async move {
            store
                .delete(key)
                .await
                .map_err(|e| format!("delete {key}: {e}"))
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_keys(store, &format!("{prefix}many/")).await;
}

fn key(prefix: &str, name: &str) -> BlobKey {
    let raw = format!("{prefix}{name}");
    BlobKey::parse(&raw).unwrap_or_else(|e| {
        panic!("contract key {raw:?} is invalid ({e}); use a prefix like \"contract/<id>/\"")
    })
}

/// Deterministic pseudo-random bytes (xorshift), so content bugs can't hide behind zeros.
fn test_data(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(len);
    Bytes::from(data)
}

/// `data` as a body of chunks cycling through `sizes` (0 yields an empty chunk).
fn chunked(data: &Bytes, sizes: &[usize]) -> ByteStream {
    assert!(
        sizes.iter().any(|&n| n > 0),
        "chunk sizes must make progress"
    );
    let mut chunks = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= data.len() {
            break;
        }
        let end = (at + size).min(data.len());
        chunks.push(Ok(data.slice(at..end)));
        at = end;
    }
    Box::pin(stream::iter(chunks))
}

async fn put_ok(store: &dyn BlobStore, key: &BlobKey, data: &Bytes) {
    let outcome = store
        .put(key, chunked(data, ODD_CHUNKS), data.len() as u64)
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e}"));
    assert_eq!(outcome.size, data.len() as u64);
}

async fn read(store: &dyn BlobStore, key: &BlobKey, range: Option<ByteRange>) -> (u64, Vec<u8>) {
    let BlobObject { size, mut body } = store
        .get(key, range)
        .await
        .unwrap_or_else(|e| panic!("get {key} {range:?}: {e}"));
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap_or_else(|e| panic!("reading {key} {range:?}: {e}"));
        bytes.extend_from_slice(&chunk);
    }
    // Consumers (decryption, extraction) may poll again after the end: still the end.
    assert!(
        body.next().await.is_none(),
        "{key}: a body yields nothing after its end"
    );
    (size, bytes)
}

async fn check_range(store: &dyn BlobStore, key: &BlobKey, data: &[u8], start: u64, end: u64) {
    let range = ByteRange { start, end };
    let (size, body) = read(store, key, Some(range)).await;
    assert_eq!(
        size,
        data.len() as u64,
        "size of a ranged read is the total"
    );
    let (from, to) = (start as usize, end as usize);
    assert_same_bytes(&body, &data[from..=to], &format!("range {start}-{end}"));
}

async fn exists(store: &dyn BlobStore, key: &BlobKey) -> bool {
    store
        .exists(key)
        .await
        .unwrap_or_else(|e| panic!("exists {key}: {e}"))
}

async fn delete(store: &dyn BlobStore, key: &BlobKey) {
    store
        .delete(key)
        .await
        .unwrap_or_else(|e| panic!("delete {key}: {e}"));
}

async fn list(store: &dyn BlobStore, prefix: &str) -> Vec<BlobKey> {
    store
        .list(prefix)
        .await
        .unwrap_or_else(|e| panic!("list {prefix:?}: {e}"))
}

async fn assert_nothing_at(store: &dyn BlobStore, key: &BlobKey) {
    assert!(!exists(store, key).await, "{key} should not exist");
    match store.get(key, None).await {
        Err(BlobError::NotFound) => {}
        Err(e) => panic!("get {key}: expected NotFound, got {e}"),
        Ok(object) => panic!("get {key}: expected NotFound, got {object:?}"),
    }
}

async fn assert_no_keys(store: &dyn BlobStore, prefix: &str) {
    let left = list(store, prefix).await;
    assert!(left.is_empty(), "keys left under {prefix:?}: {left:?}");
}

/// Compares without dumping megabytes into the panic message.
fn assert_same_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual.len() != expected.len() {
        panic!(
            "{what}: read {} bytes, expected {}",
            actual.len(),
            expected.len()
        );
    }
    if let Some(at) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("{what}: content differs first at byte {at}");
    }
}

fn assert_keys(actual: Vec<BlobKey>, expected: &[BlobKey]) {
    if actual.len() != expected.len() {
        panic!(
            "listed {} keys, expected {}: first listed {:?}",
            actual.len(),
            expected.len(),
            actual.iter().take(5).collect::<Vec<_>>()
        );
    }
    if let Some(at) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "listing differs at position {at}: got {}, expected {}",
            actual[at], expected[at]
        );
    }
}
