//! Finding the PostgreSQL server binaries of this machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ClusterError;

/// Programs a cluster needs; a candidate directory must hold all of them.
const REQUIRED: [&str; 4] = ["initdb", "pg_ctl", "postgres", "pg_isready"];

/// A directory with the PostgreSQL server binaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgBinaries {
    pub bin_dir: PathBuf,
}

impl PgBinaries {
    /// `pg_config --bindir` if it holds the server binaries (it may belong to a client-only
    /// install), else the highest version in /usr/lib/postgresql/*/bin (Debian, Ubuntu), else
    /// /usr/local/pgsql/bin (source installs).
    pub fn locate() -> Result<PgBinaries, ClusterError> {
        let candidates = pg_config_bindir()
            .into_iter()
            .chain(debian_bindirs())
            .chain([PathBuf::from("/usr/local/pgsql/bin")]);
        for dir in candidates {
            if has_server_binaries(&dir) {
                return Ok(PgBinaries { bin_dir: dir });
            }
        }
        Err(ClusterError::BinariesNotFound)
    }

    /// The path of one program in the directory.
    pub fn bin(&self, program: &str) -> PathBuf {
        self.bin_dir.join(program)
    }
}

fn has_server_binaries(dir: &Path) -> bool {
    REQUIRED.iter().all(|program| dir.join(program).is_file())
}

fn pg_config_bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?;
    let dir = dir.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// /usr/lib/postgresql/<version>/bin, highest version first.
fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            // "15" or "9.6": compare numerically, not as text ("9.6" < "10").
            let version = name
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}
