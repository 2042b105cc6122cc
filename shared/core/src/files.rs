//! Akten: creating, reading, changing, closing (zdA) and reopening with a reason.

use akta_db::repo::workplace::{
    NewResubmission, Resubmission, ResubmissionEnd, ResubmissionSelection, ResubmissionTarget,
};
use akta_db::Lock;
use akta_db::{
    AccessEntry, AuditEvent, FileChanges, FileFilter, FileRecord, Grantee, NewFile, Page, TenantTx,
};
use akta_domain::lifecycle::{decide, Transition};
use akta_domain::{Confidentiality, FileStatus, Principal};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::shares::or_shared;
use crate::{require_version, Core, CoreError};

/// A change to an Akte; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct FileUpdate {
    pub subject: Option<String>,
    pub lead_org_unit_id: Option<Option<Uuid>>,
    pub confidentiality: Option<Confidentiality>,
    pub status: Option<FileStatus>,
    /// Required when reopening, refused otherwise.
    pub reason: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    /// With a closing: the day it was closed on paper long ago (admins and imports only).
    pub closed_on: Option<time::Date>,
}

impl FileUpdate {
    fn changes_fields(&self) -> bool {
        self.subject.is_some()
            || self.lead_org_unit_id.is_some()
            || self.confidentiality.is_some()
            || self.metadata.is_some()
    }
}

impl Core {
    pub async fn create_file(
        &self,
        who: &Principal,
        new: NewFile,
    ) -> Result<FileRecord, CoreError> {
        self.as_caller(who, async |tx| create_file_in(tx, new).await)
            .await
    }

