//! Dokumente and their immutable versions; upload intents that protect blobs in flight.

use akta_domain::DocumentKind;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{FromRow, Row};
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
        self.record(created(&doc, version_id)?).await?;
        if let Some(text) = &content.text {
            self.file_text(version_id, doc.id, text).await?;
        }
        Ok(doc)
    }

    /// Files many new Dokumente at once: in batch mode (see [`TenantTx::batch_writes`])
    /// each table gets one statement for all of them, instead of one per Dokument; the
    /// rules, events and charges are those of [`TenantTx::create_document`], in the same
    /// order. Outside batch mode it is that call, one by one.
    pub async fn create_documents(
        &mut self,
        items: Vec<(DocumentTarget, NewDocument, NewVersion)>,
    ) -> Result<Vec<Document>, DbError> {
        if self.batch.is_none() {
            let mut docs = Vec::with_capacity(items.len());
            for (target, new, content) in items {
                docs.push(self.create_document(target, new, content).await?);
            }
            return Ok(docs);
        }
        let mut places = Vec::with_capacity(items.len());
        for (target, _, _) in &items {
            places.push(self.resolve_target(*target).await?);
        }
        let mut docs = self.insert_documents(&items, &places).await?;
        let versions = self.insert_first_versions(&docs, &items).await?;
        let texts: Vec<(Uuid, &crate::FiledText)> = versions
            .iter()
            .zip(&items)
            .filter_map(|((_, id), (_, _, content))| content.text.as_ref().map(|t| (*id, t)))
            .collect();
        self.insert_filed_texts(&texts).await?;
        for ((doc, (version, version_id)), (_, _, content)) in
            docs.iter_mut().zip(versions).zip(&items)
        {
            if let Some(batch) = self.batch.as_mut() {
                batch.intents.push(content.blob_key.clone());
            }
            self.charge_usage(Charge::version(
                version.size_bytes,
                content.dek.is_some(),
                true,
            ))
            .await?;
            doc.versions.push(version);
            self.record(created(doc, version_id)?).await?;
            if content.text.is_some() {
                if let Some(batch) = self.batch.as_mut() {
                    batch.texts_filed.insert(version_id);
                }
                self.record_filed_text(doc.id).await?;
            }
        }
        Ok(docs)
    }

    /// The rows of [`TenantTx::create_documents`], in the order of `items`.
    async fn insert_documents(
        &mut self,
        items: &[(DocumentTarget, NewDocument, NewVersion)],
        places: &[(Uuid, Option<Uuid>)],
    ) -> Result<Vec<Document>, DbError> {
        let ids: Vec<Uuid> = items.iter().map(|_| Uuid::now_v7()).collect();
        let files: Vec<Uuid> = places.iter().map(|p| p.0).collect();
        let cases: Vec<Option<Uuid>> = places.iter().map(|p| p.1).collect();
        let mut titles = Vec::with_capacity(items.len());
        let mut kinds = Vec::with_capacity(items.len());
        let mut senders = Vec::with_capacity(items.len());
        let mut recipients = Vec::with_capacity(items.len());
        let mut dates = Vec::with_capacity(items.len());
        let mut metadata = Vec::with_capacity(items.len());
        for (_, new, _) in items {
            titles.push(new.title.as_str());
            kinds.push(new.kind.as_str());
            senders.push(new.sender.as_deref());
            recipients.push(new.recipient.as_deref());
            dates.push(new.document_date);
            metadata.push(Value::Object(new.metadata.clone()).to_string());
        }
        let sql = format!(
            "INSERT INTO documents (id, tenant_id, file_id, case_id, title, kind, sender, recipient,
                                    document_date, metadata)
             SELECT d.id, $1, d.file_id, d.case_id, d.title, d.kind, d.sender, d.recipient,
                    d.document_date, d.metadata::jsonb
               FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::date[], $10::text[])
                    AS d(id, file_id, case_id, title, kind, sender, recipient, document_date, metadata)
             RETURNING {DOC_COLUMNS}"
        );
        let rows = sqlx::query_as::<_, Document>(&sql)
            .bind(self.tenant.0)
            .bind(&ids)
            .bind(&files)
            .bind(&cases)
            .bind(&titles)
            .bind(&kinds)
            .bind(&senders)
            .bind(&recipients)
            .bind(&dates)
            .bind(&metadata)
            .fetch_all(&mut *self.tx)
            .await?;
        in_order(rows, &ids, |d| d.id)
    }

    /// The first versions of [`TenantTx::create_documents`], each with its id.
    async fn insert_first_versions(
        &mut self,
        docs: &[Document],
        items: &[(DocumentTarget, NewDocument, NewVersion)],
    ) -> Result<Vec<(Version, Uuid)>, DbError> {
        let ids: Vec<Uuid> = items.iter().map(|_| Uuid::now_v7()).collect();
        let doc_ids: Vec<Uuid> = docs.iter().map(|d| d.id).collect();
        let mut keys = Vec::with_capacity(items.len());
        let mut shas = Vec::with_capacity(items.len());
        let mut sizes = Vec::with_capacity(items.len());
        let mut media = Vec::with_capacity(items.len());
        let mut names = Vec::with_capacity(items.len());
        let mut deks = Vec::with_capacity(items.len());
        let mut key_versions = Vec::with_capacity(items.len());
        for (_, _, v) in items {
            keys.push(v.blob_key.as_str());
            shas.push(v.sha256_hex.as_str());
            sizes.push(
                i64::try_from(v.size).map_err(|_| DbError::Conflict("size out of range".into()))?,
            );
            media.push(v.media_type.as_str());
            names.push(v.file_name.as_str());
            deks.push(v.dek.as_ref().map(|d| d.wrapped.as_slice()));
            key_versions.push(v.dek.as_ref().map(|d| d.key_version));
        }
        let sql = format!(
            "INSERT INTO document_versions (id, tenant_id, document_id, nr, blob_key, sha256, size_bytes,
                                            media_type, file_name, author, wrapped_dek,
                                            tenant_key_version)
             SELECT v.id, $1, v.document_id, 1, v.blob_key, v.sha256, v.size_bytes, v.media_type,
                    v.file_name, $2, v.wrapped_dek, v.key_version
               FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::int8[], $8::text[],
                           $9::text[], $10::bytea[], $11::int4[])
                    AS v(id, document_id, blob_key, sha256, size_bytes, media_type, file_name,
                         wrapped_dek, key_version)
             RETURNING id, {VERSION_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(&self.actor)
            .bind(&ids)
            .bind(&doc_ids)
            .bind(&keys)
            .bind(&shas)
            .bind(&sizes)
            .bind(&media)
            .bind(&names)
            .bind(&deks)
            .bind(&key_versions)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut versions = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id")?;
            versions.push((Version::from_row(row)?, id));
        }
        in_order(versions, &ids, |(_, id)| *id)
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

/// The event of a new Dokument, with its first version (one spelling for single and batched
/// filing).
fn created(doc: &Document, version_id: Uuid) -> Result<DomainEvent, DbError> {
    DomainEvent::new("document.created", "document", doc.id)
        .in_file(doc.file_id)
        .with_version(version_id)
        .after(doc)
}

/// `rows` (returned by one multi-row statement, in no promised order) in the order of `ids`.
fn in_order<T>(rows: Vec<T>, ids: &[Uuid], id: impl Fn(&T) -> Uuid) -> Result<Vec<T>, DbError> {
    let mut by_id: std::collections::HashMap<Uuid, T> =
        rows.into_iter().map(|r| (id(&r), r)).collect();
    ids.iter()
        .map(|i| {
            by_id
                .remove(i)
                .ok_or_else(|| DbError::Conflict("a filed row was not returned".into()))
        })
        .collect()
}
