//! The search page: one box, filters and facet counts (kind, plan unit, year), hits with
//! highlighted snippets that lead into the Akte. Only the caller's tenant index is asked,
//! then hits are filtered by what the caller may see (like `GET /api/v1/search`).

use akta_api::AppState;
use akta_core::search::SearchFailure;
use akta_search::{DocKind, Query as SearchQuery, SearchOptions};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::files::{kind_label, kinds};
use crate::pages::item_href;
use crate::render::{date, page, Chrome};
use crate::session::Session;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct Params {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    plan_unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    year: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    cursor: String,
}

impl Params {
    fn href(&self) -> String {
        format!(
            "/suche?{}",
            serde_urlencoded::to_string(self).unwrap_or_default()
        )
    }

    /// The same search with one filter toggled (and paging reset).
    fn toggled(&self, facet: &str, value: &str) -> (String, bool) {
        let mut p = self.clone();
        p.cursor.clear();
        let slot = match facet {
            "kind" => &mut p.kind,
            "plan_unit" => &mut p.plan_unit,
            _ => &mut p.year,
        };
        let active = slot == value;
        *slot = if active {
            String::new()
        } else {
            value.to_owned()
        };
        (p.href(), active)
    }
}

pub struct Hit {
    document_id: Uuid,
    title: String,
    kind: &'static str,
    date: String,
    /// The Aktenzeichen and the Akte's Betreff.
    reference: String,
    subject: String,
    /// The Vorgangszeichen, where the document lies in a Vorgang.
    case_reference: Option<String>,
    file_href: String,
    /// HTML from the search crate: the text is escaped there, only `<mark>` is markup.
    snippet: String,
}

pub struct FacetValue {
    label: String,
    count: u64,
    href: String,
    active: bool,
}

pub struct FacetGroup {
    title: &'static str,
    values: Vec<FacetValue>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    q_encoded: String,
    kind: String,
    plan_unit: String,
    year: String,
    kinds: Vec<(String, String)>,
    error: Option<String>,
    unavailable: bool,
    searched: bool,
    total: u64,
    fuzzy: bool,
    hits: Vec<Hit>,
    records: Vec<RecordRow>,
    /// Documents of Akten other towns share with us (Amtshilfe), not counted in `total`.
    shared: Vec<SharedHitRow>,
    facets: Vec<FacetGroup>,
    next: Option<String>,
}

pub struct SharedHitRow {
    document_id: Uuid,
    title: String,
    share_id: Uuid,
    owner: String,
    reference: String,
    subject: String,
    snippet: String,
}

/// An Akte or a Vorgang found by its Zeichen or Betreff.
pub struct RecordRow {
    href: String,
    is_case: bool,
    reference: String,
    subject: String,
    closed: bool,
    /// For a Vorgang: its Akte.
    file_reference: String,
    file_subject: String,
}

fn doc_kind(s: &str) -> Option<DocKind> {
    DocKind::parse(s).ok()
}

