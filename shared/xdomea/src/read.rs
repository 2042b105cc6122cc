//! Reading xdomea messages from untrusted input. The message is first read into a small
//! tree under hard limits (size, depth, element count), refusing DTDs and any entity besides
//! XML's five and character references, so no external entity is ever fetched and no
//! expansion can grow. Then typed readers take what Akta needs from the tree; every error
//! names the element and its line.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use uuid::Uuid;

use crate::model::{Keep, Plan, PlanUnitObject, Rating};
use crate::{MessageType, XdomeaError, NS_300, NS_310};

/// How much a message may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 64,
            max_elements: 500_000,
        }
    }
}

/// The schema version a message was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V300,
    V310,
}

/// One element: its local name, whether it is in an xdomea namespace, its attributes, its
/// text and children, and its line.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub local: String,
    pub xdomea: bool,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    pub line: usize,
}

fn invalid(element: &str, line: usize, detail: impl Into<String>) -> XdomeaError {
    XdomeaError::Invalid {
        element: element.to_owned(),
        line,
        detail: detail.into(),
    }
}

impl Node {
    /// The first xdomea child named `local`.
    pub fn child(&self, local: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.xdomea && c.local == local)
    }

    /// Every xdomea child named `local`.
    pub fn all<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children
            .iter()
            .filter(move |c| c.xdomea && c.local == local)
    }

    /// The child `local`, or an error naming what is missing where.
    pub fn req(&self, local: &str) -> Result<&Node, XdomeaError> {
        self.child(local).ok_or_else(|| {
            invalid(
                &self.local,
                self.line,
                format!("element {local} is missing"),
            )
        })
    }

    /// The trimmed text of the child `local`, if present and not empty.
    pub fn text_of(&self, local: &str) -> Option<&str> {
        self.child(local)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// The `code` of a code element (unqualified child).
    pub fn code(&self) -> Option<&str> {
        self.children
            .iter()
            .find(|c| !c.xdomea && c.local == "code")
            .map(|c| c.text.trim())
    }

    fn error(&self, detail: impl Into<String>) -> XdomeaError {
        invalid(&self.local, self.line, detail)
    }

    fn uuid(&self) -> Result<Uuid, XdomeaError> {
        Uuid::parse_str(self.text.trim())
            .map_err(|_| self.error(format!("'{}' is not a UUID", self.text.trim())))
    }
}

/// A parsed message.
#[derive(Debug, Clone)]
pub struct Message {
    pub version: Version,
    pub kind: MessageType,
    pub root: Node,
}

/// What every message's head says that Akta uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadIn {
    pub process_id: Uuid,
    pub sender_key: Option<String>,
    pub sender_institution: Option<String>,
}

const PREDEFINED: [(&str, char); 5] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
];

