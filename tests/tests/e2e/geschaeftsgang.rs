//! The Geschäftsgang over REST (issue 14): turns in order, a return needs a comment, only
//! people at their turn decide, a Verfügung's steps are carried out when the last signs,
//! another tenant sees nothing.

use akta_testkit::{Client, Reply, TestApp, TestTenant};
use serde_json::{json, Value};

const PASSWORD: &str = "Ein langes Passwort 2026!";

/// A person logged in with a session cookie, writing with the session's CSRF token.
struct Person {
    client: Client,
    cookie: String,
    csrf: String,
}

impl Person {
    async fn get(&self, path: &str) -> Reply {
        let rb = self
            .client
            .request(reqwest::Method::GET, path)
            .header("cookie", format!("akta_session={}", self.cookie));
        self.client.send(rb).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        let rb = self
            .client
            .request(reqwest::Method::POST, path)
            .header("cookie", format!("akta_session={}", self.cookie))
            .header("x-csrf-token", &self.csrf)
            .json(&body);
        self.client.send(rb).await
    }
}

async fn person(app: &TestApp, t: &TestTenant, username: &str, name: &str) -> (String, Person) {
    let r = t
        .admin
        .post(
            "/api/v1/users",
            json!({"username": username, "display_name": name, "role": "clerk", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    let login = app
        .anonymous()
        .post(
            "/api/v1/session",
            json!({"tenant": t.slug, "username": username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 201, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .and_then(|kv| kv.strip_prefix("akta_session="))
        .expect("session cookie")
        .to_owned();
    let csrf = login.body["csrf_token"].as_str().expect("csrf").to_owned();
    (
        id,
        Person {
            client: app.anonymous(),
            cookie,
            csrf,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verfuegung_is_signed_in_turn_and_its_steps_are_carried_out() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("hattingen").await;
    let (anna_id, anna) = person(&app, &t, "anna", "Anna Albers").await;
    let (berta_id, berta) = person(&app, &t, "berta", "Berta Brandt").await;
    let (carl_id, carl) = person(&app, &t, "carl", "Carl Clausen").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let file = t.admin.create_file(&unit, "Umbau Rathaus").await.id();
    let case = t.admin.create_case(&file, "Brandschutz").await;
    let doc = t
        .admin
        .upload(
            &format!("/api/v1/cases/{case}/documents"),
            Some(json!({"title": "Vermerk", "kind": "Vermerk"})),
            Some(("v.txt", "text/plain", b"Vermerk".to_vec())),
        )
        .await
        .id();

    let started = anna
        .post(
            &format!("/api/v1/documents/{doc}/routings"),
            json!({"kind": "verfuegung", "signers": [berta_id, carl_id],
                   "steps": "1. Schreiben ab\n2. WV 2 Wochen\n3. z.d.A."}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.id();
    assert_eq!(started.body["steps"].as_array().map(Vec::len), Some(3));

    // Carl is second: not his turn yet; Berta's return needs a reason.
    let early = carl
        .post(
            &format!("/api/v1/routings/{id}/decision"),
            json!({"decision": "sign"}),
        )
        .await;
    early.assert_problem(409, "conflict");
    let pending: Value = berta.get("/api/v1/routings/pending").await.body;
    assert_eq!(
        pending["items"].as_array().map(Vec::len),
        Some(1),
        "{pending}"
    );
    assert!(carl.get("/api/v1/routings/pending").await.body["items"]
        .as_array()
        .is_some_and(Vec::is_empty));
    let no_reason = berta
        .post(
            &format!("/api/v1/routings/{id}/decision"),
            json!({"decision": "return"}),
        )
        .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.body);
    let signed = berta
        .post(
            &format!("/api/v1/routings/{id}/decision"),
            json!({"decision": "sign", "comment": "Einverstanden"}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.body["state"], "laufend");
    // Nothing carried out yet: the Vorgang is open.
    assert_eq!(
        t.admin.get(&format!("/api/v1/cases/{case}")).await.body["status"],
        "offen"
    );

    let last = carl
        .post(
            &format!("/api/v1/routings/{id}/decision"),
            json!({"decision": "sign"}),
        )
        .await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.body["state"], "abgeschlossen");
    assert_eq!(
        t.admin.get(&format!("/api/v1/cases/{case}")).await.body["status"],
        "zdA"
    );
    let wv = t
        .admin
        .get(&format!("/api/v1/files/{file}/resubmissions"))
        .await;
    let items = wv.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", wv.body);
    assert_eq!(items[0]["user_id"], anna_id.as_str());
    assert!(items[0]["note"]
        .as_str()
        .unwrap_or("")
        .contains("WV 2 Wochen"));
    // Done is done; the history tells each step.
    carl.post(
        &format!("/api/v1/routings/{id}/decision"),
        json!({"decision": "sign"}),
    )
    .await
    .assert_problem(409, "conflict");
    let history = t.admin.get(&format!("/api/v1/files/{file}/history")).await;
    let text = history.body.to_string();
    for action in [
        "routing.started",
        "routing.signed",
        "case.closed",
        "file.resubmission_set",
    ] {
        assert!(text.contains(action), "no {action} in the history");
    }

    // Another tenant sees nothing of it; tokens do not sign.
    let other = app.create_tenant("witten").await;
    assert_eq!(
        other
            .admin
            .get(&format!("/api/v1/routings/{id}"))
            .await
            .status,
        404
    );
    t.admin
        .post(
            &format!("/api/v1/routings/{id}/decision"),
            json!({"decision": "sign"}),
        )
        .await
        .assert_problem(403, "forbidden");
    // Bad requests are the caller's.
    for body in [
        json!({"kind": "verfuegung", "signers": [berta_id]}),
        json!({"kind": "umlauf", "signers": [berta_id]}),
        json!({"kind": "mitzeichnung", "signers": []}),
        json!({"kind": "mitzeichnung", "signers": [uuid::Uuid::new_v4()]}),
        json!({"kind": "verfuegung", "signers": [berta_id], "steps": "WV irgendwann"}),
    ] {
        let r = anna
            .post(&format!("/api/v1/documents/{doc}/routings"), body.clone())
            .await;
        assert!(
            (400..500).contains(&r.status.as_u16()),
            "{body}: {} {}",
            r.status,
            r.body
        );
    }
}
