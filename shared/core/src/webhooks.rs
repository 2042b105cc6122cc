//! Webhooks for Fachverfahren: tenant admins register endpoints with the event types they
//! want. Deliveries come from the webhook outbox that every domain event of a wanted type
//! feeds (see `akta_db::events`); the jobs send them (`akta_jobs::webhooks`). Where an
//! endpoint may point is the domain's rule (`akta_domain::webhooks`), checked here at
//! registration and by the jobs again at delivery.

use akta_domain::webhooks::{checked_addresses, parse_events, WebhookUrl};
use akta_domain::{optional_text, Principal, Role};
use base64::Engine;
use uuid::Uuid;

use crate::model::{WebhookDelivery, WebhookEndpoint};
use crate::{Core, CoreError};

/// Random bytes of a signing secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 32;
/// Entries of an endpoint's delivery log shown at once.
const DELIVERY_LOG: i64 = 100;

/// What a tenant admin registers.
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub description: Option<&'a str>,
}

fn require_admin(who: &Principal) -> Result<(), CoreError> {
    match who.tenant_role() {
        Some((_, Role::Admin)) => Ok(()),
        _ => Err(CoreError::Forbidden(
            "webhooks are managed by a tenant admin",
        )),
    }
}

/// A Standard Webhooks secret: `whsec_` and the base64 of random bytes.
fn new_secret() -> Result<String, CoreError> {
    let mut raw = [0u8; SECRET_BYTES];
    openssl::rand::rand_bytes(&mut raw).map_err(|e| CoreError::Internal(e.to_string()))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

impl Core {
    /// Registers an endpoint; the answer holds its signing secret, shown this once (it is
    /// stored sealed under the tenant's key, since the service signs with it).
    pub async fn create_webhook(
        &self,
        who: &Principal,
        new: NewWebhook<'_>,
    ) -> Result<(WebhookEndpoint, String), CoreError> {
        require_admin(who)?;
        let allow_private = self.settings.webhooks_allow_private;
        let url = WebhookUrl::parse(new.url, allow_private)?;
        let events = parse_events(new.events)?;
        let description =
            optional_text("description", new.description.unwrap_or(""), 500)?.unwrap_or_default();
        // Resolved now and again at each delivery: a name may be re-pointed meanwhile.
        checked_addresses(
            tokio::net::lookup_host((url.host(), url.port())).await,
            allow_private,
        )?;
        let secret = new_secret()?;
        let mut tx = self.db.tx_for(who).await?;
        let sealed = self.keyring()?.seal_secret(&mut tx, &secret).await?;
        let endpoint = tx
            .insert_webhook_endpoint(url.as_str(), &events, &description, &sealed)
            .await?;
        tx.commit().await?;
        Ok((endpoint, secret))
    }

    pub async fn webhooks(&self, who: &Principal) -> Result<Vec<WebhookEndpoint>, CoreError> {
        require_admin(who)?;
        self.as_caller(who, async |tx| tx.webhook_endpoints().await)
            .await
    }

    pub async fn webhook(&self, who: &Principal, id: Uuid) -> Result<WebhookEndpoint, CoreError> {
        require_admin(who)?;
        self.as_caller(who, async |tx| tx.webhook_endpoint(id).await)
            .await
    }

    pub async fn delete_webhook(&self, who: &Principal, id: Uuid) -> Result<(), CoreError> {
        require_admin(who)?;
        self.as_caller(who, async |tx| tx.delete_webhook_endpoint(id).await)
            .await
    }

    /// The endpoint's newest deliveries with their attempts.
    pub async fn webhook_deliveries(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<WebhookDelivery>, CoreError> {
        require_admin(who)?;
        self.as_caller(who, async |tx| {
            tx.webhook_deliveries(id, DELIVERY_LOG).await
        })
        .await
    }

    /// The test-send: a `webhook.test` delivery to this endpoint; returns its id.
    pub async fn test_webhook(&self, who: &Principal, id: Uuid) -> Result<Uuid, CoreError> {
        require_admin(who)?;
        self.as_caller(who, async |tx| tx.enqueue_webhook_test(id).await)
            .await
    }
}
