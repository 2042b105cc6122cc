//! A private PostgreSQL cluster managed with the server binaries of the machine.
//!
//! Two uses: `akta serve` in its embedded default mode keeps a persistent cluster under
//! `<data_dir>/postgres` (started with `pg_ctl`, reused across restarts and by other `akta`
//! invocations), and the test harness starts a throwaway cluster as a child process.
//!
//! Files of a cluster at `<parent>/<name>`: the data directory itself, `<parent>/<name>.state`
//! (port and passwords, mode 0600, readable only by the invoking user) and `<parent>/<name>.log`.
//! When running as root the server runs as the `postgres` system user, which owns the data
//! directory and the log.

mod binaries;
mod state;
mod tied;

use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rand::Rng;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgConnection};

pub use binaries::PgBinaries;
pub use tied::{spawn_tied_child, DeathSignal};

use state::State;

/// Role that owns the application database and runs migrations.
pub const OWNER_ROLE: &str = "akta_owner";
/// Role the application connects as: no owner, no superuser, no BYPASSRLS, so RLS applies.
pub const APP_ROLE: &str = "akta_app";
const SUPERUSER: &str = "postgres";
const SYSTEM_USER: &str = "postgres";
const HOST: &str = "127.0.0.1";
/// How long `spawn_child` waits for a fresh throwaway cluster.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `start` lets `pg_ctl` wait: a persistent cluster may first replay WAL after a crash.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Arbitrary constant: serialises role creation between concurrent `ensure_database` calls.
const ROLE_LOCK_KEY: i64 = 0x616b_7461_726f_6c65;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("PostgreSQL server binaries not found (looked for pg_config --bindir and /usr/lib/postgresql/*/bin). Install them, e.g. on Debian/Ubuntu: `apt-get install postgresql` (or postgresql-15), on Fedora: `dnf install postgresql-server`; or set AKTA_DATABASE_URL to use an existing server.")]
    BinariesNotFound,
    #[error("running as root, but there is no `postgres` system user to run PostgreSQL as (PostgreSQL refuses to run as root). Create one, e.g. `useradd --system --home-dir /var/lib/postgresql postgres`, or run as an unprivileged user.")]
    NoSystemUser,
    #[error("the `postgres` system user cannot reach {path}: every parent directory needs o+x (e.g. `chmod o+x` on it), or choose a data directory outside /root")]
    NotTraversable { path: PathBuf },
    #[error("`{command}` failed ({status}): {output}")]
    Command {
        command: String,
        status: String,
        output: String,
    },
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    #[error("{dir} holds a PostgreSQL cluster, but its state file {state} (port and passwords) is missing; restore it, or remove the directory to create a new, empty cluster")]
    MissingState { dir: PathBuf, state: PathBuf },
    #[error("cluster state file {path} is invalid: {reason}")]
    InvalidState { path: PathBuf, reason: String },
    #[error("PostgreSQL did not accept connections within {} s; see the log {}", .waited.as_secs(), .log.display())]
    NotReady { waited: Duration, log: PathBuf },
    #[error("PostgreSQL exited during startup ({status}); see the log {}", .log.display())]
    Exited { status: String, log: PathBuf },
    #[error("invalid database name {0:?}: use 1 to 63 characters out of a-z, 0-9 and _")]
    InvalidDatabaseName(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ClusterError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
        let context = context.into();
        move |e| ClusterError::Io(context, e)
    }
}

/// Connection URLs (sqlx style) for the two login roles, both to the same database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterUrls {
    /// `akta_owner`: owns the database; for migrations and administration.
    pub owner_url: String,
    /// `akta_app`: what the application uses; row-level security applies to it.
    pub app_url: String,
}

/// The uid/gid the server binaries run as when we are root.
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// A cluster directory. Cloning is cheap; clones share the child process of [`Cluster::spawn_child`].
#[derive(Clone, Debug)]
pub struct Cluster {
    dir: PathBuf,
    log: PathBuf,
    bins: PgBinaries,
    state: State,
    run_as: Option<RunAs>,
    child: Arc<Mutex<Option<Child>>>,
}

