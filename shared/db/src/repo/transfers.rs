//! Transfers out of Akta (Aussonderung to an archive, Abgabe): the process, its items and the
//! log of the messages exchanged. The rules of what may happen when are the core's.

use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, DomainEvent, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Transfer {
    pub id: Uuid,
    pub kind: String,
    pub state: String,
    /// Abgabe inside Akta: the receiving tenant.
    pub to_tenant_id: Option<Uuid>,
    /// Abgabe: the sender keeps a closed copy instead of deleting.
    pub keep_copy: bool,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// One Akte or Vorgang in a transfer, with what it is called.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TransferItem {
    pub object_id: Uuid,
    #[serde(rename = "type")]
    pub object_type: String,
    pub file_id: Uuid,
    pub reference: String,
    pub subject: String,
    pub state: String,
    pub rating: Option<String>,
}

/// A message exchanged in a transfer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TransferMessage {
    pub code: String,
    pub direction: String,
    pub size_bytes: i64,
    #[serde(skip)]
    pub sha256: Vec<u8>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

const TRANSFER_COLUMNS: &str =
    "id, kind, state, to_tenant_id, keep_copy, created_by, created_at, updated_at";

/// An Abgabe offered to this tenant by another tenant of the same Akta.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IncomingTransfer {
    pub id: Uuid,
    pub source_name: String,
    pub files: serde_json::Value,
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    pub accepted_by: Option<String>,
    pub accepted_files: Option<serde_json::Value>,
    #[serde(skip)]
    pub source_tenant_id: Uuid,
}

const INCOMING_COLUMNS: &str =
    "id, source_name, files, state, created_at, accepted_by, accepted_files, source_tenant_id";

