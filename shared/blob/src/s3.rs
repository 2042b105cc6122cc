//! S3 backend (AWS, Garage, MinIO, Ceph) via aws-sdk-s3.
//!
//! Small objects go up in one PutObject; anything larger than one part becomes a multipart upload
//! with a few parts in flight. Either way the object appears under its key only once complete.

use std::io;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::task::JoinSet;

use crate::meter::Meter;
use crate::{next_chunk, BlobError, BlobKey, BlobObject, BlobStore, ByteRange, PutOutcome};

const MIB: usize = 1024 * 1024;
const DEFAULT_PART_SIZE: usize = 8 * MIB;
const DEFAULT_MAX_CONCURRENT_PARTS: usize = 2;
/// S3 rejects non-final parts below 5 MiB.
const MIN_PART_SIZE: usize = 5 * MIB;
/// S3's upper bound for one part.
const MAX_PART_SIZE: usize = 5 * 1024 * MIB;
/// S3's upper bound for the number of parts.
const MAX_PARTS: i32 = 10_000;

/// Connection and tuning settings for [`S3Store`].
#[derive(Clone, serde::Deserialize)]
pub struct S3Config {
    /// e.g. "http://127.0.0.1:3900"; None = AWS default endpoint for the region.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// e.g. "garage" or "eu-central-1".
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// true for Garage/MinIO/Ceph.
    #[serde(default = "default_force_path_style")]
    pub force_path_style: bool,
    /// Prepended to every key inside the bucket, may be "" (e.g. "akta/").
    #[serde(default)]
    pub key_prefix: String,
    /// Multipart part size; default 8 MiB, min 5 MiB.
    #[serde(default = "default_part_size")]
    pub part_size: usize,
    /// Parts uploaded concurrently per `put`; default 2.
    #[serde(default = "default_max_concurrent_parts")]
    pub max_concurrent_parts: usize,
}

fn default_force_path_style() -> bool {
    true
}

fn default_part_size() -> usize {
    DEFAULT_PART_SIZE
}

fn default_max_concurrent_parts() -> usize {
    DEFAULT_MAX_CONCURRENT_PARTS
}

impl S3Config {
    /// A config with defaults: path-style addressing, no key prefix, 8 MiB parts, 2 in flight.
    pub fn new(
        endpoint: Option<String>,
        region: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        S3Config {
            endpoint,
            region: region.into(),
            bucket: bucket.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            force_path_style: default_force_path_style(),
            key_prefix: String::new(),
            part_size: DEFAULT_PART_SIZE,
            max_concurrent_parts: DEFAULT_MAX_CONCURRENT_PARTS,
        }
    }

    fn validate(&self) -> Result<(), BlobError> {
        let invalid = |what: String| Err(BlobError::Backend(format!("invalid S3 config: {what}")));
        if self.bucket.is_empty() {
            return invalid("bucket is empty".into());
        }
        if self.region.is_empty() {
            return invalid("region is empty".into());
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return invalid(format!(
                "part_size {} is outside {MIN_PART_SIZE}..={MAX_PART_SIZE}",
                self.part_size
            ));
        }
        if self.max_concurrent_parts == 0 {
            return invalid("max_concurrent_parts must be at least 1".into());
        }
        Ok(())
    }
}

// Hand-written so the secret never ends up in logs.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("force_path_style", &self.force_path_style)
            .field("key_prefix", &self.key_prefix)
            .field("part_size", &self.part_size)
            .field("max_concurrent_parts", &self.max_concurrent_parts)
            .finish()
    }
}

/// Stores objects in one S3 bucket, under an optional key prefix.
#[derive(Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
    key_prefix: String,
    part_size: usize,
    max_concurrent_parts: usize,
}

