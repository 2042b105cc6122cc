//! Every supported format yields its text; every fixture is generated here.

mod fixtures;

use akta_extract::{extract, tesseract_status, ExtractError, Limits, Method};
use fixtures::*;

fn ok(bytes: &[u8], media_type: &str, name: &str) -> akta_extract::Extracted {
    match extract(bytes, media_type, name, &Limits::default()) {
        Ok(e) => e,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn assert_sentence(text: &str, what: &str) {
    assert!(
        text.contains(SENTENCE),
        "{what}: sentence missing in {text:?}"
    );
}

#[test]
fn plain_text_in_common_encodings() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("utf-8", SENTENCE.as_bytes().to_vec(), "text/plain"),
        (
            "utf-8 bom",
            [b"\xEF\xBB\xBF".as_slice(), SENTENCE.as_bytes()].concat(),
            "",
        ),
        ("utf-16le bom", utf16(SENTENCE, false), "text/plain"),
        ("utf-16be bom", utf16(SENTENCE, true), ""),
        ("windows-1252", win1252(SENTENCE), "text/plain"),
        (
            "iso-8859-1 labelled",
            win1252(SENTENCE),
            "text/plain; charset=ISO-8859-1",
        ),
        (
            "iso-8859-15 labelled",
            iso885915(&format!("{SENTENCE} 5 €")),
            "text/plain; charset=iso-8859-15",
        ),
        ("iso-8859-15 unlabelled", iso885915(SENTENCE), ""),
    ];
    for (what, bytes, media) in cases {
        let e = ok(&bytes, media, "notiz.txt");
        assert_eq!(e.method, Method::Plain, "{what}");
        assert_sentence(&e.text, what);
    }
    let e = ok(
        &iso885915(&format!("{SENTENCE} 5 €")),
        "text/plain; charset=iso-8859-15",
        "a.txt",
    );
    assert!(e.text.contains("5 €"));
}

#[test]
fn html_drops_markup_scripts_and_decodes_entities() {
    let e = ok(HTML.as_bytes(), "text/html", "seite.html");
    assert_eq!(e.method, Method::Html);
    assert_sentence(&e.text, "html");
    assert!(e.text.contains("Zweiter Absatz & mehr"), "{:?}", e.text);
    assert!(
        !e.text.contains("Geheim") && !e.text.contains("color"),
        "{:?}",
        e.text
    );
    // Sniffed without a media type, too.
    assert_eq!(ok(HTML.as_bytes(), "", "").method, Method::Html);
}

#[test]
fn rtf_skips_tables_and_decodes_escapes() {
    let e = ok(RTF.as_bytes(), "application/octet-stream", "brief");
    assert_eq!(e.method, Method::Rtf);
    assert_sentence(&e.text, "rtf");
    assert!(
        !e.text.contains("Arial") && !e.text.contains("Generator"),
        "{:?}",
        e.text
    );
}

