//! Logs for collectors: no colour codes when stderr is not a terminal, one JSON object per
//! line with `AKTA_LOG_FORMAT=json`.

mod support;

#[test]
fn logs_are_plain_without_a_terminal_or_json_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");

    // Starting the embedded cluster logs at info; stderr is a pipe here.
    let plain = support::akta(dir.path(), &listen)
        .env("AKTA_LOG", "info")
        .args(["tenant", "list"])
        .output()
        .expect("run akta");
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(stderr.contains("INFO"), "no log lines: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );

    let json = support::akta(dir.path(), &listen)
        .env("AKTA_LOG", "info")
        .env("AKTA_LOG_FORMAT", "json")
        .args(["tenant", "list"])
        .output()
        .expect("run akta");
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let stderr = String::from_utf8_lossy(&json.stderr);
    let objects: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!objects.is_empty(), "no JSON log lines: {stderr}");
    assert!(objects
        .iter()
        .all(|o| o["level"].is_string() && o["fields"].is_object()));

    // Operator commands need no master key and create none.
    assert!(!dir.path().join("data/master.key").exists());
}
