//! The Aktenauszug (`GET /api/v1/files/{id}/summary.pdf`, issue 14): a PDF with the
//! Aktendeckel and the Inhaltsverzeichnis, readable by `pdftotext`, for the Akte's own
//! tenant only.

use std::process::Command;

use akta_testkit::TestApp;
use serde_json::json;

/// The PDF's text through poppler's `pdftotext`, if it is installed.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("auszug.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aktenauszug_lists_every_document_in_filing_order() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("hattingen").await;
    let unit = t.admin.create_plan_unit("32", None).await;
    let created = t
        .admin
        .create_file(&unit, "Gaststättenerlaubnis Ruhrstraße 7")
        .await;
    let file = created.id();
    let reference = created.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let case = t.admin.create_case(&file, "Erlaubnisantrag").await;
    for (parent, title, sender) in [
        (
            format!("/api/v1/files/{file}"),
            "Antrag auf Erlaubnis",
            "Gastwirt Özdemir",
        ),
        (
            format!("/api/v1/cases/{case}"),
            "Stellungnahme Ordnungsamt",
            "Ordnungsamt",
        ),
    ] {
        let r = t
            .admin
            .upload(
                &format!("{parent}/documents"),
                Some(json!({"title": title, "kind": "Eingang", "sender": sender, "document_date": "2026-04-01"})),
                Some(("brief.txt", "text/plain", b"Inhalt".to_vec())),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = t
        .admin
        .get(&format!("/api/v1/files/{file}/summary.pdf"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.bytes.starts_with(b"%PDF-"), "not a PDF");

    let other = app.create_tenant("sprockhoevel").await;
    assert_eq!(
        other
            .admin
            .get(&format!("/api/v1/files/{file}/summary.pdf"))
            .await
            .status,
        404
    );
    assert_eq!(
        t.admin
            .get("/api/v1/files/kein-uuid/summary.pdf")
            .await
            .status,
        400
    );

    let Some(text) = pdf_text(&r.bytes) else {
        eprintln!(
            "SKIPPED: reading the Aktenauszug back: pdftotext (poppler-utils) is not installed"
        );
        return;
    };
    for expected in [
        reference.as_str(),
        "Gaststättenerlaubnis Ruhrstraße 7",
        "Aktendeckel",
        "Inhaltsverzeichnis",
        "Erlaubnisantrag",
        "Gastwirt Özdemir",
        "01.04.2026",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    let first = text.find("Antrag auf Erlaubnis").expect("first document");
    let second = text
        .find("Stellungnahme Ordnungsamt")
        .expect("second document");
    assert!(first < second, "not in filing order:\n{text}");
}
