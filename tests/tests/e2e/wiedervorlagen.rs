//! Wiedervorlagen per person (issue 14): several on one Akte, each for a person or everyone
//! with a note, marked done one by one, ended when their Vorgang or Akte is closed; the
//! records rules and tenant walls hold as for every change.

use akta_testkit::{Client, TestApp, TestTenant};
use serde_json::{json, Value};

use crate::common::items;

async fn user(t: &TestTenant, username: &str, name: &str) -> String {
    let r = t
        .admin
        .post(
            "/api/v1/users",
            json!({"username": username, "display_name": name, "role": "clerk", "password": "Ein langes Passwort 2026!"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn open_ones(client: &Client, file: &str) -> Vec<Value> {
    items(
        &client
            .get(&format!("/api/v1/files/{file}/resubmissions"))
            .await,
    )
}

async fn close(client: &Client, path: &str) {
    let etag = client
        .get(path)
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let r = client
        .patch(path, Some(&etag), json!({"status": "zdA"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_wiedervorlagen_per_akte_for_people_with_notes_end_when_closed() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("witten").await;
    let anna = user(&t, "anna", "Anna Albers").await;
    let berta = user(&t, "berta", "Berta Brandt").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let file = t
        .admin
        .create_file(&unit, "Neubau Kita Lindenweg")
        .await
        .id();
    let case = t.admin.create_case(&file, "Brandschutz").await;

    let add = |path: String, body: Value| {
        let admin = t.admin.clone();
        async move { admin.post(&path, body).await }
    };
    let r = add(
        format!("/api/v1/files/{file}/resubmissions"),
        json!({"due_on": "2026-12-10", "user_id": anna, "note": "Statik nachfordern"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["user_name"], "Anna Albers");
    assert_eq!(r.body["note"], "Statik nachfordern");
    let annas = r.id();
    let r = add(
        format!("/api/v1/files/{file}/resubmissions"),
        json!({"due_on": "2026-12-11", "user_id": berta}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = add(
        format!("/api/v1/cases/{case}/resubmissions"),
        json!({"due_on": "2026-12-12", "note": "Prüfbericht"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["case_id"], case.as_str());
    // A token's Wiedervorlage is for everyone.
    assert!(r.body["user_id"].is_null(), "{}", r.body);
    assert_eq!(open_ones(&t.admin, &file).await.len(), 3);

    // Done one by one; done twice is no longer there.
    let done = t
        .admin
        .post(&format!("/api/v1/resubmissions/{annas}/done"), json!({}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let left = open_ones(&t.admin, &file).await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|r| r["id"] != annas.as_str()));
    t.admin
        .post(&format!("/api/v1/resubmissions/{annas}/done"), json!({}))
        .await
        .assert_problem(404, "not_found");

    // Closing the Vorgang ends its own; closing the Akte ends the rest; then none can be set.
    close(&t.admin, &format!("/api/v1/cases/{case}")).await;
    let left = open_ones(&t.admin, &file).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["user_name"], "Berta Brandt");
    close(&t.admin, &format!("/api/v1/files/{file}")).await;
    assert!(open_ones(&t.admin, &file).await.is_empty());
    t.admin
        .post(
            &format!("/api/v1/files/{file}/resubmissions"),
            json!({"due_on": "2026-12-10"}),
        )
        .await
        .assert_problem(409, "conflict");

    let history = items(&t.admin.get(&format!("/api/v1/files/{file}/history")).await);
    let actions: Vec<&str> = history
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"file.resubmission_set"), "{actions:?}");
    assert!(actions.contains(&"case.resubmission_set"), "{actions:?}");
    assert!(
        actions.contains(&"file.resubmission_cleared"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiedervorlagen_keep_to_their_tenant_and_refuse_bad_input() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("hagen").await;
    let other = app.create_tenant("iserlohn").await;
    let unit = t.admin.create_plan_unit("20", None).await;
    let file = t.admin.create_file(&unit, "Haushalt 2027").await.id();
    let r = t
        .admin
        .post(
            &format!("/api/v1/files/{file}/resubmissions"),
            json!({"due_on": "2027-01-15"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();

    assert_eq!(
        other
            .admin
            .get(&format!("/api/v1/files/{file}/resubmissions"))
            .await
            .status,
        404
    );
    other
        .admin
        .post(&format!("/api/v1/resubmissions/{id}/done"), json!({}))
        .await
        .assert_problem(404, "not_found");
    other
        .admin
        .post(
            &format!("/api/v1/files/{file}/resubmissions"),
            json!({"due_on": "2027-01-15"}),
        )
        .await
        .assert_problem(404, "not_found");
    // Not for another tenant's person either.
    let stranger = user(&other, "zoe", "Zoe Zander").await;
    let r = t
        .admin
        .post(
            &format!("/api/v1/files/{file}/resubmissions"),
            json!({"due_on": "2027-01-15", "user_id": stranger}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    let reader = app.client(&t, "reader").await;
    assert_eq!(open_ones(&reader, &file).await.len(), 1);
    assert_eq!(
        reader
            .post(&format!("/api/v1/resubmissions/{id}/done"), json!({}))
            .await
            .status,
        403
    );
    for body in [
        json!({}),
        json!({"due_on": "15.01.2027"}),
        json!({"due_on": "2027-01-15", "user_id": "anna"}),
        json!({"due_on": "2027-01-15", "note": "x".repeat(2001)}),
        json!({"due_on": "2027-01-15", "unbekannt": true}),
    ] {
        let r = t
            .admin
            .post(&format!("/api/v1/files/{file}/resubmissions"), body.clone())
            .await;
        assert!(
            (400..500).contains(&r.status.as_u16()),
            "{body}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(open_ones(&t.admin, &file).await.len(), 1);
}

/// Found by schemathesis: replacing and removing an Akte's Wiedervorlage at the same time
/// deadlocked in PostgreSQL and answered 500. Changes of one Akte now wait for each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replacements_of_a_wiedervorlage_never_fail_the_server() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("witten").await;
    let unit = t.admin.create_plan_unit("10", None).await;
    let file = t.admin.create_file(&unit, "Haushalt").await.id();
    let path = format!("/api/v1/files/{file}/resubmission");
    for round in 0..6 {
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (client, path) = (t.admin.clone(), path.clone());
            requests.spawn(async move {
                let request = if i % 3 == 2 {
                    client.request(reqwest::Method::DELETE, &path)
                } else {
                    let day = 1 + (i + round) % 20;
                    client
                        .request(reqwest::Method::PUT, &path)
                        .json(&json!({"date": format!("2027-01-{day:02}")}))
                };
                client.send(request).await
            });
        }
        while let Some(reply) = requests.join_next().await {
            let reply = reply.expect("request task");
            assert!(
                reply.status.is_success(),
                "{}: {}",
                reply.status,
                reply.body
            );
        }
    }
}
