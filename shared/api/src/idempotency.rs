//! `Idempotency-Key` on POSTs: a repeated request (same key, same principal, same method,
//! path, content type and body) gets the first answer again instead of creating twice; the
//! same key with another request is refused (422), and a repeat while the first still runs
//! waits for nothing (409). One layer for the whole router, so every creating POST has it.
//!
//! Bodies are never held in memory: the first request's body is hashed as it streams into
//! the handler (uploads included), a repeat's body is hashed as it is read and dropped.
//! Multipart boundaries are random per request, so they are left out of the hash: an upload
//! retried with a new boundary but the same parts is the same request.
//! Only successful (2xx) answers are kept; a refused or failed request changed nothing, so
//! its key is freed and a retry runs anew. Requests without authentication (a login) and the
//! operator's (who acts in no tenant) run as if they had no key.

use std::sync::{Arc, Mutex};

use akta_core::idempotency::{IdempotencyState, StoredResponse};
use axum::body::{Body, HttpBody};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::auth::{Auth, Authenticated};
use crate::{ApiError, AppState};

pub const KEY_HEADER: &str = "idempotency-key";
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Answers larger than this are not kept (creating POSTs answer with small JSON).
const MAX_STORED: u64 = 1024 * 1024;
/// Headers of the first answer that a replay repeats.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

pub async fn replay(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(KEY_HEADER) else {
        return next.run(req).await;
    };
    let key = match parse_key(raw) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = req.into_parts();
    let principal = match Auth::from_request_parts(&mut parts, &state).await {
        Ok(Auth(principal)) if akta_core::Core::has_idempotency_keys(&principal) => principal,
        // Unauthenticated (a login) or the operator (no tenant to keep keys in): as if
        // without a key; the handler authenticates again and answers as usual.
        _ => return next.run(Request::from_parts(parts, body)).await,
    };
    parts.extensions.insert(Authenticated(principal.clone()));
    let hasher = RequestHasher::new(&parts);
    match state.core.idempotency_begin(&principal, &key).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(IdempotencyState::InFlight) => ApiError::IdempotencyKeyInFlight.into_response(),
        Ok(IdempotencyState::Done(stored)) => {
            let mut hasher = hasher;
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(bytes) => hasher.update(&bytes),
                    Err(e) => {
                        return ApiError::bad_request(
                            "upload_interrupted",
                            None,
                            format!("the request body could not be read: {e}"),
                        )
                        .into_response()
                    }
                }
            }
            if hasher.finish() != stored.request_hash {
                return ApiError::IdempotencyKeyReused.into_response();
            }
            replayed(stored)
        }
        Ok(IdempotencyState::Fresh) => {
            let hasher = Arc::new(Mutex::new(hasher));
            let seen = hasher.clone();
            let body = Body::from_stream(body.into_data_stream().inspect(move |chunk| {
                if let (Ok(bytes), Ok(mut h)) = (chunk, seen.lock()) {
                    h.update(bytes);
                }
            }));
            let response = next.run(Request::from_parts(parts, body)).await;
            let too_large = response
                .body()
                .size_hint()
                .upper()
                .is_none_or(|n| n > MAX_STORED);
            if !response.status().is_success() || too_large {
                if let Err(e) = state.core.idempotency_release(&principal, &key).await {
                    tracing::warn!(error = %e, "freeing an idempotency key failed");
                }
                return response;
            }
            let (head, body) = response.into_parts();
            let bytes = match axum::body::to_bytes(body, MAX_STORED as usize).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    return ApiError::Internal(format!("reading the answer: {e}")).into_response()
                }
            };
            let request_hash = match hasher.lock() {
                Ok(mut h) => std::mem::replace(&mut *h, RequestHasher::empty()).finish(),
                Err(_) => Vec::new(),
            };
            let headers: serde_json::Map<String, serde_json::Value> = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = head.headers.get(name)?.to_str().ok()?;
                    Some((name.as_str().to_owned(), value.into()))
                })
                .collect();
            let stored = StoredResponse {
                request_hash,
                status: i32::from(head.status.as_u16()),
                headers: headers.into(),
                body: bytes.to_vec(),
            };
            if let Err(e) = state
                .core
                .idempotency_finish(&principal, &key, stored)
                .await
            {
                tracing::warn!(error = %e, "keeping the answer of an idempotency key failed");
            }
            Response::from_parts(head, Body::from(bytes))
        }
    }
}

