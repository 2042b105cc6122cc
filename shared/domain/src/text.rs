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
    check_spoofing(field, trimmed)?;
    Ok(Some(trimmed.to_owned()))
}

/// Characters that reorder or hide text: a file name `rechnung\u{202e}gpj.exe` shows as
/// `rechnungexe.jpg`, a Betreff of zero-width spaces looks empty.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}' | '\u{034f}' | '\u{180e}')
        || is_direction_override(c)
}

/// Refuses direction overrides and values made only of invisible characters.
fn check_spoofing(field: &str, value: &str) -> Result<(), DomainError> {
    if value.chars().any(is_direction_override) {
        return Err(DomainError::new(
            field,
            "must not contain characters that change the direction of text",
        ));
    }
    if !value.is_empty() && value.chars().all(is_invisible) {
        return Err(DomainError::new(field, "must contain visible characters"));
    }
    Ok(())
}

/// The one check of every text that enters Akta from outside (JSON strings and keys, form
/// fields, query parameters, path segments), before any rule of the model looks at it:
/// PostgreSQL refuses U+0000, and control characters other than tab and line breaks have no
/// place in records.
pub fn check_input(field: &str, value: &str) -> Result<(), DomainError> {
    match value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some('\0') => Err(DomainError::new(field, "must not contain NUL characters")),
        Some(_) => Err(DomainError::new(
            field,
            "must not contain control characters",
        )),
        None => Ok(()),
    }
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

    /// Whether this code is one level below `parent`'s, so Aktenzeichen read like the plan:
    /// a separator and one more group (`63` → `63.01`), or more characters of the last group
    /// (`6` → `63`); `63.01` is not a child of `6` (it skips `63`).
    pub fn is_child_of(&self, parent: &PlanCode) -> bool {
        let Some(rest) = self.0.strip_prefix(parent.as_str()) else {
            return false;
        };
        let is_sep = |c: char| matches!(c, '.' | '-' | '_');
        match rest.chars().next() {
            None => false,
            Some(c) if is_sep(c) => !rest[1..].contains(is_sep),
            Some(_) => !rest.contains(is_sep),
        }
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
            || s.trim() != s
            || check_spoofing("file", s).is_err();
        if bad {
            Err(DomainError::new(
                "file",
                "file name must be 1-255 bytes of visible characters without path separators, '..', control or direction characters",
            ))
        } else {
            Ok(FileName(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The title a document gets from its file name unless someone gives it one, as a clerk
    /// would write it: without the extension, separators as spaces, the first letter
    /// capitalised ("nachbarzustimmung_2026-03.pdf" → "Nachbarzustimmung 2026-03").
    pub fn suggested_title(&self) -> String {
        let stem = match self.0.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && (1..=5).contains(&ext.len()) => stem,
            _ => self.0.as_str(),
        };
        let spaced: String = stem
            .split(['_', ' '])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut chars = spaced.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => self.0.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_code_is_one_level_below_its_parents() {
        let code = |s: &str| PlanCode::parse(s).unwrap();
        assert!(code("63").is_child_of(&code("6")));
        assert!(code("63.01").is_child_of(&code("63")));
        assert!(code("63.01.2").is_child_of(&code("63.01")));
        assert!(code("10-A").is_child_of(&code("10")));
        assert!(!code("63.01").is_child_of(&code("6")));
        assert!(!code("64").is_child_of(&code("63")));
        assert!(!code("63").is_child_of(&code("63")));
        assert!(!code("7").is_child_of(&code("6")));
    }

    #[test]
    fn titles_suggested_by_file_names_read_like_titles() {
        let title = |n: &str| FileName::parse(n).unwrap().suggested_title();
        assert_eq!(title("nachbarzustimmung.pdf"), "Nachbarzustimmung");
        assert_eq!(title("scan_2026-03_bauamt.PDF"), "Scan 2026-03 bauamt");
        assert_eq!(title("ärger.txt"), "Ärger");
        assert_eq!(title(".profile"), ".profile");
        assert_eq!(title("brief"), "Brief");
        assert_eq!(title("___.pdf"), "___.pdf");
    }

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
    fn spoofing_characters_are_refused_in_names_and_titles() {
        assert!(FileName::parse("rechnung\u{202e}gpj.exe").is_err());
        assert!(FileName::parse("\u{200b}").is_err());
        assert!(FileName::parse("Bescheid.pdf").is_ok());
        assert!(bounded_text("subject", "\u{200b}\u{200b}", 500).is_err());
        assert!(bounded_text("subject", "Bau\u{2066}antrag", 500).is_err());
        assert!(bounded_text("subject", "Straße\u{00a0}3", 500).is_ok());
    }

    #[test]
    fn input_refuses_nul_and_controls_but_keeps_line_breaks() {
        assert!(check_input("x", "a\u{0}b").is_err());
        assert!(check_input("x", "a\u{1b}[31m").is_err());
        assert!(check_input("x", "Zeile 1\r\nZeile 2\tEnde").is_ok());
        assert!(check_input("x", "Grüße, 😀").is_ok());
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
