//! Optimistic locking over HTTP, one way for Akten, Vorgänge and Dokumente: the `ETag` of an
//! object is its row version (`"v3"`), a change sends it back in `If-Match`.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::ApiError;

/// The object as JSON with its `ETag` (and `Location` when created).
pub fn versioned<T: Serialize>(
    status: StatusCode,
    body: &T,
    row_version: i32,
    location: Option<String>,
) -> Result<Response, ApiError> {
    let etag = HeaderValue::from_str(&format!("\"v{row_version}\""))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    if let Some(location) = location {
        let location =
            HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?;
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The version named by `If-Match: "v3"` (weak or strong). Missing: `None` (the core answers
/// 428 once it knows the object exists). A tag that is not ours matches no version: the core
/// answers 412.
pub fn if_match(headers: &HeaderMap) -> Option<i32> {
    let raw = headers.get(header::IF_MATCH)?;
    let parsed = raw.to_str().ok().and_then(|raw| {
        let raw = raw.trim();
        let raw = raw.strip_prefix("W/").unwrap_or(raw);
        raw.strip_prefix("\"v")
            .and_then(|r| r.strip_suffix('"'))
            .and_then(|n| n.parse::<i32>().ok())
    });
    Some(parsed.unwrap_or(i32::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_weak_and_strong_tags_and_refuses_foreign_ones() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h), None);
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"v3\""));
        assert_eq!(if_match(&h), Some(3));
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"v4\""));
        assert_eq!(if_match(&h), Some(4));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(if_match(&h), Some(i32::MIN));
    }
}
