//! Keyset pagination and list filters.

use akta_testkit::{Client, TestApp};
use serde_json::{json, Value};

use crate::common::{item_ids, items};

/// Follows `next_cursor` from `path` (which already has a query) and returns the pages' ids.
async fn all_pages(client: &Client, path: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let reply = client.get(&url).await;
        pages.push(item_ids(&reply));
        match &reply.body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => return pages,
            other => panic!("next_cursor is neither string nor null: {other}"),
        }
        assert!(pages.len() <= 20, "pagination does not end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_lists_page_through_every_file_exactly_once() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("dortmund").await;
    let admin = &tenant.admin;
    let bau = admin.create_plan_unit("63", None).await;
    let umwelt = admin.create_plan_unit("70", None).await;

    let mut created = Vec::new();
    for i in 0..7 {
        let unit = if i < 5 { &bau } else { &umwelt };
        created.push(admin.create_file(unit, &format!("Akte {i}")).await.id());
    }
    // Two of the Bau files are closed.
    for file in &created[3..5] {
        let closed = admin
            .patch(
                &format!("/api/v1/files/{file}"),
                Some("\"v1\""),
                json!({"status": "zdA"}),
            )
            .await;
        assert_eq!(closed.status, 200, "{}", closed.body);
    }

    let pages = all_pages(admin, "/api/v1/files?limit=3").await;
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    // Every file exactly once, in creation order.
    assert_eq!(pages.concat(), created);

    // A page that ends exactly at the last item has no next cursor.
    let pages = all_pages(admin, "/api/v1/files?limit=7").await;
    assert_eq!(pages, vec![created.clone()]);
    let default = admin.get("/api/v1/files").await;
    assert_eq!(item_ids(&default), created);
    assert_eq!(default.body["next_cursor"], Value::Null);

    let in_bau = all_pages(admin, &format!("/api/v1/files?plan_unit_id={bau}&limit=2")).await;
    assert_eq!(in_bau.concat(), created[..5]);
    assert_eq!(in_bau.len(), 3);
    let closed = all_pages(admin, "/api/v1/files?status=zdA&limit=1").await;
    assert_eq!(closed.concat(), created[3..5]);
    let open = all_pages(admin, "/api/v1/files?status=offen&limit=3").await;
    let expected_open: Vec<_> = created[..3].iter().chain(&created[5..]).cloned().collect();
    assert_eq!(open.concat(), expected_open);
    let open_in_umwelt = admin
        .get(&format!("/api/v1/files?status=offen&plan_unit_id={umwelt}"))
        .await;
    assert_eq!(item_ids(&open_in_umwelt), created[5..]);
    let closed_in_umwelt = admin
        .get(&format!("/api/v1/files?status=zdA&plan_unit_id={umwelt}"))
        .await;
    assert!(items(&closed_in_umwelt).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_units_cases_and_history_page_too() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("bochum").await;
    let admin = &tenant.admin;

    let root = admin.create_plan_unit("6", None).await;
    let mut children = Vec::new();
    for i in 1..=4 {
        children.push(admin.create_plan_unit(&format!("6.{i}"), Some(&root)).await);
    }
    let pages = all_pages(
        admin,
        &format!("/api/v1/plan-units?parent_id={root}&limit=3"),
    )
    .await;
    assert_eq!(pages.concat(), children);
    assert_eq!(pages.len(), 2);
    let all = all_pages(admin, "/api/v1/plan-units?limit=2").await;
    let mut expected = vec![root.clone()];
    expected.extend(children.iter().cloned());
    assert_eq!(all.concat(), expected);

    let file = admin.create_file(&children[0], "Akte").await.id();
    let mut cases = Vec::new();
    for i in 0..5 {
        cases.push(admin.create_case(&file, &format!("Vorgang {i}")).await);
    }
    let pages = all_pages(admin, &format!("/api/v1/files/{file}/cases?limit=2")).await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.concat(), cases);

    // History pages are in event order: the file, then its five cases.
    let mut actions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/files/{file}/history?limit=4&cursor={c}"),
            None => format!("/api/v1/files/{file}/history?limit=4"),
        };
        let reply = admin.get(&path).await;
        let page = items(&reply);
        assert!(page.len() <= 4);
        actions.extend(page.iter().map(|e| e["action"].clone()));
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected = vec![json!("file.created")];
    expected.extend(std::iter::repeat_n(json!("case.created"), 5));
    assert_eq!(actions, expected);
}
