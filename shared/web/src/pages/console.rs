//! The operator console under `/betrieb` (German only: it is the hosting city's IT's tool).
//! Operators log in with their own accounts and sessions (cookie `akta_betrieb`, valid only
//! under `/betrieb`), never with a tenant's. Every action calls the core operation the REST
//! operator API calls: tenants created (onboarded), suspended, resumed, deleted, quotas set,
//! Aktenplan templates published.

use akta_api::AppState;
use akta_core::{AuditStatus, ConsoleSession, CoreError, Onboarding, PlanSource, PlanTemplate};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::WebError;
use crate::render::{date_time, page, page_with_status, see_other, size, Chrome};
use crate::session::{
    check_form_text, cookie, multipart_parts_checked, random_token, tokens_match, with_login_csrf,
    LOGIN_CSRF_COOKIE,
};

/// The console's session cookie; sent only to `/betrieb`.
pub const CONSOLE_COOKIE: &str = "akta_betrieb";
const CONSOLE_NAME: &str = "Akta – Betrieb";
/// A plan file (CSV or xdomea 0301) at onboarding.
const PLAN_MAX: usize = 4 * 1024 * 1024;

/// A logged-in operator.
pub struct Operator {
    pub session: ConsoleSession,
    pub chrome: Chrome,
}

impl Operator {
    fn name(&self) -> String {
        self.session.principal.actor()
    }

    fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if tokens_match(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token = cookie(&parts.headers, CONSOLE_COOKIE)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(WebError::ConsoleLoginRequired)?;
        let session = state
            .core
            .console_session(token)
            .await?
            .ok_or(WebError::ConsoleLoginRequired)?;
        let name = match &session.principal {
            akta_domain::Principal::Operator { name, .. } => name.clone(),
            _ => return Err(WebError::ConsoleLoginRequired),
        };
        let chrome = Chrome {
            user_name: Some(name),
            tenant_name: CONSOLE_NAME.into(),
            csrf: session.csrf_token.clone(),
            console: true,
            ..Chrome::default()
        };
        Ok(Operator { session, chrome })
    }
}

/// An url-encoded form posted by an operator, its CSRF token checked.
pub struct ConsolePosted<T> {
    pub op: Operator,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for ConsolePosted<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let op = Operator::from_request_parts(&mut parts, state).await?;
        let form = crate::session::checked_form(Request::from_parts(parts, body), state, |sent| {
            op.check_csrf(sent)
        })
        .await?;
        Ok(ConsolePosted { op, form })
    }
}

fn console_chrome() -> Chrome {
    Chrome {
        tenant_name: CONSOLE_NAME.into(),
        console: true,
        ..Chrome::default()
    }
}

// --- login -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
    login_csrf: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    /// Offer the login through the operator's OpenID provider.
    oidc: bool,
}

fn login_csrf_of(headers: &HeaderMap) -> String {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32)
        .map(str::to_owned)
        .unwrap_or_else(random_token)
}

fn render_login(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let token = login_csrf_of(headers);
    let template = LoginPage {
        c: console_chrome(),
        username,
        login_csrf: token.clone(),
        error,
        notice,
        oidc: state.settings.operator_oidc.is_some(),
    };
    Ok(with_login_csrf(
        state,
        page_with_status(status, &template)?,
        &token,
    ))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    abgemeldet: Option<String>,
}

