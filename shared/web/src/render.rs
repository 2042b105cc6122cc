//! Page rendering: the header every page shares ([`Chrome`]), the page's security headers,
//! and small response helpers.

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::i18n::Lang;

/// What the shared layout needs: language, who is logged in, the tenant's branding, the
/// session's CSRF token for the forms in the header, the search box's value.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub lang: Lang,
    /// `None` on pages before login.
    pub user_name: Option<String>,
    pub tenant_name: String,
    pub has_logo: bool,
    pub has_accent: bool,
    pub csrf: String,
    pub can_write: bool,
    pub is_admin: bool,
    /// Admins and archivists: Aussonderung and the Löschprotokoll.
    pub is_records_manager: bool,
    pub query: String,
    /// Which main navigation entry is current (`workplace`, `plan`, `search`, `admin`).
    pub nav: &'static str,
    /// Where the logo comes from before login (`/t/{tenant}/wappen`); the session's
    /// `/branding/logo` otherwise.
    pub logo_src: Option<String>,
    /// The operator console (`/betrieb`): its own header and navigation.
    pub console: bool,
}

impl Chrome {
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    pub fn with_nav(mut self, nav: &'static str) -> Chrome {
        self.nav = nav;
        self
    }

    pub fn logo(&self) -> &str {
        self.logo_src.as_deref().unwrap_or("/branding/logo")
    }

    /// `aria-current` value of a navigation entry.
    pub fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav {
            "page"
        } else {
            "false"
        }
    }
}

/// Scripts and styles only from Akta's own static files, no inline code; previews framed
/// from the same origin only; forms post only to Akta.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

pub fn page_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
}

/// A rendered page with status 200.
pub fn page(template: &impl Template) -> Result<Response, WebError> {
    page_with_status(StatusCode::OK, template)
}

/// A rendered page, e.g. a form shown again with validation messages (422).
pub fn page_with_status(
    status: StatusCode,
    template: &impl Template,
) -> Result<Response, WebError> {
    let body = template.render()?;
    let mut response = (status, body).into_response();
    page_headers(response.headers_mut());
    Ok(response)
}

/// After a successful POST: 303 so that reloading does not post again.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// ISO date for `<input type="date">`.
pub fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A `YYYY-MM-DD` date (as the API and the core write them).
pub fn parse_iso_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

pub use akta_domain::german::{berlin_offset, date, date_time, today};

/// `1,2 MB`-style sizes.
pub fn size(bytes: i64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0).replace('.', ",")
    } else {
        format!("{:.1} MiB", b / 1024.0 / 1024.0).replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_time_follows_summer_time() {
        let winter = time::macros::datetime!(2026-01-10 12:00 UTC);
        let summer = time::macros::datetime!(2026-07-10 12:00 UTC);
        assert_eq!(date_time(winter), "10.01.2026 13:00");
        assert_eq!(date_time(summer), "10.07.2026 14:00");
    }
}