impl Cluster {
    /// Opens `dir` (e.g. ./data/postgres), running initdb first if it has no cluster yet. Picks a
    /// free TCP port at init and remembers it, with the generated passwords, in `<dir>.state`.
    pub fn open_or_init(dir: &Path) -> Result<Cluster, ClusterError> {
        let bins = PgBinaries::locate()?;
        let dir = std::path::absolute(dir)
            .map_err(ClusterError::io(format!("resolving {}", dir.display())))?;
        let parent = dir
            .parent()
            .ok_or_else(|| {
                ClusterError::Io(
                    format!("{} has no parent directory", dir.display()),
                    io::Error::from(io::ErrorKind::InvalidInput),
                )
            })?
            .to_path_buf();
        fs::create_dir_all(&parent)
            .map_err(ClusterError::io(format!("creating {}", parent.display())))?;

        let run_as = if tied::effective_uid() == 0 {
            Some(lookup_system_user()?)
        } else {
            None
        };
        let state_path = sibling(&dir, "state");
        let initialised = dir.join("PG_VERSION").exists();
        let state = match State::load(&state_path)? {
            Some(state) => state,
            None if initialised => {
                return Err(ClusterError::MissingState {
                    dir,
                    state: state_path,
                })
            }
            None => {
                let state = State::generate(free_port()?);
                state.save(&state_path)?;
                state
            }
        };
        let cluster = Cluster {
            log: sibling(&dir, "log"),
            dir,
            bins,
            state,
            run_as,
            child: Arc::new(Mutex::new(None)),
        };
        if !initialised {
            cluster.init(&parent)?;
        }
        Ok(cluster)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server log (`pg_ctl -l`, and stdout/stderr of [`Cluster::spawn_child`]).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn port(&self) -> u16 {
        self.state.port
    }

    /// Whether a server runs on this directory (`pg_ctl status`), whoever started it.
    pub fn is_running(&self) -> bool {
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.dir);
        matches!(cmd.output(), Ok(out) if out.status.success())
    }

    /// Starts the server in the background with `pg_ctl start -w` unless it already runs; returns
    /// true when this call started it. The server outlives this process; see [`Cluster::stop`].
    pub fn start(&self) -> Result<bool, ClusterError> {
        if self.is_running() {
            return Ok(false);
        }
        self.prepare_log()?;
        let mut cmd = self.pg_command("pg_ctl");
        cmd.args(["start", "-w", "-t"])
            .arg(START_TIMEOUT.as_secs().to_string())
            .arg("-D")
            .arg(&self.dir)
            .arg("-l")
            .arg(&self.log);
        run(cmd).map_err(|e| self.with_log_hint(e))?;
        tracing::info!(dir = %self.dir.display(), port = self.port(), "started PostgreSQL");
        Ok(true)
    }

    /// Stops the server (`pg_ctl stop -m fast -w`), whether started by [`Cluster::start`] or
    /// [`Cluster::spawn_child`]. Ok if it is not running.
    pub fn stop(&self) -> Result<(), ClusterError> {
        if self.is_running() {
            let mut cmd = self.pg_command("pg_ctl");
            cmd.args(["stop", "-m", "fast", "-w", "-D"]).arg(&self.dir);
            run(cmd)?;
            tracing::info!(dir = %self.dir.display(), "stopped PostgreSQL");
        }
        // Reap our own child so it does not linger as a zombie.
        if let Some(mut child) = self.child.lock().ok().and_then(|mut c| c.take()) {
            let _ = child.wait();
        }
        Ok(())
    }

