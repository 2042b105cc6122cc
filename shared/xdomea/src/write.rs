//! xdomea 3.1.0 messages from Akta's model. Every child is written in the order the schema's
//! `xs:sequence` demands; code values (`code`, `name`) are unqualified, everything else carries
//! the `xdomea:` prefix; booleans are `1`/`0`.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::model::{
    CaseObject, Confidentiality, DocumentObject, FileObject, Head, Keep, Party, Plan,
    PlanUnitObject, Rating, Retention, VersionObject,
};
use crate::{MessageType, XdomeaError, NS_310};

const LIST_MESSAGE: &str = "urn:xoev-de:xdomea:codeliste:nachrichtentyp";
const LIST_DISPOSITION: &str = "urn:xoev-de:xdomea:codeliste:aussonderungsart";
const LIST_CONFIDENTIALITY: &str = "urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe";
const LIST_MEDIUM: &str = "urn:xoev-de:xdomea:codeliste:medium";
const LIST_FORMAT: &str = "urn:xoev-de:xdomea:codeliste:dateiformat";
const PRODUCT: &str = "Akta";

type Result<T> = std::result::Result<T, XdomeaError>;

/// A small layer over quick-xml's writer: names are local (`Akte`), the prefix is added here.
struct Xml {
    w: Writer<Vec<u8>>,
}

fn q(name: &str) -> String {
    format!("xdomea:{name}")
}

impl Xml {
    fn new() -> Result<Xml> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(Xml { w })
    }

    fn root(&mut self, message: MessageType, schema_file: &str) -> Result<()> {
        let mut start = BytesStart::new(q(&message.root()));
        start.push_attribute(("xmlns:xdomea", NS_310));
        start.push_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"));
        start.push_attribute((
            "xsi:schemaLocation",
            format!("{NS_310} {schema_file}").as_str(),
        ));
        self.w.write_event(Event::Start(start))?;
        Ok(())
    }

    fn open(&mut self, name: &str) -> Result<()> {
        self.w.write_event(Event::Start(BytesStart::new(q(name))))?;
        Ok(())
    }

    fn close(&mut self, name: &str) -> Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(q(name))))?;
        Ok(())
    }

    fn raw_text(&mut self, qualified: &str, text: &str) -> Result<()> {
        self.w
            .write_event(Event::Start(BytesStart::new(qualified)))?;
        self.w.write_event(Event::Text(BytesText::new(text)))?;
        self.w.write_event(Event::End(BytesEnd::new(qualified)))?;
        Ok(())
    }

    fn text(&mut self, name: &str, text: &str) -> Result<()> {
        self.raw_text(&q(name), text)
    }

    fn opt(&mut self, name: &str, text: Option<&str>) -> Result<()> {
        match text {
            Some(t) => self.text(name, t),
            None => Ok(()),
        }
    }

    fn date(&mut self, name: &str, date: Option<Date>) -> Result<()> {
        match date {
            Some(d) => self.text(name, &iso(d)),
            None => Ok(()),
        }
    }

    fn flag(&mut self, name: &str, on: bool) -> Result<()> {
        self.text(name, if on { "1" } else { "0" })
    }

    /// A code element: `<xdomea:{name} listURI listVersionID><code/><name/>?</…>`.
    fn code(
        &mut self,
        name: &str,
        list: Option<(&str, &str)>,
        code: &str,
        label: Option<&str>,
    ) -> Result<()> {
        let mut start = BytesStart::new(q(name));
        if let Some((uri, version)) = list {
            start.push_attribute(("listURI", uri));
            start.push_attribute(("listVersionID", version));
        }
        self.w.write_event(Event::Start(start))?;
        self.raw_text("code", code)?;
        if let Some(label) = label {
            self.raw_text("name", label)?;
        }
        self.close(name)
    }

    fn finish(mut self, message: MessageType) -> Result<Vec<u8>> {
        self.w
            .write_event(Event::End(BytesEnd::new(q(&message.root()))))?;
        let mut out = self.w.into_inner();
        out.push(b'\n');
        Ok(out)
    }
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn timestamp(t: OffsetDateTime) -> Result<String> {
    // Whole seconds: some archive importers refuse fractions.
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339)
        .map_err(|e| XdomeaError::Write(e.to_string()))
}

fn party(x: &mut Xml, name: &str, p: &Party) -> Result<()> {
    x.open(name)?;
    if let Some(key) = &p.authority_key {
        x.open("Behoerdenkennung")?;
        x.code("Behoerdenschluessel", None, key, None)?;
        x.close("Behoerdenkennung")?;
    }
    if let Some(institution) = &p.institution {
        x.open("Institution")?;
        x.text("Name", institution)?;
        x.close("Institution")?;
    }
    x.close(name)
}

