//! The backup and restore guide of the README ("Backup and restore"), followed step by step
//! on a production-shaped Akta (external PostgreSQL, Garage, a master key): `pg_dump` of the
//! running instance, a copy of its objects, `pg_restore` into a fresh database, the objects
//! into a fresh place, the same master key — then `akta audit verify` is clean, the documents
//! read back byte for byte and search finds them again.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use akta_blob::{BlobStore, S3Config, S3Store};
use akta_testkit::Client;

/// The PostgreSQL client programs next to the server binaries the tests use.
fn pg_tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// One instance's configuration: its database, its place in the bucket, the shared master key.
struct Instance {
    dir: PathBuf,
    app_url: String,
    owner_url: String,
    prefix: String,
}

impl Instance {
    fn command(&self, listen: &str, master_key: &str) -> Command {
        let garage = akta_testkit::garage::shared();
        let mut cmd = support::akta(&self.dir, listen);
        cmd.env("AKTA_DATABASE_URL", &self.app_url)
            .env("AKTA_DATABASE_OWNER_URL", &self.owner_url)
            .env("AKTA_MASTER_KEY", master_key)
            .env("AKTA_S3_ENDPOINT", &garage.endpoint)
            .env("AKTA_S3_REGION", &garage.region)
            .env("AKTA_S3_BUCKET", &garage.bucket)
            .env("AKTA_S3_ACCESS_KEY", &garage.access_key_id)
            .env("AKTA_S3_SECRET_KEY", &garage.secret_access_key)
            .env("AKTA_S3_PREFIX", &self.prefix)
            .env(
                "AKTA_AUDIT_SIGNING_KEY_FILE",
                self.dir.join("audit-signing-key.pem"),
            );
        cmd
    }

