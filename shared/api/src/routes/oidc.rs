//! OpenID Connect login per tenant, and its configuration by the tenant's admin: the HTTP
//! side (routes, cookies, pages, users and sessions); the protocol is `akta_oidc`'s.
//!
//! The browser routes name the tenant in the path (`/auth/oidc/{tenant}/…`), so the callback
//! works in a tenant-scoped transaction from the start. They answer with redirects or a small
//! German HTML page, since a person, not a program, reads them.

use akta_db::repo::oidc::OidcConfig;
use akta_db::{DbError, NewUser, TenantTx, User, UserChanges};
use akta_domain::{bounded_text, TenantId, TenantSlug};
use akta_oidc::{Callback, ConfigInput, Identity, OidcError, LOGIN_TTL};
use axum::extract::{Path, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::{cookie, hash_token, Admin};
use crate::input::ApiJson;
use crate::peer::ClientInfo;
use crate::routes::session::start_session;
use crate::{ApiError, AppState};
use akta_core::parse_username;

/// Binds a login's `state` to the browser that started it, so nobody can push their own
/// provider answer into someone else's browser (login CSRF). Lax: it must come along on the
/// provider's cross-site redirect back to the callback.
const STATE_COOKIE: &str = "akta_oidc_state";
/// Actor of the audit events written before the person is known, and of provisioning.
const ACTOR: &str = "system:oidc";

// --- browser routes ---

/// `GET /auth/oidc/{tenant}/login`: sends the browser to the tenant's identity provider.
pub async fn login(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    parts: Parts,
) -> Response {
    match start_login(&state, &slug, &parts).await {
        Ok(response) => response,
        Err(refusal) => refusal.page(&slug, &parts),
    }
}

async fn start_login(state: &AppState, slug: &str, parts: &Parts) -> Result<Response, Refusal> {
    let tenant = tenant(state, slug).await?;
    let mut tx = state.db.tenant_tx(tenant, ACTOR).await?;
    let cfg = enabled_config(&mut tx).await?;
    let redirect_uri = format!("{}/auth/oidc/{slug}/callback", base_url(state, parts)?);
    let started = state
        .oidc
        .start(&cfg, &redirect_uri)
        .await
        .map_err(refuse)?;
    tx.insert_oidc_login(&hash_token(&started.state), &started.pending, LOGIN_TTL)
        .await?;
    tx.commit().await?;
    let cookie = state_cookie(state, slug, &started.state, LOGIN_TTL.as_secs())?;
    redirect(&started.url, [cookie])
}

/// `GET /auth/oidc/{tenant}/callback?code&state`: the provider's answer. Validates it,
/// provisions or updates the user, starts a session and sends the browser to `/`.
pub async fn callback(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    parts: Parts,
) -> Response {
    match finish_login(&state, &slug, &parts).await {
        Ok(response) => response,
        Err(refusal) => refusal.page(&slug, &parts),
    }
}

async fn finish_login(state: &AppState, slug: &str, parts: &Parts) -> Result<Response, Refusal> {
    let tenant = tenant(state, slug).await?;
    let callback = Callback::from_query(parts.uri.query().unwrap_or("")).map_err(refuse)?;
    let sent = callback
        .state(cookie(&parts.headers, STATE_COOKIE))
        .map_err(refuse)?;

    let mut tx = state.db.tenant_tx(tenant, ACTOR).await?;
    let cfg = enabled_config(&mut tx).await?;
    let pending = tx.take_oidc_login(&hash_token(sent)).await?;
    // Committed at once: the state is used up even if everything after this fails.
    tx.commit().await?;
    let pending = pending.ok_or_else(|| {
        refuse(OidcError::InvalidState(
            "unknown, used or expired state".into(),
        ))
    })?;

    // From here on the attempt belongs to a login this browser started: failures are audited.
    // (Answers without a valid state are not, so strangers cannot flood the audit trail.)
    let identity = match state.oidc.finish(&cfg, &pending, &callback).await {
        Ok(identity) => identity,
        Err(e) => {
            let refusal = refuse(e);
            audit_failure(state, tenant, &refusal, None).await;
            return Err(refusal);
        }
    };

    let mut tx = state.db.tenant_tx(tenant, ACTOR).await?;
    let user = match provision(&mut tx, &identity).await? {
        Ok(user) => user,
        Err(refusal) => {
            drop(tx);
            audit_failure(state, tenant, &refusal, Some(&identity)).await;
            return Err(refusal);
        }
    };
    tx.audit_login(
        "login.oidc_succeeded",
        user.id,
        &json!({"method": "oidc", "issuer": cfg.issuer, "subject": identity.subject,
                "role": user.role}),
    )
    .await?;
    let (_, cookie) = start_session(state, &mut tx, &user).await?;
    tx.commit().await?;
    let clear = state_cookie(state, slug, "", 0)?;
    redirect("/", [cookie, clear])
}

/// Finds the user by subject, or creates it on the first login; the role follows the
/// provider's claim at every login. The inner `Err` is a refusal to audit.
async fn provision(
    tx: &mut TenantTx,
    identity: &Identity,
) -> Result<Result<User, Refusal>, Refusal> {
    let Some(role) = identity.role else {
        return Ok(Err(Refusal::denied(
            "no_role",
            "the role claim maps to no role and there is no default role",
        )));
    };
    match tx.user_by_oidc_subject(&identity.subject).await? {
        Some(user) if user.disabled_at.is_some() => Ok(Err(Refusal {
            status: StatusCode::FORBIDDEN,
            message:
                "Ihr Konto ist in Akta gesperrt. Bitte wenden Sie sich an Ihre Administration.",
            reason: "account_disabled",
            detail: format!("user {} is disabled", user.id),
        })),
        Some(user) => {
            let role_changed = user.role != role.as_str();
            let name_changed = user.display_name != identity.display_name;
            if !role_changed && !name_changed {
                return Ok(Ok(user));
            }
            let changes = UserChanges {
                role: role_changed.then_some(role),
                display_name: name_changed.then(|| identity.display_name.clone()),
                ..UserChanges::default()
            };
            Ok(Ok(tx.update_user(user.id, changes).await?))
        }
        None => {
            let Some(username) = username_for(identity) else {
                return Ok(Err(Refusal::denied(
                    "no_username",
                    "none of preferred_username, email, sub is a valid username",
                )));
            };
            // Never link to an existing account by name: whoever controls a name at the
            // provider would take over the local account of that name.
            if tx.user_by_username(&username).await?.is_some() {
                return Ok(Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    message: "Ihr Benutzername ist in Akta bereits an ein anderes Konto vergeben. \
                              Bitte wenden Sie sich an Ihre Administration.",
                    reason: "username_taken",
                    detail: format!("username {username} belongs to another user"),
                }));
            }
            let display_name = bounded_text("display_name", &identity.display_name, 200)
                .unwrap_or_else(|_| username.clone());
            Ok(Ok(tx
                .create_user(NewUser {
                    username: &username,
                    display_name: &display_name,
                    role,
                    password_hash: None,
                    oidc_subject: Some(&identity.subject),
                    org_unit_id: None,
                    plan_unit_id: None,
                })
                .await?))
        }
    }
}

