//! Rate counters shared by every replica: one row per bucket and minute.

use crate::{Db, DbError};

/// One bucket's count in the current minute.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RateHit {
    pub bucket: String,
    /// Hits so far in this minute, the one just counted included.
    pub hits: i32,
    /// Seconds until the minute ends.
    pub reset_secs: i32,
}

impl Db {
    /// Counts one hit on each of `buckets` (in one statement, in a fixed order).
    pub async fn rate_hit(&self, buckets: &[String]) -> Result<Vec<RateHit>, DbError> {
        Ok(
            sqlx::query_as::<_, RateHit>(
                "SELECT bucket, hits, reset_secs FROM akta_rate_count($1)",
            )
            .bind(buckets)
            .fetch_all(self.pool())
            .await?,
        )
    }

    /// Forgets counters of minutes that have passed, after rolling their usage buckets up
    /// into the month's usage (one transaction); returns how many.
    pub async fn prune_rate_counters(&self) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT akta_rate_prune_with_usage()")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}
