//! OOXML (DOCX, XLSX, PPTX) and OpenDocument (ODT, ODS, ODP) containers.
//!
//! Zip bombs: the entry count is limited, declared sizes are checked before reading, and every
//! read goes through a counting limit because declared sizes can lie.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::result::ZipError;
use zip::ZipArchive;

use crate::xml::{corrupt, resolve_ref, text_of, XmlText};
use crate::{text::tidy, Ctx, ExtractError, Extracted, Method};

type Archive<'b> = ZipArchive<Cursor<&'b [u8]>>;

fn zip_error(e: ZipError) -> ExtractError {
    match e {
        ZipError::UnsupportedArchive(m) if m.to_ascii_lowercase().contains("password") => {
            ExtractError::Encrypted("the zip entries are password-protected".into())
        }
        ZipError::InvalidPassword => {
            ExtractError::Encrypted("the zip entries are password-protected".into())
        }
        ZipError::UnsupportedArchive(m) => ExtractError::Unsupported(format!("zip: {m}")),
        other => ExtractError::Corrupt(format!("damaged zip container: {other}")),
    }
}

pub(crate) fn extract(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    if zip.len() as u64 > ctx.limits.max_entries {
        return Err(ExtractError::TooLarge(format!(
            "zip container has {} entries, the limit is {}",
            zip.len(),
            ctx.limits.max_entries
        )));
    }
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(zip_error)?;
        if entry.encrypted() {
            return Err(ExtractError::Encrypted(format!(
                "zip entry {} is password-protected",
                String::from_utf8_lossy(entry.name_raw())
            )));
        }
    }
    let names: Vec<String> = zip
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("word/document.xml") {
        return docx(ctx, &mut zip).map(|t| Extracted::new(t, Method::Ooxml));
    }
    if has("xl/workbook.xml") {
        return xlsx(ctx, &mut zip, &names).map(|t| Extracted::new(t, Method::Ooxml));
    }
    if has("ppt/presentation.xml") {
        return pptx(ctx, &mut zip, &names).map(|t| Extracted::new(t, Method::Ooxml));
    }
    if has("content.xml") {
        return odf(ctx, &mut zip).map(|t| Extracted::new(t, Method::OpenDocument));
    }
    if has("EncryptionInfo") || has("EncryptedPackage") {
        return Err(ExtractError::Encrypted("encrypted Office document".into()));
    }
    Err(ExtractError::Unsupported(
        "zip archive that is no Office or OpenDocument file".into(),
    ))
}

/// Reads one entry, charging its real decompressed size against the budget.
fn read_entry(ctx: &Ctx<'_>, zip: &mut Archive<'_>, name: &str) -> Result<Vec<u8>, ExtractError> {
    ctx.check_time()?;
    let budget = ctx.budget();
    let entry = zip.by_name(name).map_err(zip_error)?;
    if entry.size() > budget {
        return Err(ctx.too_large());
    }
    let mut out = Vec::new();
    // One byte more than allowed tells us the entry lied about its size.
    entry
        .take(budget.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ExtractError::Corrupt(format!("cannot decompress {name}: {e}")))?;
    ctx.charge(out.len() as u64)?;
    Ok(out)
}

fn docx(ctx: &Ctx<'_>, zip: &mut Archive<'_>) -> Result<String, ExtractError> {
    let spec = XmlText {
        text_in: &["t"],
        paragraphs: &["p"],
        cells: &["tc"],
        tabs: &["tab"],
        breaks: &["br", "cr"],
        spaces: &[],
        skip: &["instrText", "delText"],
    };
    let mut out = text_of(
        &read_entry(ctx, zip, "word/document.xml")?,
        "word/document.xml",
        &spec,
    )?;
    // Footnotes and endnotes are part of the document's words.
    for part in ["word/footnotes.xml", "word/endnotes.xml"] {
        if zip.index_for_name(part).is_some() {
            out.push('\n');
            out.push_str(&text_of(&read_entry(ctx, zip, part)?, part, &spec)?);
        }
    }
    Ok(tidy(&out))
}