/// `GET /betrieb`: the tenants, or the login.
pub async fn root() -> Response {
    see_other("/betrieb/mandanten")
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Result<Response, WebError> {
    let notice = q.abgemeldet.map(|_| "Sie sind abgemeldet.");
    render_login(
        &state,
        &headers,
        StatusCode::OK,
        String::new(),
        None,
        notice,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<akta_api::peer::ClientInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    check_form_text(&body)?;
    let form: LoginForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let username: String = form.username.chars().take(100).collect();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !tokens_match(&form.csrf_token, expected) {
        let error = Some("Die Anmeldung braucht Cookies. Bitte laden Sie die Seite neu.");
        return render_login(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            username,
            error,
            None,
        );
    }
    if username.trim().is_empty() || form.password.is_empty() {
        let error = Some("Bitte Benutzername und Passwort angeben.");
        return render_login(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            username,
            error,
            None,
        );
    }
    match state
        .core
        .operator_login(&username, form.password, client.and_then(|c| c.ip))
        .await
    {
        Ok(session) => Ok(logged_in(&state, &session.token, LOGIN_CSRF_COOKIE, "/")),
        Err(CoreError::LoginFailed) => render_login(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            username,
            Some("Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch."),
            None,
        ),
        Err(e) => Err(e.into()),
    }
}

/// The answer to a successful console login: the session cookie `akta_betrieb`, the
/// login's helper cookie (`clear`, at `clear_path`) cleared, on to the tenants.
fn logged_in(state: &AppState, token: &str, clear: &str, clear_path: &str) -> Response {
    let mut response = see_other("/betrieb/mandanten");
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{CONSOLE_COOKIE}={token}; Path=/betrieb; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.core.settings().session_lifetime.as_secs()
    );
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.append(header::SET_COOKIE, v);
    }
    let clear = format!("{clear}=; Path={clear_path}; HttpOnly; SameSite=Lax; Max-Age=0{secure}");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        h.append(header::SET_COOKIE, v);
    }
    response
}

// --- login through the operator's OpenID provider ---------------------------------------
//
// The protocol is the tenants' (`akta_oidc`: discovery, state, nonce, PKCE, code exchange, ID
// token validation); only the provider settings (`ApiSettings::operator_oidc`), the pending
// logins' table and who may log in (an operator linked to the subject) are the console's.

/// Binds a console login's `state` to the browser that started it (login CSRF), like the
/// tenants' `akta_oidc_state`. Lax: it must come along on the provider's redirect back.
const OIDC_STATE_COOKIE: &str = "akta_betrieb_oidc";
const OIDC_PATH: &str = "/betrieb/oidc/";

const OIDC_PROVIDER_FAILED: &str =
    "Der Anmeldedienst ist nicht erreichbar oder nicht richtig eingerichtet. Bitte versuchen Sie es später erneut.";
const OIDC_INVALID: &str =
    "Diese Anmeldung ist ungültig oder abgelaufen. Bitte melden Sie sich erneut an.";
const OIDC_REFUSED: &str =
    "Der Anmeldedienst hat die Anmeldung abgelehnt oder sie wurde abgebrochen.";
const OIDC_UNLINKED: &str =
    "Ihr Konto beim Anmeldedienst ist mit keinem Zugang für den Betrieb verknüpft. \
     Ein Betreiber-Konto muss dafür eingerichtet sein (akta operator create --oidc-subject …).";

