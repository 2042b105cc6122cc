//! Dokumente and their immutable versions; upload intents that protect blobs in flight.

use akta_domain::DocumentKind;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::repo::quotas::Charge;
use crate::serde_date::iso_date;
use crate::{DbError, DomainEvent, TenantTx};

/// Where a new Dokument is filed: directly in an Akte or in one of its Vorgänge.
#[derive(Debug, Clone, Copy)]
pub enum DocumentTarget {
    File(Uuid),
    Case(Uuid),
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Document)]
pub struct Document {
    pub id: Uuid,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub title: String,
    pub kind: String,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    #[serde(with = "iso_date::option")]
    pub document_date: Option<time::Date>,
    pub metadata: Value,
    /// What `If-Match` names (`"v3"`); counts metadata changes, not content versions.
    #[serde(rename = "version")]
    pub row_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[sqlx(skip)]
    pub versions: Vec<Version>,
}

/// An immutable version of a Dokument's content.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Version)]
pub struct Version {
    #[serde(rename = "number")]
    pub nr: i32,
    pub sha256: String,
    #[serde(rename = "size")]
    pub size_bytes: i64,
    pub media_type: String,
    pub file_name: String,
    pub author: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// The Änderungsvermerk: what this version changed.
    #[serde(rename = "note")]
    pub change_note: Option<String>,
    #[serde(skip)]
    pub blob_key: String,
    /// Text extraction state; filled where the API shows it (absent in audit events).
    #[sqlx(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extraction: Option<crate::repo::extraction::Extraction>,
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub kind: DocumentKind,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub document_date: Option<time::Date>,
    pub metadata: Map<String, Value>,
}

/// The stored blob a new version points at.
pub struct NewVersion {
    pub blob_key: String,
    pub sha256_hex: String,
    pub size: u64,
    pub media_type: String,
    pub file_name: String,
    /// How the stored blob is encrypted; `None` stores it as unencrypted content.
    pub dek: Option<crate::StoredDek>,
    /// Its text, where it was extracted while filing; else a worker extracts it.
    pub text: Option<crate::FiledText>,
}

/// Where a new version's blob comes from, which decides what protects it until the version
/// commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    /// Just uploaded: its upload intent ends with the version.
    Upload,
    /// A Posteingang item, whose row held it (see [`TenantTx::file_inbox_item`]).
    Inbox,
}

/// The sweeper took an upload for an orphan (it outlived the grace period) and is deleting
/// its blob: the version must not point at it.
pub(crate) const UPLOAD_TOOK_TOO_LONG: &str =
    "the upload took longer than the orphan grace period; please upload again";

const DOC_COLUMNS: &str = "id, file_id, case_id, title, kind, sender, recipient, document_date,
    metadata, row_version, created_at";
const VERSION_COLUMNS: &str =
    "nr, sha256, size_bytes, media_type, file_name, author, created_at, change_note, blob_key";

impl TenantTx {
    /// Resolves where a document goes and checks the Akte is open. Called before an upload
    /// streams, so a wrong id fails fast, and again inside the writing transaction.
    pub async fn resolve_target(
        &mut self,
        target: DocumentTarget,
    ) -> Result<(Uuid, Option<Uuid>), DbError> {
        let key = match target {
            DocumentTarget::File(f) => (false, f),
            DocumentTarget::Case(c) => (true, c),
        };
        // In batch mode each target is resolved (and locked until commit) once.
        if let Some(known) = self.batch.as_ref().and_then(|b| b.targets.get(&key)) {
            return Ok(*known);
        }
        let resolved = self.resolve_target_now(target).await?;
        if let Some(batch) = self.batch.as_mut() {
            batch.targets.insert(key, resolved);
        }
        Ok(resolved)
    }

    async fn resolve_target_now(
        &mut self,
        target: DocumentTarget,
    ) -> Result<(Uuid, Option<Uuid>), DbError> {
        let (file_id, case_id) = match target {
            DocumentTarget::File(f) => (f, None),
            DocumentTarget::Case(c) => {
                // Shared lock: the Vorgang cannot be closed before this commits.
                let case = self.case_locked(c, crate::Lock::Share).await?;
                // A Vorgang closed "zu den Akten" takes nothing new, like a closed Akte.
                if case.status == akta_domain::FileStatus::Closed.as_str() {
                    return Err(DbError::Conflict("the case is closed (zdA)".into()));
                }
                (case.file_id, Some(c))
            }
        };
        self.open_file(file_id).await?;
        Ok((file_id, case_id))
    }

