//! Searching on behalf of a caller, for the REST API and the web UI alike: only the caller's
//! tenant index, only what the caller may see (inside the search, so totals and facets
//! count visible documents only), then RLS re-checks the hits of the page.

use akta_db::{DocumentTarget, IndexLag, RecordHit, Share};
use akta_domain::Principal;
use akta_search::{
    Query, SearchError, SearchHit, SearchOptions, SearchResults, SortOrder, Visibility,
};
use uuid::Uuid;

use crate::{Core, CoreError};

/// What a search returns, with how far this node's index trails the log for the tenant.
pub struct Found {
    pub results: SearchResults,
    /// Akten and Vorgänge found by their Zeichen or Betreff (first page only).
    pub records: Vec<RecordHit>,
    /// Documents of Akten other tenants share with the caller's (Amtshilfe; first page
    /// only). They are not counted in `results`: they are not the tenant's own.
    pub shared: Vec<SharedHit>,
    pub lag: IndexLag,
}

/// A document found in an Akte another tenant shares with the caller's.
pub struct SharedHit {
    pub share: Share,
    pub hit: SearchHit,
}

/// Documents shown per shared Akte on a search's first page.
const SHARED_HITS: usize = 10;
/// Shares searched at most (the newest first).
const SHARED_SEARCHED: usize = 20;

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
        let scope = tx
            .search_visibility(index.applied())
            .await
            .map_err(CoreError::from)?;
        let confidential_files = scope.confidential_files;
        let lag = scope.lag;
        options.visibility = Visibility {
            plan_scope: scope.plan_scope,
            confidential_files: Some(confidential_files.clone()),
        };
        let first_page = wants_records(&options);
        let record_terms = first_page.then(|| query.record_terms()).flatten();
        // Shares are looked for only where there are any: most towns have none, and a
        // search's round trips are a good part of its cost.
        let shared_query = (first_page && scope.shared_with_us).then(|| query.clone());
        let searcher = index.clone();
        let slot = self
            .search_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CoreError::Internal(format!("search slots: {e}")))?;
        let searching = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let found = searcher.manager.search(tenant, &query, &options);
            drop(slot);
            (found, started.elapsed())
        });
        // Akten and Vorgänge are looked up while the index searches: the database and the
        // index each wait less for the other.
        let records = match record_terms {
            Some(terms) => tx
                .find_records(&terms.reference, &terms.words, RECORD_HITS)
                .await
                .map_err(CoreError::from),
            None => Ok(Vec::new()),
        };
        let (found, took) = searching
            .await
            .map_err(|e| CoreError::Internal(format!("search task: {e}")))?;
        let records = records?;
        let mut results = found?;
        self.metrics.record_search(took);
        // The second wall: RLS re-checks every hit of the page.
        let ids: Vec<Uuid> = results.items.iter().map(|h| h.document_id).collect();
        let visible = tx
            .visible_search_hits(&ids, &confidential_files)
            .await
            .map_err(CoreError::from)?;
        results.items.retain(|h| visible.contains(&h.document_id));
        let shares = match shared_query {
            Some(_) => tx.shares_with_us().await.map_err(CoreError::from)?,
            None => Vec::new(),
        };
        tx.commit().await.map_err(CoreError::from)?;
        let mut shared = Vec::new();
        if let Some(query) = shared_query {
            for share in shares.into_iter().take(SHARED_SEARCHED) {
                shared.extend(self.search_share(principal, &query, share).await?);
            }
        }
        Ok(Found {
            results,
            records,
            shared,
            lag,
        })
    }

    /// `query` in the owner's index, narrowed to the shared Akte (or Vorgang); the owner's
    /// RLS re-checks the hits in the share's transaction, and hits are an audited read.
    async fn search_share(
        &self,
        principal: &Principal,
        query: &Query,
        share: Share,
    ) -> Result<Vec<SharedHit>, SearchFailure> {
        let index = self.search.clone().ok_or(SearchFailure::Unavailable)?;
        let Some(mut theirs) = self.open_share(principal, &share).await? else {
            return Ok(Vec::new());
        };
        let options = SearchOptions {
            file_id: Some(share.file_id),
            case_id: share.case_id,
            sort: SortOrder::Relevance,
            limit: SHARED_HITS,
            visibility: Visibility {
                plan_scope: None,
                confidential_files: Some(vec![share.file_id]),
            },
            ..SearchOptions::default()
        };
        let owner = share.owner_tenant_id;
        let query = query.clone();
        let found =
            tokio::task::spawn_blocking(move || index.manager.search(owner, &query, &options))
                .await
                .map_err(|e| CoreError::Internal(format!("search task: {e}")))??;
        let ids: Vec<Uuid> = found.items.iter().map(|h| h.document_id).collect();
        let visible = theirs
            .visible_search_hits(&ids, &[share.file_id])
            .await
            .map_err(CoreError::from)?;
        let hits: Vec<SearchHit> = found
            .items
            .into_iter()
            .filter(|h| visible.contains(&h.document_id))
            .collect();
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let mine = self.db.tx_for(principal).await.map_err(CoreError::from)?;
        crate::shares::audit_share_read(mine, theirs, &share, principal, "search", share.file_id)
            .await?;
        Ok(hits
            .into_iter()
            .map(|hit| SharedHit {
                share: share.clone(),
                hit,
            })
            .collect())
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
