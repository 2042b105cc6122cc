//! The extraction outbox: one job per document version, written in the version's transaction
//! (see `insert_version`), claimed by workers with `FOR UPDATE SKIP LOCKED` and a lease
//! (`locked_until`), so a job never runs twice at once and a crashed worker's job comes back.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};
use akta_domain::TenantId;

/// Attempts after which a job that keeps failing for passing reasons is given up.
pub const MAX_ATTEMPTS: i32 = 5;
/// Base of the retry backoff: 5 s, doubled per attempt.
const BACKOFF_BASE_SECS: i64 = 5;

/// A job this worker now holds until its lease ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub version_id: Uuid,
    /// Also the lease token: completing checks it, so a job reclaimed after an expired lease
    /// cannot be finished by the worker that lost it.
    pub attempts: i32,
}

/// What the worker needs to read a version's content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExtractionSource {
    pub document_id: Uuid,
    pub blob_key: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub file_name: String,
}

/// The extraction state of a version as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Extraction)]
pub struct Extraction {
    pub state: String,
    pub reason: Option<String>,
    pub method: Option<String>,
}

/// A successful extraction, ready to store (NUL-free: PostgreSQL text cannot hold NUL).
pub struct ExtractedText<'a> {
    pub method: &'a str,
    /// The text in the clear: only for content that is itself stored unencrypted.
    pub text: &'a str,
    pub parts: Value,
    pub notes: Value,
    /// The full text (attachments appended) encrypted; then `text` and `parts` are empty.
    pub sealed: Option<SealedText>,
}

/// Text extracted while its version was filed (small plain text): stored with the version,
/// whose extraction job is then done at once and never reaches a worker.
#[derive(Debug, Clone)]
pub struct FiledText {
    pub method: String,
    /// In the clear only for content that is itself stored unencrypted; else empty.
    pub text: String,
    pub sealed: Option<SealedText>,
}

/// Extracted text encrypted with its own key, which is wrapped by the version's DEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedText {
    pub ciphertext: Vec<u8>,
    pub plain_len: i64,
    pub wrapped_key: Vec<u8>,
}

/// Extracted text as stored: in the clear (with its attachments' parts) or sealed.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredText {
    /// The full text, attachments appended.
    Plain(String),
    /// Needs the version's DEK (blob `blob_key`) to open.
    Sealed {
        blob_key: String,
        sealed: SealedText,
    },
}

impl StoredText {
    /// From the columns of `extracted_texts` (and the version's blob key).
    pub(crate) fn from_columns(
        blob_key: String,
        text: String,
        parts: Value,
        sealed: Option<Vec<u8>>,
        sealed_len: Option<i64>,
        sealed_key: Option<Vec<u8>>,
    ) -> StoredText {
        match (sealed, sealed_len, sealed_key) {
            (Some(ciphertext), Some(plain_len), Some(wrapped_key)) => StoredText::Sealed {
                blob_key,
                sealed: SealedText {
                    ciphertext,
                    plain_len,
                    wrapped_key,
                },
            },
            _ => StoredText::Plain(full_text(text, &parts)),
        }
    }
}

/// The text with each attachment appended: a blank line, its name line, then its text (the
/// layout of akta_extract's `full_text`).
pub fn full_text(mut text: String, parts: &Value) -> String {
    for part in parts.as_array().into_iter().flatten() {
        if let (Some(name), Some(body)) = (part[0].as_str(), part[1].as_str()) {
            text.push_str("\n\n");
            text.push_str(name);
            text.push('\n');
            text.push_str(body);
        }
    }
    text
}

impl Db {
    /// Ids of due jobs across tenants: the worker's work list (claimed per tenant afterwards).
    pub async fn due_extraction_jobs(&self, limit: i32) -> Result<Vec<(Uuid, TenantId)>, DbError> {
        let rows: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT id, tenant_id FROM akta_due_extraction_jobs($1)")
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(j, t)| (j, TenantId(t))).collect())
    }
}

impl Db {
    /// Claims the next due job of any tenant for `lease`: pending jobs first, then jobs whose
    /// worker stopped renewing its lease. One statement, `SKIP LOCKED`: a pool of workers
    /// never waits on each other and never claims one job twice.
    pub async fn claim_next_extraction_job(
        &self,
        lease: std::time::Duration,
    ) -> Result<Option<(TenantId, ClaimedJob)>, DbError> {
        Ok(self.claim_extraction_jobs(lease, 1).await?.pop())
    }

    /// Claims up to `limit` due jobs of any tenant for `lease` in one statement (a worker's
    /// batch), with the order and rules of [`Db::claim_next_extraction_job`].
    pub async fn claim_extraction_jobs(
        &self,
        lease: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<(TenantId, ClaimedJob)>, DbError> {
        let rows: Vec<(Uuid, Uuid, Uuid, i32)> = sqlx::query_as(
            "SELECT id, tenant_id, version_id, attempts FROM akta_claim_extraction_jobs($1, $2)",
        )
        .bind(lease.as_secs_f64())
        .bind(i32::try_from(limit).unwrap_or(i32::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, tenant, version_id, attempts)| {
                (
                    TenantId(tenant),
                    ClaimedJob {
                        id,
                        version_id,
                        attempts,
                    },
                )
            })
            .collect())
    }
}

