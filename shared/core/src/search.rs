//! Searching on behalf of a caller, for the REST API and the web UI alike: only the caller's
//! tenant index, only what the caller may see (inside the search, so totals and facets
//! count visible documents only), then RLS re-checks the hits of the page.

use akta_db::{DocumentTarget, IndexLag, RecordHit};
use akta_domain::Principal;
use akta_search::{Query, SearchError, SearchOptions, SearchResults, Visibility};
use uuid::Uuid;

use crate::{Core, CoreError};

/// What a search returns, with how far this node's index trails the log for the tenant.
pub struct Found {
    pub results: SearchResults,
    /// Akten and Vorgänge found by their Zeichen or Betreff (first page only).
    pub records: Vec<RecordHit>,
    pub lag: IndexLag,
}

/// Akten and Vorgänge shown above the documents of a search's first page.
const RECORD_HITS: i64 = 10;

/// Whether Akten and Vorgänge are looked up beside the documents: on the first page, and
/// only while no filter narrows to what only documents have.
fn wants_records(options: &SearchOptions) -> bool {
    options.cursor.is_none()
        && matches!(options.sort, akta_search::SortOrder::Relevance)
        && options.kind.is_none()
        && options.metadata.is_empty()
        && options.date_from.is_none()
        && options.date_to.is_none()
        && options.file_id.is_none()
        && options.case_id.is_none()
        && options.plan_unit.is_none()
        && options.org_unit.is_none()
        && options.status.is_none()
}

/// Why a search could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    /// The query, cursor or limit is the caller's mistake (HTTP 400).
    #[error("{0}")]
    Invalid(#[from] SearchError),
    /// Search is not enabled on this node, or the caller has no tenant.
    #[error("search is not available")]
    Unavailable,
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl SearchFailure {
    /// Whether the failure is the caller's input (shown to the user) or the server's.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Self::Invalid(
                SearchError::Query(_) | SearchError::InvalidCursor | SearchError::InvalidLimit(_)
            )
        )
    }
}

impl Core {
    /// Runs `query` with `options` for `principal`; `options.visibility` is set here.
    pub async fn search(
        &self,
        principal: &Principal,
        query: Query,
        mut options: SearchOptions,
    ) -> Result<Found, SearchFailure> {
        let index = self.search.clone().ok_or(SearchFailure::Unavailable)?;
        let tenant = principal
            .tenant_role()
            .map(|(t, _)| t.0)
            .ok_or(SearchFailure::Unavailable)?;
        let mut tx = self.db.tx_for(principal).await.map_err(CoreError::from)?;
        let (plan_scope, confidential_files, lag) = tx
            .search_visibility(index.applied())
            .await
            .map_err(CoreError::from)?;
        options.visibility = Visibility {
            plan_scope,
            confidential_files: Some(confidential_files.clone()),
        };
        let record_terms = wants_records(&options)
            .then(|| query.record_terms())
            .flatten();
        let searcher = index.clone();
        let slot = self
            .search_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CoreError::Internal(format!("search slots: {e}")))?;
        let started = std::time::Instant::now();
        let mut results = tokio::task::spawn_blocking(move || {
            let found = searcher.manager.search(tenant, &query, &options);
            drop(slot);
            found
        })
        .await
        .map_err(|e| CoreError::Internal(format!("search task: {e}")))??;
        // The second wall: RLS re-checks every hit of the page.
        let ids: Vec<Uuid> = results.items.iter().map(|h| h.document_id).collect();
        let visible = tx
            .visible_search_hits(&ids, &confidential_files)
            .await
            .map_err(CoreError::from)?;
        results.items.retain(|h| visible.contains(&h.document_id));
        self.metrics.record_search(started.elapsed());
        let records = match record_terms {
            Some(terms) => tx
                .find_records(&terms.reference, &terms.words, RECORD_HITS)
                .await
                .map_err(CoreError::from)?,
            None => Vec::new(),
        };
        tx.commit().await.map_err(CoreError::from)?;
        Ok(Found {
            results,
            records,
            lag,
        })
    }
}

impl Core {
    /// Akten and Vorgänge by Zeichen (prefix) or Betreff words, for search-as-you-type where
    /// a clerk names an Akte (filing from the Posteingang).
    pub async fn find_records(
        &self,
        who: &Principal,
        typed: &str,
        limit: i64,
    ) -> Result<Vec<RecordHit>, CoreError> {
        let words: Vec<String> = typed.split_whitespace().map(str::to_owned).collect();
        self.as_caller(who, async |tx| {
            tx.find_records(typed, &words, limit.clamp(1, 50)).await
        })
        .await
    }

    /// The Akte or Vorgang with exactly this Zeichen, if the caller sees it.
    pub async fn target_by_reference(
        &self,
        who: &Principal,
        reference: &str,
    ) -> Result<Option<DocumentTarget>, CoreError> {
        self.as_caller(who, async |tx| tx.target_by_reference(reference).await)
            .await
    }
}
