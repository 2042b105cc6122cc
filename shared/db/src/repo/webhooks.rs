//! Webhook endpoints and the webhook outbox: one delivery row per wanted event and endpoint,
//! written by [`TenantTx::record`] in the transaction of the change, claimed by workers with
//! `FOR UPDATE SKIP LOCKED` and a lease like the extraction jobs.

use serde::Serialize;
use uuid::Uuid;

use crate::events::DomainEvent;
use crate::repo::oidc::SealedSecret;
use crate::{Db, DbError, TenantTx};
use akta_domain::TenantId;

/// A registered endpoint as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// One delivery and its attempts, for the endpoint's delivery log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub attempt_log: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<time::OffsetDateTime>,
}

/// A delivery a worker holds until its lease ends, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_type: String,
    pub payload: String,
    /// Also the lease token (see `finish_webhook_delivery`).
    pub attempts: i32,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub secret_len: i64,
    pub secret_wrapped_key: Vec<u8>,
    pub secret_key_version: i32,
}

impl ClaimedDelivery {
    pub fn sealed_secret(&self) -> SealedSecret {
        SealedSecret {
            ciphertext: self.secret_sealed.clone(),
            plain_len: self.secret_len,
            wrapped_key: self.secret_wrapped_key.clone(),
            key_version: self.secret_key_version,
        }
    }
}

/// How an attempt ended.
pub enum AttemptOutcome<'a> {
    Delivered {
        status: u16,
    },
    /// Try again at `retry_at`, or give up (`None`).
    Failed {
        status: Option<u16>,
        error: &'a str,
        retry_in: Option<std::time::Duration>,
    },
}

const ENDPOINT_COLUMNS: &str = "id, url, events, description, created_by, created_at";