    /// Starts `postgres` in the foreground as a child process that is tied to this process: it
    /// gets SIGQUIT (immediate shutdown) when this process exits, however it exits. Meant for
    /// throwaway clusters, so durability is traded for speed (fsync, synchronous_commit and
    /// full_page_writes off). Waits until the server accepts connections. Does nothing if a
    /// server already runs on this directory.
    pub fn spawn_child(&self) -> Result<(), ClusterError> {
        if self.is_running() {
            return Ok(());
        }
        self.prepare_log()?;
        let open_log = || {
            fs::OpenOptions::new()
                .append(true)
                .open(&self.log)
                .map_err(ClusterError::io(format!("opening {}", self.log.display())))
        };
        let mut cmd = self.pg_command("postgres");
        cmd.arg("-D")
            .arg(&self.dir)
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(open_log()?)
            .stderr(open_log()?);
        let mut child = spawn_tied_child(cmd, DeathSignal::Quit)
            .map_err(ClusterError::io("starting postgres"))?;

        let started = Instant::now();
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(ClusterError::io("waiting for postgres"))?
            {
                return Err(ClusterError::Exited {
                    status: status.to_string(),
                    log: self.log.clone(),
                });
            }
            if self.accepts_connections() {
                break;
            }
            if started.elapsed() > READY_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ClusterError::NotReady {
                    waited: READY_TIMEOUT,
                    log: self.log.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Ok(mut slot) = self.child.lock() {
            *slot = Some(child);
        }
        tracing::info!(dir = %self.dir.display(), port = self.port(), "started PostgreSQL child");
        Ok(())
    }

    /// Idempotently creates the login roles `akta_owner` (LOGIN, CREATEROLE; owns `db_name`) and
    /// `akta_app` (LOGIN; NOSUPERUSER, NOBYPASSRLS, owns nothing) and the database `db_name`.
    /// Safe to call concurrently. Returns URLs for both roles to `db_name`.
    pub async fn ensure_database(&self, db_name: &str) -> Result<ClusterUrls, ClusterError> {
        if !valid_database_name(db_name) {
            return Err(ClusterError::InvalidDatabaseName(db_name.to_owned()));
        }
        let mut conn = self.superuser_options().connect().await?;
        // Two callers racing on CREATE ROLE would make one fail; the lock makes the check-then-create atomic.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(ROLE_LOCK_KEY)
            .execute(&mut conn)
            .await?;
        let roles = self.ensure_roles(&mut conn).await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(ROLE_LOCK_KEY)
            .execute(&mut conn)
            .await?;
        roles?;

        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(db_name)
                .fetch_one(&mut conn)
                .await?;
        let db = quote_ident(db_name);
        let owner = quote_ident(OWNER_ROLE);
        if !exists {
            // CREATE DATABASE cannot run inside a transaction; this is a plain connection.
            let created = sqlx::raw_sql(&format!("CREATE DATABASE {db} OWNER {owner}"))
                .execute(&mut conn)
                .await;
            match created {
                Ok(_) => tracing::info!(db = db_name, "created database"),
                // Someone else created it in between: fine, it is ensured below.
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        sqlx::raw_sql(&format!(
            // No TEMPORARY for the app role: temp tables could shadow the tables that
            // security-definer functions read.
            "ALTER DATABASE {db} OWNER TO {owner}; GRANT CONNECT ON DATABASE {db} TO {app};
             REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC",
            app = quote_ident(APP_ROLE)
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await?;

        Ok(ClusterUrls {
            owner_url: self.url(OWNER_ROLE, &self.state.owner_password, db_name),
            app_url: self.url(APP_ROLE, &self.state.app_password, db_name),
        })
    }

    /// The cluster superuser's URL for `db_name`, for administration tools (`pg_restore`).
    pub fn superuser_url(&self, db_name: &str) -> String {
        self.url(SUPERUSER, &self.state.superuser_password, db_name)
    }

    /// Connection options for the cluster superuser, e.g. for administration tools.
    pub fn superuser_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(HOST)
            .port(self.port())
            .username(SUPERUSER)
            .password(&self.state.superuser_password)
            .database("postgres")
            .ssl_mode(PgSslMode::Disable)
            .disable_statement_logging()
    }

    async fn ensure_roles(&self, conn: &mut PgConnection) -> Result<(), ClusterError> {
        let roles = [
            (
                OWNER_ROLE,
                &self.state.owner_password,
                "LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS",
            ),
            (
                APP_ROLE,
                &self.state.app_password,
                "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION",
            ),
        ];
        for (role, password, attributes) in roles {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                    .bind(role)
                    .fetch_one(&mut *conn)
                    .await?;
            // Roles take no bind parameters, hence literals. ALTER keeps attributes and the
            // password in line with the state file if someone changed them.
            let verb = if exists { "ALTER" } else { "CREATE" };
            sqlx::raw_sql(&format!(
                "{verb} ROLE {} WITH {attributes} PASSWORD {}",
                quote_ident(role),
                quote_literal(password)
            ))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    fn url(&self, role: &str, password: &str, db_name: &str) -> String {
        // Role names and hex passwords need no escaping; database names are validated.
        format!(
            "postgres://{role}:{password}@{HOST}:{port}/{db_name}",
            port = self.port()
        )
    }

    fn init(&self, parent: &Path) -> Result<(), ClusterError> {
        tracing::info!(dir = %self.dir.display(), "creating PostgreSQL cluster (initdb)");
        fs::create_dir_all(&self.dir)
            .map_err(ClusterError::io(format!("creating {}", self.dir.display())))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(ClusterError::io(format!("chmod {}", self.dir.display())))?;
        self.give_to_server(&self.dir)?;
        self.check_reachable()?;

        let mut pwfile = tempfile::Builder::new()
            .prefix(".initdb-pw")
            .tempfile_in(parent)
            .map_err(ClusterError::io(format!(
                "creating a password file in {}",
                parent.display()
            )))?;
        writeln!(pwfile, "{}", self.state.superuser_password)
            .and_then(|()| pwfile.flush())
            .map_err(ClusterError::io("writing the password file"))?;
        self.give_to_server(pwfile.path())?;

        let mut cmd = self.pg_command("initdb");
        cmd.arg("-D")
            .arg(&self.dir)
            .args(["-U", SUPERUSER, "--auth=scram-sha-256", "-E", "UTF8"])
            .arg(format!("--pwfile={}", pwfile.path().display()));
        match c_utf8_locale() {
            Some(locale) => cmd.arg(format!("--locale={locale}")),
            None => cmd.arg("--no-locale"),
        };
        run(cmd)?;
        drop(pwfile);

        // Loopback TCP only: no Unix socket, so no /var/run/postgresql permissions or socket
        // path length limits; initdb's pg_hba already demands scram passwords on 127.0.0.1.
        let conf = self.dir.join("postgresql.conf");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(ClusterError::io(format!("opening {}", conf.display())))?;
        write!(
            file,
            "\n# Added by akta-pgcluster\nlisten_addresses = '{HOST}'\nport = {}\n\
             unix_socket_directories = ''\nmax_connections = 200\n",
            self.port()
        )
        .map_err(ClusterError::io(format!("writing {}", conf.display())))?;
        Ok(())
    }

    /// Creates the log file if needed; as root, hands it to the server user who appends to it.
    fn prepare_log(&self) -> Result<(), ClusterError> {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.log)
            .map_err(ClusterError::io(format!("creating {}", self.log.display())))?;
        self.give_to_server(&self.log)
    }

    fn give_to_server(&self, path: &Path) -> Result<(), ClusterError> {
        if let Some(user) = self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(
                ClusterError::io(format!("chown postgres {}", path.display())),
            )?;
        }
        Ok(())
    }

    /// As root, checks that the server user can reach the data directory, for a clear error
    /// instead of initdb's "permission denied".
    fn check_reachable(&self) -> Result<(), ClusterError> {
        let Some(user) = self.run_as else {
            return Ok(());
        };
        let mut cmd = Command::new("test");
        cmd.arg("-x").arg(&self.dir).uid(user.uid).gid(user.gid);
        match cmd.status() {
            Ok(status) if !status.success() => Err(ClusterError::NotTraversable {
                path: self.dir.clone(),
            }),
            _ => Ok(()),
        }
    }

    fn accepts_connections(&self) -> bool {
        // A full conninfo, so PG* variables of the caller's environment cannot redirect it.
        let conninfo = format!(
            "host={HOST} port={} user={SUPERUSER} dbname=postgres sslmode=disable connect_timeout=2",
            self.port()
        );
        let mut cmd = Command::new(self.bins.bin("pg_isready"));
        cmd.args(["-q", "-d", &conninfo]).stdin(Stdio::null());
        matches!(cmd.status(), Ok(status) if status.success())
    }

    /// A command for a server binary, run as the server user when we are root.
    fn pg_command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bins.bin(program));
        // The server user may not be able to enter our working directory.
        cmd.current_dir("/");
        if let Some(user) = self.run_as {
            // std drops supplementary groups when root switches uid.
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd
    }

    fn with_log_hint(&self, e: ClusterError) -> ClusterError {
        match e {
            ClusterError::Command {
                command,
                status,
                output,
            } => ClusterError::Command {
                command,
                status,
                output: format!("{output}\n(server log: {})", self.log.display()),
            },
            other => other,
        }
    }
}

/// First port [`free_port`] hands out; with [`PORT_SPAN`] it stays below Linux's default
/// ephemeral range (32768–60999).
const PORT_LOW: u32 = 20_000;
const PORT_SPAN: u32 = 12_000;

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// Not `bind(0)`: that port comes from the ephemeral range, where the next outgoing connection
/// may take it before its user listens on it (a CI run failed with "Address already in use"
/// that way). The ports are walked from a random start so that two callers in one process
/// never get the same port and two processes rarely do.
pub fn free_port() -> Result<u16, ClusterError> {
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU32::new(rand::thread_rng().gen_range(0..PORT_SPAN)));
    for _ in 0..PORT_SPAN {
        let port = PORT_LOW + next.fetch_add(1, Ordering::Relaxed) % PORT_SPAN;
        let port = u16::try_from(port).expect("below 32000");
        if TcpListener::bind((HOST, port)).is_ok() {
            return Ok(port);
        }
    }
    TcpListener::bind((HOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(ClusterError::io("finding a free TCP port"))
}

/// `<parent>/<name>.<ext>` for a cluster directory `<parent>/<name>`.
fn sibling(dir: &Path, ext: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(ext);
    dir.with_file_name(name)
}

fn lookup_system_user() -> Result<RunAs, ClusterError> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, SYSTEM_USER]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) if uid != 0 => Ok(RunAs { uid, gid }),
        _ => Err(ClusterError::NoSystemUser),
    }
}

