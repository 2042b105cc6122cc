//! Geschäftsgang, lightweight: a Mitzeichnung or a Verfügung routes a document to colleagues
//! in order or in parallel; each signs or returns it with a comment. When the last signs a
//! Verfügung, Akta carries out its steps in the same transaction, by the same rules as
//! every other surface (a Wiedervorlage on the Akte, "z.d.A." of the Vorgang or the Akte).
//! A deputy decides for whom they stand in for.

use akta_db::repo::routings::{NewRouting, PendingRouting, Routing};
use akta_db::repo::workplace::{NewResubmission, ResubmissionTarget};
use akta_domain::geschaeftsgang::{parse_steps, Step, StepAction};
use akta_domain::{FileStatus, Principal};
use uuid::Uuid;

use crate::{CaseUpdate, Core, CoreError, FileUpdate};

/// Mitzeichnung (co-signing) or Verfügung (an order with steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingKind {
    Mitzeichnung,
    Verfuegung,
}

/// What starting a Geschäftsgang takes.
#[derive(Debug, Clone)]
pub struct RoutingRequest {
    pub kind: RoutingKind,
    /// All at once (`true`) or one after another.
    pub parallel: bool,
    pub signers: Vec<Uuid>,
    /// A Verfügung's steps as written, one per line.
    pub steps: Option<String>,
    pub note: Option<String>,
}

fn person(who: &Principal) -> Result<Uuid, CoreError> {
    match who {
        Principal::User { user_id, .. } => Ok(*user_id),
        _ => Err(CoreError::Forbidden(
            "only a person signs in a Geschäftsgang",
        )),
    }
}

impl Core {
    pub async fn start_routing(
        &self,
        who: &Principal,
        document_id: Uuid,
        request: RoutingRequest,
    ) -> Result<Routing, CoreError> {
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "a Geschäftsgang needs a role that writes",
            ));
        }
        let mut signers = Vec::new();
        for s in request.signers {
            if !signers.contains(&s) {
                signers.push(s);
            }
        }
        if signers.is_empty() || signers.len() > 10 {
            return Err(CoreError::validation(
                "signers",
                "name one to ten colleagues who sign",
            ));
        }
        let steps: Vec<Step> = match request.kind {
            RoutingKind::Verfuegung => parse_steps(request.steps.as_deref().unwrap_or(""))?,
            RoutingKind::Mitzeichnung => Vec::new(),
        };
        let new = NewRouting {
            document_id,
            kind: match request.kind {
                RoutingKind::Mitzeichnung => "mitzeichnung",
                RoutingKind::Verfuegung => "verfuegung",
            }
            .to_owned(),
            mode: if request.parallel {
                "gleichzeitig"
            } else {
                "nacheinander"
            }
            .to_owned(),
            signers,
            steps: serde_json::to_value(&steps).map_err(|e| CoreError::Internal(e.to_string()))?,
            note: request.note,
            created_user: person(who).ok(),
        };
        self.as_caller(who, async |tx| tx.start_routing(new).await)
            .await
    }

    /// Signs (`sign`) or returns a Geschäftsgang at the caller's turn (or at the turn of
    /// whom they stand in for). The last signature of a Verfügung carries out its steps.
    pub async fn decide_routing(
        &self,
        who: &Principal,
        id: Uuid,
        sign: bool,
        comment: Option<String>,
    ) -> Result<Routing, CoreError> {
        let me = person(who)?;
        if !who.can_write() {
            return Err(CoreError::Forbidden(
                "a Geschäftsgang needs a role that writes",
            ));
        }
        if !sign && comment.is_none() {
            return Err(CoreError::validation(
                "comment",
                "say why it goes back (a comment)",
            ));
        }
        let mut tx = self.db.tx_for(who).await?;
        let mut users = vec![me];
        users.extend(tx.standing_in_for(me).await?);
        let routing = tx
            .decide_routing(id, &users, sign, comment.as_deref())
            .await?;
        if routing.state == "abgeschlossen" && routing.kind == "verfuegung" {
            let steps: Vec<Step> = serde_json::from_value(routing.steps.clone())
                .map_err(|e| CoreError::Internal(format!("stored steps: {e}")))?;
            for step in steps {
                match step.action {
                    StepAction::Note => {}
                    StepAction::Wv { days } => {
                        let due_on =
                            crate::retention::today() + time::Duration::days(i64::from(days));
                        let new = NewResubmission {
                            due_on,
                            user_id: routing.created_user,
                            note: Some(format!("Verfügung {}: {}", step.nr, step.text)),
                        };
                        tx.add_resubmission(ResubmissionTarget::File(routing.file_id), new)
                            .await?;
                    }
                    StepAction::Zda => match routing.case_id {
                        Some(case) => {
                            let current = tx.case(case).await?.row_version;
                            let update = CaseUpdate {
                                status: Some(FileStatus::Closed),
                                ..CaseUpdate::default()
                            };
                            crate::cases::change_case(&mut tx, case, Some(current), update).await?;
                        }
                        None => {
                            let current = tx.file(routing.file_id).await?.row_version;
                            let update = FileUpdate {
                                status: Some(FileStatus::Closed),
                                ..FileUpdate::default()
                            };
                            crate::files::change_file(
                                &mut tx,
                                who,
                                routing.file_id,
                                Some(current),
                                update,
                            )
                            .await?;
                        }
                    },
                }
            }
        }
        tx.commit().await?;
        Ok(routing)
    }

    pub async fn routing(&self, who: &Principal, id: Uuid) -> Result<Routing, CoreError> {
        self.as_caller(who, async |tx| tx.routing(id).await).await
    }

    pub async fn routings_of_document(
        &self,
        who: &Principal,
        document_id: Uuid,
    ) -> Result<Vec<Routing>, CoreError> {
        self.as_caller(who, async |tx| {
            tx.document(document_id).await?;
            tx.routings_of_document(document_id).await
        })
        .await
    }

    /// What waits for the caller's signature (and of whom they stand in for).
    pub async fn pending_routings(
        &self,
        who: &Principal,
    ) -> Result<Vec<PendingRouting>, CoreError> {
        let me = person(who)?;
        self.as_caller(who, async |tx| {
            let mut users = vec![me];
            users.extend(tx.standing_in_for(me).await?);
            tx.pending_routings(&users).await
        })
        .await
    }
}