#[test]
fn office_open_xml() {
    let e = ok(&docx(), "", "antrag.docx");
    assert_eq!(e.method, Method::Ooxml);
    assert_sentence(&e.text, "docx");
    assert!(e.text.contains("Zweiter\tAbsatz & mehr"), "{:?}", e.text);
    assert!(
        !e.text.contains("HYPERLINK"),
        "field codes are not text: {:?}",
        e.text
    );

    let e = ok(
        &xlsx(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "t.xlsx",
    );
    assert_sentence(&e.text, "xlsx");
    assert!(
        e.text.contains("42") && e.text.contains("Inline Öl"),
        "{:?}",
        e.text
    );

    let e = ok(&pptx(), "", "vortrag.pptx");
    assert_sentence(&e.text, "pptx");
    let first = e.text.find("Folie eins").unwrap_or(usize::MAX);
    let tenth = e.text.find("Folie zehn").unwrap_or(0);
    assert!(first < tenth, "slides in numeric order: {:?}", e.text);
}

#[test]
fn open_document() {
    for (kind, name) in [
        ("text", "a.odt"),
        ("spreadsheet", "b.ods"),
        ("presentation", "c.odp"),
    ] {
        let e = ok(&odf(kind), "", name);
        assert_eq!(e.method, Method::OpenDocument, "{name}");
        assert_sentence(&e.text, name);
        assert!(
            e.text.contains("Zweiter Absatz"),
            "{name}: text:s is a space: {:?}",
            e.text
        );
    }
}

#[test]
fn pdf_text_layer() {
    let e = ok(
        &pdf_with_text(&[SENTENCE, "Zweite Seite"]),
        "application/pdf",
        "a.pdf",
    );
    assert_eq!(e.method, Method::TextLayer);
    assert_sentence(&e.text, "pdf");
    assert!(e.text.contains("Zweite Seite"), "{:?}", e.text);
}

#[test]
fn eml_with_headers_body_and_attachments() {
    let e = ok(EML.as_bytes(), "message/rfc822", "mail.eml");
    assert_eq!(e.method, Method::Email);
    assert!(
        e.text.contains("Subject: Antrag auf Änderung"),
        "{:?}",
        e.text
    );
    assert!(
        e.text.contains("Erika Mustermann <erika@example.org>"),
        "{:?}",
        e.text
    );
    assert!(e.text.contains("bauamt@example.org"), "{:?}", e.text);
    assert!(e.text.contains("Date: 2026-03-02"), "{:?}", e.text);
    assert_sentence(&e.text, "eml body");
    let (name, text) = &e.parts[0];
    assert_eq!(name, "anlage.rtf");
    assert!(text.contains("Gebührenbescheid über 50 €"), "{text:?}");
    // A mail is recognised by its headers even without type or extension.
    assert_eq!(ok(EML.as_bytes(), "", "").method, Method::Email);
}

#[test]
fn eml_html_only_body() {
    let mail = format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: HTML\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n{HTML}"
    );
    let e = ok(mail.as_bytes(), "", "m.eml");
    assert_sentence(&e.text, "html mail");
    assert!(!e.text.contains("Geheim"), "{:?}", e.text);
}

#[test]
fn outlook_msg() {
    let e = ok(&msg(), "application/vnd.ms-outlook", "nachricht.msg");
    assert_eq!(e.method, Method::Email);
    assert!(
        e.text.contains("Subject: Antrag auf Änderung"),
        "{:?}",
        e.text
    );
    assert!(
        e.text
            .contains("From: Erika Mustermann <erika@example.org>"),
        "{:?}",
        e.text
    );
    assert!(e.text.contains("To: Bauamt"), "{:?}", e.text);
    assert_sentence(&e.text, "msg body");
    assert_eq!(e.parts.len(), 1, "{:?}", e.parts);
    assert_eq!(e.parts[0].0, "notiz.txt");
    assert!(
        e.parts[0].1.contains("Gebührenbescheid über 50 €"),
        "{:?}",
        e.parts
    );
}

#[test]
fn images_need_tesseract() {
    match tesseract_status() {
        Err(_) => {
            let err = extract(
                b"\x89PNG\r\n\x1a\n0000",
                "image/png",
                "scan.png",
                &Limits::default(),
            );
            assert!(
                matches!(err, Err(ExtractError::OcrUnavailable(_))),
                "{err:?}"
            );
            let msg = err.map(|_| ()).unwrap_err().to_string();
            assert!(msg.starts_with("no text (OCR unavailable)"), "{msg}");
        }
        Ok(()) => {
            let Some(png) = render_png(&pdf_with_text(&[SENTENCE])) else {
                eprintln!("pdftoppm missing: OCR of images not exercised");
                return;
            };
            let e = ok(&png, "image/png", "scan.png");
            assert_eq!(e.method, Method::Ocr);
            assert!(e.text.contains("beantragt"), "{:?}", e.text);
            assert!(e.text.contains("Bürgerin"), "{:?}", e.text);
        }
    }
}

#[test]
fn scanned_pdf_goes_through_ocr() {
    let scanned = render_pgm(&pdf_with_text(&[SENTENCE])).map(|p| pdf_with_image(&p));
    let scanned = scanned.unwrap_or_else(|| pdf_with_text(&[]));
    let result = extract(&scanned, "application/pdf", "scan.pdf", &Limits::default());
    match tesseract_status() {
        Err(_) => assert!(
            matches!(result, Err(ExtractError::OcrUnavailable(_))),
            "{result:?}"
        ),
        Ok(()) => {
            let e = result.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(e.method, Method::Ocr);
            assert!(e.text.contains("beantragt"), "{:?}", e.text);
        }
    }
}
