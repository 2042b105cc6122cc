//! `extract_plain` (in-process, while filing) gives exactly what `extract` gives for plain
//! text, and nothing for anything else.

mod fixtures;

use akta_extract::{extract, extract_plain, Limits, Method};
use fixtures::*;
use proptest::prelude::*;

const MAX: usize = 64 * 1024;

fn isolated_would_be_plain(bytes: &[u8], media_type: &str, name: &str) -> Option<String> {
    match extract(bytes, media_type, name, &Limits::default()) {
        Ok(e) if e.method == Method::Plain => Some(e.text),
        _ => None,
    }
}

#[test]
fn german_text_in_latin_1_is_decoded() {
    let latin1: Vec<u8> = "Gebührenbescheid für Müller, Straße 5"
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect();
    let e = extract_plain(&latin1, "text/plain", "bescheid.txt", MAX).expect("plain text");
    assert_eq!(e.text, "Gebührenbescheid für Müller, Straße 5");
    assert_eq!(e.method, Method::Plain);
}

#[test]
fn other_formats_and_large_text_are_left_to_the_isolated_way() {
    let pdf = pdf_with_text(&[SENTENCE]);
    assert!(extract_plain(&pdf, "text/plain", "x.txt", MAX).is_none());
    assert!(extract_plain(&docx(), "", "antrag.docx", MAX).is_none());
    let html = b"<!DOCTYPE html><html><body><p>Hallo</p></body></html>";
    assert!(extract_plain(html, "", "seite", MAX).is_none());
    let mail = b"From: a@example.org\nSubject: Antrag\n\nText";
    assert!(extract_plain(mail, "", "nachricht", MAX).is_none());
    // Text by content but declared as something else follows the declaration.
    assert!(extract_plain(b"Hallo", "text/html", "x", MAX).is_none());
    assert!(extract_plain(b"Hallo", "", "x.rtf", MAX).is_none());
    assert!(extract_plain(&[0u8; 64], "", "binaer", MAX).is_none());
    let large = "Widerspruch ".repeat(MAX / 12 + 1);
    assert!(extract_plain(large.as_bytes(), "text/plain", "x.txt", MAX).is_none());
    assert!(extract_plain(b"Widerspruch", "text/plain", "x.txt", MAX).is_some());
}

fn media_type() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        "text/plain",
        "text/plain; charset=ISO-8859-15",
        "text/plain; charset=utf-16le",
        "text/html",
        "message/rfc822",
        "application/pdf",
        "application/octet-stream",
    ])
}

fn file_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["notiz.txt", "x", "a.pdf", "b.html", "c.eml", "d.docx"])
}

fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "[a-zA-Zäöüß \\n:<>!%-]{0,300}".prop_map(String::into_bytes),
        ("(From|Subject|To): [a-z]{1,8}\\n", "[a-z ]{0,40}")
            .prop_map(|(h, b)| format!("From: x\n{h}\n{b}").into_bytes()),
        prop::sample::select(vec![
            b"%PDF-1.4 x".to_vec(),
            b"PK\x03\x04rest".to_vec(),
            b"{\\rtf1 Hallo}".to_vec(),
            b"<html><p>x</p></html>".to_vec(),
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// In-process extraction never decides differently from the isolated one.
    #[test]
    fn plain_extraction_agrees_with_the_isolated_one(
        bytes in content(),
        media_type in media_type(),
        name in file_name(),
    ) {
        let inline = extract_plain(&bytes, media_type, name, MAX).map(|e| e.text);
        prop_assert_eq!(inline, isolated_would_be_plain(&bytes, media_type, name));
    }
}
