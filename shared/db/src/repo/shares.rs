//! Amtshilfe: Akten (or Vorgänge) one tenant shares read-only with another. The owner writes
//! and revokes the rows; the receiving tenant reads the rows addressed to it (its own RLS
//! policy), and reads the shared records only in a share transaction of the owner
//! ([`crate::Db::share_tx`]).

use serde::Serialize;
use uuid::Uuid;

use crate::serde_date::iso_date;
use crate::{DbError, TenantTx};

/// One share, as both sides see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Share {
    pub id: Uuid,
    pub owner_tenant_id: Uuid,
    pub owner_slug: String,
    pub owner_name: String,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    /// The shared Akte's Aktenzeichen and Betreff (with the Vorgang's, for a Vorgang's
    /// share) as they were when shared.
    pub file_reference: String,
    pub label: String,
    pub grantee_tenant_id: Uuid,
    pub grantee_slug: String,
    pub grantee_name: String,
    #[serde(with = "iso_date")]
    pub until: time::Date,
    pub reason: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
    /// Open now: not revoked and `until` not passed (in Europe/Berlin).
    pub active: bool,
}

/// What the owner decides when sharing.
pub struct NewShare<'a> {
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub grantee: Uuid,
    pub until: time::Date,
    pub reason: &'a str,
    pub file_reference: &'a str,
    pub label: &'a str,
}

/// When a share `s` is open: not revoked and not past its last day (Berlin time). One
/// definition for the share list, the shares searched and the search's check for any.
macro_rules! share_open {
    () => {
        "(s.revoked_at IS NULL AND s.until_day >= (now() AT TIME ZONE 'Europe/Berlin')::date)"
    };
}
pub(crate) use share_open;

const SHARE_SELECT: &str = concat!("SELECT s.id, s.tenant_id AS owner_tenant_id, o.slug AS owner_slug,
        o.display_name AS owner_name, s.file_id, s.case_id, s.file_reference, s.label, s.grantee_tenant_id,
        g.slug AS grantee_slug, g.display_name AS grantee_name, s.until_day AS until, s.reason,
        s.created_by, s.created_at, s.revoked_at, ", share_open!(), " AS active
   FROM file_shares s JOIN tenants o ON o.id = s.tenant_id JOIN tenants g ON g.id = s.grantee_tenant_id");

impl TenantTx {
    pub async fn insert_share(&mut self, new: NewShare<'_>) -> Result<Share, DbError> {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO file_shares (id, tenant_id, file_id, case_id, grantee_tenant_id,
                                      until_day, reason, created_by, file_reference, label)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(new.file_id)
        .bind(new.case_id)
        .bind(new.grantee)
        .bind(new.until)
        .bind(new.reason)
        .bind(&self.actor)
        .bind(new.file_reference)
        .bind(new.label)
        .execute(&mut *self.tx)
        .await?;
        self.share(id).await
    }

    /// A share this tenant gave or received.
    pub async fn share(&mut self, id: Uuid) -> Result<Share, DbError> {
        sqlx::query_as::<_, Share>(&format!("{SHARE_SELECT} WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(DbError::NotFound)
    }

    /// The shares of one of this tenant's Akten, newest first.
    pub async fn shares_of_file(&mut self, file_id: Uuid) -> Result<Vec<Share>, DbError> {
        Ok(sqlx::query_as::<_, Share>(&format!(
            "{SHARE_SELECT} WHERE s.tenant_id = $1 AND s.file_id = $2 ORDER BY s.id DESC"
        ))
        .bind(self.tenant.0)
        .bind(file_id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Ends one of this tenant's shares of `file_id` now; ending it again changes nothing.
    pub async fn revoke_share(&mut self, file_id: Uuid, id: Uuid) -> Result<Share, DbError> {
        let done = sqlx::query(
            "UPDATE file_shares SET revoked_at = COALESCE(revoked_at, now()),
                    revoked_by = COALESCE(revoked_by, $4)
              WHERE id = $1 AND tenant_id = $2 AND file_id = $3",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(file_id)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        self.share(id).await
    }

    /// The open shares other tenants gave this one, newest first.
    pub async fn shares_with_us(&mut self) -> Result<Vec<Share>, DbError> {
        Ok(sqlx::query_as::<_, Share>(&format!(
            "{SHARE_SELECT} WHERE s.grantee_tenant_id = $1 AND {}
              ORDER BY s.id DESC LIMIT 200",
            share_open!()
        ))
        .bind(self.tenant.0)
        .fetch_all(&mut *self.tx)
        .await?)
    }
}
