//! Idempotency-Key on creating POSTs: a key is the caller's (principal's), held while its
//! first request runs, then holds that request's answer for 24 hours. The HTTP layer hashes
//! the requests and replays answers; this is where keys are kept.

use std::time::Duration;

use akta_domain::Principal;

use crate::{Core, CoreError};

pub use akta_db::{IdempotencyState, StoredResponse};

/// A request still running after this long is taken for abandoned (its node died): its key
/// is free again. Longer than any upload may take.
const ABANDONED_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Who owns a key: the token, the person or the operator token (ids unique across tenants).
fn owner(who: &Principal) -> (Option<akta_domain::TenantId>, String) {
    let tenant = who.tenant_role().map(|(t, _)| t);
    let name = match who {
        Principal::Operator { token_id, .. } => format!("operator:{token_id}"),
        Principal::Tenant { token_id, .. } => format!("token:{token_id}"),
        Principal::User { user_id, .. } => format!("user:{user_id}"),
    };
    (tenant, name)
}

impl Core {
    /// Takes `key` for a request of `who`, or tells that it runs or what it answered.
    pub async fn idempotency_begin(
        &self,
        who: &Principal,
        key: &str,
    ) -> Result<IdempotencyState, CoreError> {
        let (tenant, principal) = owner(who);
        Ok(self
            .db
            .idempotency_begin(tenant, &principal, key, ABANDONED_AFTER)
            .await?)
    }

    /// Keeps the answer of the request that held `key`.
    pub async fn idempotency_finish(
        &self,
        who: &Principal,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), CoreError> {
        let (tenant, principal) = owner(who);
        Ok(self
            .db
            .idempotency_finish(tenant, &principal, key, response)
            .await?)
    }

    /// Frees `key` after a request that changed nothing, so a retry runs anew.
    pub async fn idempotency_release(&self, who: &Principal, key: &str) -> Result<(), CoreError> {
        let (tenant, principal) = owner(who);
        Ok(self.db.idempotency_release(tenant, &principal, key).await?)
    }
}
