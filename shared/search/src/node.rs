//! This node's search indexes: one directory per schema version with one index per tenant,
//! and the position of the index log applied so far (`applied.seq`), which the index applier
//! (akta-jobs) advances after each committed batch.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

use uuid::Uuid;

use crate::{IndexManager, SearchError};

const POSITION_FILE: &str = "applied.seq";

/// A node's search indexes and how far it has applied the log.
pub struct SearchIndex {
    pub manager: IndexManager,
    root: PathBuf,
    applied: AtomicI64,
}

impl SearchIndex {
    /// Opens (creating if needed) the indexes under `base`, in the directory of the current
    /// schema version. Directories of other versions hold stale plaintext and are removed;
    /// the new version starts without a position, which makes the applier rebuild it.
    pub fn open(base: PathBuf) -> Result<Self, SearchError> {
        let current = format!("schema-{}", crate::SCHEMA_VERSION);
        let root = base.join(&current);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| SearchError::Io(path, e)
        };
        std::fs::create_dir_all(&root).map_err(io(&root))?;
        // The segments hold document text in the clear: nobody but the service may look in.
        for dir in [&base, &root] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(dir))?;
        }
        for entry in std::fs::read_dir(&base).map_err(io(&base))? {
            let entry = entry.map_err(io(&base))?;
            if entry.file_name() != current.as_str() {
                let path = entry.path();
                tracing::info!(path = %path.display(), "removing an index of an old schema");
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.map_err(io(&path))?;
            }
        }
        let manager = IndexManager::open(root.clone())?;
        let applied = read_position(&root)?;
        Ok(Self {
            manager,
            root,
            applied: AtomicI64::new(applied),
        })
    }

    /// Directory of one tenant's index.
    pub fn tenant_dir(&self, tenant: Uuid) -> PathBuf {
        self.root.join(tenant.hyphenated().to_string())
    }

    /// The last log sequence number applied and committed (-1: none yet).
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Records that everything up to `seq` is applied and committed: written atomically
    /// (temporary file, then rename) before it counts.
    pub fn set_applied(&self, seq: i64) -> Result<(), SearchError> {
        let tmp = self.root.join(format!("{POSITION_FILE}.tmp"));
        std::fs::write(&tmp, seq.to_string()).map_err(|e| SearchError::Io(tmp.clone(), e))?;
        let target = self.root.join(POSITION_FILE);
        std::fs::rename(&tmp, &target).map_err(|e| SearchError::Io(target, e))?;
        self.applied.store(seq, Ordering::Release);
        Ok(())
    }
}

fn read_position(root: &Path) -> Result<i64, SearchError> {
    let path = root.join(POSITION_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => s
            .trim()
            .parse()
            .map_err(|_| SearchError::Config(format!("{POSITION_FILE} is not a number"))),
        // -1: never applied anything; the applier starts with a rebuild.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(-1),
        Err(e) => Err(SearchError::Io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn index_directories_are_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("index");
        let index = SearchIndex::open(base.clone()).expect("open");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&base), 0o700);
        assert_eq!(mode(&index.root), 0o700);
    }
}
