//! Idempotency keys: the first answer to a creating POST, kept for 24 hours per principal
//! and key, its body sealed under the tenant's key (answers may hold one-time secrets).

use std::time::Duration;

use crate::repo::oidc::SealedSecret;
use crate::{Db, DbError, TenantTx};

/// How long a key and its answer are kept.
const KEEP: &str = "24 hours";

/// What a key holds when a request arrives with it.
#[derive(Debug)]
pub enum IdempotencyState<B> {
    /// New (or expired, or abandoned by a request that never finished): this request runs
    /// and the key is now held for it.
    Fresh,
    /// The first request with this key is still running.
    InFlight,
    /// The first request's answer.
    Done(StoredResponse<B>),
}

/// A kept answer; `B` is the body, sealed as stored or opened.
#[derive(Debug, Clone)]
pub struct StoredResponse<B> {
    pub request_hash: Vec<u8>,
    pub status: i32,
    /// The headers replayed with the body (`{"content-type": …, "location": …}`).
    pub headers: serde_json::Value,
    pub body: B,
}

#[derive(sqlx::FromRow)]
struct Row {
    request_hash: Option<Vec<u8>>,
    status: Option<i32>,
    headers: serde_json::Value,
    body_sealed: Option<Vec<u8>>,
    body_len: Option<i64>,
    body_wrapped_key: Option<Vec<u8>>,
    body_key_version: Option<i32>,
}

impl TenantTx {
    /// Takes the key for a new request, or tells what it holds. A key whose request has been
    /// running for longer than `abandoned_after` (a crashed node) is taken over.
    pub async fn idempotency_begin(
        &mut self,
        principal: &str,
        key: &str,
        abandoned_after: Duration,
    ) -> Result<IdempotencyState<SealedSecret>, DbError> {
        let taken: Option<(i32,)> = sqlx::query_as(&format!(
            "INSERT INTO idempotency_keys (principal, key, tenant_id, expires_at)
             VALUES ($1, $2, $3, now() + interval '{KEEP}')
             ON CONFLICT (principal, key) DO UPDATE
                SET request_hash = NULL, status = NULL, headers = '{{}}', body_sealed = NULL,
                    body_len = NULL, body_wrapped_key = NULL, body_key_version = NULL,
                    created_at = now(), expires_at = now() + interval '{KEEP}'
              WHERE idempotency_keys.expires_at < now()
                 OR (idempotency_keys.status IS NULL
                     AND idempotency_keys.created_at < now() - make_interval(secs => $4))
             RETURNING 1"
        ))
        .bind(principal)
        .bind(key)
        .bind(self.tenant.0)
        .bind(abandoned_after.as_secs_f64())
        .fetch_optional(&mut *self.tx)
        .await?;
        if taken.is_some() {
            return Ok(IdempotencyState::Fresh);
        }
        let row: Row = sqlx::query_as(
            "SELECT request_hash, status, headers, body_sealed, body_len, body_wrapped_key,
                    body_key_version
               FROM idempotency_keys WHERE principal = $1 AND key = $2",
        )
        .bind(principal)
        .bind(key)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(
            match (
                row.request_hash,
                row.status,
                row.body_sealed,
                row.body_len,
                row.body_wrapped_key,
                row.body_key_version,
            ) {
                (
                    Some(request_hash),
                    Some(status),
                    Some(ciphertext),
                    Some(plain_len),
                    Some(wrapped_key),
                    Some(key_version),
                ) => IdempotencyState::Done(StoredResponse {
                    request_hash,
                    status,
                    headers: row.headers,
                    body: SealedSecret {
                        ciphertext,
                        plain_len,
                        wrapped_key,
                        key_version,
                    },
                }),
                _ => IdempotencyState::InFlight,
            },
        )
    }

    /// Stores the answer of the request that held the key.
    pub async fn idempotency_finish(
        &mut self,
        principal: &str,
        key: &str,
        response: &StoredResponse<SealedSecret>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE idempotency_keys
                SET request_hash = $3, status = $4, headers = $5, body_sealed = $6,
                    body_len = $7, body_wrapped_key = $8, body_key_version = $9
              WHERE principal = $1 AND key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .bind(&response.request_hash)
        .bind(response.status)
        .bind(&response.headers)
        .bind(&response.body.ciphertext)
        .bind(response.body.plain_len)
        .bind(&response.body.wrapped_key)
        .bind(response.body.key_version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Lets go of a key whose request changed nothing (refused or failed): a retry runs anew.
    pub async fn idempotency_release(&mut self, principal: &str, key: &str) -> Result<(), DbError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl Db {
    /// Forgets expired keys of every tenant; returns how many.
    pub async fn prune_idempotency_keys(&self) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT akta_prune_idempotency_keys()")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}
