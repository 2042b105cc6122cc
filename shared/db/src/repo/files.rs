//! Akten and Vorgänge: creation with gap-free Aktenzeichen, reads, and their row updates.

use akta_domain::{Confidentiality, FileStatus, ReferenceFormat, ReferenceNumber};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::serde_date::iso_date;
use crate::{DbError, DomainEvent, Page, TenantTx};

/// An Akte.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = File)]
pub struct FileRecord {
    pub id: Uuid,
    pub plan_unit_id: Uuid,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub lead_org_unit_id: Option<Uuid>,
    pub confidentiality: String,
    #[serde(with = "iso_date")]
    pub period_from: time::Date,
    #[serde(with = "iso_date::option")]
    pub period_to: Option<time::Date>,
    pub metadata: Value,
    #[serde(rename = "version")]
    pub row_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    /// The Akte's own Aufbewahrung (`retention_set` with no years: unbefristet); shown
    /// through `retention`, which the core fills in with the effective values.
    #[serde(skip)]
    pub retention_set: bool,
    #[serde(skip)]
    pub retention_years: Option<i32>,
    #[serde(skip)]
    pub disposition: Option<String>,
    /// The legal hold, if any.
    #[serde(skip)]
    pub hold_reason: Option<String>,
    #[serde(skip)]
    pub hold_until: Option<time::Date>,
    #[serde(skip)]
    pub hold_by: Option<String>,
    #[sqlx(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<Value>,
}

impl FileRecord {
    /// The legal hold as the domain sees it.
    pub fn hold(&self) -> Option<akta_domain::retention::Hold> {
        Some(akta_domain::retention::Hold {
            reason: self.hold_reason.clone()?,
            until: self.hold_until,
            by: self.hold_by.clone()?,
        })
    }

    /// The day the Akte was closed (its Laufzeit's end), while it is closed.
    pub fn closed_on(&self) -> Option<time::Date> {
        (self.status == FileStatus::Closed.as_str())
            .then_some(self.period_to)
            .flatten()
    }
}

pub struct NewFile {
    pub plan_unit_id: Uuid,
    pub subject: String,
    pub lead_org_unit_id: Option<Uuid>,
    pub confidentiality: Confidentiality,
    pub period_from: Option<time::Date>,
    pub metadata: Map<String, Value>,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Default)]
pub struct FileChanges {
    pub subject: Option<String>,
    pub lead_org_unit_id: Option<Option<Uuid>>,
    pub confidentiality: Option<Confidentiality>,
    pub status: Option<FileStatus>,
    pub metadata: Option<Map<String, Value>>,
    /// With a closing: the day it was closed, for records closed on paper long ago.
    pub closed_on: Option<time::Date>,
}

#[derive(Default)]
pub struct FileFilter {
    pub plan_unit_id: Option<Uuid>,
    pub status: Option<FileStatus>,
}

/// A Vorgang.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Case)]
pub struct Case {
    pub id: Uuid,
    pub file_id: Uuid,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub metadata: Value,
    #[serde(rename = "version")]
    pub row_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// How a record is read for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Others may read it, nobody may change it until this transaction ends.
    Share,
    /// The record this transaction changes.
    Update,
}

impl Lock {
    fn sql(self) -> &'static str {
        match self {
            Lock::Share => "FOR SHARE",
            Lock::Update => "FOR UPDATE",
        }
    }
}

/// A partial update of a Vorgang; `None` leaves a field as it is.
#[derive(Default)]
pub struct CaseChanges {
    pub subject: Option<String>,
    pub status: Option<FileStatus>,
}

const FILE_COLUMNS: &str =
    "id, plan_unit_id, reference, subject, status, lead_org_unit_id, confidentiality,
    period_from, period_to, metadata, row_version, created_at, updated_at,
    retention_set, retention_years, disposition, hold_reason, hold_until, hold_by";
const CASE_COLUMNS: &str =
    "id, file_id, reference, subject, status, metadata, row_version, created_at";

impl TenantTx {
    /// Next running number in `scope` (a plan unit per year, or an Akte for its Vorgänge).
    async fn next_number(&mut self, scope: Uuid, year: i32) -> Result<i64, DbError> {
        let (nr,): (i64,) = sqlx::query_as(
            "INSERT INTO reference_counters (tenant_id, scope_id, year, last_nr) VALUES ($1, $2, $3, 1)
             ON CONFLICT (scope_id, year) DO UPDATE SET last_nr = reference_counters.last_nr + 1
             RETURNING last_nr",
        )
        .bind(self.tenant.0)
        .bind(scope)
        .bind(year)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(nr)
    }

