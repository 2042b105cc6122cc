//! OpenID Connect login per tenant, and its configuration by the tenant's admin: the HTTP
//! side (routes, cookies, pages, users and sessions); the protocol is `akta_oidc`'s.
//!
//! The browser routes name the tenant in the path (`/auth/oidc/{tenant}/…`), so the callback
//! works in a tenant-scoped transaction from the start. They answer with redirects or a small
//! German HTML page, since a person, not a program, reads them.

use akta_core::model::OidcConfig;
use akta_core::{CoreError, SignInRefusal};
use akta_domain::{TenantId, TenantSlug};
use akta_oidc::{Callback, ConfigInput, Identity, OidcError, LOGIN_TTL};
use axum::extract::{Path, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::{cookie, Admin};
use crate::input::ApiJson;
use crate::peer::ClientInfo;
use crate::routes::session::session_cookie;
use crate::{ApiError, AppState};

/// Binds a login's `state` to the browser that started it, so nobody can push their own
/// provider answer into someone else's browser (login CSRF). Lax: it must come along on the
/// provider's cross-site redirect back to the callback.
const STATE_COOKIE: &str = "akta_oidc_state";

// --- browser routes ---

/// `GET /auth/oidc/{tenant}/login`: sends the browser to the tenant's identity provider.
#[utoipa::path(
    get,
    path = "/auth/oidc/{tenant}/login",
    tag = "OpenID Connect",
    summary = "Anmeldung beim Identitätsanbieter des Mandanten beginnen (Browser)",
    params(("tenant" = String, Path, description = "Kennung des Mandanten")),
    security(()),
    responses((status = 302, description = "Weiter zum Identitätsanbieter"), (status = 400, description = "Fehlerseite", content_type = "text/html"), (status = 403, description = "Fehlerseite", content_type = "text/html"), (status = 404, description = "Kein Mandant mit OpenID Connect", content_type = "text/html"), (status = 502, description = "Anbieter nicht erreichbar", content_type = "text/html"))
)]
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
    let (tenant, cfg) = configured(state, slug).await?;
    let redirect_uri = format!("{}/auth/oidc/{slug}/callback", base_url(state, parts)?);
    let started = state
        .oidc
        .start(&cfg, &redirect_uri)
        .await
        .map_err(refuse)?;
    state
        .core
        .store_oidc_login(tenant, &started.state, &started.pending, LOGIN_TTL)
        .await?;
    let cookie = state_cookie(state, slug, &started.state, LOGIN_TTL.as_secs())?;
    redirect(&started.url, [cookie])
}

/// `GET /auth/oidc/{tenant}/callback?code&state`: the provider's answer. Validates it,
/// provisions or updates the user, starts a session and sends the browser to `/`.
#[utoipa::path(
    get,
    path = "/auth/oidc/{tenant}/callback",
    tag = "OpenID Connect",
    summary = "Rückkehr vom Identitätsanbieter; setzt das Sitzungs-Cookie (Browser)",
    params(("tenant" = String, Path, description = "Kennung des Mandanten")),
    security(()),
    responses((status = 302, description = "Angemeldet, weiter zur Oberfläche"), (status = 400, description = "Fehlerseite", content_type = "text/html"), (status = 401, description = "Anmeldung abgelehnt", content_type = "text/html"), (status = 403, description = "Fehlerseite", content_type = "text/html"), (status = 404, description = "Kein Mandant mit OpenID Connect", content_type = "text/html"), (status = 502, description = "Anbieter nicht erreichbar", content_type = "text/html"))
)]
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
    let (tenant, cfg) = configured(state, slug).await?;
    let callback = Callback::from_query(parts.uri.query().unwrap_or("")).map_err(refuse)?;
    let sent = callback
        .state(cookie(&parts.headers, STATE_COOKIE))
        .map_err(refuse)?;

    // Used up at once, even if everything after this fails.
    let pending = state.core.take_oidc_login(tenant, sent).await?;
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

    let session = match state
        .core
        .oidc_sign_in(tenant, &cfg.issuer, &identity)
        .await?
    {
        Ok((_, session)) => session,
        Err(refused) => {
            let refusal = Refusal::from(refused);
            audit_failure(state, tenant, &refusal, Some(&identity)).await;
            return Err(refusal);
        }
    };
    let cookie = session_cookie(state, &session)?;
    let clear = state_cookie(state, slug, "", 0)?;
    redirect("/", [cookie, clear])
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
    // The person gets the refusal either way; a lost audit event is logged loudly.
    if let Err(e) = state.core.audit_oidc_failure(tenant, &detail).await {
        tracing::error!(error = %e, "could not audit a refused OIDC login");
    }
}