fn year_bounds(year: &str) -> Option<(time::Date, time::Date)> {
    let y: i32 = year
        .trim()
        .parse()
        .ok()
        .filter(|y| (1000..=9999).contains(y))?;
    Some((
        time::Date::from_calendar_date(y, time::Month::January, 1).ok()?,
        time::Date::from_calendar_date(y, time::Month::December, 31).ok()?,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    let lang = session.lang();
    let mut chrome = session.chrome.clone().with_nav("search");
    chrome.query = p.q.clone();
    let mut template = SearchPage {
        c: chrome,
        q: p.q.clone(),
        q_encoded: serde_urlencoded::to_string([("q", &p.q)])
            .unwrap_or_default()
            .trim_start_matches("q=")
            .to_owned(),
        kind: p.kind.clone(),
        plan_unit: p.plan_unit.clone(),
        year: p.year.clone(),
        kinds: kinds(lang),
        error: None,
        unavailable: false,
        searched: false,
        total: 0,
        fuzzy: false,
        hits: Vec::new(),
        records: Vec::new(),
        shared: Vec::new(),
        facets: Vec::new(),
        next: None,
    };
    let wants_search = !(p.q.trim().is_empty()
        && p.kind.is_empty()
        && p.plan_unit.is_empty()
        && p.year.is_empty());
    if !wants_search {
        return page(&template);
    }
    let query = match SearchQuery::parse(&p.q) {
        Ok(q) => q,
        Err(e) => {
            template.error = Some(match lang {
                Lang::De => e.message_de(),
                Lang::En => e.message_en(),
            });
            return page(&template);
        }
    };
    let bounds = year_bounds(&p.year);
    let options = SearchOptions {
        kind: doc_kind(&p.kind),
        plan_unit: Some(p.plan_unit.trim().to_owned()).filter(|s| !s.is_empty()),
        date_from: bounds.map(|b| b.0),
        date_to: bounds.map(|b| b.1),
        cursor: Some(p.cursor.clone()).filter(|s| !s.is_empty()),
        limit: 20,
        facets: true,
        ..SearchOptions::default()
    };
    let (results, records, shared) =
        match state.core.search(&session.principal, query, options).await {
            Ok(found) => (found.results, found.records, found.shared),
            Err(e) if e.is_invalid_input() => {
                template.error = Some(e.to_string());
                return page(&template);
            }
            Err(SearchFailure::Unavailable) => {
                template.unavailable = true;
                return page(&template);
            }
            Err(SearchFailure::Core(e)) => return Err(e.into()),
            Err(e) => return Err(WebError::Internal(format!("search: {e}"))),
        };

    template.searched = true;
    template.total = results.total;
    template.fuzzy = results.fuzzy;
    template.next = results.next_cursor.map(|c| {
        Params {
            cursor: c,
            ..p.clone()
        }
        .href()
    });
    template.shared = shared
        .into_iter()
        .map(|s| SharedHitRow {
            document_id: s.hit.document_id,
            title: s.hit.title,
            share_id: s.share.id,
            owner: s.share.owner_name,
            reference: s.hit.reference,
            subject: s.hit.subject,
            snippet: s.hit.snippet,
        })
        .collect();
    template.records = records
        .into_iter()
        .map(|r| RecordRow {
            href: item_href(r.file_id, r.case_id),
            is_case: r.kind == "case",
            closed: r.status == "zdA",
            reference: r.reference,
            subject: r.subject,
            file_reference: r.file_reference,
            file_subject: r.file_subject,
        })
        .collect();
    template.hits = results
        .items
        .into_iter()
        .map(|h| Hit {
            document_id: h.document_id,
            kind: kind_label(lang, h.kind.as_str()),
            date: h.document_date.map(date).unwrap_or_default(),
            file_href: item_href(h.file_id, h.case_id),
            reference: h.reference,
            subject: h.subject,
            case_reference: h.case_reference,
            title: h.title,
            snippet: h.snippet,
        })
        .collect();
    if let Some(f) = results.facets {
        // Plan units by name, not by a bare code.
        let plan_titles: std::collections::HashMap<String, String> = state
            .core
            .plan_tree(&session.principal)
            .await?
            .into_iter()
            .map(|n| (n.code, n.title))
            .collect();
        let group =
            |title: &'static str, facet: &str, values: Vec<akta_search::FacetCount>| FacetGroup {
                title,
                values: values
                    .into_iter()
                    .map(|v| {
                        let (href, active) = p.toggled(facet, &v.value);
                        let label = match facet {
                            "kind" => kind_label(lang, &v.value).to_owned(),
                            "plan_unit" => match plan_titles.get(&v.value) {
                                Some(title) => format!("{} {title}", v.value),
                                None => v.value,
                            },
                            _ => v.value,
                        };
                        FacetValue {
                            label,
                            count: v.count,
                            href,
                            active,
                        }
                    })
                    .collect(),
            };
        template.facets = vec![
            group(lang.t("search.kind"), "kind", f.kind),
            group(lang.t("search.plan_unit"), "plan_unit", f.plan_unit),
            group(lang.t("search.year"), "year", f.year),
        ];
    }
    page(&template)
}
