//! Waking the extraction workers and the index appliers on PostgreSQL notifications (sent by
//! triggers when jobs or index log entries are committed) instead of polling. A lost
//! connection is not an error for the caller: it falls back to its polling interval and
//! listens again on the next wait.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::Db;

/// New extraction jobs were committed.
pub const EXTRACTION: &str = "akta_extraction";
/// New index log entries were committed.
pub const INDEX_LOG: &str = "akta_index_log";
/// New webhook deliveries were committed.
pub const WEBHOOKS: &str = "akta_webhooks";

/// A listener on one channel.
pub struct Wakeup {
    db: Db,
    channel: &'static str,
    listener: Option<PgListener>,
}

impl Db {
    /// A listener on `channel`; it connects on its first wait.
    pub fn wakeup(&self, channel: &'static str) -> Wakeup {
        Wakeup {
            db: self.clone(),
            channel,
            listener: None,
        }
    }
}

impl Wakeup {
    /// Connects now, so notifications sent from here on are not missed. Errors are logged;
    /// the next [`Wakeup::wait`] tries again.
    pub async fn listen(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let connected = async {
            let mut l = PgListener::connect_with(self.db.pool()).await?;
            l.listen(self.channel).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        match connected {
            Ok(l) => self.listener = Some(l),
            Err(e) => {
                tracing::warn!(channel = self.channel, error = %e, "cannot listen for notifications; polling");
            }
        }
    }

    /// Waits for a notification or `fallback`, whichever comes first. `true`: notified.
    /// Notifications that arrived meanwhile are taken together: one wake-up, one round.
    pub async fn wait(&mut self, fallback: Duration) -> bool {
        self.listen().await;
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(fallback).await;
            return false;
        };
        match tokio::time::timeout(fallback, listener.recv()).await {
            Ok(Ok(_)) => {
                while listener.next_buffered().is_some() {}
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(channel = self.channel, error = %e, "notification listener lost; polling until it is back");
                self.listener = None;
                // Whatever was sent meanwhile is picked up by the round that follows.
                true
            }
            Err(_) => false,
        }
    }
}
