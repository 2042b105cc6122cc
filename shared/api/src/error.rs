//! The HTTP layer's one error type and its single mapping to `application/problem+json`.

use akta_core::CoreError;
use akta_domain::DomainError;
use akta_oidc::OidcError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The one error type of the HTTP layer; mapped to problem+json in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// One answer for every failed login, so it reveals neither whether the user exists nor
    /// whether the account is locked.
    #[error("login failed: wrong username or password, or the account is temporarily locked")]
    LoginFailed,
    #[error("cookie-authenticated changes need the session's X-CSRF-Token header")]
    CsrfFailed,
    /// 400 with a stable code, e.g. malformed_json, invalid_id, missing_part.
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        field: Option<String>,
        detail: String,
    },
    /// 422: well-formed input that breaks a rule; names the field.
    #[error("{field}: {detail}")]
    Validation { field: String, detail: String },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the resource was changed since it was read (If-Match does not match)")]
    PreconditionFailed,
    #[error("this change requires an If-Match header with the resource's ETag")]
    PreconditionRequired,
    #[error("the upload exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("the requested range is not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("too many requests for this tenant; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the tenant's {0} quota is exhausted")]
    InsufficientStorage(&'static str),
    #[error("service not ready: {0}")]
    Unavailable(String),
    /// 401 for a login through an identity provider: the answer is not this browser's
    /// login, the provider refused, or the answer failed validation. `code` says which.
    #[error("{detail}")]
    LoginRefused { code: &'static str, detail: String },
    /// 502: an identity provider is unreachable or answered something unusable.
    #[error("{0}")]
    ProviderFailed(String),
    /// 422: an Idempotency-Key already used for another request.
    #[error("this Idempotency-Key was used for a different request (method, path or body)")]
    IdempotencyKeyReused,
    /// 409: the first request with this Idempotency-Key is still running.
    #[error("a request with this Idempotency-Key is still being processed; retry later")]
    IdempotencyKeyInFlight,
    /// Internal causes are logged, never sent to clients.
    #[error("internal error")]
    Internal(String),
}

/// An error answer (RFC 9457 problem details) with Akta's stable `code`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Problem<'a> {
    /// `urn:akta:problem:<code>`
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP status text, e.g. `Not Found`.
    title: &'a str,
    /// The HTTP status code.
    status: u16,
    /// Stable, machine-readable reason, e.g. `not_found`, `invalid_id`, `validation_failed`.
    code: &'a str,
    /// What went wrong, for people.
    detail: String,
    /// The request field at fault, where there is one (e.g. `metadata.title`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Validation {
            field: field.into(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &'static str, field: Option<&str>, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            field: field.map(str::to_owned),
            detail: detail.into(),
        }
    }

    /// Status, stable code and title of each variant.
    fn parts(&self) -> (StatusCode, &str, &'static str) {
        use ApiError::*;
        match self {
            Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not Found"),
            LoginFailed => (StatusCode::UNAUTHORIZED, "login_failed", "Unauthorized"),
            CsrfFailed => (StatusCode::FORBIDDEN, "csrf_failed", "Forbidden"),
            BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad Request"),
            Validation { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation Failed",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported Media Type",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Unprocessable Content",
            ),
            IdempotencyKeyInFlight => (
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                "Conflict",
            ),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition Failed",
            ),
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "Precondition Required",
            ),
            PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload Too Large",
            ),
            RangeNotSatisfiable { .. } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                "Range Not Satisfiable",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too Many Requests",
            ),
            InsufficientStorage(_) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "quota_exceeded",
                "Insufficient Storage",
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "Service Unavailable",
            ),
            LoginRefused { code, .. } => (StatusCode::UNAUTHORIZED, code, "Unauthorized"),
            ProviderFailed(_) => (StatusCode::BAD_GATEWAY, "provider_error", "Bad Gateway"),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal Server Error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.parts();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let field = match &self {
            ApiError::Validation { field, .. } => Some(field.as_str()),
            ApiError::BadRequest { field, .. } => field.as_deref(),
            _ => None,
        };
        let problem = Problem {
            kind: format!("urn:akta:problem:{code}"),
            title,
            status: status.as_u16(),
            code,
            detail: self.to_string(),
            field,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"akta\""),
                );
            }
            ApiError::RateLimited { retry_after } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        response
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => ApiError::NotFound,
            CoreError::Forbidden(why) => ApiError::Forbidden(why),
            CoreError::Validation { field, detail } => ApiError::Validation { field, detail },
            CoreError::Conflict(m) => ApiError::Conflict(m),
            e @ CoreError::IdenticalVersion(_) => ApiError::Conflict(e.to_string()),
            CoreError::PreconditionFailed => ApiError::PreconditionFailed,
            CoreError::PreconditionRequired => ApiError::PreconditionRequired,
            CoreError::QuotaExceeded(what) => ApiError::InsufficientStorage(what),
            CoreError::LoginFailed => ApiError::LoginFailed,
            CoreError::TooLarge { limit } => ApiError::PayloadTooLarge { limit },
            CoreError::UploadInterrupted(detail) => ApiError::bad_request(
                "upload_interrupted",
                Some("file"),
                format!("the upload body could not be read: {detail}"),
            ),
            CoreError::Unavailable(what) => ApiError::Unavailable(what),
            CoreError::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            CoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Validation {
            field: e.field,
            detail: e.message,
        }
    }
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        use OidcError::*;
        let code = match e {
            InvalidConfig { field, detail } => return ApiError::Validation { field, detail },
            Internal(cause) => return ApiError::Internal(cause),
            // Not the person's fault, and not Akta's: the tenant's admin has to look.
            ProviderUnreachable { .. } | ProviderMisbehaving { .. } | CodeRefused { .. } => {
                return ApiError::ProviderFailed(e.to_string())
            }
            InvalidState(_) => "invalid_state",
            LoginRefused(_) => "provider_refused",
            InvalidResponse(_) | InvalidToken(_) => "invalid_response",
        };
        ApiError::LoginRefused {
            code,
            detail: e.to_string(),
        }
    }
}
