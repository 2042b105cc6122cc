//! Amtshilfe: one tenant shares an Akte (or one Vorgang of it) read-only with another tenant
//! until a date and for a reason. The receiving tenant reads it through the ordinary read
//! operations: when an id is not its own, the read is tried again in a share transaction of
//! the owner (`Db::share_tx`), where the share wall in RLS narrows the owner's records to the
//! shared Akte, the owner's keys open the content, and both audit chains note the read. The
//! shared Akte is never copied into the other tenant's records, index or keys.

use akta_blob::BlobKey;
use akta_db::{Case, Document, DomainEvent, FileRecord, NewShare, Page, Share, TenantTx, Version};
use akta_domain::{bounded_text, Principal, TenantId};
use akta_keys::Key256;
use serde_json::json;
use uuid::Uuid;

use crate::{Core, CoreError};

/// How long a share may run at most: Amtshilfe is for a matter, not a standing arrangement.
const LONGEST_SHARE_DAYS: i64 = 3 * 366;

/// What the owner asks for.
pub struct ShareRequest<'a> {
    /// The receiving tenant's slug.
    pub tenant: &'a str,
    pub until: time::Date,
    pub reason: &'a str,
    /// Only this Vorgang of the Akte.
    pub case_id: Option<Uuid>,
}

/// A read the receiving tenant may make through a share: the ordinary read operations of
/// Akte, Vorgang and Dokument, answered from the owner's records.
#[derive(Clone, Copy)]
pub(crate) enum SharedRead {
    File(Uuid),
    Case(Uuid),
    Cases {
        file: Uuid,
        after: Option<Uuid>,
        limit: i64,
    },
    Documents {
        file: Option<Uuid>,
        case: Option<Uuid>,
    },
    Document(Uuid),
    Content {
        document: Uuid,
        nr: Option<i32>,
    },
    Text {
        document: Uuid,
        nr: i32,
    },
}

/// What a [`SharedRead`] found.
pub(crate) enum SharedValue {
    File(FileRecord),
    Case(Case),
    Cases(Page<Case>),
    Documents(Vec<Document>),
    Document(Document),
    Content(Version, BlobKey, Option<Key256>),
    Text(String),
}

impl SharedRead {
    fn object(self) -> (&'static str, Uuid) {
        match self {
            SharedRead::File(id) | SharedRead::Cases { file: id, .. } => ("file", id),
            SharedRead::Case(id) => ("case", id),
            SharedRead::Documents { file, case } => match (file, case) {
                (Some(id), _) => ("file", id),
                (None, Some(id)) => ("case", id),
                (None, None) => ("file", Uuid::nil()),
            },
            SharedRead::Document(id)
            | SharedRead::Content { document: id, .. }
            | SharedRead::Text { document: id, .. } => ("document", id),
        }
    }

    /// Whether `share` can reach the object at all: an Akte and its list of Vorgänge only
    /// by a share of the whole Akte; a Vorgang or a document may lie in any shared Akte or
    /// Vorgang (the share wall decides).
    fn may_lie_in(self, share: &Share) -> bool {
        match self {
            SharedRead::File(id)
            | SharedRead::Cases { file: id, .. }
            | SharedRead::Documents { file: Some(id), .. } => {
                share.file_id == id && share.case_id.is_none()
            }
            _ => true,
        }
    }
}

/// Notes a read through `share` in both tenants' audit chains and commits both
/// transactions: the owner's (in the shared Akte's history) and the reader's.
pub(crate) async fn audit_share_read(
    mut mine: TenantTx,
    mut theirs: TenantTx,
    share: &Share,
    who: &Principal,
    object_type: &str,
    object_id: Uuid,
) -> Result<(), CoreError> {
    let detail = json!({
        "share_id": share.id,
        "owner": share.owner_slug,
        "grantee": share.grantee_slug,
        "reader": who.actor(),
        "object_type": object_type,
        "object_id": object_id,
    });
    theirs
        .record(
            DomainEvent::new("share.read", "share", share.id)
                .in_file(share.file_id)
                .after(&detail)?,
        )
        .await?;
    theirs.commit().await?;
    mine.record(DomainEvent::new("shared.read", "share", share.id).after(&detail)?)
        .await?;
    mine.commit().await?;
    Ok(())
}

