//! A real Akta per test, built by `App::build` like `akta serve`, and a small typed client.

use akta_api::ApiSettings;
pub use akta_app::JobSettings;
pub use akta_app::Role;
use akta_app::{App, AppConfig};
use akta_blob::{BlobStore, FsStore, S3Config, S3Store};
pub use akta_core::CoreSettings;
use akta_db::Db;
use akta_keys::keyring::{Key256, Keyring};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which blob backend the spawned Akta uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Garage,
    Filesystem,
}

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub backend: Backend,
    pub max_upload_bytes: u64,
    pub orphan_grace: Duration,
    /// Master key(s) of encryption at rest; `None`: a random key for this app.
    pub keyring: Option<Keyring>,
    /// Runs the extraction worker with this binary as its isolated child (one that answers
    /// `extract-worker`, e.g. the `akta` binary); `None`: jobs stay in the outbox.
    pub extraction_worker: Option<PathBuf>,
    /// Keeps search indexes in a temporary directory and runs the index applier.
    pub search: bool,
    /// What the node does: `All` (default), only requests (`Api`) or only jobs (`Worker`).
    pub role: Role,
    /// Manifests under `<import_dir>/<tenant slug>/` may be imported over REST.
    pub import_dir: Option<PathBuf>,
    /// Webhook endpoints on loopback (a receiver in the test) are allowed.
    pub webhooks_allow_private: bool,
    /// The operator's OpenID provider for console logins (`/betrieb/oidc/…`).
    pub operator_oidc: Option<akta_api::OperatorOidc>,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Garage,
            max_upload_bytes: 64 * 1024 * 1024,
            orphan_grace: Duration::from_secs(3600),
            keyring: None,
            extraction_worker: None,
            search: true,
            role: Role::All,
            import_dir: None,
            webhooks_allow_private: false,
            operator_oidc: None,
        }
    }
}

/// A running Akta on its own fresh database; stops when dropped.
pub struct TestApp {
    pub base_url: String,
    pub operator: Client,
    /// The running app's core, for tests of core operations without HTTP.
    pub core: akta_core::Core,
    pub db: Db,
    pub blobs: Arc<dyn BlobStore>,
    /// The master key(s) the app runs with, for tests of rotation and crypto-shredding.
    pub keyring: Keyring,
    pub owner_url: String,
    http: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _fs_dir: Option<tempfile::TempDir>,
    _index_dir: Option<tempfile::TempDir>,
}

/// Serves `app` on a free loopback port until the returned sender is dropped.
async fn serve_on_loopback(app: App) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, None, async {
        let _ = rx.await;
    }));
    (base_url, tx)
}

/// A further node started by [`TestApp::spawn_node`]; stops when dropped.
pub struct TestNode {
    pub base_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _index_dir: tempfile::TempDir,
}

/// A tenant created through the operator API.
#[derive(Debug, Clone)]
pub struct TestTenant {
    pub id: uuid::Uuid,
    pub slug: String,
    pub admin: Client,
}

/// An HTTP answer: status, headers and the body parsed as JSON where it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `id` of a created object.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.body))
            .to_owned()
    }

    /// Asserts a problem+json answer with `status` and `code`, returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.body
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code, body: {}",
            self.body
        );
        &self.body
    }
}

