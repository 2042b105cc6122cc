//! The connection pool and the tenant-scoped transaction ([`TenantTx`]) every tenant query
//! runs in; operator-level tables (tenants, operator tokens) outside of tenants.

use akta_domain::{Principal, TenantId};
use serde::Serialize;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::time::Duration;
use uuid::Uuid;

use crate::DbError;

/// The application's connection pool (role `akta_app`). Deliberately offers no way to run
/// tenant-owned queries outside a [`TenantTx`].
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TenantRow {
    pub id: Uuid,
    pub slug: String,
    #[serde(rename = "name")]
    pub display_name: String,
    pub status: String,
    pub reference_format: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OperatorTokenRow {
    pub id: Uuid,
    pub name: String,
}

impl Db {
    pub async fn connect(app_url: &str, max_connections: u32) -> Result<Db, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(app_url)
            .await?;
        Ok(Db { pool })
    }

    /// Applies migrations with the owner's connection (the app role may not change the schema).
    pub async fn migrate(owner_url: &str) -> Result<(), DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(owner_url)
            .await?;
        crate::MIGRATOR.run(&pool).await?;
        pool.close().await;
        Ok(())
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction that sees and writes only `tenant`'s rows, as no particular
    /// person: confidential Akten stay hidden. `actor` is recorded in the audit events this
    /// transaction writes.
    pub async fn tenant_tx(&self, tenant: TenantId, actor: &str) -> Result<TenantTx, DbError> {
        self.begin(tenant, actor, Subject::Nobody, &[]).await
    }

    /// A tenant transaction for the system's own housekeeping (orphan sweeps, key rotation)
    /// that must see every row of the tenant, confidential ones included.
    pub async fn system_tx(&self, tenant: TenantId, actor: &str) -> Result<TenantTx, DbError> {
        self.begin(
            tenant,
            actor,
            Subject::System,
            &[("app.system", "on".into())],
        )
        .await
    }

    /// A tenant transaction for an authenticated principal: RLS then also applies the
    /// principal's plan-unit scope and the access lists of confidential Akten.
    pub async fn tx_for(&self, principal: &Principal) -> Result<TenantTx, DbError> {
        let actor = principal.actor();
        match principal {
            Principal::Operator { .. } => Err(DbError::NotFound),
            Principal::Tenant {
                tenant_id,
                token_id,
                plan_scope,
                ..
            } => {
                let mut settings = vec![("app.token_id", token_id.to_string())];
                if let Some(root) = plan_scope {
                    settings.push(("app.plan_scope", root.to_string()));
                }
                self.begin(*tenant_id, &actor, Subject::Token(*token_id), &settings)
                    .await
            }
            Principal::User {
                tenant_id,
                user_id,
                org_unit_id,
                plan_scope,
                ..
            } => {
                let mut settings = vec![("app.user_id", user_id.to_string())];
                if let Some(org) = org_unit_id {
                    settings.push(("app.org_unit_id", org.to_string()));
                }
                if let Some(root) = plan_scope {
                    settings.push(("app.plan_scope", root.to_string()));
                }
                self.begin(*tenant_id, &actor, Subject::User(*user_id), &settings)
                    .await
            }
        }
    }

    /// A transaction of the owner tenant that reads for an Amtshilfe share: the share wall
    /// (RLS, `app.share_file`/`app.share_case`) narrows the owner's records to the shared
    /// Akte or Vorgang and refuses every write but audit entries. Inside it, the owner's
    /// access lists do not apply: sharing the Akte was the owner's decision.
    pub async fn share_tx(
        &self,
        owner: TenantId,
        file: Uuid,
        case: Option<Uuid>,
        actor: &str,
    ) -> Result<TenantTx, DbError> {
        let mut settings = vec![
            ("app.system", "on".to_owned()),
            ("app.share_file", file.to_string()),
        ];
        if let Some(case) = case {
            settings.push(("app.share_case", case.to_string()));
        }
        self.begin(owner, actor, Subject::System, &settings).await
    }

    async fn begin(
        &self,
        tenant: TenantId,
        actor: &str,
        subject: Subject,
        settings: &[(&str, String)],
    ) -> Result<TenantTx, DbError> {
        let mut tx = self.pool.begin().await?;
        // All settings in one round trip: every request begins a transaction like this.
        let mut names = vec!["app.tenant_id"];
        let mut values = vec![tenant.0.to_string()];
        for (name, value) in settings {
            names.push(name);
            values.push(value.clone());
        }
        sqlx::query("SELECT set_config(n, v, true) FROM unnest($1::text[], $2::text[]) AS s(n, v)")
            .bind(&names)
            .bind(&values)
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx {
            tx,
            tenant,
            actor: actor.to_owned(),
            subject,
            provenance: None,
            pending_index: Vec::new(),
            batch: None,
        })
    }

    // --- operator registry: tenants and operator tokens (no tenant content) ---

    pub async fn insert_tenant(
        &self,
        slug: &str,
        display_name: &str,
    ) -> Result<TenantRow, DbError> {
        Ok(sqlx::query_as::<_, TenantRow>(
            "INSERT INTO tenants (id, slug, display_name) VALUES ($1, $2, $3)
             RETURNING id, slug, display_name, status, reference_format, created_at",
        )
        .bind(Uuid::now_v7())
        .bind(slug)
        .bind(display_name)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Suspends or resumes a tenant; a deleted tenant stays deleted.
    pub async fn set_tenant_status(
        &self,
        id: TenantId,
        status: &str,
    ) -> Result<TenantRow, DbError> {
        let row = sqlx::query_as::<_, TenantRow>(
            "UPDATE tenants SET status = $2 WHERE id = $1 AND status <> 'deleted'
             RETURNING id, slug, display_name, status, reference_format, created_at",
        )
        .bind(id.0)
        .bind(status)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| DbError::Conflict("the tenant is deleted".into()))
    }

    pub async fn list_tenants(&self) -> Result<Vec<TenantRow>, DbError> {
        Ok(sqlx::query_as::<_, TenantRow>(
            "SELECT id, slug, display_name, status, reference_format, created_at
               FROM tenants ORDER BY slug",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<TenantRow, DbError> {
        Ok(sqlx::query_as::<_, TenantRow>(
            "SELECT id, slug, display_name, status, reference_format, created_at
               FROM tenants WHERE slug = $1",
        )
        .bind(slug)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn tenant_by_id(&self, id: TenantId) -> Result<TenantRow, DbError> {
        Ok(sqlx::query_as::<_, TenantRow>(
            "SELECT id, slug, display_name, status, reference_format, created_at
               FROM tenants WHERE id = $1",
        )
        .bind(id.0)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn insert_operator_token(
        &self,
        name: &str,
        token_hash: &[u8],
    ) -> Result<OperatorTokenRow, DbError> {
        Ok(sqlx::query_as::<_, OperatorTokenRow>(
            "INSERT INTO operator_tokens (id, name, token_hash) VALUES ($1, $2, $3) RETURNING id, name",
        )
        .bind(Uuid::now_v7())
        .bind(name)
        .bind(token_hash)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Resolves a token hash through the database's one security-definer door.
    pub async fn authenticate(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<crate::Authenticated>, DbError> {
        crate::repo::tokens::authenticate(&self.pool, token_hash).await
    }

    /// Resolves a session cookie's hash (idle sessions have expired).
    pub async fn authenticate_session(
        &self,
        token_hash: &[u8],
        idle: std::time::Duration,
    ) -> Result<Option<Principal>, DbError> {
        crate::repo::users::authenticate_session(&self.pool, token_hash, idle).await
    }

    /// Fingerprints of the master keys that wrap live tenant keys (all tenants), with how many
    /// keys each wraps. No key material.
    pub async fn master_key_ids(&self) -> Result<Vec<(String, i64)>, DbError> {
        crate::repo::keys::master_key_ids(&self.pool).await
    }

    /// Upload intents of all tenants older than `older_than`: the sweeper's work list.
    pub async fn expired_upload_intents(
        &self,
        older_than: time::OffsetDateTime,
    ) -> Result<Vec<(String, TenantId)>, DbError> {
        let rows: Vec<(String, Uuid)> =
            sqlx::query_as("SELECT blob_key, tenant_id FROM akta_expired_upload_intents($1)")
                .bind(older_than)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(k, t)| (k, TenantId(t))).collect())
    }
}

/// A transaction bound to one tenant. Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    pub(crate) tx: Transaction<'static, Postgres>,
    pub(crate) tenant: TenantId,
    pub(crate) actor: String,
    pub(crate) subject: Subject,
    /// Where the changes of this transaction came from when they are not the actor's own
    /// (an import: its source); recorded with every audit entry.
    pub(crate) provenance: Option<serde_json::Value>,
    /// Index log entries (document, op) written at commit: the log's shared lock is then
    /// held only for that last statement, not for a whole (possibly long) batch.
    pub(crate) pending_index: Vec<(Uuid, &'static str)>,
    /// Set by [`TenantTx::batch_writes`]: what follows from each change is gathered and
    /// written at commit, in few statements.
    pub(crate) batch: Option<crate::events::Batched>,
}

/// On whose behalf a transaction acts, for access lists of confidential Akten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Nobody,
    System,
    User(Uuid),
    Token(Uuid),
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Marks every audit entry of this transaction with where its changes came from.
    pub fn set_provenance(&mut self, provenance: Option<serde_json::Value>) {
        self.provenance = provenance;
    }

    pub async fn commit(mut self) -> Result<(), DbError> {
        self.flush_batch().await?;
        self.flush_index_log().await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Runs a query without any tenant filter of its own, to prove RLS does the filtering.
    /// Used by tests; returns the tenant ids of all rows of `files` this transaction can see.
    pub async fn visible_file_tenants_unfiltered(&mut self) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT tenant_id FROM files")
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
