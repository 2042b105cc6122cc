//! Bad input on every route answers with a stable problem code naming the offending field,
//! and changes nothing.

use akta_testkit::{Client, Reply, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{
    assert_invalid, document_metadata, history_actions, item_ids, items, random_bytes, random_id,
    seed,
};

/// A JSON route with a valid body and the fields to spoil it with.
struct JsonRoute {
    method: Method,
    path: String,
    client: Client,
    valid: Value,
    /// Removing this field must be refused (None: all fields are optional).
    required: Option<&'static str>,
    /// A field and a value of the wrong JSON type for it.
    wrong_type: (&'static str, Value),
    /// A text field and its largest allowed length in characters.
    bounded: (&'static str, usize),
}

impl JsonRoute {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    async fn send_raw(&self, content_type: Option<&str>, body: String) -> Reply {
        let mut rb = self
            .client
            .request(self.method.clone(), &self.path)
            .header("if-match", "\"v1\"")
            .body(body);
        if let Some(content_type) = content_type {
            rb = rb.header("content-type", content_type);
        }
        self.client.send(rb).await
    }

    async fn send(&self, body: &Value) -> Reply {
        self.send_raw(Some("application/json"), body.to_string())
            .await
    }

    fn with(&self, field: &str, value: Value) -> Value {
        let mut body = self.valid.clone();
        body[field] = value;
        body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_routes_reject_bad_bodies_naming_the_field() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "unna").await;
    let admin = seeded.tenant.admin.clone();
    let clerk = app.client(&seeded.tenant, "clerk").await;
    let file = &seeded.file;

    let routes = [
        JsonRoute {
            method: Method::POST,
            path: "/api/v1/tenants".into(),
            client: app.operator.clone(),
            valid: json!({"slug": "neu", "name": "Neue Stadt"}),
            required: Some("name"),
            wrong_type: ("slug", json!(42)),
            bounded: ("name", 200),
        },
        JsonRoute {
            method: Method::POST,
            path: "/api/v1/tokens".into(),
            client: admin.clone(),
            valid: json!({"name": "Sachbearbeitung", "role": "clerk"}),
            required: Some("role"),
            wrong_type: ("role", json!(["clerk"])),
            bounded: ("name", 200),
        },
        JsonRoute {
            method: Method::POST,
            path: "/api/v1/org-units".into(),
            client: admin.clone(),
            valid: json!({"code": "FB9", "name": "Fachbereich 9"}),
            required: Some("code"),
            wrong_type: ("parent_id", json!(17)),
            bounded: ("name", 200),
        },
        JsonRoute {
            method: Method::POST,
            path: "/api/v1/plan-units".into(),
            client: admin.clone(),
            valid: json!({"code": "77", "title": "Sonstiges"}),
            required: Some("title"),
            wrong_type: ("retention_years", json!("zehn")),
            bounded: ("title", 300),
        },
        JsonRoute {
            method: Method::POST,
            path: "/api/v1/files".into(),
            client: clerk.clone(),
            valid: json!({"plan_unit_id": seeded.plan_unit, "subject": "Neue Akte"}),
            required: Some("plan_unit_id"),
            wrong_type: ("metadata", json!([1, 2])),
            bounded: ("subject", 500),
        },
        JsonRoute {
            method: Method::PATCH,
            path: format!("/api/v1/files/{file}"),
            client: clerk.clone(),
            valid: json!({"subject": "Geändert"}),
            required: None,
            wrong_type: ("status", json!(true)),
            bounded: ("subject", 500),
        },
        JsonRoute {
            method: Method::POST,
            path: format!("/api/v1/files/{file}/cases"),
            client: clerk.clone(),
            valid: json!({"subject": "Neuer Vorgang"}),
            required: Some("subject"),
            wrong_type: ("subject", json!(42)),
            bounded: ("subject", 500),
        },
    ];

    for route in &routes {
        let name = route.name();
        let valid = route.valid.to_string();

        let truncated = route
            .send_raw(
                Some("application/json"),
                valid.trim_end_matches('}').to_owned(),
            )
            .await;
        truncated.assert_problem(400, "malformed_json");
        let trailing = route
            .send_raw(Some("application/json"), format!("{valid} {{}}"))
            .await;
        trailing.assert_problem(400, "malformed_json");
        let not_json = route
            .send_raw(Some("application/json"), "subject=x".into())
            .await;
        not_json.assert_problem(400, "malformed_json");
        for not_an_object in [json!("text"), json!(42), json!(null)] {
            assert_invalid(&route.send(&not_an_object).await, "body");
        }

        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let reply = route.send_raw(content_type, valid.clone()).await;
            reply.assert_problem(415, "unsupported_media_type");
        }

        let unknown = route.send(&route.with("bogus", json!(1))).await;
        assert_invalid(&unknown, "bogus");

        let (field, value) = &route.wrong_type;
        let wrong = route.send(&route.with(field, value.clone())).await;
        assert_invalid(&wrong, field);

        if let Some(required) = route.required {
            let mut body = route.valid.clone();
            body.as_object_mut().expect("object").remove(required);
            let missing = route.send(&body).await;
            assert_invalid(&missing, required);
        }

        let (field, max) = route.bounded;
        // Lengths count characters, not bytes.
        let long = route
            .send(&route.with(field, json!("ä".repeat(max + 1))))
            .await;
        assert_invalid(&long, field);
        assert!(
            long.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains(&max.to_string()),
            "{name}: the detail should name the limit: {}",
            long.body
        );
        let blank = route.send(&route.with(field, json!("  \n "))).await;
        assert_invalid(&blank, field);
    }

    // Nothing of the above changed anything.
    let tenants = app.operator.get("/api/v1/tenants").await;
    assert_eq!(items(&tenants).len(), 1);
    let files = admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&files), vec![file.clone()]);
    let the_file = admin.get(&format!("/api/v1/files/{file}")).await;
    assert_eq!(the_file.body["version"], 1);
    let cases = admin.get(&format!("/api/v1/files/{file}/cases")).await;
    assert_eq!(item_ids(&cases), vec![seeded.case.clone()]);
    let units = admin.get("/api/v1/plan-units").await;
    assert_eq!(item_ids(&units), vec![seeded.plan_unit.clone()]);
    assert!(items(&admin.get("/api/v1/org-units").await).is_empty());

    // The limits themselves are inclusive.
    let longest = clerk
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": seeded.plan_unit, "subject": "ä".repeat(500)}),
        )
        .await;
    assert_eq!(longest.status, 201, "{}", longest.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_must_be_objects_not_positional_arrays() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("holzwickede").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;

    // serde's derived Deserialize also accepts a struct as an array of its fields in
    // declaration order; the API documents objects only, so an array must be refused.
    let positional = json!([unit, "Akte aus einem Array", null, null, null, null]);
    let reply = tenant.admin.post("/api/v1/files", positional).await;
    let files = tenant.admin.get("/api/v1/files").await;
    assert_invalid(&reply, "body");
    assert!(items(&files).is_empty(), "an array body created an Akte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_in_paths_are_bad_requests_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "kamen").await;
    let clerk = app.client(&seeded.tenant, "clerk").await;
    let doc = &seeded.document;

    for bad in [
        "not-a-uuid",
        "123",
        "00000000-0000-0000-0000-00000000000g",
        "%20",
    ] {
        let routes: [(Method, String, Body); 15] = [
            (Method::GET, format!("/api/v1/plan-units/{bad}"), Body::None),
            (Method::GET, format!("/api/v1/files/{bad}"), Body::None),
            (Method::PATCH, format!("/api/v1/files/{bad}"), Body::Json),
            (
                Method::GET,
                format!("/api/v1/files/{bad}/cases"),
                Body::None,
            ),
            (
                Method::POST,
                format!("/api/v1/files/{bad}/cases"),
                Body::Json,
            ),
            (
                Method::GET,
                format!("/api/v1/files/{bad}/history"),
                Body::None,
            ),
            (Method::GET, format!("/api/v1/cases/{bad}"), Body::None),
            (
                Method::GET,
                format!("/api/v1/files/{bad}/documents"),
                Body::None,
            ),
            (
                Method::POST,
                format!("/api/v1/files/{bad}/documents"),
                Body::Document,
            ),
            (
                Method::GET,
                format!("/api/v1/cases/{bad}/documents"),
                Body::None,
            ),
            (
                Method::POST,
                format!("/api/v1/cases/{bad}/documents"),
                Body::Document,
            ),
            (Method::GET, format!("/api/v1/documents/{bad}"), Body::None),
            (
                Method::POST,
                format!("/api/v1/documents/{bad}/versions"),
                Body::Version,
            ),
            (
                Method::GET,
                format!("/api/v1/documents/{bad}/content"),
                Body::None,
            ),
            (
                Method::GET,
                format!("/api/v1/documents/{bad}/versions/1/content"),
                Body::None,
            ),
        ];
        for (method, path, body) in routes {
            let reply = send(&clerk, method.clone(), &path, body).await;
            reply.assert_problem(400, "invalid_id");
            assert_eq!(reply.body["field"], "id", "{method} {path}: {}", reply.body);
        }
    }
    for bad in ["0", "-1", "x", "1.5", "99999999999", "1e2"] {
        let path = format!("/api/v1/documents/{doc}/versions/{bad}/content");
        let reply = clerk.get(&path).await;
        reply.assert_problem(400, "invalid_id");
        assert_eq!(reply.body["field"], "n", "{path}: {}", reply.body);
    }
    // A well-formed but unknown version number is simply not there.
    clerk
        .get(&format!("/api/v1/documents/{doc}/versions/2/content"))
        .await
        .assert_problem(404, "not_found");
    // Nothing was uploaded by the POSTs above.
    assert_eq!(app.blob_keys().await.len(), 1);
}

#[derive(Clone, Copy)]
enum Body {
    None,
    Json,
    Document,
    Version,
}

async fn send(client: &Client, method: Method, path: &str, body: Body) -> Reply {
    let rb = client.request(method, path);
    let rb = match body {
        Body::None => rb,
        Body::Json => rb
            .json(&json!({"subject": "x"}))
            .header("if-match", "\"v1\""),
        Body::Document => rb.multipart(
            Form::new()
                .text("metadata", document_metadata("x").to_string())
                .part("file", pdf_part(100)),
        ),
        Body::Version => rb.multipart(Form::new().part("file", pdf_part(100))),
    };
    client.send(rb).await
}

fn pdf_part(len: usize) -> Part {
    Part::bytes(random_bytes(len))
        .file_name("scan.pdf")
        .mime_str("application/pdf")
        .expect("mime")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_are_bad_requests_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "bergkamen").await;
    let reader = app.client(&seeded.tenant, "reader").await;
    let file = &seeded.file;

    let cases = [
        ("/api/v1/files?limit=0", "limit"),
        ("/api/v1/files?limit=201", "limit"),
        ("/api/v1/files?limit=-1", "limit"),
        ("/api/v1/files?limit=abc", "limit"),
        ("/api/v1/files?status=closed", "status"),
        ("/api/v1/files?status=", "status"),
        ("/api/v1/files?cursor=abc", "cursor"),
        ("/api/v1/files?plan_unit_id=abc", "plan_unit_id"),
        ("/api/v1/files?bogus=1", "bogus"),
        ("/api/v1/plan-units?limit=0", "limit"),
        ("/api/v1/plan-units?parent_id=x", "parent_id"),
        ("/api/v1/plan-units?cursor=x", "cursor"),
        ("/api/v1/plan-units?status=offen", "status"),
        ("/api/v1/files/{file}/cases?limit=0", "limit"),
        ("/api/v1/files/{file}/cases?cursor=x", "cursor"),
        ("/api/v1/files/{file}/history?cursor=abc", "cursor"),
        ("/api/v1/files/{file}/history?limit=1000", "limit"),
    ];
    for (path, field) in cases {
        let path = path.replace("{file}", file);
        let reply = reader.get(&path).await;
        reply.assert_problem(400, "invalid_query");
        assert_eq!(reply.body["field"], field, "{path}: {}", reply.body);
    }
    // The bounds themselves are accepted.
    let ok = reader.get("/api/v1/files?limit=200&status=offen").await;
    assert_eq!(item_ids(&ok), vec![file.clone()]);
    let ok = reader.get("/api/v1/files?limit=1").await;
    assert_eq!(item_ids(&ok), vec![file.clone()]);
}

