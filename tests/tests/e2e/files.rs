//! Akten and their rules: Aktenzeichen numbering, optimistic locking, closing (zdA), and the
//! structure around them (tenants, Aktenplan, org units).

use std::collections::BTreeSet;

use akta_testkit::TestApp;
use serde_json::{json, Value};

use crate::common::{
    assert_invalid, berlin_year, document_metadata, item_ids, items, random_bytes, random_id, seed,
    upload_version,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_file_creation_numbers_gap_free_and_unique() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("schwerte").await;
    let unit = tenant.admin.create_plan_unit("63.01", None).await;

    let creations = (0..20).map(|i| {
        let client = tenant.admin.clone();
        let unit = unit.clone();
        tokio::spawn(async move {
            client
                .post(
                    "/api/v1/files",
                    json!({"plan_unit_id": unit, "subject": format!("Bauantrag {i}")}),
                )
                .await
        })
    });
    let replies = futures_util::future::join_all(creations).await;

    let year = berlin_year();
    let mut numbers = Vec::new();
    let mut references = BTreeSet::new();
    for reply in replies {
        let reply = reply.expect("task");
        assert_eq!(reply.status, 201, "{}", reply.body);
        let reference = reply.body["reference"]
            .as_str()
            .expect("reference")
            .to_owned();
        let nr = reference
            .strip_prefix("63.01-")
            .and_then(|r| r.strip_suffix(&format!("/{year}")))
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert_eq!(nr.len(), 4, "number is zero-padded to 4: {reference}");
        numbers.push(nr.parse::<i64>().expect("number"));
        references.insert(reference);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    assert_eq!(references.len(), 20);

    // Vorgänge of one Akte are numbered the same way.
    let file = tenant.admin.create_file(&unit, "Sammelakte").await;
    let file_reference = file.body["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let file = file.id();
    let creations = (0..10).map(|i| {
        let client = tenant.admin.clone();
        let path = format!("/api/v1/files/{file}/cases");
        tokio::spawn(async move {
            client
                .post(&path, json!({"subject": format!("Vorgang {i}")}))
                .await
        })
    });
    let mut case_refs: Vec<String> = Vec::new();
    for reply in futures_util::future::join_all(creations).await {
        let reply = reply.expect("task");
        assert_eq!(reply.status, 201, "{}", reply.body);
        case_refs.push(
            reply.body["reference"]
                .as_str()
                .expect("reference")
                .to_owned(),
        );
    }
    case_refs.sort_by_key(|r| r.rsplit('-').next().and_then(|n| n.parse::<u32>().ok()));
    let expected: Vec<_> = (1..=10).map(|n| format!("{file_reference}-{n}")).collect();
    assert_eq!(case_refs, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbering_is_per_plan_unit_and_cases_count_per_file() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("wetter").await;
    let admin = &tenant.admin;
    let year = berlin_year();
    let a = admin.create_plan_unit("63.01", None).await;
    let b = admin.create_plan_unit("63.02", None).await;

    let a1 = admin.create_file(&a, "Eins").await;
    let b1 = admin.create_file(&b, "Zwei").await;
    let a2 = admin.create_file(&a, "Drei").await;
    assert_eq!(a1.body["reference"], format!("63.01-0001/{year}"));
    assert_eq!(b1.body["reference"], format!("63.02-0001/{year}"));
    assert_eq!(a2.body["reference"], format!("63.01-0002/{year}"));

    // A refused creation consumes no number.
    let refused = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": a, "subject": "x".repeat(501)}),
        )
        .await;
    assert_invalid(&refused, "subject");
    let a3 = admin.create_file(&a, "Vier").await;
    assert_eq!(a3.body["reference"], format!("63.01-0003/{year}"));

    let file_a1 = a1.id();
    let file_b1 = b1.id();
    for (file, reference) in [
        (&file_a1, &a1.body["reference"]),
        (&file_b1, &b1.body["reference"]),
    ] {
        let reference = reference.as_str().expect("reference");
        for n in 1..=2 {
            let case = admin
                .post(
                    &format!("/api/v1/files/{file}/cases"),
                    json!({"subject": format!("Vorgang {n}")}),
                )
                .await;
            assert_eq!(case.status, 201, "{}", case.body);
            assert_eq!(case.body["reference"], format!("{reference}-{n}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_creation_validates_its_references_and_values() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("hagen").await;
    let admin = &tenant.admin;
    let unit = admin.create_plan_unit("10", None).await;

    let missing_unit = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": random_id(), "subject": "x"}),
        )
        .await;
    assert_invalid(&missing_unit, "plan_unit_id");
    let missing_org = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "x", "lead_org_unit_id": random_id()}),
        )
        .await;
    assert_invalid(&missing_org, "lead_org_unit_id");
    let bad_confidentiality = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "x", "confidentiality": "geheim"}),
        )
        .await;
    assert_invalid(&bad_confidentiality, "confidentiality");
    let bad_date = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "x", "period_from": "25.11.2026"}),
        )
        .await;
    assert_invalid(&bad_date, "period_from");
    let blank_subject = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "   "}),
        )
        .await;
    assert_invalid(&blank_subject, "subject");
    let control_chars = admin
        .post(
            "/api/v1/files",
            json!({"plan_unit_id": unit, "subject": "a\tb"}),
        )
        .await;
    assert_invalid(&control_chars, "subject");
    let list = admin.get("/api/v1/files").await;
    assert!(items(&list).is_empty(), "a refused creation left an Akte");

    // With an org unit and all optional fields, everything is stored as given.
    let org = admin
        .post(
            "/api/v1/org-units",
            json!({"code": "FB3", "name": "Fachbereich Bauen"}),
        )
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let orgs = admin.get("/api/v1/org-units").await;
    assert_eq!(item_ids(&orgs), vec![org.id()]);
    let file = admin
        .post(
            "/api/v1/files",
            json!({
                "plan_unit_id": unit,
                "subject": "  Bebauungsplan Nr. 12  ",
                "lead_org_unit_id": org.id(),
                "confidentiality": "streng_vertraulich",
                "period_from": "2025-12-01",
                "metadata": {"gemarkung": "Hohenlimburg", "flur": 3}
            }),
        )
        .await;
    assert_eq!(file.status, 201, "{}", file.body);
    assert_eq!(
        file.body["subject"], "Bebauungsplan Nr. 12",
        "subjects are trimmed"
    );
    assert_eq!(file.body["lead_org_unit_id"], org.id().as_str());
    assert_eq!(file.body["confidentiality"], "streng_vertraulich");
    assert_eq!(file.body["period_from"], "2025-12-01");
    assert_eq!(file.body["period_to"], Value::Null);
    assert_eq!(
        file.body["metadata"],
        json!({"gemarkung": "Hohenlimburg", "flur": 3})
    );
    let fetched = admin.get(&format!("/api/v1/files/{}", file.id())).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("etag"), Some("\"v1\""));
    assert_eq!(fetched.body, file.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patching_a_file_requires_its_current_etag() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("ennepetal").await;
    let clerk = app.client(&tenant, "clerk").await;
    let unit = tenant.admin.create_plan_unit("20", None).await;
    let file = clerk.create_file(&unit, "Haushalt 2026").await.id();
    let path = format!("/api/v1/files/{file}");

    let without = clerk.patch(&path, None, json!({"subject": "Neu"})).await;
    without.assert_problem(428, "precondition_required");
    let stale = clerk
        .patch(&path, Some("\"v7\""), json!({"subject": "Neu"}))
        .await;
    stale.assert_problem(412, "precondition_failed");
    for garbage in ["v1", "\"1\"", "\"v1", "\"vx\""] {
        let reply = clerk
            .patch(&path, Some(garbage), json!({"subject": "Neu"}))
            .await;
        reply.assert_problem(412, "precondition_failed");
    }
    let unchanged = clerk.get(&path).await;
    assert_eq!(unchanged.body["subject"], "Haushalt 2026");
    assert_eq!(unchanged.body["version"], 1);

    let first = clerk
        .patch(
            &path,
            Some("\"v1\""),
            json!({"subject": "Haushalt 2026/27", "metadata": {"k": 1}}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"v2\""));
    assert_eq!(first.body["version"], 2);
    assert_eq!(first.body["subject"], "Haushalt 2026/27");
    assert_eq!(first.body["metadata"], json!({"k": 1}));

    // The old ETag is now stale; a weak form of the current one is accepted.
    let lost_update = clerk
        .patch(
            &path,
            Some("\"v1\""),
            json!({"confidentiality": "vertraulich"}),
        )
        .await;
    lost_update.assert_problem(412, "precondition_failed");
    let weak = clerk
        .patch(
            &path,
            Some("W/\"v2\""),
            json!({"confidentiality": "vertraulich"}),
        )
        .await;
    assert_eq!(weak.status, 200, "{}", weak.body);
    assert_eq!(weak.header("etag"), Some("\"v3\""));
    assert_eq!(
        weak.body["subject"], "Haushalt 2026/27",
        "absent fields stay"
    );
    assert_eq!(weak.body["confidentiality"], "vertraulich");

    let got = clerk.get(&path).await;
    assert_eq!(got.header("etag"), Some("\"v3\""));
    // Making the Akte confidential puts the clerk on its access list, and from then on every
    // read of it is logged (the GET above).
    let updates = crate::common::history_actions(&clerk, &file).await;
    assert_eq!(
        updates,
        [
            "file.created",
            "file.updated",
            "file.access_granted",
            "file.updated",
            "file.read"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_file_accepts_no_new_cases_documents_or_versions() {
    let app = TestApp::spawn().await;
    let seeded = seed(&app, "sprockhoevel").await;
    let admin = &seeded.tenant.admin;
    let file = &seeded.file;
    let blobs_before = app.blob_keys().await;

    let closed = admin
        .patch(
            &format!("/api/v1/files/{file}"),
            Some("\"v1\""),
            json!({"status": "zdA"}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "zdA");
    assert!(
        closed.body["period_to"].is_string(),
        "closing ends the Laufzeit: {}",
        closed.body
    );

    admin
        .post(
            &format!("/api/v1/files/{file}/cases"),
            json!({"subject": "Nachtrag"}),
        )
        .await
        .assert_problem(409, "conflict");
    for parent in [
        format!("/api/v1/files/{file}"),
        format!("/api/v1/cases/{}", seeded.case),
    ] {
        admin
            .upload(
                &format!("{parent}/documents"),
                Some(document_metadata("Nachgereicht")),
                Some(("n.pdf", "application/pdf", random_bytes(1000))),
            )
            .await
            .assert_problem(409, "conflict");
    }
    upload_version(admin, &seeded.document, "v2.pdf", random_bytes(1000))
        .await
        .assert_problem(409, "conflict");

    // Nothing was added: no case, no document, no version, no blob.
    let cases = admin.get(&format!("/api/v1/files/{file}/cases")).await;
    assert_eq!(items(&cases).len(), 1);
    let docs = admin.get(&format!("/api/v1/files/{file}/documents")).await;
    assert_eq!(items(&docs).len(), 1);
    let doc = admin
        .get(&format!("/api/v1/documents/{}", seeded.document))
        .await;
    assert_eq!(doc.body["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.blob_keys().await, blobs_before);

    // Closed Akten are still readable, and can be listed by status.
    let content = admin
        .get(&format!("/api/v1/documents/{}/content", seeded.document))
        .await;
    assert_eq!(content.status, 200);
    assert_eq!(content.bytes, seeded.content);
    let closed_list = admin.get("/api/v1/files?status=zdA").await;
    assert_eq!(item_ids(&closed_list), vec![file.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_units_inherit_retention_and_refuse_duplicates() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("witten").await;
    let admin = &tenant.admin;

    // A root without own values is unbefristet and "B".
    let bare = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "1", "title": "Allgemein"}),
        )
        .await;
    assert_eq!(bare.status, 201, "{}", bare.body);
    assert_eq!(bare.body["retention_years"], Value::Null);
    assert_eq!(bare.body["disposition"], "B");

    let unlimited = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "2", "title": "Satzungen", "retention_years": null, "disposition": "A"}),
        )
        .await;
    assert_eq!(unlimited.status, 201, "{}", unlimited.body);
    assert_eq!(unlimited.body["retention_years"], Value::Null);
    assert_eq!(unlimited.body["retention_inherited"], false);

    let short = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "2.1", "title": "Entwürfe", "parent_id": unlimited.id(),
                   "retention_years": 5, "disposition": "V"}),
        )
        .await;
    assert_eq!(short.status, 201, "{}", short.body);
    let grandchild = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "2.1.1", "title": "Vorentwürfe", "parent_id": short.id(),
                   "retention_years": null}),
        )
        .await;
    assert_eq!(grandchild.status, 201, "{}", grandchild.body);
    // Explicit null overrides the parent's 5 years; the disposition is inherited.
    assert_eq!(grandchild.body["retention_years"], Value::Null);
    assert_eq!(grandchild.body["retention_inherited"], false);
    assert_eq!(grandchild.body["disposition"], "V");
    assert_eq!(grandchild.body["disposition_inherited"], true);

    let children = admin
        .get(&format!("/api/v1/plan-units?parent_id={}", unlimited.id()))
        .await;
    assert_eq!(item_ids(&children), vec![short.id()]);

    admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "2.1", "title": "Doppelt"}),
        )
        .await
        .assert_problem(409, "conflict");
    let orphan = admin
        .post(
            "/api/v1/plan-units",
            json!({"code": "9", "title": "Waise", "parent_id": random_id()}),
        )
        .await;
    assert_invalid(&orphan, "parent_id");
    for (body, field) in [
        (json!({"code": "63/01", "title": "x"}), "code"),
        (json!({"code": "63..1", "title": "x"}), "code"),
        (
            json!({"code": "7", "title": "x", "retention_years": -1}),
            "retention_years",
        ),
        (
            json!({"code": "7", "title": "x", "retention_years": 501}),
            "retention_years",
        ),
        (
            json!({"code": "7", "title": "x", "disposition": "X"}),
            "disposition",
        ),
        (json!({"code": "7", "title": " "}), "title"),
    ] {
        assert_invalid(&admin.post("/api/v1/plan-units", body).await, field);
    }
    let all = admin.get("/api/v1/plan-units").await;
    assert_eq!(items(&all).len(), 4, "refused plan units were stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_manages_tenants_with_unique_valid_slugs() {
    let app = TestApp::spawn().await;
    let created = app
        .operator
        .post(
            "/api/v1/tenants",
            json!({"slug": "gevelsberg", "name": "Stadt Gevelsberg"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["slug"], "gevelsberg");
    assert_eq!(created.body["name"], "Stadt Gevelsberg");
    assert_eq!(created.body["status"], "active");
    let token = created.body["admin_token"].as_str().expect("admin token");
    let admin = app.operator.with_token(Some(token));
    assert_eq!(
        admin.get("/api/v1/plan-units").await.status,
        200,
        "the admin token works"
    );

    app.operator
        .post(
            "/api/v1/tenants",
            json!({"slug": "gevelsberg", "name": "Nochmal"}),
        )
        .await
        .assert_problem(409, "conflict");
    for slug in ["Gevelsberg", "g", "-abc", "abc-", "ab_c", "1abc"] {
        let bad = app
            .operator
            .post("/api/v1/tenants", json!({"slug": slug, "name": "x"}))
            .await;
        assert_invalid(&bad, "slug");
    }
    // Formats that would repeat Aktenzeichen (no number, no Kennzeichen, nothing between
    // them) or carry markup are refused before the tenant exists.
    for format in [
        "{kennzeichen}/{year}",
        "{nr}",
        "{kennzeichen}{nr}",
        "<i>{kennzeichen}</i>-{nr}",
    ] {
        let bad_format = app
            .operator
            .post(
                "/api/v1/tenants",
                json!({"slug": "breckerfeld", "name": "x", "reference_format": format}),
            )
            .await;
        assert_invalid(&bad_format, "reference_format");
    }

    let listed = app.operator.get("/api/v1/tenants").await;
    let slugs: Vec<_> = items(&listed).iter().map(|t| t["slug"].clone()).collect();
    assert_eq!(slugs, vec![json!("gevelsberg")]);
    assert!(
        items(&listed)
            .iter()
            .all(|t| t.get("admin_token").is_none()),
        "tokens are shown only once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_reference_format_shapes_its_aktenzeichen() {
    let app = TestApp::spawn().await;
    let created = app
        .operator
        .post(
            "/api/v1/tenants",
            json!({"slug": "herbede", "name": "Herbede", "reference_format": "Az. {kennzeichen}/{nr}"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let admin = app
        .operator
        .with_token(created.body["admin_token"].as_str());
    let unit = admin.create_plan_unit("32", None).await;
    let first = admin.create_file(&unit, "Eins").await;
    let second = admin.create_file(&unit, "Zwei").await;
    assert_eq!(first.body["reference"], "Az. 32/1");
    assert_eq!(second.body["reference"], "Az. 32/2");
}