/// Reads a message into a tree under `limits`.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Message, XdomeaError> {
    if bytes.len() > limits.max_bytes {
        return Err(XdomeaError::TooLarge(format!(
            "the message has {} bytes; at most {} are read",
            bytes.len(),
            limits.max_bytes
        )));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(invalid("(document)", 1, "the message is not UTF-8"));
    }
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    // Line numbers: newlines counted up to each event's start, incrementally.
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut line_at = |pos: usize| {
        let pos = pos.min(bytes.len());
        if pos > counted_to {
            line += bytes[counted_to..pos]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted_to = pos;
        }
        line
    };
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let here = line_at(pos);
        let current = stack
            .last()
            .map_or("(document)", |n| n.local.as_str())
            .to_owned();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| invalid(&current, here, format!("not well-formed XML: {e}")))?;
        let xdomea = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS_310.as_bytes() || n.as_ref() == NS_300.as_bytes());
        let version = match ns {
            ResolveResult::Bound(n) if n.as_ref() == NS_300.as_bytes() => Some(Version::V300),
            ResolveResult::Bound(n) if n.as_ref() == NS_310.as_bytes() => Some(Version::V310),
            _ => None,
        };
        match event {
            Event::Start(start) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XdomeaError::TooLarge(format!(
                        "more than {} elements",
                        limits.max_elements
                    )));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XdomeaError::TooLarge(format!(
                        "elements nested deeper than {}",
                        limits.max_depth
                    )));
                }
                let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let mut attrs = Vec::new();
                for a in start.attributes() {
                    let a = a.map_err(|e| invalid(&local, here, format!("attribute: {e}")))?;
                    let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                    let value = a
                        .unescape_value()
                        .map_err(|e| invalid(&local, here, format!("attribute {key}: {e}")))?
                        .into_owned();
                    attrs.push((key, value));
                }
                if stack.is_empty() && root.is_some() {
                    return Err(invalid(&local, here, "a second root element"));
                }
                if stack.is_empty() && version.is_none() {
                    return Err(invalid(
                        &local,
                        here,
                        format!("not an xdomea 3.0.0 or 3.1.0 message (namespace {NS_310} or {NS_300} expected)"),
                    ));
                }
                stack.push(Node {
                    local,
                    xdomea,
                    attrs,
                    text: String::new(),
                    children: Vec::new(),
                    line: here,
                });
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(invalid(&current, here, "unbalanced end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let text = t
                    .decode()
                    .map_err(|e| invalid(&current, here, format!("text: {e}")))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(invalid(&current, here, "text outside the root element")),
                }
            }
            Event::CData(t) => {
                let text = t
                    .decode()
                    .map_err(|e| invalid(&current, here, format!("CDATA: {e}")))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = r
                            .decode()
                            .map_err(|e| invalid(&current, here, format!("reference: {e}")))?;
                        PREDEFINED
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, c)| *c)
                            .ok_or_else(|| {
                                invalid(
                                    &current,
                                    here,
                                    format!(
                                        "entity &{name}; is not allowed (only XML's own entities)"
                                    ),
                                )
                            })?
                    }
                    Err(e) => return Err(invalid(&current, here, format!("reference: {e}"))),
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push(c);
                }
            }
            Event::DocType(_) => {
                return Err(invalid(
                    "(document)",
                    here,
                    "a DOCTYPE is not allowed in an xdomea message (no DTDs, no external entities)",
                ))
            }
            Event::Eof => break,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    let root = root.ok_or_else(|| invalid("(document)", line, "no root element"))?;
    if !stack.is_empty() {
        return Err(invalid(&root.local, root.line, "unclosed elements"));
    }
    let kind = MessageType::from_root(&root.local)
        .ok_or_else(|| root.error(format!("{} is not a message Akta reads", root.local)))?;
    let version = if root.xdomea {
        // The namespace was checked at the root; which one it was decides the version.
        version_of(bytes)
    } else {
        return Err(root.error("not an xdomea message"));
    };
    // The head's Nachrichtentyp must agree with the root element.
    let code = root
        .req("Kopf")?
        .req("Nachrichtentyp")?
        .code()
        .unwrap_or_default()
        .to_owned();
    if code != kind.code() {
        return Err(root.error(format!(
            "the head says message type {code:?}, the root element {}",
            kind.code()
        )));
    }
    Ok(Message {
        version,
        kind,
        root,
    })
}

fn version_of(bytes: &[u8]) -> Version {
    let head = &bytes[..bytes.len().min(4096)];
    if head.windows(NS_300.len()).any(|w| w == NS_300.as_bytes()) {
        Version::V300
    } else {
        Version::V310
    }
}

