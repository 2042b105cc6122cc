//! Plain text in common encodings, HTML to text and RTF to text.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use crate::ExtractError;

/// Decodes text bytes: BOM first, then the declared charset, then UTF-8, then a guess.
pub(crate) fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, ExtractError> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(text.into_owned());
    }
    if let Some(enc) = charset.and_then(|c| Encoding::for_label(c.trim().as_bytes())) {
        // UTF-16 has no ASCII-compatible bytes, so the binary check below must not run on it.
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Ok(text.into_owned());
    }
    if looks_binary(bytes) {
        return Err(ExtractError::Unsupported(
            "binary content of an unknown format".into(),
        ));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    // Latin script guesses other than windows-1252 are rare in German offices and often wrong
    // on short texts; windows-1252 also covers ISO-8859-1 and nearly all of ISO-8859-15.
    let enc = if guess == UTF_8 { WINDOWS_1252 } else { guess };
    let (text, _) = enc.decode_without_bom_handling(bytes);
    Ok(text.into_owned())
}

/// The `charset` parameter of a media type.
pub(crate) fn charset_of(media_type: &str) -> Option<&str> {
    media_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if sample.is_empty() {
        return false;
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    sample.contains(&0) || control * 20 > sample.len()
}

/// Converts HTML to text: tags dropped, script/style skipped, block elements become line
/// breaks, entities decoded.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let b = html.as_bytes();
    while i < b.len() {
        if b[i] == b'<' {
            if lower[i..].starts_with("<!--") {
                i = lower[i..].find("-->").map_or(b.len(), |p| i + p + 3);
                continue;
            }
            let end = lower[i..].find('>').map_or(b.len(), |p| i + p + 1);
            let tag = lower[i + 1..end].trim_end_matches('>');
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            i = end;
            if !closing && (name == "script" || name == "style") {
                let close = format!("</{name}");
                i = lower[i..].find(&close).map_or(b.len(), |p| i + p);
                continue;
            }
            match name.as_str() {
                "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                | "table" | "ul" | "ol" | "title" | "blockquote" | "section" | "article"
                | "header" | "footer" | "pre" | "hr" | "dt" | "dd" => out.push('\n'),
                "td" | "th" => out.push('\t'),
                _ => {}
            }
            continue;
        }
        if b[i] == b'&' {
            if let Some((ch, len)) = entity(&html[i..]) {
                out.push_str(&ch);
                i += len;
                continue;
            }
        }
        // Advance by one whole character.
        let ch_len = html[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&html[i..i + ch_len]);
        i += ch_len;
    }
    tidy(&out)
}

/// Decodes an entity at the start of `s`; returns the text and the bytes consumed.
fn entity(s: &str) -> Option<(String, usize)> {
    // Byte search: slicing at a fixed length could split a multi-byte character.
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let name = &s[1..end];
    let ch = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code)?.to_string()
    } else {
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "auml" => 'ä',
            "ouml" => 'ö',
            "uuml" => 'ü',
            "Auml" => 'Ä',
            "Ouml" => 'Ö',
            "Uuml" => 'Ü',
            "szlig" => 'ß',
            "euro" => '€',
            "sect" => '§',
            "copy" => '©',
            "reg" => '®',
            "ndash" => '–',
            "mdash" => '—',
            "laquo" => '«',
            "raquo" => '»',
            "bdquo" => '„',
            "ldquo" => '“',
            "rdquo" => '”',
            "lsquo" => '‘',
            "rsquo" => '’',
            "hellip" => '…',
            "eacute" => 'é',
            "egrave" => 'è',
            "agrave" => 'à',
            _ => return None,
        };
        c.to_string()
    };
    Some((ch, end + 1))
}

/// Collapses runs of spaces, trims lines and keeps at most one empty line in a row.
pub(crate) fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let words: Vec<&str> = line
            .split([' ', '\u{a0}', '\r'])
            .filter(|w| !w.is_empty())
            .collect();
        let line = words.join(" ");
        let line = line.trim_matches('\t');
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// RTF destinations whose content is not document text.
const RTF_SKIP: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "datastore",
    "fldinst",
    "filetbl",
    "bkmkstart",
    "bkmkend",
    "nonshppict",
];

#[derive(Clone, Copy)]
struct RtfGroup {
    skip: bool,
    uc: usize,
}

