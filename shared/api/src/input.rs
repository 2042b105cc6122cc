//! Request parsing with errors that name the offending field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::ApiError;

/// Largest JSON body accepted outside uploads.
const JSON_LIMIT: usize = 1024 * 1024;

/// Parses JSON, turning serde's complaint into a field name: unknown and missing fields name
/// themselves in the message, wrong types come with a path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], prefix: &str) -> Result<T, ApiError> {
    // Serde would also take a struct as an array of its fields in declaration order; bodies
    // are objects, so field names always say what a value means.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        let field = if prefix.is_empty() {
            "body".to_owned()
        } else {
            prefix.trim_end_matches('.').to_owned()
        };
        return Err(ApiError::validation(field, "must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !matches!(inner.classify(), serde_json::error::Category::Data) {
            return ApiError::bad_request(
                "malformed_json",
                (!prefix.is_empty()).then_some(prefix.trim_end_matches('.')),
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let message = inner.to_string();
        // serde_path_to_error's path already ends in an unknown field's name, but stops at
        // the parent of a missing one.
        let missing = message
            .split('`')
            .nth(1)
            .filter(|_| message.starts_with("missing field"));
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (p, Some(name)) => format!("{p}.{name}"),
            (".", None) => "body".to_owned(),
            (p, None) => p.to_owned(),
        };
        ApiError::validation(format!("{prefix}{field}"), message)
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            None,
            format!("trailing data after JSON: {e}"),
        )
    })?;
    // Well-formed: every string and key in it passes the one input check, named by its path.
    let tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            None,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    check_json_text(&tree, prefix.trim_end_matches('.'))?;
    Ok(value)
}

/// Checks every string and object key of `value` with [`akta_domain::check_input`].
fn check_json_text(value: &serde_json::Value, path: &str) -> Result<(), ApiError> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) => {
            let field = if path.is_empty() { "body" } else { path };
            akta_domain::check_input(field, text)?;
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_json_text(item, &join(&i.to_string()))?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                // A key with a control character is named by its position's parent.
                akta_domain::check_input(&join("<key>"), key)?;
                check_json_text(item, &join(key))?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// `Json` with problem+json rejections.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json",
            ));
        }
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|_| ApiError::PayloadTooLarge {
                    limit: JSON_LIMIT as u64,
                })?;
        if bytes.len() > JSON_LIMIT {
            return Err(ApiError::PayloadTooLarge {
                limit: JSON_LIMIT as u64,
            });
        }
        parse_json(&bytes, "").map(ApiJson)
    }
}

/// Query parameters with problem+json rejections naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        for (name, value) in form_urlencoded_parse(query) {
            for text in [&name, &value] {
                akta_domain::check_input(&name, text).map_err(|e| {
                    ApiError::bad_request("invalid_query", Some(&e.field), e.message)
                })?;
            }
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|_| path == ".")
                    .map(str::to_owned)
                    .unwrap_or(path);
                ApiError::bad_request("invalid_query", Some(&field), message)
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// Parses a path segment as an id; a malformed one is a 400 naming the parameter.
pub fn parse_id(raw: &str, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            Some(field),
            format!("'{field}' must be a UUID"),
        )
    })
}

/// Decodes an opaque keyset cursor produced by a previous page.
pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    cursor
        .map(|c| {
            Uuid::parse_str(c).map_err(|_| {
                ApiError::bad_request("invalid_query", Some("cursor"), "unknown cursor")
            })
        })
        .transpose()
}

/// Page size: 1..=200, default 50.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(l) if (1..=200).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            Some("limit"),
            "limit must be between 1 and 200",
        )),
    }
}

/// Serde helper telling "absent" (outer `None`) from explicit `null` (inner `None`).
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// Parses an ISO date (`2026-11-25`).
pub fn parse_date(field: &str, raw: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map_err(|_| ApiError::validation(field, "must be a date like 2026-11-25"))
}

/// Free metadata is a JSON object of bounded size, so one Akte cannot bloat every list.
pub fn check_metadata(
    field: &str,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let metadata = metadata.unwrap_or_default();
    let size = serde_json::to_vec(&metadata)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > 64 * 1024 {
        return Err(ApiError::validation(
            field,
            "must be at most 64 KiB of JSON",
        ));
    }
    Ok(metadata)
}
