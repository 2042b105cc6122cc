//! API tokens carry scopes (read or read+write, one Aktenplan subtree), expire, can be revoked
//! and rotated; confidential Akten are visible only to the users, org units and tokens named
//! on them, and every read of one is audited.

use std::time::Duration;

use akta_testkit::{Client, TestApp, TestTenant};
use serde_json::json;
use sqlx::Executor;

use crate::common::{item_ids, owner, random_bytes, session_cookie};

async fn token(tenant: &TestTenant, body: serde_json::Value) -> (Client, String) {
    let reply = tenant.admin.post("/api/v1/tokens", body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        tenant.admin.with_token(reply.body["token"].as_str()),
        reply.id(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_scoped_tokens_read_but_never_write() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let unit = tenant.admin.create_plan_unit("1", None).await;
    let (reader, _) = token(
        &tenant,
        json!({"name": "Statistik", "role": "clerk", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(reader.get("/api/v1/files").await.status, 200);
    reader
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");
    let bad = tenant
        .admin
        .post(
            "/api/v1/tokens",
            json!({"name": "x", "role": "clerk", "scopes": ["delete"]}),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["field"], "scopes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_scoped_tokens_see_and_file_only_in_their_subtree() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let admin = &tenant.admin;
    let bauen = admin.create_plan_unit("6", None).await;
    let bauordnung = admin.create_plan_unit("63", Some(&bauen)).await;
    let genehmigungen = admin.create_plan_unit("63.01", Some(&bauordnung)).await;
    let personal = admin.create_plan_unit("11", None).await;
    let inside = admin.create_file(&genehmigungen, "Bauantrag").await.id();
    let outside = admin.create_file(&personal, "Personalakte").await.id();

    let (bau, _) = token(
        &tenant,
        json!({"name": "Baugenehmigungsverfahren", "role": "clerk", "plan_unit_id": bauordnung}),
    )
    .await;
    assert_eq!(
        item_ids(&bau.get("/api/v1/files").await),
        vec![inside.clone()]
    );
    assert_eq!(
        bau.get(&format!("/api/v1/files/{inside}")).await.status,
        200
    );
    bau.get(&format!("/api/v1/files/{outside}"))
        .await
        .assert_problem(404, "not_found");
    bau.get(&format!("/api/v1/files/{outside}/history"))
        .await
        .assert_problem(404, "not_found");
    let filed = bau
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": genehmigungen, "subject": "Neubau"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let refused = bau
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": personal, "subject": "Neubau"}),
        )
        .await;
    assert!(
        refused.status == 422 || refused.status == 404,
        "filing outside the subtree must fail: {} {}",
        refused.status,
        refused.body
    );
    assert_eq!(item_ids(&admin.get("/api/v1/files").await).len(), 3);
    // The Aktenplan itself is public within the tenant; administering is not for such tokens.
    assert_eq!(bau.get("/api/v1/plan-units").await.status, 200);
    let (scoped_admin, _) = token(
        &tenant,
        json!({"name": "x", "role": "admin", "plan_unit_id": bauordnung}),
    )
    .await;
    scoped_admin
        .post("/api/v1/tokens", json!({"name": "y", "role": "clerk"}))
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_are_revoked_and_rotate() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let (expiring, expiring_id) = token(
        &tenant,
        json!({"name": "kurz", "role": "reader", "expires_in_days": 1}),
    )
    .await;
    assert_eq!(expiring.get("/api/v1/files").await.status, 200);
    let mut conn = owner(&app, tenant.id).await;
    conn.execute(
        format!("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = '{expiring_id}'")
            .as_str(),
    )
    .await
    .expect("expire");
    expiring
        .get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");

    let (old, old_id) = token(
        &tenant,
        json!({"name": "Fachverfahren", "role": "clerk", "scopes": ["read"]}),
    )
    .await;
    let rotated = tenant
        .admin
        .post(&format!("/api/v1/tokens/{old_id}/rotate"), json!({}))
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    assert_eq!(rotated.body["scopes"], json!(["read"]));
    let new = tenant.admin.with_token(rotated.body["token"].as_str());
    old.get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(new.get("/api/v1/files").await.status, 200);

    let revoked = tenant
        .admin
        .send(tenant.admin.request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{}", rotated.id()),
        ))
        .await;
    assert_eq!(revoked.status, 204);
    new.get("/api/v1/files")
        .await
        .assert_problem(401, "unauthorized");
    let listed = tenant.admin.get("/api/v1/tokens").await;
    assert!(
        listed.bytes.windows(6).all(|w| w != b"akta_A"),
        "secrets must not be listed"
    );
    assert!(listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|t| t.get("token").is_none() && t.get("token_hash").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_files_are_visible_only_to_those_named_on_them() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let unit = tenant.admin.create_plan_unit("11", None).await;
    let (personal, _) = token(&tenant, json!({"name": "Personalamt", "role": "clerk"})).await;
    let (bauamt, bauamt_id) = token(&tenant, json!({"name": "Bauamt", "role": "clerk"})).await;

    let secret = personal
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "Personalakte Müller", "confidentiality": "vertraulich"}),
        )
        .await;
    assert_eq!(secret.status, 201, "{}", secret.body);
    let file = secret.id();
    let case = personal.create_case(&file, "Beurteilung").await;
    let content = random_bytes(5000);
    let doc = personal
        .upload_document(
            &format!("/api/v1/cases/{case}"),
            "Beurteilung 2026",
            content.clone(),
        )
        .await
        .id();

    // Others (even the tenant admin) see nothing of it, exactly as if it did not exist.
    for client in [&bauamt, &tenant.admin] {
        client
            .get(&format!("/api/v1/files/{file}"))
            .await
            .assert_problem(404, "not_found");
        client
            .get(&format!("/api/v1/cases/{case}"))
            .await
            .assert_problem(404, "not_found");
        client
            .get(&format!("/api/v1/documents/{doc}"))
            .await
            .assert_problem(404, "not_found");
        client
            .get(&format!("/api/v1/documents/{doc}/content"))
            .await
            .assert_problem(404, "not_found");
        assert!(item_ids(&client.get("/api/v1/files").await).is_empty());
    }
    // Search counts only what the caller may see: not even the total betrays the Akte.
    assert_eq!(search_total(&personal, "Personalakte", 1).await, 1);
    for client in [&bauamt, &tenant.admin] {
        let r = client.get("/api/v1/search?q=Personalakte").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"], 0, "{}", r.body);
        assert_eq!(r.body["facets"]["kind"], json!([]), "{}", r.body);
    }

    let granted = personal
        .post(
            &format!("/api/v1/files/{file}/access"),
            json!({"token_id": bauamt_id}),
        )
        .await;
    assert_eq!(granted.status, 201, "{}", granted.body);
    let download = bauamt
        .get(&format!("/api/v1/documents/{doc}/content"))
        .await;
    assert_eq!(download.status, 200);
    assert!(download.bytes == content);
    assert_eq!(search_total(&bauamt, "Personalakte", 1).await, 1);

    // An org unit on the list opens the Akte to every user of that unit.
    let org = tenant
        .admin
        .post(
            "/api/v1/org-units",
            json!({"code": "10", "name": "Hauptamt"}),
        )
        .await
        .id();
    let user = tenant
        .admin
        .post(
            "/api/v1/users",
            json!({"username": "hanna", "display_name": "Hanna", "role": "reader",
                   "password": "Hauptamt ist super 1", "org_unit_id": org}),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let cookie = session_cookie(&app, "witten", "hanna", "Hauptamt ist super 1").await;
    let as_hanna = |path: String| {
        let c = app.anonymous();
        let rb = c
            .request(reqwest::Method::GET, &path)
            .header("cookie", cookie.clone());
        async move { c.send(rb).await }
    };
    as_hanna(format!("/api/v1/files/{file}"))
        .await
        .assert_problem(404, "not_found");
    let entry = personal
        .post(
            &format!("/api/v1/files/{file}/access"),
            json!({"org_unit_id": org}),
        )
        .await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    assert_eq!(as_hanna(format!("/api/v1/files/{file}")).await.status, 200);

    // Revoking closes it again.
    let revoke = personal
        .send(personal.request(
            reqwest::Method::DELETE,
            &format!("/api/v1/files/{file}/access/{}", entry.id()),
        ))
        .await;
    assert_eq!(revoke.status, 204);
    as_hanna(format!("/api/v1/files/{file}"))
        .await
        .assert_problem(404, "not_found");

    // Every read of the confidential Akte is in the audit log with who read what.
    let mut conn = owner(&app, tenant.id).await;
    let reads: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, after->>'object_type' FROM audit_events WHERE action = 'file.read' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .expect("audit");
    assert!(
        reads.contains(&("token:Bauamt".into(), "document_content".into())),
        "{reads:?}"
    );
    assert!(
        reads.contains(&("user:hanna".into(), "file".into())),
        "{reads:?}"
    );
    // A search hit shows the document's title and text: a read too.
    assert!(
        reads.contains(&("token:Bauamt".into(), "search_hit".into())),
        "{reads:?}"
    );

    // Housekeeping still sees the confidential blob: the sweeper keeps it.
    app.sweep(Duration::ZERO).await;
    assert_eq!(
        bauamt
            .get(&format!("/api/v1/documents/{doc}/content"))
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_limited_to_a_plan_subtree_see_only_its_akten() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let admin = &tenant.admin;
    let bau = admin.create_plan_unit("63", None).await;
    let sozial = admin.create_plan_unit("50", None).await;
    let inside = admin.create_file(&bau, "Bauantrag").await.id();
    let outside = admin.create_file(&sozial, "Wohngeld").await.id();
    let created = admin
        .post(
            "/api/v1/users",
            json!({"username": "bauamt", "display_name": "Bauamt", "role": "clerk",
                   "password": "nur Bauakten bitte", "plan_unit_id": null}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let limited = admin
        .patch(
            &format!("/api/v1/users/{}", created.id()),
            None,
            json!({"plan_unit_id": bau}),
        )
        .await;
    assert_eq!(
        limited.body["plan_unit_id"],
        bau.as_str(),
        "{}",
        limited.body
    );
    let cookie = session_cookie(&app, "witten", "bauamt", "nur Bauakten bitte").await;
    let c = app.anonymous();
    let get = |path: String| {
        let rb = c
            .request(reqwest::Method::GET, &path)
            .header("cookie", cookie.clone());
        c.send(rb)
    };
    assert_eq!(
        item_ids(&get("/api/v1/files".into()).await),
        vec![inside.clone()]
    );
    get(format!("/api/v1/files/{outside}"))
        .await
        .assert_problem(404, "not_found");

    // An admin limited to a subtree cannot administer: it could lift its own limit.
    let boss = admin
        .post(
            "/api/v1/users",
            json!({"username": "amtsleitung", "display_name": "Amtsleitung", "role": "admin",
                   "password": "nur Bauakten bitte", "plan_unit_id": bau}),
        )
        .await;
    assert_eq!(boss.status, 201, "{}", boss.body);
    let boss_cookie = session_cookie(&app, "witten", "amtsleitung", "nur Bauakten bitte").await;
    c.send(
        c.request(reqwest::Method::GET, "/api/v1/users")
            .header("cookie", boss_cookie),
    )
    .await
    .assert_problem(403, "forbidden");
}

/// The search total for `q` once it reaches `expected` (the index applies asynchronously).
async fn search_total(client: &Client, q: &str, expected: u64) -> u64 {
    let started = std::time::Instant::now();
    loop {
        let r = client.get(&format!("/api/v1/search?q={q}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let total = r.body["total"].as_u64().unwrap_or(0);
        if total == expected || started.elapsed() > Duration::from_secs(10) {
            return total;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