impl S3Store {
    /// Builds the client; does not contact the server (see [`BlobStore::check`]).
    pub fn new(cfg: S3Config) -> Result<S3Store, BlobError> {
        cfg.validate()?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(Credentials::new(
                cfg.access_key_id.clone(),
                cfg.secret_access_key.clone(),
                None,
                None,
                "akta",
            ))
            .force_path_style(cfg.force_path_style)
            // Newer SDKs add CRC checksums to every request and demand them on responses;
            // Garage and other non-AWS servers don't support that everywhere.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .http_client(http_client);
        // An empty endpoint typically comes from an unset environment variable: use AWS.
        if let Some(endpoint) = cfg.endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
            builder = builder.endpoint_url(endpoint);
        }
        // Sleep impl, time source and retry/timeout defaults come from the SDK's default
        // runtime plugins (feature rt-tokio), so no aws-config is needed.
        let client = Client::from_conf(builder.build());
        Ok(S3Store {
            client,
            bucket: cfg.bucket,
            key_prefix: cfg.key_prefix,
            part_size: cfg.part_size,
            max_concurrent_parts: cfg.max_concurrent_parts,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn object_key(&self, key: &BlobKey) -> String {
        format!("{}{}", self.key_prefix, key.as_str())
    }

    async fn put_single(&self, object_key: &str, data: Bytes) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(object_key)
            .content_length(data.len() as i64)
            .body(SdkByteStream::from(data))
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(|e| sdk_err("PutObject", object_key, e))?;
        Ok(())
    }

    /// Streams the body up. A multipart upload, once started, is left in `upload` so the caller
    /// can abort it on error.
    async fn upload(
        &self,
        object_key: &str,
        mut body: crate::ByteStream,
        max_size: u64,
        upload: &mut Option<MultipartUpload>,
    ) -> Result<PutOutcome, BlobError> {
        let mut meter = Meter::new(max_size);
        // Grows on demand for the first part, so small objects don't cost a full part buffer.
        let mut buf = BytesMut::new();
        while let Some(chunk) = next_chunk(&mut body).await? {
            meter.update(&chunk)?;
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                if buf.len() == self.part_size {
                    // A full buffer with more data behind it: this object needs multipart.
                    let part = std::mem::take(&mut buf).freeze();
                    let multipart = match upload {
                        Some(multipart) => multipart,
                        None => upload.insert(MultipartUpload::start(self, object_key).await?),
                    };
                    multipart.send_part(part).await?;
                    // Taken only once the part has a slot, keeping the memory bound; a sent
                    // part's buffer is used again rather than a fresh one faulted in.
                    buf = multipart.buffer(self.part_size);
                }
                let n = (self.part_size - buf.len()).min(rest.len());
                buf.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
            }
        }
        match upload {
            // Never empty here: a buffer is only flushed when more bytes follow it.
            Some(multipart) => multipart.complete(buf.freeze()).await?,
            None => self.put_single(object_key, buf.freeze()).await?,
        }
        Ok(meter.finish())
    }
}

/// A multipart upload in progress. Aborted in the background if dropped before completion
/// (a cancelled `put`), so no invisible parts keep occupying the bucket.
struct MultipartUpload {
    client: Client,
    bucket: String,
    key: String,
    upload_id: String,
    max_in_flight: usize,
    in_flight: JoinSet<Result<(CompletedPart, Option<BytesMut>), BlobError>>,
    done: Vec<CompletedPart>,
    /// Buffers of parts already sent, for the next parts: allocating a fresh part buffer
    /// each time cost page faults and zeroing for every byte uploaded.
    spare: Vec<BytesMut>,
    next_part_number: i32,
    finished: bool,
}

impl MultipartUpload {
    async fn start(store: &S3Store, key: &str) -> Result<MultipartUpload, BlobError> {
        let out = store
            .client
            .create_multipart_upload()
            .bucket(&store.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_err("CreateMultipartUpload", key, e))?;
        let upload_id = out.upload_id().ok_or_else(|| {
            BlobError::Backend(format!(
                "S3 CreateMultipartUpload {key:?}: response has no upload id"
            ))
        })?;
        Ok(MultipartUpload {
            client: store.client.clone(),
            bucket: store.bucket.clone(),
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
            max_in_flight: store.max_concurrent_parts,
            in_flight: JoinSet::new(),
            done: Vec::new(),
            spare: Vec::new(),
            next_part_number: 1,
            finished: false,
        })
    }

