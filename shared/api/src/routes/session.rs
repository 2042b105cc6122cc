//! Password login, session inspection and logout (one session or all of a user's).

use akta_core::{LoggedIn, NewSession};
use akta_domain::Principal;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Auth, SESSION_COOKIE};
use crate::input::ApiJson;
use crate::{ApiError, AppState};

/// A session just created; the caller commits the transaction and sends the cookie.
fn cookie_header(state: &AppState, value: &str, max_age: u64) -> Result<HeaderValue, ApiError> {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The cookie that carries a new session.
pub fn session_cookie(state: &AppState, session: &NewSession) -> Result<HeaderValue, ApiError> {
    cookie_header(
        state,
        &session.token,
        state.core.settings().session_lifetime.as_secs(),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Login)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    tenant: String,
    username: String,
    password: String,
}

/// Every failure looks the same and ends at the same time after the request began, whatever
/// went wrong and however much database work it took.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "Sitzung",
    summary = "Anmelden mit Benutzername und Passwort; setzt das Sitzungs-Cookie",
    request_body = LoginBody,
    security(()),
    responses((status = 201, description = "Angemeldet; `csrf_token` für Änderungen", body = Object, headers(("Set-Cookie" = String, description = "Das Sitzungs-Cookie akta_session"))))
)]
pub async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::peer::ClientInfo>>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let LoggedIn {
        session,
        user,
        tenant,
        ..
    } = state
        .core
        .password_login(
            &body.tenant,
            &body.username,
            body.password,
            client.and_then(|c| c.ip),
        )
        .await?;
    let cookie = session_cookie(&state, &session)?;
    let body = json!({
        "user": user,
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.display_name},
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "Sitzung",
    summary = "Die eigene Sitzung",
    responses((status = 200, description = "Wer angemeldet ist", body = Object))
)]
pub async fn current(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Principal::User { csrf_token, .. } = &principal else {
        return Err(ApiError::NotFound);
    };
    let csrf = csrf_token.clone();
    let (user, tenant) = state.core.current_user(&principal).await?;
    Ok(Json(json!({
        "user": user,
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.display_name},
        "csrf_token": csrf,
    })))
}

/// The `Set-Cookie` value that removes the session cookie from the browser.
pub fn clearing_cookie(state: &AppState) -> Result<HeaderValue, ApiError> {
    cookie_header(state, "", 0)
}

fn logged_out(state: &AppState) -> Result<Response, ApiError> {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clearing_cookie(state)?);
    Ok(response)
}

#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "Sitzung",
    summary = "Abmelden",
    responses((status = 204, description = "Abgemeldet; das Cookie wird gelöscht"))
)]
pub async fn logout(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Response, ApiError> {
    state.core.logout(&principal).await?;
    logged_out(&state)
}

/// Ends every session of the caller, on every device.
#[utoipa::path(
    post,
    path = "/api/v1/session/logout-all",
    tag = "Sitzung",
    summary = "Alle Sitzungen des Aufrufers beenden, auf allen Geräten",
    responses((status = 204, description = "Alle Sitzungen beendet"))
)]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Response, ApiError> {
    state.core.logout_everywhere(&principal).await?;
    logged_out(&state)
}
