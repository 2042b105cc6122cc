//! The README's run command on a fresh directory: `akta serve` with nothing configured starts
//! a private PostgreSQL under the data dir, filesystem blobs and a demo tenant, prints an admin
//! token once, serves the records flow, lets the CLI work beside it, and stops cleanly.

use akta_testkit::Client;
use serde_json::json;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{akta, serve, serve_first_start, stop};

fn cli(dir: &Path, listen: &str, args: &[&str]) -> String {
    let out = akta(dir, listen).args(args).output().expect("run akta");
    assert!(
        out.status.success(),
        "akta {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn embedded_default_runs_the_records_flow_and_stops_its_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");

    let (server, token) = serve_first_start(dir.path(), &listen);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let base = format!("http://{listen}");
    let file_id = rt.block_on(async {
        let admin = Client::new(&base, Some(&token));
        // The binary serves the web UI: `/` on a fresh start leads to the login page.
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let root = browser.get(format!("{base}/")).send().await.expect("GET /");
        assert_eq!(root.status(), 303);
        assert_eq!(
            root.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/anmelden")
        );
        let login = browser
            .get(format!("{base}/anmelden"))
            .send()
            .await
            .expect("GET /anmelden");
        assert_eq!(login.status(), 200);
        assert!(login
            .text()
            .await
            .expect("body")
            .contains("<h1>Anmelden</h1>"));
        let units = admin.get("/api/v1/plan-units?limit=200").await;
        assert_eq!(units.status, 200, "{}", units.body);
        let unit = units.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|u| u["code"] == "63.01"))
            .expect("demo Aktenplan has 63.01")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let own_unit = admin.create_plan_unit("99", None).await;
        assert!(!own_unit.is_empty());

        let file = admin.create_file(&unit, "Neubau Einfamilienhaus").await;
        let reference = file.body["reference"].as_str().expect("reference");
        assert!(reference.starts_with("63.01-0001/"), "{reference}");
        let file_id = file.id();
        let case_id = admin.create_case(&file_id, "Bauantrag").await;

        let content: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let doc = admin
            .upload_document(
                &format!("/api/v1/cases/{case_id}"),
                "Antrag",
                content.clone(),
            )
            .await;
        let doc_id = doc.id();
        let download = admin
            .get(&format!("/api/v1/documents/{doc_id}/content"))
            .await;
        assert_eq!(download.status, 200);
        assert!(download.bytes == content, "download differs from upload");

        let v2 = admin
            .upload(
                &format!("/api/v1/documents/{doc_id}/versions"),
                None,
                Some(("antrag-v2.txt", "text/plain", b"zweite Fassung".to_vec())),
            )
            .await;
        assert_eq!(v2.status, 201, "{}", v2.body);
        assert_eq!(v2.body["number"], 2);
        let latest = admin
            .get(&format!("/api/v1/documents/{doc_id}/content"))
            .await;
        assert_eq!(latest.bytes, b"zweite Fassung");

        let history = admin.get(&format!("/api/v1/files/{file_id}/history")).await;
        let actions: Vec<&str> = history.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "file.created",
                "case.created",
                "document.created",
                "document.version_added"
            ]
        );
        file_id
    });

    // The CLI works against the same embedded cluster while the server runs.
    let reader_token = cli(
        dir.path(),
        &listen,
        &[
            "token",
            "create",
            "--tenant",
            "demo",
            "--role",
            "reader",
            "--name",
            "Lesezugriff",
        ],
    );
    let reader_token = reader_token.trim();
    assert!(reader_token.starts_with("akta_") && !reader_token.contains('\n'));
    assert!(cli(dir.path(), &listen, &["tenant", "list"]).contains("demo"));
    let out = akta(dir.path(), &listen)
        .args([
            "user",
            "create",
            "--tenant",
            "demo",
            "--username",
            "anna",
            "--name",
            "Anna Muster",
            "--role",
            "clerk",
        ])
        .env("AKTA_USER_PASSWORD", "ein langes Passwort")
        .output()
        .expect("run akta user create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rt.block_on(async {
        let login = Client::new(&base, None)
            .post(
                "/api/v1/session",
                json!({"tenant": "demo", "username": "anna", "password": "ein langes Passwort"}),
            )
            .await;
        assert_eq!(login.status, 201, "{}", login.body);
        assert_eq!(login.body["user"]["role"], "clerk");
    });
    rt.block_on(async {
        let reader = Client::new(&base, Some(reader_token));
        assert_eq!(
            reader.get(&format!("/api/v1/files/{file_id}")).await.status,
            200
        );
        reader
            .post(
                "/api/v1/files",
                json!({"plan_unit_id": file_id, "subject": "x"}),
            )
            .await
            .assert_problem(403, "forbidden");
    });

    stop(server);
    let cluster = akta_pgcluster::Cluster::open_or_init(&dir.path().join("data/postgres"))
        .expect("cluster dir");
    assert!(
        !cluster.is_running(),
        "private PostgreSQL still running after shutdown"
    );

    // A second start reuses the data and does not create the demo tenant (or a token) again.
    let (server, lines) = serve(dir.path(), &listen);
    assert!(
        !lines.iter().any(|l| l.trim().starts_with("akta_")),
        "token printed again: {lines:?}"
    );
    rt.block_on(async {
        let admin = Client::new(&base, Some(&token));
        let file = admin.get(&format!("/api/v1/files/{file_id}")).await;
        assert_eq!(file.status, 200, "{}", file.body);
    });
    stop(server);
}

#[test]
fn tls_termination_serves_https_with_hsts_and_refuses_plain_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl CLI");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");
    let mut child = akta(dir.path(), &listen)
        .arg("serve")
        .env("AKTA_TLS_CERT_FILE", &cert)
        .env("AKTA_TLS_KEY_FILE", &key)
        .stdout(Stdio::null())
        .spawn()
        .expect("start akta serve");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let https = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let url = format!("https://{listen}/healthz");
    let deadline = Instant::now() + Duration::from_secs(90);
    let response = loop {
        assert!(Instant::now() < deadline, "no HTTPS answer");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "akta serve exited early"
        );
        if let Ok(r) = rt.block_on(https.get(&url).send()) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_some_and(|v| v.to_str().unwrap_or("").contains("max-age=")));
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = rt.block_on(
        reqwest::Client::new()
            .get(format!("http://{listen}/healthz"))
            .send(),
    );
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    stop(child);
}