/// A client bound to one bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    pub base_url: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client for an Akta at `base_url` (e.g. a separately started `akta serve`).
    pub fn new(base_url: &str, token: Option<&str>) -> Client {
        Client {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            http: reqwest::Client::new(),
        }
    }

    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .request(method, format!("{}{}", self.base_url, path));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let response = rb.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("reading body").to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).json(&body))
            .await
    }

    /// Posts a raw body with a content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &'static str) -> Reply {
        self.send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: Value) -> Reply {
        let mut rb = self.request(reqwest::Method::PATCH, path).json(&body);
        if let Some(etag) = if_match {
            rb = rb.header("if-match", etag);
        }
        self.send(rb).await
    }

    /// Multipart upload with an optional `metadata` JSON part and an optional `file` part.
    pub async fn upload(
        &self,
        path: &str,
        metadata: Option<Value>,
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new();
        if let Some(m) = metadata {
            let part = reqwest::multipart::Part::text(m.to_string())
                .mime_str("application/json")
                .expect("mime");
            form = form.part("metadata", part);
        }
        if let Some((name, mime, bytes)) = file {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str(mime)
                .expect("mime");
            form = form.part("file", part);
        }
        self.send(self.request(reqwest::Method::POST, path).multipart(form))
            .await
    }

    // --- the records flow in one line each ---

    pub async fn create_plan_unit(&self, code: &str, parent: Option<&str>) -> String {
        let r = self
            .post(
                "/api/v1/plan-units",
                json!({"code": code, "title": format!("Einheit {code}"), "parent_id": parent}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub async fn create_file(&self, plan_unit: &str, subject: &str) -> Reply {
        let r = self
            .post(
                "/api/v1/files",
                json!({"plan_unit_id": plan_unit, "subject": subject}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r
    }

    pub async fn create_case(&self, file: &str, subject: &str) -> String {
        let r = self
            .post(
                &format!("/api/v1/files/{file}/cases"),
                json!({"subject": subject}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    /// Uploads a document into an Akte (`files/{id}`) or Vorgang (`cases/{id}`) path.
    pub async fn upload_document(&self, parent_path: &str, title: &str, bytes: Vec<u8>) -> Reply {
        let r = self
            .upload(
                &format!("{parent_path}/documents"),
                Some(json!({"title": title, "kind": "Eingang"})),
                Some(("dokument.pdf", "application/pdf", bytes)),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r
    }
}

impl TestApp {
    /// Akta on Garage with default options.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> TestApp {
        let urls = crate::postgres::fresh_database().await;
        Db::migrate(&urls.owner_url).await.expect("migrations");
        let db = Db::connect(&urls.app_url, 10)
            .await
            .expect("connect as app");
        let (blobs, fs_dir): (Arc<dyn BlobStore>, _) = match options.backend {
            Backend::Garage => {
                let g = crate::garage::shared();
                let mut cfg = S3Config::new(
                    Some(g.endpoint.clone()),
                    g.region.clone(),
                    g.bucket.clone(),
                    g.access_key_id.clone(),
                    g.secret_access_key.clone(),
                );
                // One prefix per app keeps listings of parallel tests apart.
                cfg.key_prefix = format!("app-{}/", uuid::Uuid::new_v4());
                (Arc::new(S3Store::new(cfg).expect("s3 store")), None)
            }
            Backend::Filesystem => {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = FsStore::new(dir.path().join("blobs")).expect("fs store");
                (Arc::new(store), Some(dir))
            }
        };
        let keyring = match options.keyring {
            Some(keyring) => keyring,
            None => Keyring::new(Key256::generate().expect("master key")),
        };
        let index_dir = options
            .search
            .then(|| tempfile::tempdir().expect("index tempdir"));
        // The same assembly as `akta serve`: jobs and index applier included.
        let app = App::build(AppConfig {
            role: options.role,
            db: db.clone(),
            blobs: blobs.clone(),
            keyring: keyring.clone(),
            core: CoreSettings {
                max_upload_bytes: options.max_upload_bytes,
                // Every test logs in from 127.0.0.1; the limits have tests of their own.
                logins_per_client_minute: 10_000,
                logins_per_tenant_minute: 10_000,
                import_dir: options.import_dir.clone(),
                webhooks_allow_private: options.webhooks_allow_private,
                ..CoreSettings::default()
            },
            api: ApiSettings {
                hsts: false,
                // The OIDC tests run their identity provider on plain-http loopback.
                oidc_allow_http: true,
                index_dir: index_dir.as_ref().map(|d| d.path().join("index")),
                operator_oidc: options.operator_oidc.clone(),
                ..ApiSettings::default()
            },
            jobs: JobSettings {
                extract_exe: options.extraction_worker,
                extraction: akta_jobs::worker::PoolSettings {
                    poll: Duration::from_millis(200),
                    ..akta_jobs::worker::PoolSettings::default()
                },
                index_interval: Duration::from_millis(250),
                sweep_interval: Duration::from_secs(600),
                orphan_grace: options.orphan_grace,
                audit_signing: None,
                audit_anchor_file: None,
                // Retries after a failed delivery come in a tenth of a second, not 5 s.
                webhooks: akta_jobs::webhooks::WebhookSettings {
                    poll: Duration::from_millis(200),
                    retry_base: Duration::from_millis(100),
                    allow_private: options.webhooks_allow_private,
                    ..akta_jobs::webhooks::WebhookSettings::default()
                },
            },
        })
        .expect("build the app");
        let app_core = app.state().core.clone();
        let (base_url, tx) = serve_on_loopback(app).await;
        let (_, operator_token) = app_core
            .create_operator_token("test operator")
            .await
            .expect("operator token");
        let http = reqwest::Client::new();
        TestApp {
            operator: Client {
                base_url: base_url.clone(),
                token: Some(operator_token),
                http: http.clone(),
            },
            base_url,
            core: app_core,
            db,
            blobs,
            keyring,
            owner_url: urls.owner_url,
            http,
            _shutdown: tx,
            _fs_dir: fs_dir,
            _index_dir: index_dir,
        }
    }

    /// Another node of the same Akta (same database, blob store and keys) in `role`, as a
    /// second replica would run it; `extraction_worker` as in [`TestOptions`].
    pub async fn spawn_node(&self, role: Role, extraction_worker: Option<PathBuf>) -> TestNode {
        let jobs = JobSettings {
            extract_exe: extraction_worker,
            extraction: akta_jobs::worker::PoolSettings {
                poll: Duration::from_millis(200),
                ..akta_jobs::worker::PoolSettings::default()
            },
            ..JobSettings::default()
        };
        self.spawn_node_with(role, jobs, CoreSettings::default())
            .await
    }

    /// [`TestApp::spawn_node`] with its own job timing and core settings.
    pub async fn spawn_node_with(
        &self,
        role: Role,
        jobs: JobSettings,
        core: CoreSettings,
    ) -> TestNode {
        let index_dir = tempfile::tempdir().expect("index tempdir");
        let app = App::build(AppConfig {
            role,
            db: self.db.clone(),
            blobs: self.blobs.clone(),
            keyring: self.keyring.clone(),
            core,
            api: ApiSettings {
                oidc_allow_http: true,
                index_dir: Some(index_dir.path().join("index")),
                ..ApiSettings::default()
            },
            jobs,
        })
        .expect("build the node");
        let (base_url, tx) = serve_on_loopback(app).await;
        TestNode {
            base_url,
            _shutdown: tx,
            _index_dir: index_dir,
        }
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client {
            base_url: self.base_url.clone(),
            token: None,
            http: self.http.clone(),
        }
    }

    pub async fn create_tenant(&self, slug: &str) -> TestTenant {
        let r = self
            .operator
            .post(
                "/api/v1/tenants",
                json!({"slug": slug, "name": format!("Stadt {slug}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        TestTenant {
            id: r.id().parse().expect("uuid"),
            slug: slug.to_owned(),
            admin: self.operator.with_token(r.body["admin_token"].as_str()),
        }
    }

    /// A client for a new token of `role` in `tenant`.
    pub async fn client(&self, tenant: &TestTenant, role: &str) -> Client {
        let r = tenant
            .admin
            .post(
                "/api/v1/tokens",
                json!({"name": format!("{role} token"), "role": role}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        tenant.admin.with_token(r.body["token"].as_str())
    }

    /// Runs the orphan sweeper once as if `grace` had passed.
    pub async fn sweep(&self, grace: Duration) -> akta_jobs::sweeper::SweepReport {
        akta_jobs::sweeper::sweep_once(&self.db, self.blobs.as_ref(), grace)
            .await
            .expect("sweep")
    }

    /// All blob keys this app has stored.
    pub async fn blob_keys(&self) -> Vec<String> {
        self.blobs
            .list("")
            .await
            .expect("list blobs")
            .into_iter()
            .map(|k| k.as_str().to_owned())
            .collect()
    }
}
