//! The tamper-evident audit log: each tenant's events form a SHA-256 chain (built by a
//! trigger in PostgreSQL), and heads of the chain are signed with Ed25519. Verification
//! rebuilds every hash here, in Rust, from the stored column values, so it does not trust any
//! function in the database it is checking.

use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use std::fmt;
use uuid::Uuid;

use crate::{DbError, TenantTx};

const GENESIS: [u8; 32] = [0; 32];

/// One audit event as stored, with JSON columns in PostgreSQL's canonical `jsonb` text form.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainEntry {
    pub id: i64,
    pub seq: i64,
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub file_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeadSignature {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub signed_at: time::OffsetDateTime,
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// The first thing wrong with a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry's content no longer matches its hash: it was edited.
    Changed { seq: i64, id: i64 },
    /// Sequence numbers jump: entries were deleted.
    Missing {
        expected_seq: i64,
        found_seq: i64,
        id: i64,
    },
    /// A sequence number repeats or goes back: an entry was inserted or moved.
    Unexpected {
        expected_seq: i64,
        found_seq: i64,
        id: i64,
    },
    /// An entry does not link to the one before it: entries were reordered or replaced.
    Relinked { seq: i64, id: i64 },
    /// The recorded chain head does not match the last entry: the tail was cut or extended.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// A signature does not verify, or was made by an unknown key.
    BadSignature { seq: i64, reason: String },
    /// A signed head names an entry that is no longer in the chain as signed.
    SignedEntryChanged { seq: i64 },
    /// A head signed and anchored outside the database is no longer among its signatures.
    AnchoredHeadMissing { seq: i64 },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Changed { seq, id } => {
                write!(f, "entry {seq} (id {id}) was changed: its hash does not match its content")
            }
            ChainBreak::Missing { expected_seq, found_seq, id } => write!(
                f,
                "entries {expected_seq}..{} are missing (deleted) before entry {found_seq} (id {id})",
                found_seq - 1
            ),
            ChainBreak::Unexpected { expected_seq, found_seq, id } => write!(
                f,
                "entry with sequence {found_seq} (id {id}) where {expected_seq} was expected: inserted or moved"
            ),
            ChainBreak::Relinked { seq, id } => write!(
                f,
                "entry {seq} (id {id}) does not link to the entry before it: reordered or inserted"
            ),
            ChainBreak::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the chain head says {head_seq} entries but the log ends at {last_seq}: entries were cut off or added"
            ),
            ChainBreak::BadSignature { seq, reason } => {
                write!(f, "the signature of head {seq} is invalid: {reason}")
            }
            ChainBreak::AnchoredHeadMissing { seq } => write!(
                f,
                "the signed head {seq} anchored outside the database is missing from it (signatures deleted)"
            ),
            ChainBreak::SignedEntryChanged { seq } => write!(
                f,
                "entry {seq} differs from the signed chain head (history rewritten)"
            ),
        }
    }
}

/// The bytes hashed for one entry; must match `akta_audit_payload` in the migrations.
pub fn payload(tenant: Uuid, e: &ChainEntry) -> Vec<u8> {
    let micros = e.at.unix_timestamp_nanos() / 1000;
    let fields = [
        tenant.to_string(),
        e.seq.to_string(),
        micros.to_string(),
        e.actor.clone(),
        e.action.clone(),
        e.object_type.clone(),
        e.object_id.to_string(),
        e.file_id.map(|f| f.to_string()).unwrap_or_default(),
        e.before.clone().unwrap_or_else(|| "null".into()),
        e.after.clone().unwrap_or_else(|| "null".into()),
    ];
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(format!("{}:", f.len()).as_bytes());
        out.extend_from_slice(f.as_bytes());
        out.push(b';');
    }
    out
}

fn entry_hash(prev: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut h = openssl::sha::Sha256::new();
    h.update(prev);
    h.update(payload);
    h.finish()
}

