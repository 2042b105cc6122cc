//! What the clerk web UI needs beyond the REST resources: the start page ("Mein
//! Arbeitsplatz"), Wiedervorlagen, the Aktenplan tree with counts, zdA/reopen with a reason,
//! and the tenant's branding.

use serde::Serialize;
use uuid::Uuid;

use crate::serde_date::iso_date;
use crate::{DbError, TenantTx};

/// What a Wiedervorlage is set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResubmissionTarget {
    File(Uuid),
    Case(Uuid),
}

impl ResubmissionTarget {
    fn as_document_target(self) -> crate::DocumentTarget {
        match self {
            ResubmissionTarget::File(id) => crate::DocumentTarget::File(id),
            ResubmissionTarget::Case(id) => crate::DocumentTarget::Case(id),
        }
    }

    fn object(self) -> (&'static str, Uuid) {
        match self {
            ResubmissionTarget::File(id) => ("file", id),
            ResubmissionTarget::Case(id) => ("case", id),
        }
    }
}

/// Which open Wiedervorlagen [`TenantTx::end_resubmissions`] ends.
#[derive(Debug, Clone, Copy)]
pub enum ResubmissionSelection {
    One(Uuid),
    /// Those of `user` (`None`: the ones for everyone) directly on `target`.
    OfUser {
        target: ResubmissionTarget,
        user: Option<Uuid>,
    },
}

/// A Wiedervorlage as shown on the start page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DueItem {
    pub id: Uuid,
    pub file_id: Uuid,
    /// Set when the Wiedervorlage is on a Vorgang.
    pub case_id: Option<Uuid>,
    pub reference: String,
    pub subject: String,
    #[serde(with = "iso_date")]
    pub resubmit_on: time::Date,
    pub note: Option<String>,
}

/// An open Akte or Vorgang on the start page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WorkItem {
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub reference: String,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: time::OffsetDateTime,
}

/// A recent change on the start page: the last audit event of an Akte.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecentChange {
    pub file_id: Uuid,
    pub reference: String,
    pub subject: String,
    pub action: String,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// An Aktenplan unit with the number of Akten (the caller can see) filed directly under it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlanNode {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub parent_id: Option<Uuid>,
    pub file_count: i64,
}

/// A Wiedervorlage on an Akte or one of its Vorgänge, for a person or (no `user_id`) for
/// everyone.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Resubmission {
    pub id: Uuid,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    #[serde(with = "iso_date")]
    pub due_on: time::Date,
    pub user_id: Option<Uuid>,
    /// The person's display name.
    pub user_name: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// What a new Wiedervorlage says.
#[derive(Debug, Clone)]
pub struct NewResubmission {
    pub due_on: time::Date,
    /// `None`: for everyone.
    pub user_id: Option<Uuid>,
    pub note: Option<String>,
}

const RESUBMISSION_COLUMNS: &str = "r.id, r.file_id, r.case_id, r.due_on, r.user_id,
    u.display_name AS user_name, r.note, r.created_by, r.created_at";

/// Why Wiedervorlagen end.
#[derive(Debug, Clone, Copy)]
pub enum ResubmissionEnd {
    /// Someone marked it done.
    Done,
    /// Its Akte or Vorgang was closed.
    Closed,
    /// A new date replaced it (`PUT …/resubmission`).
    Replaced,
}

impl ResubmissionEnd {
    fn as_str(self) -> &'static str {
        match self {
            ResubmissionEnd::Done => "erledigt",
            ResubmissionEnd::Closed => "zdA",
            ResubmissionEnd::Replaced => "ersetzt",
        }
    }
}

/// A tenant's header in the web UI.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Branding {
    pub header_name: Option<String>,
    pub accent_color: Option<String>,
    pub logo_media_type: Option<String>,
}

/// A new logo, or its removal, in [`TenantTx::set_branding`].
pub enum LogoChange {
    Keep,
    Remove,
    Set { bytes: Vec<u8>, media_type: String },
}

