//! Tenant walls seen from the API: another tenant's objects are indistinguishable from
//! missing ones on every route, and never show up in lists or as references.

use akta_testkit::{Client, Reply, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{
    assert_invalid, document_metadata, item_ids, items, random_bytes, random_id, seed, Seeded,
};

/// What a probe sends along with its method and path.
#[derive(Clone, Copy)]
enum Payload {
    None,
    Json,
    Document,
    Version,
}

/// Every tenant route that takes an object id; `{file}` etc. are replaced per probe.
const ROUTES: &[(Method, &str, Payload)] = &[
    (Method::GET, "/api/v1/plan-units/{unit}", Payload::None),
    (Method::GET, "/api/v1/files/{file}", Payload::None),
    (Method::PATCH, "/api/v1/files/{file}", Payload::Json),
    (Method::GET, "/api/v1/files/{file}/cases", Payload::None),
    (Method::POST, "/api/v1/files/{file}/cases", Payload::Json),
    (Method::GET, "/api/v1/files/{file}/history", Payload::None),
    (Method::GET, "/api/v1/cases/{case}", Payload::None),
    (
        Method::POST,
        "/api/v1/files/{file}/documents",
        Payload::Document,
    ),
    (Method::GET, "/api/v1/files/{file}/documents", Payload::None),
    (
        Method::POST,
        "/api/v1/cases/{case}/documents",
        Payload::Document,
    ),
    (Method::GET, "/api/v1/cases/{case}/documents", Payload::None),
    (Method::GET, "/api/v1/documents/{doc}", Payload::None),
    (
        Method::POST,
        "/api/v1/documents/{doc}/versions",
        Payload::Version,
    ),
    (
        Method::GET,
        "/api/v1/documents/{doc}/content",
        Payload::None,
    ),
    (
        Method::GET,
        "/api/v1/documents/{doc}/versions/1/content",
        Payload::None,
    ),
];

struct Ids<'a> {
    unit: &'a str,
    file: &'a str,
    case: &'a str,
    doc: &'a str,
}

fn fill(template: &str, ids: &Ids<'_>) -> String {
    template
        .replace("{unit}", ids.unit)
        .replace("{file}", ids.file)
        .replace("{case}", ids.case)
        .replace("{doc}", ids.doc)
}

async fn probe(client: &Client, method: &Method, path: &str, payload: Payload) -> Reply {
    let rb = client.request(method.clone(), path);
    let rb = match payload {
        Payload::None => rb,
        // Valid for both PATCH of a file and POST of a case.
        Payload::Json => rb
            .json(&json!({"subject": "Übernahme"}))
            .header("if-match", "\"v1\""),
        Payload::Document => rb.multipart(
            reqwest::multipart::Form::new()
                .text("metadata", document_metadata("Fremd").to_string())
                .part("file", file_part()),
        ),
        Payload::Version => rb.multipart(reqwest::multipart::Form::new().part("file", file_part())),
    };
    client.send(rb).await
}

fn file_part() -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(random_bytes(2_000)).file_name("fremd.pdf")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_answer_exactly_like_missing_ones_on_every_route() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "stadt-a").await;
    let b = app.create_tenant("stadt-b").await;
    // B has data of its own, so its transactions are not trivially empty.
    let b_unit = b.admin.create_plan_unit("63.01", None).await;
    b.admin.create_file(&b_unit, "Eigene Akte").await;

    let theirs = Ids {
        unit: &a.plan_unit,
        file: &a.file,
        case: &a.case,
        doc: &a.document,
    };
    let (unit, file, case, doc) = (random_id(), random_id(), random_id(), random_id());
    let missing = Ids {
        unit: &unit,
        file: &file,
        case: &case,
        doc: &doc,
    };
    for (method, template, payload) in ROUTES {
        let foreign = probe(&b.admin, method, &fill(template, &theirs), *payload).await;
        let absent = probe(&b.admin, method, &fill(template, &missing), *payload).await;
        let route = format!("{method} {template}");
        assert_eq!(foreign.status, 404, "{route} with A's id: {}", foreign.body);
        foreign.assert_problem(404, "not_found");
        absent.assert_problem(404, "not_found");
        assert_eq!(
            foreign.body, absent.body,
            "{route}: A's id is distinguishable"
        );
        assert_eq!(
            foreign.bytes, absent.bytes,
            "{route}: A's id is distinguishable"
        );
    }

    assert_a_untouched(&app, &a).await;
}