/// `GET /betrieb/oidc/anmelden`: sends the browser to the operator's provider.
pub async fn oidc_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(provider) = &state.settings.operator_oidc else {
        return Err(WebError::NotFound);
    };
    let cfg = provider.provider_config();
    let redirect_uri = format!("{}/betrieb/oidc/rueckkehr", base_url(&state, &headers));
    let started = match state.oidc.start(&cfg, &redirect_uri).await {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(error = %e, "console OIDC login could not start");
            return oidc_refused(
                &state,
                &headers,
                StatusCode::BAD_GATEWAY,
                OIDC_PROVIDER_FAILED,
            );
        }
    };
    state
        .core
        .store_operator_oidc_login(&started.state, &started.pending, akta_oidc::LOGIN_TTL)
        .await?;
    let mut response = StatusCode::FOUND.into_response();
    let h = response.headers_mut();
    let location = HeaderValue::from_str(&started.url)
        .map_err(|e| WebError::Internal(format!("provider URL: {e}")))?;
    h.insert(header::LOCATION, location);
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let bind = format!(
        "{OIDC_STATE_COOKIE}={}; Path={OIDC_PATH}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        started.state,
        akta_oidc::LOGIN_TTL.as_secs()
    );
    if let Ok(v) = HeaderValue::from_str(&bind) {
        h.append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /betrieb/oidc/rueckkehr?code&state`: the provider's answer. A validated subject that
/// an operator account is linked to gets a console session; anyone else the login page with
/// the reason. Nobody is created here.
pub async fn oidc_return(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let Some(provider) = &state.settings.operator_oidc else {
        return Err(WebError::NotFound);
    };
    let cfg = provider.provider_config();
    let invalid = |detail: String| {
        tracing::info!(%detail, "console OIDC login refused");
        oidc_refused(&state, &headers, StatusCode::UNAUTHORIZED, OIDC_INVALID)
    };
    let callback = match akta_oidc::Callback::from_query(uri.query().unwrap_or("")) {
        Ok(callback) => callback,
        Err(e) => return invalid(e.to_string()),
    };
    let sent = match callback.state(cookie(&headers, OIDC_STATE_COOKIE)) {
        Ok(sent) => sent,
        Err(e) => return invalid(e.to_string()),
    };
    // Used up at once, even if everything after this fails.
    let Some(pending) = state.core.take_operator_oidc_login(sent).await? else {
        return invalid("unknown, used or expired state".into());
    };
    let identity = match state.oidc.finish(&cfg, &pending, &callback).await {
        Ok(identity) => identity,
        Err(akta_oidc::OidcError::LoginRefused(e)) => {
            tracing::info!(error = %e, "console OIDC login refused by the provider");
            return oidc_refused(&state, &headers, StatusCode::UNAUTHORIZED, OIDC_REFUSED);
        }
        Err(e) => {
            tracing::warn!(error = %e, "console OIDC login failed");
            return oidc_refused(
                &state,
                &headers,
                StatusCode::BAD_GATEWAY,
                OIDC_PROVIDER_FAILED,
            );
        }
    };
    match state
        .core
        .operator_oidc_login(&cfg.issuer, &identity.subject)
        .await?
    {
        Some(session) => Ok(logged_in(
            &state,
            &session.token,
            OIDC_STATE_COOKIE,
            OIDC_PATH,
        )),
        None => oidc_refused(&state, &headers, StatusCode::FORBIDDEN, OIDC_UNLINKED),
    }
}

/// The console login page with why the provider login did not work.
fn oidc_refused(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    message: &'static str,
) -> Result<Response, WebError> {
    render_login(state, headers, status, String::new(), Some(message), None)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    posted: ConsolePosted<Empty>,
) -> Result<Response, WebError> {
    state.core.console_logout(&posted.op.session).await?;
    let mut response = see_other("/betrieb/anmelden?abgemeldet=1");
    let clear = format!("{CONSOLE_COOKIE}=; Path=/betrieb; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

// --- tenants ---------------------------------------------------------------------------

struct TenantLine {
    slug: String,
    name: String,
    status: &'static str,
    active: bool,
    users: i64,
    documents: i64,
    storage: String,
    last_activity: String,
    host_name: String,
}

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "aktiv",
        "suspended" => "gesperrt",
        "deleted" => "gelöscht",
        _ => "unbekannt",
    }
}

fn line_of(t: akta_core::ConsoleTenant) -> TenantLine {
    TenantLine {
        status: status_label(&t.tenant.status),
        active: t.tenant.status == "active",
        slug: t.tenant.slug,
        name: t.tenant.display_name,
        users: t.activity.users,
        documents: t.usage.as_ref().map_or(0, |u| u.documents),
        storage: size(t.usage.as_ref().map_or(0, |u| u.storage_bytes)),
        last_activity: t
            .activity
            .last_activity
            .map_or_else(|| "–".to_owned(), date_time),
        host_name: t.host_name.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "console_tenants.html")]
struct TenantsPage {
    c: Chrome,
    tenants: Vec<TenantLine>,
}

pub async fn tenants(State(state): State<AppState>, op: Operator) -> Result<Response, WebError> {
    let tenants = state
        .core
        .console_tenants()
        .await?
        .into_iter()
        .map(line_of)
        .collect();
    page(&TenantsPage {
        c: op.chrome.with_nav("tenants"),
        tenants,
    })
}

struct GrantLine {
    granted_by: String,
    reason: String,
    created: String,
    expires: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "console_tenant.html")]
struct TenantPage {
    c: Chrome,
    t: TenantLine,
    max_storage_bytes: String,
    max_documents: String,
    requests_per_minute: String,
    grants: Vec<GrantLine>,
    audit: AuditStatus,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    ok: Option<String>,
}

/// The tenant's page again with what was refused (422).
async fn refused(
    state: &AppState,
    op: Operator,
    slug: &str,
    error: String,
) -> Result<Response, WebError> {
    render_tenant(
        state,
        op,
        slug,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        Some(error),
    )
    .await
}

async fn render_tenant(
    state: &AppState,
    op: Operator,
    slug: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let detail = state.core.console_tenant(slug).await?;
    let usage = detail.overview.usage.clone();
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    let grants = detail
        .support_grants
        .into_iter()
        .map(|g| GrantLine {
            state: if g.revoked_at.is_some() {
                "widerrufen"
            } else if g.expires_at <= now {
                "abgelaufen"
            } else {
                "gültig"
            },
            granted_by: g.granted_by,
            reason: g.reason,
            created: date_time(g.created_at),
            expires: date_time(g.expires_at),
        })
        .collect();
    let template = TenantPage {
        c: op.chrome.with_nav("tenants"),
        t: line_of(detail.overview),
        max_storage_bytes: opt(usage.as_ref().and_then(|u| u.max_storage_bytes)),
        max_documents: opt(usage.as_ref().and_then(|u| u.max_documents)),
        requests_per_minute: opt(usage
            .as_ref()
            .and_then(|u| u.requests_per_minute)
            .map(i64::from)),
        grants,
        audit: detail.audit,
        notice,
        error,
    };
    page_with_status(status, &template)
}

pub async fn tenant(
    State(state): State<AppState>,
    op: Operator,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = q.ok.map(|what| {
        match what.as_str() {
            "gesperrt" => "Der Mandant ist gesperrt.",
            "entsperrt" => "Der Mandant ist wieder aktiv.",
            "kontingent" => "Das Kontingent ist gespeichert.",
            _ => "Gespeichert.",
        }
        .to_owned()
    });
    render_tenant(&state, op, &slug, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    action: String,
}

/// `POST /betrieb/mandanten/{slug}/status`: `action=sperren` or `action=entsperren`.
pub async fn set_status(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    posted: ConsolePosted<StatusForm>,
) -> Result<Response, WebError> {
    let active = match posted.form.action.as_str() {
        "sperren" => false,
        "entsperren" => true,
        _ => return Err(WebError::BadRequest("action".into())),
    };
    state
        .core
        .set_tenant_active(&slug, active, &posted.op.name())
        .await?;
    let ok = if active { "entsperrt" } else { "gesperrt" };
    Ok(see_other(&format!("/betrieb/mandanten/{slug}?ok={ok}")))
}

#[derive(Deserialize)]
pub struct QuotaForm {
    #[serde(default)]
    max_storage_bytes: String,
    #[serde(default)]
    max_documents: String,
    #[serde(default)]
    requests_per_minute: String,
}

/// `POST /betrieb/mandanten/{slug}/kontingent`: empty fields are unlimited (the default).
pub async fn set_quota(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    posted: ConsolePosted<QuotaForm>,
) -> Result<Response, WebError> {
    fn number<T: std::str::FromStr>(s: &str) -> Result<Option<T>, ()> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| ())
        }
    }
    let f = &posted.form;
    let parsed = (
        number::<i64>(&f.max_storage_bytes),
        number::<i64>(&f.max_documents),
        number::<i32>(&f.requests_per_minute),
    );
    let quota = match parsed {
        (Ok(max_storage_bytes), Ok(max_documents), Ok(requests_per_minute)) => {
            akta_core::model::Quota {
                max_storage_bytes,
                max_documents,
                requests_per_minute,
            }
        }
        _ => {
            let error = "Kontingente sind ganze Zahlen; leer heißt unbegrenzt.".to_owned();
            return refused(&state, posted.op, &slug, error).await;
        }
    };
    match state.core.set_quota(&slug, quota, &posted.op.name()).await {
        Ok(()) => Ok(see_other(&format!(
            "/betrieb/mandanten/{slug}?ok=kontingent"
        ))),
        Err(CoreError::Validation { detail, .. }) => {
            let error = format!("Kontingent nicht gespeichert: {detail}");
            refused(&state, posted.op, &slug, error).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /betrieb/mandanten/{slug}/loeschen`: only with the slug typed as `confirm`.
pub async fn delete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    posted: ConsolePosted<DeleteForm>,
) -> Result<Response, WebError> {
    match state
        .core
        .delete_tenant_confirmed(&slug, &posted.form.confirm, &posted.op.name())
        .await
    {
        Ok(_) => Ok(see_other("/betrieb/mandanten")),
        Err(CoreError::Validation { .. }) => {
            let error = format!(
                "Nicht gelöscht: Zur Bestätigung den Kurznamen „{slug}“ genau so eingeben."
            );
            refused(&state, posted.op, &slug, error).await
        }
        Err(e) => Err(e.into()),
    }
}

