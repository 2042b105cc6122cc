//! Who is asking: the session cookie set at login (the same server-side sessions as the REST
//! API), the CSRF synchronizer token of that session, and the user's language.

use akta_api::{AppState, SESSION_COOKIE};
use akta_core::SessionContext;
use akta_domain::{Principal, Role};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::render::Chrome;

/// Cookie holding the chosen UI language (`de` or `en`); a preference, not a secret.
pub const LANG_COOKIE: &str = "akta_lang";
/// Double-submit cookie protecting the login form, which has no session yet.
pub const LOGIN_CSRF_COOKIE: &str = "akta_login_csrf";

pub use akta_api::cookie;

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// Constant-time comparison of a submitted token with the expected one.
pub fn tokens_match(sent: &str, expected: &str) -> bool {
    akta_crypto::secrets_match(sent.as_bytes(), expected.as_bytes())
}

/// A person logged in through the browser, with what every page's header shows.
pub struct Session {
    pub principal: Principal,
    pub user_id: Uuid,
    pub csrf: String,
    pub chrome: Chrome,
}

impl Session {
    pub fn lang(&self) -> Lang {
        self.chrome.lang
    }

    /// Changing records needs a role that writes.
    pub fn require_write(&self) -> Result<(), WebError> {
        if self.principal.can_write() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Tenant administration (branding) needs an unrestricted admin, as in the REST API.
    pub fn require_admin(&self) -> Result<(), WebError> {
        match &self.principal {
            Principal::User {
                role: Role::Admin,
                plan_scope: None,
                ..
            } => Ok(()),
            _ => Err(WebError::Forbidden),
        }
    }

    /// Aussonderung and the Löschprotokoll: admins and archivists.
    pub fn require_records_manager(&self) -> Result<(), WebError> {
        if self.chrome.is_records_manager {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Checks a form's synchronizer token against this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if tokens_match(sent, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// The session's principal, if the request carries a live session cookie.
    pub async fn principal(
        headers: &HeaderMap,
        state: &AppState,
    ) -> Result<Option<Principal>, WebError> {
        let Some(token) =
            cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty() && t.len() <= 200)
        else {
            return Ok(None);
        };
        Ok(state.core.authenticate_session(token).await?)
    }
}

impl Session {
    /// The header and navigation of an error page: the person's, if the request carries a
    /// live session, else the bare one (never an error of its own, never a counted request).
    pub async fn chrome_for_error(headers: &HeaderMap, state: &AppState) -> Chrome {
        let anonymous = || Chrome {
            lang: lang_of(headers),
            tenant_name: lang_of(headers).t("app.name").to_owned(),
            ..Chrome::default()
        };
        match Session::principal(headers, state).await {
            Ok(Some(principal)) => match Session::of(principal, headers, state).await {
                Ok(session) => session.chrome,
                Err(_) => anonymous(),
            },
            _ => anonymous(),
        }
    }

    async fn of(
        principal: Principal,
        headers: &HeaderMap,
        state: &AppState,
    ) -> Result<Session, WebError> {
        let Principal::User {
            role,
            user_id,
            ref csrf_token,
            ..
        } = principal
        else {
            return Err(WebError::LoginRequired);
        };
        let csrf = csrf_token.clone();
        let SessionContext {
            user,
            branding,
            tenant,
        } = state.core.session_context(&principal).await?;
        let chrome = Chrome {
            lang: lang_of(headers),
            user_name: Some(user.display_name),
            tenant_name: branding.header_name.clone().unwrap_or(tenant.display_name),
            has_logo: branding.logo_media_type.is_some(),
            has_accent: branding.accent_color.is_some(),
            csrf: csrf.clone(),
            can_write: principal.can_write(),
            // Plan-scoped admins do not administer the tenant (as in the REST API).
            is_admin: role == Role::Admin
                && matches!(
                    principal,
                    Principal::User {
                        plan_scope: None,
                        ..
                    }
                ),
            is_records_manager: matches!(role, Role::Admin | Role::Archivist),
            query: String::new(),
            nav: "",
            logo_src: None,
            console: false,
        };
        Ok(Session {
            principal,
            user_id,
            csrf,
            chrome,
        })
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let principal = Session::principal(&parts.headers, state)
            .await?
            .ok_or(WebError::LoginRequired)?;
        let Some((tenant_id, _)) = principal.tenant_role() else {
            return Err(WebError::LoginRequired);
        };
        tracing::Span::current().record("tenant", tracing::field::display(tenant_id));
        let usage = akta_core::RequestUsage {
            api: false,
            search: parts.uri.path() == "/suche"
                && parts.uri.query().is_some_and(|q| q.contains("q=")),
        };
        state.core.admit_usage(&principal, usage).await?;
        Session::of(principal, &parts.headers, state).await
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// An url-encoded form posted by a logged-in user, its CSRF token already checked.
pub struct Posted<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let form = checked_form(Request::from_parts(parts, body), state, |sent| {
            session.check_csrf(sent)
        })
        .await?;
        Ok(Posted { session, form })
    }
}

/// The url-encoded form of `req` after `check_csrf` accepted its `csrf_token` field and its
/// text passed the input rules: one reading for the clerk's and the operator's forms.
pub(crate) async fn checked_form<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
    check_csrf: impl FnOnce(&str) -> Result<(), WebError>,
) -> Result<T, WebError> {
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| WebError::TooLarge)?;
    let csrf: CsrfField =
        serde_urlencoded::from_bytes(&bytes).map_err(|e| WebError::BadRequest(e.to_string()))?;
    check_csrf(&csrf.csrf_token)?;
    check_form_text(&bytes)?;
    serde_urlencoded::from_bytes(&bytes).map_err(|e| WebError::BadRequest(e.to_string()))
}

