//! A person's desk beyond the records themselves: the Akten they opened lately, their
//! favourites, and Vertretung (who stands in for whom, and when).

use serde::Serialize;
use uuid::Uuid;

use crate::serde_date::iso_date;
use crate::{DbError, TenantTx};

/// An Akte on the start page (recently opened or a favourite).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeskFile {
    pub file_id: Uuid,
    pub reference: String,
    pub subject: String,
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// A Vertretung: `deputy_id` stands in for `user_id` from `from_day` to `until_day`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Deputy {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_name: String,
    pub deputy_id: Uuid,
    pub deputy_name: String,
    #[serde(with = "iso_date")]
    pub from_day: time::Date,
    #[serde(with = "iso_date")]
    pub until_day: time::Date,
}

const DEPUTY_COLUMNS: &str = "d.id, d.user_id, u.display_name AS user_name, d.deputy_id,
    v.display_name AS deputy_name, d.from_day, d.until_day";

impl TenantTx {
    /// Remembers that `user` opened Akte `file` now (one row per person and Akte).
    pub async fn note_visit(&mut self, user: Uuid, file: Uuid) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO file_visits (tenant_id, user_id, file_id) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, file_id) DO UPDATE SET visited_at = now()",
        )
        .bind(self.tenant.0)
        .bind(user)
        .bind(file)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The Akten `user` opened lately, the latest first.
    pub async fn recent_files(&mut self, user: Uuid, limit: i64) -> Result<Vec<DeskFile>, DbError> {
        Ok(sqlx::query_as::<_, DeskFile>(
            "SELECT f.id AS file_id, f.reference, f.subject, f.status, v.visited_at AS at
               FROM file_visits v JOIN files f ON f.id = v.file_id
              WHERE v.user_id = $1
              ORDER BY v.visited_at DESC LIMIT $2",
        )
        .bind(user)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Marks (`on`) or unmarks an Akte as one of `user`'s favourites.
    pub async fn set_favourite(&mut self, user: Uuid, file: Uuid, on: bool) -> Result<(), DbError> {
        // Only an Akte the person sees; another's answers 404.
        self.file(file).await?;
        let sql = if on {
            "INSERT INTO file_favourites (tenant_id, user_id, file_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM file_favourites WHERE tenant_id = $1 AND user_id = $2 AND file_id = $3"
        };
        sqlx::query(sql)
            .bind(self.tenant.0)
            .bind(user)
            .bind(file)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// `user`'s favourite Akten by Aktenzeichen.
    pub async fn favourite_files(&mut self, user: Uuid) -> Result<Vec<DeskFile>, DbError> {
        Ok(sqlx::query_as::<_, DeskFile>(
            "SELECT f.id AS file_id, f.reference, f.subject, f.status, v.created_at AS at
               FROM file_favourites v JOIN files f ON f.id = v.file_id
              WHERE v.user_id = $1
              ORDER BY f.reference LIMIT 200",
        )
        .bind(user)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn is_favourite(&mut self, user: Uuid, file: Uuid) -> Result<bool, DbError> {
        let found: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM file_favourites WHERE user_id = $1 AND file_id = $2")
                .bind(user)
                .bind(file)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// Names `deputy` to stand in for `user` over a period; audited.
    pub async fn name_deputy(
        &mut self,
        user: Uuid,
        deputy: Uuid,
        from_day: time::Date,
        until_day: time::Date,
    ) -> Result<Deputy, DbError> {
        self.require(
            "SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL",
            deputy,
            "deputy_id",
        )
        .await?;
        if user == deputy {
            return Err(DbError::Conflict("nobody stands in for themselves".into()));
        }
        if from_day > until_day {
            return Err(DbError::Conflict(
                "the Vertretung ends before it begins".into(),
            ));
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO deputies (id, tenant_id, user_id, deputy_id, from_day, until_day,
                                   created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(self.tenant.0)
        .bind(user)
        .bind(deputy)
        .bind(from_day)
        .bind(until_day)
        .bind(&self.actor)
        .execute(&mut *self.tx)
        .await?;
        let named = self.deputy(id).await?;
        self.emit(
            "deputy.named",
            "user",
            user,
            None,
            None::<&()>,
            Some(&named),
        )
        .await?;
        Ok(named)
    }

    async fn deputy(&mut self, id: Uuid) -> Result<Deputy, DbError> {
        let sql = format!(
            "SELECT {DEPUTY_COLUMNS} FROM deputies d
               JOIN users u ON u.id = d.user_id JOIN users v ON v.id = d.deputy_id
              WHERE d.id = $1"
        );
        Ok(sqlx::query_as::<_, Deputy>(&sql)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Ends a Vertretung of `user` (named by them) before its time; audited.
    pub async fn end_deputy(&mut self, user: Uuid, id: Uuid) -> Result<(), DbError> {
        let ended: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE deputies SET ended_at = now()
              WHERE id = $1 AND user_id = $2 AND ended_at IS NULL RETURNING id",
        )
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *self.tx)
        .await?;
        ended.ok_or(DbError::NotFound)?;
        self.emit::<(), _>(
            "deputy.ended",
            "user",
            user,
            None,
            None,
            Some(&serde_json::json!({"id": id})),
        )
        .await
    }

    /// The Vertretungen `user` named or stands in for that have not ended.
    pub async fn deputies_of(&mut self, user: Uuid) -> Result<Vec<Deputy>, DbError> {
        let sql = format!(
            "SELECT {DEPUTY_COLUMNS} FROM deputies d
               JOIN users u ON u.id = d.user_id JOIN users v ON v.id = d.deputy_id
              WHERE (d.user_id = $1 OR d.deputy_id = $1) AND d.ended_at IS NULL
                AND d.until_day >= (now() AT TIME ZONE 'Europe/Berlin')::date
              ORDER BY d.from_day"
        );
        Ok(sqlx::query_as::<_, Deputy>(&sql)
            .bind(user)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Whom `deputy` stands in for today.
    pub async fn standing_in_for(&mut self, deputy: Uuid) -> Result<Vec<Uuid>, DbError> {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT DISTINCT user_id FROM deputies
              WHERE deputy_id = $1 AND ended_at IS NULL
                AND (now() AT TIME ZONE 'Europe/Berlin')::date BETWEEN from_day AND until_day",
        )
        .bind(deputy)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }
}