/// Keys are opaque visible-ASCII strings of 1 to 255 characters.
fn parse_key(raw: &HeaderValue) -> Result<String, ApiError> {
    raw.to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                Some("Idempotency-Key"),
                "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
            )
        })
}

/// The first answer again, marked as a replay.
fn replayed(stored: StoredResponse) -> Response {
    let status = u16::try_from(stored.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    if let Some(kept) = stored.headers.as_object() {
        for (name, value) in kept {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                headers.insert(name, value);
            }
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// SHA-256 over method, path, the media type and the body, with a multipart body's
/// boundary replaced by a fixed marker as the body streams past.
struct RequestHasher {
    sha: openssl::sha::Sha256,
    boundary: Option<Vec<u8>>,
    /// The tail of what was seen that may be the start of a boundary.
    carry: Vec<u8>,
}

impl RequestHasher {
    fn new(parts: &axum::http::request::Parts) -> RequestHasher {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let boundary = media_type
            .starts_with("multipart/")
            .then(|| {
                content_type.split(';').skip(1).find_map(|p| {
                    let (name, value) = p.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("boundary")
                        .then(|| value.trim().trim_matches('"').as_bytes().to_vec())
                })
            })
            .flatten()
            .filter(|b| !b.is_empty());
        let mut sha = openssl::sha::Sha256::new();
        let path = parts.uri.path_and_query().map_or("", |p| p.as_str());
        sha.update(format!("{} {path}\n{media_type}\n", parts.method).as_bytes());
        RequestHasher {
            sha,
            boundary,
            carry: Vec::new(),
        }
    }

    fn empty() -> RequestHasher {
        RequestHasher {
            sha: openssl::sha::Sha256::new(),
            boundary: None,
            carry: Vec::new(),
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        let Some(boundary) = &self.boundary else {
            self.sha.update(chunk);
            return;
        };
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        let mut from = 0;
        while let Some(at) = find(&buf[from..], boundary) {
            self.sha.update(&buf[from..from + at]);
            self.sha.update(b"\0boundary\0");
            from += at + boundary.len();
        }
        // A boundary may begin in the last len-1 bytes and end in the next chunk.
        let keep = (buf.len() - from).min(boundary.len() - 1);
        let safe_end = buf.len() - keep;
        self.sha.update(&buf[from..safe_end]);
        self.carry = buf[safe_end..].to_vec();
    }

    fn finish(mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.carry);
        self.sha.update(&rest);
        self.sha.finish().to_vec()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(content_type: &str, chunks: &[&[u8]]) -> Vec<u8> {
        let req = axum::http::Request::post("/api/v1/files/x/documents")
            .header(header::CONTENT_TYPE, content_type)
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let mut h = RequestHasher::new(&parts);
        for c in chunks {
            h.update(c);
        }
        h.finish()
    }

    #[test]
    fn multipart_boundaries_do_not_count_wherever_the_chunks_break() {
        let a = hash(
            "multipart/form-data; boundary=AAAA1111",
            &[b"--AAAA1111\r\npart\r\n--AA", b"AA1111--\r\n"],
        );
        let b = hash(
            "multipart/form-data; boundary=BBBB2222",
            &[b"--BBBB2222\r\npa", b"rt\r\n--BBBB2222--\r\n"],
        );
        assert_eq!(a, b);
        let other = hash(
            "multipart/form-data; boundary=BBBB2222",
            &[b"--BBBB2222\r\nPART\r\n--BBBB2222--\r\n"],
        );
        assert_ne!(a, other);
        assert_ne!(
            hash("application/json", &[b"{\"a\":1}"]),
            hash("application/json", &[b"{\"a\":2}"])
        );
    }
}