/// Named multipart parts in the order they are sent.
type Parts = Vec<(&'static str, Part)>;

/// A multipart body built part by part, for uploads that break the rules.
fn form(parts: Parts) -> Form {
    parts
        .into_iter()
        .fold(Form::new(), |form, (name, part)| form.part(name, part))
}

fn json_part(value: &Value) -> Part {
    Part::text(value.to_string())
        .mime_str("application/json")
        .expect("mime")
}

async fn upload_form(client: &Client, path: &str, form: Form) -> Reply {
    client
        .send(client.request(Method::POST, path).multipart(form))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_uploads_reject_bad_parts_and_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "selm").await;
    let clerk = app.client(&seeded.tenant, "clerk").await;
    let file_docs = format!("/api/v1/files/{}/documents", seeded.file);
    let case_docs = format!("/api/v1/cases/{}/documents", seeded.case);
    let meta = || json_part(&document_metadata("Antrag"));

    // Parts missing, unknown, repeated or unreadable: (parts, code, field), all 400.
    let structural: Vec<(Parts, &str, &str)> = vec![
        (vec![("metadata", meta())], "missing_part", "file"),
        (vec![("file", pdf_part(5_000))], "missing_part", "metadata"),
        (
            vec![
                ("metadata", meta()),
                ("comment", Part::text("hi")),
                ("file", pdf_part(10)),
            ],
            "unexpected_part",
            "comment",
        ),
        // The file is already stored when the stray part arrives; it must be removed again.
        (
            vec![
                ("metadata", meta()),
                ("file", pdf_part(70_000)),
                ("comment", Part::text("hi")),
            ],
            "unexpected_part",
            "comment",
        ),
        (
            vec![
                ("metadata", meta()),
                ("file", pdf_part(10)),
                ("file", pdf_part(10)),
            ],
            "unexpected_part",
            "file",
        ),
        (
            vec![
                ("metadata", meta()),
                ("metadata", meta()),
                ("file", pdf_part(10)),
            ],
            "unexpected_part",
            "metadata",
        ),
        (
            vec![
                ("metadata", Part::text("{\"title\": ")),
                ("file", pdf_part(10)),
            ],
            "malformed_json",
            "metadata",
        ),
    ];
    for (i, (parts, code, field)) in structural.into_iter().enumerate() {
        let target = if i % 2 == 0 { &file_docs } else { &case_docs };
        let reply = upload_form(&clerk, target, form(parts)).await;
        reply.assert_problem(400, code);
        assert_eq!(reply.body["field"], field, "case {i}: {}", reply.body);
    }

    // Metadata that breaks a rule: (changes to valid metadata, field). A null value removes
    // the field.
    let long = |n: usize| json!("x".repeat(n));
    let invalid: Vec<(Value, &str)> = vec![
        (json!({"bogus": 1}), "metadata.bogus"),
        (json!({"title": null}), "metadata.title"),
        (json!({"kind": null}), "metadata.kind"),
        (json!({"title": 5}), "metadata.title"),
        (json!({"title": long(301)}), "metadata.title"),
        (json!({"title": " "}), "metadata.title"),
        (json!({"kind": "Brief"}), "metadata.kind"),
        (json!({"kind": "eingang"}), "metadata.kind"),
        (json!({"sender": long(301)}), "metadata.sender"),
        (json!({"recipient": long(301)}), "metadata.recipient"),
        (
            json!({"document_date": "gestern"}),
            "metadata.document_date",
        ),
        (json!({"metadata": "frei"}), "metadata.metadata"),
    ];
    for (i, (changes, field)) in invalid.into_iter().enumerate() {
        let mut metadata = document_metadata("Antrag");
        for (key, value) in changes.as_object().expect("object") {
            match value {
                Value::Null => metadata.as_object_mut().expect("object").remove(key),
                v => metadata
                    .as_object_mut()
                    .expect("object")
                    .insert(key.clone(), v.clone()),
            };
        }
        let target = if i % 2 == 0 { &file_docs } else { &case_docs };
        let parts = vec![("metadata", json_part(&metadata)), ("file", pdf_part(10))];
        assert_invalid(&upload_form(&clerk, target, form(parts)).await, field);
    }
    // Invalid metadata after the stored file: the file must be removed again.
    let late = json_part(&json!({"title": "Antrag", "kind": "Brief"}));
    let parts = vec![("file", pdf_part(70_000)), ("metadata", late)];
    assert_invalid(
        &upload_form(&clerk, &file_docs, form(parts)).await,
        "metadata.kind",
    );

    for name in [
        "../../etc/passwd",
        "a/b.pdf",
        "..",
        ".",
        "a\\b.pdf",
        "tab\t.pdf",
    ] {
        let part = Part::bytes(random_bytes(100)).file_name(name);
        let reply = upload_form(
            &clerk,
            &file_docs,
            form(vec![("metadata", meta()), ("file", part)]),
        )
        .await;
        assert_invalid(&reply, "file");
        let part = Part::bytes(random_bytes(100)).file_name(name);
        let version = format!("/api/v1/documents/{}/versions", seeded.document);
        let reply = upload_form(&clerk, &version, form(vec![("file", part)])).await;
        assert_invalid(&reply, "file");
    }

    let versions = format!("/api/v1/documents/{}/versions", seeded.document);
    let reply = upload_form(
        &clerk,
        &versions,
        form(vec![("metadata", meta()), ("file", pdf_part(10))]),
    )
    .await;
    // A version's metadata part holds only its Änderungsvermerk (`note`).
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["field"], "metadata.kind");
    // A multipart body needs at least one part (RFC 2046).
    for path in [&file_docs, &versions] {
        let reply = upload_form(&clerk, path, form(vec![])).await;
        reply.assert_problem(400, "malformed_multipart");
    }

    // Not multipart at all.
    let reply = clerk.post(&file_docs, document_metadata("Antrag")).await;
    reply.assert_problem(400, "malformed_multipart");

    // Nothing was stored: still only the seeded document, version and blob.
    let docs = clerk.get(&file_docs).await;
    assert_eq!(item_ids(&docs), vec![seeded.document.clone()]);
    let doc = clerk
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await;
    assert_eq!(doc.body["versions"].as_array().map(Vec::len), Some(1));
    let history = history_actions(&clerk, &seeded.file).await;
    assert_eq!(
        history,
        ["file.created", "case.created", "document.created"]
    );
    assert_eq!(
        app.blob_keys().await.len(),
        1,
        "a refused upload left a blob"
    );
    let swept = app.sweep(std::time::Duration::ZERO).await;
    assert_eq!(
        swept.deleted, 0,
        "refused uploads should clean up after themselves"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_missing_or_invalid_tokens() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "froendenberg").await;
    let id = random_id();
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/api/v1/tenants".into()),
        (Method::POST, "/api/v1/tenants".into()),
        (Method::POST, "/api/v1/tokens".into()),
        (Method::GET, "/api/v1/org-units".into()),
        (Method::POST, "/api/v1/org-units".into()),
        (Method::GET, "/api/v1/plan-units".into()),
        (Method::POST, "/api/v1/plan-units".into()),
        (Method::GET, format!("/api/v1/plan-units/{id}")),
        (Method::GET, "/api/v1/files".into()),
        (Method::POST, "/api/v1/files".into()),
        (Method::GET, format!("/api/v1/files/{id}")),
        (Method::PATCH, format!("/api/v1/files/{id}")),
        (Method::GET, format!("/api/v1/files/{id}/cases")),
        (Method::POST, format!("/api/v1/files/{id}/cases")),
        (Method::GET, format!("/api/v1/files/{id}/history")),
        (Method::GET, format!("/api/v1/cases/{id}")),
        (Method::GET, format!("/api/v1/files/{id}/documents")),
        (Method::POST, format!("/api/v1/files/{id}/documents")),
        (Method::GET, format!("/api/v1/cases/{id}/documents")),
        (Method::POST, format!("/api/v1/cases/{id}/documents")),
        (Method::GET, format!("/api/v1/documents/{id}")),
        (Method::POST, format!("/api/v1/documents/{id}/versions")),
        (Method::GET, format!("/api/v1/documents/{id}/content")),
        (
            Method::GET,
            format!("/api/v1/documents/{id}/versions/1/content"),
        ),
        // Real ids and malformed ones get the same answer: authentication comes first.
        (Method::GET, format!("/api/v1/files/{}", seeded.file)),
        (
            Method::GET,
            format!("/api/v1/documents/{}/content", seeded.document),
        ),
        (Method::GET, "/api/v1/files/not-a-uuid".into()),
    ];
    let valid = seeded.tenant.admin.token.clone().expect("token");
    let anonymous = app.anonymous();
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        (
            "unknown token",
            Some("Bearer akta_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        ),
        ("empty bearer", Some("Bearer ".into())),
        ("basic auth", Some("Basic YWRtaW46YWRtaW4=".into())),
        ("token without scheme", Some(valid.clone())),
        (
            "overlong token",
            Some(format!("Bearer {}", "a".repeat(5000))),
        ),
    ];
    for (method, path) in &routes {
        for (what, header) in &credentials {
            let mut rb = anonymous
                .request(method.clone(), path)
                .header("content-type", "application/json")
                .body("{}");
            if let Some(header) = header {
                rb = rb.header("authorization", header);
            }
            let reply = anonymous.send(rb).await;
            assert_eq!(
                reply.status, 401,
                "{method} {path} with {what}: {}",
                reply.body
            );
            reply.assert_problem(401, "unauthorized");
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Bearer realm=\"akta\""),
                "{method} {path} with {what}"
            );
        }
    }
    // Health probes need no token.
    assert_eq!(anonymous.get("/healthz").await.status, 200);
    assert_eq!(anonymous.get("/readyz").await.status, 200);
    // Unknown routes are 404 problems, not an empty answer.
    seeded
        .tenant
        .admin
        .get("/api/v1/nothing-here")
        .await
        .assert_problem(404, "not_found");
    // And nothing was created by the anonymous POSTs.
    let files = seeded.tenant.admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&files), vec![seeded.file.clone()]);
}

/// A duplicate answers 409 in words, never with the database's constraint name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_named_in_words_not_constraint_names() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "breckerfeld").await;
    let admin = &seeded.tenant.admin;
    let user = json!({"username": "anna", "display_name": "Anna Muster", "role": "clerk"});
    assert_eq!(admin.post("/api/v1/users", user.clone()).await.status, 201);
    let again = admin.post("/api/v1/users", user).await;
    let body = again.assert_problem(409, "conflict");
    let detail = body["detail"].as_str().expect("detail");
    assert_eq!(detail, "a user with this username exists");
    assert!(!detail.contains("_key"), "{detail}");
}