/// The spelling of the C.UTF-8 locale on this system, if it has one (glibc lists "C.utf8").
fn c_utf8_locale() -> Option<String> {
    let out = Command::new("locale").arg("-a").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.eq_ignore_ascii_case("C.UTF-8") || l.eq_ignore_ascii_case("C.utf8"))
        .map(|_| "C.UTF-8".to_owned())
}

fn run(mut cmd: Command) -> Result<Output, ClusterError> {
    let command = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(ClusterError::io(format!("running {command}")))?;
    if out.status.success() {
        return Ok(out);
    }
    let mut output = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        output = format!("{}\n{output}", stdout.trim());
    }
    Err(ClusterError::Command {
        command,
        status: out.status.to_string(),
        output,
    })
}

fn is_duplicate(e: &sqlx::Error) -> bool {
    // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on the catalog index.
    matches!(e.as_database_error().and_then(|d| d.code()), Some(c) if c == "42P04" || c == "23505")
}

fn valid_database_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    // standard_conforming_strings is on (the default), so only quotes need doubling.
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quote_characters() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn database_names_are_plain_identifiers() {
        assert!(valid_database_name("akta_test_1"));
        assert!(!valid_database_name(""));
        assert!(!valid_database_name("Akta"));
        assert!(!valid_database_name("a;b"));
        assert!(!valid_database_name(&"a".repeat(64)));
    }

    #[test]
    fn state_and_log_sit_beside_the_data_directory() {
        let dir = Path::new("/srv/data/postgres");
        assert_eq!(sibling(dir, "log"), PathBuf::from("/srv/data/postgres.log"));
        assert_eq!(
            sibling(dir, "state"),
            PathBuf::from("/srv/data/postgres.state")
        );
    }
}
