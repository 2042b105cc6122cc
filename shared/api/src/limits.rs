//! Per-tenant request rate limit: a fixed one-minute window per tenant, per server process.
//! Several API replicas each enforce the limit on their share of the traffic, which the README
//! states; a shared limiter would need a store the project does not otherwise have.

use akta_domain::TenantId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// How long per-tenant limits set by the operator are cached.
const REFRESH: Duration = Duration::from_secs(15);

pub struct RateLimiter {
    default_per_minute: u32,
    state: Mutex<LimiterState>,
}

struct LimiterState {
    limits: HashMap<TenantId, u32>,
    loaded: Option<Instant>,
    windows: HashMap<TenantId, (Instant, u32)>,
}

impl RateLimiter {
    pub fn new(default_per_minute: u32) -> Self {
        Self {
            default_per_minute,
            state: Mutex::new(LimiterState {
                limits: HashMap::new(),
                loaded: None,
                windows: HashMap::new(),
            }),
        }
    }

    fn needs_refresh(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.loaded.is_none_or(|t| t.elapsed() > REFRESH))
            .unwrap_or(true)
    }

    /// Reloads the operator's per-tenant limits when the cache is stale.
    pub async fn refresh(&self, core: &akta_core::Core) -> Result<(), ApiError> {
        if !self.needs_refresh() {
            return Ok(());
        }
        let limits = core.request_limits().await?;
        if let Ok(mut s) = self.state.lock() {
            s.limits = limits
                .into_iter()
                .map(|(t, n)| (t, u32::try_from(n).unwrap_or(u32::MAX)))
                .collect();
            s.loaded = Some(Instant::now());
        }
        Ok(())
    }

    /// Drops the cache so a changed limit applies at once (after the operator sets one).
    pub fn invalidate(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.loaded = None;
        }
    }

    /// Counts one request of `tenant`; 429 with the seconds until the window resets.
    pub fn check(&self, tenant: TenantId) -> Result<(), ApiError> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(());
        };
        let limit = s
            .limits
            .get(&tenant)
            .copied()
            .unwrap_or(self.default_per_minute);
        let now = Instant::now();
        let window = s.windows.entry(tenant).or_insert((now, 0));
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        if window.1 >= limit {
            let retry_after = WINDOW
                .saturating_sub(now.duration_since(window.0))
                .as_secs()
                + 1;
            return Err(ApiError::RateLimited { retry_after });
        }
        window.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_over_its_limit_is_refused_and_others_are_not() {
        let limiter = RateLimiter::new(3);
        let a = TenantId(uuid::Uuid::new_v4());
        let b = TenantId(uuid::Uuid::new_v4());
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        assert!(matches!(
            limiter.check(a),
            Err(ApiError::RateLimited { retry_after }) if (1..=61).contains(&retry_after)
        ));
        assert!(limiter.check(b).is_ok());
    }
}
