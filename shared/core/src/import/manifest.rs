//! A file share described by a CSV manifest (`path,plan_code,file_subject,case_subject,
//! title,date,kind`, further columns kept as each document's metadata), as the import
//! engine's input: one Akte per plan code and Akte subject, Vorgänge by their subject, and
//! stable ids derived from the manifest's names, so that a second run finds what the first
//! brought in. Only regular files inside the manifest's directory are read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use akta_xdomea::model::*;

use super::{Entries, ImportInput, Refused};
use crate::CoreError;

fn invalid(detail: String) -> CoreError {
    CoreError::validation("manifest", detail)
}

/// One row of a folder manifest.
struct Row {
    line: usize,
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

fn read_manifest(path: &Path) -> Result<Vec<Row>, CoreError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("reading the manifest {}: {e}", path.display())))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = lines
        .next()
        .map(|(_, l)| csv_fields(l))
        .ok_or_else(|| invalid("the manifest is empty".into()))?;
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let mut index = Vec::new();
    for name in MANIFEST_HEADER {
        index.push(column(name).ok_or_else(|| {
            invalid(format!(
                "the manifest's header lacks '{name}' (expected {})",
                MANIFEST_HEADER.join(",")
            ))
        })?);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv_fields(line);
        let get = |k: usize| {
            fields
                .get(index[k])
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let date = get(5);
        rows.push(Row {
            line: i + 1,
            path: get(0),
            plan_code: get(1),
            file_subject: get(2),
            case_subject: get(3),
            title: get(4),
            date: if date.is_empty() {
                None
            } else {
                Some(time::Date::parse(&date, &format).map_err(|_| {
                    invalid(format!(
                        "{} line {}: date '{date}' is not YYYY-MM-DD",
                        path.display(),
                        i + 1
                    ))
                })?)
            },
            kind: get(6),
            extra: header
                .iter()
                .enumerate()
                .filter(|(k, _)| !index.contains(k))
                .filter_map(|(k, name)| {
                    let value = fields.get(k)?.trim();
                    (!value.is_empty() && !name.trim().is_empty())
                        .then(|| (name.trim().to_owned(), value.to_owned()))
                })
                .collect(),
        });
    }
    Ok(rows)
}

/// The manifest's files as the import engine's input (one Akte per plan code and Akte
/// subject, with stable ids so that a second run finds what the first brought in); rows whose
/// file is missing or leaves the manifest's directory are returned as refusals.
pub(super) fn folder_input(manifest: &Path) -> Result<ImportInput, CoreError> {
    let base = manifest
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| invalid(format!("{}: no directory", manifest.display())))?;
    let rows = read_manifest(manifest)?;
    let mut refused = Vec::new();
    let mut files: Vec<FileObject> = Vec::new();
    let mut payload: HashMap<String, PathBuf> = HashMap::new();
    let mut document_metadata = HashMap::new();
    let keep = Retention {
        keep: Keep::Unlimited,
        rating: Rating::B,
        ends: None,
    };
    for row in rows {
        let source = base.join(&row.path);
        let inside = std::fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_file())
            && source.canonicalize().is_ok_and(|p| p.starts_with(&base));
        if !inside {
            refused.push(Refused {
                reference: format!("Zeile {}", row.line),
                reason: format!(
                    "{}: no regular file inside the manifest's directory",
                    row.path
                ),
            });
            continue;
        }
        if row.plan_code.is_empty() || row.file_subject.is_empty() {
            refused.push(Refused {
                reference: format!("Zeile {}", row.line),
                reason: "plan_code and file_subject are required".into(),
            });
            continue;
        }
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let modified = std::fs::metadata(&source)
            .and_then(|m| m.modified())
            .map(time::OffsetDateTime::from)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let doc_id = stable_id(&format!("doc|{}", row.path));
        let entry = format!("{doc_id}_{}", payload.len());
        payload.insert(entry.clone(), source.clone());
        let mut metadata = serde_json::Map::new();
        metadata.insert("pfad".into(), row.path.clone().into());
        for (name, value) in &row.extra {
            metadata.insert(name.clone(), value.clone().into());
        }
        document_metadata.insert(doc_id, metadata);
        let document = DocumentObject {
            id: doc_id,
            title: if row.title.is_empty() {
                name.clone()
            } else {
                row.title.clone()
            },
            kind: row.kind.clone(),
            received_on: None,
            sent_on: None,
            // The manifest's date, else the file's own.
            dated: row.date.or(Some(modified.date())),
            sender: None,
            recipient: None,
            versions: vec![VersionObject {
                number: 1,
                file_name: entry,
                original_name: name,
                format_code: format_code("", &row.path).to_owned(),
                created: modified,
                created_by: String::new(),
            }],
        };
        let file_id = stable_id(&format!("akte|{}|{}", row.plan_code, row.file_subject));
        let position = match files.iter().position(|f| f.id == file_id) {
            Some(p) => p,
            None => {
                files.push(FileObject {
                    id: file_id,
                    reference: row.file_subject.clone(),
                    subject: row.file_subject.clone(),
                    confidentiality: Confidentiality::Open,
                    lead: None,
                    plan_unit: Some((row.plan_code.clone(), String::new())),
                    retention: keep,
                    period_from: row.date,
                    period_to: None,
                    closed_on: None,
                    documents: Vec::new(),
                    cases: Vec::new(),
                });
                files.len() - 1
            }
        };
        let file = &mut files[position];
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
                    subject: row.case_subject.clone(),
                    retention: keep,
                    closed_on: None,
                    period_from: None,
                    documents: vec![document],
                }),
            }
        }
    }
    let input = ImportInput {
        files,
        entries: Entries::Files(payload),
        source: manifest.display().to_string(),
        message_id: None,
        document_metadata,
        refused,
    };
    Ok(input)
}
