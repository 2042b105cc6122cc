//! Key material for encryption at rest: the versions of a tenant's key (wrapped by the master
//! key) and the wrapped data key of each document version. Wrapping and unwrapping happen in
//! the API layer; this module only stores bytes, and its locks keep rotation, uploads and
//! crypto-shredding from stepping on each other.

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One version of a tenant's key. `wrapped_key` is `None` once the version is retired.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TenantKeyRow {
    pub version: i32,
    #[serde(skip)]
    pub wrapped_key: Option<Vec<u8>>,
    pub master_key_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<time::OffsetDateTime>,
}

/// What opening a stored blob needs: its wrapped DEK and the tenant key version that wrapped
/// it, plus that version's wrapped key (`None` if it is gone: retired or shredded).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContentKey {
    pub wrapped_dek: Option<Vec<u8>>,
    pub tenant_key_version: Option<i32>,
    pub wrapped_key: Option<Vec<u8>>,
    pub master_key_id: Option<String>,
}

/// A document version's DEK that a rotation still has to re-wrap.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WrappedDekRow {
    pub id: Uuid,
    pub blob_key: String,
    pub wrapped_dek: Vec<u8>,
    pub tenant_key_version: i32,
}

/// A new version's DEK as stored: wrapped by tenant key version `key_version`.
#[derive(Debug, Clone)]
pub struct StoredDek {
    pub wrapped: Vec<u8>,
    pub key_version: i32,
}

const KEY_COLUMNS: &str = "version, wrapped_key, master_key_id, created_at, retired_at";

/// Fingerprints of the master keys that wrap live tenant keys, with how many each wraps,
/// across all tenants (through a security-definer function; no key material).
pub(crate) async fn master_key_ids(pool: &PgPool) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        sqlx::query_as("SELECT master_key_id, tenant_keys FROM akta_master_key_ids()")
            .fetch_all(pool)
            .await?,
    )
}

