//! Vorgänge: creating, reading, changing the Betreff, closing (zdA) and reopening.

use akta_db::{Case, CaseChanges, Lock, Page};
use akta_domain::lifecycle::{decide, Transition};
use akta_domain::{FileStatus, Principal};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::shares::or_shared;
use crate::{lock_open_file, require_version, Core, CoreError};

/// A change to a Vorgang; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct CaseUpdate {
    pub subject: Option<String>,
    pub status: Option<FileStatus>,
    /// Required when reopening, refused otherwise.
    pub reason: Option<String>,
}

impl Core {
    /// A new Vorgang in an open Akte.
    pub async fn create_case(
        &self,
        who: &Principal,
        file_id: Uuid,
        subject: &str,
        metadata: Map<String, Value>,
    ) -> Result<Case, CoreError> {
        self.as_caller(who, async |tx| {
            tx.create_case(file_id, subject, metadata).await
        })
        .await
    }

    /// The Vorgang; a read in a confidential Akte is audited.
    pub async fn case(&self, who: &Principal, id: Uuid) -> Result<Case, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let case = tx.case(id).await?;
                tx.note_read(case.file_id, "case", id).await?;
                Ok::<_, akta_db::DbError>(case)
            })
            .await;
        or_shared(own, self.shared_case(who, id)).await
    }

    pub async fn list_cases(
        &self,
        who: &Principal,
        file_id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<Case>, CoreError> {
        let own = self
            .as_caller(who, async |tx| {
                let cases = tx.list_cases(file_id, after, limit).await?;
                tx.note_read(file_id, "cases", file_id).await?;
                Ok::<_, akta_db::DbError>(cases)
            })
            .await;
        or_shared(own, self.shared_cases(who, file_id, after, limit)).await
    }

    /// Changes a Vorgang at the caller's `expected` version. Nothing changes in a closed
    /// Akte; a closed Vorgang takes only a reopening with a reason.
    pub async fn update_case(
        &self,
        who: &Principal,
        id: Uuid,
        expected: Option<i32>,
        update: CaseUpdate,
    ) -> Result<Case, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let case = change_case(&mut tx, id, expected, update).await?;
        tx.commit().await?;
        Ok(case)
    }
}

/// The rules of changing a Vorgang ([`Core::update_case`]) inside the caller's transaction,
/// so a Verfügung's "z.d.A." closes a Vorgang by the very same rules.
pub(crate) async fn change_case(
    tx: &mut akta_db::TenantTx,
    id: Uuid,
    expected: Option<i32>,
    update: CaseUpdate,
) -> Result<Case, CoreError> {
    let current = tx.case_locked(id, Lock::Update).await?;
    let expected = require_version(expected, current.row_version)?;
    // The Akte cannot be closed while this change is under way.
    lock_open_file(tx, current.file_id).await?;
    let transition = decide(
        "case",
        FileStatus::parse(&current.status)?,
        update.status,
        update.reason.as_deref(),
        update.subject.is_some(),
    )?;
    let (status, reason) = match &transition {
        Transition::Keep => (None, None),
        Transition::Close => (Some(FileStatus::Closed), None),
        Transition::Reopen { reason } => (Some(FileStatus::Open), Some(reason.as_str())),
    };
    let changes = CaseChanges {
        subject: update.subject,
        status,
    };
    let case = tx.update_case(id, expected, changes, reason).await?;
    if transition == Transition::Close {
        // A closed Vorgang comes back to no one: its Wiedervorlagen end with it.
        tx.close_resubmissions(akta_db::repo::workplace::ResubmissionTarget::Case(id))
            .await?;
    }
    Ok(case)
}
