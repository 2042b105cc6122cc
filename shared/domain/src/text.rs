//! Text values parsed once at the edge: bounded free text, tenant slugs, plan codes, file names.

use serde::Serialize;
use std::fmt;

use crate::DomainError;

/// Trims `value` and checks it is non-empty, at most `max` characters and free of control characters.
pub fn bounded_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::new(field, "must not be empty"));
    }
    optional_text(field, trimmed, max).map(|s| s.unwrap_or_default())
}

/// Like [`bounded_text`] but an empty value means "not given".
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, DomainError> {
    // Tabs and line breaks in titles end up in Aktenzeichen lists and exports, so one-line
    // values refuse every control character.
    checked_text(field, value, max, |_| false)
}

/// Like [`optional_text`] for free text over several lines (reasons, notes): line breaks and
/// tabs are allowed, other control characters are not; `\r\n` becomes `\n`.
pub fn optional_text_multiline(
    field: &str,
    value: &str,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let text = checked_text(field, value, max, |c| matches!(c, '\n' | '\r' | '\t'))?;
    Ok(text.map(|t| t.replace("\r\n", "\n")))
}

/// Trimmed `value`, `None` when empty; refuses values over `max` characters and control
/// characters other than those `allowed`.
fn checked_text(
    field: &str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<Option<String>, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(DomainError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// A tenant's short name used in URLs and CLI: lowercase letters, digits and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(s: &str) -> Result<TenantSlug, DomainError> {
        let ok = (2..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(TenantSlug(s.to_owned()))
        } else {
            Err(DomainError::new(
                "slug",
                "must be 2-40 characters: lowercase letters, digits and hyphens, starting with a letter",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Kennzeichen of an Aktenplan unit, e.g. `63`, `63.01`, `6.3.1-A`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PlanCode(String);

impl PlanCode {
    pub const MAX_LEN: usize = 40;

    pub fn parse(s: &str) -> Result<PlanCode, DomainError> {
        let s = s.trim();
        let segments_ok = s
            .split(['.', '-', '_'])
            .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric()));
        if !s.is_empty() && s.len() <= Self::MAX_LEN && segments_ok {
            Ok(PlanCode(s.to_owned()))
        } else {
            Err(DomainError::new(
                "code",
                "must be 1-40 characters: letters and digits in groups separated by '.', '-' or '_' (e.g. 63.01)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The original name of an uploaded file, kept for downloads. Never used as a path: blobs get
/// generated keys. Still rejected when it looks like a path, because it is echoed back in
/// `Content-Disposition` and exports where a traversal would hurt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FileName(String);

impl FileName {
    pub const MAX_LEN: usize = 255;

    pub fn parse(s: &str) -> Result<FileName, DomainError> {
        let bad = s.is_empty()
            || s.len() > Self::MAX_LEN
            || s == "."
            || s == ".."
            || s.contains(['/', '\\'])
            || s.chars().any(char::is_control)
            || s.trim() != s;
        if bad {
            Err(DomainError::new(
                "file",
                "file name must be 1-255 bytes without path separators, '..' or control characters",
            ))
        } else {
            Ok(FileName(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_limits_length() {
        assert_eq!(
            bounded_text("title", "  Bauantrag ", 20).unwrap(),
            "Bauantrag"
        );
        assert_eq!(bounded_text("title", "   ", 20).unwrap_err().field, "title");
        assert!(bounded_text("title", &"ä".repeat(21), 20).is_err());
        assert!(bounded_text("title", &"ä".repeat(20), 20).is_ok());
        assert!(bounded_text("title", "a\u{0}b", 20).is_err());
    }

    #[test]
    fn slugs_are_lowercase_words() {
        assert!(TenantSlug::parse("herdecke").is_ok());
        assert!(TenantSlug::parse("wetter-ruhr").is_ok());
        assert!(TenantSlug::parse("Herdecke").is_err());
        assert!(TenantSlug::parse("-x").is_err());
        assert!(TenantSlug::parse("x-").is_err());
        assert!(TenantSlug::parse("a").is_err());
    }

    #[test]
    fn plan_codes_accept_dotted_groups_only() {
        assert!(PlanCode::parse("63.01").is_ok());
        assert!(PlanCode::parse("6").is_ok());
        assert!(PlanCode::parse("63..01").is_err());
        assert!(PlanCode::parse("63/01").is_err());
        assert!(PlanCode::parse("").is_err());
    }

    #[test]
    fn file_names_reject_traversal() {
        assert!(FileName::parse("Antrag Müller.pdf").is_ok());
        for bad in [
            "../etc/passwd",
            "..",
            "a/b.pdf",
            "a\\b.pdf",
            "x\u{7}.pdf",
            "",
        ] {
            assert!(FileName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(FileName::parse(&"a".repeat(256)).is_err());
    }
}
