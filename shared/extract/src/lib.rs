//! Text extraction for the search index: PDF text layer, OOXML and ODF documents, RTF, HTML,
//! plain text in common encodings, e-mail (`.eml`, Outlook `.msg`) with attachments, and OCR via
//! the `tesseract` CLI where it is installed.
//!
//! [`extract`] is pure and in-process; hostile input should go through [`extract_isolated`],
//! which runs [`worker_main`] in a child process with time and memory limits.

mod isolate;
mod mail;
mod ocr;
mod office;
mod pdf;
mod rlimit;
mod text;
mod xml;

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[doc(hidden)]
pub use isolate::extract_isolated_misbehaving;
pub use isolate::{extract_isolated, extract_isolated_many, worker_main, Input, WORKER_ARG};
pub use ocr::tesseract_status;

/// Resource limits for one extraction (including everything nested in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest input accepted at all.
    pub max_input_bytes: u64,
    /// Sum of all bytes decompressed from containers (zip entries, PDF streams, attachments).
    pub max_decompressed_bytes: u64,
    /// Most entries a zip container or attachments a mail may have.
    pub max_entries: u64,
    /// How deep attachments may nest (a mail in a mail in a mail ...).
    pub max_depth: u32,
    /// Wall-clock limit for one OCR run.
    pub ocr_timeout: Duration,
    /// Wall-clock limit for the whole extraction (checked cooperatively in-process, enforced by
    /// killing the child in [`extract_isolated`]).
    pub time_limit: Duration,
    /// Address-space limit of the isolated child process.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 * 1024 * 1024,
            max_decompressed_bytes: 200 * 1024 * 1024,
            max_entries: 10_000,
            max_depth: 4,
            ocr_timeout: Duration::from_secs(120),
            time_limit: Duration::from_secs(300),
            max_memory_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// How the text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Text layer of a PDF.
    TextLayer,
    /// Optical character recognition (tesseract).
    Ocr,
    /// Plain text, decoded from its encoding.
    Plain,
    /// HTML converted to text.
    Html,
    /// RTF converted to text.
    Rtf,
    /// Office Open XML (DOCX, XLSX, PPTX).
    Ooxml,
    /// OpenDocument (ODT, ODS, ODP).
    OpenDocument,
    /// E-mail (`.eml` or Outlook `.msg`), attachments in `parts`.
    Email,
}

impl Method {
    /// The name stored with the text and shown by the API (`plain`, `text_layer`, …): its
    /// serde name, so there is one spelling.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The result of a successful extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The document's own text (for mail: headers and body).
    pub text: String,
    pub method: Method,
    /// Text of attachments: (attachment name, text).
    pub parts: Vec<(String, String)>,
    /// Things worth knowing that did not stop extraction (e.g. a skipped attachment).
    pub notes: Vec<String>,
}

impl Extracted {
    fn new(text: String, method: Method) -> Self {
        Self {
            text,
            method,
            parts: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Text and all attachment texts joined, as an index would want them.
    pub fn full_text(&self) -> String {
        let mut out = self.text.clone();
        for (name, text) in &self.parts {
            out.push_str("\n\n");
            out.push_str(name);
            out.push('\n');
            out.push_str(text);
        }
        out
    }
}

/// Why no text could be extracted; the message is meant for the API (`extraction_failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum ExtractError {
    #[error("unsupported format: {0}")]
    Unsupported(String),
    #[error("corrupt file: {0}")]
    Corrupt(String),
    #[error("encrypted or password-protected: {0}")]
    Encrypted(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("time limit exceeded: {0}")]
    Timeout(String),
    #[error("no text (OCR unavailable): {0}")]
    OcrUnavailable(String),
    #[error("extraction failed: {0}")]
    Other(String),
}

/// Extracts text from `bytes`, recognising the format by content first and by media type and
/// file name second.
pub fn extract(
    bytes: &[u8],
    media_type: &str,
    file_name: &str,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let ctx = Ctx::new(limits);
    extract_in(&ctx, bytes, media_type, file_name, 0)
}

/// What [`extract`] would give for `bytes` when they are plain text of at most `max_bytes`,
/// and `None` for anything else (other formats, larger text, text that does not decode), which
/// takes the isolated way. Decoding text runs no format parser, so this is safe in-process
/// for hostile input: small text documents are extracted while they are filed, without a job
/// and a child process.
pub fn extract_plain(
    bytes: &[u8],
    media_type: &str,
    file_name: &str,
    max_bytes: usize,
) -> Option<Extracted> {
    let plain = bytes.len() <= max_bytes
        && sniff(bytes).is_none()
        && claimed_kind(media_type, file_name).is_none()
        && !looks_like_mail(bytes)
        && !looks_like_html(bytes);
    if !plain {
        return None;
    }
    text::decode_text(bytes, text::charset_of(media_type))
        .ok()
        .map(|t| Extracted::new(t, Method::Plain))
}

/// Shared state of one extraction: limits, the decompression budget and the deadline.
pub(crate) struct Ctx<'a> {
    pub limits: &'a Limits,
    decompressed: Cell<u64>,
    deadline: Instant,
}

