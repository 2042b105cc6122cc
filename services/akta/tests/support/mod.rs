//! Helpers shared by the tests that run the real `akta` binary on the embedded default.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const AKTA: &str = env!("CARGO_BIN_EXE_akta");

/// `akta` in `dir` on the embedded default, whatever the environment of the test run says.
pub fn akta(dir: &Path, listen: &str) -> Command {
    let mut cmd = Command::new(AKTA);
    cmd.current_dir(dir)
        .env("AKTA_DATA_DIR", dir.join("data"))
        .env("AKTA_LISTEN", listen)
        .env("AKTA_LOG", "warn")
        .env_remove("AKTA_DATABASE_URL")
        .env_remove("AKTA_S3_BUCKET")
        .env_remove("AKTA_MASTER_KEY")
        .env_remove("AKTA_MASTER_KEY_FILE")
        .env_remove("AKTA_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    cmd
}

/// Runs a command and returns its output, whatever the exit code.
pub fn run(dir: &Path, listen: &str, args: &[&str]) -> Output {
    akta(dir, listen).args(args).output().expect("run akta")
}

/// Runs a command that must succeed; returns (stdout, stderr).
pub fn ok(dir: &Path, listen: &str, args: &[&str]) -> (String, String) {
    let out = run(dir, listen, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "akta {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Starts `akta serve` and returns it with the lines it printed on stdout until it was ready.
pub fn serve(dir: &Path, listen: &str) -> (Child, Vec<String>) {
    serve_with_env(dir, listen, &[])
}

/// [`serve`] with extra environment variables.
pub fn serve_with_env(dir: &Path, listen: &str, env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut child = akta(dir, listen)
        .envs(env.iter().copied())
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start akta serve");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let url = format!("http://{listen}/readyz");
    loop {
        assert!(Instant::now() < deadline, "akta serve did not become ready");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "akta serve exited early"
        );
        if reqwest_blocking_ok(&url) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The token is printed before the listener starts serving.
    std::thread::sleep(Duration::from_millis(200));
    let lines = lines_rx.try_iter().collect();
    (child, lines)
}

fn reqwest_blocking_ok(url: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match reqwest::Client::new().get(url).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    })
}

pub fn stop(mut child: Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "akta serve exited with {exit}");
            return;
        }
        assert!(Instant::now() < deadline, "akta serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first `akta serve` on a fresh data dir: returns the server and the demo admin token it
/// printed once.
pub fn serve_first_start(dir: &Path, listen: &str) -> (Child, String) {
    let (server, lines) = serve(dir, listen);
    let token = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("akta_"))
        .unwrap_or_else(|| panic!("no admin token printed; stdout: {lines:?}"))
        .to_owned();
    (server, token)
}