/// The first of the identity's name candidates that is a valid Akta username.
fn username_for(identity: &Identity) -> Option<String> {
    identity
        .usernames
        .iter()
        .find_map(|candidate| parse_username(candidate).ok())
}

async fn audit_failure(
    state: &AppState,
    tenant: TenantId,
    refusal: &Refusal,
    identity: Option<&Identity>,
) {
    let detail = json!({
        "method": "oidc",
        "reason": refusal.reason,
        "detail": refusal.detail,
        "subject": identity.map(|i| &i.subject),
    });
    let written = async {
        let mut tx = state.db.tenant_tx(tenant, ACTOR).await?;
        tx.audit_login("login.failed", uuid::Uuid::nil(), &detail)
            .await?;
        tx.commit().await
    };
    // The person gets the refusal either way; a lost audit event is logged loudly.
    if let Err(e) = written.await {
        tracing::error!(error = %e, "could not audit a refused OIDC login");
    }
}

async fn tenant(state: &AppState, slug: &str) -> Result<TenantId, Refusal> {
    let slug = TenantSlug::parse(slug).map_err(|_| Refusal::not_configured())?;
    match state.db.tenant_by_slug(slug.as_str()).await {
        Ok(t) if t.status == "active" => Ok(TenantId(t.id)),
        Ok(_) | Err(DbError::NotFound) => Err(Refusal::not_configured()),
        Err(e) => Err(e.into()),
    }
}

async fn enabled_config(tx: &mut TenantTx) -> Result<OidcConfig, Refusal> {
    tx.oidc_config()
        .await?
        .filter(|c| c.enabled)
        .ok_or_else(Refusal::not_configured)
}

/// Akta's own base URL: configured, or from the Host header, with https when the client used
/// HTTPS (directly or through a trusted proxy) or cookies are marked Secure. A forged Host
/// only spoils the forger's own login, since the provider accepts registered redirect URIs.
fn base_url(state: &AppState, parts: &Parts) -> Result<String, Refusal> {
    if let Some(url) = &state.settings.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .ok_or_else(|| Refusal::internal("request without a usable Host header"))?;
    let https = parts
        .extensions
        .get::<ClientInfo>()
        .is_some_and(|c| c.https);
    let scheme = if https || state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

fn state_cookie(
    state: &AppState,
    slug: &str,
    value: &str,
    max_age: u64,
) -> Result<HeaderValue, Refusal> {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path=/auth/oidc/{slug}/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| Refusal::internal(e.to_string()))
}