impl<'a> Ctx<'a> {
    fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            decompressed: Cell::new(0),
            deadline: Instant::now() + limits.time_limit,
        }
    }

    /// Bytes that may still be decompressed.
    pub fn budget(&self) -> u64 {
        self.limits
            .max_decompressed_bytes
            .saturating_sub(self.decompressed.get())
    }

    /// Books `n` decompressed bytes against the budget.
    pub fn charge(&self, n: u64) -> Result<(), ExtractError> {
        let total = self.decompressed.get().saturating_add(n);
        self.decompressed.set(total);
        if total > self.limits.max_decompressed_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    pub fn too_large(&self) -> ExtractError {
        ExtractError::TooLarge(format!(
            "decompressed content exceeds the limit of {} bytes",
            self.limits.max_decompressed_bytes
        ))
    }

    pub fn check_time(&self) -> Result<(), ExtractError> {
        if Instant::now() > self.deadline {
            return Err(ExtractError::Timeout(format!(
                "extraction took longer than {} s",
                self.limits.time_limit.as_secs()
            )));
        }
        Ok(())
    }

    /// Time left until the deadline (for child processes such as tesseract).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// The formats we recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Zip,
    Cfb,
    Rtf,
    Image,
    Eml,
    Html,
    Text,
}

pub(crate) fn extract_in(
    ctx: &Ctx<'_>,
    bytes: &[u8],
    media_type: &str,
    file_name: &str,
    depth: u32,
) -> Result<Extracted, ExtractError> {
    if bytes.len() as u64 > ctx.limits.max_input_bytes {
        return Err(ExtractError::TooLarge(format!(
            "input of {} bytes exceeds the limit of {} bytes",
            bytes.len(),
            ctx.limits.max_input_bytes
        )));
    }
    if depth > ctx.limits.max_depth {
        return Err(ExtractError::TooLarge(format!(
            "attachments nested deeper than {} levels",
            ctx.limits.max_depth
        )));
    }
    ctx.check_time()?;
    let claimed = claimed_kind(media_type, file_name);
    let kind = match sniff(bytes) {
        Some(kind) => kind,
        None => match claimed {
            // A binary format without its signature is damaged, not something else.
            Some(k @ (Kind::Pdf | Kind::Zip | Kind::Cfb | Kind::Image | Kind::Rtf)) => {
                return Err(ExtractError::Corrupt(format!(
                    "content does not start like {} (file signature missing)",
                    kind_name(k)
                )));
            }
            Some(k) => k,
            None if looks_like_mail(bytes) => Kind::Eml,
            None if looks_like_html(bytes) => Kind::Html,
            None => Kind::Text,
        },
    };
    // Sniffed text may still be HTML or mail by its declared type.
    let kind = match (kind, claimed) {
        (Kind::Text, Some(k @ (Kind::Html | Kind::Eml))) => k,
        _ => kind,
    };
    match kind {
        Kind::Pdf => pdf::extract(ctx, bytes),
        Kind::Zip => office::extract(ctx, bytes),
        Kind::Cfb => mail::extract_msg(ctx, bytes, depth),
        Kind::Rtf => text::rtf_to_text(bytes).map(|t| Extracted::new(t, Method::Rtf)),
        Kind::Image => ocr::ocr_image(ctx, bytes).map(|t| Extracted::new(t, Method::Ocr)),
        Kind::Eml => mail::extract_eml(ctx, bytes, depth),
        Kind::Html => {
            let decoded = text::decode_text(bytes, text::charset_of(media_type))?;
            Ok(Extracted::new(text::html_to_text(&decoded), Method::Html))
        }
        Kind::Text => text::decode_text(bytes, text::charset_of(media_type))
            .map(|t| Extracted::new(t, Method::Plain)),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "a PDF",
        Kind::Zip => "an Office/OpenDocument (zip) file",
        Kind::Cfb => "an Outlook message",
        Kind::Rtf => "an RTF document",
        Kind::Image => "an image",
        Kind::Eml => "an e-mail",
        Kind::Html => "an HTML document",
        Kind::Text => "a text file",
    }
}

fn sniff(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Kind::Cfb);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(Kind::Rtf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
    {
        return Some(Kind::Image);
    }
    None
}

fn claimed_kind(media_type: &str, file_name: &str) -> Option<Kind> {
    let media = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let by_media = match media.as_str() {
        "application/pdf" => Some(Kind::Pdf),
        "application/rtf" | "text/rtf" => Some(Kind::Rtf),
        "text/html" | "application/xhtml+xml" => Some(Kind::Html),
        "message/rfc822" => Some(Kind::Eml),
        "application/vnd.ms-outlook" => Some(Kind::Cfb),
        m if m.starts_with("image/") => Some(Kind::Image),
        m if m.starts_with("application/vnd.openxmlformats-officedocument.")
            || m.starts_with("application/vnd.oasis.opendocument.") =>
        {
            Some(Kind::Zip)
        }
        _ => None,
    };
    if by_media.is_some() {
        return by_media;
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => Some(Kind::Pdf),
        "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp" => Some(Kind::Zip),
        "msg" => Some(Kind::Cfb),
        "rtf" => Some(Kind::Rtf),
        "png" | "jpg" | "jpeg" | "tif" | "tiff" => Some(Kind::Image),
        "eml" => Some(Kind::Eml),
        "htm" | "html" | "xhtml" => Some(Kind::Html),
        _ => None,
    }
}

/// A mail starts with header lines, and has at least a From and one of Subject/To/Date.
fn looks_like_mail(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let Some((headers, _)) = head
        .split_once("\n\n")
        .or_else(|| head.split_once("\r\n\r\n"))
    else {
        return false;
    };
    let names: Vec<String> = headers
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, _)| n.trim().to_ascii_lowercase())
        })
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    has("from") && (has("subject") || has("to") || has("date"))
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}
