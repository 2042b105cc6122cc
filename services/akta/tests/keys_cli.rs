//! Key management through the `akta` command on the embedded default: the master key file
//! it creates, `keys rotate`, `keys rotate-master` with the switch of the key file, and
//! `tenant delete` (crypto-shredding); and the refusal to run without a master key.

use akta_testkit::Client;
use std::os::unix::fs::PermissionsExt;

mod support;

use support::{akta, ok, run, serve, stop};

#[test]
fn the_cli_rotates_keys_switches_the_master_key_and_shreds_tenants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let listen = format!("127.0.0.1:{}", akta_pgcluster::free_port().expect("port"));
    let base = format!("http://{listen}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // The first command that needs it creates the embedded default's master key, mode 0600.
    let (token, _) = ok(
        dir,
        &listen,
        &["tenant", "create", "herdecke", "--name", "Stadt Herdecke"],
    );
    let token = token.trim().to_owned();
    let key_file = dir.join("data/master.key");
    let mode = std::fs::metadata(&key_file)
        .expect("master.key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&key_file).expect("read");
    assert!(text.trim().len() == 64 && text.trim().chars().all(|c| c.is_ascii_hexdigit()));

    let (server, _) = serve(dir, &listen);
    let admin = Client::new(&base, Some(&token));
    let content: Vec<u8> = (0..150_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let path = rt.block_on(async {
        let unit = admin.create_plan_unit("1", None).await;
        let file = admin.create_file(&unit, "Akte").await.id();
        let doc = admin
            .upload_document(&format!("/api/v1/files/{file}"), "Plan", content.clone())
            .await
            .id();
        format!("/api/v1/documents/{doc}/content")
    });
    let download = || rt.block_on(admin.get(&path));

    // Tenant key rotation while the server runs: nothing to restart.
    let (_, said) = ok(dir, &listen, &["keys", "rotate", "--tenant", "herdecke"]);
    assert!(
        said.contains("tenant key v2 is current; 1 data key(s) re-wrapped; retired: v1"),
        "{said}"
    );
    assert!(download().bytes == content);

    // Master key rotation, then the switch of the key file and a restart.
    let new_key = dir.join("new.key");
    let new_hex = "ab".repeat(32);
    std::fs::write(&new_key, format!("{new_hex}\n")).expect("write new key");
    std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let new_key_arg = new_key.to_str().expect("utf-8 path");
    let (_, said) = ok(
        dir,
        &listen,
        &["keys", "rotate-master", "--new-key-file", new_key_arg],
    );
    assert!(
        said.contains("herdecke: 1 tenant key(s) re-wrapped"),
        "{said}"
    );
    assert!(said.contains("AKTA_MASTER_KEY_FILE"), "{said}");
    // This process only knows the old key, which opens nothing any more.
    rt.block_on(admin.get(&path))
        .assert_problem(500, "internal");
    stop(server);
    std::fs::rename(&key_file, dir.join("old.key")).expect("move old key");
    std::fs::copy(&new_key, &key_file).expect("install new key");
    let (server, _) = serve(dir, &listen);
    assert!(download().bytes == content);

    // A lost key file is not silently replaced while tenant keys need it.
    std::fs::rename(&key_file, dir.join("parked.key")).expect("park key");
    let refused = run(dir, &listen, &["keys", "rotate", "--tenant", "herdecke"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("is missing") && said.contains("restore"),
        "{said}"
    );
    assert!(!key_file.exists());
    std::fs::rename(dir.join("parked.key"), &key_file).expect("restore key");

    // Crypto-shredding needs the slug twice.
    let unconfirmed = run(
        dir,
        &listen,
        &["tenant", "delete", "herdecke", "--confirm", "x"],
    );
    assert!(!unconfirmed.status.success());
    assert_eq!(download().status, 200);
    let (_, said) = ok(
        dir,
        &listen,
        &["tenant", "delete", "herdecke", "--confirm", "herdecke"],
    );
    assert!(said.contains("2 key version(s) destroyed"), "{said}");
    download().assert_problem(401, "unauthorized");
    let (list, _) = ok(dir, &listen, &["tenant", "list"]);
    assert!(list.contains("herdecke\tdeleted"), "{list}");
    stop(server);

    // With an external database, no master key means no start, and the message says why.
    let out = akta(dir, &listen)
        .arg("serve")
        .env("AKTA_DATABASE_URL", "postgres://akta_app@127.0.0.1:1/akta")
        .output()
        .expect("run akta serve");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("AKTA_MASTER_KEY_FILE") && said.contains("AKTA_MASTER_KEY"),
        "{said}"
    );
}