/// The NkBasis part of every head.
fn head_basis(x: &mut Xml, message: MessageType, head: &Head) -> Result<()> {
    x.text("ProzessID", &head.process_id.to_string())?;
    x.code(
        "Nachrichtentyp",
        Some((LIST_MESSAGE, "2.0")),
        message.code(),
        Some(message.name()),
    )?;
    x.text("Erstellungszeitpunkt", &timestamp(head.created)?)?;
    party(x, "Absender", &head.sender)?;
    party(x, "Empfaenger", &head.recipient)?;
    x.open("SendendesSystem")?;
    x.text("Produktname", PRODUCT)?;
    x.text("Version", env!("CARGO_PKG_VERSION"))?;
    x.close("SendendesSystem")
}

/// What a head adds after its NkBasis part, in the schema's order.
#[derive(Clone, Copy)]
enum HeadKind {
    /// NkBasisType: nothing (receipts, import confirmations).
    Basis,
    /// `Empfangsbestaetigung` (0501, 0502, 0301).
    WithReceipt,
    /// NkAussonderungType (0503).
    Aussonderung,
    /// NkAbgabeType (0401).
    Abgabe,
}

/// A message's declaration, root element and complete head.
fn start(message: MessageType, schema_file: &str, head: &Head, kind: HeadKind) -> Result<Xml> {
    let mut x = Xml::new()?;
    x.root(message, schema_file)?;
    x.open("Kopf")?;
    head_basis(&mut x, message, head)?;
    match kind {
        HeadKind::Basis => {}
        HeadKind::WithReceipt => x.flag("Empfangsbestaetigung", head.receipt_requested)?,
        HeadKind::Aussonderung => {
            x.flag("Importbestaetigung", true)?;
            x.flag("RueckmeldungArchivkennung", true)?;
            x.flag("Empfangsbestaetigung", head.receipt_requested)?;
        }
        HeadKind::Abgabe => {
            x.flag("Importbestaetigung", true)?;
            x.flag("Empfangsbestaetigung", head.receipt_requested)?;
        }
    }
    x.close("Kopf")?;
    Ok(x)
}

fn rating(x: &mut Xml, r: Rating) -> Result<()> {
    let label = match r {
        Rating::A => "Das Schriftgutobjekt ist archivwürdig.",
        Rating::B => "Das Schriftgutobjekt ist zum Bewerten markiert.",
        Rating::V => "Das Schriftgutobjekt ist zum Vernichten markiert.",
    };
    // Double-wrapped: a choice element around the code element of the same name.
    x.open("Aussonderungsart")?;
    x.code(
        "Aussonderungsart",
        Some((LIST_DISPOSITION, "1.0")),
        r.code(),
        Some(label),
    )?;
    x.close("Aussonderungsart")
}

fn keep(x: &mut Xml, k: Keep) -> Result<()> {
    x.open("Aufbewahrungsdauer")?;
    match k {
        Keep::Years(n) => x.text("AnzahlJahre", &n.to_string())?,
        Keep::Unlimited => x.text("Unbefristet", "1")?,
    }
    x.close("Aufbewahrungsdauer")
}

fn retention(x: &mut Xml, r: &Retention) -> Result<()> {
    x.open("ArchivspezifischeMetadaten")?;
    keep(x, r.keep)?;
    rating(x, r.rating)?;
    x.date("Aufbewahrungsende", r.ends)?;
    x.close("ArchivspezifischeMetadaten")
}

fn confidentiality(x: &mut Xml, c: Confidentiality) -> Result<()> {
    // xdomea knows no "streng vertraulich" outside the classified levels: both of Akta's
    // confidential levels travel as Vertraulich.
    let (code, label) = match c {
        Confidentiality::Open => ("003", "Offen"),
        Confidentiality::Confidential | Confidentiality::StrictlyConfidential => {
            ("005", "Vertraulich")
        }
    };
    x.code(
        "Vertraulichkeitsstufe",
        Some((LIST_CONFIDENTIALITY, "1.0")),
        code,
        Some(label),
    )
}

fn identification(x: &mut Xml, id: uuid::Uuid, number: Option<usize>) -> Result<()> {
    x.open("Identifikation")?;
    x.text("ID", &id.to_string())?;
    if let Some(n) = number {
        x.text("NummerImUebergeordnetenContainer", &n.to_string())?;
    }
    x.close("Identifikation")
}

fn version(x: &mut Xml, v: &VersionObject) -> Result<()> {
    x.open("Version")?;
    x.text("Nummer", &v.number.to_string())?;
    x.open("Format")?;
    x.code("Name", Some((LIST_FORMAT, "2.0")), &v.format_code, None)?;
    if v.format_code == "100" {
        let ext = v
            .original_name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .unwrap_or("unbekannt");
        x.text("SonstigerName", ext)?;
    }
    // The format's own version is not known to Akta; the element is required.
    x.text("Version", "")?;
    x.open("Primaerdokument")?;
    x.text("Dateiname", &v.file_name)?;
    x.text("DateinameOriginal", &v.original_name)?;
    x.text("Ersteller", &v.created_by)?;
    x.text("DatumUhrzeit", &timestamp(v.created)?)?;
    x.close("Primaerdokument")?;
    x.close("Format")?;
    x.close("Version")
}

