//! A file share described by a CSV manifest (`path,plan_code,file_subject,case_subject,
//! title,date,kind`, further columns kept as each document's metadata), as the import
//! engine's input: one Akte per plan code and Akte subject, Vorgänge by their subject, and
//! stable ids derived from the manifest's names, so that a second run finds what the first
//! brought in. Only regular files inside the manifest's directory are read.
//!
//! A file share can list millions of files, so the manifest is never held whole: a first
//! pass checks every line and keeps only where each Akte's lines start; each Akte is read
//! again from those offsets when the import reaches it. Memory follows the Akten, not the
//! documents.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use akta_xdomea::model::*;

use super::{AkteInput, Akten, Entries, ImportInput, Refused};
use crate::CoreError;

fn invalid(detail: String) -> CoreError {
    CoreError::validation("manifest", detail)
}

/// One row of a folder manifest.
struct Row {
    path: String,
    plan_code: String,
    file_subject: String,
    case_subject: String,
    title: String,
    date: Option<time::Date>,
    kind: String,
    /// The manifest's further columns (name, value), kept as the document's metadata.
    extra: Vec<(String, String)>,
}

/// RFC 4180 fields of one line (quotes, doubled quotes inside).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A stable id for a manifest's object, so that running the same manifest again finds what
/// came in before.
fn stable_id(key: &str) -> uuid::Uuid {
    let digest = openssl::sha::sha256(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

const MANIFEST_HEADER: [&str; 7] = [
    "path",
    "plan_code",
    "file_subject",
    "case_subject",
    "title",
    "date",
    "kind",
];

/// Where the named columns stand in a manifest's header.
struct Columns {
    names: Vec<String>,
    index: Vec<usize>,
}

impl Columns {
    fn read(header: &str) -> Result<Columns, CoreError> {
        let names = csv_fields(header);
        let mut index = Vec::new();
        for name in MANIFEST_HEADER {
            index.push(names.iter().position(|h| h.trim() == name).ok_or_else(|| {
                invalid(format!(
                    "the manifest's header lacks '{name}' (expected {})",
                    MANIFEST_HEADER.join(",")
                ))
            })?);
        }
        Ok(Columns { names, index })
    }

    /// The row of a line, or why its date is no date.
    fn row(&self, text: &str) -> Result<Row, String> {
        let fields = csv_fields(text);
        let get = |k: usize| {
            fields
                .get(self.index[k])
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = get(5);
        Ok(Row {
            path: get(0),
            plan_code: get(1),
            file_subject: get(2),
            case_subject: get(3),
            title: get(4),
            date: if date.is_empty() {
                None
            } else {
                Some(
                    time::Date::parse(&date, &format)
                        .map_err(|_| format!("date '{date}' is not YYYY-MM-DD"))?,
                )
            },
            kind: get(6),
            extra: self
                .names
                .iter()
                .enumerate()
                .filter(|(k, _)| !self.index.contains(k))
                .filter_map(|(k, name)| {
                    let value = fields.get(k)?.trim();
                    (!value.is_empty() && !name.trim().is_empty())
                        .then(|| (name.trim().to_owned(), value.to_owned()))
                })
                .collect(),
        })
    }
}

/// The lines of one Akte: (line number, byte offset where it starts).
type Lines = Vec<(u32, u64)>;

/// A checked manifest: its Akten as the offsets of their lines, in the order they first
/// appear, and what the import will read in all.
pub struct Index {
    manifest: PathBuf,
    /// The manifest's directory, canonical.
    base: PathBuf,
    columns: Columns,
    akten: Vec<Lines>,
    /// Versions (one per accepted line) and their bytes, for the progress.
    pub(super) versions: usize,
    pub(super) bytes: u64,
}

/// A manifest's lines as (number, offset, text without its line end), read without holding
/// the file.
fn each_line(
    reader: &mut impl BufRead,
    mut each: impl FnMut(usize, u64, &str) -> Result<(), CoreError>,
) -> Result<(), CoreError> {
    let mut buffer = String::new();
    let mut offset = 0u64;
    let mut number = 0usize;
    loop {
        buffer.clear();
        let n = reader
            .read_line(&mut buffer)
            .map_err(|e| invalid(format!("reading the manifest: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        each(number, offset, buffer.trim_end_matches(['\r', '\n']))?;
        offset += n as u64;
    }
}

/// The manifest's files as the import engine's input (one Akte per plan code and Akte
/// subject, with stable ids so that a second run finds what the first brought in); rows whose
/// file is missing or leaves the manifest's directory are returned as refusals.
pub(super) fn folder_input(manifest: &Path) -> Result<ImportInput, CoreError> {
    let base = manifest
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| invalid(format!("{}: no directory", manifest.display())))?;
    let file = std::fs::File::open(manifest)
        .map_err(|e| invalid(format!("reading the manifest {}: {e}", manifest.display())))?;
    let mut reader = BufReader::new(file);
    let mut columns = None;
    let mut refused = Vec::new();
    let mut akten: Vec<Lines> = Vec::new();
    // Akte id → its place in `akten`.
    let mut akte_at: HashMap<uuid::Uuid, usize> = HashMap::new();
    let (mut versions, mut bytes) = (0usize, 0u64);
    each_line(&mut reader, |number, offset, text| {
        let Some(columns) = &columns else {
            columns = Some(Columns::read(text)?);
            return Ok(());
        };
        if text.trim().is_empty() {
            return Ok(());
        }
        let row = columns
            .row(text)
            .map_err(|reason| invalid(format!("{} line {number}: {reason}", manifest.display())))?;
        let refuse = |reason: String| Refused {
            reference: format!("Zeile {number}"),
            reason,
        };
        let source = base.join(&row.path);
        let size = std::fs::symlink_metadata(&source)
            .ok()
            .filter(|m| m.file_type().is_file())
            .map(|m| m.len())
            .filter(|_| source.canonicalize().is_ok_and(|p| p.starts_with(&base)));
        let Some(size) = size else {
            refused.push(refuse(format!(
                "{}: no regular file inside the manifest's directory",
                row.path
            )));
            return Ok(());
        };
        if row.plan_code.is_empty() || row.file_subject.is_empty() {
            refused.push(refuse("plan_code and file_subject are required".into()));
            return Ok(());
        }
        let id = akte_id(&row);
        let at = *akte_at.entry(id).or_insert_with(|| {
            akten.push(Vec::new());
            akten.len() - 1
        });
        akten[at].push((u32::try_from(number).unwrap_or(u32::MAX), offset));
        versions += 1;
        bytes += size;
        Ok(())
    })?;
    if columns.is_none() {
        return Err(invalid("the manifest is empty".into()));
    }
    let index = Index {
        manifest: manifest.to_owned(),
        base: base.clone(),
        columns: columns.expect("checked above"),
        akten,
        versions,
        bytes,
    };
    Ok(ImportInput {
        files: Akten::Manifest(index),
        entries: Entries::Tree(base),
        source: manifest.display().to_string(),
        message_id: None,
        refused,
    })
}

fn akte_id(row: &Row) -> uuid::Uuid {
    stable_id(&format!("akte|{}|{}", row.plan_code, row.file_subject))
}

impl Index {
    /// The Akten one by one, each read again from its lines.
    pub(super) fn akten(&self) -> impl Iterator<Item = Result<AkteInput<'_>, CoreError>> + '_ {
        let mut file = None;
        self.akten.iter().map(move |lines| {
            let file = match &mut file {
                Some(file) => file,
                None => file.insert(std::fs::File::open(&self.manifest).map_err(|e| {
                    invalid(format!(
                        "reading the manifest {}: {e}",
                        self.manifest.display()
                    ))
                })?),
            };
            let mut rows = Vec::with_capacity(lines.len());
            let mut text = String::new();
            for &(number, offset) in lines {
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| invalid(format!("reading the manifest: {e}")))?;
                text.clear();
                BufReader::new(&mut *file)
                    .read_line(&mut text)
                    .map_err(|e| invalid(format!("reading the manifest: {e}")))?;
                let row = self
                    .columns
                    .row(text.trim_end_matches(['\r', '\n']))
                    .map_err(|reason| invalid(format!("line {number}: {reason}")))?;
                rows.push(row);
            }
            Ok(akte_of(&self.base, rows))
        })
    }
}

/// One Akte of the manifest from its rows (all with the same plan code and Akte subject).
fn akte_of<'a>(base: &Path, rows: Vec<Row>) -> AkteInput<'a> {
    let keep = Retention {
        keep: Keep::Unlimited,
        rating: Rating::B,
        ends: None,
    };
    let first = &rows[0];
    let mut file = FileObject {
        id: akte_id(first),
        reference: first.file_subject.clone(),
        subject: first.file_subject.clone(),
        confidentiality: Confidentiality::Open,
        lead: None,
        plan_unit: Some((first.plan_code.clone(), String::new())),
        retention: keep,
        period_from: None,
        period_to: None,
        closed_on: None,
        documents: Vec::new(),
        cases: Vec::new(),
    };
    let mut metadata_of = HashMap::new();
    for row in rows {
        let source = base.join(&row.path);
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let modified = std::fs::metadata(&source)
            .and_then(|m| m.modified())
            .map(time::OffsetDateTime::from)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let doc_id = stable_id(&format!("doc|{}", row.path));
        let mut metadata = serde_json::Map::new();
        metadata.insert("pfad".into(), row.path.clone().into());
        for (name, value) in row.extra {
            metadata.insert(name, value.into());
        }
        metadata_of.insert(doc_id, metadata);
        let document = DocumentObject {
            id: doc_id,
            title: if row.title.is_empty() {
                name.clone()
            } else {
                row.title
            },
            kind: row.kind,
            received_on: None,
            sent_on: None,
            // The manifest's date, else the file's own.
            dated: row.date.or(Some(modified.date())),
            sender: None,
            recipient: None,
            versions: vec![VersionObject {
                number: 1,
                // The entry is the path relative to the manifest, checked in the first pass.
                file_name: row.path.clone(),
                original_name: name,
                format_code: format_code("", &row.path).to_owned(),
                created: modified,
                created_by: String::new(),
            }],
        };
        if let Some(d) = row.date {
            file.period_from = Some(file.period_from.map_or(d, |p| p.min(d)));
        }
        if row.case_subject.is_empty() {
            file.documents.push(document);
        } else {
            let case_id = stable_id(&format!(
                "case|{}|{}|{}",
                row.plan_code, row.file_subject, row.case_subject
            ));
            match file.cases.iter_mut().find(|c| c.id == case_id) {
                Some(case) => case.documents.push(document),
                None => file.cases.push(CaseObject {
                    id: case_id,
                    reference: row.case_subject.clone(),
                    subject: row.case_subject,
                    retention: keep,
                    closed_on: None,
                    period_from: None,
                    documents: vec![document],
                }),
            }
        }
    }
    AkteInput {
        file: std::borrow::Cow::Owned(file),
        metadata: metadata_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &ImportInput) -> Vec<AkteInput<'_>> {
        let Akten::Manifest(index) = &input.files else {
            panic!("a manifest gives manifest Akten");
        };
        index.akten().collect::<Result<_, _>>().expect("readable")
    }

    #[test]
    fn akten_are_read_again_from_their_lines_in_the_order_they_first_appear() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["a.txt", "b.txt", "c.pdf", "d.txt"] {
            std::fs::write(dir.path().join(name), name).expect("write");
        }
        // Interleaved Akten, a CRLF line end, a quoted comma, a missing file, a line without
        // an Akte subject, an extra column and an empty line.
        let manifest = dir.path().join("manifest.csv");
        std::fs::write(
            &manifest,
            "path,plan_code,file_subject,case_subject,title,date,kind,Bearbeiter\n\
             a.txt,10.1,Musterweg 3,,Antrag,2019-03-01,Antrag,Frau A\r\n\
             b.txt,20.1,\"Haushalt, 2020\",Beratung,,,Vermerk,\n\
             \n\
             c.pdf,10.1,Musterweg 3,Widerspruch,Bescheid,2018-12-24,Bescheid,\n\
             missing.txt,10.1,Musterweg 3,,,,,\n\
             d.txt,10.1,,,,,,\n",
        )
        .expect("manifest");
        let input = folder_input(&manifest).expect("manifest reads");
        let refused: Vec<&str> = input.refused.iter().map(|r| r.reference.as_str()).collect();
        assert_eq!(refused, ["Zeile 6", "Zeile 7"]);
        let Akten::Manifest(index) = &input.files else {
            panic!("a manifest gives manifest Akten");
        };
        assert_eq!((index.versions, index.bytes), (3, 5 + 5 + 5));

        let akten = read_all(&input);
        assert_eq!(akten.len(), 2);
        let (first, second) = (&akten[0].file, &akten[1].file);
        assert_eq!(first.subject, "Musterweg 3");
        assert_eq!(
            first.period_from,
            time::Date::from_calendar_date(2018, time::Month::December, 24).ok()
        );
        assert_eq!(first.documents.len(), 1);
        assert_eq!(first.documents[0].title, "Antrag");
        assert_eq!(first.documents[0].versions[0].file_name, "a.txt");
        assert_eq!(first.cases.len(), 1);
        assert_eq!(first.cases[0].subject, "Widerspruch");
        assert_eq!(
            first.cases[0].documents[0].versions[0].original_name,
            "c.pdf"
        );
        assert_eq!(second.subject, "Haushalt, 2020");
        assert_eq!(second.cases[0].documents[0].title, "b.txt");
        let metadata = &akten[0].metadata[&first.documents[0].id];
        assert_eq!(metadata["Bearbeiter"], "Frau A");
        assert_eq!(metadata["pfad"], "a.txt");

        // The same manifest gives the same ids: a second run finds what the first brought in.
        let again_input = folder_input(&manifest).expect("manifest reads");
        let again = read_all(&again_input);
        assert_eq!(again[0].file.id, first.id);
        assert_eq!(
            again[1].file.cases[0].documents[0].id,
            second.cases[0].documents[0].id
        );
        // Entries are the paths relative to the manifest, inside its directory.
        assert_eq!(input.entries.size_of("c.pdf"), Some(5));
        assert_eq!(input.entries.size_of("missing.txt"), None);
        // Checked again on use: a name leading out of the tree reads nothing, even if the
        // manifest was changed after its first pass.
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::write(outside.path().join("x.txt"), "x").expect("write");
        let escape = format!(
            "../{}/x.txt",
            outside.path().file_name().expect("name").to_string_lossy()
        );
        assert!(dir.path().join(&escape).exists());
        assert_eq!(input.entries.size_of(&escape), None);
    }
}
