//! The key hierarchy of encryption at rest, and its rotation.
//!
//! ```text
//! master key (file or environment, never in the database)
//!   └─ wraps tenant key v1, v2, …       tenant_keys.wrapped_key       context "tenant:<id>:v<n>"
//!        └─ wraps one DEK per blob      document_versions.wrapped_dek  context "blob:<blob key>"
//!             └─ encrypts the blob (akta_crypto's segmented AES-256-GCM)
//! ```
//!
//! Rotating a tenant key re-wraps DEKs (32 bytes each), rotating the master key re-wraps tenant
//! keys; no blob is read or rewritten. Deleting a tenant's key rows makes its blobs unreadable.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use akta_blob::BlobKey;
use akta_crypto::{decrypt_to_vec, encrypt_to_vec, unwrap_key, wrap_key, CryptoError};
use akta_db::repo::oidc::SealedSecret;
use akta_db::{Db, SealedText, StoredDek, StoredText, TenantKeyRow, TenantTx};
use akta_domain::TenantId;
use serde_json::json;

use crate::KeyError;

pub use akta_crypto::Key256;

/// DEKs re-wrapped per transaction during a tenant key rotation: small enough to keep row
/// locks short, large enough that a million versions take a few thousand transactions.
const REWRAP_BATCH: i64 = 500;

/// The master key(s) of this process. The first wraps; any further ones are accepted for
/// unwrapping only, so processes can learn a new master key before a rotation starts using it.
#[derive(Clone)]
pub struct Keyring {
    masters: Arc<Vec<MasterKey>>,
}

struct MasterKey {
    id: String,
    key: Key256,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master_key_ids", &self.ids())
            .finish()
    }
}

/// Short public name of a master key: the first 8 bytes of its SHA-256, in hex. Stored next to
/// every wrapped tenant key, so a wrong master key is named instead of failing obscurely.
pub fn fingerprint(key: &Key256) -> String {
    hex::encode(&openssl::sha::sha256(key.as_bytes())[..8])
}

fn tenant_context(tenant: TenantId, version: i32) -> Vec<u8> {
    format!("tenant:{}:v{version}", tenant.0).into_bytes()
}

fn blob_context(blob_key: &str) -> Vec<u8> {
    format!("blob:{blob_key}").into_bytes()
}

fn secret_context(tenant: TenantId) -> Vec<u8> {
    format!("oidc-client-secret:{}", tenant.0).into_bytes()
}

fn text_context(blob_key: &str) -> Vec<u8> {
    format!("text:{blob_key}").into_bytes()
}

fn deleted() -> KeyError {
    KeyError::Conflict("the tenant is deleted and its keys are destroyed".into())
}

fn concurrent() -> KeyError {
    KeyError::Conflict(
        "another process changed the tenant's keys at the same time; try again".into(),
    )
}

/// What a tenant key rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub version: i32,
    /// DEKs re-wrapped from older versions to `version`.
    pub rewrapped: u64,
    /// Older versions whose key material was erased.
    pub retired: Vec<i32>,
}

/// What a master key rotation did for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterRotation {
    pub tenant: String,
    /// Tenant key versions re-wrapped with the new master key.
    pub rewrapped: Vec<i32>,
}

impl Keyring {
    /// A keyring with one master key.
    pub fn new(master: Key256) -> Keyring {
        Keyring::with_accepted(master, Vec::new())
    }

    /// `current` wraps new tenant keys; `accepted` only unwrap (during a master key rotation).
    pub fn with_accepted(current: Key256, accepted: Vec<Key256>) -> Keyring {
        let masters = std::iter::once(current)
            .chain(accepted)
            .map(|key| MasterKey {
                id: fingerprint(&key),
                key,
            })
            .collect();
        Keyring {
            masters: Arc::new(masters),
        }
    }

