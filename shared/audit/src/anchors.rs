//! Signed chain heads kept outside PostgreSQL: one small JSON object per signed head in the
//! blob store, and optionally one line per head in an append-only file. An anchor is only as
//! good as its signature, so a forged one is refused like a forged database row.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use akta_blob::{BlobKey, BlobStore};
use akta_db::audit_chain::HeadSignature;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AuditError;

const PREFIX: &str = "audit-anchors";
/// Anchors are a few hundred bytes; anything larger is not one.
const MAX_ANCHOR_BYTES: u64 = 64 * 1024;

/// One signed chain head, as anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub tenant: Uuid,
    pub seq: i64,
    #[serde(with = "hex::serde")]
    pub hash: Vec<u8>,
    /// Microseconds since the epoch, as PostgreSQL stores the signing time (signed message).
    pub signed_at_micros: i64,
    pub key_id: String,
    #[serde(with = "hex::serde")]
    pub signature: Vec<u8>,
}

impl Anchor {
    pub fn of(tenant: Uuid, s: &HeadSignature) -> Anchor {
        Anchor {
            tenant,
            seq: s.seq,
            hash: s.hash.clone(),
            signed_at_micros: i64::try_from(s.signed_at.unix_timestamp_nanos() / 1000)
                .unwrap_or(i64::MAX),
            key_id: s.key_id.clone(),
            signature: s.signature.clone(),
        }
    }

    /// As a database signature row, to be checked with the same rules.
    pub fn as_signature(&self) -> Option<HeadSignature> {
        let signed_at = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.signed_at_micros) * 1000,
        )
        .ok()?;
        Some(HeadSignature {
            seq: self.seq,
            hash: self.hash.clone(),
            signed_at,
            key_id: self.key_id.clone(),
            signature: self.signature.clone(),
        })
    }

    fn blob_key(&self) -> Result<BlobKey, AuditError> {
        // The hash in the name: two different heads with one seq (a rewritten history that
        // got signed) never overwrite each other.
        Ok(BlobKey::parse(&format!(
            "{PREFIX}/{}/{:020}-{}.json",
            self.tenant,
            self.seq,
            hex::encode(&self.hash[..self.hash.len().min(8)])
        ))?)
    }
}

/// Where anchors go and are read from.
#[derive(Clone, Default)]
pub struct Anchors {
    blobs: Option<Arc<dyn BlobStore>>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchors")
            .field("blobs", &self.blobs.as_ref().map(|b| b.backend_name()))
            .field("file", &self.file)
            .finish()
    }
}

impl Anchors {
    /// Anchors in the blob store and, with `file`, in that append-only file as well.
    pub fn new(blobs: Arc<dyn BlobStore>, file: Option<PathBuf>) -> Anchors {
        Anchors {
            blobs: Some(blobs),
            file,
        }
    }

    /// No anchors at all: signing writes none, verifying has none to check against.
    pub fn none() -> Anchors {
        Anchors::default()
    }

    pub fn is_none(&self) -> bool {
        self.blobs.is_none() && self.file.is_none()
    }

    /// Writes one anchor everywhere configured.
    pub async fn write(&self, anchor: &Anchor) -> Result<(), AuditError> {
        let json = serde_json::to_vec(anchor)
            .map_err(|e| AuditError::Anchors(format!("encoding an anchor: {e}")))?;
        if let Some(blobs) = &self.blobs {
            let body: akta_blob::ByteStream = Box::pin(futures_util::stream::once({
                let json = bytes::Bytes::from(json.clone());
                async move { Ok::<_, std::io::Error>(json) }
            }));
            blobs
                .put(&anchor.blob_key()?, body, MAX_ANCHOR_BYTES)
                .await?;
        }
        if let Some(path) = &self.file {
            let (path, mut line) = (path.clone(), json);
            line.push(b'\n');
            tokio::task::spawn_blocking(move || {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)?;
                f.write_all(&line)?;
                f.sync_data()
            })
            .await
            .map_err(|e| AuditError::Anchors(e.to_string()))?
            .map_err(|e| AuditError::Anchors(format!("appending to the anchor file: {e}")))?;
        }
        Ok(())
    }

    /// Every anchor of `tenant`, from every configured place (duplicates removed).
    pub async fn read(&self, tenant: Uuid) -> Result<Vec<Anchor>, AuditError> {
        let mut out = Vec::new();
        if let Some(blobs) = &self.blobs {
            for key in blobs.list(&format!("{PREFIX}/{tenant}/")).await? {
                let mut object = blobs.get(&key, None).await?;
                let mut bytes = Vec::new();
                while let Some(chunk) = object.body.next().await {
                    bytes.extend_from_slice(
                        &chunk.map_err(|e| {
                            AuditError::Anchors(format!("reading anchor {key}: {e}"))
                        })?,
                    );
                    if bytes.len() as u64 > MAX_ANCHOR_BYTES {
                        break;
                    }
                }
                out.push(serde_json::from_slice::<Anchor>(&bytes).map_err(|e| {
                    AuditError::Anchors(format!("anchor {key} is not readable: {e}"))
                })?);
            }
        }
        if let Some(path) = &self.file {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => {
                    return Err(AuditError::Anchors(format!(
                        "reading {}: {e}",
                        path.display()
                    )))
                }
            };
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let anchor: Anchor = serde_json::from_str(line).map_err(|e| {
                    AuditError::Anchors(format!("{} line {}: {e}", path.display(), i + 1))
                })?;
                if anchor.tenant == tenant {
                    out.push(anchor);
                }
            }
        }
        out.sort_by(|a, b| (a.seq, &a.hash).cmp(&(b.seq, &b.hash)));
        out.dedup();
        Ok(out)
    }
}
