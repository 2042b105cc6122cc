//! The one error type of the web UI. Handlers return [`WebError`]; its response carries an
//! [`ErrorPage`] marker that [`render_error_pages`] turns into a German (or English) HTML
//! page with the request id, so support can find the request in the logs.

use akta_api::ApiError;
use akta_api::AppState;
use akta_core::CoreError;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::render::Chrome;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No (or an expired) session: go to the login page.
    #[error("login required")]
    LoginRequired,
    /// No (or an expired) console session: go to the console's login page.
    #[error("console login required")]
    ConsoleLoginRequired,
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf token missing or wrong")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    TooLarge,
    #[error("rate limited")]
    RateLimited,
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// Marker left on an error response for [`render_error_pages`].
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub message_key: &'static str,
}

impl WebError {
    fn status_and_key(&self) -> (StatusCode, &'static str) {
        match self {
            WebError::LoginRequired | WebError::ConsoleLoginRequired => {
                (StatusCode::UNAUTHORIZED, "error.403")
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, "error.404"),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "error.403"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            WebError::BadRequest(_) => (StatusCode::BAD_REQUEST, "error.400"),
            WebError::Conflict(_) => (StatusCode::CONFLICT, "error.409"),
            WebError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "error.413"),
            WebError::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "error.429"),
            WebError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "error.503"),
            WebError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "error.500"),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::LoginRequired = self {
            return Redirect::to("/anmelden").into_response();
        }
        if let WebError::ConsoleLoginRequired = self {
            return Redirect::to("/betrieb/anmelden").into_response();
        }
        match &self {
            WebError::Internal(cause) => tracing::error!(%cause, "web request failed"),
            other => tracing::info!(error = %other, "web request refused"),
        }
        let (status, message_key) = self.status_and_key();
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { message_key });
        response
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        match e {
            // The OpenID Connect login has its own pages; should its refusals reach the web
            // UI, they mean the same as a failed password login.
            ApiError::Unauthorized | ApiError::LoginFailed | ApiError::LoginRefused { .. } => {
                WebError::LoginRequired
            }
            ApiError::NotFound => WebError::NotFound,
            ApiError::Forbidden(_) => WebError::Forbidden,
            ApiError::CsrfFailed => WebError::Csrf,
            ApiError::BadRequest { detail, .. } => WebError::BadRequest(detail),
            ApiError::Validation { field, detail } => {
                WebError::BadRequest(format!("{field}: {detail}"))
            }
            ApiError::UnsupportedMediaType(m) => WebError::BadRequest(m.to_owned()),
            ApiError::Conflict(m) => WebError::Conflict(m),
            e @ (ApiError::IdempotencyKeyReused | ApiError::IdempotencyKeyInFlight) => {
                WebError::Conflict(e.to_string())
            }
            ApiError::PreconditionFailed | ApiError::PreconditionRequired => {
                WebError::Conflict("changed meanwhile".into())
            }
            ApiError::PayloadTooLarge { .. } => WebError::TooLarge,
            ApiError::InsufficientStorage(what) => WebError::Conflict(format!("quota: {what}")),
            ApiError::RangeNotSatisfiable { .. } => WebError::BadRequest("range".into()),
            ApiError::RateLimited { .. } => WebError::RateLimited,
            ApiError::Unavailable(m) | ApiError::ProviderFailed(m) => WebError::Unavailable(m),
            ApiError::Internal(m) => WebError::Internal(m),
        }
    }
}

impl From<CoreError> for WebError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => WebError::NotFound,
            CoreError::Forbidden(_) => WebError::Forbidden,
            CoreError::Validation { field, detail } => {
                WebError::BadRequest(format!("{field}: {detail}"))
            }
            CoreError::Conflict(m) => WebError::Conflict(m),
            e @ CoreError::IdenticalVersion(_) => WebError::Conflict(e.to_string()),
            CoreError::PreconditionFailed | CoreError::PreconditionRequired => {
                WebError::Conflict("changed meanwhile".into())
            }
            CoreError::QuotaExceeded(what) => WebError::Conflict(format!("quota: {what}")),
            CoreError::LoginFailed => WebError::LoginRequired,
            CoreError::TooLarge { .. } => WebError::TooLarge,
            CoreError::UploadInterrupted(m) => WebError::BadRequest(m),
            CoreError::Unavailable(m) => WebError::Unavailable(m),
            CoreError::RateLimited { .. } => WebError::RateLimited,
            CoreError::Internal(m) => WebError::Internal(m),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    /// The usual header and navigation for a logged-in person, the bare one otherwise.
    c: Chrome,
    status: u16,
    message: &'static str,
    request_id: &'a str,
}

/// Renders the page for responses that carry an [`ErrorPage`], and for a method the path
/// does not take (a POST-only address opened from the address bar); other responses pass.
pub async fn render_error_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let headers = req.headers().clone();
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let page = match response.extensions_mut().remove::<ErrorPage>() {
        Some(page) => page,
        None if response.status() == StatusCode::METHOD_NOT_ALLOWED && !api => ErrorPage {
            message_key: "error.405",
        },
        None => return response,
    };
    let chrome = crate::session::Session::chrome_for_error(&headers, &state).await;
    let template = ErrorTemplate {
        message: chrome.lang.t(page.message_key),
        c: chrome,
        status: response.status().as_u16(),
        request_id: &request_id,
    };
    let body = template
        .render()
        .unwrap_or_else(|_| "Fehler / Error".to_owned());
    let status = response.status();
    let mut rendered = (status, body).into_response();
    crate::render::page_headers(rendered.headers_mut());
    rendered.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    rendered
}
