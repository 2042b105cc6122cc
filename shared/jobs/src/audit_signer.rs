//! Signing and verifying the tamper-evident audit log, for `akta audit …` and the server's
//! periodic signing.

use akta_db::audit_chain::{verify_chain, verify_signatures, ChainBreak};
use akta_db::Db;
use akta_domain::TenantId;
use openssl::pkey::{PKey, Private, Public};
use std::path::Path;

use crate::JobError;

const ACTOR: &str = "system:audit";

fn key_error(path: &Path, e: impl std::fmt::Display) -> JobError {
    JobError::Internal(format!("audit key {}: {e}", path.display()))
}

/// Reads an Ed25519 private key (PKCS#8 PEM).
pub fn load_signing_key(path: &Path) -> Result<PKey<Private>, JobError> {
    let pem = std::fs::read(path).map_err(|e| key_error(path, e))?;
    PKey::private_key_from_pem(&pem).map_err(|e| key_error(path, e))
}

/// Reads an Ed25519 public key (PEM), or derives it from a private key file.
pub fn load_public_key(path: &Path) -> Result<PKey<Public>, JobError> {
    let pem = std::fs::read(path).map_err(|e| key_error(path, e))?;
    if let Ok(key) = PKey::public_key_from_pem(&pem) {
        return Ok(key);
    }
    public_of(&PKey::private_key_from_pem(&pem).map_err(|e| key_error(path, e))?)
}

pub fn public_of(key: &PKey<Private>) -> Result<PKey<Public>, JobError> {
    let raw = key
        .raw_public_key()
        .map_err(|e| JobError::Internal(e.to_string()))?;
    PKey::public_key_from_raw_bytes(&raw, openssl::pkey::Id::ED25519)
        .map_err(|e| JobError::Internal(e.to_string()))
}

/// Creates a new key pair: the private key as PKCS#8 PEM, the public key as PEM.
pub fn generate_key_pair() -> Result<(Vec<u8>, Vec<u8>), JobError> {
    let err = |e: openssl::error::ErrorStack| JobError::Internal(e.to_string());
    let key = PKey::generate_ed25519().map_err(err)?;
    let private = key.private_key_to_pem_pkcs8().map_err(err)?;
    let public = public_of(&key)?.public_key_to_pem().map_err(err)?;
    Ok((private, public))
}

/// Signs the chain head of every tenant (or one). Returns (tenant slug, signed seq) pairs.
pub async fn sign_heads(
    db: &Db,
    key: &PKey<Private>,
    only: Option<&str>,
) -> Result<Vec<(String, Option<i64>)>, JobError> {
    let mut out = Vec::new();
    for tenant in db.list_tenants().await? {
        if only.is_some_and(|slug| slug != tenant.slug) {
            continue;
        }
        let mut tx = db.tenant_tx(TenantId(tenant.id), ACTOR).await?;
        let seq = tx.sign_audit_head(key).await?;
        tx.commit().await?;
        out.push((tenant.slug, seq));
    }
    Ok(out)
}

/// The outcome of verifying one tenant's log.
#[derive(Debug)]
pub struct Verification {
    pub tenant: String,
    pub entries: i64,
    pub signed_up_to: Option<i64>,
    pub result: Result<(), ChainBreak>,
}

/// Verifies the chain and signatures of every tenant (or one).
pub async fn verify(
    db: &Db,
    keys: &[PKey<Public>],
    only: Option<&str>,
) -> Result<Vec<Verification>, JobError> {
    let mut out = Vec::new();
    for tenant in db.list_tenants().await? {
        if only.is_some_and(|slug| slug != tenant.slug) {
            continue;
        }
        let mut tx = db.tenant_tx(TenantId(tenant.id), ACTOR).await?;
        let entries = tx.audit_chain().await?;
        let head = tx.audit_head().await?;
        let signatures = tx.audit_signatures().await?;
        drop(tx);
        let chain = verify_chain(tenant.id, &entries, head);
        let result = chain
            .clone()
            .map(|_| ())
            .and_then(|()| verify_signatures(tenant.id, &entries, &signatures, keys))
            .and_then(|()| {
                // With keys to check against, a log without any signature is not "fine": its
                // signatures may have been deleted to rebuild the whole chain.
                if !keys.is_empty() && !entries.is_empty() && signatures.is_empty() {
                    Err(ChainBreak::BadSignature {
                        seq: entries.len() as i64,
                        reason:
                            "the log has entries but no signature at all (deleted, or never signed)"
                                .into(),
                    })
                } else {
                    Ok(())
                }
            });
        out.push(Verification {
            tenant: tenant.slug,
            entries: chain.unwrap_or(entries.len() as i64),
            signed_up_to: signatures.iter().map(|s| s.seq).max(),
            result,
        });
    }
    if let Some(slug) = only {
        if out.is_empty() {
            return Err(JobError::Invalid {
                field: "tenant".into(),
                detail: format!("no tenant '{slug}'"),
            });
        }
    }
    Ok(out)
}

/// Signs periodically until dropped (server side; only when a signing key is configured).
pub async fn run_signer(db: Db, key: PKey<Private>, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        if let Err(e) = sign_heads(&db, &key, None).await {
            tracing::warn!(error = %e, "signing audit heads failed; will retry");
        }
    }
}
