//! The Geschäftsgang's records: a Mitzeichnung or Verfügung on a document and its signers
//! in order, each decision audited in the Akte's history.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{DbError, DomainEvent, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Routing)]
pub struct Routing {
    pub id: Uuid,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    pub document_id: Uuid,
    /// `mitzeichnung` or `verfuegung`.
    pub kind: String,
    /// `nacheinander` or `gleichzeitig`.
    pub mode: String,
    /// `laufend`, `abgeschlossen` or `zurueckgegeben`.
    pub state: String,
    pub steps: Value,
    pub note: Option<String>,
    pub created_by: String,
    pub created_user: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<time::OffsetDateTime>,
    #[sqlx(skip)]
    pub signers: Vec<Signer>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = Signer)]
pub struct Signer {
    pub position: i32,
    pub user_id: Uuid,
    pub user_name: String,
    /// `offen`, `gezeichnet` or `zurueckgegeben`.
    pub state: String,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<time::OffsetDateTime>,
}

/// A Geschäftsgang waiting for a person's decision (the start page).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PendingRouting {
    pub routing_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub reference: String,
    pub kind: String,
    pub for_user: Uuid,
}

pub struct NewRouting {
    pub document_id: Uuid,
    pub kind: String,
    pub mode: String,
    pub signers: Vec<Uuid>,
    pub steps: Value,
    pub note: Option<String>,
    pub created_user: Option<Uuid>,
}

const ROUTING_COLUMNS: &str = "id, file_id, case_id, document_id, kind, mode, state, steps, note,
    created_by, created_user, created_at, finished_at";

/// Whose turn it is: every open signer at once, or only the first open one in order.
const AT_TURN: &str = "s.state = 'offen' AND r.state = 'laufend' AND (r.mode = 'gleichzeitig'
    OR s.position = (SELECT min(o.position) FROM routing_signers o
                      WHERE o.routing_id = s.routing_id AND o.state = 'offen'))";

impl TenantTx {
    /// Starts a Geschäftsgang on a document in an open Akte (and open Vorgang).
    pub async fn start_routing(&mut self, new: NewRouting) -> Result<Routing, DbError> {
        let doc = self.document(new.document_id).await?;
        let target = match doc.case_id {
            Some(case) => crate::DocumentTarget::Case(case),
            None => crate::DocumentTarget::File(doc.file_id),
        };
        self.resolve_target(target).await?;
        for signer in &new.signers {
            self.require(
                "SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL",
                *signer,
                "signers",
            )
            .await?;
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO routings (id, tenant_id, file_id, case_id, document_id, kind, mode,
                                   steps, note, created_by, created_user)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(doc.file_id)
        .bind(doc.case_id)
        .bind(doc.id)
        .bind(&new.kind)
        .bind(&new.mode)
        .bind(&new.steps)
        .bind(&new.note)
        .bind(&self.actor)
        .bind(new.created_user)
        .execute(&mut *self.tx)
        .await?;
        for (i, signer) in new.signers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO routing_signers (routing_id, tenant_id, position, user_id)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(self.tenant.0)
            .bind(i as i32 + 1)
            .bind(signer)
            .execute(&mut *self.tx)
            .await?;
        }
        let routing = self.routing(id).await?;
        let event = DomainEvent::new("routing.started", "routing", id)
            .in_file(doc.file_id)
            .after(&routing)?;
        self.record(event).await?;
        Ok(routing)
    }

    pub async fn routing(&mut self, id: Uuid) -> Result<Routing, DbError> {
        self.routing_locked(id, "").await
    }

    async fn routing_locked(&mut self, id: Uuid, lock: &str) -> Result<Routing, DbError> {
        let sql = format!("SELECT {ROUTING_COLUMNS} FROM routings WHERE id = $1 {lock}");
        let mut routing = sqlx::query_as::<_, Routing>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        routing.signers = sqlx::query_as::<_, Signer>(
            "SELECT s.position, s.user_id, u.display_name AS user_name, s.state, s.comment,
                    s.decided_at
               FROM routing_signers s JOIN users u ON u.id = s.user_id
              WHERE s.routing_id = $1 ORDER BY s.position",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(routing)
    }

    /// The Geschäftsgänge of a document, the latest first.
    pub async fn routings_of_document(&mut self, document: Uuid) -> Result<Vec<Routing>, DbError> {
        let ids: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM routings WHERE document_id = $1 ORDER BY created_at DESC LIMIT 50",
        )
        .bind(document)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(self.routing(id).await?);
        }
        Ok(out)
    }

    /// What waits for a decision of one of `users` (a person and whom they stand in for).
    pub async fn pending_routings(
        &mut self,
        users: &[Uuid],
    ) -> Result<Vec<PendingRouting>, DbError> {
        let sql = format!(
            "SELECT r.id AS routing_id, r.document_id, d.title, f.reference, r.kind,
                    s.user_id AS for_user
               FROM routing_signers s
               JOIN routings r ON r.id = s.routing_id
               JOIN documents d ON d.id = r.document_id
               JOIN files f ON f.id = r.file_id
              WHERE s.user_id = ANY($1) AND {AT_TURN}
              ORDER BY r.created_at"
        );
        Ok(sqlx::query_as::<_, PendingRouting>(&sql)
            .bind(users)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Records the decision of the signer among `users` whose turn it is: `sign` or return.
    /// Returns the routing afterwards; its state says whether it finished.
    pub async fn decide_routing(
        &mut self,
        id: Uuid,
        users: &[Uuid],
        sign: bool,
        comment: Option<&str>,
    ) -> Result<Routing, DbError> {
        let before = self.routing_locked(id, "FOR UPDATE").await?;
        if before.state != "laufend" {
            return Err(DbError::Conflict(
                "this Geschäftsgang has already ended".into(),
            ));
        }
        let sql = format!(
            "SELECT s.position FROM routing_signers s JOIN routings r ON r.id = s.routing_id
              WHERE s.routing_id = $1 AND s.user_id = ANY($2) AND {AT_TURN}
              ORDER BY s.position LIMIT 1"
        );
        let at_turn: Option<(i32,)> = sqlx::query_as(&sql)
            .bind(id)
            .bind(users)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some((position,)) = at_turn else {
            return Err(DbError::Conflict(
                "it is not your turn to sign this (or you are not asked to)".into(),
            ));
        };
        sqlx::query(
            "UPDATE routing_signers SET state = $3, comment = $4, decided_by = $5,
                    decided_at = now()
              WHERE routing_id = $1 AND position = $2",
        )
        .bind(id)
        .bind(position)
        .bind(if sign { "gezeichnet" } else { "zurueckgegeben" })
        .bind(comment)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        let (open,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM routing_signers WHERE routing_id = $1 AND state = 'offen'",
        )
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        let finished = match (sign, open) {
            (false, _) => Some("zurueckgegeben"),
            (true, 0) => Some("abgeschlossen"),
            _ => None,
        };
        if let Some(state) = finished {
            sqlx::query("UPDATE routings SET state = $2, finished_at = now() WHERE id = $1")
                .bind(id)
                .bind(state)
                .execute(&mut *self.tx)
                .await?;
        }
        let after = self.routing(id).await?;
        let action = if sign {
            "routing.signed"
        } else {
            "routing.returned"
        };
        let detail = serde_json::json!({
            "position": position,
            "comment": comment,
            "kind": after.kind,
            "state": after.state,
            "document_id": after.document_id,
        });
        let event = DomainEvent::new(action, "routing", id)
            .in_file(after.file_id)
            .after(&detail)?;
        self.record(event).await?;
        Ok(after)
    }
}
