//! PDF text layer with lopdf; pages without text go to OCR.
//!
//! lopdf decompresses streams on its own, so the decompressed-size budget cannot be enforced
//! inside it; the input size limit and the memory limit of the isolated process cover that.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{ocr, Ctx, ExtractError, Extracted, Method};

pub(crate) fn extract(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let declares_encryption = bytes.windows(8).any(|w| w == b"/Encrypt");
    // lopdf can panic on hostile input; a panic here means a damaged file, not a bug of ours.
    let result = catch_unwind(AssertUnwindSafe(|| text_layer(ctx, bytes)));
    let text = match result {
        Ok(Ok(text)) => text,
        Ok(Err(e)) if declares_encryption => {
            return Err(ExtractError::Encrypted(format!(
                "the PDF is encrypted and cannot be opened without its password ({e})"
            )))
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(ExtractError::Corrupt(
                "the PDF reader failed on this file".into(),
            ))
        }
    };
    if text.chars().any(char::is_alphanumeric) {
        return Ok(Extracted::new(text, Method::TextLayer));
    }
    if declares_encryption {
        return Err(ExtractError::Encrypted(
            "the PDF is encrypted; no readable text layer".into(),
        ));
    }
    // No text layer: a scan.
    let text = ocr::ocr_pdf(ctx, bytes)?;
    let mut out = Extracted::new(text, Method::Ocr);
    out.notes
        .push("PDF has no text layer; text recognised by OCR".into());
    Ok(out)
}

fn text_layer(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<String, ExtractError> {
    let doc = lopdf::Document::load_mem(bytes)
        .map_err(|e| ExtractError::Corrupt(format!("cannot read PDF: {e}")))?;
    // lopdf opens files encrypted with an empty user password itself; anything else needs
    // the password and would only yield ciphertext.
    if doc.is_encrypted() && !doc.was_encrypted() {
        return Err(ExtractError::Encrypted(
            "the PDF needs a password to be opened".into(),
        ));
    }
    let pages = doc.get_pages();
    if pages.len() as u64 > ctx.limits.max_entries {
        return Err(ExtractError::TooLarge(format!(
            "PDF has {} pages, the limit is {}",
            pages.len(),
            ctx.limits.max_entries
        )));
    }
    let mut out = String::new();
    for &number in pages.keys() {
        ctx.check_time()?;
        // A page whose content cannot be decoded should not cost the other pages.
        if let Ok(text) = doc.extract_text(&[number]) {
            ctx.charge(text.len() as u64)?;
            out.push_str(&text);
            out.push('\n');
        }
    }
    Ok(crate::text::tidy(&out))
}