fn document(x: &mut Xml, d: &DocumentObject, number: usize) -> Result<()> {
    x.open("Dokument")?;
    identification(x, d.id, Some(number))?;
    x.open("AllgemeineMetadaten")?;
    x.text("Betreff", &d.title)?;
    x.close("AllgemeineMetadaten")?;
    x.date("Posteingangsdatum", d.received_on)?;
    x.date("Postausgangsdatum", d.sent_on)?;
    x.date("DatumDesSchreibens", d.dated)?;
    x.text("Typ", &d.kind)?;
    for v in &d.versions {
        version(x, v)?;
    }
    for (element, who) in [("Absender", &d.sender), ("Empfaenger", &d.recipient)] {
        if let Some(who) = who {
            x.open(element)?;
            x.open("Institution")?;
            x.text("Name", who)?;
            x.close("Institution")?;
            x.close(element)?;
        }
    }
    x.close("Dokument")
}

fn case(x: &mut Xml, c: &CaseObject, number: usize) -> Result<()> {
    x.open("Vorgang")?;
    identification(x, c.id, Some(number))?;
    x.open("AllgemeineMetadaten")?;
    x.text("Betreff", &c.subject)?;
    x.text("Kennzeichen", &c.reference)?;
    x.close("AllgemeineMetadaten")?;
    retention(x, &c.retention)?;
    // In a Vorgang, ZdA comes before the Laufzeit (in an Akte, near the end).
    if let Some(closed) = c.closed_on {
        x.flag("ZdA", true)?;
        x.date("ZdADatum", Some(closed))?;
    }
    if c.period_from.is_some() || c.closed_on.is_some() {
        x.open("Laufzeit")?;
        x.date("Beginn", c.period_from)?;
        x.date("Ende", c.closed_on)?;
        x.close("Laufzeit")?;
    }
    for (i, d) in c.documents.iter().enumerate() {
        document(x, d, i + 1)?;
    }
    x.close("Vorgang")
}

fn file(x: &mut Xml, f: &FileObject) -> Result<()> {
    x.open("Schriftgutobjekt")?;
    x.open("Akte")?;
    identification(x, f.id, None)?;
    x.open("AllgemeineMetadaten")?;
    x.text("Betreff", &f.subject)?;
    x.text("Kennzeichen", &f.reference)?;
    x.opt("Federfuehrung", f.lead.as_deref())?;
    confidentiality(x, f.confidentiality)?;
    x.code(
        "Medium",
        Some((LIST_MEDIUM, "1.0")),
        "001",
        Some("Elektronisch"),
    )?;
    if let Some((code, title)) = &f.plan_unit {
        x.open("Aktenplaneinheit")?;
        x.text("Kennzeichen", code)?;
        x.text("Inhaltsangabe", title)?;
        x.close("Aktenplaneinheit")?;
    }
    x.close("AllgemeineMetadaten")?;
    retention(x, &f.retention)?;
    if f.period_from.is_some() || f.period_to.is_some() {
        x.open("Laufzeit")?;
        x.date("Beginn", f.period_from)?;
        x.date("Ende", f.period_to)?;
        x.close("Laufzeit")?;
    }
    if !f.documents.is_empty() || !f.cases.is_empty() {
        // All Dokumente before all Vorgänge.
        x.open("Akteninhalt")?;
        for (i, d) in f.documents.iter().enumerate() {
            document(x, d, i + 1)?;
        }
        for (i, c) in f.cases.iter().enumerate() {
            case(x, c, i + 1)?;
        }
        x.close("Akteninhalt")?;
    }
    if let Some(closed) = f.closed_on {
        x.flag("ZdA", true)?;
        x.date("ZdADatum", Some(closed))?;
    }
    x.close("Akte")?;
    x.close("Schriftgutobjekt")
}

const AUSSONDERUNG_XSD: &str = "xdomea-Nachrichten-AussonderungDurchfuehren.xsd";
const ABGABE_XSD: &str = "xdomea-Nachrichten-AbgabeDurchfuehren.xsd";

/// `Aussonderung.Anbieteverzeichnis.0501`: the offer of due Akten to the archive, metadata
/// only (no primary documents), asking for the receipt (0504).
pub fn anbieteverzeichnis_0501(head: &Head, files: &[FileObject]) -> Result<Vec<u8>> {
    let message = MessageType::Anbieteverzeichnis0501;
    let mut x = start(message, AUSSONDERUNG_XSD, head, HeadKind::WithReceipt)?;
    for f in files {
        file(&mut x, f)?;
    }
    x.finish(message)
}

