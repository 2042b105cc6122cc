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

/// A Wiedervorlage as shown on the start page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DueItem {
    pub file_id: Uuid,
    /// Set when the Wiedervorlage is on a Vorgang.
    pub case_id: Option<Uuid>,
    pub reference: String,
    pub subject: String,
    #[serde(with = "iso_date")]
    pub resubmit_on: time::Date,
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

/// The Wiedervorlage dates inside one Akte (on the Akte itself and its Vorgänge).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Resubmission {
    pub object_id: Uuid,
    #[serde(with = "iso_date")]
    pub resubmit_on: time::Date,
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
    /// Sets (`Some`) or clears (`None`) the Wiedervorlage of an Akte or Vorgang, for `user`
    /// (`None`: for everyone, as when a token sets it). Audited in the Akte's history.
    pub async fn set_resubmission(
        &mut self,
        target: ResubmissionTarget,
        on: Option<time::Date>,
        user: Option<Uuid>,
    ) -> Result<(), DbError> {
        // Like every change, none to an Akte or Vorgang closed "zu den Akten".
        let document_target = match target {
            ResubmissionTarget::File(id) => crate::DocumentTarget::File(id),
            ResubmissionTarget::Case(id) => crate::DocumentTarget::Case(id),
        };
        self.resolve_target(document_target).await?;
        let (sql, id, object_type) = match target {
            ResubmissionTarget::File(id) => (
                "UPDATE files SET resubmit_on = $2, resubmit_user_id = $3 WHERE id = $1
                 RETURNING id",
                id,
                "file",
            ),
            ResubmissionTarget::Case(id) => (
                "UPDATE cases SET resubmit_on = $2, resubmit_user_id = $3 WHERE id = $1
                 RETURNING file_id",
                id,
                "case",
            ),
        };
        let (file_id,): (Uuid,) = sqlx::query_as(sql)
            .bind(id)
            .bind(on)
            .bind(on.and(user))
            .fetch_one(&mut *self.tx)
            .await?;
        let action = if on.is_some() {
            format!("{object_type}.resubmission_set")
        } else {
            format!("{object_type}.resubmission_cleared")
        };
        let after = serde_json::json!({
            "resubmit_on": on.map(|d| d.to_string()),
            "user_id": on.and(user),
        });
        self.emit::<(), _>(&action, object_type, id, Some(file_id), None, Some(&after))
            .await
    }

    /// Wiedervorlagen of an Akte and its Vorgänge.
    pub async fn resubmissions_in_file(
        &mut self,
        file_id: Uuid,
    ) -> Result<Vec<Resubmission>, DbError> {
        Ok(sqlx::query_as::<_, Resubmission>(
            "SELECT id AS object_id, resubmit_on FROM files
              WHERE id = $1 AND resubmit_on IS NOT NULL
             UNION ALL
             SELECT id, resubmit_on FROM cases WHERE file_id = $1 AND resubmit_on IS NOT NULL",
        )
        .bind(file_id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Wiedervorlagen of open Akten and Vorgänge due today (in German local time) or
    /// overdue, for `user` or for everyone, oldest first. Closing (zdA) ends them.
    pub async fn due_resubmissions(
        &mut self,
        user: Uuid,
        limit: i64,
    ) -> Result<Vec<DueItem>, DbError> {
        Ok(sqlx::query_as::<_, DueItem>(
            "WITH today AS (SELECT (now() AT TIME ZONE 'Europe/Berlin')::date AS d)
             SELECT f.id AS file_id, NULL::uuid AS case_id, f.reference, f.subject, f.resubmit_on
               FROM files f, today
              WHERE f.resubmit_on <= today.d AND f.status = 'offen'
                AND (f.resubmit_user_id = $1 OR f.resubmit_user_id IS NULL)
             UNION ALL
             SELECT c.file_id, c.id, c.reference, c.subject, c.resubmit_on
               FROM cases c JOIN files f ON f.id = c.file_id, today
              WHERE c.resubmit_on <= today.d AND c.status = 'offen' AND f.status = 'offen'
                AND (c.resubmit_user_id = $1 OR c.resubmit_user_id IS NULL)
              ORDER BY resubmit_on, reference LIMIT $2",
        )
        .bind(user)
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