impl TenantTx {
    /// The live key version that wraps new DEKs, share-locked until this transaction ends so
    /// a rotation cannot retire it between wrapping a DEK and storing the wrapped DEK.
    pub async fn current_tenant_key(&mut self) -> Result<Option<TenantKeyRow>, DbError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM tenant_keys WHERE retired_at IS NULL
              ORDER BY version DESC LIMIT 1 FOR SHARE"
        );
        Ok(sqlx::query_as::<_, TenantKeyRow>(&sql)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// One version of the tenant key, live or retired.
    pub async fn tenant_key(&mut self, version: i32) -> Result<Option<TenantKeyRow>, DbError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM tenant_keys WHERE version = $1");
        Ok(sqlx::query_as::<_, TenantKeyRow>(&sql)
            .bind(version)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// All versions of the tenant key, oldest first.
    pub async fn tenant_keys(&mut self) -> Result<Vec<TenantKeyRow>, DbError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM tenant_keys ORDER BY version");
        Ok(sqlx::query_as::<_, TenantKeyRow>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// The live versions, locked for update: a master key rotation rewrites them in place.
    pub async fn lock_live_tenant_keys(&mut self) -> Result<Vec<TenantKeyRow>, DbError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM tenant_keys WHERE retired_at IS NULL
              ORDER BY version FOR UPDATE"
        );
        Ok(sqlx::query_as::<_, TenantKeyRow>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// The version number a new tenant key gets: one above every version ever used, retired
    /// ones included, so a version number never names two keys.
    /// Serialises creating key versions of this tenant until the transaction ends, so two
    /// first uploads (or two rotations) cannot each create a version.
    pub async fn lock_tenant_keys(&mut self) -> Result<(), DbError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('akta:tenant_keys:' || $1))")
            .bind(self.tenant.0.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn next_tenant_key_version(&mut self) -> Result<i32, DbError> {
        let (last,): (Option<i32>,) = sqlx::query_as("SELECT max(version) FROM tenant_keys")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(last.unwrap_or(0) + 1)
    }

    /// Stores a new tenant key version. `None` if that version exists already: another
    /// process created it concurrently (this insert waited for it to commit).
    pub async fn insert_tenant_key(
        &mut self,
        version: i32,
        wrapped_key: &[u8],
        master_key_id: &str,
    ) -> Result<Option<TenantKeyRow>, DbError> {
        let sql = format!(
            "INSERT INTO tenant_keys (tenant_id, version, wrapped_key, master_key_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING {KEY_COLUMNS}"
        );
        Ok(sqlx::query_as::<_, TenantKeyRow>(&sql)
            .bind(self.tenant.0)
            .bind(version)
            .bind(wrapped_key)
            .bind(master_key_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Replaces the wrapping of a live tenant key (master key rotation).
    pub async fn rewrap_tenant_key(
        &mut self,
        version: i32,
        wrapped_key: &[u8],
        master_key_id: &str,
    ) -> Result<(), DbError> {
        let done = sqlx::query(
            "UPDATE tenant_keys SET wrapped_key = $2, master_key_id = $3
              WHERE version = $1 AND retired_at IS NULL",
        )
        .bind(version)
        .bind(wrapped_key)
        .bind(master_key_id)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(DbError::NotFound)
        }
    }

    /// The wrapped DEK of a stored blob and the tenant key that opens it, in one statement, so
    /// a rotation committing in between cannot pair a DEK with the wrong key version.
    pub async fn content_key(&mut self, blob_key: &str) -> Result<ContentKey, DbError> {
        Ok(sqlx::query_as::<_, ContentKey>(
            "SELECT v.wrapped_dek, v.tenant_key_version, k.wrapped_key, k.master_key_id
               FROM (SELECT tenant_id, wrapped_dek, tenant_key_version
                       FROM document_versions WHERE blob_key = $1
                     UNION ALL
                     SELECT tenant_id, wrapped_dek, tenant_key_version
                       FROM inbox_items WHERE blob_key = $1 AND filed_document_id IS NULL) v
               LEFT JOIN tenant_keys k
                 ON k.tenant_id = v.tenant_id AND k.version = v.tenant_key_version
              LIMIT 1",
        )
        .bind(blob_key)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Up to `limit` DEKs wrapped by a tenant key version below `version`, locked until this
    /// transaction ends.
    pub async fn deks_below(
        &mut self,
        version: i32,
        limit: i64,
    ) -> Result<Vec<WrappedDekRow>, DbError> {
        let mut rows = sqlx::query_as::<_, WrappedDekRow>(
            "SELECT id, blob_key, wrapped_dek, tenant_key_version FROM document_versions
              WHERE tenant_key_version < $1 ORDER BY id LIMIT $2 FOR UPDATE",
        )
        .bind(version)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        // Posteingang items hold the keys of content not yet filed.
        let room = limit - rows.len() as i64;
        if room > 0 {
            rows.extend(
                sqlx::query_as::<_, WrappedDekRow>(
                    "SELECT id, blob_key, wrapped_dek, tenant_key_version FROM inbox_items
                      WHERE tenant_key_version < $1 ORDER BY id LIMIT $2 FOR UPDATE",
                )
                .bind(version)
                .bind(room)
                .fetch_all(&mut *self.tx)
                .await?,
            );
        }
        Ok(rows)
    }

    /// Replaces a version's wrapped DEK; the only change a document version ever gets.
    pub async fn rewrap_dek(
        &mut self,
        version_id: Uuid,
        wrapped_dek: &[u8],
        tenant_key_version: i32,
    ) -> Result<(), DbError> {
        for table in ["document_versions", "inbox_items"] {
            let done = sqlx::query(&format!(
                "UPDATE {table} SET wrapped_dek = $2, tenant_key_version = $3 WHERE id = $1"
            ))
            .bind(version_id)
            .bind(wrapped_dek)
            .bind(tenant_key_version)
            .execute(&mut *self.tx)
            .await?;
            if done.rows_affected() > 0 {
                break;
            }
        }
        Ok(())
    }

    /// Erases the key material of all live versions below `version` if no DEK refers to them
    /// any more, and returns the retired version numbers. `None`: a DEK still refers to one
    /// (an upload that wrapped with it committed meanwhile); re-wrap and try again.
    pub async fn retire_tenant_keys_below(
        &mut self,
        version: i32,
    ) -> Result<Option<Vec<i32>>, DbError> {
        // Lock first: an upload that wrapped its DEK with an old version holds a share lock on
        // it until it commits, so after this statement its row is visible to the count below.
        sqlx::query(
            "SELECT version FROM tenant_keys WHERE version < $1 AND retired_at IS NULL FOR UPDATE",
        )
        .bind(version)
        .execute(&mut *self.tx)
        .await?;
        let (referenced,): (i64,) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM document_versions WHERE tenant_key_version < $1)
                  + (SELECT count(*) FROM inbox_items WHERE tenant_key_version < $1)
                  + (SELECT count(*) FROM oidc_configs WHERE secret_key_version < $1)",
        )
        .bind(version)
        .fetch_one(&mut *self.tx)
        .await?;
        if referenced > 0 {
            return Ok(None);
        }
        let retired: Vec<(i32,)> = sqlx::query_as(
            "UPDATE tenant_keys SET wrapped_key = NULL, retired_at = now()
              WHERE version < $1 AND retired_at IS NULL RETURNING version",
        )
        .bind(version)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(Some(retired.into_iter().map(|(v,)| v).collect()))
    }

    /// The tenant's status (`active`, `suspended`, `deleted`).
    pub async fn tenant_status(&mut self) -> Result<String, DbError> {
        let (status,): (String,) = sqlx::query_as("SELECT status FROM tenants WHERE id = $1")
            .bind(self.tenant.0)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(status)
    }

    /// Crypto-shredding: marks the tenant deleted (its tokens and sessions stop working) and
    /// deletes every version of its key, which makes all its stored blobs unreadable. Returns
    /// how many key versions were destroyed.
    pub async fn shred_tenant(&mut self) -> Result<u64, DbError> {
        sqlx::query("UPDATE tenants SET status = 'deleted' WHERE id = $1")
            .bind(self.tenant.0)
            .execute(&mut *self.tx)
            .await?;
        let destroyed = sqlx::query("DELETE FROM tenant_keys WHERE tenant_id = $1")
            .bind(self.tenant.0)
            .execute(&mut *self.tx)
            .await?;
        // Search keeps plaintext: the extracted texts here, the indexes on every node.
        sqlx::query("DELETE FROM extracted_texts WHERE tenant_id = $1")
            .bind(self.tenant.0)
            .execute(&mut *self.tx)
            .await?;
        // Every node empties its index of the tenant: the `tenant.deleted` event the caller
        // records in this transaction logs that.
        Ok(destroyed.rows_affected())
    }
}
