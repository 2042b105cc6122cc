//! Aufbewahrung of Akten: the effective Aufbewahrungsfrist and Aussonderungsart shown with
//! every Akte, the legal hold (Aussonderungssperre), and the archivist's list of Akten due
//! for Aussonderung. The rules themselves are `akta_domain::retention`'s.

use std::collections::HashMap;

use akta_db::{FileRecord, PlanUnit, TenantTx};
use akta_domain::retention::{self, Effective, Hold, OwnRule};
use akta_domain::{Disposition, Principal, Retention, Role};
use serde_json::json;
use uuid::Uuid;

use crate::{Core, CoreError};

/// Today (UTC): the day the lifecycle's rules are judged on.
pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The plan units' effective rules by id (the whole tenant's plan: small).
pub(crate) async fn plan_rules(tx: &mut TenantTx) -> Result<HashMap<Uuid, Effective>, CoreError> {
    let mut rules = HashMap::new();
    for unit in tx.all_plan_units().await? {
        rules.insert(unit.id, unit_rule(&unit)?);
    }
    Ok(rules)
}

fn unit_rule(unit: &PlanUnit) -> Result<Effective, CoreError> {
    Ok(Effective {
        retention: Retention::from_years(unit.retention_years.map(i64::from))?,
        disposition: Disposition::parse(&unit.disposition)?,
    })
}

/// The effective rule of one Akte.
pub(crate) fn rule_of(
    file: &FileRecord,
    plan: &HashMap<Uuid, Effective>,
) -> Result<Effective, CoreError> {
    let own = OwnRule::from_columns(
        file.retention_set,
        file.retention_years,
        file.disposition.as_deref(),
    )?;
    let unit = plan
        .get(&file.plan_unit_id)
        .copied()
        .ok_or_else(|| CoreError::Internal(format!("plan unit of file {} not found", file.id)))?;
    Ok(retention::effective(own, unit))
}

/// Fills in `retention` of each Akte: `{"years", "disposition", "due_on", "hold"}` (`years`
/// null when unbefristet, then also `"unlimited": true`).
pub(crate) async fn fill(tx: &mut TenantTx, files: &mut [FileRecord]) -> Result<(), CoreError> {
    if files.is_empty() {
        return Ok(());
    }
    let plan = plan_rules(tx).await?;
    for file in files.iter_mut() {
        let rule = rule_of(file, &plan)?;
        let due_on = retention::due_on(&rule, file.closed_on());
        file.retention = Some(json!({
            "years": rule.retention.years(),
            "unlimited": rule.retention == Retention::Unlimited,
            "disposition": rule.disposition.as_str(),
            "due_on": due_on.map(|d| d.to_string()),
            "hold": file.hold(),
        }));
    }
    Ok(())
}

/// The lifecycle's one role check: `roles` of the caller's tenant, and for a change
/// (`writes`) no token limited to reading.
pub(crate) fn require_role(
    who: &Principal,
    roles: &[Role],
    writes: bool,
    refusal: &'static str,
) -> Result<(), CoreError> {
    if !who
        .tenant_role()
        .is_some_and(|(_, role)| roles.contains(&role))
    {
        return Err(CoreError::Forbidden(refusal));
    }
    if writes
        && matches!(
            who,
            Principal::Tenant {
                can_write: false,
                ..
            }
        )
    {
        return Err(CoreError::Forbidden("this token has read scope only"));
    }
    Ok(())
}

/// Records managers: the tenant's admins and archivists.
pub(crate) const RECORDS_MANAGERS: &[Role] = &[Role::Admin, Role::Archivist];
const ONLY_RECORDS_MANAGERS: &str = "only an admin or an archivist may do this";

/// Who may see the due list.
fn require_records_manager(who: &Principal) -> Result<(), CoreError> {
    require_role(who, RECORDS_MANAGERS, false, ONLY_RECORDS_MANAGERS)
}

/// Who may set and lift holds and an Akte's own retention.
pub(crate) fn require_hold_setter(who: &Principal) -> Result<(), CoreError> {
    require_role(who, RECORDS_MANAGERS, true, ONLY_RECORDS_MANAGERS)
}

