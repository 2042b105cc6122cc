//! Text from the XML parts of OOXML and ODF documents.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

use crate::ExtractError;

/// Which elements (by local name) carry text and structure.
pub(crate) struct XmlText<'a> {
    /// Only text inside these elements counts; empty means all text counts.
    pub text_in: &'a [&'a str],
    /// Elements whose end is a line break (paragraphs).
    pub paragraphs: &'a [&'a str],
    /// Elements whose end is a tab (table cells).
    pub cells: &'a [&'a str],
    /// Empty elements that stand for a tab.
    pub tabs: &'a [&'a str],
    /// Empty elements that stand for a line break.
    pub breaks: &'a [&'a str],
    /// Empty elements that stand for a space (ODF `text:s`).
    pub spaces: &'a [&'a str],
    /// Elements whose content is skipped (deleted text, field codes, annotations).
    pub skip: &'a [&'a str],
}

fn local(name: &[u8]) -> &str {
    let name = std::str::from_utf8(name).unwrap_or_default();
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(ch)) = r.resolve_char_ref() {
        return ch.to_string();
    }
    r.decode()
        .ok()
        .and_then(|n| quick_xml::escape::resolve_predefined_entity(&n).map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn corrupt(part: &str, e: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt(format!("malformed XML in {part}: {e}"))
}

/// Collects the text of an XML part according to `spec`.
pub(crate) fn text_of(xml: &[u8], part: &str, spec: &XmlText<'_>) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut inside = 0usize;
    let mut skipping = 0usize;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(part, e))?;
        match ev {
            Event::Start(e) => {
                let name = local(e.local_name().as_ref()).to_owned();
                if spec.skip.contains(&name.as_str()) {
                    skipping += 1;
                }
                if spec.text_in.contains(&name.as_str()) {
                    inside += 1;
                }
            }
            Event::End(e) => {
                let name = local(e.local_name().as_ref()).to_owned();
                if spec.skip.contains(&name.as_str()) {
                    skipping = skipping.saturating_sub(1);
                }
                if spec.text_in.contains(&name.as_str()) {
                    inside = inside.saturating_sub(1);
                }
                if skipping == 0 {
                    if spec.paragraphs.contains(&name.as_str()) {
                        out.push('\n');
                    } else if spec.cells.contains(&name.as_str()) {
                        out.push('\t');
                    }
                }
            }
            Event::Empty(e) => {
                let name = local(e.local_name().as_ref()).to_owned();
                if skipping == 0 {
                    if spec.tabs.contains(&name.as_str()) {
                        out.push('\t');
                    } else if spec.breaks.contains(&name.as_str())
                        || spec.paragraphs.contains(&name.as_str())
                    {
                        out.push('\n');
                    } else if spec.spaces.contains(&name.as_str()) {
                        out.push(' ');
                    }
                }
            }
            Event::Text(t) if skipping == 0 && (spec.text_in.is_empty() || inside > 0) => {
                out.push_str(&t.decode().map_err(|e| corrupt(part, e))?);
            }
            Event::CData(t) if skipping == 0 && (spec.text_in.is_empty() || inside > 0) => {
                out.push_str(&String::from_utf8_lossy(&t));
            }
            Event::GeneralRef(r) if skipping == 0 && (spec.text_in.is_empty() || inside > 0) => {
                out.push_str(&resolve_ref(&r));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}
