//! Tenant branding: name, coat of arms and accent colour in the header, set by the tenant
//! admin. The colour reaches pages through a small stylesheet (no inline styles under the
//! Content-Security-Policy) and must keep white header text readable (WCAG AA, 4.5:1).

use akta_api::AppState;
use akta_core::model::LogoChange;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::WebError;
use crate::forms::Errors;
use crate::render::{page_with_status, see_other, Chrome};
use crate::session::Session;

pub(crate) const LOGO_MAX: usize = 256 * 1024;

#[derive(Template)]
#[template(path = "admin.html")]
struct BrandingPage {
    c: Chrome,
    header_name: String,
    accent_color: String,
    errors: Errors,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    gespeichert: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    session.require_admin()?;
    let branding = state.core.branding(&session.principal).await?;
    let template = BrandingPage {
        header_name: branding.header_name.unwrap_or_default(),
        accent_color: branding.accent_color.unwrap_or_default(),
        errors: Errors::new(session.lang()),
        saved: q.gespeichert.is_some(),
        c: session.chrome.with_nav("admin"),
    };
    page_with_status(StatusCode::OK, &template)
}

/// WCAG relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> Option<f64> {
    let hex = hex.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |i: usize| -> Option<f64> {
        let v = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// Contrast of white text on `hex`.
pub(crate) fn contrast_with_white(hex: &str) -> Option<f64> {
    luminance(hex).map(|l| 1.05 / (l + 0.05))
}

/// PNG, JPEG, GIF or WebP by their magic numbers, or SVG (which can carry script: it is only
/// ever served as an image under `Content-Security-Policy: sandbox`, see [`logo_response`],
/// and shown through `<img>`, where no script of it runs).
pub(crate) fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if is_svg(bytes) {
        return (!svg_is_active(bytes)).then_some("image/svg+xml");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An SVG document: UTF-8 text starting with markup whose first element is `<svg`.
fn is_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    // The XML declaration, comments and a doctype may come first.
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            match after.find("?>") {
                Some(end) => rest = after[end + 2..].trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = after[end + 3..].trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!DOCTYPE") {
            match after.find('>') {
                Some(end) => rest = after[end + 1..].trim_start(),
                None => return false,
            }
        } else {
            return rest.starts_with("<svg")
                && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>');
        }
    }
}

/// An SVG that could do more than draw (script, event handlers, `javascript:` links, embedded
/// HTML, entity tricks) is refused outright, though it would be served sandboxed anyway: a
/// coat of arms has no need for any of it.
fn svg_is_active(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    let handler = text.match_indices("on").any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let rest = &text[i + 2..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        before.is_some_and(|c| c.is_whitespace() || c == '/' || c == '"' || c == '\'')
            && name_len > 0
            && rest[name_len..].trim_start().starts_with('=')
    });
    handler
        || [
            "<script",
            "javascript:",
            "<foreignobject",
            "<!entity",
            "<iframe",
            "<embed",
            "<object",
        ]
        .iter()
        .any(|needle| text.contains(needle))
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    session.require_admin()?;
    let (mut header_name, mut accent, mut remove, mut logo) =
        (String::new(), String::new(), false, Vec::new());
    for (name, bytes) in crate::session::multipart_parts(&session, multipart, LOGO_MAX + 1).await? {
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "header_name" => header_name = text(),
            "accent_color" => accent = text(),
            "remove_logo" => remove = true,
            "logo" => logo = bytes,
            _ => return Err(WebError::BadRequest(format!("unknown part {name}"))),
        }
    }
    let mut errors = Errors::new(session.lang());
    let name = errors.text("header_name", &header_name, 120, false);
    let accent_value = accent.trim().to_ascii_lowercase();
    let accent_ok = if accent_value.is_empty() {
        true
    } else {
        match contrast_with_white(&accent_value) {
            None => {
                errors.add("accent_color", "field.invalid");
                false
            }
            Some(c) if c < 4.5 => {
                errors.add("accent_color", "admin.accent.contrast");
                false
            }
            Some(_) => true,
        }
    };
    let logo_change = if !logo.is_empty() {
        match image_type(&logo).filter(|_| logo.len() <= LOGO_MAX) {
            Some(media_type) => LogoChange::Set {
                bytes: logo,
                media_type: media_type.to_owned(),
            },
            None => {
                errors.add("logo", "admin.logo.invalid");
                LogoChange::Keep
            }
        }
    } else if remove {
        LogoChange::Remove
    } else {
        LogoChange::Keep
    };
    if !errors.is_empty() || !accent_ok {
        let template = BrandingPage {
            header_name,
            accent_color: accent,
            errors,
            saved: false,
            c: session.chrome.with_nav("admin"),
        };
        return page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &template);
    }
    state
        .core
        .set_branding(
            &session.principal,
            name.as_deref(),
            Some(accent_value.as_str()).filter(|s| !s.is_empty()),
            logo_change,
        )
        .await?;
    Ok(see_other("/verwaltung/erscheinungsbild?gespeichert=1"))
}

/// `GET /branding/logo`: the logo of the session's tenant.
pub async fn logo(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let logo = state.core.branding_logo(&session.principal).await?;
    let (bytes, media_type) = logo.ok_or(WebError::NotFound)?;
    logo_response(bytes, &media_type, "private, max-age=300")
}

/// A stored logo as an image that is never interpreted as anything else.
pub(crate) fn logo_response(
    bytes: Vec<u8>,
    media_type: &str,
    cache: &'static str,
) -> Result<Response, WebError> {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).map_err(|e| WebError::Internal(e.to_string()))?,
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

/// `GET /branding/theme.css`: the accent colour as a CSS custom property.
pub async fn theme(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let branding = state.core.branding(&session.principal).await?;
    // Only values that passed the `#rrggbb` check (in the form and in the database) arrive.
    let css = match branding.accent_color.filter(|c| luminance(c).is_some()) {
        Some(c) => format!(":root {{ --accent: {c}; }}\n"),
        None => String::new(),
    };
    let mut response = css.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accent_colours_need_contrast_with_white() {
        assert!(contrast_with_white("#005a9c").unwrap_or(0.0) >= 4.5);
        assert!(contrast_with_white("#ffff00").unwrap_or(10.0) < 4.5);
        assert!(contrast_with_white("red").is_none());
        assert!(contrast_with_white("#00zz00").is_none());
    }

    #[test]
    fn logos_are_raster_images_or_svg() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(
            image_type(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some("image/svg+xml")
        );
        assert_eq!(image_type(b"<html><svg></svg></html>"), None);
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"<svg><script>alert(1)</script></svg>"), None);
        assert_eq!(
            image_type(b"<svg><a href=\"javascript:alert(1)\"><rect/></a></svg>"),
            None
        );
        assert_eq!(
            image_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0\" fill=\"#fff\" stroke-width=\"2\"/></svg>"),
            Some("image/svg+xml"),
            "attributes that merely contain 'on' are fine"
        );
        assert_eq!(image_type(b"<svgx>"), None);
    }
}
