//! Full-text search over the caller's tenant index, filtered by what the caller may see.

use akta_search::{
    DocKind, DocStatus, Query, SearchError, SearchOptions, SortOrder, Visibility, MAX_LIMIT,
};

use akta_core::search::{Found, SearchFailure};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Reader;
use crate::input::{parse_date, ApiQuery};
use crate::routes::openapi::Page;
use crate::{ApiError, AppState};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    file_id: Option<Uuid>,
    case_id: Option<Uuid>,
    plan_unit: Option<String>,
    org_unit: Option<Uuid>,
    /// `key:value` pairs on the documents' free metadata, separated by `;` (all must match).
    metadata: Option<String>,
    #[param(format = Date)]
    from: Option<String>,
    #[param(format = Date)]
    to: Option<String>,
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", Some(field), detail)
}

/// A malformed search parameter is a malformed query (400), like a malformed `q`.
fn date(field: &str, raw: Option<&str>) -> Result<Option<time::Date>, ApiError> {
    raw.map(|d| parse_date(field, d).map_err(|_| invalid(field, "must be a date like 2026-11-25")))
        .transpose()
}

fn options(q: &SearchQuery) -> Result<SearchOptions, ApiError> {
    let kind = q
        .kind
        .as_deref()
        .map(|k| DocKind::parse(k).map_err(|e| invalid("kind", &e.message)))
        .transpose()?;
    let status = match q.status.as_deref() {
        None => None,
        Some("offen") => Some(DocStatus::Offen),
        Some("zdA") => Some(DocStatus::ZdA),
        Some(_) => return Err(invalid("status", "must be offen or zdA")),
    };
    let sort = match q.sort.as_deref() {
        None | Some("relevance") => SortOrder::Relevance,
        Some("date") => SortOrder::DateDesc,
        Some(_) => return Err(invalid("sort", "must be relevance or date")),
    };
    let limit = q.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let metadata = match q.metadata.as_deref() {
        None => Vec::new(),
        Some(raw) => raw
            .split(';')
            .filter(|pair| !pair.trim().is_empty())
            .map(|pair| match pair.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Ok((k.trim().to_owned(), v.trim().to_owned()))
                }
                _ => Err(invalid(
                    "metadata",
                    "must be key:value pairs separated by ';', e.g. aktenart:Bauakte",
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(SearchOptions {
        plan_unit: q.plan_unit.clone(),
        org_unit: q.org_unit,
        metadata,
        file_id: q.file_id,
        case_id: q.case_id,
        kind,
        status,
        date_from: date("from", q.from.as_deref())?,
        date_to: date("to", q.to.as_deref())?,
        sort,
        limit,
        cursor: q.cursor.clone(),
        facets: true,
        // Set from the caller's rights before searching.
        visibility: Visibility::default(),
    })
}

/// `GET /api/v1/search`. The search leaves out what the caller may not see (plan scope,
/// confidential Akten it is not named on), so `total` and the facets count only visible
/// documents; RLS then re-checks the hits of the page (see [`crate::searching`]).
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "Suche",
    summary = "Volltextsuche in Dokumenten",
    params(SearchQuery),
    responses((status = 200, description = "Treffer, Anzahl und `next_cursor`", body = Object))
)]
pub async fn search(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let query =
        Query::parse(q.q.as_deref().unwrap_or("")).map_err(|e| invalid("q", e.message_en()))?;
    let options = options(&q)?;
    let Found {
        results,
        records,
        shared,
        lag,
    } = state
        .core
        .search(&reader.principal, query, options)
        .await
        .map_err(|e| match e {
            SearchFailure::Invalid(SearchError::Query(e)) => invalid("q", e.message_en()),
            SearchFailure::Invalid(SearchError::InvalidCursor) => {
                invalid("cursor", "invalid cursor")
            }
            SearchFailure::Invalid(SearchError::InvalidLimit(max)) => {
                invalid("limit", format!("must be between 1 and {max}"))
            }
            SearchFailure::Invalid(other) => ApiError::Internal(format!("search: {other}")),
            SearchFailure::Unavailable => {
                ApiError::Unavailable("search is not enabled on this node".into())
            }
            SearchFailure::Core(e) => e.into(),
        })?;
    // Akten and Vorgänge found by Zeichen or Betreff come first on the first page, each
    // item saying what it is; `total` counts documents.
    let mut items: Vec<Value> = Vec::with_capacity(records.len() + results.items.len());
    for record in &records {
        items.push(json!(record));
    }
    for hit in &results.items {
        let mut item = json!(hit);
        if let Some(fields) = item.as_object_mut() {
            fields.insert("type".into(), json!("document"));
        }
        items.push(item);
    }
    // Documents of Akten other tenants share with this one: beside the tenant's own, not
    // counted in `total` or the facets.
    let shared: Vec<Value> = shared
        .iter()
        .map(|s| {
            let mut item = json!(s.hit);
            if let Some(fields) = item.as_object_mut() {
                fields.insert("type".into(), json!("shared_document"));
                fields.insert("share_id".into(), json!(s.share.id));
                fields.insert("owner".into(), json!(s.share.owner_name));
            }
            item
        })
        .collect();
    Ok(Json(json!({
        "total": results.total,
        "shared": shared,
        "records_total": records.len(),
        "items": items,
        "facets": results.facets,
        "next_cursor": results.next_cursor,
        "fuzzy": results.fuzzy,
        "index_lag": lag.entries,
        "index_lag_seconds": lag.seconds,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    q: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/records?q=`: Akten and Vorgänge by Zeichen (prefix) or Betreff words, for
/// search-as-you-type (filing from the Posteingang); each item says its `type`.
#[utoipa::path(
    get,
    path = "/api/v1/records",
    tag = "Suche",
    summary = "Akten und Vorgänge nach Aktenzeichen oder Betreff finden",
    params(RecordsQuery),
    responses((status = 200, description = "Die Treffer", body = Page))
)]
pub async fn records(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> Result<Json<Value>, ApiError> {
    let typed = q.q.unwrap_or_default();
    akta_domain::check_input("q", &typed)?;
    let items = state
        .core
        .find_records(&reader.principal, &typed, q.limit.unwrap_or(10))
        .await?;
    Ok(Json(json!({"items": items})))
}
