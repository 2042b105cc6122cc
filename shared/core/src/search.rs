//! Searching on behalf of a caller, for the REST API and the web UI alike: only the caller's
//! tenant index, only what the caller may see (inside the search, so totals and facets
//! count visible documents only), then RLS re-checks the hits of the page.

use akta_db::IndexLag;
use akta_domain::Principal;
use akta_search::{Query, SearchError, SearchOptions, SearchResults, Visibility};
use uuid::Uuid;

use crate::{Core, CoreError};

/// What a search returns, with how far this node's index trails the log for the tenant.
pub struct Found {
    pub results: SearchResults,
    pub lag: IndexLag,
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
        let searcher = index.clone();
        let slot = self
            .search_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CoreError::Internal(format!("search slots: {e}")))?;
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
        tx.commit().await.map_err(CoreError::from)?;
        Ok(Found { results, lag })
    }
}
