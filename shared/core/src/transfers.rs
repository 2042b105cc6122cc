//! Aussonderung: offering due Akten to the archive in xdomea (0501), taking its rating (0502)
//! and confirming it (0505). Each step is a core operation on a transfer whose id is the
//! xdomea ProzessID; messages are checked completely before anything is applied, and a
//! repeated message changes nothing twice.

use std::collections::HashMap;

use akta_db::repo::transfers::{Transfer, TransferItem, TransferMessage};
use akta_db::{Document, FileRecord, TenantTx};
use akta_domain::retention::{self, check_not_held};
use akta_domain::Principal;
use akta_xdomea::model::{
    CaseObject, Confidentiality, DocumentObject, FileObject, Head, Party, Rating,
    Retention as XRetention,
};
use akta_xdomea::read::{parse, Limits};
use akta_xdomea::{write, MessageType, XdomeaError};
use serde::Serialize;
use uuid::Uuid;

use crate::{Core, CoreError};

const PAGE: i64 = 10_000;

/// A transfer as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    #[serde(flatten)]
    pub transfer: Transfer,
    pub items: Vec<TransferItem>,
    pub messages: Vec<TransferMessage>,
}

/// A message Akta produced: its bytes, media type and file name.
pub struct Produced {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    pub file_name: String,
}

/// What receiving a message did.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub code: &'static str,
    /// Items whose state or rating changed (0 for a repeated message).
    pub changed: u64,
    /// Akten the archive reports as not imported (0506), with its reasons.
    pub import_errors: Vec<String>,
    pub transfer: TransferView,
}

impl From<XdomeaError> for CoreError {
    fn from(e: XdomeaError) -> Self {
        match e {
            XdomeaError::Invalid {
                element,
                line,
                detail,
            } => CoreError::validation("message", format!("{element} (line {line}): {detail}")),
            XdomeaError::TooLarge(detail) => CoreError::validation("message", detail),
            XdomeaError::WrongMessage { expected, found } => {
                CoreError::validation("message", format!("expected {expected}, found {found}"))
            }
            XdomeaError::Write(detail) => CoreError::Internal(detail),
        }
    }
}

pub(crate) fn require_archivist(who: &Principal) -> Result<(), CoreError> {
    crate::retention::require_hold_setter(who)
}

fn document_object(d: &Document) -> DocumentObject {
    let date = d.document_date;
    DocumentObject {
        id: d.id,
        title: d.title.clone(),
        kind: d.kind.clone(),
        received_on: (d.kind == "Eingang").then_some(date).flatten(),
        sent_on: (d.kind == "Ausgang").then_some(date).flatten(),
        dated: date,
        sender: d.sender.clone(),
        recipient: d.recipient.clone(),
        versions: Vec::new(),
    }
}