fn redirect<const N: usize>(
    location: &str,
    cookies: [HeaderValue; N],
) -> Result<Response, Refusal> {
    let location = HeaderValue::from_str(location).map_err(|e| Refusal::internal(e.to_string()))?;
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    for c in cookies {
        headers.append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// Why a browser login was refused: the page text for the person, a stable reason for the
/// audit trail and the technical detail for the log.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: &'static str,
    reason: &'static str,
    detail: String,
}

impl Refusal {
    fn not_configured() -> Refusal {
        Refusal {
            status: StatusCode::NOT_FOUND,
            message: "Für diesen Mandanten ist keine Anmeldung über einen Identitätsanbieter eingerichtet.",
            reason: "not_configured",
            detail: "no tenant or no enabled OIDC configuration".into(),
        }
    }

    fn denied(reason: &'static str, detail: &str) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            message: "Ihr Konto hat keine Berechtigung für Akta. Bitte wenden Sie sich an Ihre Administration.",
            reason,
            detail: detail.into(),
        }
    }

    fn internal(detail: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Bei der Anmeldung ist ein interner Fehler aufgetreten.",
            reason: "internal",
            detail: detail.into(),
        }
    }

    /// A small page with the reason and the request id, which the log line carries too.
    fn page(self, slug: &str, parts: &Parts) -> Response {
        if self.status.is_server_error() {
            tracing::error!(reason = self.reason, detail = %self.detail, "OIDC login failed");
        } else {
            tracing::info!(reason = self.reason, detail = %self.detail, "OIDC login refused");
        }
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        let retry = match TenantSlug::parse(slug) {
            Ok(slug) if self.status != StatusCode::NOT_FOUND => {
                format!("<p><a href=\"/auth/oidc/{slug}/login\">Erneut anmelden</a></p>")
            }
            _ => String::new(),
        };
        let body = format!(
            "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
             <title>Anmeldung fehlgeschlagen – Akta</title></head><body>\
             <h1>Anmeldung fehlgeschlagen</h1><p>{}</p>{retry}\
             <p><small>Vorgangsnummer: {}</small></p></body></html>\n",
            self.message,
            html_escape(request_id),
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

impl From<DbError> for Refusal {
    fn from(e: DbError) -> Self {
        Refusal::internal(e.to_string())
    }
}

/// The browser's side of the API's answers: the provider's and the protocol's failures get
/// their own page and audit reason, everything else is an internal error.
impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::ProviderFailed(detail) => Refusal {
                status: StatusCode::BAD_GATEWAY,
                message: "Der Identitätsanbieter ist nicht erreichbar oder nicht richtig eingerichtet. \
                          Bitte wenden Sie sich an Ihre Administration.",
                reason: "provider_error",
                detail,
            },
            ApiError::LoginRefused { code, detail } => Refusal {
                status: StatusCode::UNAUTHORIZED,
                message: match code {
                    "invalid_state" => {
                        "Diese Anmeldung ist ungültig oder abgelaufen. Bitte melden Sie sich erneut an."
                    }
                    "provider_refused" => {
                        "Der Identitätsanbieter hat die Anmeldung abgelehnt oder sie wurde abgebrochen."
                    }
                    _ => "Die Antwort des Identitätsanbieters war ungültig. Bitte melden Sie sich erneut an.",
                },
                reason: code,
                detail,
            },
            other => Refusal::internal(format!("{other:?}")),
        }
    }
}

/// Protocol failures take the API's one mapping of [`OidcError`] to reach the browser.
fn refuse(e: OidcError) -> Refusal {
    ApiError::from(e).into()
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

// --- tenant admin API ---

/// `GET /api/v1/oidc`: the tenant's provider settings, without the secret, plus the
/// redirect URI to register at the provider.
pub async fn get_config(
    State(state): State<AppState>,
    admin: Admin,
    parts: Parts,
) -> Result<Json<Value>, ApiError> {
    let mut tx = state.db.tx_for(&admin.principal).await?;
    let cfg = tx.oidc_config().await?.ok_or(ApiError::NotFound)?;
    drop(tx);
    config_json(&state, admin.tenant, &parts, &cfg)
        .await
        .map(Json)
}

/// `PUT /api/v1/oidc`: sets the tenant's provider.
pub async fn put_config(
    State(state): State<AppState>,
    admin: Admin,
    parts: Parts,
    ApiJson(body): ApiJson<ConfigInput>,
) -> Result<Json<Value>, ApiError> {
    let settings = state.oidc.check_config(body)?;
    let mut tx = state.db.tx_for(&admin.principal).await?;
    let current = tx.oidc_config().await?;
    settings.check_secret(current.as_ref())?;
    let cfg = tx.put_oidc_config(settings.to_store()).await?;
    tx.commit().await?;
    config_json(&state, admin.tenant, &parts, &cfg)
        .await
        .map(Json)
}

async fn config_json(
    state: &AppState,
    tenant: TenantId,
    parts: &Parts,
    cfg: &OidcConfig,
) -> Result<Value, ApiError> {
    let slug = state.db.tenant_by_id(tenant).await?.slug;
    let base = base_url(state, parts).map_err(|r| ApiError::Internal(r.detail))?;
    let mut out = serde_json::to_value(cfg).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["client_secret_set"] = json!(true);
    out["redirect_uri"] = json!(format!("{base}/auth/oidc/{slug}/callback"));
    out["login_url"] = json!(format!("{base}/auth/oidc/{slug}/login"));
    Ok(out)
}
