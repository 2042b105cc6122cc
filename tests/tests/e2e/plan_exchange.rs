//! Aktenplan exchange in xdomea 0301: a tenant's plan exported (valid against the official
//! schema), imported into an empty tenant gives the same plan; importing again changes
//! nothing; a changed unit is updated, nothing is deleted; a bad message changes nothing.

use akta_testkit::{Client, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn unit(
    admin: &Client,
    code: &str,
    title: &str,
    parent: Option<&str>,
    years: Value,
    d: Option<&str>,
) -> String {
    let mut body = json!({"code": code, "title": title, "parent_id": parent});
    if !years.is_string() {
        body["retention_years"] = years;
    }
    if let Some(d) = d {
        body["disposition"] = json!(d);
    }
    let r = admin.post("/api/v1/plan-units", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

/// (code, parent code, title, retention_years, disposition) of every unit, sorted.
async fn plan_of(admin: &Client) -> Vec<(String, Option<String>, String, String, String)> {
    let r = admin.get("/api/v1/plan-units?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().expect("items").clone();
    let code_of = |id: &Value| {
        items
            .iter()
            .find(|u| &u["id"] == id)
            .and_then(|u| u["code"].as_str())
            .map(str::to_owned)
    };
    let mut out: Vec<_> = items
        .iter()
        .map(|u| {
            (
                u["code"].as_str().expect("code").to_owned(),
                code_of(&u["parent_id"]),
                u["title"].as_str().expect("title").to_owned(),
                u["retention_years"].to_string(),
                u["disposition"].as_str().expect("disposition").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn import(admin: &Client, body: Vec<u8>) -> akta_testkit::Reply {
    admin
        .send(
            admin
                .request(Method::POST, "/api/v1/plan-units/import")
                .header("content-type", "application/xml")
                .body(body),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aktenplan_travels_between_tenants_in_0301() {
    let app = TestApp::spawn().await;
    let witten = app.create_tenant("witten").await;
    let herdecke = app.create_tenant("herdecke").await;
    let a = &witten.admin;
    let bau = unit(a, "6", "Bauwesen", None, Value::Null, Some("B")).await;
    let ordnung = unit(
        a,
        "63",
        "Bauordnung & Bauaufsicht",
        Some(&bau),
        json!(30),
        Some("A"),
    )
    .await;
    unit(
        a,
        "63.01",
        "Baugenehmigungen",
        Some(&ordnung),
        json!(10),
        None,
    )
    .await;
    unit(
        a,
        "63.02",
        "Gebühren für Größe",
        Some(&ordnung),
        "inherit".into(),
        Some("V"),
    )
    .await;
    let original = plan_of(a).await;

    let exported = a.get("/api/v1/plan-units/export").await;
    assert_eq!(exported.status, 200, "{}", exported.body);
    assert_eq!(exported.header("content-type"), Some("application/xml"));
    crate::aussonderung::assert_valid(&exported.bytes, "0301");

    let b = &herdecke.admin;
    let report = import(b, exported.bytes.clone()).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(
        report.body["created"].as_array().map(Vec::len),
        Some(4),
        "{}",
        report.body
    );
    assert_eq!(plan_of(b).await, original, "the same plan");

    let again = import(b, exported.bytes.clone()).await;
    assert_eq!(again.body["created"], json!([]));
    assert_eq!(again.body["updated"], json!([]));
    assert_eq!(again.body["unchanged"], 4);

    // A changed title is updated; a unit only the tenant has is kept, not deleted.
    unit(b, "10", "Hauptverwaltung", None, Value::Null, None).await;
    let changed = String::from_utf8(exported.bytes.clone())
        .expect("utf-8")
        .replace("Baugenehmigungen", "Baugenehmigungsverfahren");
    let r = import(b, changed.into_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["updated"], json!(["63.01"]));
    assert_eq!(r.body["kept"], json!(["10"]));

    // Only admins import; a broken message changes nothing and names its line.
    let clerk = app.client(&herdecke, "clerk").await;
    import(&clerk, exported.bytes.clone())
        .await
        .assert_problem(403, "forbidden");
    let before = plan_of(b).await;
    let broken = String::from_utf8(exported.bytes.clone())
        .expect("utf-8")
        .replace(
            "<xdomea:Kennzeichen>63.02</xdomea:Kennzeichen>",
            "<xdomea:Kennzeichen>99.1</xdomea:Kennzeichen>",
        );
    let r = import(b, broken.into_bytes()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let truncated = exported.bytes[..exported.bytes.len() / 2].to_vec();
    let r = import(b, truncated).await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line")),
        "{}",
        r.body
    );
    assert_eq!(plan_of(b).await, before, "nothing half-applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_unit_is_one_level_below_its_parent() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("iserlohn").await;
    let six = t.admin.create_plan_unit("6", None).await;
    let skipped = t
        .admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "63.01", "title": "Baugenehmigungen", "parent_id": six}),
        )
        .await;
    let problem = skipped.assert_problem(422, "validation_failed");
    assert_eq!(problem["field"], "code");
    let stranger = t
        .admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "70", "title": "Umwelt", "parent_id": six}),
        )
        .await;
    stranger.assert_problem(422, "validation_failed");
    let sixty_three = t.admin.create_plan_unit("63", Some(&six)).await;
    t.admin.create_plan_unit("63.01", Some(&sixty_three)).await;
}
