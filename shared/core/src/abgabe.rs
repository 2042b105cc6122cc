//! Abgabe: handing Akten (with their Vorgänge and Dokumente) to another authority in xdomea
//! (`Abgabe.Abgabe.0401`). Between two tenants of the same Akta it runs end to end: the
//! sending tenant offers, the receiving tenant's clerk or admin accepts into a plan unit of
//! its own (new Aktenzeichen, the previous one kept), and the sender either keeps a closed
//! copy or the Akten are destroyed behind a Löschprotokoll entry, as chosen at the offer.
//! To an authority outside Akta, the 0401 is a container to download, and its 0402 (import
//! confirmation) and 0403 (receipt) are read back. Both sides are audited.

use akta_db::repo::transfers::IncomingTransfer;
use akta_db::{FileChanges, TenantTx};
use akta_domain::retention::check_not_held;
use akta_domain::{FileStatus, Principal, Role, TenantId, TenantSlug};
use akta_xdomea::model::{Head, Party};
use akta_xdomea::{write, MessageType};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::disposal::{container_file, stream_container, with_documents, ZipStream};
use crate::import::ImportReport;
use crate::transfers::{view, TransferView};
use crate::{Core, CoreError};

/// Who hands Akten over: records managers and those who write records.
fn require_sender(who: &Principal) -> Result<(), CoreError> {
    crate::retention::require_role(
        who,
        &[Role::Admin, Role::Archivist, Role::Clerk],
        true,
        "handing over Akten needs a role that writes",
    )
}

/// What accepting an Abgabe brought in.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub incoming: IncomingTransfer,
    pub import: ImportReport,
}

