//! The Aktenplan: plan units with inherited retention and disposition.

use akta_domain::{Disposition, PlanCode, Retention};
use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, Page, TenantTx};

/// An Aktenplan unit with its effective (inherited where not set) retention and disposition.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = PlanUnit)]
pub struct PlanUnit {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub parent_id: Option<Uuid>,
    /// `null` = unbefristet.
    pub retention_years: Option<i32>,
    pub disposition: String,
    pub retention_inherited: bool,
    pub disposition_inherited: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

pub struct NewPlanUnit {
    pub code: PlanCode,
    pub title: String,
    pub parent_id: Option<Uuid>,
    /// `None` inherits from the parent.
    pub retention: Option<Retention>,
    pub disposition: Option<Disposition>,
}

/// Resolves inheritance top-down over the tenant's tree (RLS limits it to the tenant). Plan
/// trees are small, so computing the whole tree per query keeps the SQL honest and simple.
/// A root without its own values is unbefristet and "B" (the archive decides).
const SELECT_EFFECTIVE: &str = "
WITH RECURSIVE eff AS (
    SELECT p.id, p.retention_set AS r_set, p.retention_years AS r_years, p.disposition AS d,
           p.retention_set AS own_r, p.disposition IS NOT NULL AS own_d
      FROM plan_units p WHERE p.parent_id IS NULL
    UNION ALL
    SELECT c.id, c.retention_set OR e.r_set,
           CASE WHEN c.retention_set THEN c.retention_years ELSE e.r_years END,
           COALESCE(c.disposition, e.d), c.retention_set, c.disposition IS NOT NULL
      FROM plan_units c JOIN eff e ON c.parent_id = e.id
)
SELECT u.id, u.code, u.title, u.parent_id, e.r_years AS retention_years,
       COALESCE(e.d, 'B') AS disposition, NOT e.own_r AS retention_inherited,
       NOT e.own_d AS disposition_inherited, u.created_at
  FROM plan_units u JOIN eff e ON e.id = u.id";

impl TenantTx {
    pub async fn create_plan_unit(&mut self, new: NewPlanUnit) -> Result<PlanUnit, DbError> {
        if let Some(parent) = new.parent_id {
            self.require(
                "SELECT 1 FROM plan_units WHERE id = $1",
                parent,
                "parent_id",
            )
            .await?;
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO plan_units (id, tenant_id, parent_id, code, title, retention_set, retention_years, disposition)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(new.parent_id)
        .bind(new.code.as_str())
        .bind(&new.title)
        .bind(new.retention.is_some())
        .bind(new.retention.and_then(Retention::years).map(i32::from))
        .bind(new.disposition.map(Disposition::as_str))
        .execute(&mut *self.tx)
        .await?;
        let unit = self.plan_unit(id).await?;
        self.emit(
            "plan_unit.created",
            "plan_unit",
            id,
            None,
            None::<&()>,
            Some(&unit),
        )
        .await?;
        Ok(unit)
    }

    /// Changes a unit's title, retention and disposition (an Aktenplan import); `None` for
    /// retention or disposition inherits again.
    pub async fn update_plan_unit(
        &mut self,
        id: Uuid,
        title: &str,
        retention: Option<Retention>,
        disposition: Option<Disposition>,
    ) -> Result<PlanUnit, DbError> {
        let before = self.plan_unit(id).await?;
        sqlx::query(
            "UPDATE plan_units SET title = $2, retention_set = $3, retention_years = $4,
                    disposition = $5
              WHERE id = $1",
        )
        .bind(id)
        .bind(title)
        .bind(retention.is_some())
        .bind(retention.and_then(Retention::years).map(i32::from))
        .bind(disposition.map(Disposition::as_str))
        .execute(&mut *self.tx)
        .await?;
        let after = self.plan_unit(id).await?;
        self.emit(
            "plan_unit.updated",
            "plan_unit",
            id,
            None,
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

    pub async fn plan_unit(&mut self, id: Uuid) -> Result<PlanUnit, DbError> {
        let sql = format!("{SELECT_EFFECTIVE} WHERE u.id = $1");
        Ok(sqlx::query_as::<_, PlanUnit>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn list_plan_units(
        &mut self,
        parent_id: Option<Uuid>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Page<PlanUnit>, DbError> {
        let sql = format!(
            "{SELECT_EFFECTIVE} WHERE ($1::uuid IS NULL OR u.parent_id = $1)
               AND ($2::uuid IS NULL OR u.id > $2) ORDER BY u.id LIMIT $3"
        );
        let rows = sqlx::query_as::<_, PlanUnit>(&sql)
            .bind(parent_id)
            .bind(after)
            .bind(limit + 1)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(Page::from_rows(rows, limit, |u| u.id.to_string()))
    }

    /// Every plan unit of the tenant with its effective values, by code.
    pub async fn all_plan_units(&mut self) -> Result<Vec<PlanUnit>, DbError> {
        let sql = format!("{SELECT_EFFECTIVE} ORDER BY u.code");
        Ok(sqlx::query_as::<_, PlanUnit>(&sql)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// `root` and every plan unit below it.
    pub async fn plan_subtree(
        &mut self,
        root: Uuid,
    ) -> Result<std::collections::HashSet<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "WITH RECURSIVE sub AS (
                 SELECT id FROM plan_units WHERE id = $1
                 UNION ALL
                 SELECT c.id FROM plan_units c JOIN sub s ON c.parent_id = s.id)
             SELECT id FROM sub",
        )
        .bind(root)
        .fetch_all(&mut *self.tx)
        .await?;
        if rows.is_empty() {
            return Err(DbError::NotFound);
        }
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
