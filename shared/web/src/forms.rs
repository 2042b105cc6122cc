//! Server-side validation for the web forms: messages in the user's language, kept per field
//! so each is shown next to its input (and announced, see the templates).

use crate::i18n::Lang;

#[derive(Debug, Default)]
pub struct Errors {
    lang: Lang,
    list: Vec<(&'static str, &'static str)>,
}

impl Errors {
    pub fn new(lang: Lang) -> Errors {
        Errors {
            lang,
            list: Vec::new(),
        }
    }

    pub fn add(&mut self, field: &'static str, key: &str) {
        self.list.push((field, self.lang.t(key)));
    }

    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.list.iter().find(|(f, _)| *f == field).map(|(_, m)| *m)
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A text field through the domain's rule (trimmed, bounded, no control characters).
    pub fn text(
        &mut self,
        field: &'static str,
        value: &str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        if required && value.trim().is_empty() {
            self.add(field, "field.required");
            return None;
        }
        match akta_domain::optional_text(field, value, max) {
            Ok(v) => v,
            Err(_) if value.trim().chars().count() > max => {
                self.add(field, "field.too_long");
                None
            }
            Err(_) => {
                self.add(field, "field.invalid");
                None
            }
        }
    }

    /// Multi-line free text (a Vermerk): line breaks and tabs allowed, other controls not.
    pub fn long_text(&mut self, field: &'static str, value: &str, max: usize) -> Option<String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.add(field, "field.required");
            None
        } else if trimmed.chars().count() > max {
            self.add(field, "field.too_long");
            None
        } else if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.add(field, "field.invalid");
            None
        } else {
            Some(trimmed.replace("\r\n", "\n"))
        }
    }

    /// An optional `YYYY-MM-DD` date (what `<input type="date">` sends).
    pub fn date(&mut self, field: &'static str, value: &str) -> Option<time::Date> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match time::Date::parse(value, &format) {
            Ok(d) => Some(d),
            Err(_) => {
                self.add(field, "field.invalid_date");
                None
            }
        }
    }

    /// One of a fixed set of choices.
    pub fn choice<T>(
        &mut self,
        field: &'static str,
        parsed: Result<T, akta_domain::DomainError>,
    ) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(_) => {
                self.add(field, "field.invalid_choice");
                None
            }
        }
    }

    /// An optional id chosen from a list (empty: none).
    pub fn id(&mut self, field: &'static str, value: &str) -> Option<Option<uuid::Uuid>> {
        if value.trim().is_empty() {
            return Some(None);
        }
        match uuid::Uuid::parse_str(value.trim()) {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                self.add(field, "field.invalid_choice");
                None
            }
        }
    }
}
