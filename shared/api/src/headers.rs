//! Security headers on every response. Records are personal data: nothing is cached by
//! intermediaries, framed, sniffed or leaked through referrers.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = req
        .extensions()
        .get::<crate::peer::ClientInfo>()
        .is_some_and(|c| c.https);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if https {
        mark_cookies_secure(h);
    }
    if state.settings.hsts || https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Cookies set on an HTTPS request (directly or through a trusted proxy) never travel over
/// plain HTTP again, whatever the handler that set them configured.
fn mark_cookies_secure(headers: &mut axum::http::HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| match v.to_str() {
            Ok(text) if !text.to_ascii_lowercase().contains("; secure") => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or_else(|_| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_on_https_become_secure_once() {
        let mut h = axum::http::HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("a=1; HttpOnly"),
        );
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        mark_cookies_secure(&mut h);
        let all: Vec<_> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        assert_eq!(all, ["a=1; HttpOnly; Secure", "b=2; Secure"]);
    }
}
