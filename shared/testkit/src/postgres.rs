//! A throwaway PostgreSQL cluster per test process, and a fresh database for each test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};

use akta_pgcluster::{Cluster, ClusterUrls};

/// One throwaway cluster per test process, started on first use in a temp dir under
/// `std::env::temp_dir()/akta-testkit-<pid>-pg`; it dies with the test process. Each call gives a
/// fresh database (unique name, owned by `akta_owner`) with migrations NOT applied.
pub async fn fresh_database() -> ClusterUrls {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!("akta_test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let cluster = cluster();
    match cluster.ensure_database(&name).await {
        Ok(urls) => urls,
        Err(e) => panic!(
            "creating test database {name}: {e} (server log: {})",
            cluster.log_path().display()
        ),
    }
}

/// The test cluster's superuser URL for `db_name` (what a DBA restoring a backup uses).
pub fn superuser_url(db_name: &str) -> String {
    cluster().superuser_url(db_name)
}

/// Starts the cluster once; concurrent callers from other tests block until it is ready.
/// Blocking inside an async test is fine here: it happens once per process, for a few seconds.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = scratch_dir("pg").join("postgres");
        let cluster = Cluster::open_or_init(&dir)
            .unwrap_or_else(|e| panic!("creating the test cluster in {}: {e}", dir.display()));
        if let Err(e) = cluster.spawn_child() {
            panic!(
                "starting the test cluster: {e} (server log: {})",
                cluster.log_path().display()
            );
        }
        cluster
    })
}

const SCRATCH_PREFIX: &str = "akta-testkit-";

/// An empty directory `temp_dir()/akta-testkit-<pid>-<kind>` for this test process (any
/// leftover of the same name is removed). Mode 0755 so the `postgres` user can pass through
/// when tests run as root; secrets inside are protected by their own file modes.
pub(crate) fn scratch_dir(kind: &str) -> PathBuf {
    static TIDY: Once = Once::new();
    TIDY.call_once(remove_stale_scratch_dirs);

    let dir = std::env::temp_dir().join(format!("{SCRATCH_PREFIX}{}-{kind}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)))
        .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// Removes scratch dirs of test processes that no longer exist. Their servers died with them,
/// so nothing uses these files any more; errors are ignored, it is only tidying.
fn remove_stale_scratch_dirs() {
    if !Path::new("/proc/self").exists() {
        return; // no cheap way to tell whether a pid is alive
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SCRATCH_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