/// Walks a tenant's entries (ordered by `seq`) and its recorded head. Returns the number of
/// entries, or the first break.
pub fn verify_chain(
    tenant: Uuid,
    entries: &[ChainEntry],
    head: Option<(i64, Vec<u8>)>,
) -> Result<i64, ChainBreak> {
    let mut prev = GENESIS.to_vec();
    let mut expected = 1;
    for e in entries {
        if e.seq > expected {
            return Err(ChainBreak::Missing {
                expected_seq: expected,
                found_seq: e.seq,
                id: e.id,
            });
        }
        if e.seq < expected {
            return Err(ChainBreak::Unexpected {
                expected_seq: expected,
                found_seq: e.seq,
                id: e.id,
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Relinked {
                seq: e.seq,
                id: e.id,
            });
        }
        if entry_hash(&e.prev_hash, &payload(tenant, e)).as_slice() != e.hash.as_slice() {
            return Err(ChainBreak::Changed {
                seq: e.seq,
                id: e.id,
            });
        }
        prev = e.hash.clone();
        expected += 1;
    }
    let last = expected - 1;
    match head {
        Some((seq, hash)) if seq != last || hash != prev => Err(ChainBreak::HeadMismatch {
            head_seq: seq,
            last_seq: last,
        }),
        None if last != 0 => Err(ChainBreak::HeadMismatch {
            head_seq: 0,
            last_seq: last,
        }),
        _ => Ok(last),
    }
}

/// What a head signature covers.
fn signed_message(tenant: Uuid, seq: i64, hash: &[u8], signed_at: time::OffsetDateTime) -> Vec<u8> {
    format!(
        "akta-audit-head-v1\n{tenant}\n{seq}\n{}\n{}",
        hex::encode(hash),
        signed_at.unix_timestamp_nanos() / 1000
    )
    .into_bytes()
}

/// Short id of a public key: the first 8 bytes of the SHA-256 of its raw form, in hex.
pub fn key_id(key: &PKey<Public>) -> Result<String, DbError> {
    let raw = key
        .raw_public_key()
        .map_err(|e| DbError::Conflict(format!("audit key: {e}")))?;
    Ok(hex::encode(&openssl::sha::sha256(&raw)[..8]))
}

fn ssl_err(e: openssl::error::ErrorStack) -> DbError {
    DbError::Conflict(format!("audit signature: {e}"))
}

/// Checks signatures against the chain: each must verify with a known key and name an entry
/// whose hash is still the signed one.
pub fn verify_signatures(
    tenant: Uuid,
    entries: &[ChainEntry],
    signatures: &[HeadSignature],
    keys: &[PKey<Public>],
) -> Result<(), ChainBreak> {
    for s in signatures {
        let bad = |reason: String| ChainBreak::BadSignature { seq: s.seq, reason };
        let key = keys
            .iter()
            .find(|k| key_id(k).map(|id| id == s.key_id).unwrap_or(false))
            .ok_or_else(|| bad(format!("signed by unknown key {}", s.key_id)))?;
        let message = signed_message(tenant, s.seq, &s.hash, s.signed_at);
        let ok = Verifier::new_without_digest(key)
            .and_then(|mut v| v.verify_oneshot(&s.signature, &message))
            .map_err(|e| bad(e.to_string()))?;
        if !ok {
            return Err(bad("signature does not match".into()));
        }
        let entry = entries.iter().find(|e| e.seq == s.seq);
        if entry.map(|e| e.hash.as_slice()) != Some(s.hash.as_slice()) {
            return Err(ChainBreak::SignedEntryChanged { seq: s.seq });
        }
    }
    Ok(())
}

impl TenantTx {
    pub async fn audit_chain(&mut self) -> Result<Vec<ChainEntry>, DbError> {
        Ok(sqlx::query_as::<_, ChainEntry>(
            "SELECT id, seq, at, actor, action, object_type, object_id, file_id,
                    before::text AS before, after::text AS after, prev_hash, hash
               FROM audit_events ORDER BY seq, id",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn audit_head(&mut self) -> Result<Option<(i64, Vec<u8>)>, DbError> {
        Ok(sqlx::query_as("SELECT seq, hash FROM audit_heads")
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn audit_signatures(&mut self) -> Result<Vec<HeadSignature>, DbError> {
        Ok(sqlx::query_as::<_, HeadSignature>(
            "SELECT seq, hash, signed_at, key_id, signature FROM audit_signatures ORDER BY seq, id",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Signs the current chain head unless it is signed already. Returns the head's seq and,
    /// when it was signed just now, the new signature (to be anchored outside PostgreSQL).
    pub async fn sign_audit_head(
        &mut self,
        key: &PKey<Private>,
    ) -> Result<Option<(i64, Option<HeadSignature>)>, DbError> {
        let Some((seq, hash)) = self.audit_head().await? else {
            return Ok(None);
        };
        let (already,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM audit_signatures WHERE seq = $1 AND hash = $2)",
        )
        .bind(seq)
        .bind(&hash)
        .fetch_one(&mut *self.tx)
        .await?;
        if already {
            return Ok(Some((seq, None)));
        }
        let public = PKey::public_key_from_raw_bytes(
            &key.raw_public_key().map_err(ssl_err)?,
            openssl::pkey::Id::ED25519,
        )
        .map_err(ssl_err)?;
        // Microseconds, as PostgreSQL stores them, so the signed message can be rebuilt.
        let now = time::OffsetDateTime::now_utc();
        let signed_at = now - time::Duration::nanoseconds(i64::from(now.nanosecond() % 1000));
        let message = signed_message(self.tenant.0, seq, &hash, signed_at);
        let signature = Signer::new_without_digest(key)
            .and_then(|mut s| s.sign_oneshot_to_vec(&message))
            .map_err(ssl_err)?;
        sqlx::query(
            "INSERT INTO audit_signatures (tenant_id, seq, hash, signed_at, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.tenant.0)
        .bind(seq)
        .bind(&hash)
        .bind(signed_at)
        .bind(key_id(&public)?)
        .bind(&signature)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some((
            seq,
            Some(HeadSignature {
                seq,
                hash,
                signed_at,
                key_id: key_id(&public)?,
                signature,
            }),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &[u8], tenant: Uuid) -> ChainEntry {
        let mut e = ChainEntry {
            id: seq * 10,
            seq,
            at: time::OffsetDateTime::from_unix_timestamp(1_790_000_000 + seq).expect("time"),
            actor: "token:test".into(),
            action: "file.created".into(),
            object_type: "file".into(),
            object_id: Uuid::nil(),
            file_id: None,
            before: None,
            after: Some(format!("{{\"n\": {seq}}}")),
            prev_hash: prev.to_vec(),
            hash: Vec::new(),
        };
        e.hash = entry_hash(prev, &payload(tenant, &e)).to_vec();
        e
    }

    fn chain(n: i64, tenant: Uuid) -> Vec<ChainEntry> {
        let mut out: Vec<ChainEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or(GENESIS.to_vec());
            out.push(entry(seq, &prev, tenant));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_and_each_kind_of_tampering_is_named() {
        let t = Uuid::new_v4();
        let c = chain(5, t);
        let head = Some((5, c[4].hash.clone()));
        assert_eq!(verify_chain(t, &c, head.clone()), Ok(5));

        let mut edited = c.clone();
        edited[2].actor = "token:mallory".into();
        assert_eq!(
            verify_chain(t, &edited, head.clone()),
            Err(ChainBreak::Changed { seq: 3, id: 30 })
        );

        let mut deleted = c.clone();
        deleted.remove(1);
        assert!(matches!(
            verify_chain(t, &deleted, head.clone()),
            Err(ChainBreak::Missing {
                expected_seq: 2,
                ..
            })
        ));

        let mut cut = c.clone();
        cut.pop();
        assert!(matches!(
            verify_chain(t, &cut, head.clone()),
            Err(ChainBreak::HeadMismatch { .. })
        ));

        // Another tenant's chain does not verify as this tenant's: the tenant is hashed in.
        assert!(verify_chain(Uuid::new_v4(), &c, head).is_err());
    }

    #[test]
    fn head_signatures_verify_only_with_the_right_key_and_hash() {
        let t = Uuid::new_v4();
        let c = chain(3, t);
        let key = PKey::generate_ed25519().expect("key");
        let public = PKey::public_key_from_raw_bytes(
            &key.raw_public_key().expect("raw"),
            openssl::pkey::Id::ED25519,
        )
        .expect("public");
        let at = time::OffsetDateTime::from_unix_timestamp(1_790_000_100).expect("time");
        let sig = Signer::new_without_digest(&key)
            .and_then(|mut s| s.sign_oneshot_to_vec(&signed_message(t, 3, &c[2].hash, at)))
            .expect("sign");
        let s = HeadSignature {
            seq: 3,
            hash: c[2].hash.clone(),
            signed_at: at,
            key_id: key_id(&public).expect("id"),
            signature: sig,
        };
        assert_eq!(
            verify_signatures(
                t,
                &c,
                std::slice::from_ref(&s),
                std::slice::from_ref(&public)
            ),
            Ok(())
        );
        let other = PKey::generate_ed25519().expect("key");
        let other_pub = PKey::public_key_from_raw_bytes(
            &other.raw_public_key().expect("raw"),
            openssl::pkey::Id::ED25519,
        )
        .expect("public");
        assert!(verify_signatures(t, &c, std::slice::from_ref(&s), &[other_pub]).is_err());
        let mut rewritten = c.clone();
        rewritten[2].hash = vec![1; 32];
        assert_eq!(
            verify_signatures(t, &rewritten, &[s], &[public]),
            Err(ChainBreak::SignedEntryChanged { seq: 3 })
        );
    }
}