impl TenantTx {
    /// The worker's heartbeat: extends the lease of a job it still holds. `false` when the
    /// lease was lost (another worker took the job over).
    pub async fn renew_extraction_lease(
        &mut self,
        job: &ClaimedJob,
        lease: std::time::Duration,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE extraction_jobs SET locked_until = now() + make_interval(secs => $3)
              WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(job.id)
        .bind(job.attempts)
        .bind(lease.as_secs_f64())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes the outbox row of a new version (same transaction as the version).
    pub(crate) async fn enqueue_extraction(&mut self, version_id: Uuid) -> Result<(), DbError> {
        sqlx::query("INSERT INTO extraction_jobs (id, tenant_id, version_id) VALUES ($1, $2, $3)")
            .bind(Uuid::now_v7())
            .bind(self.tenant.0)
            .bind(version_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Claims job `id` if it is still due and nobody else holds it: running, leased for
    /// `lease`, one more attempt. `None` when another worker was faster. Commit right after,
    /// so the lease is visible while the extraction runs outside any transaction.
    pub async fn claim_extraction_job(
        &mut self,
        id: Uuid,
        lease: std::time::Duration,
    ) -> Result<Option<ClaimedJob>, DbError> {
        Ok(sqlx::query_as::<_, ClaimedJob>(
            "UPDATE extraction_jobs
                SET state = 'running', attempts = attempts + 1,
                    locked_until = now() + make_interval(secs => $2), updated_at = now()
              WHERE id = (SELECT id FROM extraction_jobs
                           WHERE id = $1
                             AND ((state = 'pending' AND run_after <= now())
                                  OR (state = 'running' AND locked_until < now()))
                           FOR UPDATE SKIP LOCKED)
              RETURNING id, version_id, attempts",
        )
        .bind(id)
        .bind(lease.as_secs_f64())
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    pub async fn extraction_source(
        &mut self,
        version_id: Uuid,
    ) -> Result<ExtractionSource, DbError> {
        Ok(sqlx::query_as::<_, ExtractionSource>(
            "SELECT document_id, blob_key, size_bytes, media_type, file_name
               FROM document_versions WHERE id = $1",
        )
        .bind(version_id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Stores the text of a version of Dokument `document_id` and marks the job done;
    /// `false` if the lease was lost meanwhile.
    pub async fn complete_extraction_job(
        &mut self,
        job: &ClaimedJob,
        document_id: Uuid,
        text: ExtractedText<'_>,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE extraction_jobs SET state = 'done', locked_until = NULL, last_error = NULL,
                    updated_at = now()
              WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(job.id)
        .bind(job.attempts)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.insert_extracted_text(job.version_id, &text).await?;
        self.record(crate::DomainEvent::new(
            "document.text_extracted",
            "document",
            document_id,
        ))
        .await?;
        Ok(true)
    }

    /// Stores text extracted while filing a version (see [`FiledText`]); its extraction job,
    /// written with the version, is done with it. Called right after the version's own event,
    /// so in batch mode the job is not written yet: it is written as done at commit.
    pub(crate) async fn file_text(
        &mut self,
        version_id: Uuid,
        document_id: Uuid,
        filed: &FiledText,
    ) -> Result<(), DbError> {
        let text = ExtractedText {
            method: &filed.method,
            text: &filed.text,
            parts: Value::Array(Vec::new()),
            notes: Value::Array(Vec::new()),
            sealed: filed.sealed.clone(),
        };
        self.insert_extracted_text(version_id, &text).await?;
        match self.batch.as_mut() {
            // Its job is written at commit, then as done.
            Some(batch) => {
                batch.texts_filed.insert(version_id);
            }
            None => {
                sqlx::query(
                    "UPDATE extraction_jobs SET state = 'done', updated_at = now()
                      WHERE version_id = $1 AND state = 'pending'",
                )
                .bind(version_id)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        self.record_filed_text(document_id).await
    }

    /// Stores the texts extracted while filing many new versions (see
    /// [`TenantTx::create_documents`]), in one statement.
    pub(crate) async fn insert_filed_texts(
        &mut self,
        texts: &[(Uuid, &FiledText)],
    ) -> Result<(), DbError> {
        if texts.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(texts.len());
        let mut methods = Vec::with_capacity(texts.len());
        let mut clear = Vec::with_capacity(texts.len());
        let mut sealed = Vec::with_capacity(texts.len());
        let mut lens = Vec::with_capacity(texts.len());
        let mut keys = Vec::with_capacity(texts.len());
        for (id, t) in texts {
            ids.push(*id);
            methods.push(t.method.as_str());
            let s = t.sealed.as_ref();
            clear.push(if s.is_some() { "" } else { t.text.as_str() });
            sealed.push(s.map(|s| s.ciphertext.as_slice()));
            lens.push(s.map(|s| s.plain_len));
            keys.push(s.map(|s| s.wrapped_key.as_slice()));
        }
        sqlx::query(
            "INSERT INTO extracted_texts (version_id, tenant_id, method, text, parts, notes,
                                          sealed, sealed_len, sealed_key)
             SELECT t.version_id, $1, t.method, t.text, '[]', '[]', t.sealed, t.sealed_len,
                    t.sealed_key
               FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::int8[],
                           $7::bytea[]) AS t(version_id, method, text, sealed, sealed_len, sealed_key)",
        )
        .bind(self.tenant.0)
        .bind(&ids)
        .bind(&methods)
        .bind(&clear)
        .bind(&sealed)
        .bind(&lens)
        .bind(&keys)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_extracted_text(
        &mut self,
        version_id: Uuid,
        text: &ExtractedText<'_>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO extracted_texts (version_id, tenant_id, method, text, parts, notes,
                                          sealed, sealed_len, sealed_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (version_id) DO UPDATE
                SET method = EXCLUDED.method, text = EXCLUDED.text, parts = EXCLUDED.parts,
                    notes = EXCLUDED.notes, sealed = EXCLUDED.sealed,
                    sealed_len = EXCLUDED.sealed_len, sealed_key = EXCLUDED.sealed_key,
                    extracted_at = now()",
        )
        .bind(version_id)
        .bind(self.tenant.0)
        .bind(text.method)
        .bind(if text.sealed.is_some() { "" } else { text.text })
        .bind(if text.sealed.is_some() {
            Value::Array(Vec::new())
        } else {
            text.parts.clone()
        })
        .bind(&text.notes)
        .bind(text.sealed.as_ref().map(|s| s.ciphertext.as_slice()))
        .bind(text.sealed.as_ref().map(|s| s.plain_len))
        .bind(text.sealed.as_ref().map(|s| s.wrapped_key.as_slice()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records a failed attempt. `final_error`: the file itself is the problem (corrupt,
    /// encrypted, too large, unsupported), so trying again cannot help. Otherwise the job is
    /// due again after an exponential backoff, until [`MAX_ATTEMPTS`].
    pub async fn fail_extraction_job(
        &mut self,
        job: &ClaimedJob,
        reason: &str,
        final_error: bool,
    ) -> Result<bool, DbError> {
        let give_up = final_error || job.attempts >= MAX_ATTEMPTS;
        let backoff_secs = BACKOFF_BASE_SECS << job.attempts.clamp(0, 16);
        let done = sqlx::query(
            "UPDATE extraction_jobs
                SET state = CASE WHEN $3 THEN 'failed' ELSE 'pending' END,
                    run_after = now() + make_interval(secs => $4),
                    locked_until = NULL, last_error = $5, updated_at = now()
              WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(job.id)
        .bind(job.attempts)
        .bind(give_up)
        .bind(backoff_secs as f64)
        .bind(reason)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extraction states of a document's versions by version number.
    pub(crate) async fn extraction_states(
        &mut self,
        document_id: Uuid,
    ) -> Result<Vec<(i32, Extraction)>, DbError> {
        let rows: Vec<(i32, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT v.nr, j.state, j.last_error, t.method
               FROM document_versions v
               JOIN extraction_jobs j ON j.version_id = v.id
               LEFT JOIN extracted_texts t ON t.version_id = v.id
              WHERE v.document_id = $1",
        )
        .bind(document_id)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(nr, state, reason, method)| {
                // A reason of a passing failure is shown only once the job gave up.
                let reason = if state == "failed" { reason } else { None };
                (
                    nr,
                    Extraction {
                        state,
                        reason,
                        method,
                    },
                )
            })
            .collect())
    }

    /// The extracted text of version `nr`, `NotFound` until done.
    pub async fn extracted_text(
        &mut self,
        document_id: Uuid,
        nr: i32,
    ) -> Result<StoredText, DbError> {
        type Row = (
            String,
            String,
            Value,
            Option<Vec<u8>>,
            Option<i64>,
            Option<Vec<u8>>,
        );
        let (blob_key, text, parts, sealed, sealed_len, sealed_key): Row = sqlx::query_as(
            "SELECT v.blob_key, t.text, t.parts, t.sealed, t.sealed_len, t.sealed_key
               FROM extracted_texts t
               JOIN document_versions v ON v.id = t.version_id
              WHERE v.document_id = $1 AND v.nr = $2",
        )
        .bind(document_id)
        .bind(nr)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(StoredText::from_columns(
            blob_key, text, parts, sealed, sealed_len, sealed_key,
        ))
    }
}