/// The active tenant of `slug` with its enabled provider, or the "not configured" page.
async fn configured(state: &AppState, slug: &str) -> Result<(TenantId, OidcConfig), Refusal> {
    state
        .core
        .oidc_login_config(slug)
        .await?
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

impl From<CoreError> for Refusal {
    fn from(e: CoreError) -> Self {
        Refusal::internal(e.to_string())
    }
}

impl From<SignInRefusal> for Refusal {
    fn from(r: SignInRefusal) -> Self {
        match r {
            SignInRefusal::AccountDisabled(_) => Refusal {
                status: StatusCode::FORBIDDEN,
                message:
                    "Ihr Konto ist in Akta gesperrt. Bitte wenden Sie sich an Ihre Administration.",
                reason: r.reason(),
                detail: r.detail(),
            },
            SignInRefusal::UsernameTaken(_) => Refusal {
                status: StatusCode::FORBIDDEN,
                message: "Ihr Benutzername ist in Akta bereits an ein anderes Konto vergeben. \
                          Bitte wenden Sie sich an Ihre Administration.",
                reason: r.reason(),
                detail: r.detail(),
            },
            SignInRefusal::NoRole | SignInRefusal::NoUsername => {
                Refusal::denied(r.reason(), &r.detail())
            }
        }
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
#[utoipa::path(
    get,
    path = "/api/v1/oidc",
    tag = "OpenID Connect",
    summary = "OpenID-Connect-Konfiguration des Mandanten (Admin)",
    responses((status = 200, description = "Die Konfiguration ohne Geheimnis", body = Object))
)]
pub async fn get_config(
    State(state): State<AppState>,
    admin: Admin,
    parts: Parts,
) -> Result<Json<Value>, ApiError> {
    let (cfg, slug) = state.core.oidc_config(&admin.principal).await?;
    config_json(&state, &slug, &parts, &cfg).map(Json)
}

/// `PUT /api/v1/oidc`: sets the tenant's provider.
#[utoipa::path(
    put,
    path = "/api/v1/oidc",
    tag = "OpenID Connect",
    summary = "OpenID-Connect-Konfiguration setzen (Admin)",
    request_body = Object,
    responses((status = 200, description = "Die Konfiguration ohne Geheimnis", body = Object))
)]
pub async fn put_config(
    State(state): State<AppState>,
    admin: Admin,
    parts: Parts,
    ApiJson(body): ApiJson<ConfigInput>,
) -> Result<Json<Value>, ApiError> {
    let settings = state.oidc.check_config(body)?;
    let (cfg, slug) = state
        .core
        .put_oidc_config(&admin.principal, &settings)
        .await?;
    config_json(&state, &slug, &parts, &cfg).map(Json)
}

fn config_json(
    state: &AppState,
    slug: &str,
    parts: &Parts,
    cfg: &OidcConfig,
) -> Result<Value, ApiError> {
    let base = base_url(state, parts).map_err(|r| ApiError::Internal(r.detail))?;
    let mut out = serde_json::to_value(cfg).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["client_secret_set"] = json!(true);
    out["redirect_uri"] = json!(format!("{base}/auth/oidc/{slug}/callback"));
    out["login_url"] = json!(format!("{base}/auth/oidc/{slug}/login"));
    Ok(out)
}
