//! The search API over metadata (no extraction worker here: documents are indexed with
//! their metadata and the Akte's): filters, facet counts, changes to the Akte reaching the
//! index, the reported lag, and a node that fell behind a pruned log rebuilding itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use akta_testkit::{Client, TestApp};
use serde_json::{json, Value};

async fn search(client: &Client, query: &str) -> Value {
    let r = client.get(&format!("/api/v1/search?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.body
}

/// Waits until `query` returns exactly `expected` hits (the index applies the log
/// asynchronously; the issue allows 2 seconds, we wait up to 10 before failing).
async fn search_until(client: &Client, query: &str, expected: u64) -> Value {
    let started = Instant::now();
    loop {
        let body = search(client, query).await;
        if body["total"] == expected {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{query}: expected {expected} hits, have {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn upload(client: &Client, parent: &str, metadata: Value) -> String {
    let r = client
        .upload(
            &format!("{parent}/documents"),
            Some(metadata),
            Some(("brief.txt", "text/plain", b"Inhalt".to_vec())),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

/// PATCHes the Akte at its current version.
async fn patch_file(client: &Client, id: &str, body: Value) {
    let path = format!("/api/v1/files/{id}");
    let current = client.get(&path).await;
    let etag = current.header("etag").expect("etag").to_owned();
    let r = client.patch(&path, Some(&etag), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The document hits of a search answer (Akten and Vorgänge found by Betreff or Zeichen come
/// first, marked with their `type`).
fn documents(body: &Value) -> Vec<Value> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["type"] == "document")
        .cloned()
        .collect()
}

fn facet(body: &Value, name: &str, value: &str) -> u64 {
    body["facets"][name]
        .as_array()
        .and_then(|values| values.iter().find(|v| v["value"] == value))
        .and_then(|v| v["count"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_by_unit_kind_date_org_unit_and_metadata_and_counts_facets() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("herdecke").await;
    let bau = t.admin.create_plan_unit("63", None).await;
    let bau_sub = t.admin.create_plan_unit("63.01", Some(&bau)).await;
    let steuern = t.admin.create_plan_unit("20", None).await;
    let r = t
        .admin
        .post(
            "/api/v1/org-units",
            json!({"code": "63", "name": "Bauordnungsamt"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let org = r.id();

    let bauakte_id = t
        .admin
        .create_file(&bau_sub, "Neubau Kirchstraße")
        .await
        .id();
    patch_file(&t.admin, &bauakte_id, json!({"lead_org_unit_id": org})).await;
    let steuerakte = t
        .admin
        .create_file(&steuern, "Grundsteuer Kirchstraße")
        .await
        .id();

    let in_bau = format!("/api/v1/files/{bauakte_id}");
    let in_steuer = format!("/api/v1/files/{steuerakte}");
    upload(
        &t.admin,
        &in_bau,
        json!({"title": "Bauantrag Kirchstraße", "kind": "Eingang", "document_date": "2024-03-01",
               "sender": "Erika Mustermann", "metadata": {"verfahren": "Bauantrag"}}),
    )
    .await;
    let bescheid = upload(
        &t.admin,
        &in_bau,
        json!({"title": "Baugenehmigung Kirchstraße", "kind": "Bescheid",
               "document_date": "2025-06-15", "metadata": {"verfahren": "Bauantrag"}}),
    )
    .await;
    upload(
        &t.admin,
        &in_steuer,
        json!({"title": "Grundsteuerbescheid Kirchstraße", "kind": "Bescheid",
               "document_date": "2025-01-10", "metadata": {"verfahren": "Grundsteuer"}}),
    )
    .await;

    // All three; facets count all hits by kind, top-level plan unit and year.
    let all = search_until(&t.admin, "q=Kirchstra%C3%9Fe", 3).await;
    assert_eq!(facet(&all, "kind", "Bescheid"), 2, "{all}");
    assert_eq!(facet(&all, "kind", "Eingang"), 1, "{all}");
    assert_eq!(facet(&all, "plan_unit", "63"), 2, "{all}");
    assert_eq!(facet(&all, "plan_unit", "20"), 1, "{all}");
    assert_eq!(facet(&all, "year", "2025"), 2, "{all}");
    assert_eq!(facet(&all, "year", "2024"), 1, "{all}");
    // The lag is taken as the search starts: it reaches 0 once the node has applied all.
    let started = Instant::now();
    loop {
        let body = search(&t.admin, "q=Kirchstra%C3%9Fe").await;
        assert!(body["index_lag_seconds"].is_number(), "{body}");
        if body["index_lag"] == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let q = "q=Kirchstra%C3%9Fe";
    for (filter, expected) in [
        ("plan_unit=63", 2),
        ("plan_unit=63.01", 2),
        ("plan_unit=20", 1),
        ("kind=Bescheid", 2),
        ("from=2025-01-01&to=2025-12-31", 2),
        ("from=2025-02-01", 1),
        (&format!("org_unit={org}") as &str, 2),
        ("metadata=verfahren:Bauantrag", 2),
        ("metadata=verfahren:grundsteuer", 1),
        ("kind=Bescheid&plan_unit=63&metadata=verfahren:Bauantrag", 1),
        (&format!("file_id={bauakte_id}"), 2),
        ("status=zdA", 0),
    ] {
        let body = search(&t.admin, &format!("{q}&{filter}")).await;
        assert_eq!(body["total"], expected, "{filter}: {body}");
    }
    let one = search(
        &t.admin,
        &format!("{q}&kind=Bescheid&plan_unit=63&metadata=verfahren:Bauantrag"),
    )
    .await;
    assert_eq!(one["items"][0]["document_id"], bescheid.as_str(), "{one}");

    // Sorted by date, newest first.
    let by_date = search(&t.admin, &format!("{q}&sort=date")).await;
    let dates: Vec<&str> = by_date["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["document_date"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        dates,
        ["2025-06-15", "2025-01-10", "2024-03-01"],
        "{by_date}"
    );

    for bad in [
        "metadata=verfahren",
        "kind=Brief",
        "from=gestern",
        "org_unit=x",
    ] {
        let r = t.admin.get(&format!("/api/v1/search?{q}&{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_to_the_akte_reach_the_index_of_its_documents() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("wetter").await;
    let unit = t.admin.create_plan_unit("32", None).await;
    let file_id = t
        .admin
        .create_file(&unit, "Sondernutzung Marktplatz")
        .await
        .id();
    let case = t.admin.create_case(&file_id, "Antrag Wochenmarkt").await;
    let doc = upload(
        &t.admin,
        &format!("/api/v1/cases/{case}"),
        json!({"title": "Antrag", "kind": "Eingang"}),
    )
    .await;
    let found = search_until(&t.admin, "q=Marktplatz", 1).await;
    assert_eq!(documents(&found)[0]["document_id"], doc.as_str(), "{found}");

    // A new Betreff replaces the old one in the index; closing shows in the status filter.
    patch_file(
        &t.admin,
        &file_id,
        json!({"subject": "Sondernutzung Kirchplatz", "status": "zdA"}),
    )
    .await;
    let found = search_until(&t.admin, "q=Kirchplatz&status=zdA", 1).await;
    assert_eq!(documents(&found)[0]["document_id"], doc.as_str(), "{found}");
    let gone = search(&t.admin, "q=Marktplatz").await;
    assert_eq!(gone["total"], 0, "{gone}");
    let open = search(&t.admin, "q=Kirchplatz&status=offen").await;
    assert_eq!(open["total"], 0, "{open}");
}

/// Entries older than the retention are pruned; a node that had not applied them (here: a
/// fresh index directory at position 0) rebuilds from PostgreSQL and ends at the same state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_pruned_log_rebuilds_its_indexes() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("sprockhoevel").await;
    let unit = t.admin.create_plan_unit("10", None).await;
    let file = t.admin.create_file(&unit, "Haushaltssatzung").await.id();
    let doc = upload(
        &t.admin,
        &format!("/api/v1/files/{file}"),
        json!({"title": "Entwurf Haushaltssatzung", "kind": "Vermerk"}),
    )
    .await;
    search_until(&t.admin, "q=Haushaltssatzung", 1).await;

    // A new node (no position yet) starts with a rebuild from PostgreSQL.
    let dir = tempfile::tempdir().expect("tempdir");
    let node =
        Arc::new(akta_search::SearchIndex::open(dir.path().to_path_buf()).expect("open index"));
    assert!(node.applied() < 0, "a new node has applied nothing");
    let indexed = akta_jobs::indexer::run_once(&app.db, &app.keyring, &node)
        .await
        .expect("catch up");
    assert_eq!(indexed, 1, "every document of every tenant added");
    assert_eq!(node.manager.doc_count(t.id).expect("count"), 1);
    let caught_up = node.applied();

    // Then it falls behind: a document is filed and its log entry pruned before the node
    // saw it. The node notices (its position is below the horizon) and rebuilds.
    let second = upload(
        &t.admin,
        &format!("/api/v1/files/{file}"),
        json!({"title": "Beschluss Haushaltssatzung", "kind": "Bescheid"}),
    )
    .await;
    assert_ne!(second, doc);
    let pruned = app.db.prune_index_log(Duration::ZERO).await.expect("prune");
    assert!(pruned >= 2, "pruned {pruned}");
    let horizon = app.db.index_log_horizon().await.expect("horizon");
    assert!(horizon > caught_up, "the node is behind the horizon");
    let indexed = akta_jobs::indexer::run_once(&app.db, &app.keyring, &node)
        .await
        .expect("rebuild");
    assert_eq!(indexed, 2);
    assert!(node.applied() >= horizon, "position moved past the horizon");
    assert_eq!(node.manager.doc_count(t.id).expect("count"), 2);

    // Nothing missed afterwards: a later change is applied from the log as usual.
    upload(
        &t.admin,
        &format!("/api/v1/files/{file}"),
        json!({"title": "Bekanntmachung Haushaltssatzung", "kind": "Ausgang"}),
    )
    .await;
    let applied = akta_jobs::indexer::run_once(&app.db, &app.keyring, &node)
        .await
        .expect("apply");
    assert_eq!(applied, 1);
    assert_eq!(node.manager.doc_count(t.id).expect("count"), 3);
}
