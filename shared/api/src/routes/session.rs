//! Password login, session inspection and logout (one session or all of a user's).

use akta_db::{TenantTx, User};
use akta_domain::{Principal, TenantId};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{hash_token, Auth, SESSION_COOKIE};
use crate::input::ApiJson;
use crate::{passwords, ApiError, AppState};

/// A session just created; the caller commits the transaction and sends the cookie.
pub struct NewSession {
    pub cookie: HeaderValue,
    pub csrf_token: String,
    pub expires_at: time::OffsetDateTime,
}

fn random_text(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

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

/// Opens a session for `user` (password or OpenID Connect login) inside `tx`.
pub async fn start_session(
    state: &AppState,
    tx: &mut TenantTx,
    user: &User,
) -> Result<NewSession, ApiError> {
    let token = random_text(32);
    let csrf_token = random_text(24);
    let row = tx
        .create_session(
            user.id,
            &hash_token(&token),
            &csrf_token,
            state.settings.session_lifetime,
        )
        .await?;
    Ok(NewSession {
        cookie: cookie_header(state, &token, state.settings.session_lifetime.as_secs())?,
        csrf_token,
        expires_at: row.expires_at,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    tenant: String,
    username: String,
    password: String,
}

/// Every failure looks the same and ends at the same time after the request began, whatever
/// went wrong and however much database work it took.
async fn failed(started: tokio::time::Instant) -> ApiError {
    tokio::time::sleep_until(started + std::time::Duration::from_millis(500)).await;
    ApiError::LoginFailed
}

async fn verify_password(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    // Argon2 is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || passwords::verify(&password, stored.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A successful password login: the new session (committed) with its user and tenant.
pub struct LoggedIn {
    pub session: NewSession,
    pub user: User,
    pub tenant: akta_db::TenantRow,
}

/// Checks a password login and opens a session; shared by the REST API and the web UI so
/// lockout, timing and audit rules hold for both.
pub async fn password_login(
    state: &AppState,
    tenant_slug: &str,
    username: &str,
    password: String,
) -> Result<LoggedIn, ApiError> {
    let started = tokio::time::Instant::now();
    let username = username.trim().to_lowercase();
    let tenant = match state.db.tenant_by_slug(tenant_slug.trim()).await {
        Ok(t) if t.status == "active" => t,
        Ok(_) | Err(akta_db::DbError::NotFound) => {
            verify_password(password, None).await?;
            return Err(failed(started).await);
        }
        Err(e) => return Err(e.into()),
    };
    let mut tx = state
        .db
        .tenant_tx(TenantId(tenant.id), &format!("user:{username}"))
        .await?;
    let user = tx.user_by_username(&username).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = verify_password(password, stored).await?;
    let now = time::OffsetDateTime::now_utc();
    let refusal = match &user {
        None => Some("unknown user"),
        Some(u) if u.disabled_at.is_some() => Some("account disabled"),
        Some(u) if u.locked_until.is_some_and(|t| t > now) => Some("account locked"),
        Some(_) if !password_ok => Some("wrong password"),
        Some(_) => None,
    };
    match (refusal, user) {
        (None, Some(user)) => {
            tx.record_login_success(user.id).await?;
            let session = start_session(state, &mut tx, &user).await?;
            tx.audit_login("login.succeeded", user.id, &json!({"method": "password"}))
                .await?;
            tx.commit().await?;
            Ok(LoggedIn {
                session,
                user,
                tenant,
            })
        }
        (reason, user) => {
            let user_id = user.as_ref().map_or(uuid::Uuid::nil(), |u| u.id);
            let mut locked_now = false;
            if let Some(u) = &user {
                if reason == Some("wrong password") {
                    locked_now = tx
                        .record_login_failure(
                            u.id,
                            state.settings.max_login_failures,
                            state.settings.lockout,
                        )
                        .await?;
                }
            }
            tx.audit_login(
                "login.failed",
                user_id,
                &json!({"username": username, "reason": reason, "locked": locked_now}),
            )
            .await?;
            tx.commit().await?;
            Err(failed(started).await)
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let LoggedIn {
        session,
        user,
        tenant,
    } = password_login(&state, &body.tenant, &body.username, body.password).await?;
    let body = json!({
        "user": user,
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.display_name},
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at.format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session.cookie);
    Ok(response)
}

fn session_of(principal: &Principal) -> Result<(uuid::Uuid, uuid::Uuid, String), ApiError> {
    match principal {
        Principal::User {
            user_id,
            session_id,
            csrf_token,
            ..
        } => Ok((*user_id, *session_id, csrf_token.clone())),
        _ => Err(ApiError::NotFound),
    }
}

/// The logged-in user, the tenant and the CSRF token for this session.
pub async fn current(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (user_id, _, csrf) = session_of(&principal)?;
    let mut tx = state.db.tx_for(&principal).await?;
    let user = tx.user(user_id).await?;
    let tenant = state.db.tenant_by_id(tx.tenant()).await?;
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

/// Revokes the caller's session (logout), audited; shared with the web UI.
pub async fn end_session(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let (user_id, session_id, _) = session_of(principal)?;
    let mut tx = state.db.tx_for(principal).await?;
    tx.revoke_session(session_id).await?;
    tx.audit_login("logout", user_id, &json!({"sessions": 1}))
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn logout(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Response, ApiError> {
    end_session(&state, &principal).await?;
    logged_out(&state)
}

/// Ends every session of the caller, on every device.
pub async fn logout_everywhere(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Response, ApiError> {
    let (user_id, _, _) = session_of(&principal)?;
    let mut tx = state.db.tx_for(&principal).await?;
    let ended = tx.revoke_sessions(user_id).await?;
    tx.audit_login("logout", user_id, &json!({"sessions": ended}))
        .await?;
    tx.commit().await?;
    logged_out(&state)
}