    /// Parses a master key file or variable: one key per line (64 hex digits or base64 of 32
    /// bytes); the first line is the current key, further lines are accepted for unwrapping.
    /// Empty lines and lines starting with `#` are ignored.
    pub fn from_text(text: &str) -> Result<Keyring, KeyError> {
        let invalid = |e: CryptoError| KeyError::Invalid {
            field: "master key".into(),
            detail: e.to_string(),
        };
        let mut keys = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| Key256::parse_text(line).map_err(invalid));
        let current = keys.next().ok_or_else(|| KeyError::Invalid {
            field: "master key".into(),
            detail: "contains no key".into(),
        })??;
        let accepted = keys.collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring::with_accepted(current, accepted))
    }

    /// Fingerprint of the current master key.
    pub fn master_key_id(&self) -> &str {
        &self.masters[0].id
    }

    /// Fingerprints of all master keys this keyring can unwrap with, current first.
    pub fn ids(&self) -> Vec<&str> {
        self.masters.iter().map(|m| m.id.as_str()).collect()
    }

    fn current(&self) -> &Key256 {
        &self.masters[0].key
    }

    fn master(&self, id: &str) -> Result<&Key256, KeyError> {
        self.masters
            .iter()
            .find(|m| m.id == id)
            .map(|m| &m.key)
            .ok_or_else(|| {
                KeyError::Internal(format!(
                    "a tenant key is wrapped by master key {id}, which is not configured \
                     (configured: {})",
                    self.ids().join(", ")
                ))
            })
    }

    /// Fails if the database holds tenant keys wrapped by a master key this keyring lacks:
    /// `akta serve` refuses to start rather than fail every request of those tenants.
    pub async fn check_database(&self, db: &Db) -> Result<(), KeyError> {
        let unknown: Vec<String> = db
            .master_key_ids()
            .await?
            .into_iter()
            .filter(|(id, _)| self.master(id).is_err())
            .map(|(id, count)| format!("{id} ({count} tenant keys)"))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(KeyError::Internal(format!(
            "the configured master key ({}) cannot open tenant keys wrapped by master key {}; \
             set AKTA_MASTER_KEY_FILE to the right key file",
            self.ids().join(", "),
            unknown.join(", ")
        )))
    }

    /// Unwraps one stored tenant key version.
    fn open_tenant_key(&self, tenant: TenantId, row: &TenantKeyRow) -> Result<Key256, KeyError> {
        let wrapped = row.wrapped_key.as_deref().ok_or_else(|| {
            KeyError::Internal(format!(
                "tenant key v{} of tenant {} is retired",
                row.version, tenant.0
            ))
        })?;
        self.unwrap_tenant_key(tenant, row.version, wrapped, &row.master_key_id)
    }

    fn unwrap_tenant_key(
        &self,
        tenant: TenantId,
        version: i32,
        wrapped: &[u8],
        master_key_id: &str,
    ) -> Result<Key256, KeyError> {
        let master = self.master(master_key_id)?;
        Ok(unwrap_key(
            master,
            wrapped,
            &tenant_context(tenant, version),
        )?)
    }

    /// Creates the next tenant key version, wrapped by the current master key, and records
    /// `action` in the audit log. `None` if another process created that version meanwhile.
    async fn add_tenant_key(
        &self,
        tx: &mut TenantTx,
        action: &str,
    ) -> Result<Option<(i32, Key256)>, KeyError> {
        tx.lock_tenant_keys().await?;
        let version = tx.next_tenant_key_version().await?;
        let key = Key256::generate()?;
        let wrapped = wrap_key(self.current(), &key, &tenant_context(tx.tenant(), version))?;
        let Some(row) = tx
            .insert_tenant_key(version, &wrapped, self.master_key_id())
            .await?
        else {
            return Ok(None);
        };
        let tenant = tx.tenant().0;
        tx.audit_tenant_event(action, "tenant_key", tenant, &row)
            .await?;
        Ok(Some((version, key)))
    }

    /// Creates the first key of a new tenant, in the transaction that creates the tenant.
    pub async fn create_tenant_key(&self, tx: &mut TenantTx) -> Result<i32, KeyError> {
        match self.add_tenant_key(tx, "key.created").await? {
            Some((version, _)) => Ok(version),
            None => Err(concurrent()),
        }
    }

    /// The tenant's current key (the newest live version), share-locked until `tx` ends. A
    /// tenant created before encryption existed gets its first key here.
    pub async fn current_tenant_key(&self, tx: &mut TenantTx) -> Result<(i32, Key256), KeyError> {
        if let Some(row) = tx.current_tenant_key().await? {
            return Ok((row.version, self.open_tenant_key(tx.tenant(), &row)?));
        }
        if tx.tenant_status().await? == "deleted" {
            return Err(deleted());
        }
        // Another request may be creating it right now: wait for it, then look again.
        tx.lock_tenant_keys().await?;
        if let Some(row) = tx.current_tenant_key().await? {
            return Ok((row.version, self.open_tenant_key(tx.tenant(), &row)?));
        }
        if let Some(created) = self.add_tenant_key(tx, "key.created").await? {
            return Ok(created);
        }
        // A concurrent request created it first; its row is committed and visible now.
        let row = tx.current_tenant_key().await?.ok_or_else(concurrent)?;
        Ok((row.version, self.open_tenant_key(tx.tenant(), &row)?))
    }

    /// One version of the tenant's key.
    pub async fn tenant_key(&self, tx: &mut TenantTx, version: i32) -> Result<Key256, KeyError> {
        let row = tx.tenant_key(version).await?.ok_or_else(|| {
            KeyError::Internal(format!(
                "tenant key v{version} of tenant {} does not exist (destroyed?)",
                tx.tenant().0
            ))
        })?;
        self.open_tenant_key(tx.tenant(), &row)
    }

    /// Wraps a new blob's DEK with the tenant's current key, in the transaction that stores the
    /// version row: the share lock on the key version keeps a rotation from retiring it first.
    pub async fn wrap_dek(
        &self,
        tx: &mut TenantTx,
        blob_key: &BlobKey,
        dek: &Key256,
    ) -> Result<StoredDek, KeyError> {
        let (version, key) = self.current_tenant_key(tx).await?;
        Ok(StoredDek {
            wrapped: wrap_key(&key, dek, &blob_context(blob_key.as_str()))?,
            key_version: version,
        })
    }

    /// [`Keyring::wrap_dek`] under a tenant key already at hand (from
    /// [`Keyring::current_tenant_key`] in the same transaction): a batch opens it once.
    pub fn wrap_dek_under(
        &self,
        tenant_key: &(i32, Key256),
        blob_key: &BlobKey,
        dek: &Key256,
    ) -> Result<StoredDek, KeyError> {
        Ok(StoredDek {
            wrapped: wrap_key(&tenant_key.1, dek, &blob_context(blob_key.as_str()))?,
            key_version: tenant_key.0,
        })
    }

    /// The DEK of a stored blob; `None` for content stored before encryption existed.
    pub async fn open_dek(
        &self,
        tx: &mut TenantTx,
        blob_key: &BlobKey,
    ) -> Result<Option<Key256>, KeyError> {
        let found = tx.content_key(blob_key.as_str()).await?;
        self.open_dek_from(tx.tenant(), blob_key, found)
    }

    /// [`Keyring::open_dek`] with the version's key columns already read (the index
    /// applier reads them with the documents).
    pub fn open_dek_from(
        &self,
        tenant: TenantId,
        blob_key: &BlobKey,
        found: akta_db::ContentKey,
    ) -> Result<Option<Key256>, KeyError> {
        let (Some(wrapped_dek), Some(version)) = (found.wrapped_dek, found.tenant_key_version)
        else {
            return Ok(None);
        };
        let (Some(wrapped_key), Some(master_key_id)) = (found.wrapped_key, found.master_key_id)
        else {
            return Err(KeyError::Internal(format!(
                "tenant key v{version} of tenant {} is gone (destroyed or retired)",
                tenant.0
            )));
        };
        let key = self.unwrap_tenant_key(tenant, version, &wrapped_key, &master_key_id)?;
        Ok(Some(unwrap_key(
            &key,
            &wrapped_dek,
            &blob_context(blob_key.as_str()),
        )?))
    }

    /// Encrypts a version's extracted text under a fresh key wrapped by the version's DEK;
    /// `None` when the version's content is itself stored unencrypted.
    pub async fn seal_text(
        &self,
        tx: &mut TenantTx,
        blob_key: &BlobKey,
        text: &str,
    ) -> Result<Option<SealedText>, KeyError> {
        let dek = self.open_dek(tx, blob_key).await?;
        Self::seal_text_under(dek.as_ref(), blob_key, text)
    }

    /// [`Keyring::seal_text`] with the version's DEK already opened (`None`: the content is
    /// stored unencrypted, so is its text).
    pub fn seal_text_under(
        dek: Option<&Key256>,
        blob_key: &BlobKey,
        text: &str,
    ) -> Result<Option<SealedText>, KeyError> {
        let Some(dek) = dek else {
            return Ok(None);
        };
        // Its own key: a DEK encrypts exactly one stream (segment nonces count from zero).
        let key = Key256::generate()?;
        Ok(Some(SealedText {
            ciphertext: encrypt_to_vec(&key, text.as_bytes())?,
            plain_len: i64::try_from(text.len())
                .map_err(|_| KeyError::Internal("extracted text too long".into()))?,
            wrapped_key: wrap_key(dek, &key, &text_context(blob_key.as_str()))?,
        }))
    }

    /// The extracted text as stored, opened with the version's DEK where it is sealed.
    pub async fn open_text(
        &self,
        tx: &mut TenantTx,
        stored: StoredText,
    ) -> Result<String, KeyError> {
        let (blob_key, sealed) = match stored {
            StoredText::Plain(text) => return Ok(text),
            StoredText::Sealed { blob_key, sealed } => (blob_key, sealed),
        };
        let key = BlobKey::parse(&blob_key)?;
        let dek = self.open_dek(tx, &key).await?;
        Self::open_sealed_text(dek, &blob_key, sealed)
    }

    /// [`Keyring::open_text`] with the version's key columns already read.
    pub fn open_text_from(
        &self,
        tenant: TenantId,
        found: akta_db::ContentKey,
        stored: StoredText,
    ) -> Result<String, KeyError> {
        let (blob_key, sealed) = match stored {
            StoredText::Plain(text) => return Ok(text),
            StoredText::Sealed { blob_key, sealed } => (blob_key, sealed),
        };
        let dek = self.open_dek_from(tenant, &BlobKey::parse(&blob_key)?, found)?;
        Self::open_sealed_text(dek, &blob_key, sealed)
    }

    fn open_sealed_text(
        dek: Option<Key256>,
        blob_key: &str,
        sealed: SealedText,
    ) -> Result<String, KeyError> {
        let dek = dek.ok_or_else(|| {
            KeyError::Internal(format!("sealed text of {blob_key} without a content key"))
        })?;
        let text_key = unwrap_key(&dek, &sealed.wrapped_key, &text_context(blob_key))?;
        let plain_len = u64::try_from(sealed.plain_len)
            .map_err(|_| KeyError::Internal("negative sealed text length".into()))?;
        let plain = decrypt_to_vec(&text_key, &sealed.ciphertext, plain_len)?;
        String::from_utf8(plain)
            .map_err(|_| KeyError::Internal(format!("sealed text of {blob_key} is not UTF-8")))
    }

    /// Seals a client secret under the tenant's current key: encrypted with a fresh key of
    /// its own, which the tenant key wraps (like a blob's DEK).
    pub async fn seal_secret(
        &self,
        tx: &mut TenantTx,
        secret: &str,
    ) -> Result<SealedSecret, KeyError> {
        let (version, tenant_key) = self.current_tenant_key(tx).await?;
        let key = Key256::generate()?;
        Ok(SealedSecret {
            ciphertext: encrypt_to_vec(&key, secret.as_bytes())?,
            plain_len: i64::try_from(secret.len())
                .map_err(|_| KeyError::Internal("secret too long".into()))?,
            wrapped_key: wrap_key(&tenant_key, &key, &secret_context(tx.tenant()))?,
            key_version: version,
        })
    }

    /// Opens a sealed client secret; fails once the tenant's keys are destroyed.
    pub async fn open_secret(
        &self,
        tx: &mut TenantTx,
        sealed: &SealedSecret,
    ) -> Result<String, KeyError> {
        let tenant_key = self.tenant_key(tx, sealed.key_version).await?;
        let key = unwrap_key(
            &tenant_key,
            &sealed.wrapped_key,
            &secret_context(tx.tenant()),
        )?;
        let len = u64::try_from(sealed.plain_len)
            .map_err(|_| KeyError::Internal("negative secret length".into()))?;
        String::from_utf8(decrypt_to_vec(&key, &sealed.ciphertext, len)?)
            .map_err(|_| KeyError::Internal("sealed secret is not UTF-8".into()))
    }

    /// Re-wraps the tenant's sealed client secret to `version` if an older key wraps it.
    async fn rewrap_secret(
        &self,
        tx: &mut TenantTx,
        version: i32,
        key: &Key256,
    ) -> Result<bool, KeyError> {
        let Some(sealed) = tx.oidc_config().await?.and_then(|c| c.sealed_secret()) else {
            return Ok(false);
        };
        if sealed.key_version >= version {
            return Ok(false);
        }
        let context = secret_context(tx.tenant());
        let old = self.tenant_key(tx, sealed.key_version).await?;
        let secret_key = unwrap_key(&old, &sealed.wrapped_key, &context)?;
        tx.store_sealed_oidc_secret(&SealedSecret {
            wrapped_key: wrap_key(key, &secret_key, &context)?,
            key_version: version,
            ..sealed
        })
        .await?;
        Ok(true)
    }

    /// Re-wraps the webhook signing secrets an older key wraps to `version`.
    async fn rewrap_webhook_secrets(
        &self,
        tx: &mut TenantTx,
        version: i32,
        key: &Key256,
    ) -> Result<u64, KeyError> {
        let context = secret_context(tx.tenant());
        let mut n = 0;
        for (id, sealed) in tx.webhook_secrets_below(version).await? {
            let old = self.tenant_key(tx, sealed.key_version).await?;
            let secret_key = unwrap_key(&old, &sealed.wrapped_key, &context)?;
            tx.rewrap_webhook_secret(id, &wrap_key(key, &secret_key, &context)?, version)
                .await?;
            n += 1;
        }
        Ok(n)
    }

    /// `akta keys rotate`: a new tenant key version, every DEK re-wrapped to it, older versions
    /// retired. Runs in system transactions, which see confidential Akten too: a DEK missed
    /// here would lose its key when the old version is retired.
    pub async fn rotate_tenant_key(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: &str,
    ) -> Result<Rotation, KeyError> {
        let mut tx = db.system_tx(tenant, actor).await?;
        if tx.tenant_status().await? == "deleted" {
            return Err(deleted());
        }
        if self.add_tenant_key(&mut tx, "key.rotated").await?.is_none() {
            return Err(concurrent());
        }
        tx.commit().await?;
        self.finish_rotation(db, tenant, actor).await
    }

    /// Re-wraps every DEK still wrapped by an older tenant key version with the current one,
    /// one batch per transaction, then retires the older versions. Each batch commits on its
    /// own, so an interrupted rotation loses nothing and running again finishes it.
    pub async fn finish_rotation(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: &str,
    ) -> Result<Rotation, KeyError> {
        let mut rewrapped = 0u64;
        loop {
            let mut tx = db.system_tx(tenant, actor).await?;
            let (version, key) = self.current_tenant_key(&mut tx).await?;
            let batch = tx.deks_below(version, REWRAP_BATCH).await?;
            if batch.is_empty() {
                if self.rewrap_secret(&mut tx, version, &key).await? {
                    rewrapped += 1;
                }
                rewrapped += self.rewrap_webhook_secrets(&mut tx, version, &key).await?;
                // None: an upload that wrapped with an old version committed meanwhile; the
                // next round re-wraps it (dropping `tx` rolls this one back).
                let Some(retired) = tx.retire_tenant_keys_below(version).await? else {
                    continue;
                };
                if !retired.is_empty() {
                    let after =
                        json!({"version": version, "retired": retired, "rewrapped": rewrapped});
                    tx.audit_tenant_event("key.retired", "tenant_key", tenant.0, &after)
                        .await?;
                }
                tx.commit().await?;
                return Ok(Rotation {
                    version,
                    rewrapped,
                    retired,
                });
            }
            let mut old_keys: HashMap<i32, Key256> = HashMap::new();
            for row in &batch {
                let old = match old_keys.entry(row.tenant_key_version) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => {
                        slot.insert(self.tenant_key(&mut tx, row.tenant_key_version).await?)
                    }
                };
                let context = blob_context(&row.blob_key);
                let dek = unwrap_key(old, &row.wrapped_dek, &context)?;
                let wrapped = wrap_key(&key, &dek, &context)?;
                tx.rewrap_dek(row.id, &wrapped, version).await?;
            }
            tx.commit().await?;
            rewrapped += batch.len() as u64;
        }
    }

    /// `akta keys rotate-master`: re-wraps every live tenant key of every tenant with the
    /// current master key of `new`. Keys already wrapped by it are skipped, so running it
    /// again (after an interruption, or to catch keys created meanwhile) is safe.
    pub async fn rotate_master(
        &self,
        db: &Db,
        new: &Keyring,
        actor: &str,
    ) -> Result<Vec<MasterRotation>, KeyError> {
        let new_id = new.master_key_id();
        let mut report = Vec::new();
        for tenant in db.list_tenants().await? {
            let id = TenantId(tenant.id);
            let mut tx = db.system_tx(id, actor).await?;
            let mut rewrapped = Vec::new();
            let mut from = BTreeSet::new();
            for row in tx.lock_live_tenant_keys().await? {
                if row.master_key_id == new_id {
                    continue;
                }
                let key = self.open_tenant_key(id, &row)?;
                let wrapped = wrap_key(new.current(), &key, &tenant_context(id, row.version))?;
                tx.rewrap_tenant_key(row.version, &wrapped, new_id).await?;
                rewrapped.push(row.version);
                from.insert(row.master_key_id);
            }
            if !rewrapped.is_empty() {
                let after = json!({"from": from, "to": new_id, "versions": rewrapped});
                tx.audit_tenant_event("key.master_rotated", "tenant_key", tenant.id, &after)
                    .await?;
            }
            tx.commit().await?;
            report.push(MasterRotation {
                tenant: tenant.slug,
                rewrapped,
            });
        }
        Ok(report)
    }
}
