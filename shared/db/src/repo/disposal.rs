//! Destroying records at the end of an Aussonderung (archived by the archive, or rated V):
//! the Akte's rows go, their content keys with them (so the blobs can never be read again,
//! whatever happens to the blobs), and a Löschprotokoll entry stays.

use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, DomainEvent, TenantTx};

/// One entry of the Löschprotokoll: what was destroyed, why, on whose word, when.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ProtocolEntry {
    pub id: Uuid,
    pub file_id: Uuid,
    pub reference: String,
    pub subject: String,
    #[serde(with = "crate::serde_date::iso_date::option")]
    pub period_from: Option<time::Date>,
    #[serde(with = "crate::serde_date::iso_date::option")]
    pub closed_on: Option<time::Date>,
    /// The archive's rating: A (taken) or V (to be destroyed); none for an Abgabe.
    pub rating: Option<String>,
    /// `archiviert`, `vernichtet` or `abgegeben`.
    pub outcome: String,
    pub archive_reference: Option<String>,
    pub transfer_id: Uuid,
    /// The xdomea messages of the process that led here (codes).
    pub messages: Vec<String>,
    pub cases: i32,
    pub documents: i32,
    pub versions: i32,
    pub bytes: i64,
    pub disposed_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub disposed_at: time::OffsetDateTime,
}

/// Why an Akte is destroyed.
pub struct Disposal<'a> {
    pub rating: Option<&'a str>,
    pub outcome: &'a str,
    pub archive_reference: Option<&'a str>,
    pub transfer_id: Uuid,
    pub messages: &'a [String],
}

const PROTOCOL_COLUMNS: &str = "id, file_id, reference, subject, period_from, closed_on, rating,
    outcome, archive_reference, transfer_id, messages, cases, documents, versions, bytes,
    disposed_by, disposed_at";

impl TenantTx {
    /// Destroys the Akte `file_id` with its Vorgänge, Dokumente, versions (their wrapped
    /// content keys), extracted texts and extraction jobs; removes its documents from the
    /// search indexes; writes its Löschprotokoll entry. Returns the blob keys to delete once
    /// this commits. A legal hold in force refuses it (also in the database).
    pub async fn destroy_file(
        &mut self,
        file_id: Uuid,
        why: Disposal<'_>,
    ) -> Result<Vec<String>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Summary {
            reference: String,
            subject: String,
            period_from: time::Date,
            period_to: Option<time::Date>,
            cases: i64,
            documents: i64,
            versions: i64,
            bytes: i64,
        }
        let summary = sqlx::query_as::<_, Summary>(
            "SELECT f.reference, f.subject, f.period_from, f.period_to,
                    (SELECT count(*) FROM cases c WHERE c.file_id = f.id) AS cases,
                    (SELECT count(*) FROM documents d WHERE d.file_id = f.id) AS documents,
                    (SELECT count(*) FROM document_versions v JOIN documents d ON d.id = v.document_id
                      WHERE d.file_id = f.id) AS versions,
                    (SELECT COALESCE(sum(v.size_bytes), 0)::bigint FROM document_versions v
                       JOIN documents d ON d.id = v.document_id WHERE d.file_id = f.id) AS bytes
               FROM files f WHERE f.id = $1 FOR UPDATE OF f",
        )
        .bind(file_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let documents: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM documents WHERE file_id = $1")
            .bind(file_id)
            .fetch_all(&mut *self.tx)
            .await?;
        let blobs: Vec<(String,)> = sqlx::query_as(
            "SELECT v.blob_key FROM document_versions v JOIN documents d ON d.id = v.document_id
              WHERE d.file_id = $1",
        )
        .bind(file_id)
        .fetch_all(&mut *self.tx)
        .await?;
        let versions_of_file = "SELECT v.id FROM document_versions v
                                  JOIN documents d ON d.id = v.document_id WHERE d.file_id = $1";
        for statement in [
            format!("DELETE FROM extracted_texts WHERE version_id IN ({versions_of_file})"),
            format!("DELETE FROM extraction_jobs WHERE version_id IN ({versions_of_file})"),
            "DELETE FROM document_versions WHERE document_id IN
                 (SELECT id FROM documents WHERE file_id = $1)"
                .to_owned(),
            "DELETE FROM documents WHERE file_id = $1".to_owned(),
            "DELETE FROM file_access WHERE file_id = $1".to_owned(),
            "DELETE FROM cases WHERE file_id = $1".to_owned(),
            "DELETE FROM files WHERE id = $1".to_owned(),
        ] {
            sqlx::query(&statement)
                .bind(file_id)
                .execute(&mut *self.tx)
                .await?;
        }
        let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        sqlx::query(
            "INSERT INTO disposal_protocol (id, tenant_id, file_id, reference, subject, period_from,
                    closed_on, rating, outcome, archive_reference, transfer_id, messages, cases,
                    documents, versions, bytes, disposed_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(file_id)
        .bind(&summary.reference)
        .bind(&summary.subject)
        .bind(summary.period_from)
        .bind(summary.period_to)
        .bind(why.rating)
        .bind(why.outcome)
        .bind(why.archive_reference)
        .bind(why.transfer_id)
        .bind(why.messages)
        .bind(count(summary.cases))
        .bind(count(summary.documents))
        .bind(count(summary.versions))
        .bind(summary.bytes)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        for (document,) in &documents {
            // Out of the search indexes; the Akte's own event below is the audit entry.
            self.log_index_change(*document, "delete").await?;
        }
        self.record(
            DomainEvent::new("file.destroyed", "file", file_id)
                .in_file(file_id)
                .after(&serde_json::json!({
                    "reference": summary.reference,
                    "outcome": why.outcome,
                    "rating": why.rating,
                    "transfer_id": why.transfer_id,
                    "archive_reference": why.archive_reference,
                    "documents": summary.documents,
                    "versions": summary.versions,
                }))?,
        )
        .await?;
        Ok(blobs.into_iter().map(|(k,)| k).collect())
    }

    /// The Löschprotokoll, newest first.
    pub async fn disposal_protocol(&mut self) -> Result<Vec<ProtocolEntry>, DbError> {
        let sql = format!(
            "SELECT {PROTOCOL_COLUMNS} FROM disposal_protocol ORDER BY disposed_at DESC, reference"
        );
        Ok(sqlx::query_as::<_, ProtocolEntry>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Sets the state of a transfer's items of one Akte (its own item and its Vorgänge').
    pub async fn set_transfer_file_state(
        &mut self,
        transfer: Uuid,
        file_id: Uuid,
        state: &str,
    ) -> Result<u64, DbError> {
        Ok(sqlx::query(
            "UPDATE transfer_items SET state = $3
              WHERE transfer_id = $1 AND file_id = $2 AND state <> $3",
        )
        .bind(transfer)
        .bind(file_id)
        .bind(state)
        .execute(&mut *self.tx)
        .await?
        .rows_affected())
    }
}
