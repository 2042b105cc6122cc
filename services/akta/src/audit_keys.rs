//! Key files for signing the audit log.

use anyhow::{bail, Context};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes a new private key to `path` (mode 0600, never overwriting) and returns the public
/// key as PEM text.
pub fn generate(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        bail!(
            "{} exists already; refusing to overwrite a signing key",
            path.display()
        );
    }
    let (private, public) = akta_audit::generate_key_pair()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(&private)?;
    file.sync_all()?;
    Ok(String::from_utf8_lossy(&public).into_owned())
}