impl Core {
    /// Offers `files` to another authority: to tenant `to_tenant` of this Akta, or (`None`)
    /// outside, as a 0401 container to download. No Akte may be under a legal hold.
    pub async fn create_abgabe(
        &self,
        who: &Principal,
        files: &[Uuid],
        to_tenant: Option<&str>,
        keep_copy: bool,
    ) -> Result<TransferView, CoreError> {
        require_sender(who)?;
        if files.is_empty() || files.len() > 1000 {
            return Err(CoreError::validation(
                "file_ids",
                "must name 1 to 1000 Akten",
            ));
        }
        let (own, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        let target = match to_tenant {
            Some(slug) => {
                let slug = TenantSlug::parse(slug)
                    .map_err(|_| CoreError::validation("to_tenant", "is no tenant of this Akta"))?;
                let tenant = match self.db.tenant_by_slug(slug.as_str()).await {
                    Ok(t) if t.status == "active" => t,
                    _ => {
                        return Err(CoreError::validation(
                            "to_tenant",
                            "is no active tenant of this Akta",
                        ))
                    }
                };
                if TenantId(tenant.id) == own {
                    return Err(CoreError::validation("to_tenant", "is this tenant itself"));
                }
                Some(tenant)
            }
            None => None,
        };
        let mut tx = self.lifecycle_tx(who).await?;
        let mut offered = Vec::new();
        for id in files {
            let file = tx.file_locked(*id, akta_db::Lock::Share).await?;
            check_not_held(file.hold().as_ref(), crate::retention::today())
                .map_err(|m| CoreError::Conflict(m.into()))?;
            offered.push(json!({"reference": file.reference, "subject": file.subject}));
        }
        let transfer = tx.create_transfer("abgabe", files).await?;
        tx.set_transfer_target(transfer.id, target.as_ref().map(|t| t.id), keep_copy)
            .await?;
        let transfer = tx.transfer(transfer.id, false).await?;
        let result = view(&mut tx, transfer).await?;
        tx.commit().await?;
        if let Some(target) = target {
            let source = self.db.tenant_by_id(own).await?;
            let mut theirs = self
                .db
                .system_tx(TenantId(target.id), &format!("tenant:{}", source.slug))
                .await?;
            theirs
                .insert_incoming(
                    result.transfer.id,
                    own.0,
                    &source.display_name,
                    &json!(offered),
                )
                .await?;
            theirs.commit().await?;
        }
        Ok(result)
    }

    /// The Abgaben other tenants offered this one.
    pub async fn incoming_transfers(
        &self,
        who: &Principal,
    ) -> Result<Vec<IncomingTransfer>, CoreError> {
        self.as_caller(who, async |tx| tx.list_incoming().await)
            .await
    }

    /// Accepts an Abgabe from another tenant into `plan_unit_id`: the sender's Akten come in
    /// as a 0401 container (every version of every Dokument), the sender keeps a closed copy
    /// or destroys them, as it chose.
    pub async fn accept_incoming(
        &self,
        who: &Principal,
        id: Uuid,
        plan_unit_id: Uuid,
    ) -> Result<Accepted, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "accepting an Abgabe needs a role that writes",
            ));
        }
        let (own, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        let mut mine = self.db.tx_for(who).await?;
        let incoming = mine.incoming(id, false).await?;
        mine.commit().await?;
        if incoming.state != "offen" {
            return Err(CoreError::Conflict(
                "this Abgabe was accepted already".into(),
            ));
        }
        self.plan_unit(who, plan_unit_id).await?;
        let receiver = self.db.tenant_by_id(own).await?;
        let sender_id = TenantId(incoming.source_tenant_id);
        let actor = format!("tenant:{}:{}", receiver.slug, who.actor());

        // The sender's side: its Akten as a 0401 container in a private temporary file.
        let content = self.content()?;
        let mut theirs = self.db.system_tx(sender_id, &actor).await?;
        let transfer = theirs.transfer(id, true).await?;
        if transfer.to_tenant_id != Some(own.0) || transfer.state == "abgeschlossen" {
            return Err(CoreError::NotFound);
        }
        let files = file_items(&mut theirs, id).await?;
        for file in &files {
            let record = theirs.file_locked(*file, akta_db::Lock::Share).await?;
            check_not_held(record.hold().as_ref(), crate::retention::today())
                .map_err(|m| CoreError::Conflict(m.into()))?;
        }
        let mut objects = crate::transfers::objects(&mut theirs, &files).await?;
        let entries = with_documents(&content.keyring, &mut theirs, &mut objects, true).await?;
        let sender = self.db.tenant_by_id(sender_id).await?;
        let head = Head {
            process_id: id,
            created: time::OffsetDateTime::now_utc(),
            sender: Party {
                authority_key: Some(sender.slug.clone()),
                institution: Some(sender.display_name.clone()),
            },
            recipient: Party {
                authority_key: Some(receiver.slug.clone()),
                institution: Some(receiver.display_name.clone()),
            },
            receipt_requested: false,
        };
        let xml = write::abgabe_0401(&head, &objects)?;
        theirs
            .log_transfer_message(id, MessageType::Abgabe0401.code(), "out", &xml)
            .await?;
        theirs.commit().await?;
        let dir = tempfile::tempdir().map_err(|e| CoreError::Internal(e.to_string()))?;
        let path = dir.path().join("abgabe.zip");
        container_file(
            path.clone(),
            id,
            MessageType::Abgabe0401,
            xml,
            entries,
            content.blobs.clone(),
        )
        .await?;

        // The receiver's side: the same import as for a container from outside.
        let import = self.import_transfer(who, plan_unit_id, &path).await?;
        let came_in = json!(import
            .files
            .iter()
            .map(|f| json!({"id": f.id, "reference": f.reference, "previous_reference": f.previous_reference}))
            .collect::<Vec<_>>());
        let mut mine = self.db.tx_for(who).await?;
        mine.incoming(id, true).await?;
        mine.accept_incoming(id, &came_in).await?;
        let incoming = mine.incoming(id, false).await?;
        mine.commit().await?;

        // Back to the sender: a closed copy, or destroyed behind its Löschprotokoll entry.
        let mut theirs = self.db.system_tx(sender_id, &actor).await?;
        let transfer = theirs.transfer(id, true).await?;
        let leftovers = finish_sender(&mut theirs, id, transfer.keep_copy, &files).await?;
        theirs.commit().await?;
        self.delete_blobs(leftovers).await;
        Ok(Accepted { incoming, import })
    }

    /// `Abgabe.Abgabe.0401` of an Abgabe to outside Akta, as a zip streamed while written.
    pub async fn abgabe_0401(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(String, ZipStream), CoreError> {
        require_sender(who)?;
        let content = self.content()?;
        let mut tx = self.lifecycle_tx(who).await?;
        let transfer = tx.transfer(id, true).await?;
        if transfer.kind != "abgabe" || transfer.to_tenant_id.is_some() {
            return Err(CoreError::Conflict(
                "a 0401 is produced for an Abgabe outside Akta; inside, the other tenant accepts it".into(),
            ));
        }
        if transfer.state == "abgeschlossen" {
            return Err(CoreError::Conflict("the transfer is finished".into()));
        }
        let files = file_items(&mut tx, id).await?;
        for file in &files {
            let record = tx.file_locked(*file, akta_db::Lock::Share).await?;
            check_not_held(record.hold().as_ref(), crate::retention::today())
                .map_err(|m| CoreError::Conflict(m.into()))?;
        }
        let mut objects = crate::transfers::objects(&mut tx, &files).await?;
        let entries = with_documents(&content.keyring, &mut tx, &mut objects, true).await?;
        let mut head = self.head(&tx, &transfer).await?;
        head.recipient.institution = Some("Aufnehmende Behörde".into());
        let xml = write::abgabe_0401(&head, &objects)?;
        for file in &files {
            tx.set_transfer_file_state(id, *file, "übergeben").await?;
        }
        tx.set_transfer_state(id, "übergeben").await?;
        tx.log_transfer_message(id, MessageType::Abgabe0401.code(), "out", &xml)
            .await?;
        tx.commit().await?;
        Ok((
            format!("{id}_{}.zip", MessageType::Abgabe0401.root()),
            stream_container(
                id,
                MessageType::Abgabe0401,
                xml,
                entries,
                content.blobs.clone(),
            ),
        ))
    }
}

