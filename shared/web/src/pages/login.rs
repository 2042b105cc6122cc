//! Login, logout and the language switch. The tenant comes from the host name
//! (`witten.akta.example.de` → `witten`), from the path (`/t/witten/anmelden`), or, where
//! neither decides, from a field on the form.

use akta_api::AppState;
use akta_core::CoreError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::render::{page_with_status, see_other, Chrome};
use crate::session::{cookie, lang_of, random_token, tokens_match, Posted, Session};
use crate::session::{LANG_COOKIE, LOGIN_CSRF_COOKIE};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    action: String,
    tenant: String,
    tenant_fixed: bool,
    /// Where no address names the town: the towns by name (slug, name).
    tenants: Vec<(String, String)>,
    username: String,
    login_csrf: String,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

/// `GET /`: the start page when logged in, else the login page.
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    Ok(match Session::principal(&headers, &state).await? {
        Some(_) => see_other("/arbeitsplatz"),
        None => see_other("/anmelden"),
    })
}

/// The tenant a host name decides: the first label of a name with at least three labels
/// (`witten.akta.example.de`); never for IP addresses or `localhost`.
fn tenant_from_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    (labels.len() >= 3).then(|| labels[0].to_ascii_lowercase())
}

/// The tenant the host name decides, if it names an active tenant; a host such as
/// `akta.stadt.de` whose first label is no tenant leaves the choice to the form.
async fn host_tenant(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, WebError> {
    // A town's own host name (set at onboarding, e.g. akta.herdecke.de) decides first.
    if let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .filter(|h| h.len() <= 253 && h.contains('.'))
    {
        if let Some(slug) = state.core.tenant_of_host(host).await? {
            return Ok(Some(slug));
        }
    }
    match tenant_from_host(headers) {
        Some(slug) if tenant_name(state, &slug).await?.is_some() => Ok(Some(slug)),
        _ => Ok(None),
    }
}

/// Display name of an active tenant (its branding name if set), or `None`.
async fn tenant_name(state: &AppState, slug: &str) -> Result<Option<String>, WebError> {
    Ok(state.core.login_name(slug).await?)
}

struct LoginView {
    tenant: String,
    tenant_fixed: bool,
    username: String,
    message: Option<&'static str>,
    error: Option<&'static str>,
}

async fn render_login(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    view: LoginView,
) -> Result<Response, WebError> {
    let lang = lang_of(headers);
    let branding = if view.tenant_fixed {
        state.core.login_branding(&view.tenant).await?
    } else {
        None
    };
    let tenants = if view.tenant_fixed {
        Vec::new()
    } else {
        state.core.login_tenants().await?
    };
    let logo_src = match &branding {
        Some((_, true)) => Some(format!("/t/{}/wappen", view.tenant)),
        _ => None,
    };
    let has_logo = logo_src.is_some();
    let name = branding.map(|(name, _)| name);
    // One token per browser; kept while the cookie lives so two open tabs both work.
    let token = cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32)
        .map(str::to_owned)
        .unwrap_or_else(random_token);
    let template = LoginPage {
        c: Chrome {
            lang,
            tenant_name: name.unwrap_or_else(|| lang.t("app.name").to_owned()),
            has_logo,
            logo_src,
            ..Chrome::default()
        },
        tenants,
        action: "/anmelden".into(),
        tenant: view.tenant,
        tenant_fixed: view.tenant_fixed,
        username: view.username,
        login_csrf: token.clone(),
        message: view.message.map(|k| lang.t(k)),
        error: view.error.map(|k| lang.t(k)),
    };
    let response = page_with_status(status, &template)?;
    Ok(crate::session::with_login_csrf(state, response, &token))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    abgemeldet: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let host_tenant = host_tenant(&state, &headers).await?;
    let view = LoginView {
        tenant_fixed: host_tenant.is_some(),
        tenant: host_tenant.unwrap_or_default(),
        username: String::new(),
        message: q.abgemeldet.map(|_| "login.logged_out"),
        error: None,
    };
    render_login(&state, &headers, StatusCode::OK, view).await
}