    /// Hands `part` to a background upload once a slot is free. Waiting for the slot is what
    /// bounds memory to about (max_concurrent_parts + 1) * part_size.
    async fn send_part(&mut self, part: Bytes) -> Result<(), BlobError> {
        while self.in_flight.len() >= self.max_in_flight {
            self.collect_one().await?;
        }
        let number = self.next_part_number;
        if number > MAX_PARTS {
            return Err(BlobError::Backend(format!(
                "S3 UploadPart {:?}: object needs more than {MAX_PARTS} parts, raise part_size",
                self.key
            )));
        }
        self.next_part_number += 1;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .content_length(part.len() as i64)
            .body(SdkByteStream::from(part.clone()));
        let key = self.key.clone();
        self.in_flight.spawn(async move {
            let out = request
                .customize()
                .disable_payload_signing()
                .send()
                .await
                .map_err(|e| sdk_err(&format!("UploadPart #{number}"), &key, e))?;
            let completed = CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build();
            // The request is gone: the buffer is ours again unless the client still holds it.
            Ok((completed, part.try_into_mut().ok()))
        });
        Ok(())
    }

    /// An empty buffer for the next part: a sent part's, or a new one.
    fn buffer(&mut self, part_size: usize) -> BytesMut {
        match self.spare.pop() {
            Some(mut buf) => {
                buf.clear();
                buf.reserve(part_size);
                buf
            }
            None => BytesMut::with_capacity(part_size),
        }
    }

    /// Waits for one in-flight part and records it.
    async fn collect_one(&mut self) -> Result<(), BlobError> {
        match self.in_flight.join_next().await {
            Some(Ok(Ok((part, buffer)))) => {
                self.done.push(part);
                self.spare.extend(buffer);
                Ok(())
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(BlobError::backend("S3 part upload task failed", e)),
            None => Ok(()),
        }
    }

    async fn complete(&mut self, last: Bytes) -> Result<(), BlobError> {
        self.send_part(last).await?;
        while !self.in_flight.is_empty() {
            self.collect_one().await?;
        }
        // Parts finish in any order; S3 wants them ascending.
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|part| part.part_number());
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_err("CompleteMultipartUpload", &self.key, e))?;
        self.finished = true;
        Ok(())
    }

    /// Best-effort abort; failures are logged, the original error is what the caller needs.
    async fn abort(mut self) {
        self.finished = true;
        // Stop part uploads first: a part landing after the abort would linger.
        self.in_flight.shutdown().await;
        if let Err(e) = self.abort_request().send().await {
            warn_abort_failed(&self.bucket, &self.key, &self.upload_id, &e);
        }
    }

    fn abort_request(
        &self,
    ) -> aws_sdk_s3::operation::abort_multipart_upload::builders::AbortMultipartUploadFluentBuilder
    {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
    }
}

impl Drop for MultipartUpload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.in_flight.abort_all();
        let request = self.abort_request();
        let (bucket, key, upload_id) = (
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.clone(),
        );
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = request.send().await {
                        warn_abort_failed(&bucket, &key, &upload_id, &e);
                    }
                });
            }
            Err(_) => tracing::warn!(
                bucket,
                key,
                upload_id,
                "multipart upload dropped outside a runtime; it stays until a lifecycle rule removes it"
            ),
        }
    }
}

fn warn_abort_failed<E>(bucket: &str, key: &str, upload_id: &str, error: &SdkError<E, HttpResponse>)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::warn!(
        bucket,
        key,
        upload_id,
        error = %describe(error),
        "cannot abort S3 multipart upload; it stays until a lifecycle rule removes it"
    );
}

