//! Signing chain heads (for `akta audit sign`, the server's periodic signer and a new
//! tenant's first head) and verifying a tenant's log against its signatures and anchors.

use akta_db::audit_chain::{verify_chain, verify_signatures, ChainBreak};
use akta_db::Db;
use akta_domain::TenantId;
use openssl::pkey::{PKey, Private, Public};
use std::path::Path;

use crate::{Anchor, Anchors, AuditError};

const ACTOR: &str = "system:audit";

fn key_error(path: &Path, e: impl std::fmt::Display) -> AuditError {
    AuditError::Key(format!("audit key {}: {e}", path.display()))
}

fn ssl(e: openssl::error::ErrorStack) -> AuditError {
    AuditError::Key(e.to_string())
}

/// Reads an Ed25519 private key (PKCS#8 PEM).
pub fn load_signing_key(path: &Path) -> Result<PKey<Private>, AuditError> {
    let pem = std::fs::read(path).map_err(|e| key_error(path, e))?;
    PKey::private_key_from_pem(&pem).map_err(|e| key_error(path, e))
}

/// Reads an Ed25519 public key (PEM), or derives it from a private key file.
pub fn load_public_key(path: &Path) -> Result<PKey<Public>, AuditError> {
    let pem = std::fs::read(path).map_err(|e| key_error(path, e))?;
    if let Ok(key) = PKey::public_key_from_pem(&pem) {
        return Ok(key);
    }
    public_of(&PKey::private_key_from_pem(&pem).map_err(|e| key_error(path, e))?)
}

pub fn public_of(key: &PKey<Private>) -> Result<PKey<Public>, AuditError> {
    let raw = key.raw_public_key().map_err(ssl)?;
    PKey::public_key_from_raw_bytes(&raw, openssl::pkey::Id::ED25519).map_err(ssl)
}

/// Creates a new key pair: the private key as PKCS#8 PEM, the public key as PEM.
pub fn generate_key_pair() -> Result<(Vec<u8>, Vec<u8>), AuditError> {
    let key = PKey::generate_ed25519().map_err(ssl)?;
    let private = key.private_key_to_pem_pkcs8().map_err(ssl)?;
    let public = public_of(&key)?.public_key_to_pem().map_err(ssl)?;
    Ok((private, public))
}

/// Signs one tenant's chain head unless it is signed already, and anchors a new signature.
/// Returns the head's seq (`None`: no entries yet).
pub async fn sign_tenant(
    db: &Db,
    key: &PKey<Private>,
    anchors: &Anchors,
    tenant: TenantId,
) -> Result<Option<i64>, AuditError> {
    let mut tx = db.tenant_tx(tenant, ACTOR).await?;
    let signed = tx.sign_audit_head(key).await?;
    tx.commit().await?;
    let Some((seq, new)) = signed else {
        return Ok(None);
    };
    // After the commit: an anchor must never name a signature the database did not keep.
    // A crash in between leaves a signature without anchor, which verifies (less strongly).
    if let Some(signature) = new {
        anchors.write(&Anchor::of(tenant.0, &signature)).await?;
    }
    Ok(Some(seq))
}

/// Signs the chain head of every tenant (or one). Returns (tenant slug, signed seq) pairs.
pub async fn sign_heads(
    db: &Db,
    key: &PKey<Private>,
    anchors: &Anchors,
    only: Option<&str>,
) -> Result<Vec<(String, Option<i64>)>, AuditError> {
    let mut out = Vec::new();
    for tenant in db.list_tenants().await? {
        if only.is_some_and(|slug| slug != tenant.slug) {
            continue;
        }
        let seq = sign_tenant(db, key, anchors, TenantId(tenant.id)).await?;
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
    /// Signed heads found outside the database (and checked against it).
    pub anchors: usize,
    pub result: Result<(), ChainBreak>,
}

/// Verifies the chain, its signatures and its anchors for every tenant (or one).
pub async fn verify(
    db: &Db,
    keys: &[PKey<Public>],
    anchors: &Anchors,
    only: Option<&str>,
) -> Result<Vec<Verification>, AuditError> {
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
        let anchored = anchors.read(tenant.id).await?;
        let chain = verify_chain(tenant.id, &entries, head);
        let result = chain
            .clone()
            .map(|_| ())
            .and_then(|()| verify_signatures(tenant.id, &entries, &signatures, keys))
            .and_then(|()| {
                // Each anchor must carry a valid signature of an entry still in the chain as
                // signed, and the database must still hold that signature.
                for anchor in &anchored {
                    let signature = anchor.as_signature().ok_or(ChainBreak::BadSignature {
                        seq: anchor.seq,
                        reason: "anchor with an impossible signing time".into(),
                    })?;
                    // An anchor that names a head the database lost says most about what
                    // happened; only a forged anchor (bad signature) says less.
                    let in_db = signatures
                        .iter()
                        .any(|s| s.seq == anchor.seq && s.hash == anchor.hash);
                    let checked = verify_signatures(
                        tenant.id,
                        &entries,
                        std::slice::from_ref(&signature),
                        keys,
                    );
                    match checked {
                        Err(ChainBreak::BadSignature { .. }) => checked?,
                        _ if !in_db => {
                            return Err(ChainBreak::AnchoredHeadMissing { seq: anchor.seq })
                        }
                        _ => checked?,
                    }
                }
                Ok(())
            })
            .and_then(|()| {
                // Without anchors to compare with, a log with entries and keys to check but
                // no signature at all is suspect: its signatures may have been deleted to
                // rebuild the whole chain. With anchors, that case is the one above, and a
                // log without either is simply one the signer has not reached yet.
                if anchors.is_none()
                    && !keys.is_empty()
                    && !entries.is_empty()
                    && signatures.is_empty()
                {
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
            anchors: anchored.len(),
            result,
        });
    }
    if let Some(slug) = only {
        if out.is_empty() {
            return Err(AuditError::Invalid {
                field: "tenant".into(),
                detail: format!("no tenant '{slug}'"),
            });
        }
    }
    Ok(out)
}
