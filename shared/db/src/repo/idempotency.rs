//! Idempotency keys: the first answer to a creating POST, kept for 24 hours per principal
//! and key. Tenant principals' keys are tenant rows (RLS); the operator's have no tenant and
//! are reachable only outside any tenant's transaction.

use std::time::Duration;

use sqlx::{Postgres, Transaction};

use crate::{Db, DbError};
use akta_domain::TenantId;

/// How long a key and its answer are kept.
const KEEP: &str = "24 hours";

/// What a key holds when a request arrives with it.
#[derive(Debug)]
pub enum IdempotencyState {
    /// New (or expired, or abandoned by a request that never finished): this request runs
    /// and the key is now held for it.
    Fresh,
    /// The first request with this key is still running.
    InFlight,
    /// The first request's answer.
    Done(StoredResponse),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredResponse {
    pub request_hash: Vec<u8>,
    pub status: i32,
    /// The headers replayed with the body (`{"content-type": …, "location": …}`).
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
}

impl Db {
    /// A transaction that sees `tenant`'s keys, or (`None`) only the operator's.
    async fn key_tx(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Transaction<'static, Postgres>, DbError> {
        let mut tx = self.pool().begin().await?;
        if let Some(tenant) = tenant {
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(tenant.0.to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Takes the key for a new request, or tells what it holds. A key whose request has been
    /// running for longer than `abandoned_after` (a crashed node) is taken over.
    pub async fn idempotency_begin(
        &self,
        tenant: Option<TenantId>,
        principal: &str,
        key: &str,
        abandoned_after: Duration,
    ) -> Result<IdempotencyState, DbError> {
        let mut tx = self.key_tx(tenant).await?;
        let taken: Option<(i32,)> = sqlx::query_as(&format!(
            "INSERT INTO idempotency_keys (principal, key, tenant_id, expires_at)
             VALUES ($1, $2, $3, now() + interval '{KEEP}')
             ON CONFLICT (principal, key) DO UPDATE
                SET request_hash = NULL, status = NULL, headers = '{{}}', body = NULL,
                    created_at = now(), expires_at = now() + interval '{KEEP}'
              WHERE idempotency_keys.expires_at < now()
                 OR (idempotency_keys.status IS NULL
                     AND idempotency_keys.created_at < now() - make_interval(secs => $4))
             RETURNING 1"
        ))
        .bind(principal)
        .bind(key)
        .bind(tenant.map(|t| t.0))
        .bind(abandoned_after.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        let state = if taken.is_some() {
            IdempotencyState::Fresh
        } else {
            let stored: Option<StoredResponse> = sqlx::query_as(
                "SELECT request_hash, status, headers, body FROM idempotency_keys
                  WHERE principal = $1 AND key = $2 AND status IS NOT NULL",
            )
            .bind(principal)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            stored.map_or(IdempotencyState::InFlight, IdempotencyState::Done)
        };
        tx.commit().await?;
        Ok(state)
    }

    /// Stores the answer of the request that held the key.
    pub async fn idempotency_finish(
        &self,
        tenant: Option<TenantId>,
        principal: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), DbError> {
        let mut tx = self.key_tx(tenant).await?;
        sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $3, status = $4, headers = $5, body = $6
              WHERE principal = $1 AND key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .bind(&response.request_hash)
        .bind(response.status)
        .bind(&response.headers)
        .bind(&response.body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets go of a key whose request changed nothing (refused or failed): a retry runs anew.
    pub async fn idempotency_release(
        &self,
        tenant: Option<TenantId>,
        principal: &str,
        key: &str,
    ) -> Result<(), DbError> {
        let mut tx = self.key_tx(tenant).await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets expired keys of every tenant; returns how many.
    pub async fn prune_idempotency_keys(&self) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT akta_prune_idempotency_keys()")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}