impl Message {
    /// Refuses any other message than `expected`.
    pub fn expect(&self, expected: MessageType) -> Result<(), XdomeaError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(XdomeaError::WrongMessage {
                expected: expected.root(),
                found: self.kind.root(),
            })
        }
    }

    pub fn head(&self) -> Result<HeadIn, XdomeaError> {
        let head = self.root.req("Kopf")?;
        let process_id = head.req("ProzessID")?.uuid()?;
        let sender = head.child("Absender");
        Ok(HeadIn {
            process_id,
            sender_key: sender
                .and_then(|s| s.child("Behoerdenkennung"))
                .and_then(|b| b.child("Behoerdenschluessel"))
                .and_then(Node::code)
                .map(str::to_owned),
            sender_institution: sender
                .and_then(|s| s.child("Institution"))
                .and_then(|i| i.text_of("Name"))
                .map(str::to_owned),
        })
    }

    /// The ratings of a 0502: each rated object's id with A, B or V.
    pub fn ratings(&self) -> Result<Vec<(Uuid, Rating)>, XdomeaError> {
        self.expect(MessageType::Bewertungsverzeichnis0502)?;
        let mut out = Vec::new();
        for object in self.root.all("BewertetesObjekt") {
            let id = object.req("ID")?.uuid()?;
            out.push((id, rating_of(object.req("Aussonderungsart")?)?));
        }
        if out.is_empty() {
            return Err(self.root.error("no BewertetesObjekt"));
        }
        Ok(out)
    }

    /// The Aktenplan of a 0301.
    pub fn plan(&self) -> Result<Plan, XdomeaError> {
        self.expect(MessageType::Aktenplan0301)?;
        let plan = self.root.req("Aktenplan")?;
        Ok(Plan {
            name: plan.text_of("Bezeichnung").unwrap_or_default().to_owned(),
            version: plan.text_of("Version").unwrap_or_default().to_owned(),
            units: plan
                .all("Einheit")
                .map(plan_unit)
                .collect::<Result<_, _>>()?,
        })
    }

    /// What a 0506 (or 0402) says about each object: its id, whether it was imported, the
    /// archive's reference for it, and the errors reported.
    pub fn import_results(&self) -> Result<Vec<ImportResult>, XdomeaError> {
        let element = match self.kind {
            MessageType::AussonderungImportBestaetigen0506 => "AusgesondertesSGO",
            MessageType::AbgabeImportBestaetigen0402 => "AbgegebenesObjekt",
            _ => {
                return Err(XdomeaError::WrongMessage {
                    expected: MessageType::AussonderungImportBestaetigen0506.root(),
                    found: self.kind.root(),
                })
            }
        };
        let mut out = Vec::new();
        for object in self.root.all(element) {
            let ok = object.req("Erfolgreich")?;
            out.push(ImportResult {
                id: object.req("IDSGO")?.uuid()?,
                imported: match ok.text.trim() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    other => return Err(ok.error(format!("'{other}' is not a boolean"))),
                },
                archive_reference: object.text_of("Archivkennung").map(str::to_owned),
                errors: object
                    .all("Fehlermeldung")
                    .map(|e| e.text.trim().to_owned())
                    .collect(),
            });
        }
        Ok(out)
    }
}

/// One object's outcome in an import confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResult {
    pub id: Uuid,
    pub imported: bool,
    pub archive_reference: Option<String>,
    pub errors: Vec<String>,
}

/// The code inside the double-wrapped Aussonderungsart.
fn rating_of(wrapper: &Node) -> Result<Rating, XdomeaError> {
    let inner = wrapper.req("Aussonderungsart")?;
    let code = inner.code().ok_or_else(|| inner.error("code is missing"))?;
    Rating::parse(code).ok_or_else(|| inner.error(format!("'{code}' is not A, B or V")))
}

fn plan_unit(unit: &Node) -> Result<PlanUnitObject, XdomeaError> {
    let keep_node = unit.req("Aufbewahrungsdauer")?;
    let keep =
        match (
            keep_node.text_of("AnzahlJahre"),
            keep_node.child("Unbefristet"),
        ) {
            (Some(n), _) => Keep::Years(n.parse().map_err(|_| {
                keep_node.error(format!("AnzahlJahre '{n}' is not a number of years"))
            })?),
            (None, Some(_)) => Keep::Unlimited,
            (None, None) => return Err(keep_node.error("neither AnzahlJahre nor Unbefristet")),
        };
    Ok(PlanUnitObject {
        code: unit
            .text_of("Kennzeichen")
            .ok_or_else(|| unit.error("Kennzeichen is missing"))?
            .to_owned(),
        title: unit
            .text_of("Inhaltsangabe")
            .or_else(|| unit.text_of("BetreffKurz"))
            .unwrap_or_default()
            .to_owned(),
        rating: rating_of(unit.req("Aussonderungsart")?)?,
        keep,
        retired: unit.text_of("Stillgelegt") == Some("1"),
        children: unit
            .all("Einheit")
            .map(plan_unit)
            .collect::<Result<_, _>>()?,
    })
}

/// An entry larger than this that compresses better than [`BOMB_RATIO`]:1 is no document
/// but a zip bomb (scans and office files compress little; text perhaps 10:1).
const BOMB_MIN_BYTES: u64 = 16 * 1024 * 1024;
const BOMB_RATIO: u64 = 100;

/// Entries a container may hold (one message and its primary documents).
const MAX_ENTRIES: usize = 100_000;

/// The message of a body that is either the XML itself or an xdomea container (a zip with
/// the message `*.xml` at its root). See [`Container`].
pub fn message_bytes(body: &[u8], limits: Limits) -> Result<Cow<'_, [u8]>, XdomeaError> {
    if !body.starts_with(b"PK\x03\x04") {
        return Ok(Cow::Borrowed(body));
    }
    let mut container = Container::open(std::io::Cursor::new(body), limits)?;
    Ok(Cow::Owned(container.message()?))
}