async fn file_items(tx: &mut TenantTx, id: Uuid) -> Result<Vec<Uuid>, CoreError> {
    Ok(tx
        .transfer_items(id)
        .await?
        .into_iter()
        .filter(|i| {
            i.object_type == "file"
                && !matches!(i.state.as_str(), "archiviert" | "vernichtet" | "abgegeben")
        })
        .map(|i| i.file_id)
        .collect())
}

/// The sender's end of an Abgabe for `files` the other side took in: each Akte is closed and
/// kept (`keep_copy`) or destroyed with its Löschprotokoll entry; the transfer ends once every
/// Akte in it is handed over.
pub(crate) async fn finish_sender(
    tx: &mut TenantTx,
    id: Uuid,
    keep_copy: bool,
    files: &[Uuid],
) -> Result<Vec<String>, CoreError> {
    let mut leftovers = Vec::new();
    if keep_copy {
        for file in files {
            let current = tx.file_locked(*file, akta_db::Lock::Update).await?;
            if current.status != FileStatus::Closed.as_str() {
                tx.update_file(
                    *file,
                    current.row_version,
                    FileChanges {
                        status: Some(FileStatus::Closed),
                        ..FileChanges::default()
                    },
                    None,
                )
                .await?;
            }
            tx.set_transfer_file_state(id, *file, "abgegeben").await?;
        }
    } else {
        let destroy: Vec<(Uuid, Option<&str>, &str, Option<String>)> = files
            .iter()
            .map(|f| (*f, None, "abgegeben", None))
            .collect();
        leftovers = crate::disposal::destroy(tx, id, &destroy).await?;
    }
    crate::transfers::finish_if_done(tx, id).await?;
    Ok(leftovers)
}