/// Part names with a number (`slide12.xml`) in numeric order.
fn numbered(names: &[String], prefix: &str) -> Vec<String> {
    let mut parts: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| {
            let rest = n.strip_prefix(prefix)?.strip_suffix(".xml")?;
            Some((rest.parse().ok()?, n.clone()))
        })
        .collect();
    parts.sort();
    parts.into_iter().map(|(_, n)| n).collect()
}

fn pptx(ctx: &Ctx<'_>, zip: &mut Archive<'_>, names: &[String]) -> Result<String, ExtractError> {
    let spec = XmlText {
        text_in: &["t"],
        paragraphs: &["p"],
        cells: &[],
        tabs: &[],
        breaks: &["br"],
        spaces: &[],
        skip: &[],
    };
    let mut out = String::new();
    for part in numbered(names, "ppt/slides/slide") {
        out.push_str(&text_of(&read_entry(ctx, zip, &part)?, &part, &spec)?);
        out.push('\n');
    }
    Ok(tidy(&out))
}

fn odf(ctx: &Ctx<'_>, zip: &mut Archive<'_>) -> Result<String, ExtractError> {
    let spec = XmlText {
        text_in: &["p", "h"],
        paragraphs: &["p", "h"],
        cells: &[],
        tabs: &["tab"],
        breaks: &["line-break"],
        spaces: &["s"],
        skip: &["annotation", "tracked-changes"],
    };
    let out = text_of(&read_entry(ctx, zip, "content.xml")?, "content.xml", &spec)?;
    Ok(tidy(&out))
}

fn xlsx(ctx: &Ctx<'_>, zip: &mut Archive<'_>, names: &[String]) -> Result<String, ExtractError> {
    let shared = if zip.index_for_name("xl/sharedStrings.xml").is_some() {
        shared_strings(&read_entry(ctx, zip, "xl/sharedStrings.xml")?)?
    } else {
        Vec::new()
    };
    let mut out = String::new();
    for part in numbered(names, "xl/worksheets/sheet") {
        sheet_text(&read_entry(ctx, zip, &part)?, &part, &shared, &mut out)?;
        out.push('\n');
    }
    Ok(tidy(&out))
}

fn shared_strings(xml: &[u8]) -> Result<Vec<String>, ExtractError> {
    const PART: &str = "xl/sharedStrings.xml";
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut strings = Vec::new();
    let mut cur = String::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(PART, e))?
        {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => cur.clear(),
                b"t" => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"si" => strings.push(std::mem::take(&mut cur)),
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => strings.push(String::new()),
            Event::Text(t) if in_t && !in_phonetic => {
                cur.push_str(&t.decode().map_err(|e| corrupt(PART, e))?)
            }
            Event::GeneralRef(r) if in_t && !in_phonetic => cur.push_str(&resolve_ref(&r)),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(strings)
}

fn sheet_text(
    xml: &[u8],
    part: &str,
    shared: &[String],
    out: &mut String,
) -> Result<(), ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut cell_type = String::new();
    let mut value = String::new();
    let (mut in_v, mut in_t) = (false, false);
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(part, e))?
        {
            Event::Start(e) => match e.local_name().as_ref() {
                b"c" => {
                    cell_type.clear();
                    value.clear();
                    for a in e.attributes().flatten() {
                        if a.key.local_name().as_ref() == b"t" {
                            cell_type = String::from_utf8_lossy(&a.value).into_owned();
                        }
                    }
                }
                b"v" => in_v = true,
                b"t" => in_t = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"c" => {
                    let text = if cell_type == "s" {
                        value
                            .trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i))
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        std::mem::take(&mut value)
                    };
                    if !text.is_empty() {
                        out.push_str(&text);
                        out.push('\t');
                    }
                }
                b"row" => out.push('\n'),
                b"v" => in_v = false,
                b"t" => in_t = false,
                _ => {}
            },
            Event::Text(t) if in_v || in_t => {
                value.push_str(&t.decode().map_err(|e| corrupt(part, e))?)
            }
            Event::GeneralRef(r) if in_v || in_t => value.push_str(&resolve_ref(&r)),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}
