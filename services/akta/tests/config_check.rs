//! `akta config check` validates a configuration without starting anything; run here against
//! the environment of the Akta service in `infra/compose.yaml` (with its master key secret
//! materialised), and against a configuration that lacks the master key.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The `environment:` of the `akta` service in the compose file (a plain `KEY: value` list).
fn compose_environment() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/compose.yaml");
    let text = std::fs::read_to_string(&path).expect("compose file");
    let mut in_akta = false;
    let mut in_env = false;
    let mut env = BTreeMap::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 2 && trimmed.ends_with(':') {
            in_akta = trimmed == "akta:";
            in_env = false;
        } else if in_akta && indent == 4 {
            in_env = trimmed == "environment:";
        } else if in_akta && in_env && indent == 6 {
            let (key, value) = trimmed.split_once(':').expect("KEY: value");
            env.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    assert!(
        !env.is_empty(),
        "no environment for akta in {}",
        path.display()
    );
    env
}

fn check(env: &BTreeMap<String, String>, dir: &Path) -> std::process::Output {
    let mut cmd = Command::new(support::AKTA);
    cmd.current_dir(dir)
        .env_remove("AKTA_MASTER_KEY")
        .env_remove("AKTA_MASTER_KEY_FILE")
        .env_remove("AKTA_DATA_DIR")
        .env_remove("AKTA_DATABASE_URL")
        .env_remove("AKTA_S3_BUCKET")
        .args(["config", "check"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run akta config check")
}

#[test]
fn config_check_passes_the_compose_setup_and_names_a_missing_master_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = compose_environment();
    assert_eq!(
        env.get("AKTA_MASTER_KEY_FILE").map(String::as_str),
        Some("/run/secrets/akta_master_key"),
        "the compose file gives Akta its master key as a secret"
    );
    // The secret as the operator creates it (`openssl rand -hex 32`).
    let key = dir.path().join("akta_master_key");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).expect("key");
    env.insert("AKTA_MASTER_KEY_FILE".into(), key.display().to_string());
    let ok = check(&env, dir.path());
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("configuration ok"), "{stdout}");
    assert!(
        stdout.contains("database external") && stdout.contains("S3 bucket akta"),
        "{stdout}"
    );
    // It started nothing: no data directory appeared.
    assert!(!dir.path().join("data").exists());

    env.remove("AKTA_MASTER_KEY_FILE");
    let missing = check(&env, dir.path());
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no master key configured"), "{stderr}");

    env.insert("AKTA_MASTER_KEY".into(), "nicht hex".into());
    let broken = check(&env, dir.path());
    assert!(!broken.status.success());
}
