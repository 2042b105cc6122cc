//! Blob storage for document content.
//!
//! One trait, [`BlobStore`], with an S3 backend ([`S3Store`]) and a local filesystem backend
//! ([`FsStore`]). Uploads stream through with bounded memory while size and SHA-256 are computed;
//! downloads stream out, optionally limited to a byte range. [`contract`] holds the behaviour
//! every backend must show, so each backend is tested against the same expectations.

mod error;
mod fs;
mod key;
mod meter;
mod s3;

pub mod contract;

pub use error::BlobError;
pub use fs::FsStore;
pub use key::BlobKey;
pub use s3::{S3Config, S3Store};

/// A stream of body bytes, used both for uploads (into a store) and downloads (out of one).
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>,
>;

/// What a successful [`BlobStore::put`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub size: u64,
}

/// Inclusive byte range, already validated by the caller against the object size (start <= end < size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub(crate) fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Guards against a caller that skipped validation; backends would otherwise answer with
    /// a short or empty body and the HTTP layer would send a lying Content-Range.
    pub(crate) fn check_within(&self, size: u64) -> Result<(), BlobError> {
        if self.start <= self.end && self.end < size {
            Ok(())
        } else {
            Err(BlobError::Backend(format!(
                "byte range {}-{} is outside the object of {size} bytes",
                self.start, self.end
            )))
        }
    }
}

/// A stored object being read.
pub struct BlobObject {
    /// Total object size, also when only a range is being read.
    pub size: u64,
    /// Only the requested range if any.
    pub body: ByteStream,
}

impl std::fmt::Debug for BlobObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobObject")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` into the object `key`. Computes SHA-256 and size while streaming; memory use is bounded
    /// (independent of object size). If the body yields more than `max_size` bytes -> Err(TooLarge) and nothing
    /// is left under `key` (S3 multipart upload aborted / temp file removed). On a body error -> Err(Body(..)), same cleanup.
    /// The object becomes visible under `key` only once complete (atomic: rename for fs; CompleteMultipartUpload / single PutObject for S3).
    async fn put(
        &self,
        key: &BlobKey,
        body: ByteStream,
        max_size: u64,
    ) -> Result<PutOutcome, BlobError>;

    /// Streams the object (or the inclusive range). NotFound if missing.
    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobObject, BlobError>;

    /// Idempotent: deleting a missing key is Ok.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;

    /// All keys starting with `prefix` (may be ""), sorted ascending. Must paginate through S3 listings (>1000 keys).
    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError>;

    /// Readiness probe: backend reachable and bucket/dir usable.
    async fn check(&self) -> Result<(), BlobError>;

    /// Short name for logs: "s3" or "filesystem".
    fn backend_name(&self) -> &'static str;
}

/// Pulls the next upload chunk, turning a broken body into [`BlobError::Body`].
pub(crate) async fn next_chunk(body: &mut ByteStream) -> Result<Option<bytes::Bytes>, BlobError> {
    use futures_util::StreamExt;
    body.next().await.transpose().map_err(BlobError::Body)
}