/// `GET /t/{tenant}/anmelden`: the login page of one tenant (bookmarkable per town).
pub async fn tenant_login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    // A text that cannot be a tenant's name has no login page (whether a tenant of a valid
    // name exists is not told here).
    if akta_domain::TenantSlug::parse(&slug).is_err() {
        return Err(WebError::NotFound);
    }
    // Where the host name decides the tenant, no other tenant's login page is shown there
    // (the login would go to the host's tenant).
    if host_tenant(&state, &headers)
        .await?
        .is_some_and(|host| host != slug)
    {
        return Err(WebError::NotFound);
    }
    let view = LoginView {
        tenant: slug.chars().take(100).collect(),
        tenant_fixed: true,
        username: String::new(),
        message: None,
        error: None,
    };
    render_login(&state, &headers, StatusCode::OK, view).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    tenant: String,
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
    let form: LoginForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let host_tenant = host_tenant(&state, &headers).await?;
    let mut view = LoginView {
        tenant: host_tenant
            .clone()
            .unwrap_or_else(|| form.tenant.trim().to_owned()),
        tenant_fixed: false,
        username: form.username.chars().take(200).collect(),
        message: None,
        error: None,
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !tokens_match(&form.csrf_token, expected) {
        view.error = Some("login.cookie");
        return render_login(&state, &headers, StatusCode::FORBIDDEN, view).await;
    }
    if view.tenant.is_empty() || form.username.trim().is_empty() || form.password.is_empty() {
        view.tenant_fixed = host_tenant.is_some();
        view.error = Some("login.required");
        return render_login(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, view).await;
    }
    match state
        .core
        .password_login(
            &view.tenant,
            &form.username,
            form.password,
            client.and_then(|c| c.ip),
        )
        .await
    {
        Ok(logged_in) => {
            let cookie = akta_api::session::session_cookie(&state, &logged_in.session)?;
            let mut response = see_other("/arbeitsplatz");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, cookie);
            // The user's own language setting follows them to every browser.
            if let Some(v) = logged_in
                .language
                .as_deref()
                .and_then(Lang::parse)
                .and_then(language_cookie)
            {
                h.append(header::SET_COOKIE, v);
            }
            let clear =
                format!("{LOGIN_CSRF_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
            if let Ok(v) = HeaderValue::from_str(&clear) {
                h.append(header::SET_COOKIE, v);
            }
            Ok(response)
        }
        Err(CoreError::LoginFailed) => {
            view.tenant_fixed = host_tenant.is_some();
            view.error = Some("login.failed");
            render_login(&state, &headers, StatusCode::UNAUTHORIZED, view).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    posted: Posted<Empty>,
) -> Result<Response, WebError> {
    state.core.logout(&posted.session.principal).await?;
    let mut response = see_other("/anmelden?abgemeldet=1");
    response.headers_mut().insert(
        header::SET_COOKIE,
        akta_api::session::clearing_cookie(&state)?,
    );
    Ok(response)
}

/// `GET /sprache/{de|en}`: remembers the UI language in this browser (before login: a
/// preference, no secret; logged-in users save it to their account with `POST /sprache`).
pub async fn set_language(Path(code): Path<String>) -> Result<Response, WebError> {
    let lang = Lang::parse(&code).ok_or(WebError::NotFound)?;
    let mut response = see_other("/");
    if let Some(v) = language_cookie(lang) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
}

/// `POST /sprache`: the logged-in user's language, saved to their account.
pub async fn save_language(
    State(state): State<AppState>,
    posted: Posted<LanguageForm>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&posted.form.lang)
        .ok_or_else(|| WebError::BadRequest("unknown language".into()))?;
    state
        .core
        .set_user_language(&posted.session.principal, lang.code())
        .await?;
    let mut response = see_other("/arbeitsplatz");
    if let Some(v) = language_cookie(lang) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

fn language_cookie(lang: Lang) -> Option<HeaderValue> {
    let value = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.code()
    );
    HeaderValue::from_str(&value).ok()
}

/// `GET /t/{tenant}/wappen`: an active tenant's coat of arms for its login page.
pub async fn tenant_logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    if akta_domain::TenantSlug::parse(&slug).is_err() {
        return Err(WebError::NotFound);
    }
    let (bytes, media_type) = state
        .core
        .login_logo(&slug)
        .await?
        .ok_or(WebError::NotFound)?;
    crate::pages::admin::logo_response(bytes, &media_type, "public, max-age=300")
}