/// An SDK failure as a backend error naming the operation and object.
fn sdk_err<E>(operation: &str, object_key: &str, err: SdkError<E, HttpResponse>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    BlobError::Backend(format!("S3 {operation} {object_key:?}: {}", describe(&err)))
}

/// A one-line description. Server answers are summarised by status, code and message;
/// everything else (connect, TLS, timeouts) keeps the SDK's full context, which is where the
/// cause hides.
fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("no error code");
            match service.err().message() {
                Some(message) => format!("HTTP {status} {code}: {message}"),
                None => format!("HTTP {status} {code}"),
            }
        }
        other => DisplayErrorContext(other).to_string(),
    }
}

/// True when S3 says the object does not exist (but not when the bucket is missing).
fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let SdkError::ServiceError(service) = err else {
        return false;
    };
    let code = service.err().code();
    // HEAD responses carry no error body, so only the status tells; a missing bucket then looks
    // like a missing object, which `check` (HeadBucket) reports instead.
    code == Some("NoSuchKey")
        || (service.raw().status().as_u16() == 404 && code != Some("NoSuchBucket"))
}

/// The total size from a Content-Range header ("bytes 0-99/1234").
fn total_from_content_range(header: &str) -> Option<u64> {
    header.rsplit_once('/')?.1.trim().parse().ok()
}

fn content_length(object_key: &str, value: Option<i64>) -> Result<u64, BlobError> {
    value
        .and_then(|len| u64::try_from(len).ok())
        .ok_or_else(|| {
            BlobError::Backend(format!(
                "S3 GetObject {object_key:?}: response has no valid Content-Length"
            ))
        })
}