impl TenantTx {
    /// A new transfer of `files` (each with its Vorgänge) in state `angeboten`. An Akte or
    /// Vorgang already in an unfinished transfer answers a conflict.
    pub async fn create_transfer(
        &mut self,
        kind: &str,
        files: &[Uuid],
    ) -> Result<Transfer, DbError> {
        let id = Uuid::now_v7();
        let sql = format!(
            "INSERT INTO transfers (id, tenant_id, kind, created_by) VALUES ($1, $2, $3, $4)
             RETURNING {TRANSFER_COLUMNS}"
        );
        let transfer = sqlx::query_as::<_, Transfer>(&sql)
            .bind(id)
            .bind(self.tenant.0)
            .bind(kind)
            .bind(&self.actor)
            .fetch_one(&mut *self.tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO transfer_items (transfer_id, tenant_id, object_id, object_type, file_id)
             SELECT $1, $2, f.id, 'file', f.id FROM files f WHERE f.id = ANY($3)
             UNION ALL
             SELECT $1, $2, c.id, 'case', c.file_id FROM cases c WHERE c.file_id = ANY($3)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(files)
        .execute(&mut *self.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        self.record(
            DomainEvent::new("transfer.created", "transfer", id)
                .after(&serde_json::json!({"kind": kind, "files": files}))?,
        )
        .await?;
        Ok(transfer)
    }

    /// Makes the new transfer an Abgabe to `to_tenant` (inside Akta) or outside (`None`).
    pub async fn set_transfer_target(
        &mut self,
        id: Uuid,
        to_tenant: Option<Uuid>,
        keep_copy: bool,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE transfers SET to_tenant_id = $2, keep_copy = $3 WHERE id = $1")
            .bind(id)
            .bind(to_tenant)
            .bind(keep_copy)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records an Abgabe offered to this tenant (in the receiving tenant's transaction).
    pub async fn insert_incoming(
        &mut self,
        id: Uuid,
        source_tenant: Uuid,
        source_name: &str,
        files: &serde_json::Value,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO incoming_transfers (id, tenant_id, source_tenant_id, source_name, files)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(source_tenant)
        .bind(source_name)
        .bind(files)
        .execute(&mut *self.tx)
        .await?;
        self.record(
            DomainEvent::new("transfer.incoming", "transfer", id)
                .after(&serde_json::json!({"from": source_name, "files": files}))?,
        )
        .await?;
        Ok(())
    }

    pub async fn list_incoming(&mut self) -> Result<Vec<IncomingTransfer>, DbError> {
        let sql =
            format!("SELECT {INCOMING_COLUMNS} FROM incoming_transfers ORDER BY created_at DESC");
        Ok(sqlx::query_as::<_, IncomingTransfer>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn incoming(&mut self, id: Uuid, lock: bool) -> Result<IncomingTransfer, DbError> {
        let sql = format!(
            "SELECT {INCOMING_COLUMNS} FROM incoming_transfers WHERE id = $1 {}",
            if lock { "FOR UPDATE" } else { "" }
        );
        Ok(sqlx::query_as::<_, IncomingTransfer>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Marks an incoming Abgabe accepted with what came in.
    pub async fn accept_incoming(
        &mut self,
        id: Uuid,
        files: &serde_json::Value,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE incoming_transfers SET state = 'angenommen', accepted_at = now(),
                    accepted_by = $2, accepted_files = $3
              WHERE id = $1",
        )
        .bind(id)
        .bind(&self.actor)
        .bind(files)
        .execute(&mut *self.tx)
        .await?;
        self.record(
            DomainEvent::new("transfer.accepted", "transfer", id)
                .after(&serde_json::json!({"files": files}))?,
        )
        .await?;
        Ok(())
    }

    /// Every transfer of the tenant, newest first.
    pub async fn list_transfers(&mut self) -> Result<Vec<Transfer>, DbError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY created_at DESC");
        Ok(sqlx::query_as::<_, Transfer>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn transfer(&mut self, id: Uuid, lock: bool) -> Result<Transfer, DbError> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1 {}",
            if lock { "FOR UPDATE" } else { "" }
        );
        Ok(sqlx::query_as::<_, Transfer>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn transfer_items(&mut self, id: Uuid) -> Result<Vec<TransferItem>, DbError> {
        Ok(sqlx::query_as::<_, TransferItem>(
            // Destroyed Akten are named by their Löschprotokoll entry.
            "SELECT i.object_id, i.object_type, i.file_id,
                    COALESCE(c.reference, CASE WHEN i.object_type = 'file'
                                               THEN COALESCE(f.reference, p.reference) END, '')
                        AS reference,
                    COALESCE(c.subject, CASE WHEN i.object_type = 'file'
                                             THEN COALESCE(f.subject, p.subject) END, '')
                        AS subject,
                    i.state, i.rating
               FROM transfer_items i
               LEFT JOIN files f ON f.id = i.file_id
               LEFT JOIN cases c ON c.id = i.object_id
               LEFT JOIN disposal_protocol p ON p.file_id = i.file_id AND p.transfer_id = i.transfer_id
              WHERE i.transfer_id = $1
              ORDER BY COALESCE(f.reference, p.reference), i.object_type DESC, c.reference",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn transfer_messages(&mut self, id: Uuid) -> Result<Vec<TransferMessage>, DbError> {
        Ok(sqlx::query_as::<_, TransferMessage>(
            "SELECT code, direction, size_bytes, sha256, created_by, created_at
               FROM transfer_messages WHERE transfer_id = $1 ORDER BY created_at, code",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Logs a message produced or received (its size and SHA-256; the message itself can be
    /// produced again from the records, or was the other side's).
    pub async fn log_transfer_message(
        &mut self,
        transfer: Uuid,
        code: &str,
        direction: &str,
        bytes: &[u8],
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO transfer_messages (id, tenant_id, transfer_id, code, direction,
                                            size_bytes, sha256, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(transfer)
        .bind(code)
        .bind(direction)
        .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
        .bind(openssl::sha::sha256(bytes).to_vec())
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        self.record(
            DomainEvent::new("transfer.message", "transfer", transfer).after(
                &serde_json::json!({"code": code, "direction": direction, "bytes": bytes.len()}),
            )?,
        )
        .await?;
        Ok(())
    }

    /// Rates items; returns how many changed (a repeated rating changes nothing).
    pub async fn rate_transfer_items(
        &mut self,
        transfer: Uuid,
        ratings: &[(Uuid, &str)],
    ) -> Result<u64, DbError> {
        let mut changed = 0;
        for (object, rating) in ratings {
            changed += sqlx::query(
                "UPDATE transfer_items SET rating = $3, state = 'bewertet'
                  WHERE transfer_id = $1 AND object_id = $2
                    AND state IN ('angeboten', 'bewertet')
                    AND rating IS DISTINCT FROM $3",
            )
            .bind(transfer)
            .bind(object)
            .bind(rating)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        }
        Ok(changed)
    }

    pub async fn set_transfer_state(&mut self, id: Uuid, state: &str) -> Result<(), DbError> {
        let changed = sqlx::query(
            "UPDATE transfers SET state = $2, updated_at = now() WHERE id = $1 AND state <> $2",
        )
        .bind(id)
        .bind(state)
        .execute(&mut *self.tx)
        .await?;
        if changed.rows_affected() > 0 {
            self.record(
                DomainEvent::new("transfer.state", "transfer", id)
                    .after(&serde_json::json!({"state": state}))?,
            )
            .await?;
        }
        Ok(())
    }
}
