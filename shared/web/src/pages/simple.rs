//! A generic form page (one column of labelled fields) for the small forms: new Vorgang,
//! zdA confirmation, reopening, Vermerk, upload.

use askama::Template;

use crate::forms::Errors;
use crate::render::Chrome;

pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    /// `text`, `date`, `file`
    pub kind: &'static str,
    pub multiline: bool,
    /// Non-empty: a select with (value, label).
    pub options: Vec<(String, String)>,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
        Field {
            name,
            label,
            value: value.into(),
            kind: "text",
            multiline: false,
            options: Vec::new(),
        }
    }

    pub fn kind(mut self, kind: &'static str) -> Field {
        self.kind = kind;
        self
    }

    pub fn multiline(mut self) -> Field {
        self.multiline = true;
        self
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Field {
        self.options = options;
        self
    }
}

#[derive(Template)]
#[template(path = "simple_form.html")]
pub struct SimpleForm {
    pub c: Chrome,
    pub heading: String,
    pub explain: Option<&'static str>,
    pub action: String,
    pub testid: &'static str,
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
    pub errors: Errors,
    pub submit: &'static str,
    pub cancel: String,
    pub multipart: bool,
}
