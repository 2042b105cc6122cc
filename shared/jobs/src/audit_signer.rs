//! The server's periodic audit signer (signing and anchoring themselves: [`akta_audit`]).

use akta_audit::Anchors;
use akta_db::Db;
use openssl::pkey::{PKey, Private};

/// Signs and anchors every tenant's chain head every `interval` until dropped (only on nodes
/// that have the signing key).
pub async fn run_signer(
    db: Db,
    key: PKey<Private>,
    anchors: Anchors,
    interval: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        if let Err(e) = akta_audit::sign_heads(&db, &key, &anchors, None).await {
            tracing::warn!(error = %e, "signing audit heads failed; will retry");
        }
    }
}