// --- onboarding ------------------------------------------------------------------------

#[derive(Default)]
struct OnboardValues {
    slug: String,
    name: String,
    plan: String,
    header_name: String,
    accent_color: String,
    host_name: String,
    admin_email: String,
}

#[derive(Template)]
#[template(path = "console_new.html")]
struct NewTenantPage {
    c: Chrome,
    v: OnboardValues,
    templates: Vec<PlanTemplate>,
    /// (field, message)
    errors: Vec<(&'static str, String)>,
}

impl NewTenantPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub async fn new_form(State(state): State<AppState>, op: Operator) -> Result<Response, WebError> {
    page(&NewTenantPage {
        c: op.chrome.with_nav("onboard"),
        v: OnboardValues {
            plan: akta_core::plan_templates::BUILTIN_TEMPLATE.into(),
            ..OnboardValues::default()
        },
        templates: state.core.plan_templates().await?,
        errors: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "console_created.html")]
struct CreatedPage {
    c: Chrome,
    slug: String,
    name: String,
    admin_token: String,
    invitation_link: Option<String>,
    plan_units: usize,
}

/// The address invitation links start with: the configured public URL, else this request's.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// German words for the fields the core names in a refusal.
fn field_message(field: &str, detail: &str) -> (&'static str, String) {
    match field {
        "slug" => (
            "slug",
            "Kurzname: 2–63 Kleinbuchstaben, Ziffern oder Bindestriche.".into(),
        ),
        "name" => (
            "name",
            "Bitte einen Namen angeben (höchstens 200 Zeichen).".into(),
        ),
        "header_name" => (
            "header_name",
            "Höchstens 120 Zeichen, ohne Steuerzeichen.".into(),
        ),
        "accent_color" => ("accent_color", "Eine Farbe wie #005a9c.".into()),
        "host_name" => ("host_name", "Ein Hostname wie akta.herdecke.de.".into()),
        "admin_email" => ("admin_email", "Eine E-Mail-Adresse.".into()),
        "plan" | "message" | "code" | "title" => {
            ("plan", format!("Der Aktenplan ist nicht gültig: {detail}"))
        }
        _ => ("form", format!("{field}: {detail}")),
    }
}

pub async fn create(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let parts = multipart_parts_checked(&op.session.csrf_token, multipart, PLAN_MAX + 1).await?;
    let mut v = OnboardValues::default();
    let (mut plan_file, mut logo) = (Vec::new(), Vec::new());
    for (name, bytes) in parts {
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "slug" => v.slug = text(),
            "name" => v.name = text(),
            "plan" => v.plan = text(),
            "header_name" => v.header_name = text(),
            "accent_color" => v.accent_color = text(),
            "host_name" => v.host_name = text(),
            "admin_email" => v.admin_email = text(),
            "plan_file" => plan_file = bytes,
            "logo" => logo = bytes,
            _ => return Err(WebError::BadRequest(format!("unknown part {name}"))),
        }
    }
    for (field, value) in [
        ("slug", &v.slug),
        ("name", &v.name),
        ("plan", &v.plan),
        ("header_name", &v.header_name),
        ("accent_color", &v.accent_color),
        ("host_name", &v.host_name),
        ("admin_email", &v.admin_email),
    ] {
        akta_domain::check_input(field, value)
            .map_err(|e| WebError::BadRequest(format!("{}: {}", e.field, e.message)))?;
    }
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let plan = match v.plan.as_str() {
        "" => PlanSource::None,
        "datei" if plan_file.is_empty() => {
            errors.push((
                "plan",
                "Bitte eine Datei (CSV oder xdomea 0301) wählen.".into(),
            ));
            PlanSource::None
        }
        "datei" if plan_file.len() > PLAN_MAX => {
            errors.push(("plan", "Die Datei ist zu groß (höchstens 4 MiB).".into()));
            PlanSource::None
        }
        "datei" => PlanSource::from_file(plan_file),
        name => PlanSource::Template(name.to_owned()),
    };
    let logo = if logo.is_empty() {
        None
    } else {
        match crate::pages::admin::image_type(&logo)
            .filter(|_| logo.len() <= crate::pages::admin::LOGO_MAX)
        {
            Some(media_type) => Some((logo, media_type.to_owned())),
            None => {
                errors.push((
                    "logo",
                    "Ein Wappen als PNG, JPEG, GIF, WebP oder SVG, höchstens 256 KiB.".into(),
                ));
                None
            }
        }
    };
    if !v.accent_color.is_empty() {
        match crate::pages::admin::contrast_with_white(&v.accent_color.to_ascii_lowercase()) {
            None => errors.push(("accent_color", "Eine Farbe wie #005a9c.".into())),
            Some(c) if c < 4.5 => errors.push((
                "accent_color",
                "Zu hell: Weiße Schrift braucht darauf einen Kontrast von 4,5:1.".into(),
            )),
            Some(_) => {}
        }
    }
    let templates = state.core.plan_templates().await?;
    let again = |v: OnboardValues, errors, op: Operator, templates| -> Result<Response, WebError> {
        page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewTenantPage {
                c: op.chrome.with_nav("onboard"),
                v,
                templates,
                errors,
            },
        )
    };
    if !errors.is_empty() {
        return again(v, errors, op, templates);
    }
    let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let onboarding = Onboarding {
        slug: v.slug.clone(),
        name: v.name.clone(),
        reference_format: None,
        plan,
        header_name: opt(&v.header_name),
        accent_color: opt(&v.accent_color),
        logo,
        host_name: opt(&v.host_name),
        admin_email: opt(&v.admin_email),
    };
    match state.core.onboard_tenant(onboarding, &op.name()).await {
        Ok(done) => {
            let base = base_url(&state, &headers);
            let template = CreatedPage {
                slug: done.tenant.slug,
                name: done.tenant.display_name,
                admin_token: done.admin_token,
                invitation_link: done.invitation.map(|t| format!("{base}/einladung/{t}")),
                plan_units: done
                    .plan
                    .map_or(0, |p| p.created.len() + p.updated.len() + p.unchanged),
                c: op.chrome.with_nav("onboard"),
            };
            let mut response = page_with_status(StatusCode::CREATED, &template)?;
            // The page shows secrets once: never from a cache.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(CoreError::Validation { field, detail }) => {
            again(v, vec![field_message(&field, &detail)], op, templates)
        }
        Err(CoreError::Conflict(m)) => {
            let field = if m.contains("slug") {
                ("slug", "Diesen Kurznamen hat schon ein Mandant.".to_owned())
            } else if m.contains("host name") {
                (
                    "host_name",
                    "Diesen Hostnamen hat schon ein Mandant.".to_owned(),
                )
            } else {
                ("form", m)
            };
            again(v, vec![field], op, templates)
        }
        Err(e) => Err(e.into()),
    }
}

