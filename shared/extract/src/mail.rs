//! E-mail: RFC 822 `.eml` (mail-parser) and Outlook `.msg` (compound file, MAPI property
//! streams). Attachments go through [`crate::extract_in`] one level deeper.

use std::io::{Cursor, Read};

use encoding_rs::{UTF_16LE, WINDOWS_1252};
use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::text::{html_to_text, tidy};
use crate::{extract_in, Ctx, ExtractError, Extracted, Method};

/// Extracts one attachment; resource-limit hits abort the whole message (hostile input),
/// other failures become notes so the message's own text is still found.
fn attachment(
    ctx: &Ctx<'_>,
    out: &mut Extracted,
    name: &str,
    media_type: &str,
    data: &[u8],
    depth: u32,
) -> Result<(), ExtractError> {
    if out.parts.len() as u64 >= ctx.limits.max_entries {
        return Err(ExtractError::TooLarge(format!(
            "more than {} attachments",
            ctx.limits.max_entries
        )));
    }
    ctx.charge(data.len() as u64)?;
    match extract_in(ctx, data, media_type, name, depth + 1) {
        Ok(inner) => {
            out.notes
                .extend(inner.notes.iter().map(|n| format!("{name}: {n}")));
            out.parts.push((name.to_owned(), inner.text));
            // Attachments of attachments are flattened with a path-like name.
            for (inner_name, text) in inner.parts {
                out.parts.push((format!("{name}/{inner_name}"), text));
            }
            Ok(())
        }
        Err(e @ (ExtractError::TooLarge(_) | ExtractError::Timeout(_))) => Err(e),
        Err(e) => {
            out.notes.push(format!("attachment {name}: {e}"));
            Ok(())
        }
    }
}

fn header_block(fields: &[(&str, String)], body: &str) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        if !value.trim().is_empty() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value.trim());
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(body);
    tidy(&out)
}

