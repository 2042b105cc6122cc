//! One throwaway single-node Garage (S3 server) per test process.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use akta_pgcluster::{spawn_tied_child, DeathSignal};
use rand::RngCore;

const REGION: &str = "garage";
const BUCKET: &str = "akta-test";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to reach the test Garage.
#[derive(Clone, Debug)]
pub struct GarageInfo {
    /// `http://127.0.0.1:PORT`; use path-style addressing.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// One throwaway single-node Garage per test process, started on first use with
/// `garage -c <tmp>/garage.toml server --single-node --default-bucket` in
/// `temp_dir()/akta-testkit-<pid>-garage`. It gets SIGTERM when the test process exits. The
/// bucket and a key with read/write/owner rights on it exist when this returns.
pub fn shared() -> &'static GarageInfo {
    static GARAGE: OnceLock<GarageInfo> = OnceLock::new();
    GARAGE.get_or_init(|| start().unwrap_or_else(|e| panic!("{e}")))
}

fn start() -> Result<GarageInfo, String> {
    let bin = find_garage();
    let dir = crate::postgres::scratch_dir("garage");
    let [rpc_port, s3_port] = free_ports()?;
    let info = GarageInfo {
        endpoint: format!("http://127.0.0.1:{s3_port}"),
        region: REGION.to_owned(),
        bucket: BUCKET.to_owned(),
        // Garage's own key ids are "GK" + 24 hex characters; any id of 8+ characters works.
        access_key_id: format!("GK{}", random_hex(12)),
        secret_access_key: random_hex(32),
    };

    let config = dir.join("garage.toml");
    let toml = format!(
        r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
"#,
        meta = dir.join("meta").display(),
        data = dir.join("data").display(),
        secret = random_hex(32),
    );
    // The config holds the RPC secret, hence 0600.
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&config)
        .and_then(|mut f| f.write_all(toml.as_bytes()))
        .map_err(|e| format!("writing {}: {e}", config.display()))?;

    let log = dir.join("garage.log");
    let open_log =
        || fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()));
    let stdout = open_log()?;
    let stderr = stdout
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let mut cmd = Command::new(&bin);
    cmd.arg("-c")
        .arg(&config)
        .args(["server", "--single-node", "--default-bucket"])
        // --default-bucket creates this key and bucket and grants the key read/write/owner on it.
        .env("GARAGE_DEFAULT_ACCESS_KEY", &info.access_key_id)
        .env("GARAGE_DEFAULT_SECRET_KEY", &info.secret_access_key)
        .env("GARAGE_DEFAULT_BUCKET", &info.bucket)
        .env("RUST_LOG", "garage=info")
        .env("NO_COLOR", "1")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let mut child = spawn_tied_child(cmd, DeathSignal::Terminate)
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;

    // Garage creates the layout, key and bucket before it binds the S3 port, so an accepted
    // connection means the credentials are usable.
    let s3_addr = SocketAddr::from(([127, 0, 0, 1], s3_port));
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(failure(
                    &format!("garage exited during startup ({status})"),
                    &log,
                ))
            }
            Ok(None) => {}
            Err(e) => return Err(failure(&format!("waiting for garage: {e}"), &log)),
        }
        if TcpStream::connect_timeout(&s3_addr, Duration::from_secs(1)).is_ok() {
            return Ok(info);
        }
        if started.elapsed() > READY_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failure(
                &format!(
                    "garage did not answer on {s3_addr} within {} s",
                    READY_TIMEOUT.as_secs()
                ),
                &log,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `garage` on PATH, else cargo's bin directory (where `cargo install` puts it).
fn find_garage() -> PathBuf {
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("garage"))
                .collect()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin").join("garage")))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!("garage not found: install it with `cargo install garage --locked`")
        })
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Two distinct free ports, outside the ephemeral range (see [`akta_pgcluster::free_port`]).
fn free_ports() -> Result<[u16; 2], String> {
    let port = || akta_pgcluster::free_port().map_err(|e| format!("finding a free port: {e}"));
    Ok([port()?, port()?])
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// An error message with the log's path and its last lines, which usually name the cause.
fn failure(what: &str, log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("{what}; log: {}\n{tail}", log.display())
}