    pub async fn create_file(&mut self, new: NewFile) -> Result<FileRecord, DbError> {
        let code: Option<(String,)> = sqlx::query_as("SELECT code FROM plan_units WHERE id = $1")
            .bind(new.plan_unit_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let (code,) = code.ok_or(DbError::MissingReference {
            field: "plan_unit_id",
        })?;
        // A token limited to one Aktenplan subtree files only there (RLS checks it again).
        let (in_scope,): (bool,) = sqlx::query_as("SELECT akta_plan_scope_allows($1)")
            .bind(new.plan_unit_id)
            .fetch_one(&mut *self.tx)
            .await?;
        if !in_scope {
            return Err(DbError::MissingReference {
                field: "plan_unit_id",
            });
        }
        if let Some(org) = new.lead_org_unit_id {
            self.require_org_unit(org, "lead_org_unit_id").await?;
        }
        // Aktenzeichen years follow German local time, not UTC, around New Year's Eve.
        let (template, year): (String, i32) = sqlx::query_as(
            "SELECT reference_format, extract(year FROM now() AT TIME ZONE 'Europe/Berlin')::int
               FROM tenants WHERE id = $1",
        )
        .bind(self.tenant.0)
        .fetch_one(&mut *self.tx)
        .await?;
        let format = ReferenceFormat::parse(&template)
            .map_err(|e| DbError::Conflict(format!("tenant reference format: {e}")))?;
        let counter_year = if format.numbers_per_year() { year } else { 0 };
        let nr = self.next_number(new.plan_unit_id, counter_year).await?;
        let reference = format.render(&code, ReferenceNumber { nr, year });

        let id = Uuid::now_v7();
        // No RETURNING: a confidential Akte is readable only once its creator is on its
        // access list, which needs the row to exist first.
        sqlx::query(
            "INSERT INTO files (id, tenant_id, plan_unit_id, reference, subject, lead_org_unit_id,
                                confidentiality, period_from, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, current_date), $9)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(new.plan_unit_id)
        .bind(&reference)
        .bind(&new.subject)
        .bind(new.lead_org_unit_id)
        .bind(new.confidentiality.as_str())
        .bind(new.period_from)
        .bind(Value::Object(new.metadata))
        .execute(&mut *self.tx)
        .await?;
        let grant = if new.confidentiality != Confidentiality::Normal {
            self.grant_subject(id).await?
        } else {
            None
        };
        let file = self.file(id).await?;
        self.emit(
            "file.created",
            "file",
            id,
            Some(id),
            None::<&()>,
            Some(&file),
        )
        .await?;
        if let Some(entry) = grant {
            self.audit_grant(id, &entry).await?;
        }
        Ok(file)
    }

    pub async fn file(&mut self, id: Uuid) -> Result<FileRecord, DbError> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1");
        Ok(sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// The Akte, read to change it (`Lock::Update`) or to keep it as it is while something
    /// in it changes (`Lock::Share`): its status then cannot change before this commits.
    pub async fn file_locked(&mut self, id: Uuid, lock: Lock) -> Result<FileRecord, DbError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE id = $1 {}",
            lock.sql()
        );
        Ok(sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// The Vorgang, locked like [`TenantTx::file_locked`].
    pub async fn case_locked(&mut self, id: Uuid, lock: Lock) -> Result<Case, DbError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 {}",
            lock.sql()
        );
        Ok(sqlx::query_as::<_, Case>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn list_files(
        &mut self,
        filter: &FileFilter,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<FileRecord>, DbError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files
              WHERE ($1::uuid IS NULL OR plan_unit_id = $1)
                AND ($2::text IS NULL OR status = $2)
                AND ($3::uuid IS NULL OR id > $3)
              ORDER BY id LIMIT $4"
        );
        let rows = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(filter.plan_unit_id)
            .bind(filter.status.map(FileStatus::as_str))
            .bind(after)
            .bind(limit + 1)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(Page::from_rows(rows, limit, |f| f.id.to_string()))
    }

