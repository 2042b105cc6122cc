//! The Aktenplan: plan units with inherited retention and disposition, and its tree.

use akta_db::repo::workplace::PlanNode;
use akta_db::{NewPlanUnit, Page, PlanUnit};
use akta_domain::Principal;
use uuid::Uuid;

use crate::{Core, CoreError};

impl Core {
    pub async fn create_plan_unit(
        &self,
        who: &Principal,
        new: NewPlanUnit,
    ) -> Result<PlanUnit, CoreError> {
        self.as_caller(who, async |tx| {
            if let Some(parent) = new.parent_id {
                let parent = match tx.plan_unit(parent).await {
                    Ok(p) => p,
                    Err(akta_db::DbError::NotFound) => {
                        return Err(CoreError::validation(
                            "parent_id",
                            "refers to nothing that exists",
                        ))
                    }
                    Err(e) => return Err(e.into()),
                };
                let parent_code = akta_domain::PlanCode::parse(&parent.code)?;
                if !new.code.is_child_of(&parent_code) {
                    return Err(CoreError::validation(
                        "code",
                        format!(
                            "must be one level below its parent's code {0} (e.g. {0}.01)",
                            parent.code
                        ),
                    ));
                }
            }
            Ok(tx.create_plan_unit(new).await?)
        })
        .await
    }

    pub async fn plan_unit(&self, who: &Principal, id: Uuid) -> Result<PlanUnit, CoreError> {
        self.as_caller(who, async |tx| tx.plan_unit(id).await).await
    }

    pub async fn list_plan_units(
        &self,
        who: &Principal,
        parent_id: Option<Uuid>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<PlanUnit>, CoreError> {
        self.as_caller(who, async |tx| {
            tx.list_plan_units(parent_id, after, limit).await
        })
        .await
    }

    /// The whole Aktenplan with the number of Akten per unit (plan trees are small).
    pub async fn plan_tree(&self, who: &Principal) -> Result<Vec<PlanNode>, CoreError> {
        self.as_caller(who, async |tx| tx.plan_tree().await).await
    }
}
