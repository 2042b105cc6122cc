//! `akta serve --role api|worker`: an API node serves requests and runs no jobs, a worker
//! node runs the jobs and answers only its health probes; both on one database.

use std::time::{Duration, Instant};

use akta_testkit::{Client, Role, TestApp, TestOptions};

mod support;
use serde_json::json;

const TEXT: &str = "Die Bauaufsicht bestätigt den Eingang der Nachbarzustimmung.";

/// The extraction state of the document's first version.
async fn extraction_state(client: &Client, doc: &str) -> String {
    let reply = client.get(&format!("/api/v1/documents/{doc}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["versions"][0]["extraction"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Polls `path` until `done` holds for the answer's body (bounded).
async fn until(client: &Client, path: &str, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = client.get(path).await;
        if reply.status == 200 && done(&reply.body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never settled: {path} {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_node_serves_without_jobs_and_worker_node_runs_them_on_one_database() {
    let api = TestApp::spawn_with(TestOptions {
        role: Role::Api,
        // Given the extraction binary, an API node still must not extract.
        extraction_worker: Some(env!("CARGO_BIN_EXE_akta").into()),
        ..TestOptions::default()
    })
    .await;
    let tenant = api.create_tenant("herdecke").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("63.01", None).await;
    let file = admin.create_file(&unit, "Bauantrag").await.id();
    let doc = admin
        .upload(
            &format!("/api/v1/files/{file}/documents"),
            Some(json!({"title": "Nachbarzustimmung", "kind": "Eingang"})),
            // HTML: plain text would be extracted while filed, on the API node itself.
            Some((
                "zustimmung.html",
                "text/html",
                format!("<html><body><p>{TEXT}</p></body></html>").into_bytes(),
            )),
        )
        .await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let doc = doc.id();

    // The API node's own index applier has indexed the new document (by its title) …
    until(admin, "/api/v1/search?q=Nachbarzustimmung", |b| {
        b["total"] == 1
    })
    .await;
    // … while its extraction waits in the outbox: no job runs on an API node.
    assert_eq!(extraction_state(admin, &doc).await, "pending");

    // A worker node on the same database takes the job; it serves no API, only health.
    let worker = api
        .spawn_node(Role::Worker, Some(env!("CARGO_BIN_EXE_akta").into()))
        .await;
    let probe = Client::new(&worker.base_url, admin.token.as_deref());
    assert_eq!(probe.get("/healthz").await.status, 200);
    assert_eq!(probe.get("/readyz").await.status, 200);
    probe
        .get("/api/v1/plan-units")
        .await
        .assert_problem(404, "not_found");
    let web = probe.get("/anmelden").await;
    assert_eq!(web.status, 404, "the worker serves no web UI");

    until(admin, &format!("/api/v1/documents/{doc}"), |b| {
        b["versions"][0]["extraction"]["state"] == "done"
    })
    .await;
    // The text the worker extracted reaches the API node's index.
    until(admin, "/api/v1/search?q=Bauaufsicht", |b| b["total"] == 1).await;

    // A second API node on the same database serves the same records.
    let second = api.spawn_node(Role::Api, None).await;
    let other = Client::new(&second.base_url, admin.token.as_deref());
    let got = other.get(&format!("/api/v1/files/{file}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
}

/// The binary's flag and variable, as replicas run it: two processes on one database, each
/// with its own data directory; `--role worker` answers only its probes, `AKTA_ROLE=api`
/// serves the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn akta_serve_takes_the_role_from_flag_and_environment() {
    use std::process::{Child, Command, Stdio};
    let urls = akta_testkit::postgres::fresh_database().await;
    let master = "11".repeat(32);
    let scratch = tempfile::tempdir().expect("tempdir");
    let replica = |name: &str| {
        let port = akta_pgcluster::free_port().expect("port");
        let mut cmd = Command::new(support::AKTA);
        cmd.env("AKTA_DATA_DIR", scratch.path().join(name))
            .env("AKTA_LISTEN", format!("127.0.0.1:{port}"))
            .env("AKTA_DATABASE_URL", &urls.app_url)
            .env("AKTA_DATABASE_OWNER_URL", &urls.owner_url)
            .env("AKTA_MASTER_KEY", &master)
            .env("AKTA_LOG", "warn")
            .env_remove("AKTA_MASTER_KEY_FILE")
            .env_remove("AKTA_S3_BUCKET")
            .env_remove("AKTA_ROLE");
        (cmd, format!("http://127.0.0.1:{port}"))
    };
    let (mut create, _) = replica("cli");
    let created = create
        .args(["tenant", "create", "schwelm", "--name", "Stadt Schwelm"])
        .output()
        .expect("tenant create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();

    let spawn = |mut cmd: Command| -> Child {
        cmd.stdout(Stdio::null()).spawn().expect("start akta serve")
    };
    let (mut worker_cmd, worker_url) = replica("worker");
    worker_cmd.args(["serve", "--role", "worker"]);
    let worker = spawn(worker_cmd);
    let (mut api_cmd, api_url) = replica("api");
    api_cmd.arg("serve").env("AKTA_ROLE", "api");
    let api = spawn(api_cmd);

    let ready = |url: String| async move {
        let deadline = Instant::now() + Duration::from_secs(90);
        let probe = Client::new(&url, None);
        while probe.get("/readyz").await.status != 200 {
            assert!(Instant::now() < deadline, "{url} never became ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    ready(worker_url.clone()).await;
    ready(api_url.clone()).await;
    let worker_client = Client::new(&worker_url, Some(&token));
    assert_eq!(worker_client.get("/healthz").await.status, 200);
    worker_client
        .get("/api/v1/plan-units")
        .await
        .assert_problem(404, "not_found");
    let api_client = Client::new(&api_url, Some(&token));
    let units = api_client.get("/api/v1/plan-units").await;
    assert_eq!(units.status, 200, "{}", units.body);
    support::stop(worker);
    support::stop(api);
}

/// A second server on one data directory would share its PostgreSQL and search indexes: it
/// refuses to start, while commands beside the running server still work.
#[test]
fn a_second_server_on_one_data_directory_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = akta_pgcluster::free_port().expect("port");
    let listen = format!("127.0.0.1:{port}");
    let (first, _token) = support::serve_first_start(dir.path(), &listen);

    let other = format!("127.0.0.1:{}", akta_pgcluster::free_port().expect("port"));
    let second = support::run(dir.path(), &other, &["serve"]);
    assert!(!second.status.success(), "a second server started");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another `akta serve` is using the data directory"),
        "{stderr}"
    );
    // Rebuilding the index would write files the server has open: refused too.
    let rebuild = support::run(dir.path(), &other, &["index", "rebuild"]);
    assert!(!rebuild.status.success());
    // Commands that only need the database use the running server's PostgreSQL.
    let (tenants, _) = support::ok(dir.path(), &other, &["tenant", "list"]);
    assert!(tenants.contains("demo"), "{tenants}");
    support::stop(first);
}

/// A node whose search index trails the index log reports not ready, so a load balancer sends
/// no searches to a new or restarted replica until it has caught up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_index_log_is_not_ready() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("wetter").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;
    let file = tenant.admin.create_file(&unit, "Bauantrag").await.id();
    // Applies the log once at its start, then not for an hour; no lag tolerated.
    let slow = app
        .spawn_node_with(
            Role::Api,
            akta_testkit::JobSettings {
                index_interval: Duration::from_secs(3600),
                ..akta_testkit::JobSettings::default()
            },
            akta_testkit::CoreSettings {
                ready_max_index_lag: 0,
                ..akta_testkit::CoreSettings::default()
            },
        )
        .await;
    let probe = Client::new(&slow.base_url, None);
    // Ready once its first round has caught up …
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe.get("/readyz").await.status != 200 {
        assert!(Instant::now() < deadline, "the node never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // … and not ready once the log has moved on without it.
    let filed = tenant
        .admin
        .upload_document(&format!("/api/v1/files/{file}"), "Antrag", b"Text".to_vec())
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    probe.get("/readyz").await.assert_problem(503, "not_ready");
    // The node that keeps up stays ready.
    assert_eq!(app.anonymous().get("/readyz").await.status, 200);
}