/// An xdomea container: a zip with the message `*.xml` and the primary documents at its root.
/// Entry names that leave the container (`..`, absolute, backslashes) refuse the whole
/// container; every entry is read no further than its limit, whatever size the zip declares
/// (a zip bomb stops there).
pub struct Container<R: std::io::Read + std::io::Seek> {
    archive: zip::ZipArchive<R>,
    message: usize,
    limits: Limits,
}

fn container_error(detail: String) -> XdomeaError {
    invalid("(zip)", 0, detail)
}

impl<R: std::io::Read + std::io::Seek> Container<R> {
    pub fn open(reader: R, limits: Limits) -> Result<Self, XdomeaError> {
        let mut archive = zip::ZipArchive::new(reader)
            .map_err(|e| container_error(format!("not a readable zip: {e}")))?;
        if archive.len() > MAX_ENTRIES {
            return Err(XdomeaError::TooLarge(format!(
                "the container has {} entries; at most {MAX_ENTRIES}",
                archive.len()
            )));
        }
        let mut message = None;
        for i in 0..archive.len() {
            let entry = archive
                .by_index_raw(i)
                .map_err(|e| container_error(format!("entry {i}: {e}")))?;
            let name = entry
                .name()
                .map_err(|e| container_error(format!("entry {i}: {e}")))?
                .into_owned();
            if name.starts_with('/')
                || name.contains('\\')
                || name.split('/').any(|part| part == "..")
            {
                return Err(container_error(format!(
                    "entry name {name:?} leaves the container"
                )));
            }
            let (packed, unpacked) = (entry.compressed_size(), entry.size());
            if unpacked > BOMB_MIN_BYTES && unpacked > packed.saturating_mul(BOMB_RATIO) {
                return Err(XdomeaError::TooLarge(format!(
                    "entry {name} unpacks from {packed} to {unpacked} bytes (more than \
                     {BOMB_RATIO}:1): refused as a zip bomb"
                )));
            }
            if !name.contains('/') && name.to_ascii_lowercase().ends_with(".xml") {
                if message.is_some() {
                    return Err(container_error(
                        "more than one message (*.xml) in the container".into(),
                    ));
                }
                message = Some(i);
            }
        }
        let message =
            message.ok_or_else(|| container_error("no message (*.xml) in the container".into()))?;
        Ok(Container {
            archive,
            message,
            limits,
        })
    }

    /// The message XML, at most `limits.max_bytes`.
    pub fn message(&mut self) -> Result<Vec<u8>, XdomeaError> {
        let entry = self
            .archive
            .by_index(self.message)
            .map_err(|e| container_error(format!("the message entry: {e}")))?;
        read_capped(entry, self.limits.max_bytes as u64, "the message")
    }

    /// The names of every entry.
    pub fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect()
    }

    /// The size an entry declares (unpacked).
    pub fn size_of(&mut self, name: &str) -> Option<u64> {
        self.archive.by_name(name).ok().map(|e| e.size())
    }

    /// Whether the container holds a file of this name.
    pub fn contains(&mut self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// The entry `name`, read through `visit` in chunks, at most `max` bytes.
    pub fn read_entry(
        &mut self,
        name: &str,
        max: u64,
        mut visit: impl FnMut(&[u8]) -> Result<(), XdomeaError>,
    ) -> Result<u64, XdomeaError> {
        let entry = self
            .archive
            .by_name(name)
            .map_err(|e| container_error(format!("{name}: {e}")))?;
        let mut limited = std::io::Read::take(entry, max + 1);
        let mut buffer = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = std::io::Read::read(&mut limited, &mut buffer)
                .map_err(|e| container_error(format!("{name}: {e}")))?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            if total > max {
                return Err(XdomeaError::TooLarge(format!(
                    "{name} unpacks to more than {max} bytes"
                )));
            }
            visit(&buffer[..n])?;
        }
    }
}

fn read_capped(entry: impl std::io::Read, cap: u64, what: &str) -> Result<Vec<u8>, XdomeaError> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(entry, cap + 1), &mut bytes)
        .map_err(|e| container_error(format!("reading {what}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(XdomeaError::TooLarge(format!(
            "{what} in the container unpacks to more than {cap} bytes"
        )));
    }
    Ok(bytes)
}

