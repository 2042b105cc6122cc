//! Aktenplan exchange in xdomea (`Aktenplan.Aktenplan.0301`): a tenant's plan exported, and a
//! plan imported into a tenant — new units added, existing codes updated, nothing deleted —
//! in one transaction, with a report. This is how towns share one plan.

use std::collections::HashMap;

use akta_db::{NewPlanUnit, PlanUnit, TenantTx};
use akta_domain::{Disposition, PlanCode, Principal, Retention, Role};
use akta_xdomea::model::{Head, Keep, Party, Plan, PlanUnitObject, Rating};
use akta_xdomea::read::{parse, Limits};
use akta_xdomea::write;
use serde::Serialize;
use uuid::Uuid;

use crate::{Core, CoreError};

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanImport {
    pub plan: String,
    pub version: String,
    /// Codes of units added.
    pub created: Vec<String>,
    /// Codes of units whose title, retention or disposition changed.
    pub updated: Vec<String>,
    /// Units already as the message has them.
    pub unchanged: usize,
    /// Codes of the tenant's units the message does not name: kept, never deleted.
    pub kept: Vec<String>,
}

/// Akta's Aufbewahrungsfrist in xdomea.
pub(crate) fn keep_of(r: Retention) -> Keep {
    match r.years() {
        Some(n) => Keep::Years(n),
        None => Keep::Unlimited,
    }
}

/// Akta's Aussonderungsart in xdomea.
pub(crate) fn rating_of(d: Disposition) -> Rating {
    match d {
        Disposition::Archive => Rating::A,
        Disposition::Evaluate => Rating::B,
        Disposition::Destroy => Rating::V,
    }
}

fn disposition_of(r: Rating) -> Disposition {
    match r {
        Rating::A => Disposition::Archive,
        Rating::B => Disposition::Evaluate,
        Rating::V => Disposition::Destroy,
    }
}

fn retention_of(k: Keep) -> Retention {
    match k {
        Keep::Years(n) => Retention::Years(n),
        Keep::Unlimited => Retention::Unlimited,
    }
}

fn tree(units: &[PlanUnit], parent: Option<Uuid>) -> Result<Vec<PlanUnitObject>, CoreError> {
    let mut out = Vec::new();
    for u in units.iter().filter(|u| u.parent_id == parent) {
        out.push(PlanUnitObject {
            code: u.code.clone(),
            title: u.title.clone(),
            rating: rating_of(Disposition::parse(&u.disposition)?),
            keep: keep_of(Retention::from_years(u.retention_years.map(i64::from))?),
            retired: false,
            children: tree(units, Some(u.id))?,
        });
    }
    Ok(out)
}

impl Core {
    /// The tenant's Aktenplan as `Aktenplan.Aktenplan.0301`, each unit with its effective
    /// retention and disposition.
    pub async fn export_plan(&self, who: &Principal) -> Result<Vec<u8>, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let units = tx.all_plan_units().await?;
        let tenant = self.db.tenant_by_id(tx.tenant()).await?;
        tx.commit().await?;
        let head = Head {
            process_id: Uuid::now_v7(),
            created: time::OffsetDateTime::now_utc(),
            sender: Party {
                authority_key: Some(tenant.slug.clone()),
                institution: Some(tenant.display_name.clone()),
            },
            recipient: Party::default(),
            receipt_requested: false,
        };
        let plan = Plan {
            name: format!("Aktenplan {}", tenant.display_name),
            version: time::OffsetDateTime::now_utc().date().to_string(),
            units: tree(&units, None)?,
        };
        Ok(write::aktenplan_0301(&head, &plan)?)
    }

    /// Imports an `Aktenplan.Aktenplan.0301` (admins): all of it or nothing.
    pub async fn import_plan(&self, who: &Principal, body: &[u8]) -> Result<PlanImport, CoreError> {
        if !matches!(who.tenant_role(), Some((_, Role::Admin))) {
            return Err(CoreError::Forbidden("only an admin imports an Aktenplan"));
        }
        let plan = read_plan_0301(body)?;
        self.import_plan_tree(who, plan).await
    }

    /// Imports a plan tree (from a 0301, a CSV or a template): all of it or nothing.
    pub(crate) async fn import_plan_tree(
        &self,
        who: &Principal,
        plan: Plan,
    ) -> Result<PlanImport, CoreError> {
        if !matches!(who.tenant_role(), Some((_, Role::Admin))) {
            return Err(CoreError::Forbidden("only an admin imports an Aktenplan"));
        }
        let mut tx = self.db.tx_for(who).await?;
        let existing: HashMap<String, PlanUnit> = tx
            .all_plan_units()
            .await?
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect();
        let mut report = PlanImport {
            plan: plan.name.clone(),
            version: plan.version.clone(),
            ..PlanImport::default()
        };
        let mut named = Vec::new();
        for unit in &plan.units {
            import_unit(&mut tx, unit, None, &existing, &mut report, &mut named).await?;
        }
        report.kept = existing
            .keys()
            .filter(|code| !named.contains(code))
            .cloned()
            .collect();
        report.kept.sort();
        tx.commit().await?;
        Ok(report)
    }
}

/// The plan of an `Aktenplan.Aktenplan.0301` (XML or its zip container).
pub(crate) fn read_plan_0301(body: &[u8]) -> Result<Plan, CoreError> {
    let xml = akta_xdomea::read::message_bytes(body, Limits::default())?;
    let message = parse(&xml, Limits::default())?;
    Ok(message.plan()?)
}

async fn import_unit(
    tx: &mut TenantTx,
    unit: &PlanUnitObject,
    parent: Option<(Uuid, &str)>,
    existing: &HashMap<String, PlanUnit>,
    report: &mut PlanImport,
    named: &mut Vec<String>,
) -> Result<(), CoreError> {
    let code = PlanCode::parse(&unit.code)?;
    if let Some((_, parent_code)) = parent {
        // A child's code extends its parent's, so Aktenzeichen read like the plan.
        if !PlanCode::parse(parent_code).is_ok_and(|p| code.is_child_of(&p)) {
            return Err(CoreError::validation(
                "message",
                format!(
                    "Einheit {}: its code is not one level below its parent's {parent_code}",
                    unit.code
                ),
            ));
        }
    }
    let title = akta_domain::bounded_text("title", &unit.title, 500).map_err(|e| {
        CoreError::validation("message", format!("Einheit {}: {}", unit.code, e.message))
    })?;
    let retention = retention_of(unit.keep);
    let disposition = disposition_of(unit.rating);
    named.push(unit.code.clone());
    let id = match existing.get(&unit.code) {
        Some(current) => {
            let same = current.title == title
                && current.retention_years == retention.years().map(i32::from)
                && current.disposition == disposition.as_str();
            if same {
                report.unchanged += 1;
            } else {
                tx.update_plan_unit(current.id, &title, Some(retention), Some(disposition))
                    .await?;
                report.updated.push(unit.code.clone());
            }
            current.id
        }
        None => {
            let created = tx
                .create_plan_unit(NewPlanUnit {
                    code,
                    title,
                    parent_id: parent.map(|(id, _)| id),
                    retention: Some(retention),
                    disposition: Some(disposition),
                })
                .await?;
            report.created.push(unit.code.clone());
            created.id
        }
    };
    for child in &unit.children {
        Box::pin(import_unit(
            tx,
            child,
            Some((id, &unit.code)),
            existing,
            report,
            named,
        ))
        .await?;
    }
    Ok(())
}
