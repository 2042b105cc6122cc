//! The repositories (one module per records concept), keyset pages and org units.

pub mod access;
pub mod audit;
pub mod console;
pub mod desk;
pub mod disposal;
pub mod documents;
pub mod extraction;
pub mod files;
pub mod idempotency;
pub mod imports;
pub mod inbox;
pub mod keys;
pub mod oidc;
pub mod plan_units;
pub mod quotas;
pub mod rate;
pub mod records;
pub mod routings;
pub mod search;
pub mod shares;
pub mod support;
pub mod tokens;
pub mod transfers;
pub mod usage;
pub mod users;
pub mod webhooks;
pub mod workplace;

use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One page of a keyset-paginated list. Ids are UUIDv7, so ordering by id is ordering by creation.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` was fetched with `limit + 1` so we know whether another page exists.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_cursor = if more { rows.last().map(key) } else { None };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = OrgUnit)]
pub struct OrgUnit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
}

impl TenantTx {
    pub async fn create_org_unit(
        &mut self,
        code: &str,
        name: &str,
        parent_id: Option<Uuid>,
    ) -> Result<OrgUnit, DbError> {
        if let Some(p) = parent_id {
            self.require_org_unit(p, "parent_id").await?;
        }
        let unit = sqlx::query_as::<_, OrgUnit>(
            "INSERT INTO org_units (id, tenant_id, code, name, parent_id) VALUES ($1, $2, $3, $4, $5)
             RETURNING id, code, name, parent_id",
        )
        .bind(Uuid::now_v7())
        .bind(self.tenant.0)
        .bind(code)
        .bind(name)
        .bind(parent_id)
        .fetch_one(&mut *self.tx)
        .await?;
        self.emit(
            "org_unit.created",
            "org_unit",
            unit.id,
            None,
            None::<&()>,
            Some(&unit),
        )
        .await?;
        Ok(unit)
    }

    pub async fn list_org_units(&mut self) -> Result<Vec<OrgUnit>, DbError> {
        Ok(sqlx::query_as::<_, OrgUnit>(
            "SELECT id, code, name, parent_id FROM org_units ORDER BY code",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Foreign keys are checked by PostgreSQL without RLS, so every id taken from input is
    /// first looked up through RLS: another tenant's id must look exactly like a missing one.
    pub(crate) async fn require_org_unit(
        &mut self,
        id: Uuid,
        field: &'static str,
    ) -> Result<(), DbError> {
        self.require("SELECT 1 FROM org_units WHERE id = $1", id, field)
            .await
    }

    pub(crate) async fn require(
        &mut self,
        sql: &'static str,
        id: Uuid,
        field: &'static str,
    ) -> Result<(), DbError> {
        let found: Option<(i32,)> = sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        found.map(|_| ()).ok_or(DbError::MissingReference { field })
    }
}