    /// Applies `changes` if the Akte is still at `expected_version` (optimistic locking).
    /// The rules of what may change (zdA) are the core's; `reason` is kept with a reopening.
    pub async fn update_file(
        &mut self,
        id: Uuid,
        expected_version: i32,
        changes: FileChanges,
        reason: Option<&str>,
    ) -> Result<FileRecord, DbError> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1 FOR UPDATE");
        let before = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        if before.row_version != expected_version {
            return Err(DbError::VersionMismatch);
        }
        if let Some(Some(org)) = changes.lead_org_unit_id {
            self.require_org_unit(org, "lead_org_unit_id").await?;
        }
        let lead = match changes.lead_org_unit_id {
            Some(v) => v,
            None => before.lead_org_unit_id,
        };
        if changes
            .confidentiality
            .is_some_and(|c| c != Confidentiality::Normal)
        {
            // Whoever makes an Akte confidential keeps seeing it.
            if let Some(entry) = self.grant_subject(id).await? {
                self.audit_grant(id, &entry).await?;
            }
        }
        let status = changes
            .status
            .map(FileStatus::as_str)
            .unwrap_or(before.status.as_str())
            .to_owned();
        let sql = format!(
            "UPDATE files SET subject = COALESCE($2, subject), lead_org_unit_id = $3,
                    confidentiality = COALESCE($4, confidentiality), status = $5,
                    metadata = COALESCE($6, metadata),
                    -- the Laufzeit ends when the Akte is closed and reopens with it
                    period_to = CASE WHEN $5 = 'zdA' THEN COALESCE($7, period_to, current_date) ELSE NULL END,
                    row_version = row_version + 1, updated_at = now()
              WHERE id = $1 RETURNING {FILE_COLUMNS}"
        );
        let after = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .bind(changes.subject)
            .bind(lead)
            .bind(changes.confidentiality.map(Confidentiality::as_str))
            .bind(&status)
            .bind(changes.metadata.map(Value::Object))
            .bind(changes.closed_on)
            .fetch_one(&mut *self.tx)
            .await?;
        // Closing "zu den Akten" and reopening are events of their own in the Akte's history;
        // the event also tells the search index when what it holds of the Akte changed.
        let event = DomainEvent::new(
            status_action("file", &before.status, &after.status),
            "file",
            id,
        )
        .in_file(id)
        .with_reason(reason)
        .before(&before)?
        .after(&after)?;
        self.record(event).await?;
        Ok(after)
    }

    /// Sets (`Some`) or lifts (`None`) the Akte's legal hold; each is an event of its own.
    pub async fn set_file_hold(
        &mut self,
        id: Uuid,
        hold: Option<&akta_domain::retention::Hold>,
    ) -> Result<FileRecord, DbError> {
        let sql = format!(
            "UPDATE files SET hold_reason = $2, hold_until = $3, hold_by = $4,
                    hold_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END,
                    updated_at = now()
              WHERE id = $1 RETURNING {FILE_COLUMNS}"
        );
        let before = self.file(id).await?;
        let after = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .bind(hold.map(|h| h.reason.as_str()))
            .bind(hold.and_then(|h| h.until))
            .bind(hold.map(|h| h.by.as_str()))
            .fetch_one(&mut *self.tx)
            .await?;
        let event = match (hold, before.hold()) {
            (Some(h), _) => DomainEvent::new("file.hold_set", "file", id).after(h)?,
            (None, Some(old)) => DomainEvent::new("file.hold_lifted", "file", id).before(&old)?,
            (None, None) => return Ok(after),
        };
        self.record(event.in_file(id)).await?;
        Ok(after)
    }

    /// Sets the Akte's own Aufbewahrung (`None` parts inherit from its plan unit again).
    pub async fn set_file_retention(
        &mut self,
        id: Uuid,
        retention: Option<akta_domain::Retention>,
        disposition: Option<akta_domain::Disposition>,
    ) -> Result<FileRecord, DbError> {
        let before = self.file(id).await?;
        let sql = format!(
            "UPDATE files SET retention_set = $2, retention_years = $3, disposition = $4,
                    updated_at = now()
              WHERE id = $1 RETURNING {FILE_COLUMNS}"
        );
        let after = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .bind(retention.is_some())
            .bind(
                retention
                    .and_then(akta_domain::Retention::years)
                    .map(i32::from),
            )
            .bind(disposition.map(akta_domain::Disposition::as_str))
            .fetch_one(&mut *self.tx)
            .await?;
        let shown = |f: &FileRecord| {
            serde_json::json!({
                "retention_set": f.retention_set,
                "retention_years": f.retention_years,
                "disposition": f.disposition,
            })
        };
        self.record(
            DomainEvent::new("file.retention_set", "file", id)
                .in_file(id)
                .before(&shown(&before))?
                .after(&shown(&after))?,
        )
        .await?;
        Ok(after)
    }

    /// Every Akte an import brought in, by its xdomea id (one scan for a whole import: a
    /// lookup per Akte cannot use the index under the Akten's row-level security, whose
    /// policy runs before the non-leakproof `->>`).
    pub async fn files_by_xdomea_id(
        &mut self,
    ) -> Result<std::collections::HashMap<Uuid, Uuid>, DbError> {
        let rows: Vec<(String, Uuid)> = sqlx::query_as(
            "SELECT metadata->>'xdomea_id', id FROM files WHERE metadata ? 'xdomea_id'",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(x, id)| Some((x.parse().ok()?, id)))
            .collect())
    }

    /// The Vorgänge of Akte `file` an import brought in, by their xdomea ids.
    pub async fn cases_by_xdomea_id(
        &mut self,
        file: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, Uuid>, DbError> {
        let rows: Vec<(String, Uuid)> = sqlx::query_as(
            "SELECT metadata->>'xdomea_id', id FROM cases
              WHERE file_id = $1 AND metadata ? 'xdomea_id'",
        )
        .bind(file)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(x, id)| Some((x.parse().ok()?, id)))
            .collect())
    }

    /// The Dokumente of Akte `file` an import brought in, by their xdomea ids, with their
    /// number of versions.
    pub async fn documents_by_xdomea_id(
        &mut self,
        file: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, (Uuid, i64)>, DbError> {
        let rows: Vec<(String, Uuid, i64)> = sqlx::query_as(
            "SELECT d.metadata->>'xdomea_id', d.id,
                    (SELECT count(*) FROM document_versions v WHERE v.document_id = d.id)
               FROM documents d WHERE d.file_id = $1 AND d.metadata ? 'xdomea_id'",
        )
        .bind(file)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(x, id, n)| Some((x.parse().ok()?, (id, n))))
            .collect())
    }

    /// Every closed Akte the caller sees, oldest closing first (the due list's candidates).
    pub async fn closed_files(&mut self) -> Result<Vec<FileRecord>, DbError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE status = 'zdA' ORDER BY period_to, reference"
        );
        Ok(sqlx::query_as::<_, FileRecord>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// The Akte, checked to be open: nothing is added to a file closed "zu den Akten".
    pub(crate) async fn open_file(&mut self, id: Uuid) -> Result<FileRecord, DbError> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1 FOR SHARE");
        let file = sqlx::query_as::<_, FileRecord>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        if file.status == FileStatus::Closed.as_str() {
            return Err(DbError::Conflict("the file is closed (zdA)".into()));
        }
        Ok(file)
    }

    pub async fn create_case(
        &mut self,
        file_id: Uuid,
        subject: &str,
        metadata: Map<String, Value>,
    ) -> Result<Case, DbError> {
        let file = self.open_file(file_id).await?;
        let nr = self.next_number(file_id, 0).await?;
        let reference = ReferenceFormat::case_reference(&file.reference, nr);
        let sql = format!(
            "INSERT INTO cases (id, tenant_id, file_id, nr, reference, subject, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CASE_COLUMNS}"
        );
        let case = sqlx::query_as::<_, Case>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(file_id)
            .bind(nr)
            .bind(&reference)
            .bind(subject)
            .bind(Value::Object(metadata))
            .fetch_one(&mut *self.tx)
            .await?;
        self.emit(
            "case.created",
            "case",
            case.id,
            Some(file_id),
            None::<&()>,
            Some(&case),
        )
        .await?;
        Ok(case)
    }

    pub async fn case(&mut self, id: Uuid) -> Result<Case, DbError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        Ok(sqlx::query_as::<_, Case>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn list_cases(
        &mut self,
        file_id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<Case>, DbError> {
        self.file(file_id).await?;
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE file_id = $1 AND ($2::uuid IS NULL OR id > $2)
              ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query_as::<_, Case>(&sql)
            .bind(file_id)
            .bind(after)
            .bind(limit + 1)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(Page::from_rows(rows, limit, |c| c.id.to_string()))
    }

    /// Applies `changes` to a Vorgang if it is still at `expected_version`; `reason` is kept
    /// with a reopening. The rules of what may change are the core's.
    pub async fn update_case(
        &mut self,
        id: Uuid,
        expected_version: i32,
        changes: CaseChanges,
        reason: Option<&str>,
    ) -> Result<Case, DbError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 FOR UPDATE");
        let before = sqlx::query_as::<_, Case>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        if before.row_version != expected_version {
            return Err(DbError::VersionMismatch);
        }
        let sql = format!(
            "UPDATE cases SET subject = COALESCE($2, subject), status = COALESCE($3, status),
                    row_version = row_version + 1
              WHERE id = $1 RETURNING {CASE_COLUMNS}"
        );
        let after = sqlx::query_as::<_, Case>(&sql)
            .bind(id)
            .bind(changes.subject)
            .bind(changes.status.map(FileStatus::as_str))
            .fetch_one(&mut *self.tx)
            .await?;
        let event = DomainEvent::new(
            status_action("case", &before.status, &after.status),
            "case",
            id,
        )
        .in_file(after.file_id)
        .with_reason(reason)
        .before(&before)?
        .after(&after)?;
        self.record(event).await?;
        Ok(after)
    }
}

/// The audit action of a change from status `before` to `after` of a `kind` ("file", "case").
fn status_action(kind: &str, before: &str, after: &str) -> &'static str {
    let closed = FileStatus::Closed.as_str();
    match (kind, before == after, after == closed) {
        ("file", false, true) => "file.closed",
        ("file", false, false) => "file.reopened",
        ("file", true, _) => "file.updated",
        (_, false, true) => "case.closed",
        (_, false, false) => "case.reopened",
        _ => "case.updated",
    }
}
