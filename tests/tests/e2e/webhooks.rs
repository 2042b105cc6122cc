//! Webhooks for Fachverfahren and Idempotency-Key: a receiver on loopback in the test gets
//! the deliveries, checks their Standard Webhooks signatures itself, and answers 500 when
//! told to; private targets are refused unless allowed; repeated creating POSTs with a key
//! create once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use akta_testkit::{Client, JobSettings, Reply, Role, TestApp, TestOptions};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::common::{document_metadata, random_bytes, upload_version};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    /// What the receiver answered.
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("delivery body is JSON")
    }
}

/// A Fachverfahren on 127.0.0.1: records every request, answers the planned statuses first
/// and 200 afterwards.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<u16>>>,
    url: String,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let answered = r.plan.lock().unwrap().pop_front().unwrap_or(200);
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    r.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    async fn start(plan: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Receiver {
            url: format!("http://{}/hook", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        r.plan.lock().unwrap().extend(plan.iter().copied());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        r
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until `done` holds for what was received.
    async fn until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "never received {what}: {got:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The signature the receiver computes itself: HMAC-SHA256 with the secret's bytes over
/// `{id}.{timestamp}.{body}`, base64.
fn expected_signature(secret: &str, r: &Received) -> String {
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let key = PKey::hmac(&key).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer
        .update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes())
        .unwrap();
    format!("v1,{}", b64.encode(signer.sign_to_vec().unwrap()))
}

async fn register(client: &Client, url: &str, events: Value) -> Reply {
    client
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": events, "description": "Fachverfahren Bauamt"}),
        )
        .await
}

/// Polls the endpoint's delivery log until `done` holds (up to 30 s).
async fn deliveries_until(
    client: &Client,
    hook: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(&format!("/api/v1/webhooks/{hook}/deliveries"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if done(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "delivery log never showed {what}: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn allowing_private() -> TestOptions {
    TestOptions {
        webhooks_allow_private: true,
        search: false,
        ..TestOptions::default()
    }
}

#[tokio::test]
async fn deliveries_are_signed_retried_after_a_500_and_logged() {
    let app = TestApp::spawn_with(allowing_private()).await;
    // The first request the receiver gets fails; its delivery must come again.
    let receiver = Receiver::start(&[500]).await;
    let tenant = app.create_tenant("hagen").await;
    let admin = &tenant.admin;

    let created = register(
        admin,
        &receiver.url,
        json!(["file.created", "document.created", "version.created"]),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let hook = created.id();
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(
            secret
                .strip_prefix("whsec_")
                .expect("Standard Webhooks form"),
        )
        .expect("base64 secret");
    assert!((24..=64).contains(&raw.len()), "{} secret bytes", raw.len());
    // The secret is shown once: neither the endpoint nor the list shows it again.
    let shown = admin.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["url"], receiver.url.as_str());
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);
    let list = admin.get("/api/v1/webhooks").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(
        !list.bytes.windows(6).any(|w| w == b"whsec_"),
        "{}",
        list.body
    );

    let plan = admin.create_plan_unit("63.01", None).await;
    let file = admin
        .create_file(&plan, "Bauantrag Webhookweg 1")
        .await
        .id();
    let document = admin
        .upload_document(
            &format!("/api/v1/files/{file}"),
            "Antrag",
            random_bytes(2000),
        )
        .await
        .id();

    let version = upload_version(admin, &document, "antrag-v2.pdf", random_bytes(2100)).await;
    assert_eq!(version.status, 201, "{}", version.body);
    let got = receiver
        .until("each event type answered 200", |got| {
            ["file.created", "document.created", "version.created"]
                .iter()
                .all(|t| {
                    got.iter()
                        .any(|r| r.answered == 200 && r.json()["type"] == *t)
                })
        })
        .await;
    assert_eq!(got[0].answered, 500, "the plan answered 500 first");
    for r in &got {
        assert_eq!(r.signature, expected_signature(&secret, r), "{r:#?}");
        assert!(r.id.starts_with("msg_"), "{}", r.id);
        let ts: i64 = r.timestamp.parse().expect("unix seconds");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((now - ts).abs() < 300, "timestamp {ts} far from {now}");
        let body = r.json();
        assert!(body["timestamp"].is_string(), "{body}");
        assert_eq!(body["data"]["file_id"], file.as_str(), "{body}");
    }
    let doc_event = got
        .iter()
        .map(Received::json)
        .find(|b| b["type"] == "document.created")
        .unwrap();
    assert_eq!(doc_event["data"]["id"], document.as_str());
    // The failed delivery came again under the same message id.
    let failed = &got[0];
    assert!(
        got[1..]
            .iter()
            .any(|r| r.id == failed.id && r.answered == 200),
        "the delivery answered 500 was not retried: {got:#?}"
    );

    // The delivery log shows both attempts of that delivery.
    let log = deliveries_until(admin, &hook, "every delivery delivered", |items| {
        items.len() == 3 && items.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let retried: Vec<&Value> = log.iter().filter(|d| d["attempts"] == 2).collect();
    assert_eq!(retried.len(), 1, "{log:#?}");
    let attempts = retried[0]["attempt_log"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], 500, "{log:#?}");
    assert_eq!(attempts[1]["status"], 200, "{log:#?}");
    assert_eq!(retried[0]["last_status"], 200);
    for d in &log {
        assert!(d["event_type"].is_string() && d["created_at"].is_string());
    }

    // Test-send: one webhook.test delivery, signed like the others.
    let test = admin
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    let got = receiver
        .until("webhook.test", |got| {
            got.iter().any(|r| r.json()["type"] == "webhook.test")
        })
        .await;
    let t = got
        .iter()
        .find(|r| r.json()["type"] == "webhook.test")
        .unwrap();
    assert_eq!(t.signature, expected_signature(&secret, t));

    // After the tenant key is rotated (older versions retired), the secret still signs.
    app.keyring
        .rotate_tenant_key(&app.db, akta_domain::TenantId(tenant.id), "test")
        .await
        .expect("rotate");
    let test = admin
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    let got = receiver
        .until("a second webhook.test", |got| {
            got.iter()
                .filter(|r| r.json()["type"] == "webhook.test")
                .count()
                == 2
        })
        .await;
    let t = got
        .iter()
        .rfind(|r| r.json()["type"] == "webhook.test")
        .unwrap();
    assert_eq!(t.signature, expected_signature(&secret, t));

    // Another tenant sees nothing of it; a clerk of the same tenant may not manage it.
    let other = app.create_tenant("witten").await;
    for path in [
        format!("/api/v1/webhooks/{hook}"),
        format!("/api/v1/webhooks/{hook}/deliveries"),
    ] {
        other
            .admin
            .get(&path)
            .await
            .assert_problem(404, "not_found");
    }
    other
        .admin
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await
        .assert_problem(404, "not_found");
    let r = other
        .admin
        .send(
            other
                .admin
                .request(reqwest::Method::DELETE, &format!("/api/v1/webhooks/{hook}")),
        )
        .await;
    r.assert_problem(404, "not_found");
    assert_eq!(
        other.admin.get("/api/v1/webhooks").await.body["items"],
        json!([])
    );
    let clerk = app.client(&tenant, "clerk").await;
    clerk
        .get("/api/v1/webhooks")
        .await
        .assert_problem(403, "forbidden");

    // Unknown event types are named in a 422.
    let bad = register(admin, &receiver.url, json!(["document.exploded"])).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["field"], "events");
    assert!(bad.body["detail"]
        .as_str()
        .unwrap()
        .contains("document.exploded"));

    // Removed, it is gone.
    let del = admin
        .send(admin.request(reqwest::Method::DELETE, &format!("/api/v1/webhooks/{hook}")))
        .await;
    assert_eq!(del.status, 204, "{}", del.body);
    admin
        .get(&format!("/api/v1/webhooks/{hook}"))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn private_targets_are_refused_at_registration_unless_allowed() {
    let app = TestApp::spawn_with(TestOptions {
        search: false,
        ..TestOptions::default()
    })
    .await;
    let receiver = Receiver::start(&[]).await;
    let tenant = app.create_tenant("hagen").await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hook"),
        "http://[::1]/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://10.0.0.8/hook".to_owned(),
        "ftp://example.org/hook".to_owned(),
    ] {
        let r = register(&tenant.admin, &url, json!(["*"])).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["field"], "url", "{url}: {}", r.body);
    }
    assert_eq!(
        tenant.admin.get("/api/v1/webhooks").await.body["items"],
        json!([])
    );
    // Nothing registered, so changes deliver nothing anywhere.
    let plan = tenant.admin.create_plan_unit("63.01", None).await;
    tenant.admin.create_file(&plan, "Bauantrag").await;
    assert!(receiver.received().is_empty());
}

/// An endpoint registered where private targets were allowed is still never called by a
/// worker that does not allow them: the rule holds again at delivery.
#[tokio::test]
async fn a_worker_that_refuses_private_targets_never_delivers_to_one() {
    let app = TestApp::spawn_with(TestOptions {
        role: Role::Api,
        ..allowing_private()
    })
    .await;
    let mut jobs = JobSettings::default();
    jobs.webhooks.poll = Duration::from_millis(100);
    jobs.webhooks.retry_base = Duration::from_millis(50);
    jobs.webhooks.allow_private = false;
    let _worker = app
        .spawn_node_with(Role::Worker, jobs, akta_testkit::CoreSettings::default())
        .await;
    let receiver = Receiver::start(&[]).await;
    let tenant = app.create_tenant("hagen").await;
    let hook = register(&tenant.admin, &receiver.url, json!(["*"])).await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook = hook.id();
    let plan = tenant.admin.create_plan_unit("63.01", None).await;
    tenant.admin.create_file(&plan, "Bauantrag").await;

    let log = deliveries_until(&tenant.admin, &hook, "a refused attempt", |items| {
        items
            .iter()
            .any(|d| d["attempts"].as_i64().unwrap_or(0) >= 2)
    })
    .await;
    let refused = log
        .iter()
        .find(|d| d["attempts"].as_i64() >= Some(2))
        .unwrap();
    assert!(
        refused["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("private"),
        "{refused:#}"
    );
    assert!(refused["last_status"].is_null(), "{refused:#}");
    assert!(receiver.received().is_empty(), "{:#?}", receiver.received());
}

fn with_key(key: &str, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("idempotency-key", key)
}

#[tokio::test]
async fn an_idempotency_key_creates_once_and_replays_the_first_answer() {
    let app = TestApp::spawn_with(TestOptions {
        search: false,
        ..TestOptions::default()
    })
    .await;
    let tenant = app.create_tenant("hagen").await;
    let admin = &tenant.admin;
    let plan = admin.create_plan_unit("63.01", None).await;
    let body = json!({"plan_unit_id": plan, "subject": "Bauantrag Einmalweg 1"});
    let post = |key: &str, body: &Value| {
        admin.send(with_key(
            key,
            admin
                .request(reqwest::Method::POST, "/api/v1/files")
                .json(body),
        ))
    };

    let first = post("akte-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.header("idempotent-replayed").is_none());
    let again = post("akte-1", &body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("content-type"), first.header("content-type"));
    let files = admin.get("/api/v1/files").await;
    assert_eq!(
        files.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        files.body
    );

    // The same key for another request is refused.
    let other = json!({"plan_unit_id": plan, "subject": "Etwas anderes"});
    post("akte-1", &other)
        .await
        .assert_problem(422, "idempotency_key_reused");
    // Keys are 1 to 255 visible characters.
    post(&"k".repeat(256), &body)
        .await
        .assert_problem(400, "invalid_idempotency_key");
    // A refused request keeps nothing: the corrected retry with its key runs.
    let bad = json!({"plan_unit_id": plan, "subject": ""});
    assert_eq!(post("akte-2", &bad).await.status, 422);
    let fixed = post("akte-2", &other).await;
    assert_eq!(fixed.status, 201, "{}", fixed.body);
    assert!(fixed.header("idempotent-replayed").is_none());
    // Keys belong to their principal: another token's same key is its own.
    let clerk = app.client(&tenant, "clerk").await;
    let theirs = clerk
        .send(with_key(
            "akte-1",
            clerk
                .request(reqwest::Method::POST, "/api/v1/files")
                .json(&body),
        ))
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_ne!(theirs.id(), first.id());
    assert_eq!(
        admin.get("/api/v1/files").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A new token is in its answer once; the replay gives the same token, and what is kept
    // for the replay is sealed, not the token in the clear.
    let token_body = json!({"name": "Fachverfahren", "role": "clerk"});
    let mint = || {
        admin.send(with_key(
            "token-1",
            admin
                .request(reqwest::Method::POST, "/api/v1/tokens")
                .json(&token_body),
        ))
    };
    let t1 = mint().await;
    assert_eq!(t1.status, 201, "{}", t1.body);
    let t2 = mint().await;
    assert_eq!(t2.header("idempotent-replayed"), Some("true"));
    assert_eq!(t2.body["token"], t1.body["token"]);
    let token = t1.body["token"].as_str().unwrap().as_bytes().to_vec();
    let mut owner = crate::common::owner(&app, tenant.id).await;
    let kept: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT body_sealed FROM idempotency_keys WHERE key = 'token-1'")
            .fetch_all(&mut owner)
            .await
            .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].windows(token.len()).any(|w| w == token.as_slice()));

    // An upload repeated with its key (a new multipart boundary each time, as a client
    // building the request again sends it) files one document.
    let file = first.id();
    let content = random_bytes(300_000);
    let upload = || {
        let form = reqwest::multipart::Form::new()
            .part(
                "metadata",
                reqwest::multipart::Part::text(document_metadata("Antrag").to_string())
                    .mime_str("application/json")
                    .unwrap(),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(content.clone())
                    .file_name("antrag.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        admin.send(with_key(
            "upload-1",
            admin
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/files/{file}/documents"),
                )
                .multipart(form),
        ))
    };
    let up1 = upload().await;
    assert_eq!(up1.status, 201, "{}", up1.body);
    let up2 = upload().await;
    assert_eq!(up2.status, 201, "{}", up2.body);
    assert_eq!(up2.header("idempotent-replayed"), Some("true"));
    assert_eq!(up2.id(), up1.id());
    let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
    assert_eq!(
        docs.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        docs.body
    );
}

/// A repeat while the first request with the key is still running (its upload body still
/// streaming) is refused with 409; once the first is done, a repeat gets its answer.
#[tokio::test]
async fn a_repeat_while_the_first_request_runs_is_refused() {
    let app = TestApp::spawn_with(TestOptions {
        search: false,
        ..TestOptions::default()
    })
    .await;
    let tenant = app.create_tenant("hagen").await;
    let admin = &tenant.admin;
    let plan = admin.create_plan_unit("63.01", None).await;
    let file = admin.create_file(&plan, "Bauantrag").await.id();
    let path = format!("/api/v1/files/{file}/documents");

    let boundary = "grenze4711";
    let content = random_bytes(64 * 1024);
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\
         Content-Type: application/json\r\n\r\n{}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"antrag.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n",
        document_metadata("Antrag")
    )
    .into_bytes();
    body.extend_from_slice(&content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (head, tail) = body.split_at(body.len() / 2);
    let (head, tail) = (head.to_vec(), tail.to_vec());
    let content_type = format!("multipart/form-data; boundary={boundary}");

    // The first request sends half its body and waits.
    let (send_rest, rest) = tokio::sync::oneshot::channel::<()>();
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(head)]).chain(
        futures_util::stream::once(async move {
            let _ = rest.await;
            Ok(tail)
        }),
    );
    let first = tokio::spawn({
        let rb = admin
            .request(reqwest::Method::POST, &path)
            .header("content-type", &content_type)
            .header("idempotency-key", "langsam")
            .body(reqwest::Body::wrap_stream(stream));
        let admin = admin.clone();
        async move { admin.send(rb).await }
    });
    // It holds the key once its row exists.
    let mut owner = crate::common::owner(&app, tenant.id).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let held: i64 =
            sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'langsam'")
                .fetch_one(&mut owner)
                .await
                .unwrap();
        if held == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first request never took its key"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let repeat = || {
        admin.send(
            admin
                .request(reqwest::Method::POST, &path)
                .header("content-type", &content_type)
                .header("idempotency-key", "langsam")
                .body(body.clone()),
        )
    };
    repeat()
        .await
        .assert_problem(409, "idempotency_key_in_flight");

    send_rest.send(()).unwrap();
    let first = first.await.unwrap();
    assert_eq!(first.status, 201, "{}", first.body);
    let again = repeat().await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.id(), first.id());
    let docs = admin.get(&path).await;
    assert_eq!(
        docs.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        docs.body
    );
}