#[async_trait::async_trait]
impl BlobStore for S3Store {
    async fn put(
        &self,
        key: &BlobKey,
        body: crate::ByteStream,
        max_size: u64,
    ) -> Result<PutOutcome, BlobError> {
        let object_key = self.object_key(key);
        let mut upload = None;
        let result = self.upload(&object_key, body, max_size, &mut upload).await;
        if result.is_err() {
            if let Some(upload) = upload {
                upload.abort().await;
            }
        }
        result
    }

    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobObject, BlobError> {
        let object_key = self.object_key(key);
        let mut request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&object_key);
        if let Some(r) = range {
            request = request.range(format!("bytes={}-{}", r.start, r.end));
        }
        let out = match request.send().await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Err(BlobError::NotFound),
            Err(e) => return Err(sdk_err("GetObject", &object_key, e)),
        };
        let body_len = content_length(&object_key, out.content_length())?;
        let size = match (range, out.content_range()) {
            (None, _) => body_len,
            (Some(_), Some(header)) => total_from_content_range(header).ok_or_else(|| {
                BlobError::Backend(format!(
                    "S3 GetObject {object_key:?}: unusable Content-Range {header:?}"
                ))
            })?,
            // A server may answer a range that covers the whole object with a plain 200.
            (Some(r), None) if r.start == 0 && body_len == r.len() => body_len,
            (Some(_), None) => {
                return Err(BlobError::Backend(format!(
                    "S3 GetObject {object_key:?}: server ignored the Range header"
                )))
            }
        };
        // Fused: a consumer may poll again after the end (unfold would panic).
        let body = futures_util::stream::unfold(out.body, |mut body| async move {
            let item = body.next().await?;
            Some((item.map_err(io::Error::from), body))
        })
        .fuse();
        Ok(BlobObject {
            size,
            body: Box::pin(body),
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let object_key = self.object_key(key);
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(sdk_err("DeleteObject", &object_key, e)),
        }
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        let object_key = self.object_key(key);
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(sdk_err("HeadObject", &object_key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        let full_prefix = format!("{}{prefix}", self.key_prefix);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&full_prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_err("ListObjectsV2", &full_prefix, e))?;
            for object in out.contents() {
                let Some(rel) = object
                    .key()
                    .and_then(|k| k.strip_prefix(self.key_prefix.as_str()))
                else {
                    continue;
                };
                // Objects written by something else may not be valid keys; they are not ours.
                match BlobKey::parse(rel) {
                    Ok(key) => keys.push(key),
                    Err(_) => tracing::debug!(key = rel, "skipping foreign object in listing"),
                }
            }
            match (out.is_truncated(), out.next_continuation_token()) {
                (Some(true), Some(next)) => token = Some(next.to_owned()),
                (Some(true), None) => {
                    return Err(BlobError::Backend(format!(
                        "S3 ListObjectsV2 {full_prefix:?}: truncated listing without continuation token"
                    )))
                }
                _ => break,
            }
        }
        keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(keys)
    }

    async fn check(&self) -> Result<(), BlobError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| sdk_err("HeadBucket", &self.bucket, e))?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "s3"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> S3Config {
        S3Config::new(
            Some("http://127.0.0.1:1".into()),
            "garage",
            "akta",
            "GK0000",
            "very-secret",
        )
    }

    #[test]
    fn new_config_has_documented_defaults() {
        let cfg = config();
        assert!(cfg.force_path_style);
        assert_eq!(cfg.key_prefix, "");
        assert_eq!(cfg.part_size, 8 * MIB);
        assert_eq!(cfg.max_concurrent_parts, 2);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", config());
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("GK0000"));
    }

    #[test]
    fn rejects_unusable_part_settings() {
        let mut small = config();
        small.part_size = MIN_PART_SIZE - 1;
        assert!(matches!(S3Store::new(small), Err(BlobError::Backend(_))));
        let mut serial = config();
        serial.max_concurrent_parts = 0;
        assert!(matches!(S3Store::new(serial), Err(BlobError::Backend(_))));
        let mut nameless = config();
        nameless.bucket = String::new();
        assert!(matches!(S3Store::new(nameless), Err(BlobError::Backend(_))));
    }

    #[test]
    fn builds_outside_a_runtime_and_prefixes_keys() {
        let mut cfg = config();
        cfg.key_prefix = "akta/".into();
        let store = S3Store::new(cfg).expect("store");
        assert_eq!(store.bucket(), "akta");
        assert_eq!(store.backend_name(), "s3");
        let key = BlobKey::parse("t1/doc").expect("key");
        assert_eq!(store.object_key(&key), "akta/t1/doc");
    }

    #[tokio::test]
    async fn unreachable_endpoint_is_a_backend_error_not_a_panic() {
        // Port 1 is closed: this drives the whole client stack (HTTP, retries, sleeps) once.
        let store = S3Store::new(config()).expect("store");
        match store.check().await {
            Err(BlobError::Backend(msg)) => assert!(msg.contains("HeadBucket"), "{msg}"),
            other => panic!("expected a backend error, got {other:?}"),
        }
        let key = BlobKey::parse("k").expect("key");
        assert!(matches!(
            store.exists(&key).await,
            Err(BlobError::Backend(_))
        ));
    }

    #[test]
    fn total_size_comes_from_content_range() {
        assert_eq!(total_from_content_range("bytes 0-0/1234"), Some(1234));
        assert_eq!(total_from_content_range("bytes 5-9/10"), Some(10));
        assert_eq!(total_from_content_range("bytes 0-9/*"), None);
        assert_eq!(total_from_content_range("garbage"), None);
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let cfg: S3Config = serde_json::from_str(
            r#"{"region": "garage", "bucket": "b", "access_key_id": "a", "secret_access_key": "s"}"#,
        )
        .expect("minimal config");
        assert_eq!(cfg.endpoint, None);
        assert!(cfg.force_path_style);
        assert_eq!(cfg.key_prefix, "");
        assert_eq!(cfg.part_size, 8 * MIB);
        assert_eq!(cfg.max_concurrent_parts, 2);
    }
}
