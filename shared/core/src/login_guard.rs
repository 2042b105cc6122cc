//! Bounds on password logins: Argon2id needs about 19 MiB per hash, so at most one hash per
//! core runs at once (the rest wait), and each client address and each tenant name gets a
//! bounded number of attempts per minute. Both are counted in this process; replicas each
//! keep their own count (see the README's limits).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::CoreError;

const WINDOW: Duration = Duration::from_secs(60);

/// Permits for running password hashes: one per core.
pub(crate) fn hashing() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cores.clamp(1, 8))
    })
}

/// Attempts per client address and per tenant name in the current minute.
#[derive(Default)]
pub(crate) struct LoginGuard {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    by_client: HashMap<IpAddr, u32>,
    by_tenant: HashMap<String, u32>,
}

impl LoginGuard {
    /// Counts one attempt; refuses it (429) when the client or the tenant name has used up
    /// its minute. Counted before any password is hashed, so refused attempts cost nothing.
    pub(crate) fn admit(
        &self,
        client: Option<IpAddr>,
        tenant: &str,
        per_client: u32,
        per_tenant: u32,
    ) -> Result<(), CoreError> {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let started = *w.started.get_or_insert(now);
        if now.duration_since(started) >= WINDOW {
            *w = Window {
                started: Some(now),
                ..Window::default()
            };
        }
        let retry_after = WINDOW
            .saturating_sub(now.duration_since(w.started.unwrap_or(now)))
            .as_secs()
            .max(1);
        // A tenant name is case-insensitive; unknown names count too (one bucket each, and
        // the whole map starts over every minute).
        let tenant = tenant.trim().to_lowercase();
        let tenant_count = w.by_tenant.get(&tenant).copied().unwrap_or(0);
        let client_count = client.map_or(0, |c| w.by_client.get(&c).copied().unwrap_or(0));
        if tenant_count >= per_tenant || client_count >= per_client {
            return Err(CoreError::RateLimited { retry_after });
        }
        *w.by_tenant.entry(tenant).or_default() += 1;
        if let Some(c) = client {
            *w.by_client.entry(c).or_default() += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_bounded_per_client_and_per_tenant() {
        let guard = LoginGuard::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            guard
                .admit(Some(a), "witten", 3, 5)
                .expect("within the client's limit");
        }
        assert!(matches!(
            guard.admit(Some(a), "herdecke", 3, 5),
            Err(CoreError::RateLimited { .. })
        ));
        // Another client, the same tenant: the tenant's budget (5) runs out after two more.
        guard
            .admit(Some(b), "Witten", 3, 5)
            .expect("tenant budget left");
        guard
            .admit(Some(b), "witten", 3, 5)
            .expect("tenant budget left");
        assert!(matches!(
            guard.admit(Some(b), "witten", 3, 5),
            Err(CoreError::RateLimited { .. })
        ));
        guard
            .admit(Some(b), "herdecke", 3, 5)
            .expect("another tenant");
    }
}