/// A receipt that is a head only: 0504, 0505, 0507 (Aussonderung) and 0403 (Abgabe).
pub fn receipt(message: MessageType, head: &Head) -> Result<Vec<u8>> {
    let schema = match message {
        MessageType::AnbietungEmpfangBestaetigen0504
        | MessageType::BewertungEmpfangBestaetigen0505
        | MessageType::AussonderungEmpfangBestaetigen0507 => AUSSONDERUNG_XSD,
        MessageType::AbgabeEmpfangBestaetigen0403 => ABGABE_XSD,
        other => {
            return Err(XdomeaError::Write(format!(
                "{} is not a receipt",
                other.root()
            )))
        }
    };
    start(message, schema, head, HeadKind::Basis)?.finish(message)
}

/// `Aussonderung.Bewertungsverzeichnis.0502`, as an archive would send it (for tests and
/// for archives that rate inside Akta).
pub fn bewertungsverzeichnis_0502(
    head: &Head,
    ratings: &[(uuid::Uuid, Rating)],
) -> Result<Vec<u8>> {
    let message = MessageType::Bewertungsverzeichnis0502;
    let mut x = start(message, AUSSONDERUNG_XSD, head, HeadKind::WithReceipt)?;
    for (id, r) in ratings {
        x.open("BewertetesObjekt")?;
        x.text("ID", &id.to_string())?;
        rating(&mut x, *r)?;
        x.close("BewertetesObjekt")?;
    }
    x.finish(message)
}

fn plan_unit(x: &mut Xml, u: &PlanUnitObject) -> Result<()> {
    x.open("Einheit")?;
    x.text("Kennzeichen", &u.code)?;
    x.text("Inhaltsangabe", &u.title)?;
    rating(x, u.rating)?;
    x.flag("Stillgelegt", u.retired)?;
    keep(x, u.keep)?;
    for child in &u.children {
        plan_unit(x, child)?;
    }
    x.close("Einheit")
}

/// `Aktenplan.Aktenplan.0301`: a tenant's Aktenplan.
pub fn aktenplan_0301(head: &Head, plan: &Plan) -> Result<Vec<u8>> {
    let message = MessageType::Aktenplan0301;
    let mut x = start(
        message,
        "xdomea-Nachrichten-AktenplanAustauschen.xsd",
        head,
        HeadKind::WithReceipt,
    )?;
    x.open("Aktenplan")?;
    x.text("Bezeichnung", &plan.name)?;
    x.text("Version", &plan.version)?;
    for u in &plan.units {
        plan_unit(&mut x, u)?;
    }
    x.close("Aktenplan")?;
    x.finish(message)
}

/// `Aussonderung.Aussonderung.0503`: the Akten the archive takes, with their Dokumente and
/// every version's primary document (named as in the container), asking for the import
/// confirmation (0506) with the archive's references and for the receipt (0507).
pub fn aussonderung_0503(head: &Head, files: &[FileObject]) -> Result<Vec<u8>> {
    let message = MessageType::Aussonderung0503;
    let mut x = start(message, AUSSONDERUNG_XSD, head, HeadKind::Aussonderung)?;
    for f in files {
        file(&mut x, f)?;
    }
    x.finish(message)
}

/// `Aussonderung.AussonderungImportBestaetigen.0506`, as an archive sends it (for tests and
/// archive simulators): per object whether it was imported, and the archive's reference.
pub fn import_bestaetigung_0506(
    head: &Head,
    results: &[crate::read::ImportResult],
) -> Result<Vec<u8>> {
    let message = MessageType::AussonderungImportBestaetigen0506;
    let mut x = start(message, AUSSONDERUNG_XSD, head, HeadKind::Basis)?;
    for r in results {
        x.open("AusgesondertesSGO")?;
        x.text("IDSGO", &r.id.to_string())?;
        x.flag("Erfolgreich", r.imported)?;
        for e in &r.errors {
            x.text("Fehlermeldung", e)?;
        }
        x.opt("Archivkennung", r.archive_reference.as_deref())?;
        x.close("AusgesondertesSGO")?;
    }
    x.finish(message)
}

/// `Abgabe.Abgabe.0401`: Akten handed to another authority with their Dokumente and every
/// version's primary document, asking for the import confirmation (0402) and the receipt
/// (0403).
pub fn abgabe_0401(head: &Head, files: &[FileObject]) -> Result<Vec<u8>> {
    let message = MessageType::Abgabe0401;
    let mut x = start(message, ABGABE_XSD, head, HeadKind::Abgabe)?;
    for f in files {
        file(&mut x, f)?;
    }
    x.finish(message)
}