// --- plan templates --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console_plans.html")]
struct PlansPage {
    c: Chrome,
    templates: Vec<PlanTemplate>,
    name: String,
    title: String,
    error: Option<String>,
    published: bool,
}

#[derive(Deserialize)]
pub struct PublishedQuery {
    veroeffentlicht: Option<String>,
}

pub async fn plans(
    State(state): State<AppState>,
    op: Operator,
    axum::extract::Query(q): axum::extract::Query<PublishedQuery>,
) -> Result<Response, WebError> {
    page(&PlansPage {
        c: op.chrome.with_nav("plans"),
        templates: state.core.plan_templates().await?,
        name: String::new(),
        title: String::new(),
        error: None,
        published: q.veroeffentlicht.is_some(),
    })
}

/// `POST /betrieb/aktenplaene`: publishes a CSV (multipart `name`, `title`, `csv`; without a
/// file, the built-in template under the new name).
pub async fn publish(
    State(state): State<AppState>,
    op: Operator,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let parts = multipart_parts_checked(
        &op.session.csrf_token,
        multipart,
        akta_core::plan_templates::TEMPLATE_MAX_BYTES + 1,
    )
    .await?;
    let (mut name, mut title, mut csv) = (String::new(), String::new(), Vec::new());
    for (part, bytes) in parts {
        match part.as_str() {
            "name" => name = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "title" => title = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "csv" => csv = bytes,
            _ => return Err(WebError::BadRequest(format!("unknown part {part}"))),
        }
    }
    let csv = if csv.is_empty() {
        akta_core::plan_templates::builtin_csv().to_owned()
    } else {
        match String::from_utf8(csv) {
            Ok(text) => text,
            Err(_) => {
                return publish_again(&state, op, name, title, "Die Datei ist kein UTF-8.".into())
                    .await
            }
        }
    };
    match state
        .core
        .publish_plan_template(&name, &title, &csv, &op.name())
        .await
    {
        Ok(_) => Ok(see_other("/betrieb/aktenplaene?veroeffentlicht=1")),
        Err(CoreError::Validation { field, detail }) => {
            let message = match field.as_str() {
                "name" => "Name: 1–63 Kleinbuchstaben, Ziffern oder Bindestriche.".to_owned(),
                "title" => "Bitte einen Titel angeben (höchstens 200 Zeichen).".to_owned(),
                _ => format!("Der Aktenplan ist nicht gültig: {detail}"),
            };
            publish_again(&state, op, name, title, message).await
        }
        Err(CoreError::Conflict(m)) => publish_again(&state, op, name, title, m).await,
        Err(e) => Err(e.into()),
    }
}