/// Converts RTF to text with a small parser: groups, control words, `\'xx` (Windows-1252) and
/// `\uN` escapes.
pub(crate) fn rtf_to_text(bytes: &[u8]) -> Result<String, ExtractError> {
    let mut out = String::new();
    let mut stack: Vec<RtfGroup> = Vec::new();
    let mut cur = RtfGroup { skip: false, uc: 1 };
    // Fallback characters still to drop after a \uN.
    let mut pending = 0usize;
    let mut i = 0;
    let push = |out: &mut String, cur: &RtfGroup, pending: &mut usize, s: &str| {
        if *pending > 0 {
            *pending -= 1;
        } else if !cur.skip {
            out.push_str(s);
        }
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'{' => {
                if stack.len() > 10_000 {
                    return Err(ExtractError::Corrupt("RTF groups nested too deeply".into()));
                }
                stack.push(cur);
                pending = 0;
                i += 1;
            }
            b'}' => {
                cur = stack.pop().unwrap_or(cur);
                pending = 0;
                i += 1;
            }
            b'\r' | b'\n' => i += 1,
            b'\\' => {
                let Some(&n) = bytes.get(i + 1) else { break };
                if n.is_ascii_alphabetic() {
                    let start = i + 1;
                    let mut j = start;
                    while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                        j += 1;
                    }
                    let word = std::str::from_utf8(&bytes[start..j]).unwrap_or_default();
                    let pstart = j;
                    if j < bytes.len() && bytes[j] == b'-' {
                        j += 1;
                    }
                    while j < bytes.len() && bytes[j].is_ascii_digit() && j - pstart < 10 {
                        j += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&bytes[pstart..j])
                        .ok()
                        .and_then(|p| p.parse().ok());
                    if j < bytes.len() && bytes[j] == b' ' {
                        j += 1;
                    }
                    i = j;
                    match word {
                        "par" | "line" | "sect" | "page" | "row" => {
                            push(&mut out, &cur, &mut 0, "\n")
                        }
                        "tab" | "cell" => push(&mut out, &cur, &mut 0, "\t"),
                        "uc" => cur.uc = param.unwrap_or(1).clamp(0, 10) as usize,
                        "u" => {
                            let code = param.unwrap_or(0);
                            let code = if code < 0 { code + 65536 } else { code };
                            let ch = u32::try_from(code)
                                .ok()
                                .and_then(char::from_u32)
                                .unwrap_or('\u{fffd}');
                            push(&mut out, &cur, &mut 0, ch.encode_utf8(&mut [0; 4]));
                            pending = cur.uc;
                        }
                        w if RTF_SKIP.contains(&w) => cur.skip = true,
                        _ => {}
                    }
                } else {
                    i += 2;
                    match n {
                        b'\'' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                i += 2;
                                let one = [byte];
                                let (s, _) = WINDOWS_1252.decode_without_bom_handling(&one);
                                push(&mut out, &cur, &mut pending, &s);
                            }
                        }
                        b'*' => cur.skip = true,
                        b'~' => push(&mut out, &cur, &mut pending, " "),
                        b'_' => push(&mut out, &cur, &mut pending, "-"),
                        b'\n' | b'\r' => push(&mut out, &cur, &mut 0, "\n"),
                        b'\\' | b'{' | b'}' => {
                            push(&mut out, &cur, &mut pending, &(n as char).to_string())
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                // Plain bytes run until the next special character.
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let (s, _) = WINDOWS_1252.decode_without_bom_handling(&bytes[start..i]);
                for ch in s.chars() {
                    push(&mut out, &cur, &mut pending, ch.encode_utf8(&mut [0; 4]));
                }
            }
        }
    }
    Ok(tidy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_edge_cases_do_not_panic() {
        for s in [
            "<ä",
            "&ä;",
            "&#xZZ;",
            "<",
            "&",
            "<!--",
            "<script>ä",
            "ä<p",
            "&#1114112;",
        ] {
            let _ = html_to_text(s);
        }
        assert_eq!(
            html_to_text("a<br>b &lt;c&gt; &unknown; &#8364;"),
            "a\nb <c> &unknown; €"
        );
    }

    #[test]
    fn rtf_unicode_with_fallback_count() {
        let t = rtf_to_text(br"{\rtf1{\uc2 \u8364 EU}R \u-4064?x\'e4}").unwrap_or_default();
        assert_eq!(t, "\u{20ac}R \u{f020}x\u{e4}");
    }

    #[test]
    fn rtf_garbage_does_not_panic() {
        for s in [
            &b"{\\rtf1\\'"[..],
            b"{\\rtf1\\u",
            b"}}}{{{",
            b"\\'zz\\u-99999999999",
        ] {
            let _ = rtf_to_text(s);
        }
    }

    #[test]
    fn charset_parameter() {
        assert_eq!(
            charset_of("text/plain; charset=\"ISO-8859-15\""),
            Some("ISO-8859-15")
        );
        assert_eq!(charset_of("text/plain"), None);
    }
}
