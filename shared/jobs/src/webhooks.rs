//! Webhook delivery: workers claim due rows of the webhook outbox (`FOR UPDATE SKIP LOCKED`,
//! a lease), POST them signed per the Standard Webhooks spec, and retry failures with
//! exponential backoff until the delivery succeeds or its attempts run out. The target rule
//! (`akta_domain::webhooks`) is applied again before every attempt, and the connection goes
//! only to the addresses just checked, so a host name re-pointed inside is not followed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use akta_db::{AttemptOutcome, ClaimedDelivery, Db};
use akta_domain::webhooks::{checked_addresses, WebhookUrl};
use akta_domain::TenantId;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use uuid::Uuid;

use crate::{JobContext, JobError};

/// The waits between attempts, in units of [`WebhookSettings::retry_base`]: with 5 s, that
/// is 5 s, 30 s, 2 min, 10 min, 30 min, 2 h, 4 h; the eighth failure is final.
const BACKOFF: [u32; 7] = [1, 6, 24, 120, 360, 1440, 2880];

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often to look for due deliveries without a notification (retries come due).
    pub poll: Duration,
    /// The first wait before a retry; later waits grow from it (see [`BACKOFF`]).
    pub retry_base: Duration,
    /// Per attempt, connecting and answering together.
    pub timeout: Duration,
    /// Deliver to private, loopback and link-local addresses too (see `CoreSettings`).
    pub allow_private: bool,
    /// Deliveries sent at once by this node.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            retry_base: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            allow_private: false,
            concurrency: 8,
        }
    }
}

impl WebhookSettings {
    /// Attempts a delivery gets before it is `failed`.
    pub fn max_attempts(&self) -> i32 {
        BACKOFF.len() as i32 + 1
    }

    /// The wait after failed attempt number `attempt` (1-based); `None`: give up.
    fn retry_in(&self, attempt: i32) -> Option<Duration> {
        let factor = BACKOFF.get(usize::try_from(attempt).ok()?.checked_sub(1)?)?;
        Some(self.retry_base * *factor)
    }
}

/// `webhook-signature` value: `v1,` and the base64 HMAC-SHA256, keyed with the bytes of the
/// `whsec_` secret, of `{id}.{timestamp}.{body}`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, JobError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(encoded)
        .map_err(|e| JobError::Internal(format!("webhook secret: {e}")))?;
    let openssl_err = |e: openssl::error::ErrorStack| JobError::Internal(e.to_string());
    let key = PKey::hmac(&key).map_err(openssl_err)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(openssl_err)?;
    signer
        .update(format!("{id}.{timestamp}.{body}").as_bytes())
        .map_err(openssl_err)?;
    Ok(format!(
        "v1,{}",
        b64.encode(signer.sign_to_vec().map_err(openssl_err)?)
    ))
}

/// Sends due deliveries until stopped: woken by new outbox rows, polling for retries.
pub async fn run(ctx: JobContext, settings: WebhookSettings) {
    let mut wakeup = ctx.db.wakeup(akta_db::wake::WEBHOOKS);
    wakeup.listen().await;
    loop {
        match run_once(&ctx, &settings).await {
            // More may be due at once: look again before sleeping.
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery round failed"),
        }
        wakeup.wait(settings.poll).await;
    }
}

/// One round: up to `concurrency` due deliveries, sent at once. Returns how many were sent.
pub async fn run_once(ctx: &JobContext, settings: &WebhookSettings) -> Result<usize, JobError> {
    let due = ctx
        .db
        .due_webhook_deliveries(i32::try_from(settings.concurrency.max(1)).unwrap_or(8))
        .await?;
    let sends = due
        .into_iter()
        .map(|(id, tenant)| deliver(ctx, settings, id, tenant));
    let mut sent = 0;
    for outcome in futures_util::future::join_all(sends).await {
        match outcome {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery failed"),
        }
    }
    Ok(sent)
}

/// Claims, sends and records delivery `id`; `false` if another worker had it.
async fn deliver(
    ctx: &JobContext,
    settings: &WebhookSettings,
    id: Uuid,
    tenant: TenantId,
) -> Result<bool, JobError> {
    let lease = settings.timeout + Duration::from_secs(60);
    let mut tx = ctx.db.system_tx(tenant, "system:webhooks").await?;
    let Some(delivery) = tx.claim_webhook_delivery(id, lease).await? else {
        return Ok(false);
    };
    let secret = ctx
        .keyring
        .open_secret(&mut tx, &delivery.sealed_secret())
        .await;
    tx.commit().await?;
    let result = match secret {
        Ok(secret) => send(&delivery, &secret, settings).await,
        Err(e) => Err((None, format!("the signing secret cannot be opened: {e}"))),
    };
    let outcome = match &result {
        Ok(status) => AttemptOutcome::Delivered { status: *status },
        Err((status, error)) => AttemptOutcome::Failed {
            status: *status,
            error,
            retry_in: settings.retry_in(delivery.attempts),
        },
    };
    if let Err((status, error)) = &result {
        tracing::info!(delivery = %id, %tenant, ?status, %error, attempt = delivery.attempts,
            "webhook delivery attempt failed");
    }
    let mut tx = ctx.db.system_tx(tenant, "system:webhooks").await?;
    tx.finish_webhook_delivery(&delivery, outcome).await?;
    tx.commit().await?;
    Ok(true)
}

/// One attempt: the status of a 2xx answer, or the status (if any) and what went wrong.
async fn send(
    delivery: &ClaimedDelivery,
    secret: &str,
    settings: &WebhookSettings,
) -> Result<u16, (Option<u16>, String)> {
    let refused = |e: akta_domain::DomainError| (None, e.message);
    let url = WebhookUrl::parse(&delivery.url, settings.allow_private).map_err(refused)?;
    let host = url.host();
    let addrs = checked_addresses(
        tokio::net::lookup_host((host.as_str(), url.port())).await,
        settings.allow_private,
    )
    .map_err(refused)?;
    let client = reqwest::Client::builder()
        // A redirect could lead anywhere, inside too: the endpoint must answer itself.
        .redirect(reqwest::redirect::Policy::none())
        // Straight to the checked addresses: a proxy from the environment would connect
        // wherever the name points by then.
        .no_proxy()
        .timeout(settings.timeout)
        .resolve_to_addrs(&host, &addrs)
        .user_agent(concat!("Akta-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| (None, format!("http client: {e}")))?;
    let message_id = format!("msg_{}", delivery.id.simple());
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let signature = signature(secret, &message_id, timestamp, &delivery.payload)
        .map_err(|e| (None, e.to_string()))?;
    let response = client
        .post(url.as_str())
        .header("content-type", "application/json")
        .header("webhook-id", &message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|e| (None, describe(&e)))?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err((
            Some(status.as_u16()),
            format!("the endpoint answered {status}"),
        ))
    }
}

/// A transport error with its causes, for the delivery log.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Forgets expired Idempotency-Keys of every tenant, hourly.
pub async fn prune_idempotency_keys(db: Db) {
    let mut ticker = tokio::time::interval(Duration::from_secs(3600));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match db.prune_idempotency_keys().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "forgot expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference implementation's tests.
    #[test]
    fn signature_follows_standard_webhooks() {
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_grows_and_ends() {
        let s = WebhookSettings::default();
        assert_eq!(s.retry_in(1), Some(Duration::from_secs(5)));
        assert_eq!(s.retry_in(2), Some(Duration::from_secs(30)));
        assert_eq!(s.retry_in(3), Some(Duration::from_secs(120)));
        assert_eq!(s.retry_in(s.max_attempts()), None);
    }
}