impl Core {
    /// The transaction of the records manager's lifecycle work: it sees every Akte of the
    /// tenant, confidential ones included, since Aussonderung must offer them too (their
    /// metadata; no content is served on these paths). Callers check the role first.
    pub(crate) async fn lifecycle_tx(&self, who: &Principal) -> Result<TenantTx, CoreError> {
        let (tenant, _) = who
            .tenant_role()
            .ok_or(CoreError::Forbidden("this action needs a tenant's role"))?;
        Ok(self.db.system_tx(tenant, &who.actor()).await?)
    }

    /// Sets the Akte's legal hold: nothing in it may then be disposed of, handed over or
    /// deleted until it is lifted (or its day has passed).
    pub async fn set_hold(
        &self,
        who: &Principal,
        file_id: Uuid,
        reason: &str,
        until: Option<time::Date>,
    ) -> Result<FileRecord, CoreError> {
        require_hold_setter(who)?;
        let reason = akta_domain::bounded_text("reason", reason, 2000)?;
        if until.is_some_and(|u| u < today()) {
            return Err(CoreError::validation("until", "must not be in the past"));
        }
        let hold = Hold {
            reason,
            until,
            by: who.actor(),
        };
        let mut tx = self.lifecycle_tx(who).await?;
        tx.file_locked(file_id, akta_db::Lock::Update).await?;
        let mut file = tx.set_file_hold(file_id, Some(&hold)).await?;
        fill(&mut tx, std::slice::from_mut(&mut file)).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Lifts the Akte's legal hold (audited with the hold that was lifted).
    pub async fn lift_hold(&self, who: &Principal, file_id: Uuid) -> Result<FileRecord, CoreError> {
        require_hold_setter(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        let current = tx.file_locked(file_id, akta_db::Lock::Update).await?;
        if current.hold().is_none() {
            return Err(CoreError::NotFound);
        }
        let mut file = tx.set_file_hold(file_id, None).await?;
        fill(&mut tx, std::slice::from_mut(&mut file)).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Sets the Akte's own Aufbewahrungsfrist and Aussonderungsart, or lets it inherit them
    /// again (`None`). Records management, not content: allowed on closed Akten too, to admins
    /// and archivists; audited with before and after.
    pub async fn set_file_retention(
        &self,
        who: &Principal,
        file_id: Uuid,
        retention: Option<Retention>,
        disposition: Option<Disposition>,
    ) -> Result<FileRecord, CoreError> {
        require_hold_setter(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        tx.file_locked(file_id, akta_db::Lock::Update).await?;
        let mut file = tx
            .set_file_retention(file_id, retention, disposition)
            .await?;
        fill(&mut tx, std::slice::from_mut(&mut file)).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Closed Akten due for Aussonderung: due by today, or (with `year`) falling due in that
    /// year; optionally only under one plan unit (and its children). Oldest due first.
    pub async fn due_for_disposal(
        &self,
        who: &Principal,
        plan_unit: Option<Uuid>,
        year: Option<i32>,
    ) -> Result<Vec<FileRecord>, CoreError> {
        require_records_manager(who)?;
        let mut tx = self.lifecycle_tx(who).await?;
        let plan = plan_rules(&mut tx).await?;
        let under = match plan_unit {
            Some(root) => Some(tx.plan_subtree(root).await?),
            None => None,
        };
        let today = today();
        let mut due = Vec::new();
        for file in tx.closed_files().await? {
            if under
                .as_ref()
                .is_some_and(|u| !u.contains(&file.plan_unit_id))
            {
                continue;
            }
            let rule = rule_of(&file, &plan)?;
            let Some(on) = retention::due_on(&rule, file.closed_on()) else {
                continue;
            };
            let wanted = match year {
                Some(y) => on.year() == y,
                None => on <= today,
            };
            if wanted {
                due.push((on, file));
            }
        }
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.reference.cmp(&b.1.reference)));
        let mut files: Vec<FileRecord> = due.into_iter().map(|(_, f)| f).collect();
        fill(&mut tx, &mut files).await?;
        tx.commit().await?;
        Ok(files)
    }
}