impl Core {
    /// Starts an Aussonderung of `files`: each must be closed, due and not under a legal
    /// hold, and in no other unfinished transfer. (`abgabe` is not built yet.)
    pub async fn create_transfer(
        &self,
        who: &Principal,
        kind: &str,
        files: &[Uuid],
    ) -> Result<TransferView, CoreError> {
        require_archivist(who)?;
        match kind {
            "aussonderung" => {}
            "abgabe" => return Err(CoreError::validation("kind", "use Core::create_abgabe")),
            _ => {
                return Err(CoreError::validation(
                    "kind",
                    "must be aussonderung or abgabe",
                ))
            }
        }
        if files.is_empty() || files.len() > 1000 {
            return Err(CoreError::validation(
                "file_ids",
                "must name 1 to 1000 Akten",
            ));
        }
        let mut tx = self.lifecycle_tx(who).await?;
        let plan = crate::retention::plan_rules(&mut tx).await?;
        for id in files {
            // Locked: nobody reopens or changes the Akte while it is offered.
            let file = tx.file_locked(*id, akta_db::Lock::Share).await?;
            check_not_held(file.hold().as_ref(), crate::retention::today())
                .map_err(|m| CoreError::Conflict(m.into()))?;
            let rule = crate::retention::rule_of(&file, &plan)?;
            match retention::due_on(&rule, file.closed_on()) {
                None if file.closed_on().is_none() => {
                    return Err(CoreError::Conflict(format!(
                        "the file {} is not closed (zdA)",
                        file.reference
                    )))
                }
                None => {
                    return Err(CoreError::Conflict(format!(
                        "the file {} is kept for good (unbefristet)",
                        file.reference
                    )))
                }
                Some(due) if due > crate::retention::today() => {
                    return Err(CoreError::Conflict(format!(
                        "the file {} is not due before {due}",
                        file.reference
                    )))
                }
                Some(_) => {}
            }
        }
        let transfer = tx.create_transfer(kind, files).await?;
        let view = view(&mut tx, transfer).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Every transfer of the tenant, newest first.
    pub async fn transfers(&self, who: &Principal) -> Result<Vec<Transfer>, CoreError> {
        require_archivist(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        let all = tx.list_transfers().await?;
        tx.commit().await?;
        Ok(all)
    }

    pub async fn transfer(&self, who: &Principal, id: Uuid) -> Result<TransferView, CoreError> {
        require_archivist(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        let transfer = tx.transfer(id, false).await?;
        let view = view(&mut tx, transfer).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Produces message `code` of the transfer: `0501` (the offer) or `0505` (the receipt of
    /// the archive's rating, once there is one). Logged and audited.
    pub async fn transfer_message(
        &self,
        who: &Principal,
        id: Uuid,
        code: &str,
    ) -> Result<Produced, CoreError> {
        require_archivist(who)?;
        let message = MessageType::from_code(code)
            .ok_or_else(|| CoreError::validation("code", "is no xdomea message Akta knows"))?;
        let mut tx = self.lifecycle_tx(who).await?;
        let transfer = tx.transfer(id, true).await?;
        let head = self.head(&tx, &transfer).await?;
        let bytes = match message {
            MessageType::Anbieteverzeichnis0501 => {
                if transfer.state == "abgeschlossen" {
                    return Err(CoreError::Conflict(
                        "the transfer is finished; its Akten are archived or destroyed".into(),
                    ));
                }
                let files = offer(&mut tx, &transfer).await?;
                write::anbieteverzeichnis_0501(&head, &files)?
            }
            MessageType::BewertungEmpfangBestaetigen0505 => {
                let rated = tx
                    .transfer_messages(id)
                    .await?
                    .iter()
                    .any(|m| m.code == "0502" && m.direction == "in");
                if !rated {
                    return Err(CoreError::Conflict(
                        "the archive's rating (0502) has not been received yet".into(),
                    ));
                }
                write::receipt(
                    message,
                    &Head {
                        receipt_requested: false,
                        ..head
                    },
                )?
            }
            _ => {
                return Err(CoreError::validation(
                    "code",
                    "Akta produces 0501 and 0505 here",
                ))
            }
        };
        tx.log_transfer_message(id, message.code(), "out", &bytes)
            .await?;
        tx.commit().await?;
        Ok(Produced {
            bytes,
            media_type: "application/xml",
            file_name: format!("{id}_{}.xml", message.root()),
        })
    }

    /// Takes a message of the other side: `0504` (offer received) or `0502` (the rating).
    /// The message must belong to this transfer; a rating must name only objects of it and
    /// rate each A or V. Nothing is applied unless all of it is right.
    pub async fn receive_transfer_message(
        &self,
        who: &Principal,
        id: Uuid,
        body: &[u8],
    ) -> Result<Received, CoreError> {
        require_archivist(who)?;
        // The XML itself or a container holding it.
        let xml = akta_xdomea::read::message_bytes(body, Limits::default())?;
        let message = parse(&xml, Limits::default())?;
        let head = message.head()?;
        let mut tx = self.lifecycle_tx(who).await?;
        let transfer = tx.transfer(id, true).await?;
        if head.process_id != transfer.id {
            return Err(CoreError::validation(
                "message",
                format!(
                    "the message belongs to process {}, not to this transfer",
                    head.process_id
                ),
            ));
        }
        let for_abgabe = matches!(
            message.kind,
            MessageType::AbgabeImportBestaetigen0402 | MessageType::AbgabeEmpfangBestaetigen0403
        );
        if for_abgabe != (transfer.kind == "abgabe") {
            return Err(CoreError::validation(
                "message",
                format!(
                    "{} does not belong to an {}",
                    message.kind.root(),
                    transfer.kind
                ),
            ));
        }
        let mut leftovers = Vec::new();
        let mut import_errors = Vec::new();
        let changed = match message.kind {
            MessageType::AnbietungEmpfangBestaetigen0504 => 0,
            MessageType::AbgabeEmpfangBestaetigen0403 => {
                require_sent_0503(&transfer)?;
                0
            }
            MessageType::AbgabeImportBestaetigen0402 => {
                require_sent_0503(&transfer)?;
                let items = tx.transfer_items(id).await?;
                let results = confirmed(&message, &items, "AbgegebenesObjekt")?;
                let mut taken = Vec::new();
                for item in items
                    .iter()
                    .filter(|i| i.object_type == "file" && i.state == "übergeben")
                {
                    match results.iter().find(|r| r.id == item.object_id) {
                        Some(r) if r.imported => taken.push(item.file_id),
                        Some(r) => {
                            tx.set_transfer_file_state(id, item.file_id, "angeboten")
                                .await?;
                            import_errors.push(format!(
                                "{}: {}",
                                item.reference,
                                r.errors.join("; ")
                            ));
                        }
                        None => {}
                    }
                }
                leftovers =
                    crate::abgabe::finish_sender(&mut tx, id, transfer.keep_copy, &taken).await?;
                taken.len() as u64
            }
            MessageType::AussonderungEmpfangBestaetigen0507 => {
                require_sent_0503(&transfer)?;
                0
            }
            MessageType::AussonderungImportBestaetigen0506 => {
                require_sent_0503(&transfer)?;
                let items = tx.transfer_items(id).await?;
                let results = confirmed(&message, &items, "AusgesondertesSGO")?;
                let mut destroy: Vec<(Uuid, Option<&str>, &str, Option<String>)> = Vec::new();
                let mut back = Vec::new();
                for item in items
                    .iter()
                    .filter(|i| i.object_type == "file" && i.state == "übergeben")
                {
                    match results.iter().find(|r| r.id == item.object_id) {
                        Some(r) if r.imported => destroy.push((
                            item.file_id,
                            Some("A"),
                            "archiviert",
                            r.archive_reference.clone(),
                        )),
                        Some(r) => {
                            back.push(item.file_id);
                            import_errors.push(format!(
                                "{}: {}",
                                item.reference,
                                if r.errors.is_empty() {
                                    "not imported".to_owned()
                                } else {
                                    r.errors.join("; ")
                                }
                            ));
                        }
                        None => {}
                    }
                }
                // What the archive rated V goes with the end of the process.
                destroy.extend(rated_v(&items));
                for file in &back {
                    tx.set_transfer_file_state(id, *file, "bewertet").await?;
                }
                leftovers = crate::disposal::destroy(&mut tx, id, &destroy).await?;
                finish_if_done(&mut tx, id).await?;
                (destroy.len() + back.len()) as u64
            }
            MessageType::Bewertungsverzeichnis0502 => {
                let items = tx.transfer_items(id).await?;
                let known: HashMap<Uuid, &TransferItem> =
                    items.iter().map(|i| (i.object_id, i)).collect();
                let mut ratings: HashMap<Uuid, &'static str> = HashMap::new();
                for (object, rating) in message.ratings()? {
                    if !known.contains_key(&object) {
                        return Err(CoreError::validation(
                            "message",
                            format!("BewertetesObjekt {object} was not offered in this transfer"),
                        ));
                    }
                    let code = match rating {
                        Rating::A => "A",
                        Rating::V => "V",
                        Rating::B => {
                            return Err(CoreError::validation(
                                "message",
                                format!("BewertetesObjekt {object}: B is no final rating (A or V)"),
                            ))
                        }
                    };
                    ratings.insert(object, code);
                }
                // A Vorgang the archive did not rate itself shares its Akte's rating.
                for item in &items {
                    if item.object_type == "case" && !ratings.contains_key(&item.object_id) {
                        if let Some(r) = ratings.get(&item.file_id).copied() {
                            ratings.insert(item.object_id, r);
                        }
                    }
                }
                let unrated: Vec<&str> = items
                    .iter()
                    .filter(|i| i.object_type == "file" && !ratings.contains_key(&i.object_id))
                    .map(|i| i.reference.as_str())
                    .collect();
                if !unrated.is_empty() {
                    return Err(CoreError::validation(
                        "message",
                        format!("the rating leaves out the Akten {}", unrated.join(", ")),
                    ));
                }
                let list: Vec<(Uuid, &str)> = ratings.into_iter().collect();
                let changed = tx.rate_transfer_items(id, &list).await?;
                tx.set_transfer_state(id, "bewertet").await?;
                // Nothing for the archive to take: what it rated V is destroyed now.
                let rated = tx.transfer_items(id).await?;
                let taken = rated
                    .iter()
                    .any(|i| i.object_type == "file" && i.rating.as_deref() == Some("A"));
                if !taken {
                    let destroy = rated_v(&rated);
                    leftovers = crate::disposal::destroy(&mut tx, id, &destroy).await?;
                    finish_if_done(&mut tx, id).await?;
                }
                changed
            }
            other => {
                return Err(CoreError::validation(
                    "message",
                    format!("{} cannot be received in this transfer", other.root()),
                ))
            }
        };
        tx.log_transfer_message(id, message.kind.code(), "in", body)
            .await?;
        let transfer = tx.transfer(id, false).await?;
        let view = view(&mut tx, transfer).await?;
        tx.commit().await?;
        self.delete_blobs(leftovers).await;
        Ok(Received {
            code: message.kind.code(),
            changed,
            import_errors,
            transfer: view,
        })
    }

    pub(crate) async fn head(&self, tx: &TenantTx, transfer: &Transfer) -> Result<Head, CoreError> {
        let tenant = self.db.tenant_by_id(tx.tenant()).await?;
        Ok(Head {
            process_id: transfer.id,
            created: time::OffsetDateTime::now_utc(),
            sender: Party {
                authority_key: Some(tenant.slug),
                institution: Some(tenant.display_name),
            },
            recipient: Party {
                authority_key: None,
                institution: Some("Zuständiges Archiv".into()),
            },
            receipt_requested: true,
        })
    }
}

/// The objects an import confirmation (0506, 0402) reports on, each checked to be part of
/// the transfer (`element` names them in the refusal).
fn confirmed(
    message: &akta_xdomea::read::Message,
    items: &[TransferItem],
    element: &str,
) -> Result<Vec<akta_xdomea::read::ImportResult>, CoreError> {
    let results = message.import_results()?;
    if let Some(stranger) = results
        .iter()
        .find(|r| !items.iter().any(|i| i.object_id == r.id))
    {
        return Err(CoreError::validation(
            "message",
            format!("{element} {} was not part of this transfer", stranger.id),
        ));
    }
    Ok(results)
}

fn require_sent_0503(transfer: &Transfer) -> Result<(), CoreError> {
    if matches!(transfer.state.as_str(), "übergeben" | "abgeschlossen") {
        Ok(())
    } else {
        Err(CoreError::Conflict(
            "no Aussonderung (0503) has been sent in this transfer".into(),
        ))
    }
}

/// Akten rated V and not destroyed yet.
fn rated_v(
    items: &[TransferItem],
) -> Vec<(Uuid, Option<&'static str>, &'static str, Option<String>)> {
    items
        .iter()
        .filter(|i| {
            i.object_type == "file" && i.rating.as_deref() == Some("V") && i.state == "bewertet"
        })
        .map(|i| (i.file_id, Some("V"), "vernichtet", None))
        .collect()
}

/// Closes the transfer once every Akte in it is archived or destroyed.
pub(crate) async fn finish_if_done(tx: &mut TenantTx, id: Uuid) -> Result<(), CoreError> {
    let open = tx.transfer_items(id).await?.iter().any(|i| {
        i.object_type == "file"
            && !matches!(i.state.as_str(), "archiviert" | "vernichtet" | "abgegeben")
    });
    if !open {
        tx.set_transfer_state(id, "abgeschlossen").await?;
    }
    Ok(())
}

pub(crate) async fn view(tx: &mut TenantTx, transfer: Transfer) -> Result<TransferView, CoreError> {
    let items = tx.transfer_items(transfer.id).await?;
    let messages = tx.transfer_messages(transfer.id).await?;
    Ok(TransferView {
        transfer,
        items,
        messages,
    })
}

/// The offered Akten with their Vorgänge and Dokumente (metadata only).
async fn offer(tx: &mut TenantTx, transfer: &Transfer) -> Result<Vec<FileObject>, CoreError> {
    let files: Vec<Uuid> = tx
        .transfer_items(transfer.id)
        .await?
        .into_iter()
        .filter(|i| i.object_type == "file")
        .map(|i| i.file_id)
        .collect();
    objects(tx, &files).await
}

/// Akten as xdomea objects with their Vorgänge and Dokumente (versions left empty).
pub(crate) async fn objects(
    tx: &mut TenantTx,
    files: &[Uuid],
) -> Result<Vec<FileObject>, CoreError> {
    let plan = crate::retention::plan_rules(tx).await?;
    let units: HashMap<Uuid, (String, String)> = tx
        .all_plan_units()
        .await?
        .into_iter()
        .map(|u| (u.id, (u.code, u.title)))
        .collect();
    let org_units = tx.list_org_units().await?;
    let mut out = Vec::new();
    for file_id in files {
        let mut file: FileRecord = tx.file(*file_id).await?;
        crate::retention::fill(tx, std::slice::from_mut(&mut file)).await?;
        let rule = crate::retention::rule_of(&file, &plan)?;
        let ends = retention::due_on(&rule, file.closed_on());
        let xr = XRetention {
            keep: crate::plan_exchange::keep_of(rule.retention),
            rating: crate::plan_exchange::rating_of(rule.disposition),
            ends,
        };
        let mut documents = tx.list_documents(file.id, None).await?;
        documents.sort_by_key(|d| d.created_at);
        let cases = tx.list_cases(file.id, None, PAGE).await?.items;
        out.push(FileObject {
            id: file.id,
            reference: file.reference.clone(),
            subject: file.subject.clone(),
            confidentiality: match file.confidentiality.as_str() {
                "vertraulich" => Confidentiality::Confidential,
                "streng_vertraulich" => Confidentiality::StrictlyConfidential,
                _ => Confidentiality::Open,
            },
            lead: file
                .lead_org_unit_id
                .and_then(|o| org_units.iter().find(|u| u.id == o))
                .map(|u| format!("{} {}", u.code, u.name)),
            plan_unit: units.get(&file.plan_unit_id).cloned(),
            retention: xr,
            period_from: Some(file.period_from),
            period_to: file.period_to,
            closed_on: file.closed_on(),
            documents: documents
                .iter()
                .filter(|d| d.case_id.is_none())
                .map(document_object)
                .collect(),
            cases: cases
                .iter()
                .map(|c| CaseObject {
                    id: c.id,
                    reference: c.reference.clone(),
                    subject: c.subject.clone(),
                    retention: xr,
                    closed_on: None,
                    period_from: Some(c.created_at.date()),
                    documents: documents
                        .iter()
                        .filter(|d| d.case_id == Some(c.id))
                        .map(document_object)
                        .collect(),
                })
                .collect(),
        });
    }
    Ok(out)
}