/// New metadata of a Dokument (all fields replaced; the content stays in its versions).
pub struct DocumentChanges {
    pub title: String,
    pub kind: akta_domain::DocumentKind,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub document_date: Option<time::Date>,
    /// `None` keeps the metadata as it is.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The latest audit events of actor `$1` in Akten (bounded; index `audit_events_actor`).
const MY_EVENTS: &str = "SELECT a.file_id, a.object_id FROM audit_events a
     WHERE a.actor = $1 AND a.file_id IS NOT NULL AND a.action <> 'file.read'
     ORDER BY a.id DESC LIMIT 2000";

/// Audit actions that are reads, not changes: not "recently changed".
const READ_ACTIONS: &str = "('file.read')";

impl TenantTx {
    /// A new Wiedervorlage on an open Akte or Vorgang; audited in the Akte's history.
    pub async fn add_resubmission(
        &mut self,
        target: ResubmissionTarget,
        new: NewResubmission,
    ) -> Result<Resubmission, DbError> {
        // Like every change, none to an Akte or Vorgang closed "zu den Akten".
        let (file_id, case_id) = self.resolve_target(target.as_document_target()).await?;
        if let Some(user) = new.user_id {
            self.require(
                "SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL",
                user,
                "user_id",
            )
            .await?;
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO resubmissions (id, tenant_id, file_id, case_id, due_on, user_id, note,
                                        created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(file_id)
        .bind(case_id)
        .bind(new.due_on)
        .bind(new.user_id)
        .bind(&new.note)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        let created = self.resubmission(id).await?;
        let (object_type, object_id) = target.object();
        self.emit::<(), _>(
            &format!("{object_type}.resubmission_set"),
            object_type,
            object_id,
            Some(file_id),
            None,
            Some(&created),
        )
        .await?;
        Ok(created)
    }

    pub async fn resubmission(&mut self, id: Uuid) -> Result<Resubmission, DbError> {
        let sql = format!(
            "SELECT {RESUBMISSION_COLUMNS} FROM resubmissions r
               LEFT JOIN users u ON u.id = r.user_id
              WHERE r.id = $1"
        );
        Ok(sqlx::query_as::<_, Resubmission>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Ends open Wiedervorlagen: one (`id`), or all of `user` on a target (`PUT`/`DELETE`
    /// of `…/resubmission`), each audited. Returns the ended ones.
    pub async fn end_resubmissions(
        &mut self,
        selection: ResubmissionSelection,
        why: ResubmissionEnd,
    ) -> Result<Vec<Resubmission>, DbError> {
        let (sql, a, b, c) = match selection {
            ResubmissionSelection::One(id) => (
                "UPDATE resubmissions SET done_at = now(), done_by = $4, done_reason = $5
                  WHERE id = $1 AND done_at IS NULL AND $2::uuid IS NULL AND $3::uuid IS NULL
                  RETURNING id",
                Some(id),
                None,
                None,
            ),
            ResubmissionSelection::OfUser { target, user } => {
                let (file, case) = match target {
                    ResubmissionTarget::File(f) => (Some(f), None),
                    ResubmissionTarget::Case(c) => (None, Some(c)),
                };
                (
                    "UPDATE resubmissions SET done_at = now(), done_by = $4, done_reason = $5
                      WHERE done_at IS NULL AND user_id IS NOT DISTINCT FROM $1
                        AND (($2::uuid IS NOT NULL AND file_id = $2 AND case_id IS NULL)
                             OR ($3::uuid IS NOT NULL AND case_id = $3))
                      RETURNING id",
                    user,
                    file,
                    case,
                )
            }
        };
        let ids: Vec<(Uuid,)> = sqlx::query_as(sql)
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(&self.actor)
            .bind(why.as_str())
            .fetch_all(&mut *self.tx)
            .await?;
        if matches!(selection, ResubmissionSelection::One(_)) && ids.is_empty() {
            return Err(DbError::NotFound);
        }
        let mut ended = Vec::with_capacity(ids.len());
        for (id,) in ids {
            let r = self.resubmission(id).await?;
            let (object_type, object_id) = match r.case_id {
                Some(case) => ("case", case),
                None => ("file", r.file_id),
            };
            let after = serde_json::json!({"resubmission": &r, "reason": why.as_str()});
            self.emit::<(), _>(
                &format!("{object_type}.resubmission_cleared"),
                object_type,
                object_id,
                Some(r.file_id),
                None,
                Some(&after),
            )
            .await?;
            ended.push(r);
        }
        Ok(ended)
    }

    /// Ends every open Wiedervorlage of a closing Akte (with its Vorgänge) or Vorgang, in
    /// the closing transaction; the history keeps the closing itself.
    pub async fn close_resubmissions(
        &mut self,
        target: ResubmissionTarget,
    ) -> Result<u64, DbError> {
        let (file, case) = match target {
            ResubmissionTarget::File(f) => (Some(f), None),
            ResubmissionTarget::Case(c) => (None, Some(c)),
        };
        let done = sqlx::query(
            "UPDATE resubmissions SET done_at = now(), done_by = $3, done_reason = 'zdA'
              WHERE done_at IS NULL AND (file_id = $1 OR case_id = $2)",
        )
        .bind(file)
        .bind(case)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// The open Wiedervorlagen of an Akte and its Vorgänge, soonest first.
    pub async fn resubmissions_in_file(
        &mut self,
        file_id: Uuid,
    ) -> Result<Vec<Resubmission>, DbError> {
        let sql = format!(
            "SELECT {RESUBMISSION_COLUMNS} FROM resubmissions r
               LEFT JOIN users u ON u.id = r.user_id
              WHERE r.file_id = $1 AND r.done_at IS NULL
              ORDER BY r.due_on, r.created_at"
        );
        Ok(sqlx::query_as::<_, Resubmission>(&sql)
            .bind(file_id)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Open Wiedervorlagen due today (in German local time) or overdue, for one of `users`
    /// (a person and those they stand in for) or for everyone, oldest first.
    pub async fn due_resubmissions(
        &mut self,
        users: &[Uuid],
        limit: i64,
    ) -> Result<Vec<DueItem>, DbError> {
        Ok(sqlx::query_as::<_, DueItem>(
            "SELECT r.id, r.file_id, r.case_id,
                    coalesce(c.reference, f.reference) AS reference,
                    coalesce(c.subject, f.subject) AS subject,
                    r.due_on AS resubmit_on, r.note
               FROM resubmissions r
               JOIN files f ON f.id = r.file_id
               LEFT JOIN cases c ON c.id = r.case_id
              WHERE r.done_at IS NULL
                AND r.due_on <= (now() AT TIME ZONE 'Europe/Berlin')::date
                AND (r.user_id = ANY($1) OR r.user_id IS NULL)
              ORDER BY r.due_on, reference LIMIT $2",
        )
        .bind(users)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Open Akten in which `actor` (e.g. `user:anna`) did something recently, most recently
    /// changed first; Akten carry no owner, so "mine" means "I worked on it".
    pub async fn my_open_files(
        &mut self,
        actor: &str,
        limit: i64,
    ) -> Result<Vec<WorkItem>, DbError> {
        let sql = format!(
            "SELECT f.id AS file_id, NULL::uuid AS case_id, f.reference, f.subject,
                    f.updated_at AS changed_at
               FROM files f
              WHERE f.status = 'offen' AND f.id IN (SELECT file_id FROM ({MY_EVENTS}) mine)
              ORDER BY f.updated_at DESC LIMIT $2"
        );
        Ok(sqlx::query_as::<_, WorkItem>(&sql)
            .bind(actor)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Open Vorgänge that `actor` recently created, changed or filed into, newest first.
    pub async fn my_open_cases(
        &mut self,
        actor: &str,
        limit: i64,
    ) -> Result<Vec<WorkItem>, DbError> {
        let sql = format!(
            "WITH mine AS ({MY_EVENTS})
             SELECT c.file_id, c.id AS case_id, c.reference, c.subject, c.created_at AS changed_at
               FROM cases c JOIN files f ON f.id = c.file_id
              WHERE c.status = 'offen' AND f.status = 'offen'
                AND (c.id IN (SELECT object_id FROM mine)
                     OR c.id IN (SELECT d.case_id FROM documents d
                                  WHERE d.id IN (SELECT object_id FROM mine)))
              ORDER BY c.id DESC LIMIT $2"
        );
        Ok(sqlx::query_as::<_, WorkItem>(&sql)
            .bind(actor)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// The Akten changed last (by anyone), with their latest change.
    pub async fn recent_changes(&mut self, limit: i64) -> Result<Vec<RecentChange>, DbError> {
        let sql = format!(
            "SELECT * FROM (
                SELECT DISTINCT ON (a.file_id) a.file_id, f.reference, f.subject, a.action,
                       a.actor, a.at
                  FROM audit_events a JOIN files f ON f.id = a.file_id
                 WHERE a.action NOT IN {READ_ACTIONS}
                   AND a.at > now() - interval '30 days'
                 ORDER BY a.file_id, a.id DESC
             ) latest ORDER BY at DESC LIMIT $1"
        );
        Ok(sqlx::query_as::<_, RecentChange>(&sql)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// The whole Aktenplan with counts, ordered by Kennzeichen (plan trees are small).
    pub async fn plan_tree(&mut self) -> Result<Vec<PlanNode>, DbError> {
        Ok(sqlx::query_as::<_, PlanNode>(
            "SELECT u.id, u.code, u.title, u.parent_id,
                    (SELECT count(*) FROM files f WHERE f.plan_unit_id = u.id) AS file_count
               FROM plan_units u ORDER BY u.code",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Changes a Dokument's metadata if it is still at `expected_version`. Audited and
    /// re-indexed; the rules of what may change (zdA) are the core's.
    pub async fn update_document(
        &mut self,
        id: Uuid,
        expected_version: i32,
        changes: DocumentChanges,
    ) -> Result<crate::Document, DbError> {
        let mut before = self.document(id).await?;
        if before.row_version != expected_version {
            return Err(DbError::VersionMismatch);
        }
        let done = sqlx::query(
            "UPDATE documents SET title = $3, kind = $4, sender = $5, recipient = $6,
                    document_date = $7, metadata = COALESCE($8, metadata),
                    row_version = row_version + 1
              WHERE id = $1 AND row_version = $2",
        )
        .bind(id)
        .bind(expected_version)
        .bind(&changes.title)
        .bind(changes.kind.as_str())
        .bind(&changes.sender)
        .bind(&changes.recipient)
        .bind(changes.document_date)
        .bind(changes.metadata.map(serde_json::Value::Object))
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(DbError::VersionMismatch);
        }
        let mut after = self.document(id).await?;
        // Versions do not change here; keep them out of the audit event.
        before.versions.clear();
        after.versions.clear();
        self.emit(
            "document.updated",
            "document",
            id,
            Some(after.file_id),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

    pub async fn branding(&mut self) -> Result<Branding, DbError> {
        Ok(sqlx::query_as::<_, Branding>(
            "SELECT header_name, accent_color, logo_media_type FROM tenant_branding",
        )
        .fetch_optional(&mut *self.tx)
        .await?
        .unwrap_or_default())
    }

    /// The logo and its media type, if the tenant has one.
    pub async fn branding_logo(&mut self) -> Result<Option<(Vec<u8>, String)>, DbError> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> =
            sqlx::query_as("SELECT logo, logo_media_type FROM tenant_branding")
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(match row {
            Some((Some(bytes), Some(media_type))) => Some((bytes, media_type)),
            _ => None,
        })
    }

    /// Replaces the branding (audited as a tenant event; the logo itself is not logged).
    pub async fn set_branding(
        &mut self,
        header_name: Option<&str>,
        accent_color: Option<&str>,
        logo: LogoChange,
    ) -> Result<Branding, DbError> {
        let (keep, bytes, media_type) = match logo {
            LogoChange::Keep => (true, None, None),
            LogoChange::Remove => (false, None, None),
            LogoChange::Set { bytes, media_type } => (false, Some(bytes), Some(media_type)),
        };
        let branding = sqlx::query_as::<_, Branding>(
            "INSERT INTO tenant_branding (tenant_id, header_name, accent_color, logo, logo_media_type)
             VALUES ($1, $2, $3, $5, $6)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 header_name = $2, accent_color = $3,
                 logo = CASE WHEN $4 THEN tenant_branding.logo ELSE $5 END,
                 logo_media_type = CASE WHEN $4 THEN tenant_branding.logo_media_type ELSE $6 END,
                 updated_at = now()
             RETURNING header_name, accent_color, logo_media_type",
        )
        .bind(self.tenant.0)
        .bind(header_name)
        .bind(accent_color)
        .bind(keep)
        .bind(bytes)
        .bind(media_type)
        .fetch_one(&mut *self.tx)
        .await?;
        self.audit_tenant_event(
            "tenant.branding_changed",
            "tenant",
            self.tenant.0,
            &branding,
        )
        .await?;
        Ok(branding)
    }
}
