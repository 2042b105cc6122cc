//! xdomea, the German standard for exchanging records (XÖV, KoSIT), as far as Akta speaks it:
//! Aussonderung (05xx), Abgabe (04xx) and the Aktenplan (0301).
//!
//! [`model`] holds what Akta exchanges, in Akta's words; [`write`] turns it into xdomea 3.1.0
//! messages; [`read`] parses messages of 3.0.0 and 3.1.0 (they differ only in the namespace
//! for the messages used here) from untrusted input: bounded size, depth and element count,
//! no DTDs and no entities besides XML's own, and errors that name the element and its line.
//! Written with quick-xml's event API rather than serde so that the element order xdomea's
//! `xs:sequence`s demand is explicit in the code, and so that reading never allocates a
//! structure for anything the limits have not admitted.

pub mod model;
pub mod read;
pub mod write;

/// The namespace Akta writes.
pub const NS_310: &str = "urn:xoev-de:xdomea:schema:3.1.0";
/// The older namespace Akta reads too.
pub const NS_300: &str = "urn:xoev-de:xdomea:schema:3.0.0";

/// The messages Akta produces or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Aktenplan0301,
    Abgabe0401,
    AbgabeImportBestaetigen0402,
    AbgabeEmpfangBestaetigen0403,
    Anbieteverzeichnis0501,
    Bewertungsverzeichnis0502,
    Aussonderung0503,
    AnbietungEmpfangBestaetigen0504,
    BewertungEmpfangBestaetigen0505,
    AussonderungImportBestaetigen0506,
    AussonderungEmpfangBestaetigen0507,
}

impl MessageType {
    pub const ALL: [MessageType; 11] = [
        MessageType::Aktenplan0301,
        MessageType::Abgabe0401,
        MessageType::AbgabeImportBestaetigen0402,
        MessageType::AbgabeEmpfangBestaetigen0403,
        MessageType::Anbieteverzeichnis0501,
        MessageType::Bewertungsverzeichnis0502,
        MessageType::Aussonderung0503,
        MessageType::AnbietungEmpfangBestaetigen0504,
        MessageType::BewertungEmpfangBestaetigen0505,
        MessageType::AussonderungImportBestaetigen0506,
        MessageType::AussonderungEmpfangBestaetigen0507,
    ];

    /// The four-digit code (`Nachrichtentyp`).
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Aktenplan0301 => "0301",
            MessageType::Abgabe0401 => "0401",
            MessageType::AbgabeImportBestaetigen0402 => "0402",
            MessageType::AbgabeEmpfangBestaetigen0403 => "0403",
            MessageType::Anbieteverzeichnis0501 => "0501",
            MessageType::Bewertungsverzeichnis0502 => "0502",
            MessageType::Aussonderung0503 => "0503",
            MessageType::AnbietungEmpfangBestaetigen0504 => "0504",
            MessageType::BewertungEmpfangBestaetigen0505 => "0505",
            MessageType::AussonderungImportBestaetigen0506 => "0506",
            MessageType::AussonderungEmpfangBestaetigen0507 => "0507",
        }
    }

    /// The name without the code, as in `Nachrichtentyp/name`.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Aktenplan0301 => "Aktenplan.Aktenplan",
            MessageType::Abgabe0401 => "Abgabe.Abgabe",
            MessageType::AbgabeImportBestaetigen0402 => "Abgabe.ImportBestaetigen",
            MessageType::AbgabeEmpfangBestaetigen0403 => "Abgabe.EmpfangBestaetigen",
            MessageType::Anbieteverzeichnis0501 => "Aussonderung.Anbieteverzeichnis",
            MessageType::Bewertungsverzeichnis0502 => "Aussonderung.Bewertungsverzeichnis",
            MessageType::Aussonderung0503 => "Aussonderung.Aussonderung",
            MessageType::AnbietungEmpfangBestaetigen0504 => {
                "Aussonderung.AnbietungEmpfangBestaetigen"
            }
            MessageType::BewertungEmpfangBestaetigen0505 => {
                "Aussonderung.BewertungEmpfangBestaetigen"
            }
            MessageType::AussonderungImportBestaetigen0506 => {
                "Aussonderung.AussonderungImportBestaetigen"
            }
            MessageType::AussonderungEmpfangBestaetigen0507 => {
                "Aussonderung.AussonderungEmpfangBestaetigen"
            }
        }
    }

    /// The root element's local name, e.g. `Aussonderung.Anbieteverzeichnis.0501`.
    pub fn root(self) -> String {
        format!("{}.{}", self.name(), self.code())
    }

    /// `"0501"` → the message.
    pub fn from_code(code: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|m| m.code() == code)
    }

    fn from_root(local: &str) -> Option<MessageType> {
        MessageType::ALL.into_iter().find(|m| m.root() == local)
    }
}

/// Why a message cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XdomeaError {
    /// Not well-formed, not xdomea, or breaking a rule; names the element and its line.
    #[error("{element} (line {line}): {detail}")]
    Invalid {
        element: String,
        line: usize,
        detail: String,
    },
    /// Larger, deeper or with more elements than a message may have.
    #[error("{0}")]
    TooLarge(String),
    /// Another message than the one expected here.
    #[error("expected message {expected}, found {found}")]
    WrongMessage { expected: String, found: String },
    #[error("writing XML: {0}")]
    Write(String),
}

impl From<std::io::Error> for XdomeaError {
    fn from(e: std::io::Error) -> Self {
        XdomeaError::Write(e.to_string())
    }
}