    /// The Akte; a read of a confidential one is audited.
    pub async fn file(&self, who: &Principal, id: Uuid) -> Result<FileRecord, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let mut file = tx.file(id).await?;
                tx.note_read(id, "file", id).await?;
                crate::retention::fill(tx, std::slice::from_mut(&mut file)).await?;
                Ok::<_, CoreError>(file)
            })
            .await;
        or_shared(own, self.shared_file(who, id)).await
    }

    pub async fn list_files(
        &self,
        who: &Principal,
        filter: &FileFilter,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<FileRecord>, CoreError> {
        self.as_caller(who, async |tx| {
            let mut page = tx.list_files(filter, after, limit).await?;
            crate::retention::fill(tx, &mut page.items).await?;
            Ok::<_, CoreError>(page)
        })
        .await
    }

    /// Changes an Akte at the caller's `expected` version. A closed (zdA) Akte takes no
    /// change except reopening, which needs a reason and changes nothing else.
    pub async fn update_file(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        update: FileUpdate,
    ) -> Result<FileRecord, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let file = change_file(&mut tx, who, id, expected, update).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Closes an Akte "zu den Akten".
    pub async fn close_file(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
    ) -> Result<FileRecord, CoreError> {
        let update = FileUpdate {
            status: Some(FileStatus::Closed),
            ..FileUpdate::default()
        };
        self.update_file(who, id, expected, update).await
    }

    /// Reopens a closed Akte; the reason is kept with the event.
    pub async fn reopen_file(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        reason: &str,
    ) -> Result<FileRecord, CoreError> {
        let update = FileUpdate {
            status: Some(FileStatus::Open),
            reason: Some(reason.to_owned()),
            ..FileUpdate::default()
        };
        self.update_file(who, id, expected, update).await
    }

    /// The audit events of an Akte and everything in it, oldest first.
    pub async fn file_history(
        &self,
        who: &Principal,
        file_id: Uuid,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Page<AuditEvent>, CoreError> {
        self.as_caller(who, async |tx| {
            let history = tx.file_history(file_id, after, limit).await?;
            tx.note_read(file_id, "history", file_id).await?;
            Ok::<_, akta_db::DbError>(history)
        })
        .await
    }

    /// The access list of a (confidential) Akte.
    pub async fn list_access(
        &self,
        who: &Principal,
        file_id: Uuid,
    ) -> Result<Vec<AccessEntry>, CoreError> {
        self.as_caller(who, async |tx| tx.list_access(file_id).await)
            .await
    }

    pub async fn grant_access(
        &self,
        who: &Principal,
        file_id: Uuid,
        grantee: Grantee,
    ) -> Result<AccessEntry, CoreError> {
        self.as_caller(who, async |tx| tx.grant_access(file_id, grantee).await)
            .await
    }

    pub async fn revoke_access(
        &self,
        who: &Principal,
        file_id: Uuid,
        entry: Uuid,
    ) -> Result<(), CoreError> {
        self.as_caller(who, async |tx| tx.revoke_access(file_id, entry).await)
            .await?;
        Ok(())
    }

    /// Open Akten of `plan_unit` whose Betreff is `subject` (ignoring case and outer
    /// spaces): pointed out before a second one is created.
    pub async fn files_with_subject(
        &self,
        who: &Principal,
        plan_unit: Uuid,
        subject: &str,
    ) -> Result<Vec<FileRecord>, CoreError> {
        let wanted = subject.trim().to_lowercase();
        let filter = akta_db::FileFilter {
            plan_unit_id: Some(plan_unit),
            status: Some(FileStatus::Open),
        };
        let files = self
            .as_caller(who, async |tx| tx.list_files(&filter, None, 1000).await)
            .await?;
        Ok(files
            .items
            .into_iter()
            .filter(|f| f.subject.trim().to_lowercase() == wanted)
            .collect())
    }

    /// Sets (`Some`) or clears (`None`) the caller's own Wiedervorlage on an Akte or Vorgang
    /// (for everyone when a token sets it), replacing the caller's earlier one there. None on
    /// a closed Akte or Vorgang. Returns the Akte.
    pub async fn set_resubmission(
        &self,
        who: &Principal,
        target: ResubmissionTarget,
        on: Option<time::Date>,
        note: Option<String>,
    ) -> Result<Uuid, CoreError> {
        let user = caller_user(who);
        let mut tx = self.db.tx_for(who).await?;
        let file_id = match target {
            ResubmissionTarget::File(id) => id,
            ResubmissionTarget::Case(id) => tx.case(id).await?.file_id,
        };
        // Two replacements of the same Wiedervorlage at once wait here for each other; without
        // the lock each ended the other's rows and then waited on the Akte: a deadlock (500).
        let file_id = tx.file_locked(file_id, akta_db::Lock::Update).await?.id;
        let why = if on.is_some() {
            ResubmissionEnd::Replaced
        } else {
            ResubmissionEnd::Done
        };
        tx.end_resubmissions(ResubmissionSelection::OfUser { target, user }, why)
            .await?;
        if let Some(due_on) = on {
            let new = NewResubmission {
                due_on,
                user_id: user,
                note,
            };
            tx.add_resubmission(target, new).await?;
        }
        tx.commit().await?;
        Ok(file_id)
    }

    /// A further Wiedervorlage on an open Akte or Vorgang: for `new.user_id` (a colleague),
    /// or, when none is named, for the person who sets it (for everyone when a token does).
    pub async fn add_resubmission(
        &self,
        who: &Principal,
        target: ResubmissionTarget,
        mut new: NewResubmission,
    ) -> Result<Resubmission, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "a Wiedervorlage needs a role that writes",
            ));
        }
        if new.user_id.is_none() {
            new.user_id = caller_user(who);
        }
        self.as_caller(who, async |tx| tx.add_resubmission(target, new).await)
            .await
    }

    /// Marks a Wiedervorlage done and returns it.
    pub async fn complete_resubmission(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Resubmission, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "a Wiedervorlage needs a role that writes",
            ));
        }
        let mut tx = self.db.tx_for(who).await?;
        // Visible only with its Akte; done only while the Akte is open.
        let current = tx.resubmission(id).await?;
        let target = match current.case_id {
            Some(case) => akta_db::DocumentTarget::Case(case),
            None => akta_db::DocumentTarget::File(current.file_id),
        };
        tx.resolve_target(target).await?;
        let mut ended = tx
            .end_resubmissions(ResubmissionSelection::One(id), ResubmissionEnd::Done)
            .await?;
        tx.commit().await?;
        ended.pop().ok_or(CoreError::NotFound)
    }

    /// The open Wiedervorlagen of an Akte and its Vorgänge.
    pub async fn resubmissions_in_file(
        &self,
        who: &Principal,
        file_id: Uuid,
    ) -> Result<Vec<Resubmission>, CoreError> {
        self.as_caller(who, async |tx| {
            tx.file(file_id).await?;
            tx.resubmissions_in_file(file_id).await
        })
        .await
    }
}

