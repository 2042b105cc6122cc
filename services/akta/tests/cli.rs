//! The operator's command line: `tenant create --reference-format`, the secret printed alone,
//! no new ways into a suspended tenant, and a clear word when no password was given.

mod support;

use support::{ok, run};

/// `akta tenant create herdecke … --reference-format <format>`.
fn create_herdecke(format: &str) -> [&str; 7] {
    [
        "tenant",
        "create",
        "herdecke",
        "--name",
        "Stadt Herdecke",
        "--reference-format",
        format,
    ]
}

#[test]
fn cli_creates_tenants_with_a_format_and_guards_suspended_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");
    let dir = dir.path();

    let refused = run(dir, &listen, &create_herdecke("{nr}"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("reference_format"), "{stderr}");

    let (token, _) = ok(dir, &listen, &create_herdecke("Az. {kennzeichen}/{nr}"));
    // The secret alone on stdout, so `T=$(akta tenant create …)` holds exactly it.
    assert!(
        token.starts_with("akta_") && token.trim_end() == token.trim(),
        "{token:?}"
    );
    assert_eq!(token.lines().count(), 1);

    ok(dir, &listen, &["tenant", "suspend", "herdecke"]);
    let blocked = run(
        dir,
        &listen,
        &[
            "token",
            "create",
            "--tenant",
            "herdecke",
            "--name",
            "Fachverfahren",
        ],
    );
    assert!(!blocked.status.success());
    let stderr = String::from_utf8_lossy(&blocked.stderr);
    assert!(stderr.contains("suspended"), "{stderr}");

    ok(dir, &listen, &["tenant", "resume", "herdecke"]);
    let no_password = support::akta(dir, &listen)
        .env("AKTA_USER_PASSWORD", "")
        .args([
            "user",
            "create",
            "--tenant",
            "herdecke",
            "--username",
            "anna",
            "--name",
            "Anna",
        ])
        .output()
        .expect("run akta");
    assert!(!no_password.status.success());
    let stderr = String::from_utf8_lossy(&no_password.stderr);
    assert!(stderr.contains("no password given"), "{stderr}");
}
