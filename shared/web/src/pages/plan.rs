//! The Aktenplan browser: the whole tree with Kennzeichen, titles and counts, and the Akten
//! of the chosen unit. Plain nested lists of links: usable with the keyboard without script.

use std::collections::HashMap;

use akta_api::AppState;
use akta_core::model::PlanNode;
use akta_core::PlanOverview;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::WebError;
use crate::render::{page, Chrome};
use crate::session::Session;

pub struct Row {
    id: Uuid,
    code: String,
    title: String,
    count: i64,
    selected: bool,
    /// A nested list opens before this row (it is the first child of the previous row).
    opens: bool,
    /// No children follow: the list item closes right after it.
    leaf: bool,
    /// Nested lists (with their parent items) that close after this row.
    closes: usize,
}

pub struct UnitView {
    id: Uuid,
    code: String,
    title: String,
}

pub struct FileRow {
    id: Uuid,
    reference: String,
    subject: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    c: Chrome,
    rows: Vec<Row>,
    unit: Option<UnitView>,
    files: Vec<FileRow>,
}

/// Depth-first order with depths; units whose parent is out of sight count as roots.
fn tree_order(nodes: Vec<PlanNode>) -> Vec<(PlanNode, usize)> {
    let ids: std::collections::HashSet<Uuid> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<Option<Uuid>, Vec<PlanNode>> = HashMap::new();
    for n in nodes {
        let parent = n.parent_id.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(n);
    }
    let mut out = Vec::new();
    let mut stack: Vec<(PlanNode, usize)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|n| (n, 0))
        .collect();
    while let Some((node, depth)) = stack.pop() {
        if let Some(kids) = children.remove(&Some(node.id)) {
            stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
        }
        out.push((node, depth));
    }
    out
}

fn rows(nodes: Vec<PlanNode>, selected: Option<Uuid>) -> Vec<Row> {
    let ordered = tree_order(nodes);
    let depths: Vec<usize> = ordered.iter().map(|(_, d)| *d).collect();
    ordered
        .into_iter()
        .enumerate()
        .map(|(i, (n, depth))| {
            let next = depths.get(i + 1).copied().unwrap_or(0);
            let leaf = next <= depth;
            Row {
                selected: Some(n.id) == selected,
                id: n.id,
                code: n.code,
                title: n.title,
                count: n.file_count,
                opens: i > 0 && depth > depths[i - 1],
                leaf,
                closes: if leaf { depth - next } else { 0 },
            }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct PlanQuery {
    einheit: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PlanQuery>,
) -> Result<Response, WebError> {
    let selected = q.einheit.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let PlanOverview { nodes, unit, files } = state
        .core
        .plan_overview(&session.principal, selected)
        .await?;
    let lang = session.lang();
    let template = PlanPage {
        rows: rows(nodes, selected),
        unit: unit.map(|u| UnitView {
            id: u.id,
            code: u.code,
            title: u.title,
        }),
        files: files
            .into_iter()
            .map(|f| FileRow {
                id: f.id,
                reference: f.reference,
                subject: f.subject,
                status: lang.t(&format!("file.status.{}", f.status)),
            })
            .collect(),
        c: session.chrome.with_nav("plan"),
    };
    page(&template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, id: u128, parent: Option<u128>) -> PlanNode {
        PlanNode {
            id: Uuid::from_u128(id),
            code: code.into(),
            title: code.into(),
            parent_id: parent.map(Uuid::from_u128),
            file_count: 0,
        }
    }

    #[test]
    fn nested_lists_balance() {
        let r = rows(
            vec![
                node("6", 1, None),
                node("63", 2, Some(1)),
                node("63.01", 3, Some(2)),
                node("7", 4, None),
            ],
            None,
        );
        let codes: Vec<_> = r.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["6", "63", "63.01", "7"]);
        let opens = r.iter().filter(|r| r.opens).count();
        let closes: usize = r.iter().map(|r| r.closes).sum();
        assert_eq!(opens, closes);
        assert!(!r[0].leaf && r[2].leaf && r[2].closes == 2 && r[3].leaf);
    }
}
