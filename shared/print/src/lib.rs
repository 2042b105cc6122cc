//! Printable records made by Akta itself, as PDF (no headless browser on the server): the
//! Aktenauszug of an Akte, i.e. its Aktendeckel (cover sheet) and its Inhaltsverzeichnis
//! (the documents in filing order with dates and kinds).
//!
//! The PDF uses the standard Helvetica fonts with WinAnsiEncoding, so every viewer and
//! `pdftotext` reads German text without embedded fonts; characters outside Windows-1252
//! print as `?`. The caller hands in finished strings (dates already German), so this crate
//! knows layout only.

mod layout;

use layout::{Cell, Doc, Font};

#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be written: {0}")]
pub struct PrintError(String);

/// One labelled line of the Aktendeckel.
pub struct Field {
    pub label: String,
    pub value: String,
}

/// One row of the Inhaltsverzeichnis.
pub struct Entry {
    pub date: String,
    pub kind: String,
    pub title: String,
    /// Absender or Empfänger.
    pub party: String,
    /// The Vorgangszeichen, if the document lies in a Vorgang.
    pub case: String,
    pub versions: String,
}

/// What an Aktenauszug shows.
pub struct Aktenauszug {
    /// The authority (the tenant's name), printed at the top.
    pub authority: String,
    pub reference: String,
    pub subject: String,
    /// Plan unit, Federführung, Laufzeit, status, … in order.
    pub fields: Vec<Field>,
    /// The Vorgänge: Zeichen and Betreff.
    pub cases: Vec<(String, String)>,
    pub entries: Vec<Entry>,
    /// "Erstellt am 06.12.2026 um 10:15 von Paula Peters".
    pub printed: String,
    /// Labels, in the reader's language.
    pub labels: Labels,
}

/// The fixed words of the printout.
pub struct Labels {
    pub cover: String,
    pub cases: String,
    pub no_cases: String,
    pub contents: String,
    pub no_documents: String,
    pub nr: String,
    pub date: String,
    pub kind: String,
    pub title: String,
    pub party: String,
    pub case: String,
    pub versions: String,
    /// "Seite {n} von {total}"
    pub page: String,
}

/// The Aktenauszug as PDF bytes.
pub fn aktenauszug(a: &Aktenauszug) -> Result<Vec<u8>, PrintError> {
    let mut doc = Doc::new();
    doc.text(&a.authority, Font::Regular, 11.0);
    doc.gap(18.0);
    doc.text(&a.labels.cover, Font::Bold, 12.0);
    doc.gap(6.0);
    doc.text(&a.reference, Font::Bold, 22.0);
    doc.gap(4.0);
    doc.text(&a.subject, Font::Regular, 15.0);
    doc.gap(14.0);
    for f in &a.fields {
        doc.row(
            &[
                Cell::new(&f.label, 150.0, Font::Bold),
                Cell::new(&f.value, layout::WIDTH - 150.0, Font::Regular),
            ],
            10.5,
        );
    }
    doc.gap(14.0);
    doc.text(&a.labels.cases, Font::Bold, 12.0);
    doc.gap(4.0);
    if a.cases.is_empty() {
        doc.text(&a.labels.no_cases, Font::Regular, 10.5);
    }
    for (reference, subject) in &a.cases {
        doc.row(
            &[
                Cell::new(reference, 150.0, Font::Regular),
                Cell::new(subject, layout::WIDTH - 150.0, Font::Regular),
            ],
            10.5,
        );
    }

    doc.new_page();
    doc.text(&a.labels.contents, Font::Bold, 14.0);
    doc.text(
        &format!("{} – {}", a.reference, a.subject),
        Font::Regular,
        10.5,
    );
    doc.gap(10.0);
    if a.entries.is_empty() {
        doc.text(&a.labels.no_documents, Font::Regular, 10.5);
    } else {
        let widths = [24.0, 58.0, 52.0, 150.0, 95.0, 74.0, layout::WIDTH - 453.0];
        let header = [
            &a.labels.nr,
            &a.labels.date,
            &a.labels.kind,
            &a.labels.title,
            &a.labels.party,
            &a.labels.case,
            &a.labels.versions,
        ];
        let header_cells: Vec<Cell> = header
            .iter()
            .zip(widths)
            .map(|(t, w)| Cell::new(t, w, Font::Bold))
            .collect();
        doc.row(&header_cells, 9.0);
        doc.rule();
        for (i, e) in a.entries.iter().enumerate() {
            let nr = (i + 1).to_string();
            let values = [
                &nr,
                &e.date,
                &e.kind,
                &e.title,
                &e.party,
                &e.case,
                &e.versions,
            ];
            let cells: Vec<Cell> = values
                .iter()
                .zip(widths)
                .map(|(t, w)| Cell::new(t, w, Font::Regular))
                .collect();
            doc.row(&cells, 9.0);
        }
    }
    doc.finish(&a.printed, &a.labels.page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels {
            cover: "Aktendeckel".into(),
            cases: "Vorgänge".into(),
            no_cases: "Keine Vorgänge.".into(),
            contents: "Inhaltsverzeichnis".into(),
            no_documents: "Keine Dokumente.".into(),
            nr: "Nr.".into(),
            date: "Datum".into(),
            kind: "Art".into(),
            title: "Titel".into(),
            party: "Absender/Empfänger".into(),
            case: "Vorgang".into(),
            versions: "Vers.".into(),
            page: "Seite {n} von {total}".into(),
        }
    }

    #[test]
    fn a_long_inhaltsverzeichnis_spans_pages_and_is_a_pdf() {
        let a = Aktenauszug {
            authority: "Stadt Wetter (Ruhr)".into(),
            reference: "63.01-0003/2026".into(),
            subject: "Neubau Kindertagesstätte, Lindenweg 12 – Größe über €".into(),
            fields: vec![Field {
                label: "Aktenplan".into(),
                value: "63.01 Baugenehmigungen".into(),
            }],
            cases: vec![("63.01-0003/2026-1".into(), "Bauantrag".into())],
            entries: (0..120)
                .map(|i| Entry {
                    date: "02.03.2026".into(),
                    kind: "Eingang".into(),
                    title: format!("Schreiben {i} mit einem langen Titel, der umbrochen werden muss, weil er nicht passt"),
                    party: "Erika Müller".into(),
                    case: String::new(),
                    versions: "1".into(),
                })
                .collect(),
            printed: "Erstellt am 06.12.2026".into(),
            labels: labels(),
        };
        let pdf = aktenauszug(&a).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let parsed = lopdf::Document::load_mem(&pdf).unwrap();
        assert!(
            parsed.get_pages().len() >= 4,
            "{} pages",
            parsed.get_pages().len()
        );
        let text = parsed.extract_text(&[1]).unwrap();
        assert!(text.contains("63.01-0003/2026"), "{text}");
        assert!(text.contains("Kindertagesstätte"), "{text}");
    }
}
