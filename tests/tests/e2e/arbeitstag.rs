//! Smaller rules of a clerk's working day (issue 14): a new version identical to the current
//! one is refused and stores nothing, a version carries its Änderungsvermerk.

use akta_testkit::TestApp;
use serde_json::json;

use crate::common::random_bytes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_version_is_refused_and_a_version_says_what_changed() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("schwelm").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let file = t.admin.create_file(&unit, "Anbau Schule").await.id();
    let first = random_bytes(20_000);
    let doc = t
        .admin
        .upload(
            &format!("/api/v1/files/{file}/documents"),
            Some(json!({"title": "Lageplan", "kind": "Eingang"})),
            Some(("lageplan.pdf", "application/pdf", first.clone())),
        )
        .await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let doc = doc.id();
    let blobs = app.blob_keys().await.len();

    let same = t
        .admin
        .upload(
            &format!("/api/v1/documents/{doc}/versions"),
            None,
            Some(("lageplan-kopie.pdf", "application/pdf", first.clone())),
        )
        .await;
    let problem = same.assert_problem(409, "conflict");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("identical to version 1"),
        "{problem}"
    );
    assert_eq!(
        app.blob_keys().await.len(),
        blobs,
        "the refused copy was kept"
    );

    let second = t
        .admin
        .upload(
            &format!("/api/v1/documents/{doc}/versions"),
            Some(json!({"note": "Grenzabstand korrigiert"})),
            Some(("lageplan.pdf", "application/pdf", random_bytes(20_000))),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["number"], 2);
    assert_eq!(second.body["note"], "Grenzabstand korrigiert");
    let got = t.admin.get(&format!("/api/v1/documents/{doc}")).await;
    assert_eq!(got.body["versions"][1]["note"], "Grenzabstand korrigiert");
    assert!(got.body["versions"][0]["note"].is_null());
    // The first version again is a change (back to it), not a duplicate of the current one.
    let back = t
        .admin
        .upload(
            &format!("/api/v1/documents/{doc}/versions"),
            Some(json!({"note": "Zurück zur ersten Fassung"})),
            Some(("lageplan.pdf", "application/pdf", first)),
        )
        .await;
    assert_eq!(back.status, 201, "{}", back.body);
    let bad = t
        .admin
        .upload(
            &format!("/api/v1/documents/{doc}/versions"),
            Some(json!({"note": "x", "title": "nicht hier"})),
            Some(("x.pdf", "application/pdf", random_bytes(100))),
        )
        .await;
    assert_eq!(bad.status.as_u16() / 100, 4, "{}", bad.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_content_in_an_akte_is_found_by_its_sha256_before_filing() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("sprockhoevel").await;
    let unit = t.admin.create_plan_unit("63", None).await;
    let file = t.admin.create_file(&unit, "Neubau Halle").await.id();
    let other_file = t.admin.create_file(&unit, "Anbau Garage").await.id();
    let data = random_bytes(5_000);
    let doc = t
        .admin
        .upload(
            &format!("/api/v1/files/{file}/documents"),
            Some(json!({"title": "Statik", "kind": "Eingang"})),
            Some(("statik.pdf", "application/pdf", data.clone())),
        )
        .await
        .id();
    let sha = crate::common::sha256_hex(&data);
    let found = t
        .admin
        .get(&format!("/api/v1/files/{file}/identical?sha256={sha}"))
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["items"][0]["document_id"], doc.as_str());
    assert_eq!(found.body["items"][0]["title"], "Statik");
    assert_eq!(found.body["items"][0]["version"], 1);
    // Another Akte does not hold it; another tenant cannot ask; a bad hash is the caller's.
    let elsewhere = t
        .admin
        .get(&format!(
            "/api/v1/files/{other_file}/identical?sha256={sha}"
        ))
        .await;
    assert_eq!(elsewhere.body["items"].as_array().map(Vec::len), Some(0));
    let other = app.create_tenant("hattingen").await;
    assert_eq!(
        other
            .admin
            .get(&format!("/api/v1/files/{file}/identical?sha256={sha}"))
            .await
            .status,
        404
    );
    for bad in ["abc", "zz", &"g".repeat(64)] {
        let r = t
            .admin
            .get(&format!("/api/v1/files/{file}/identical?sha256={bad}"))
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
}