async fn publish_again(
    state: &AppState,
    op: Operator,
    name: String,
    title: String,
    error: String,
) -> Result<Response, WebError> {
    page_with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &PlansPage {
            c: op.chrome.with_nav("plans"),
            templates: state.core.plan_templates().await?,
            name,
            title,
            error: Some(error),
            published: false,
        },
    )
}

// --- usage for cost sharing (issue 13, part 3) ---

struct UsageLine {
    slug: String,
    name: String,
    documents: i64,
    versions: i64,
    added: String,
    logical: String,
    stored: String,
    active_users: i64,
    api_requests: i64,
    search_requests: i64,
    extraction: String,
}

#[derive(Template)]
#[template(path = "console_usage.html")]
struct UsagePage {
    c: Chrome,
    month: String,
    rows: Vec<UsageLine>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    monat: Option<String>,
}

fn month_of(q: &MonthQuery) -> Result<time::Date, String> {
    match q.monat.as_deref().filter(|m| !m.is_empty()) {
        Some(raw) => akta_core::usage::parse_month(raw)
            .map_err(|_| "Der Monat ist ungültig (JJJJ-MM); gezeigt wird der laufende.".to_owned()),
        None => Ok(akta_core::usage::this_month()),
    }
}

fn month_label(month: time::Date) -> String {
    format!("{:04}-{:02}", month.year(), u8::from(month.month()))
}