pub(crate) fn extract_eml(
    ctx: &Ctx<'_>,
    bytes: &[u8],
    depth: u32,
) -> Result<Extracted, ExtractError> {
    let msg = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ExtractError::Corrupt("not a readable e-mail message".into()))?;
    let addresses = |a: Option<&mail_parser::Address<'_>>| -> String {
        a.map(|a| {
            a.iter()
                .map(|x| match (x.name(), x.address()) {
                    (Some(n), Some(ad)) => format!("{n} <{ad}>"),
                    (Some(n), None) => n.to_owned(),
                    (None, Some(ad)) => ad.to_owned(),
                    (None, None) => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
    };
    let mut body = String::new();
    for part in msg.text_bodies() {
        match &part.body {
            PartType::Text(t) => body.push_str(t),
            PartType::Html(h) => body.push_str(&html_to_text(h)),
            _ => {}
        }
        body.push('\n');
    }
    if body.trim().is_empty() {
        for part in msg.html_bodies() {
            if let PartType::Html(h) = &part.body {
                body.push_str(&html_to_text(h));
                body.push('\n');
            }
        }
    }
    let fields = [
        ("Subject", msg.subject().unwrap_or_default().to_owned()),
        ("From", addresses(msg.from())),
        ("To", addresses(msg.to())),
        ("Cc", addresses(msg.cc())),
        (
            "Date",
            msg.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        ),
    ];
    let mut out = Extracted::new(header_block(&fields, &body), Method::Email);
    for (i, part) in msg.attachments().enumerate() {
        let media_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_default();
        let name = part
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let media_type = if matches!(part.body, PartType::Message(_)) {
            "message/rfc822".to_owned()
        } else {
            media_type
        };
        attachment(ctx, &mut out, &name, &media_type, part.contents(), depth)?;
    }
    Ok(out)
}

type Cfb<'b> = cfb::CompoundFile<Cursor<&'b [u8]>>;

/// Reads a stream of the compound file, charging it against the budget.
fn stream(ctx: &Ctx<'_>, cfb: &mut Cfb<'_>, path: &str) -> Result<Option<Vec<u8>>, ExtractError> {
    if !cfb.is_stream(path) {
        return Ok(None);
    }
    let budget = ctx.budget();
    let s = cfb
        .open_stream(path)
        .map_err(|e| ExtractError::Corrupt(format!("cannot read {path}: {e}")))?;
    if s.len() > budget {
        return Err(ctx.too_large());
    }
    let mut out = Vec::new();
    s.take(budget.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| ExtractError::Corrupt(format!("cannot read {path}: {e}")))?;
    ctx.charge(out.len() as u64)?;
    Ok(Some(out))
}

/// A MAPI string property: `001F` is UTF-16LE, `001E` is 8-bit (Windows-1252 in practice).
fn string_prop(
    ctx: &Ctx<'_>,
    cfb: &mut Cfb<'_>,
    dir: &str,
    id: &str,
) -> Result<String, ExtractError> {
    if let Some(b) = stream(ctx, cfb, &format!("{dir}/__substg1.0_{id}001F"))? {
        let (s, _) = UTF_16LE.decode_without_bom_handling(&b);
        return Ok(s.trim_end_matches('\0').to_owned());
    }
    if let Some(b) = stream(ctx, cfb, &format!("{dir}/__substg1.0_{id}001E"))? {
        let (s, _) = WINDOWS_1252.decode_without_bom_handling(&b);
        return Ok(s.trim_end_matches('\0').to_owned());
    }
    Ok(String::new())
}

pub(crate) fn extract_msg(
    ctx: &Ctx<'_>,
    bytes: &[u8],
    depth: u32,
) -> Result<Extracted, ExtractError> {
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| ExtractError::Corrupt(format!("damaged compound file: {e}")))?;
    if cfb.is_stream("/EncryptionInfo") || cfb.is_stream("/EncryptedPackage") {
        return Err(ExtractError::Encrypted(
            "password-protected Office document".into(),
        ));
    }
    if !cfb.is_stream("/__properties_version1.0") {
        let what = if cfb.is_stream("/WordDocument") {
            "legacy Word .doc"
        } else if cfb.is_stream("/Workbook") || cfb.is_stream("/Book") {
            "legacy Excel .xls"
        } else {
            "compound file that is no Outlook message"
        };
        return Err(ExtractError::Unsupported(what.into()));
    }
    let root = "";
    let mut body = string_prop(ctx, &mut cfb, root, "1000")?;
    if body.trim().is_empty() {
        // HTML body (PR_HTML) is binary, usually in the message's code page or UTF-8.
        if let Some(html) = stream(ctx, &mut cfb, "/__substg1.0_10130102")? {
            body = html_to_text(&crate::text::decode_text(&html, None).unwrap_or_default());
        }
    }
    let sender_name = string_prop(ctx, &mut cfb, root, "0C1A")?;
    let mut sender_addr = string_prop(ctx, &mut cfb, root, "5D01")?;
    if sender_addr.is_empty() {
        sender_addr = string_prop(ctx, &mut cfb, root, "0C1F")?;
    }
    let from = match (sender_name.is_empty(), sender_addr.is_empty()) {
        (false, false) => format!("{sender_name} <{sender_addr}>"),
        (false, true) => sender_name,
        _ => sender_addr,
    };
    let fields = [
        ("Subject", string_prop(ctx, &mut cfb, root, "0037")?),
        ("From", from),
        ("To", string_prop(ctx, &mut cfb, root, "0E04")?),
        ("Cc", string_prop(ctx, &mut cfb, root, "0E03")?),
    ];
    let mut out = Extracted::new(header_block(&fields, &body), Method::Email);
    let mut attach_dirs: Vec<String> = cfb
        .read_root_storage()
        .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_#"))
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    attach_dirs.sort();
    for (i, dir) in attach_dirs.iter().enumerate() {
        ctx.check_time()?;
        let mut name = string_prop(ctx, &mut cfb, dir, "3707")?;
        if name.is_empty() {
            name = string_prop(ctx, &mut cfb, dir, "3704")?;
        }
        if name.is_empty() {
            name = format!("attachment-{}", i + 1);
        }
        let media_type = string_prop(ctx, &mut cfb, dir, "370E")?;
        match stream(ctx, &mut cfb, &format!("{dir}/__substg1.0_37010102"))? {
            Some(data) => attachment(ctx, &mut out, &name, &media_type, &data, depth)?,
            None => out.notes.push(format!(
                "attachment {name}: embedded message or object not extracted"
            )),
        }
    }
    Ok(out)
}