/// The ordinary read's answer or, where it found nothing, the same read through a share
/// (`shared` is a future: nothing of it runs unless it is needed).
pub(crate) async fn or_shared<T>(
    own: Result<T, CoreError>,
    shared: impl std::future::Future<Output = Result<T, CoreError>>,
) -> Result<T, CoreError> {
    match own {
        Err(CoreError::NotFound) => shared.await,
        other => other,
    }
}

/// The error for a value of another read than asked: cannot happen, but is not worth a panic.
fn mismatch() -> CoreError {
    CoreError::Internal("a shared read answered another read".into())
}

impl Core {
    /// Shares Akte `file_id` (or one of its Vorgänge) with another tenant. The caller must be
    /// able to change records and to see the Akte.
    pub async fn share_file(
        &self,
        who: &Principal,
        file_id: Uuid,
        request: ShareRequest<'_>,
    ) -> Result<Share, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden("sharing an Akte needs write access"));
        }
        let reason = bounded_text("reason", request.reason, 2000)?;
        let today = akta_domain::german::today();
        if request.until < today {
            return Err(CoreError::validation("until", "must not lie in the past"));
        }
        if request.until > today + time::Duration::days(LONGEST_SHARE_DAYS) {
            return Err(CoreError::validation(
                "until",
                "a share runs for at most three years",
            ));
        }
        let (own, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        let grantee = match self.db.tenant_by_slug(request.tenant.trim()).await {
            Ok(t) if t.status == "active" && t.id != own.0 => t,
            Ok(t) if t.id == own.0 => {
                return Err(CoreError::validation(
                    "tenant",
                    "an Akte is shared with another tenant, not with its own",
                ))
            }
            Ok(_) | Err(akta_db::DbError::NotFound) => {
                return Err(CoreError::validation(
                    "tenant",
                    "no active tenant of that name",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        self.as_caller(who, async |tx| {
            let file = tx.file(file_id).await?;
            let label = match request.case_id {
                Some(case_id) => {
                    let case = tx
                        .case(case_id)
                        .await
                        .ok()
                        .filter(|c| c.file_id == file_id)
                        .ok_or_else(|| {
                            CoreError::validation("case_id", "is not a Vorgang of this Akte")
                        })?;
                    format!("{} – {}", file.subject, case.subject)
                }
                None => file.subject.clone(),
            };
            let share = tx
                .insert_share(NewShare {
                    file_id,
                    case_id: request.case_id,
                    grantee: grantee.id,
                    until: request.until,
                    reason: &reason,
                    file_reference: &file.reference,
                    label: &label,
                })
                .await?;
            tx.record(
                DomainEvent::new("file.shared", "share", share.id)
                    .in_file(file_id)
                    .with_reason(Some(&reason))
                    .after(&share)?,
            )
            .await?;
            Ok::<_, CoreError>(share)
        })
        .await
    }

    /// The shares of one Akte, for whoever may see it.
    pub async fn file_shares(
        &self,
        who: &Principal,
        file_id: Uuid,
    ) -> Result<Vec<Share>, CoreError> {
        self.as_caller(who, async |tx| {
            tx.file(file_id).await?;
            tx.shares_of_file(file_id).await
        })
        .await
    }

    /// Ends a share at once.
    pub async fn revoke_share(
        &self,
        who: &Principal,
        file_id: Uuid,
        share_id: Uuid,
    ) -> Result<Share, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden("ending a share needs write access"));
        }
        self.as_caller(who, async |tx| {
            tx.file(file_id).await?;
            let before = tx.share(share_id).await?;
            let share = tx.revoke_share(file_id, share_id).await?;
            if before.revoked_at.is_none() {
                tx.record(
                    DomainEvent::new("file.share_revoked", "share", share.id)
                        .in_file(file_id)
                        .before(&before)?
                        .after(&share)?,
                )
                .await?;
            }
            Ok::<_, CoreError>(share)
        })
        .await
    }

    /// What other tenants share with the caller's tenant now ("Geteilt mit uns").
    pub async fn shared_with_us(&self, who: &Principal) -> Result<Vec<Share>, CoreError> {
        self.as_caller(who, async |tx| tx.shares_with_us().await)
            .await
    }

    /// `read` in the owner's share transaction of each open share that may reach the object,
    /// until one finds it: the read is then audited in both tenants' chains. Not found
    /// through any share is the caller's ordinary 404.
    pub(crate) async fn through_share(
        &self,
        who: &Principal,
        read: SharedRead,
    ) -> Result<SharedValue, CoreError> {
        if who.tenant_role().is_none() {
            return Err(CoreError::NotFound);
        }
        let mut mine = self.db.tx_for(who).await?;
        let shares: Vec<Share> = mine
            .shares_with_us()
            .await?
            .into_iter()
            .filter(|s| read.may_lie_in(s))
            .collect();
        for share in shares {
            // The owner's side checks its own row again: open now, and the one named.
            let Some(mut theirs) = self.open_share(who, &share).await? else {
                continue;
            };
            let found = match self.read_in(&mut theirs, read).await {
                Ok(found) => found,
                Err(CoreError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let (object_type, object_id) = read.object();
            audit_share_read(mine, theirs, &share, who, object_type, object_id).await?;
            return Ok(found);
        }
        Err(CoreError::NotFound)
    }

    /// The owner's share transaction for `share`, if the owner's side still holds it open.
    pub(crate) async fn open_share(
        &self,
        who: &Principal,
        share: &Share,
    ) -> Result<Option<TenantTx>, CoreError> {
        let actor = format!("amtshilfe:{}:{}", share.grantee_slug, who.actor());
        let mut theirs = self
            .db
            .share_tx(
                TenantId(share.owner_tenant_id),
                share.file_id,
                share.case_id,
                &actor,
            )
            .await?;
        match theirs.share(share.id).await {
            Ok(again) if again.active && again.grantee_tenant_id == share.grantee_tenant_id => {
                Ok(Some(theirs))
            }
            Ok(_) | Err(akta_db::DbError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read_in(&self, tx: &mut TenantTx, read: SharedRead) -> Result<SharedValue, CoreError> {
        Ok(match read {
            SharedRead::File(id) => SharedValue::File(tx.file(id).await?),
            SharedRead::Case(id) => SharedValue::Case(tx.case(id).await?),
            SharedRead::Cases { file, after, limit } => {
                SharedValue::Cases(tx.list_cases(file, after, limit).await?)
            }
            SharedRead::Documents { file, case } => {
                let file = match (file, case) {
                    (Some(f), _) => f,
                    (None, Some(c)) => tx.case(c).await?.file_id,
                    (None, None) => return Err(CoreError::NotFound),
                };
                SharedValue::Documents(tx.list_documents(file, case).await?)
            }
            SharedRead::Document(id) => SharedValue::Document(tx.document(id).await?),
            SharedRead::Content { document, nr } => {
                tx.document(document).await?;
                let version = tx.version(document, nr).await?;
                let key = BlobKey::parse(&version.blob_key)?;
                let dek = self.keyring()?.open_dek(tx, &key).await?;
                SharedValue::Content(version, key, dek)
            }
            SharedRead::Text { document, nr } => {
                tx.document(document).await?;
                let stored = tx.extracted_text(document, nr).await?;
                SharedValue::Text(self.keyring()?.open_text(tx, stored).await?)
            }
        })
    }

    /// The Akte through a share. Each `shared_*` below is the fallback of an ordinary read.
    pub(crate) async fn shared_file(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<FileRecord, CoreError> {
        match self.through_share(who, SharedRead::File(id)).await? {
            SharedValue::File(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_case(&self, who: &Principal, id: Uuid) -> Result<Case, CoreError> {
        match self.through_share(who, SharedRead::Case(id)).await? {
            SharedValue::Case(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_cases(
        &self,
        who: &Principal,
        file: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<Case>, CoreError> {
        match self
            .through_share(who, SharedRead::Cases { file, after, limit })
            .await?
        {
            SharedValue::Cases(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_documents(
        &self,
        who: &Principal,
        file: Option<Uuid>,
        case: Option<Uuid>,
    ) -> Result<Vec<Document>, CoreError> {
        match self
            .through_share(who, SharedRead::Documents { file, case })
            .await?
        {
            SharedValue::Documents(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_document(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Document, CoreError> {
        match self.through_share(who, SharedRead::Document(id)).await? {
            SharedValue::Document(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_content(
        &self,
        who: &Principal,
        document: Uuid,
        nr: Option<i32>,
    ) -> Result<(Version, BlobKey, Option<Key256>), CoreError> {
        match self
            .through_share(who, SharedRead::Content { document, nr })
            .await?
        {
            SharedValue::Content(v, k, d) => Ok((v, k, d)),
            _ => Err(mismatch()),
        }
    }

    pub(crate) async fn shared_text(
        &self,
        who: &Principal,
        document: Uuid,
        nr: i32,
    ) -> Result<String, CoreError> {
        match self
            .through_share(who, SharedRead::Text { document, nr })
            .await?
        {
            SharedValue::Text(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }
}
