//! Access lists of confidential Akten, and the audit of every read of one.

use serde::Serialize;
use uuid::Uuid;

use crate::pool::Subject;
use crate::{DbError, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = AccessEntry)]
pub struct AccessEntry {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub token_id: Option<Uuid>,
    pub granted_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// Who is named in an access entry.
#[derive(Debug, Clone, Copy)]
pub enum Grantee {
    User(Uuid),
    OrgUnit(Uuid),
    Token(Uuid),
}

const ACCESS_COLUMNS: &str = "id, user_id, org_unit_id, token_id, granted_by, created_at";

impl TenantTx {
    /// Puts the transaction's own user or token on the Akte's access list. Returns the entry
    /// for the caller to audit once the Akte's own event is written.
    pub(crate) async fn grant_subject(
        &mut self,
        file_id: Uuid,
    ) -> Result<Option<AccessEntry>, DbError> {
        let grantee = match self.subject {
            Subject::User(u) => Grantee::User(u),
            Subject::Token(t) => Grantee::Token(t),
            Subject::Nobody | Subject::System => return Ok(None),
        };
        match self.insert_access_quietly(file_id, grantee).await {
            Ok(entry) => Ok(Some(entry)),
            // Already on the list.
            Err(DbError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn audit_grant(
        &mut self,
        file_id: Uuid,
        entry: &AccessEntry,
    ) -> Result<(), DbError> {
        self.emit(
            "file.access_granted",
            "file",
            file_id,
            Some(file_id),
            None::<&()>,
            Some(entry),
        )
        .await
    }

    async fn insert_access(
        &mut self,
        file_id: Uuid,
        grantee: Grantee,
    ) -> Result<AccessEntry, DbError> {
        let entry = self.insert_access_quietly(file_id, grantee).await?;
        self.audit_grant(file_id, &entry).await?;
        Ok(entry)
    }

    async fn insert_access_quietly(
        &mut self,
        file_id: Uuid,
        grantee: Grantee,
    ) -> Result<AccessEntry, DbError> {
        let (user, org, token) = match grantee {
            Grantee::User(u) => (Some(u), None, None),
            Grantee::OrgUnit(o) => (None, Some(o), None),
            Grantee::Token(t) => (None, None, Some(t)),
        };
        // No RETURNING: within this statement the new entry cannot yet make the Akte (and so
        // the entry itself) visible to the caller.
        let id = Uuid::now_v7();
        let done = sqlx::query(
            "INSERT INTO file_access (id, tenant_id, file_id, user_id, org_unit_id, token_id, granted_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(file_id)
        .bind(user)
        .bind(org)
        .bind(token)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        let sql = format!("SELECT {ACCESS_COLUMNS} FROM file_access WHERE id = $1");
        let inserted = if done.rows_affected() == 1 {
            sqlx::query_as::<_, AccessEntry>(&sql)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?
        } else {
            None
        };
        inserted.ok_or_else(|| DbError::Conflict("this access entry exists already".into()))
    }

    /// Grants access to a visible Akte; the grantee must exist in the tenant.
    pub async fn grant_access(
        &mut self,
        file_id: Uuid,
        grantee: Grantee,
    ) -> Result<AccessEntry, DbError> {
        self.file(file_id).await?;
        match grantee {
            Grantee::User(id) => {
                self.require("SELECT 1 FROM users WHERE id = $1", id, "user_id")
                    .await?
            }
            Grantee::OrgUnit(id) => self.require_org_unit(id, "org_unit_id").await?,
            Grantee::Token(id) => {
                self.require("SELECT 1 FROM api_tokens WHERE id = $1", id, "token_id")
                    .await?
            }
        }
        self.insert_access(file_id, grantee).await
    }

    pub async fn list_access(&mut self, file_id: Uuid) -> Result<Vec<AccessEntry>, DbError> {
        self.file(file_id).await?;
        let sql =
            format!("SELECT {ACCESS_COLUMNS} FROM file_access WHERE file_id = $1 ORDER BY id");
        Ok(sqlx::query_as::<_, AccessEntry>(&sql)
            .bind(file_id)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn revoke_access(&mut self, file_id: Uuid, entry_id: Uuid) -> Result<(), DbError> {
        self.file(file_id).await?;
        let sql = format!(
            "DELETE FROM file_access WHERE id = $1 AND file_id = $2 RETURNING {ACCESS_COLUMNS}"
        );
        let entry = sqlx::query_as::<_, AccessEntry>(&sql)
            .bind(entry_id)
            .bind(file_id)
            .fetch_one(&mut *self.tx)
            .await?;
        self.emit(
            "file.access_revoked",
            "file",
            file_id,
            Some(file_id),
            Some(&entry),
            None::<&()>,
        )
        .await
    }

    /// Records that the caller read (part of) an Akte, if the Akte is confidential: who read
    /// what, when. Normal Akten are not logged per read.
    pub async fn note_read(
        &mut self,
        file_id: Uuid,
        object_type: &str,
        object_id: Uuid,
    ) -> Result<(), DbError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT confidentiality FROM files WHERE id = $1")
                .bind(file_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        match row {
            Some((c,)) if c != "normal" => {
                let detail = serde_json::json!({"object_type": object_type, "object_id": object_id, "confidentiality": c});
                self.emit::<(), _>(
                    "file.read",
                    "file",
                    file_id,
                    Some(file_id),
                    None,
                    Some(&detail),
                )
                .await
            }
            _ => Ok(()),
        }
    }
}
