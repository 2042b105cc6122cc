//! The invitation page (`/einladung/{token}`): the person a town's first admin invitation names
//! sets a username and password and is logged in; where the town logs in through its OpenID
//! provider, the page sends them there. The link works once and for 7 days.

use akta_api::AppState;
use akta_core::{CoreError, InvitationState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;

use crate::error::WebError;
use crate::render::{page_with_status, see_other, Chrome};
use crate::session::{
    check_form_text, cookie, random_token, tokens_match, with_login_csrf, LOGIN_CSRF_COOKIE,
};

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    c: Chrome,
    token: String,
    slug: String,
    email: String,
    state: &'static str,
    oidc: bool,
    username: String,
    display_name: String,
    login_csrf: String,
    error: Option<String>,
}

/// Tokens are URL-safe base64 of 32 bytes; anything else names no invitation.
fn plausible(token: &str) -> Result<(), WebError> {
    let ok = (20..=100).contains(&token.len())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

struct Entered {
    username: String,
    display_name: String,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    status: StatusCode,
    entered: Entered,
) -> Result<Response, WebError> {
    let view = state.core.invitation(token).await?;
    let login_csrf = cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 32)
        .map(str::to_owned)
        .unwrap_or_else(random_token);
    let (state_label, status) = match view.state {
        InvitationState::Open => ("open", status),
        InvitationState::Used => ("used", StatusCode::GONE),
        InvitationState::Expired => ("expired", StatusCode::GONE),
    };
    let template = InvitationPage {
        c: Chrome {
            tenant_name: view.tenant_name,
            ..Chrome::default()
        },
        token: token.to_owned(),
        slug: view.tenant_slug,
        email: view.email,
        state: state_label,
        oidc: view.oidc,
        username: entered.username,
        display_name: entered.display_name,
        login_csrf: login_csrf.clone(),
        error: entered.error,
    };
    let mut response = page_with_status(status, &template)?;
    // The address holds a secret: never cached, never sent on as a referrer.
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(with_login_csrf(state, response, &login_csrf))
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    plausible(&token)?;
    let entered = Entered {
        username: String::new(),
        display_name: String::new(),
        error: None,
    };
    render(&state, &headers, &token, StatusCode::OK, entered).await
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

pub async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    plausible(&token)?;
    check_form_text(&body)?;
    let form: AcceptForm =
        serde_urlencoded::from_bytes(&body).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let mut entered = Entered {
        username: form.username.chars().take(100).collect(),
        display_name: form.display_name.chars().take(200).collect(),
        error: None,
    };
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !tokens_match(&form.csrf_token, expected) {
        entered.error = Some("Das Formular braucht Cookies. Bitte laden Sie die Seite neu.".into());
        return render(&state, &headers, &token, StatusCode::FORBIDDEN, entered).await;
    }
    if form.password != form.password2 {
        entered.error = Some("Die beiden Passwörter stimmen nicht überein.".into());
        return render(
            &state,
            &headers,
            &token,
            StatusCode::UNPROCESSABLE_ENTITY,
            entered,
        )
        .await;
    }
    match state
        .core
        .accept_invitation(&token, &form.username, &form.display_name, form.password)
        .await
    {
        Ok(logged_in) => {
            let cookie = akta_api::session::session_cookie(&state, &logged_in.session)?;
            let mut response = see_other("/arbeitsplatz");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, cookie);
            let clear =
                format!("{LOGIN_CSRF_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
            if let Ok(v) = HeaderValue::from_str(&clear) {
                h.append(header::SET_COOKIE, v);
            }
            Ok(response)
        }
        Err(CoreError::Validation { field, detail }) => {
            entered.error = Some(match field.as_str() {
                "username" => {
                    "Benutzername: 2–100 Zeichen aus Buchstaben, Ziffern, '.', '_', '@', '-'."
                        .into()
                }
                "display_name" => "Bitte Ihren Namen angeben (höchstens 200 Zeichen).".into(),
                "password" => "Das Passwort muss 12 bis 256 Zeichen lang sein.".into(),
                _ => format!("{field}: {detail}"),
            });
            render(
                &state,
                &headers,
                &token,
                StatusCode::UNPROCESSABLE_ENTITY,
                entered,
            )
            .await
        }
        Err(CoreError::Conflict(m)) if m.contains("username") => {
            entered.error = Some("Diesen Benutzernamen gibt es schon.".into());
            render(&state, &headers, &token, StatusCode::CONFLICT, entered).await
        }
        // Used or expired meanwhile: the page says which.
        Err(CoreError::Conflict(_)) => {
            render(&state, &headers, &token, StatusCode::GONE, entered).await
        }
        Err(e) => Err(e.into()),
    }
}
