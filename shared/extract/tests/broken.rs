//! Broken, encrypted and hostile files fail with a clear error and never panic.

mod fixtures;

use std::io::{Cursor, Write};

use akta_extract::{extract, ExtractError, Limits};
use fixtures::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn err(bytes: &[u8], media_type: &str, name: &str, limits: &Limits) -> ExtractError {
    match extract(bytes, media_type, name, limits) {
        Ok(e) => panic!("{name}: expected an error, got {e:?}"),
        Err(e) => e,
    }
}

#[test]
fn truncated_zip_is_corrupt() {
    let docx = docx();
    let e = err(
        &docx[..docx.len() / 2],
        "",
        "antrag.docx",
        &Limits::default(),
    );
    assert!(matches!(e, ExtractError::Corrupt(_)), "{e:?}");
}

#[test]
fn random_bytes_claiming_to_be_pdf_are_corrupt() {
    let e = err(
        &noise(4096, 7),
        "application/pdf",
        "x.pdf",
        &Limits::default(),
    );
    assert!(matches!(e, ExtractError::Corrupt(_)), "{e:?}");
    let mut fake = b"%PDF-1.7\n".to_vec();
    fake.extend(noise(4096, 8));
    let e = err(&fake, "application/pdf", "x.pdf", &Limits::default());
    assert!(matches!(e, ExtractError::Corrupt(_)), "{e:?}");
}

#[test]
fn random_bytes_without_hint_are_unsupported() {
    let e = err(&noise(4096, 9), "", "", &Limits::default());
    assert!(matches!(e, ExtractError::Unsupported(_)), "{e:?}");
}

#[test]
fn zip_bomb_hits_decompressed_limit() {
    // 8 MiB of zeros compress to a few KiB.
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("word/document.xml", SimpleFileOptions::default())
        .expect("start");
    let zeros = vec![b'a'; 8 << 20];
    w.write_all(&zeros).expect("write");
    let bomb = w.finish().expect("finish").into_inner();
    assert!(bomb.len() < 100_000);
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let e = err(&bomb, "", "bomb.docx", &limits);
    assert!(matches!(e, ExtractError::TooLarge(_)), "{e:?}");
}

/// Sets a field in every local and central header (found by signature) of a stored zip.
fn patch_headers(zip: &mut [u8], local_off: usize, central_off: usize, value: &[u8]) {
    let mut i = 0;
    while i + 4 <= zip.len() {
        let off = match &zip[i..i + 4] {
            b"PK\x03\x04" => Some(local_off),
            b"PK\x01\x02" => Some(central_off),
            _ => None,
        };
        if let Some(off) = off {
            zip[i + off..i + off + value.len()].copy_from_slice(value);
        }
        i += 1;
    }
}

fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    w.start_file(name, opts).expect("start");
    w.write_all(content).expect("write");
    w.finish().expect("finish").into_inner()
}

#[test]
fn zip_with_huge_declared_size_is_refused_before_reading() {
    let mut zip = stored_zip("word/document.xml", b"<w:document/>");
    // Uncompressed size: offset 22 in the local header, 24 in the central header.
    patch_headers(&mut zip, 22, 24, &0xFFFF_FFF0u32.to_le_bytes());
    let e = err(&zip, "", "x.docx", &Limits::default());
    assert!(matches!(e, ExtractError::TooLarge(_)), "{e:?}");
}

#[test]
fn too_many_entries() {
    let entries: Vec<(String, Vec<u8>)> =
        (0..50).map(|i| (format!("f{i}.xml"), vec![b'x'])).collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let e = err(&zip_of(&refs), "", "viele.odt", &limits);
    assert!(matches!(e, ExtractError::TooLarge(_)), "{e:?}");
}

#[test]
fn password_protected_zip_is_encrypted() {
    let mut zip = stored_zip("content.xml", b"<x/>");
    // General purpose flag bit 0 (encrypted): offset 6 local, 8 central.
    patch_headers(&mut zip, 6, 8, &1u16.to_le_bytes());
    let e = err(&zip, "", "geheim.odt", &Limits::default());
    assert!(matches!(e, ExtractError::Encrypted(_)), "{e:?}");
}

#[test]
fn password_protected_office_document_is_encrypted() {
    let e = err(&encrypted_ooxml(), "", "geheim.docx", &Limits::default());
    assert!(matches!(e, ExtractError::Encrypted(_)), "{e:?}");
}

#[test]
fn encrypted_pdf_is_encrypted() {
    let e = err(
        &encrypted_pdf("geheim"),
        "application/pdf",
        "geheim.pdf",
        &Limits::default(),
    );
    assert!(matches!(e, ExtractError::Encrypted(_)), "{e:?}");
    assert!(e.to_string().contains("password"), "{e}");
    // Only an owner password (restrictions, no secret): the text is readable.
    let open = extract(
        &encrypted_pdf(""),
        "application/pdf",
        "offen.pdf",
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(open.text.contains(SENTENCE), "{:?}", open.text);
}

#[test]
fn deeply_nested_attachments_stop_at_depth_limit() {
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    let e = err(
        nested_eml(10).as_bytes(),
        "message/rfc822",
        "tief.eml",
        &limits,
    );
    assert!(matches!(e, ExtractError::TooLarge(_)), "{e:?}");
    assert!(e.to_string().contains("nested"), "{e}");
    // Within the limit the innermost text is found.
    let ok = extract(nested_eml(3).as_bytes(), "message/rfc822", "m.eml", &limits)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        ok.parts.iter().any(|(_, t)| t.contains(SENTENCE)),
        "{:?}",
        ok.parts
    );
}

#[test]
fn input_over_limit_is_too_large() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    let e = err(SENTENCE.as_bytes(), "text/plain", "a.txt", &limits);
    assert!(matches!(e, ExtractError::TooLarge(_)), "{e:?}");
}

#[test]
fn truncated_and_damaged_fixtures_never_panic() {
    let fixtures: Vec<(&str, Vec<u8>)> = vec![
        ("a.docx", docx()),
        ("a.xlsx", xlsx()),
        ("a.pptx", pptx()),
        ("a.odt", odf("text")),
        ("a.pdf", pdf_with_text(&[SENTENCE])),
        ("a.msg", msg()),
        ("a.eml", EML.as_bytes().to_vec()),
        ("a.rtf", RTF.as_bytes().to_vec()),
        ("a.html", HTML.as_bytes().to_vec()),
    ];
    // OCR would make this slow and is not what is tested here.
    let limits = Limits::default();
    for (name, bytes) in fixtures {
        for cut in [
            1,
            7,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(3),
        ] {
            let _ = extract(&bytes[..cut.min(bytes.len())], "", name, &limits);
        }
        // Flip bytes in the middle.
        let mut damaged = bytes.clone();
        for i in (damaged.len() / 4..damaged.len() * 3 / 4).step_by(17) {
            damaged[i] ^= 0x5A;
        }
        let _ = extract(&damaged, "", name, &limits);
    }
}