/// Every field of a posted form passes the one input check (no NUL, no control characters
/// other than tab and line breaks), named in the refusal.
pub fn check_form_text(body: &[u8]) -> Result<(), WebError> {
    for (name, value) in form_urlencoded::parse(body) {
        for text in [&name, &value] {
            akta_domain::check_input(&name, text)
                .map_err(|e| WebError::BadRequest(format!("{}: {}", e.field, e.message)))?;
        }
    }
    Ok(())
}

/// Sets the double-submit cookie of a form that has no session yet (the logins, the
/// invitation) on `response`.
pub fn with_login_csrf(
    state: &AppState,
    mut response: axum::response::Response,
    token: &str,
) -> axum::response::Response {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{LOGIN_CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200{secure}"
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, v);
    }
    response
}

/// A random token for the login form's double-submit cookie.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut raw = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The parts of a posted multipart form, each at most `max` bytes, after checking the
/// `csrf_token` part, which must come first (so nothing is read for a forged request).
pub async fn multipart_parts(
    session: &Session,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    max: usize,
) -> Result<Vec<(String, Vec<u8>)>, WebError> {
    multipart_parts_checked(&session.csrf, multipart, max).await
}

/// [`multipart_parts`] against any session's synchronizer token (the console's, too).
pub async fn multipart_parts_checked(
    expected_csrf: &str,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    max: usize,
) -> Result<Vec<(String, Vec<u8>)>, WebError> {
    // A body that is no multipart form gets the HTML error page, not axum's plain text.
    let mut multipart = multipart.map_err(|e| WebError::BadRequest(e.body_text()))?;
    let mut parts = Vec::new();
    let mut csrf = false;
    while let Some(mut part) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?
    {
        let name = part.name().unwrap_or("").to_owned();
        if !csrf && name != "csrf_token" {
            return Err(WebError::Csrf);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = part
            .chunk()
            .await
            .map_err(|e| WebError::BadRequest(e.body_text()))?
        {
            if bytes.len() + chunk.len() > max {
                return Err(WebError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "csrf_token" && !csrf {
            if !tokens_match(&String::from_utf8_lossy(&bytes), expected_csrf) {
                return Err(WebError::Csrf);
            }
            csrf = true;
            continue;
        }
        parts.push((name, bytes));
    }
    if !csrf {
        return Err(WebError::Csrf);
    }
    Ok(parts)
}