    /// Records that a blob is about to be written; commit this before writing the blob.
    pub async fn record_upload_intent(&mut self, blob_key: &str) -> Result<(), DbError> {
        sqlx::query("INSERT INTO upload_intents (blob_key, tenant_id) VALUES ($1, $2)")
            .bind(blob_key)
            .bind(self.tenant.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// [`TenantTx::record_upload_intent`] for many blobs in one statement (imports).
    pub async fn record_upload_intents(&mut self, blob_keys: &[String]) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO upload_intents (blob_key, tenant_id) SELECT k, $2 FROM unnest($1::text[]) AS k",
        )
        .bind(blob_keys)
        .bind(self.tenant.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Removes an upload intent; returns whether it was still there. The row lock of the
    /// delete orders this against the sweeper: whoever deletes the intent first owns the blob.
    pub async fn forget_upload_intent(&mut self, blob_key: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM upload_intents WHERE blob_key = $1")
            .bind(blob_key)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The sweeper's claim on an expired intent (see [`TenantTx::forget_upload_intent`]).
    pub async fn claim_expired_upload_intent(
        &mut self,
        blob_key: &str,
        older_than: time::OffsetDateTime,
    ) -> Result<bool, DbError> {
        let done =
            sqlx::query("DELETE FROM upload_intents WHERE blob_key = $1 AND created_at < $2")
                .bind(blob_key)
                .bind(older_than)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn blob_is_referenced(&mut self, blob_key: &str) -> Result<bool, DbError> {
        let found: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM document_versions WHERE blob_key = $1")
                .bind(blob_key)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    async fn insert_version(
        &mut self,
        document_id: Uuid,
        nr: i32,
        v: &NewVersion,
        intent: Intent,
        note: Option<&str>,
    ) -> Result<(Version, Uuid), DbError> {
        let size =
            i64::try_from(v.size).map_err(|_| DbError::Conflict("size out of range".into()))?;
        let sql = format!(
            "INSERT INTO document_versions (id, tenant_id, document_id, nr, blob_key, sha256, size_bytes,
                                            media_type, file_name, author, wrapped_dek,
                                            tenant_key_version, change_note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             RETURNING {VERSION_COLUMNS}"
        );
        let version_id = Uuid::now_v7();
        let version = sqlx::query_as::<_, Version>(&sql)
            .bind(version_id)
            .bind(self.tenant.0)
            .bind(document_id)
            .bind(nr)
            .bind(&v.blob_key)
            .bind(&v.sha256_hex)
            .bind(size)
            .bind(&v.media_type)
            .bind(&v.file_name)
            .bind(&self.actor)
            .bind(v.dek.as_ref().map(|d| &d.wrapped))
            .bind(v.dek.as_ref().map(|d| d.key_version))
            .bind(note)
            .fetch_one(&mut *self.tx)
            .await?;
        // The blob is now referenced by a committed version (once this commits): no orphan.
        // In batch mode every intent of the batch is removed at once at commit.
        if intent == Intent::Upload {
            if let Some(batch) = self.batch.as_mut() {
                batch.intents.push(v.blob_key.clone());
            } else if !self.forget_upload_intent(&v.blob_key).await? {
                return Err(DbError::Conflict(UPLOAD_TOOK_TOO_LONG.into()));
            }
        }
        self.charge_usage(Charge::version(size, v.dek.is_some(), nr == 1))
            .await?;
        // The event of the caller enqueues the extraction of this version and makes the
        // metadata searchable before the text is extracted.
        Ok((version, version_id))
    }

    pub async fn create_document(
        &mut self,
        target: DocumentTarget,
        new: NewDocument,
        content: NewVersion,
    ) -> Result<Document, DbError> {
        self.create_document_from(target, new, content, Intent::Upload)
            .await
    }

    pub(crate) async fn create_document_from(
        &mut self,
        target: DocumentTarget,
        new: NewDocument,
        content: NewVersion,
        intent: Intent,
    ) -> Result<Document, DbError> {
        let (file_id, case_id) = self.resolve_target(target).await?;
        let sql = format!(
            "INSERT INTO documents (id, tenant_id, file_id, case_id, title, kind, sender, recipient,
                                    document_date, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {DOC_COLUMNS}"
        );
        let mut doc = sqlx::query_as::<_, Document>(&sql)
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(file_id)
            .bind(case_id)
            .bind(&new.title)
            .bind(new.kind.as_str())
            .bind(&new.sender)
            .bind(&new.recipient)
            .bind(new.document_date)
            .bind(Value::Object(new.metadata))
            .fetch_one(&mut *self.tx)
            .await?;
        let (version, version_id) = self
            .insert_version(doc.id, 1, &content, intent, None)
            .await?;
        doc.versions.push(version);
        let event = DomainEvent::new("document.created", "document", doc.id)
            .in_file(file_id)
            .with_version(version_id)
            .after(&doc)?;
        self.record(event).await?;
        if let Some(text) = &content.text {
            self.file_text(version_id, doc.id, text).await?;
        }
        Ok(doc)
    }

    pub async fn add_version(
        &mut self,
        document_id: Uuid,
        content: NewVersion,
    ) -> Result<Version, DbError> {
        self.add_noted_version(document_id, content, None).await
    }

    /// The next version of a Dokument with its Änderungsvermerk. A version identical to the
    /// current one (same SHA-256) is refused: it would change nothing but the count.
    pub async fn add_noted_version(
        &mut self,
        document_id: Uuid,
        content: NewVersion,
        note: Option<&str>,
    ) -> Result<Version, DbError> {
        // Locking the document row serialises concurrent uploads of new versions.
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = $1 FOR UPDATE");
        let doc = sqlx::query_as::<_, Document>(&sql)
            .bind(document_id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.open_file(doc.file_id).await?;
        if let Some(case) = doc.case_id {
            self.resolve_target(DocumentTarget::Case(case)).await?;
        }
        let latest: Option<(i32, String)> = sqlx::query_as(
            "SELECT nr, sha256 FROM document_versions WHERE document_id = $1
              ORDER BY nr DESC LIMIT 1",
        )
        .bind(document_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some((nr, sha)) = &latest {
            if *sha == content.sha256_hex {
                return Err(DbError::IdenticalVersion(*nr));
            }
        }
        let last = latest.map(|(nr, _)| nr);
        let (version, version_id) = self
            .insert_version(
                document_id,
                last.unwrap_or(0) + 1,
                &content,
                Intent::Upload,
                note,
            )
            .await?;
        let event = DomainEvent::new("document.version_added", "document", document_id)
            .in_file(doc.file_id)
            .with_version(version_id)
            .after(&version)?;
        self.record(event).await?;
        if let Some(text) = &content.text {
            self.file_text(version_id, document_id, text).await?;
        }
        Ok(version)
    }

    pub async fn document(&mut self, id: Uuid) -> Result<Document, DbError> {
        self.document_with(id, "").await
    }

    /// The Dokument, locked for a change of its metadata (see [`TenantTx::file_locked`]).
    pub async fn document_for_update(&mut self, id: Uuid) -> Result<Document, DbError> {
        self.document_with(id, "FOR UPDATE").await
    }

    async fn document_with(&mut self, id: Uuid, lock: &str) -> Result<Document, DbError> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = $1 {lock}");
        let mut doc = sqlx::query_as::<_, Document>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = $1 ORDER BY nr"
        );
        doc.versions = sqlx::query_as::<_, Version>(&sql)
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await?;
        for (nr, extraction) in self.extraction_states(id).await? {
            if let Some(v) = doc.versions.iter_mut().find(|v| v.nr == nr) {
                v.extraction = Some(extraction);
            }
        }
        Ok(doc)
    }

    /// A version of a document, the latest when `nr` is `None`.
    pub async fn version(
        &mut self,
        document_id: Uuid,
        nr: Option<i32>,
    ) -> Result<Version, DbError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM document_versions
              WHERE document_id = $1 AND ($2::int IS NULL OR nr = $2)
              ORDER BY nr DESC LIMIT 1"
        );
        Ok(sqlx::query_as::<_, Version>(&sql)
            .bind(document_id)
            .bind(nr)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Documents of an Akte (all, or of one Vorgang), newest first, without versions.
    pub async fn list_documents(
        &mut self,
        file_id: Uuid,
        case_id: Option<Uuid>,
    ) -> Result<Vec<Document>, DbError> {
        self.file(file_id).await?;
        let sql = format!(
            "SELECT {DOC_COLUMNS} FROM documents
              WHERE file_id = $1 AND ($2::uuid IS NULL OR case_id = $2) ORDER BY id DESC"
        );
        Ok(sqlx::query_as::<_, Document>(&sql)
            .bind(file_id)
            .bind(case_id)
            .fetch_all(&mut *self.tx)
            .await?)
    }
}

/// A document of an Akte holding a given content (`sha256`) in one of its versions.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IdenticalContent {
    pub document_id: Uuid,
    pub title: String,
    pub version: i32,
}

impl TenantTx {
    /// Documents of Akte `file_id` with a version of exactly this content: pointed out before
    /// the same file is stored there again.
    pub async fn identical_in_file(
        &mut self,
        file_id: Uuid,
        sha256: &str,
    ) -> Result<Vec<IdenticalContent>, DbError> {
        self.file(file_id).await?;
        Ok(sqlx::query_as::<_, IdenticalContent>(
            "SELECT d.id AS document_id, d.title, v.nr AS version
               FROM document_versions v JOIN documents d ON d.id = v.document_id
              WHERE d.file_id = $1 AND v.sha256 = $2
              ORDER BY d.created_at, v.nr LIMIT 10",
        )
        .bind(file_id)
        .bind(sha256)
        .fetch_all(&mut *self.tx)
        .await?)
    }
}