fn date_of(node: &Node, local: &str) -> Result<Option<time::Date>, XdomeaError> {
    let Some(text) = node.text_of(local) else {
        return Ok(None);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    // A time zone after the date (allowed by xs:date) is dropped: Akta keeps days.
    let day = text.get(..10).unwrap_or(text);
    time::Date::parse(day, &format)
        .map(Some)
        .map_err(|_| node.error(format!("{local} '{text}' is not a date")))
}

fn time_of(node: &Node, local: &str) -> Option<time::OffsetDateTime> {
    let text = node.text_of(local)?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// A contact's name as one line: institution, or person, or unit.
fn contact_name(contact: &Node) -> Option<String> {
    if let Some(name) = contact.child("Institution").and_then(|i| i.text_of("Name")) {
        return Some(name.to_owned());
    }
    if let Some(person) = contact.child("Name") {
        let part = |local: &str| {
            person
                .child(local)
                .and_then(|p| p.text_of("Name"))
                .map(str::to_owned)
        };
        let name = [part("Vorname"), part("Familienname")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            return Some(name);
        }
    }
    contact
        .child("Organisationseinheit")
        .and_then(|o| o.text_of("Name"))
        .map(str::to_owned)
}

fn retention_in(node: &Node) -> Result<crate::model::Retention, XdomeaError> {
    let meta = node.child("ArchivspezifischeMetadaten");
    let keep = match meta.and_then(|m| m.child("Aufbewahrungsdauer")) {
        Some(k) => match (k.text_of("AnzahlJahre"), k.child("Unbefristet")) {
            (Some(n), _) => Keep::Years(
                n.parse()
                    .map_err(|_| k.error(format!("AnzahlJahre '{n}' is not a number")))?,
            ),
            _ => Keep::Unlimited,
        },
        None => Keep::Unlimited,
    };
    let rating = match meta.and_then(|m| m.child("Aussonderungsart")) {
        Some(w) => rating_of(w)?,
        None => Rating::B,
    };
    Ok(crate::model::Retention {
        keep,
        rating,
        ends: meta
            .map(|m| date_of(m, "Aufbewahrungsende"))
            .transpose()?
            .flatten(),
    })
}

fn document_in(node: &Node) -> Result<crate::model::DocumentObject, XdomeaError> {
    let meta = node.child("AllgemeineMetadaten");
    let mut versions = Vec::new();
    for version in node.all("Version") {
        let number: u32 = version
            .text_of("Nummer")
            .and_then(|n| n.parse().ok())
            .unwrap_or(versions.len() as u32 + 1);
        // Several formats of one version (an original and its PDF/A): the first is kept.
        let Some(format) = version.child("Format") else {
            continue;
        };
        let primary = format.req("Primaerdokument")?;
        let file_name = primary
            .text_of("Dateiname")
            .ok_or_else(|| primary.error("Dateiname is missing"))?
            .to_owned();
        versions.push(crate::model::VersionObject {
            number,
            original_name: primary
                .text_of("DateinameOriginal")
                .map(str::to_owned)
                .unwrap_or_else(|| file_name.clone()),
            file_name,
            format_code: format
                .child("Name")
                .and_then(Node::code)
                .unwrap_or("100")
                .to_owned(),
            created: time_of(primary, "DatumUhrzeit").unwrap_or_else(time::OffsetDateTime::now_utc),
            created_by: primary.text_of("Ersteller").unwrap_or_default().to_owned(),
        });
    }
    versions.sort_by_key(|v| v.number);
    Ok(crate::model::DocumentObject {
        id: node.req("Identifikation")?.req("ID")?.uuid()?,
        title: meta
            .and_then(|m| m.text_of("Betreff"))
            .unwrap_or("Dokument")
            .to_owned(),
        kind: node.text_of("Typ").unwrap_or_default().to_owned(),
        received_on: date_of(node, "Posteingangsdatum")?,
        sent_on: date_of(node, "Postausgangsdatum")?,
        dated: date_of(node, "DatumDesSchreibens")?,
        sender: node.child("Absender").and_then(contact_name),
        recipient: node.child("Empfaenger").and_then(contact_name),
        versions,
    })
}

fn case_in(node: &Node, into: &mut Vec<crate::model::CaseObject>) -> Result<(), XdomeaError> {
    let meta = node.child("AllgemeineMetadaten");
    let laufzeit = node.child("Laufzeit");
    into.push(crate::model::CaseObject {
        id: node.req("Identifikation")?.req("ID")?.uuid()?,
        reference: meta
            .and_then(|m| m.text_of("Kennzeichen"))
            .unwrap_or_default()
            .to_owned(),
        subject: meta
            .and_then(|m| m.text_of("Betreff"))
            .unwrap_or("Vorgang")
            .to_owned(),
        retention: retention_in(node)?,
        closed_on: date_of(node, "ZdADatum")?,
        period_from: laufzeit
            .map(|l| date_of(l, "Beginn"))
            .transpose()?
            .flatten(),
        documents: node
            .all("Dokument")
            .map(document_in)
            .collect::<Result<_, _>>()?,
    });
    // Teilvorgänge become Vorgänge of their own in the Akte: Akta has no deeper level.
    for sub in node.all("Teilvorgang") {
        case_in(sub, into)?;
    }
    Ok(())
}

fn file_in(node: &Node) -> Result<crate::model::FileObject, XdomeaError> {
    let meta = node.child("AllgemeineMetadaten");
    let laufzeit = node.child("Laufzeit");
    let content = node.child("Akteninhalt");
    let mut cases = Vec::new();
    let mut documents = Vec::new();
    if let Some(content) = content {
        for d in content.all("Dokument") {
            documents.push(document_in(d)?);
        }
        for c in content.all("Vorgang") {
            case_in(c, &mut cases)?;
        }
        // A Teilakte's content is kept as Vorgänge named after it.
        for part in content.all("Teilakte") {
            let sub = file_in(part)?;
            cases.push(crate::model::CaseObject {
                id: sub.id,
                reference: sub.reference.clone(),
                subject: sub.subject.clone(),
                retention: sub.retention,
                closed_on: sub.closed_on,
                period_from: sub.period_from,
                documents: sub.documents,
            });
            cases.extend(sub.cases);
        }
    }
    let confidentiality = match meta
        .and_then(|m| m.child("Vertraulichkeitsstufe"))
        .and_then(Node::code)
    {
        Some("001" | "002" | "004" | "005") => crate::model::Confidentiality::Confidential,
        _ => crate::model::Confidentiality::Open,
    };
    Ok(crate::model::FileObject {
        id: node.req("Identifikation")?.req("ID")?.uuid()?,
        reference: meta
            .and_then(|m| m.text_of("Kennzeichen"))
            .unwrap_or_default()
            .to_owned(),
        subject: meta
            .and_then(|m| m.text_of("Betreff"))
            .ok_or_else(|| node.error("AllgemeineMetadaten/Betreff is missing"))?
            .to_owned(),
        confidentiality,
        lead: meta
            .and_then(|m| m.text_of("Federfuehrung"))
            .map(str::to_owned),
        plan_unit: meta
            .and_then(|m| m.child("Aktenplaneinheit"))
            .and_then(|p| {
                Some((
                    p.text_of("Kennzeichen")?.to_owned(),
                    p.text_of("Inhaltsangabe").unwrap_or_default().to_owned(),
                ))
            }),
        retention: retention_in(node)?,
        period_from: laufzeit
            .map(|l| date_of(l, "Beginn"))
            .transpose()?
            .flatten(),
        period_to: laufzeit.map(|l| date_of(l, "Ende")).transpose()?.flatten(),
        closed_on: date_of(node, "ZdADatum")?,
        documents,
        cases,
    })
}

impl Message {
    /// The Akten of a 0503 or 0401 with everything in them, primary documents by their file
    /// names in the container. Vorgänge and Dokumente directly under the message become an
    /// Akte each is not supported: Akta files them into Akten only.
    pub fn objects(&self) -> Result<Vec<crate::model::FileObject>, XdomeaError> {
        if !matches!(
            self.kind,
            MessageType::Aussonderung0503 | MessageType::Abgabe0401
        ) {
            return Err(XdomeaError::WrongMessage {
                expected: MessageType::Abgabe0401.root(),
                found: self.kind.root(),
            });
        }
        let mut out = Vec::new();
        for object in self.root.all("Schriftgutobjekt") {
            match object.child("Akte") {
                Some(akte) => out.push(file_in(akte)?),
                None => return Err(object.error(
                    "only Akten are taken here (a Vorgang or Dokument needs an Akte to go into)",
                )),
            }
        }
        if out.is_empty() {
            return Err(self.root.error("no Schriftgutobjekt"));
        }
        Ok(out)
    }
}
