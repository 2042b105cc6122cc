//! The records rules of the application core over REST: a closed (zdA) Akte or Vorgang takes
//! no change except reopening, reopening needs a reason and is its own audited event, and
//! Vorgänge and Dokumente are changed with `If-Match` like Akten. The web UI's side of the
//! same rules is in `web.rs` (`web_obeys_the_same_zda_rule_as_rest`).

use akta_testkit::Client;
use serde_json::{json, Value};

use crate::common::{items, random_id, seed};
use akta_testkit::TestApp;

/// The last event of an Akte's history with `action`.
async fn last_event(client: &Client, file: &str, action: &str) -> Value {
    let reply = client.get(&format!("/api/v1/files/{file}/history")).await;
    items(&reply)
        .into_iter()
        .rev()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {}", reply.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_closed_akte_takes_only_a_reopening_with_a_reason() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "wetter").await;
    let admin = &seeded.tenant.admin;
    let path = format!("/api/v1/files/{}", seeded.file);

    let closed = admin
        .patch(&path, Some("\"v1\""), json!({"status": "zdA"}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.header("etag"), Some("\"v2\""));

    admin
        .patch(&path, Some("\"v2\""), json!({"subject": "Geändert"}))
        .await
        .assert_problem(409, "conflict");
    // A stale version is stale before anything else: the caller has not seen the closing.
    admin
        .patch(&path, Some("\"v1\""), json!({"subject": "Geändert"}))
        .await
        .assert_problem(412, "precondition_failed");
    admin
        .patch(&path, Some("\"v2\""), json!({"status": "zdA"}))
        .await
        .assert_problem(409, "conflict");
    let no_reason = admin
        .patch(&path, Some("\"v2\""), json!({"status": "offen"}))
        .await;
    assert_eq!(
        no_reason.assert_problem(422, "validation_failed")["field"],
        "reason"
    );
    let blank = admin
        .patch(
            &path,
            Some("\"v2\""),
            json!({"status": "offen", "reason": "  "}),
        )
        .await;
    assert_eq!(
        blank.assert_problem(422, "validation_failed")["field"],
        "reason"
    );
    // Reopening changes nothing else in the same request.
    admin
        .patch(
            &path,
            Some("\"v2\""),
            json!({"status": "offen", "reason": "Widerspruch", "subject": "Neu"}),
        )
        .await
        .assert_problem(409, "conflict");
    admin
        .patch(
            &path,
            None,
            json!({"status": "offen", "reason": "Widerspruch"}),
        )
        .await
        .assert_problem(428, "precondition_required");
    admin
        .patch(
            &path,
            Some("\"v1\""),
            json!({"status": "offen", "reason": "Widerspruch"}),
        )
        .await
        .assert_problem(412, "precondition_failed");

    let reopened = admin
        .patch(
            &path,
            Some("\"v2\""),
            json!({"status": "offen", "reason": "Widerspruch eingegangen"}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(reopened.body["status"], "offen");
    let event = last_event(admin, &seeded.file, "file.reopened").await;
    assert_eq!(event["after"]["reason"], "Widerspruch eingegangen");
    assert_eq!(event["before"]["status"], "zdA");

    // Reopening it again (a double submit) is a conflict.
    admin
        .patch(
            &path,
            Some("\"v3\""),
            json!({"status": "offen", "reason": "nochmal"}),
        )
        .await
        .assert_problem(409, "conflict");
    // An open Akte takes no reason: it is only for reopening.
    admin
        .patch(
            &path,
            Some("\"v3\""),
            json!({"subject": "X", "reason": "warum"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    let renamed = admin
        .patch(
            &path,
            Some("\"v3\""),
            json!({"subject": "Bauantrag Musterstraße 1a"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_vorgang_patch_renames_closes_and_reopens_with_if_match() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "ennepetal").await;
    let admin = &seeded.tenant.admin;
    let case = &seeded.case;
    let path = format!("/api/v1/cases/{case}");

    let got = admin.get(&path).await;
    assert_eq!(got.header("etag"), Some("\"v1\""), "{}", got.body);
    admin
        .patch(&path, None, json!({"subject": "Neu"}))
        .await
        .assert_problem(428, "precondition_required");
    admin
        .patch(&path, Some("\"v9\""), json!({"subject": "Neu"}))
        .await
        .assert_problem(412, "precondition_failed");
    // Another tenant's (or no) Vorgang is a 404 before any precondition.
    admin
        .patch(
            &format!("/api/v1/cases/{}", random_id()),
            None,
            json!({"subject": "x"}),
        )
        .await
        .assert_problem(404, "not_found");
    let other = app.create_tenant("breckerfeld").await;
    other
        .admin
        .patch(&path, Some("\"v1\""), json!({"subject": "fremd"}))
        .await
        .assert_problem(404, "not_found");

    let renamed = admin
        .patch(
            &path,
            Some("\"v1\""),
            json!({"subject": "Baugenehmigung Anbau"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["subject"], "Baugenehmigung Anbau");
    assert_eq!(renamed.header("etag"), Some("\"v2\""));

    let closed = admin
        .patch(&path, Some("\"v2\""), json!({"status": "zdA"}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "zdA");
    admin
        .patch(&path, Some("\"v3\""), json!({"subject": "Noch einmal"}))
        .await
        .assert_problem(409, "conflict");
    let no_reason = admin
        .patch(&path, Some("\"v3\""), json!({"status": "offen"}))
        .await;
    assert_eq!(
        no_reason.assert_problem(422, "validation_failed")["field"],
        "reason"
    );
    let reopened = admin
        .patch(
            &path,
            Some("\"v3\""),
            json!({"status": "offen", "reason": "Nachforderung eingegangen"}),
        )
        .await;
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(reopened.body["status"], "offen");
    let closed_event = last_event(admin, &seeded.file, "case.closed").await;
    assert_eq!(closed_event["object_id"], case.as_str());
    let event = last_event(admin, &seeded.file, "case.reopened").await;
    assert_eq!(event["after"]["reason"], "Nachforderung eingegangen");

    // A Vorgang of a closed Akte changes with its Akte only.
    admin
        .patch(
            &format!("/api/v1/files/{}", seeded.file),
            Some("\"v1\""),
            json!({"status": "zdA"}),
        )
        .await;
    admin
        .patch(&path, Some("\"v4\""), json!({"subject": "Nach zdA"}))
        .await
        .assert_problem(409, "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_document_metadata_patch_uses_if_match_and_respects_zda() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "gevelsberg").await;
    let admin = &seeded.tenant.admin;
    let path = format!("/api/v1/documents/{}", seeded.document);

    let got = admin.get(&path).await;
    assert_eq!(got.header("etag"), Some("\"v1\""), "{}", got.body);
    admin
        .patch(&path, None, json!({"title": "Bescheid"}))
        .await
        .assert_problem(428, "precondition_required");
    admin
        .patch(&path, Some("\"v2\""), json!({"title": "Bescheid"}))
        .await
        .assert_problem(412, "precondition_failed");
    let bad_kind = admin
        .patch(&path, Some("\"v1\""), json!({"kind": "Brief"}))
        .await;
    assert_eq!(
        bad_kind.assert_problem(422, "validation_failed")["field"],
        "kind"
    );

    let changed = admin
        .patch(
            &path,
            Some("\"v1\""),
            json!({
                "title": "Baugenehmigung",
                "kind": "Bescheid",
                "sender": "Bauaufsicht",
                "recipient": "Erika Mustermann",
                "document_date": "2026-11-24",
                "metadata": {"az_alt": "B-17"}
            }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.header("etag"), Some("\"v2\""));
    assert_eq!(changed.body["title"], "Baugenehmigung");
    assert_eq!(changed.body["kind"], "Bescheid");
    assert_eq!(changed.body["document_date"], "2026-11-24");
    assert_eq!(changed.body["metadata"]["az_alt"], "B-17");
    // Absent fields stay, null clears an optional one.
    let cleared = admin
        .patch(&path, Some("\"v2\""), json!({"sender": null}))
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert!(cleared.body["sender"].is_null());
    assert_eq!(cleared.body["recipient"], "Erika Mustermann");
    let event = last_event(admin, &seeded.file, "document.updated").await;
    assert_eq!(event["before"]["sender"], "Bauaufsicht");

    // The document is in a Vorgang: closing the Vorgang freezes it.
    admin
        .patch(
            &format!("/api/v1/cases/{}", seeded.case),
            Some("\"v1\""),
            json!({"status": "zdA"}),
        )
        .await;
    admin
        .patch(&path, Some("\"v3\""), json!({"title": "Nach zdA"}))
        .await
        .assert_problem(409, "conflict");
}