/// `GET /betrieb/nutzung?monat=JJJJ-MM`: every tenant's usage in the month, the same figures
/// as `GET /api/v1/usage`.
pub async fn usage(
    State(state): State<AppState>,
    op: Operator,
    axum::extract::Query(q): axum::extract::Query<MonthQuery>,
) -> Result<Response, WebError> {
    let (month, error) = match month_of(&q) {
        Ok(m) => (m, None),
        Err(e) => (akta_core::usage::this_month(), Some(e)),
    };
    let rows = state
        .core
        .usage_report(month)
        .await?
        .into_iter()
        .map(|r| UsageLine {
            slug: r.slug,
            name: r.display_name,
            documents: r.documents,
            versions: r.versions,
            added: crate::render::size(r.bytes_added),
            logical: crate::render::size(r.logical_bytes),
            stored: crate::render::size(r.stored_bytes),
            active_users: r.active_users,
            api_requests: r.api_requests,
            search_requests: r.search_requests,
            extraction: format!("{:.1} s", r.extraction_ms as f64 / 1000.0),
        })
        .collect();
    page(&UsagePage {
        c: op.chrome.with_nav("usage"),
        month: month_label(month),
        rows,
        error,
    })
}

/// `GET /betrieb/nutzung.csv?monat=JJJJ-MM`: the same as CSV (as `?format=csv` over REST).
pub async fn usage_csv(
    State(state): State<AppState>,
    _: Operator,
    axum::extract::Query(q): axum::extract::Query<MonthQuery>,
) -> Result<Response, WebError> {
    use axum::response::IntoResponse;
    let month = month_of(&q).map_err(WebError::BadRequest)?;
    let rows = state.core.usage_report(month).await?;
    let body = akta_core::usage::usage_csv(month, &rows);
    let disposition = format!(
        "attachment; filename=\"akta-nutzung-{}.csv\"",
        month_label(month)
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