    fn run(&self, listen: &str, key: &str, args: &[&str]) -> (String, String) {
        let out = self
            .command(listen, key)
            .args(args)
            .output()
            .expect("run akta");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "akta {args:?} failed: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    }

    fn serve(&self, listen: &str, key: &str) -> std::process::Child {
        let child = self
            .command(listen, key)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("akta serve");
        let deadline = Instant::now() + Duration::from_secs(90);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        while !rt.block_on(async {
            reqwest::get(format!("http://{listen}/readyz"))
                .await
                .is_ok_and(|r| r.status().is_success())
        }) {
            assert!(Instant::now() < deadline, "akta serve did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        child
    }
}

fn store(prefix: &str) -> S3Store {
    let garage = akta_testkit::garage::shared();
    let mut config = S3Config::new(
        Some(garage.endpoint.clone()),
        garage.region.clone(),
        garage.bucket.clone(),
        garage.access_key_id.clone(),
        garage.secret_access_key.clone(),
    );
    config.key_prefix = prefix.to_owned();
    S3Store::new(config).expect("s3 store")
}

/// Step 2 of the guide: every object of the instance to the backup place (what `aws s3 sync`,
/// `rclone sync` or `mc mirror` do; none of them is installed here, so the S3 API directly).
async fn copy_objects(from: &str, to: &str) -> usize {
    let (source, target) = (store(from), store(to));
    let keys = source.list("").await.expect("list");
    for key in &keys {
        let object = source.get(key, None).await.expect("get");
        target.put(key, object.body, u64::MAX).await.expect("put");
    }
    keys.len()
}

fn status(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_backup_restores_into_a_fresh_instance_with_a_clean_audit_chain() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let scratch = tempfile::tempdir().expect("tempdir");
    let run = format!("backup-{}-{}", std::process::id(), uuid::Uuid::new_v4());
    let (a_db, b_db) = rt.block_on(async {
        (
            akta_testkit::postgres::fresh_database().await,
            akta_testkit::postgres::fresh_database().await,
        )
    });
    let mkdir = |name: &str| {
        let dir = scratch.path().join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    };
    let a = Instance {
        dir: mkdir("a"),
        app_url: a_db.app_url,
        owner_url: a_db.owner_url,
        prefix: format!("{run}/live/"),
    };
    let mut key = [0u8; 32];
    openssl::rand::rand_bytes(&mut key).expect("random");
    let master_key = hex::encode(key);
    let listen_a = format!("127.0.0.1:{}", akta_pgcluster::free_port().expect("port"));

    // The instance to back up: a tenant, an Akte, two documents (one with two versions), a
    // signed audit chain.
    a.run(
        &listen_a,
        &master_key,
        &[
            "audit",
            "keygen",
            "--out",
            &a.dir.join("audit-signing-key.pem").display().to_string(),
        ],
    );
    a.run(&listen_a, &master_key, &["migrate"]);
    let (token, _) = a.run(
        &listen_a,
        &master_key,
        &["tenant", "create", "witten", "--name", "Stadt Witten"],
    );
    let token = token.trim().to_owned();
    let server = a.serve(&listen_a, &master_key);
    let contents = [
        vec![7u8; 300_000],
        b"Bescheid Musterweg".to_vec(),
        b"Bescheid Musterweg, berichtigt".to_vec(),
    ];
    let (document, file) = rt.block_on(async {
        let admin = Client::new(&format!("http://{listen_a}"), Some(&token));
        let unit = admin.create_plan_unit("63.01", None).await;
        let file = admin
            .create_file(&unit, "Bauantrag Sicherungsweg 1")
            .await
            .id();
        admin
            .upload_document(
                &format!("/api/v1/files/{file}"),
                "Plan",
                contents[0].clone(),
            )
            .await;
        let doc = admin
            .upload_document(
                &format!("/api/v1/files/{file}"),
                "Bescheid",
                contents[1].clone(),
            )
            .await
            .id();
        let v2 = admin
            .upload(
                &format!("/api/v1/documents/{doc}/versions"),
                None,
                Some(("bescheid-2.txt", "text/plain", contents[2].clone())),
            )
            .await;
        assert_eq!(v2.status, 201, "{}", v2.body);
        (doc, file)
    });
    a.run(&listen_a, &master_key, &["audit", "sign"]);

    // Step 1: the database, while the instance runs (pg_dump reads one consistent snapshot),
    // as the backup role of the guide: row-level security binds even the schema owner, so
    // only a role with BYPASSRLS sees every tenant's rows.
    let superuser = akta_testkit::postgres::superuser_url("postgres");
    status(Command::new(pg_tool("psql")).arg(&superuser).args([
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'akta_backup') THEN          CREATE ROLE akta_backup LOGIN BYPASSRLS PASSWORD 'sicherung'; END IF; END $$;          GRANT pg_read_all_data TO akta_backup;",
    ]));
    let backup_url = {
        let (_, rest) = a.owner_url.split_once('@').expect("owner url");
        format!("postgres://akta_backup:sicherung@{rest}")
    };
    let dump = scratch.path().join("akta.dump");
    status(
        Command::new(pg_tool("pg_dump"))
            .arg("--format=custom")
            .arg(format!("--file={}", dump.display()))
            .arg(format!("--dbname={backup_url}")),
    );
    // Step 2: the objects, after the dump (objects written meanwhile are orphans to the
    // restored database, and its sweeper removes them).
    let backup_place = format!("{run}/backup/");
    let copied = rt.block_on(copy_objects(&a.prefix, &backup_place));
    assert!(copied >= 3, "{copied} objects");
    support::stop(server);

    // Restore: a fresh database (roles as in "Production setup"), the dump into it, the
    // objects into the new instance's place, the same master key.
    let b = Instance {
        dir: mkdir("b"),
        app_url: b_db.app_url,
        owner_url: b_db.owner_url,
        prefix: format!("{run}/restored/"),
    };
    std::fs::copy(
        a.dir.join("audit-signing-key.pem"),
        b.dir.join("audit-signing-key.pem"),
    )
    .expect("signing key");
    // As a superuser (the restore writes every tenant's rows; the objects keep their owner).
    let b_name = b.owner_url.rsplit('/').next().expect("database name");
    status(
        Command::new(pg_tool("pg_restore"))
            .arg("--exit-on-error")
            .arg("--single-transaction")
            .arg(format!(
                "--dbname={}",
                akta_testkit::postgres::superuser_url(b_name)
            ))
            .arg(&dump),
    );
    rt.block_on(copy_objects(&backup_place, &b.prefix));
    let listen_b = format!("127.0.0.1:{}", akta_pgcluster::free_port().expect("port"));
    b.run(&listen_b, &master_key, &["migrate"]);
    let (verified, verify_log) = b.run(&listen_b, &master_key, &["audit", "verify"]);
    assert!(
        !verified.contains("break") && !verify_log.contains("break"),
        "{verified}{verify_log}"
    );

    let server = b.serve(&listen_b, &master_key);
    rt.block_on(async {
        let admin = Client::new(&format!("http://{listen_b}"), Some(&token));
        let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
        assert_eq!(docs.status, 200, "{}", docs.body);
        assert_eq!(docs.body["items"].as_array().map(Vec::len), Some(2));
        for (nr, content) in [(1, &contents[1]), (2, &contents[2])] {
            let r = admin
                .get(&format!(
                    "/api/v1/documents/{document}/versions/{nr}/content"
                ))
                .await;
            assert_eq!(r.status, 200);
            assert_eq!(&r.bytes, content, "version {nr} reads back");
        }
        // The search index is rebuilt from the restored database.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = admin.get("/api/v1/search?q=Bescheid").await;
            if found.body["total"] == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not found after restore: {}",
                found.body
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    support::stop(server);
}
