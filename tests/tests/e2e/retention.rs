//! Aufbewahrung over REST: every Akte shows its effective Aufbewahrungsfrist and
//! Aussonderungsart (its own, else its plan unit's), the date it falls due once closed, and its
//! legal hold; admins close records with the past date they were closed on paper; archivists
//! list what is due and set and lift holds, audited.

use akta_testkit::{Client, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::seed;

async fn plan_unit(admin: &Client, code: &str, years: Value, disposition: &str) -> String {
    let r = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": code, "title": format!("Einheit {code}"),
                   "retention_years": years, "disposition": disposition}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

/// An Akte whose Laufzeit began long ago (so it can be closed with a past date).
async fn file_since(admin: &Client, unit: &str, subject: &str) -> String {
    let r = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": subject, "period_from": "1985-01-02"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn close(client: &Client, file: &str, closed_on: Option<&str>) -> akta_testkit::Reply {
    let current = client.get(&format!("/api/v1/files/{file}")).await;
    let etag = current.header("etag").expect("etag").to_owned();
    let mut body = json!({"status": "zdA"});
    if let Some(d) = closed_on {
        body["closed_on"] = json!(d);
    }
    client
        .send(
            client
                .request(Method::PATCH, &format!("/api/v1/files/{file}"))
                .header("if-match", etag)
                .json(&body),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_akte_shows_its_retention_and_falls_due_at_the_end_of_its_closing_year_plus_the_years() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let admin = &seeded.tenant.admin;
    let bau = plan_unit(admin, "63", json!(10), "A").await;
    let file = file_since(admin, &bau, "Bauantrag Lindenweg 3").await;

    let open = admin.get(&format!("/api/v1/files/{file}")).await;
    assert_eq!(
        open.body["retention"],
        json!({"years": 10, "unlimited": false, "disposition": "A", "due_on": null, "hold": null})
    );

    // A clerk may close, but not with a date from the past; nobody may close in the future.
    let clerk = app.client(&seeded.tenant, "clerk").await;
    close(&clerk, &file, Some("2012-06-30"))
        .await
        .assert_problem(403, "forbidden");
    let future = close(admin, &file, Some("2999-01-01")).await;
    assert_eq!(future.status, 422, "{}", future.body);
    let closed = close(admin, &file, Some("2012-06-30")).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["period_to"], "2012-06-30");
    assert_eq!(closed.body["retention"]["due_on"], "2022-12-31");

    // Unbefristet never falls due.
    let satzungen = plan_unit(admin, "10", Value::Null, "A").await;
    let forever = file_since(admin, &satzungen, "Hauptsatzung").await;
    let closed = close(admin, &forever, Some("1990-01-31")).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["retention"]["unlimited"], true);
    assert_eq!(closed.body["retention"]["due_on"], Value::Null);

    // The archivist's list: due now, by plan unit, by year.
    let archivist = app.client(&seeded.tenant, "archivist").await;
    let due = |q: String| {
        let archivist = archivist.clone();
        async move {
            let r = archivist.get(&format!("/api/v1/disposal/due{q}")).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|f| f["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(due(String::new()).await, vec![file.clone()]);
    assert_eq!(
        due(format!("?plan_unit_id={bau}")).await,
        vec![file.clone()]
    );
    assert!(due(format!("?plan_unit_id={satzungen}")).await.is_empty());
    assert_eq!(due("?year=2022".into()).await, vec![file.clone()]);
    assert!(due("?year=2030".into()).await.is_empty());
    clerk
        .get("/api/v1/disposal/due")
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legal_hold_is_set_and_lifted_by_archivists_and_audited() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let other = seed(&app, "herdecke").await;
    let archivist = app.client(&seeded.tenant, "archivist").await;
    let path = format!("/api/v1/files/{}/hold", seeded.file);
    let put = |client: &Client, path: &str, body: Value| {
        let request = client.request(Method::PUT, path).json(&body);
        let client = client.clone();
        async move { client.send(request).await }
    };

    let clerk = app.client(&seeded.tenant, "clerk").await;
    put(&clerk, &path, json!({"reason": "Klage"}))
        .await
        .assert_problem(403, "forbidden");
    let held = put(
        &archivist,
        &path,
        json!({"reason": "Klageverfahren 3 K 12/26", "until": "2099-12-31"}),
    )
    .await;
    assert_eq!(held.status, 200, "{}", held.body);
    let hold = &held.body["retention"]["hold"];
    assert_eq!(hold["reason"], "Klageverfahren 3 K 12/26");
    assert_eq!(hold["until"], "2099-12-31");
    assert!(hold["by"].as_str().is_some_and(|b| !b.is_empty()), "{hold}");
    let shown = seeded
        .tenant
        .admin
        .get(&format!("/api/v1/files/{}", seeded.file))
        .await;
    assert_eq!(&shown.body["retention"]["hold"], hold);

    // Another tenant's Akte: 404, as for every other route.
    let foreign = format!("/api/v1/files/{}/hold", other.file);
    put(&archivist, &foreign, json!({"reason": "x"}))
        .await
        .assert_problem(404, "not_found");
    let past = put(
        &archivist,
        &path,
        json!({"reason": "x", "until": "2001-01-01"}),
    )
    .await;
    assert_eq!(past.status, 422, "{}", past.body);

    let lifted = archivist
        .send(archivist.request(Method::DELETE, &path))
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(lifted.body["retention"]["hold"], Value::Null);
    archivist
        .send(archivist.request(Method::DELETE, &path))
        .await
        .assert_problem(404, "not_found");

    let history = seeded
        .tenant
        .admin
        .get(&format!("/api/v1/files/{}/history", seeded.file))
        .await;
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("file.hold"))
        .collect();
    assert_eq!(actions, ["file.hold_set", "file.hold_lifted"]);
}

/// An Akte may set its own Aufbewahrung (records managers only, also once closed), and
/// inherit its plan unit's again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_akte_sets_its_own_retention_and_inherits_again() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "witten").await;
    let admin = &seeded.tenant.admin;
    let bau = plan_unit(admin, "63", json!(10), "A").await;
    let file = file_since(admin, &bau, "Bauantrag Lindenweg 3").await;
    assert_eq!(close(admin, &file, Some("2012-06-30")).await.status, 200);
    let path = format!("/api/v1/files/{file}/retention");
    let put = |client: &Client, body: Value| {
        let request = client.request(Method::PUT, &path).json(&body);
        let client = client.clone();
        async move { client.send(request).await }
    };
    let clerk = app.client(&seeded.tenant, "clerk").await;
    put(&clerk, json!({"retention_years": 30}))
        .await
        .assert_problem(403, "forbidden");
    let archivist = app.client(&seeded.tenant, "archivist").await;
    let own = put(
        &archivist,
        json!({"retention_years": 30, "disposition": "V"}),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(
        own.body["retention"],
        json!({"years": 30, "unlimited": false, "disposition": "V", "due_on": "2042-12-31", "hold": null})
    );
    let forever = put(&archivist, json!({"retention_years": null})).await;
    assert_eq!(
        forever.body["retention"]["unlimited"], true,
        "{}",
        forever.body
    );
    assert_eq!(
        forever.body["retention"]["disposition"], "A",
        "inherited again"
    );
    let inherited = put(&archivist, json!({})).await;
    assert_eq!(
        inherited.body["retention"]["years"], 10,
        "{}",
        inherited.body
    );
    assert_eq!(inherited.body["retention"]["due_on"], "2022-12-31");
    let bad = put(&archivist, json!({"retention_years": -1})).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let history = admin.get(&format!("/api/v1/files/{file}/history")).await;
    let set = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "file.retention_set")
        .count();
    assert_eq!(set, 3);
}
