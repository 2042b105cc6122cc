//! The master key of encryption at rest: from a file or the environment, never from the
//! database. The embedded default creates its own on first start.

use akta_db::Db;
use akta_keys::keyring::{Key256, Keyring};
use akta_keys::KeyError;
use anyhow::{bail, Context};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::config::{Config, MasterKeySource};

const NOT_CONFIGURED: &str = "no master key configured. Akta encrypts all content with keys \
that a master key protects, and with an external database it must come from outside it: set \
AKTA_MASTER_KEY_FILE to a file holding the key (create one with \
`(umask 077; openssl rand -hex 32 > /etc/akta/master.key)`), or AKTA_MASTER_KEY to the key \
itself, or master_key_file in akta.toml. Keep it out of the database and its backups";

/// Where the master key comes from; an error that says what to set if nowhere. `serve` asks
/// before it opens anything.
pub fn source(config: &Config) -> anyhow::Result<&MasterKeySource> {
    config.master_key.as_ref().context(NOT_CONFIGURED)
}

/// Checks that the master key can be read and parsed, without opening any database; a key
/// file the embedded default will create on its first start counts as fine. Returns its id.
pub fn check(config: &Config, embedded: bool) -> anyhow::Result<String> {
    let source = source(config)?;
    let (text, origin) = match source {
        MasterKeySource::Value(text) => (text.clone(), "AKTA_MASTER_KEY".to_owned()),
        MasterKeySource::File(path) if embedded && !path.exists() => {
            return Ok(format!("created at {} on the first start", path.display()));
        }
        MasterKeySource::File(path) => (read(path)?, path.display().to_string()),
    };
    let keyring = Keyring::from_text(&text).map_err(|e| explain(e).context(origin))?;
    Ok(keyring.master_key_id().to_owned())
}

/// The keyring of this process. `embedded`: a missing key file is created, unless the
/// database already holds tenant keys (then it was lost and a new one would not open them).
pub async fn load(config: &Config, db: &Db, embedded: bool) -> anyhow::Result<Keyring> {
    let source = source(config)?;
    let (text, origin) = match source {
        MasterKeySource::Value(text) => (text.clone(), "AKTA_MASTER_KEY".to_owned()),
        MasterKeySource::File(path) => {
            if embedded && !path.exists() {
                let in_use = db.master_key_ids().await?;
                if let Some((id, _)) = in_use.first() {
                    bail!(
                        "the master key file {} is missing, but the database holds tenant keys \
                         wrapped by master key {id}; restore that file",
                        path.display()
                    );
                }
                write_new(path)?;
                tracing::info!(path = %path.display(), "created the master key of the embedded default");
            }
            (read(path)?, path.display().to_string())
        }
    };
    Keyring::from_text(&text).map_err(|e| explain(e).context(origin))
}

fn read(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the master key file {}", path.display()))?;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777),
            "the master key file is readable by other users; chmod 600 it");
    }
    Ok(text)
}

/// Reads the new key for `keys rotate-master`: a file with exactly one key.
pub fn read_new(path: &Path) -> anyhow::Result<Keyring> {
    let keyring = Keyring::from_text(&read(path)?)
        .map_err(|e| explain(e).context(path.display().to_string()))?;
    if keyring.ids().len() != 1 {
        bail!("{} must hold exactly one key", path.display());
    }
    Ok(keyring)
}

/// Writes a new random key as hex (mode 0600, never overwriting).
fn write_new(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let key = Key256::generate().map_err(|e| anyhow::anyhow!("generating a master key: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", key.to_hex())?;
    file.sync_all()?;
    Ok(())
}

/// Operators need the cause itself, not the HTTP layer's "internal error".
pub fn explain(e: KeyError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}