/// A's objects are exactly as seeded: nothing B tried changed or added anything.
async fn assert_a_untouched(app: &TestApp, a: &Seeded) {
    let admin = &a.tenant.admin;
    let file = admin.get(&format!("/api/v1/files/{}", a.file)).await;
    assert_eq!(file.body["version"], 1);
    assert_eq!(file.body["subject"], "Bauantrag Musterstraße 1");
    let cases = admin.get(&format!("/api/v1/files/{}/cases", a.file)).await;
    assert_eq!(item_ids(&cases), vec![a.case.clone()]);
    let docs = admin
        .get(&format!("/api/v1/files/{}/documents", a.file))
        .await;
    assert_eq!(item_ids(&docs), vec![a.document.clone()]);
    let doc = admin
        .get(&format!("/api/v1/documents/{}", a.document))
        .await;
    assert_eq!(doc.body["versions"].as_array().map(Vec::len), Some(1));
    let history = crate::common::history_actions(admin, &a.file).await;
    assert_eq!(
        history,
        ["file.created", "case.created", "document.created"]
    );
    // Refused uploads of B left no blob behind: only A's one version is stored.
    assert_eq!(app.blob_keys().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_show_only_the_callers_tenant() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "stadt-a").await;
    let b = app.create_tenant("stadt-b").await;
    let b_unit = b.admin.create_plan_unit("63.01", None).await;
    let b_file = b.admin.create_file(&b_unit, "Eigene Akte").await;
    // Counters are per tenant too: B's first Akte under the same code is number 1 as well.
    let a_file = a
        .tenant
        .admin
        .get(&format!("/api/v1/files/{}", a.file))
        .await;
    assert_eq!(b_file.body["reference"], a_file.body["reference"]);

    let files = b.admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&files), vec![b_file.id()]);
    let units = b.admin.get("/api/v1/plan-units").await;
    assert_eq!(item_ids(&units), vec![b_unit.clone()]);
    let by_a_unit = b
        .admin
        .get(&format!("/api/v1/files?plan_unit_id={}", a.plan_unit))
        .await;
    assert!(items(&by_a_unit).is_empty());
    let a_children = b
        .admin
        .get(&format!("/api/v1/plan-units?parent_id={}", a.plan_unit))
        .await;
    assert!(items(&a_children).is_empty());
    let orgs = b.admin.get("/api/v1/org-units").await;
    assert!(items(&orgs).is_empty());

    // And the other way round.
    let a_files = a.tenant.admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&a_files), vec![a.file.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_are_refused_as_references_like_missing_ones() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "stadt-a").await;
    let a_org = a
        .tenant
        .admin
        .post(
            "/api/v1/org-units",
            json!({"code": "FB1", "name": "Fachbereich 1"}),
        )
        .await;
    assert_eq!(a_org.status, 201, "{}", a_org.body);
    let b = app.create_tenant("stadt-b").await;
    let b_unit = b.admin.create_plan_unit("10", None).await;
    let b_file = b.admin.create_file(&b_unit, "Eigene Akte").await.id();

    let cases: [(&str, Method, String, Value, Value, &str); 5] = [
        (
            "file under A's plan unit",
            Method::POST,
            "/api/v1/files".into(),
            json!({"plan_unit_id": a.plan_unit, "subject": "x"}),
            json!({"plan_unit_id": random_id(), "subject": "x"}),
            "plan_unit_id",
        ),
        (
            "plan unit under A's plan unit",
            Method::POST,
            "/api/v1/plan-units".into(),
            json!({"code": "20", "title": "x", "parent_id": a.plan_unit}),
            json!({"code": "20", "title": "x", "parent_id": random_id()}),
            "parent_id",
        ),
        (
            "file led by A's org unit",
            Method::POST,
            "/api/v1/files".into(),
            json!({"plan_unit_id": b_unit, "subject": "x", "lead_org_unit_id": a_org.id()}),
            json!({"plan_unit_id": b_unit, "subject": "x", "lead_org_unit_id": random_id()}),
            "lead_org_unit_id",
        ),
        (
            "org unit under A's org unit",
            Method::POST,
            "/api/v1/org-units".into(),
            json!({"code": "FB2", "name": "x", "parent_id": a_org.id()}),
            json!({"code": "FB2", "name": "x", "parent_id": random_id()}),
            "parent_id",
        ),
        (
            "own file handed to A's org unit",
            Method::PATCH,
            format!("/api/v1/files/{b_file}"),
            json!({"lead_org_unit_id": a_org.id()}),
            json!({"lead_org_unit_id": random_id()}),
            "lead_org_unit_id",
        ),
    ];
    for (what, method, path, foreign_body, absent_body, field) in cases {
        let send = |body: Value| {
            let rb = b
                .admin
                .request(method.clone(), &path)
                .json(&body)
                .header("if-match", "\"v1\"");
            b.admin.send(rb)
        };
        let foreign = send(foreign_body).await;
        let absent = send(absent_body).await;
        assert_invalid(&foreign, field);
        assert_invalid(&absent, field);
        assert_eq!(
            foreign.body, absent.body,
            "{what}: A's id is distinguishable"
        );
    }

    let b_files = b.admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&b_files), vec![b_file.clone()]);
    let b_units = b.admin.get("/api/v1/plan-units").await;
    assert_eq!(item_ids(&b_units), vec![b_unit]);
    let b_file_now = b.admin.get(&format!("/api/v1/files/{b_file}")).await;
    assert_eq!(b_file_now.body["version"], 1);
    assert_eq!(b_file_now.body["lead_org_unit_id"], Value::Null);
}