impl TenantTx {
    pub async fn insert_webhook_endpoint(
        &mut self,
        url: &str,
        events: &[String],
        description: &str,
        secret: &SealedSecret,
    ) -> Result<WebhookEndpoint, DbError> {
        let endpoint = sqlx::query_as::<_, WebhookEndpoint>(&format!(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, events, description, secret_sealed,
                                            secret_len, secret_wrapped_key, secret_key_version,
                                            created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(url)
        .bind(events)
        .bind(description)
        .bind(&secret.ciphertext)
        .bind(secret.plain_len)
        .bind(&secret.wrapped_key)
        .bind(secret.key_version)
        .bind(&self.actor)
        .fetch_one(&mut *self.tx)
        .await?;
        self.emit::<(), _>(
            "webhook.created",
            "webhook",
            endpoint.id,
            None,
            None,
            Some(&endpoint),
        )
        .await?;
        Ok(endpoint)
    }

    pub async fn webhook_endpoints(&mut self) -> Result<Vec<WebhookEndpoint>, DbError> {
        Ok(sqlx::query_as::<_, WebhookEndpoint>(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"
        ))
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn webhook_endpoint(&mut self, id: Uuid) -> Result<WebhookEndpoint, DbError> {
        Ok(sqlx::query_as::<_, WebhookEndpoint>(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Removes the endpoint with its delivery log; pending deliveries are dropped.
    pub async fn delete_webhook_endpoint(&mut self, id: Uuid) -> Result<(), DbError> {
        let before = self.webhook_endpoint(id).await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        self.emit::<_, ()>("webhook.deleted", "webhook", id, None, Some(&before), None)
            .await
    }

    /// The newest deliveries of an endpoint, at most `limit`.
    pub async fn webhook_deliveries(
        &mut self,
        endpoint: Uuid,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, DbError> {
        self.webhook_endpoint(endpoint).await?;
        Ok(sqlx::query_as::<_, WebhookDelivery>(
            "SELECT id, event_type, state, attempts, last_status, last_error, attempt_log,
                    created_at, updated_at, delivered_at,
                    CASE WHEN state = 'pending' THEN run_after END AS next_attempt_at
               FROM webhook_deliveries WHERE endpoint_id = $1
              ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(endpoint)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// The test-send: one `webhook.test` delivery to this endpoint only.
    pub async fn enqueue_webhook_test(&mut self, endpoint: Uuid) -> Result<Uuid, DbError> {
        self.webhook_endpoint(endpoint).await?;
        let id = Uuid::now_v7();
        let payload = serde_json::json!({
            "type": "webhook.test",
            "timestamp": now_rfc3339(),
            "data": {"webhook_id": endpoint},
        });
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, payload)
             VALUES ($1, $2, $3, 'webhook.test', $4)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(endpoint)
        .bind(payload.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(id)
    }

    /// The webhook outbox rows of `event`: one per endpoint of the tenant that wants its
    /// type, in this transaction. Events of no public type write nothing.
    pub(crate) async fn enqueue_webhooks(&mut self, event: &DomainEvent) -> Result<(), DbError> {
        match webhook_message(event) {
            Some((public, payload)) => self.insert_webhook_rows(&[public], &[payload]).await,
            None => Ok(()),
        }
    }

    /// Outbox rows for many messages (`types[i]`, `payloads[i]`) in one statement.
    pub(crate) async fn insert_webhook_rows(
        &mut self,
        types: &[&str],
        payloads: &[String],
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, payload)
             SELECT gen_random_uuid(), $1, e.id, m.type, m.payload
               FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m(type, payload, n)
               JOIN webhook_endpoints e
                 ON e.tenant_id = $1 AND (m.type = ANY(e.events) OR '*' = ANY(e.events))
              ORDER BY m.n",
        )
        .bind(self.tenant.0)
        .bind(types)
        .bind(payloads)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Claims delivery `id` if it is still due and nobody else holds it, with its endpoint's
    /// address and sealed secret. Commit right after: the lease then covers the sending.
    pub async fn claim_webhook_delivery(
        &mut self,
        id: Uuid,
        lease: std::time::Duration,
    ) -> Result<Option<ClaimedDelivery>, DbError> {
        Ok(sqlx::query_as::<_, ClaimedDelivery>(
            "WITH claimed AS (
                UPDATE webhook_deliveries
                   SET state = 'running', attempts = attempts + 1,
                       locked_until = now() + make_interval(secs => $2), updated_at = now()
                 WHERE id = (SELECT id FROM webhook_deliveries
                              WHERE id = $1
                                AND ((state = 'pending' AND run_after <= now())
                                     OR (state = 'running' AND locked_until < now()))
                              FOR UPDATE SKIP LOCKED)
                RETURNING id, endpoint_id, event_type, payload, attempts)
             SELECT c.id, c.endpoint_id, c.event_type, c.payload, c.attempts, e.url,
                    e.secret_sealed, e.secret_len, e.secret_wrapped_key, e.secret_key_version
               FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id",
        )
        .bind(id)
        .bind(lease.as_secs_f64())
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    /// Records an attempt; `false` if the lease was lost meanwhile (another worker retried).
    pub async fn finish_webhook_delivery(
        &mut self,
        delivery: &ClaimedDelivery,
        outcome: AttemptOutcome<'_>,
    ) -> Result<bool, DbError> {
        let (state, status, error, retry_secs) = match outcome {
            AttemptOutcome::Delivered { status } => ("delivered", Some(status), None, None),
            AttemptOutcome::Failed {
                status,
                error,
                retry_in: Some(after),
            } => ("pending", status, Some(error), Some(after.as_secs_f64())),
            AttemptOutcome::Failed {
                status,
                error,
                retry_in: None,
            } => ("failed", status, Some(error), None),
        };
        let entry = serde_json::json!([{
            "attempt": delivery.attempts,
            "at": now_rfc3339(),
            "status": status,
            "error": error,
        }]);
        let done = sqlx::query(
            "UPDATE webhook_deliveries
                SET state = $3, last_status = $4, last_error = $5,
                    attempt_log = attempt_log || $6::jsonb, locked_until = NULL,
                    run_after = CASE WHEN $7::float8 IS NULL THEN run_after
                                     ELSE now() + make_interval(secs => $7) END,
                    delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
                    updated_at = now()
              WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(delivery.id)
        .bind(delivery.attempts)
        .bind(state)
        .bind(status.map(i32::from))
        .bind(error)
        .bind(entry)
        .bind(retry_secs)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Endpoints whose secret an older tenant key wraps (for key rotation).
    pub async fn webhook_secrets_below(
        &mut self,
        version: i32,
    ) -> Result<Vec<(Uuid, SealedSecret)>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            secret_sealed: Vec<u8>,
            secret_len: i64,
            secret_wrapped_key: Vec<u8>,
            secret_key_version: i32,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, secret_sealed, secret_len, secret_wrapped_key, secret_key_version
               FROM webhook_endpoints WHERE secret_key_version < $1",
        )
        .bind(version)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    SealedSecret {
                        ciphertext: r.secret_sealed,
                        plain_len: r.secret_len,
                        wrapped_key: r.secret_wrapped_key,
                        key_version: r.secret_key_version,
                    },
                )
            })
            .collect())
    }

    pub async fn rewrap_webhook_secret(
        &mut self,
        id: Uuid,
        wrapped_key: &[u8],
        version: i32,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE webhook_endpoints SET secret_wrapped_key = $2, secret_key_version = $3
              WHERE id = $1",
        )
        .bind(id)
        .bind(wrapped_key)
        .bind(version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

/// The public type and the JSON body of `event`'s webhook message, if it has a public type.
pub(crate) fn webhook_message(event: &DomainEvent) -> Option<(&'static str, String)> {
    let public = akta_domain::webhooks::public_event(&event.kind)?;
    let mut data = serde_json::json!({
        "id": event.object_id,
        "object_type": event.object_type,
    });
    if let Some(file) = event.file_id {
        data["file_id"] = file.to_string().into();
    }
    if let Some(version) = event.version_id {
        data["version_id"] = version.to_string().into();
    }
    if event.object_type == "document" {
        data["document_id"] = event.object_id.to_string().into();
    }
    let payload = serde_json::json!({
        "type": public,
        "timestamp": now_rfc3339(),
        "data": data,
    });
    Some((public, payload.to_string()))
}

impl Db {
    /// Ids of due deliveries across tenants: the worker's work list (claimed per tenant).
    pub async fn due_webhook_deliveries(
        &self,
        limit: i32,
    ) -> Result<Vec<(Uuid, TenantId)>, DbError> {
        let rows: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT id, tenant_id FROM akta_due_webhook_deliveries($1)")
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(d, t)| (d, TenantId(t))).collect())
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