/// The person a caller is; tokens are no one (their Wiedervorlagen are for everyone).
fn caller_user(who: &Principal) -> Option<Uuid> {
    match who {
        Principal::User { user_id, .. } => Some(*user_id),
        _ => None,
    }
}

/// The rules of changing an Akte ([`Core::update_file`]) inside the caller's transaction,
/// so a Verfügung's "z.d.A." closes an Akte by the very same rules.
pub(crate) async fn change_file(
    tx: &mut akta_db::TenantTx,
    who: &Principal,
    id: Uuid,
    expected: Option<i32>,
    update: FileUpdate,
) -> Result<FileRecord, CoreError> {
    // Existence first: another tenant's id answers 404, not 412 or 428. Locked, so the
    // rule below decides on the state the change is made to.
    let current = tx.file_locked(id, Lock::Update).await?;
    let expected = require_version(expected, current.row_version)?;
    let transition = decide(
        "file",
        FileStatus::parse(&current.status)?,
        update.status,
        update.reason.as_deref(),
        update.changes_fields(),
    )?;
    let status = match &transition {
        Transition::Keep => None,
        Transition::Close => Some(FileStatus::Closed),
        Transition::Reopen { .. } => Some(FileStatus::Open),
    };
    let reason = match &transition {
        Transition::Reopen { reason } => Some(reason.as_str()),
        _ => None,
    };
    if let Some(closed_on) = update.closed_on {
        // A date on paper is the records manager's word, not a clerk's.
        if !matches!(who.tenant_role(), Some((_, akta_domain::Role::Admin))) {
            return Err(CoreError::Forbidden(
                "only an admin may close an Akte with a past date",
            ));
        }
        if transition != Transition::Close {
            return Err(CoreError::validation(
                "closed_on",
                "is given only when closing (\"status\": \"zdA\")",
            ));
        }
        let today = crate::retention::today();
        akta_domain::retention::check_closed_on(closed_on, today)?;
        if closed_on < current.period_from {
            return Err(CoreError::validation(
                "closed_on",
                "must not be before the Akte's Laufzeit begins",
            ));
        }
    }
    let changes = FileChanges {
        subject: update.subject,
        lead_org_unit_id: update.lead_org_unit_id,
        confidentiality: update.confidentiality,
        status,
        metadata: update.metadata,
        closed_on: update.closed_on,
    };
    let mut file = tx.update_file(id, expected, changes, reason).await?;
    if transition == Transition::Close {
        // A closed Akte comes back to no one: its Wiedervorlagen end with it.
        tx.close_resubmissions(ResubmissionTarget::File(id)).await?;
    }
    crate::retention::fill(tx, std::slice::from_mut(&mut file)).await?;
    Ok(file)
}

/// [`Core::create_file`] in a transaction the caller commits (an import creates the Akten of
/// a batch in one).
pub(crate) async fn create_file_in(
    tx: &mut TenantTx,
    new: NewFile,
) -> Result<FileRecord, CoreError> {
    let mut file = tx.create_file(new).await?;
    crate::retention::fill(tx, std::slice::from_mut(&mut file)).await?;
    Ok(file)
}
