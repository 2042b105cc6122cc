//! Idempotency-Key on creating POSTs: a key is the caller's (its token or person), held
//! while its first request runs, then holds that request's answer for 24 hours, sealed
//! under the tenant's key (an answer may hold a one-time secret, e.g. a new token). The HTTP
//! layer hashes the requests and replays answers; this is where keys are kept.

use std::time::Duration;

use akta_domain::{Principal, TenantId};

use crate::{Core, CoreError};

pub type IdempotencyState = akta_db::IdempotencyState<Vec<u8>>;
pub type StoredResponse = akta_db::StoredResponse<Vec<u8>>;

/// A request still running after this long is taken for abandoned (its node died): its key
/// is free again. Longer than any upload may take.
const ABANDONED_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Whose key it is: the token or the person (ids unique across tenants), in which tenant.
/// The operator acts in no tenant and has no keys.
fn owner(who: &Principal) -> Option<(TenantId, String)> {
    match who {
        Principal::Operator { .. } => None,
        Principal::Tenant {
            tenant_id,
            token_id,
            ..
        } => Some((*tenant_id, format!("token:{token_id}"))),
        Principal::User {
            tenant_id, user_id, ..
        } => Some((*tenant_id, format!("user:{user_id}"))),
    }
}

impl Core {
    /// Whether `who` can hold Idempotency-Keys (tenant tokens and people can).
    pub fn has_idempotency_keys(who: &Principal) -> bool {
        owner(who).is_some()
    }

    /// Takes `key` for a request of `who`, or tells that it runs or what it answered.
    pub async fn idempotency_begin(
        &self,
        who: &Principal,
        key: &str,
    ) -> Result<IdempotencyState, CoreError> {
        let (tenant, principal) = owner(who).ok_or(CoreError::NotFound)?;
        let mut tx = self.db.tenant_tx(tenant, &who.actor()).await?;
        let state = match tx
            .idempotency_begin(&principal, key, ABANDONED_AFTER)
            .await?
        {
            akta_db::IdempotencyState::Fresh => IdempotencyState::Fresh,
            akta_db::IdempotencyState::InFlight => IdempotencyState::InFlight,
            akta_db::IdempotencyState::Done(stored) => {
                let body = self
                    .keyring()?
                    .open_secret(&mut tx, &stored.body)
                    .await
                    .map_err(|_| {
                        // Sealed under a tenant key version retired since (a key rotation).
                        CoreError::Conflict(
                            "the first answer to this Idempotency-Key can no longer be read".into(),
                        )
                    })?;
                IdempotencyState::Done(StoredResponse {
                    request_hash: stored.request_hash,
                    status: stored.status,
                    headers: stored.headers,
                    body: body.into_bytes(),
                })
            }
        };
        tx.commit().await?;
        Ok(state)
    }

    /// Keeps the answer of the request that held `key`. Answers are JSON (UTF-8); another
    /// body frees the key instead.
    pub async fn idempotency_finish(
        &self,
        who: &Principal,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), CoreError> {
        let (tenant, principal) = owner(who).ok_or(CoreError::NotFound)?;
        let mut tx = self.db.tenant_tx(tenant, &who.actor()).await?;
        match String::from_utf8(response.body) {
            Ok(text) => {
                let sealed = self.keyring()?.seal_secret(&mut tx, &text).await?;
                let stored = akta_db::StoredResponse {
                    request_hash: response.request_hash,
                    status: response.status,
                    headers: response.headers,
                    body: sealed,
                };
                tx.idempotency_finish(&principal, key, &stored).await?;
            }
            Err(_) => tx.idempotency_release(&principal, key).await?,
        }
        tx.commit().await?;
        Ok(())
    }

    /// Frees `key` after a request that changed nothing, so a retry runs anew.
    pub async fn idempotency_release(&self, who: &Principal, key: &str) -> Result<(), CoreError> {
        let (tenant, principal) = owner(who).ok_or(CoreError::NotFound)?;
        let mut tx = self.db.tenant_tx(tenant, &who.actor()).await?;
        tx.idempotency_release(&principal, key).await?;
        tx.commit().await?;
        Ok(())
    }
}
