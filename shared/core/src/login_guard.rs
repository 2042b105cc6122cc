//! Limits on requests and password logins. Argon2id needs about 19 MiB per hash, so at most
//! one hash per core runs at once (the rest wait). Attempts are counted per minute in
//! PostgreSQL (`rate_counters`), so the limits hold for the whole installation however many
//! replicas serve it: every replica already shares that database, and one upsert per request
//! is cheap next to the request's own queries. Buckets:
//! - `req:<tenant id>`: a tenant's requests (REST, and its password logins);
//! - `login-client:<address>` and `login-tenant:<name as typed>`: password login attempts,
//!   counted before any password is hashed, so refused attempts cost nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use akta_db::RateHit;
use akta_domain::{Principal, TenantId};
use tokio::sync::Semaphore;

use crate::{Core, CoreError};

/// How long the per-tenant limits set by the operator are cached by each process.
const REFRESH: Duration = Duration::from_secs(15);

/// Permits for running password hashes: one per core.
pub(crate) fn hashing() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cores.clamp(1, 8))
    })
}

/// This process's cache of the operator's per-tenant request limits.
#[derive(Default)]
pub(crate) struct LimitCache {
    state: Mutex<Option<(Instant, HashMap<TenantId, u32>)>>,
}

impl LimitCache {
    fn get(&self) -> Option<HashMap<TenantId, u32>> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .as_ref()
            .filter(|(loaded, _)| loaded.elapsed() < REFRESH)
            .map(|(_, limits)| limits.clone())
    }

    fn put(&self, limits: HashMap<TenantId, u32>) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), limits));
    }

    /// A changed limit applies at once in this process (others within [`REFRESH`]).
    pub(crate) fn invalidate(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// 429 if any bucket went over its limit (limits in the order of the buckets).
/// What a request counts as in the tenant's usage.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestUsage {
    /// A request of the REST API (not a web page).
    pub api: bool,
    pub search: bool,
}

fn judge(hits: &[RateHit], limits: &[(String, u32)]) -> Result<(), CoreError> {
    let over = hits.iter().filter_map(|hit| {
        let (_, limit) = limits.iter().find(|(bucket, _)| *bucket == hit.bucket)?;
        (i64::from(hit.hits) > i64::from(*limit)).then_some(hit.reset_secs)
    });
    match over.max() {
        Some(reset) => Err(CoreError::RateLimited {
            retry_after: u64::try_from(reset).unwrap_or(1).max(1),
        }),
        None => Ok(()),
    }
}

impl Core {
    /// The requests per minute `tenant` may make: its own limit or the default.
    async fn request_limit(&self, tenant: TenantId) -> Result<u32, CoreError> {
        let limits = match self.limits.get() {
            Some(limits) => limits,
            None => {
                let limits: HashMap<TenantId, u32> = self
                    .db
                    .request_limits()
                    .await?
                    .into_iter()
                    .map(|(t, n)| (t, u32::try_from(n).unwrap_or(u32::MAX)))
                    .collect();
                self.limits.put(limits.clone());
                limits
            }
        };
        Ok(limits
            .get(&tenant)
            .copied()
            .unwrap_or(self.settings.requests_per_minute))
    }

    /// Counts one request of `tenant`; 429 (with the seconds until the minute ends) beyond
    /// its limit, across all replicas.
    pub async fn admit_request(&self, tenant: TenantId) -> Result<(), CoreError> {
        self.admit_counted(tenant, &[]).await
    }

    /// Counts one request of `who` like [`Core::admit_request`], and in the same round trip
    /// its usage for cost sharing (rolled up per month when the counters are pruned): a REST
    /// request, a search, the person active this month.
    pub async fn admit_usage(&self, who: &Principal, usage: RequestUsage) -> Result<(), CoreError> {
        let Some((tenant, _)) = who.tenant_role() else {
            return Ok(());
        };
        let mut buckets = Vec::with_capacity(3);
        if usage.api {
            buckets.push(format!("api:{}", tenant.0));
        }
        if usage.search {
            buckets.push(format!("search:{}", tenant.0));
        }
        if let Principal::User { user_id, .. } = who {
            buckets.push(format!("user:{}:{user_id}", tenant.0));
        }
        self.admit_counted(tenant, &buckets).await
    }

    async fn admit_counted(&self, tenant: TenantId, usage: &[String]) -> Result<(), CoreError> {
        let limit = self.request_limit(tenant).await?;
        let bucket = format!("req:{}", tenant.0);
        let mut buckets = vec![bucket.clone()];
        buckets.extend_from_slice(usage);
        let hits = self.db.rate_hit(&buckets).await?;
        judge(&hits, &[(bucket, limit)])
    }

    /// Counts one password login attempt of `client` for the tenant name as typed.
    pub(crate) async fn admit_login(
        &self,
        client: Option<IpAddr>,
        tenant: &str,
    ) -> Result<(), CoreError> {
        // A tenant name is case-insensitive; unknown names count too, one bucket each.
        let mut limits = vec![(
            format!("login-tenant:{}", tenant.trim().to_lowercase()),
            self.settings.logins_per_tenant_minute,
        )];
        if let Some(client) = client {
            limits.push((
                format!("login-client:{client}"),
                self.settings.logins_per_client_minute,
            ));
        }
        let buckets: Vec<String> = limits.iter().map(|(b, _)| b.clone()).collect();
        let hits = self.db.rate_hit(&buckets).await?;
        judge(&hits, &limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every permit taken, a password check waits instead of hashing: at most one hash
    /// per core runs, however many logins arrive.
    #[tokio::test]
    async fn password_hashing_waits_for_a_permit() {
        let all = hashing().available_permits();
        let held = hashing()
            .acquire_many(u32::try_from(all).expect("permits"))
            .await
            .expect("permits");
        let mut check = tokio::spawn(crate::people::password_matches(
            "falsch falsch".into(),
            None,
        ));
        // A hash takes well under a second (argon2 is optimised even in test builds): one
        // that has not finished after a second is waiting for its permit.
        let waited = tokio::time::timeout(Duration::from_secs(1), &mut check).await;
        assert!(waited.is_err(), "hashed without a permit");
        drop(held);
        let matched = check.await.expect("task").expect("hash");
        assert!(!matched, "no stored hash never matches");
    }

    fn hit(bucket: &str, hits: i32, reset_secs: i32) -> RateHit {
        RateHit {
            bucket: bucket.into(),
            hits,
            reset_secs,
        }
    }

    #[test]
    fn a_bucket_over_its_limit_refuses_with_the_time_until_its_minute_ends() {
        let limits = [("a".to_owned(), 3), ("b".to_owned(), 5)];
        assert!(judge(&[hit("a", 3, 20), hit("b", 5, 20)], &limits).is_ok());
        assert!(matches!(
            judge(&[hit("a", 4, 20), hit("b", 1, 20)], &limits),
            Err(CoreError::RateLimited { retry_after: 20 })
        ));
        assert!(matches!(
            judge(&[hit("a", 1, 0), hit("b", 6, 0)], &limits),
            Err(CoreError::RateLimited { retry_after: 1 })
        ));
    }
}
