//! The state every handler shares: the application core, the HTTP settings, the OpenID
//! Connect client.

use crate::ApiError;
use std::sync::Arc;

/// Tunables of the HTTP layer (the records rules' own are [`akta_core::CoreSettings`]).
#[derive(Debug, Clone, Default)]
pub struct ApiSettings {
    /// Send Strict-Transport-Security: Akta terminates TLS itself or sits behind a TLS proxy.
    pub hsts: bool,
    /// Mark session cookies `Secure` (HTTPS only); on whenever clients use HTTPS.
    pub secure_cookies: bool,
    /// Reverse proxies whose X-Forwarded-For/-Proto headers are believed.
    pub trusted_proxies: Vec<crate::peer::ProxyNet>,
    /// Akta's external base URL (e.g. `https://akta.example.de`) for OpenID Connect redirect
    /// URIs; `None` derives it from the request's Host header (https if `secure_cookies`).
    pub public_url: Option<String>,
    /// Admit `http://` OpenID providers (tests, development). Off, every provider URL must be
    /// HTTPS: the client secret and tokens travel over it.
    pub oidc_allow_http: bool,
    /// Root of this node's search indexes; `None`: no search (the route answers 503).
    pub index_dir: Option<std::path::PathBuf>,
    /// The operator's own OpenID provider for console logins (`/betrieb/oidc/…`); `None`:
    /// operators log in with passwords only.
    pub operator_oidc: Option<OperatorOidc>,
}

/// The OpenID provider operators log into the console with, apart from every tenant's.
#[derive(Clone)]
pub struct OperatorOidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// The secret must not reach logs through `{:?}`.
impl std::fmt::Debug for OperatorOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorOidc")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OperatorOidc {
    /// The settings in the form the OIDC client takes for a tenant's provider, so the
    /// console login runs the same protocol code: scope `openid` only, no role mapping (an
    /// operator is whoever the linked account is).
    pub fn provider_config(&self) -> akta_core::model::OidcConfig {
        akta_core::model::OidcConfig {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            secret_sealed: None,
            secret_len: None,
            secret_wrapped_key: None,
            secret_key_version: None,
            token_auth_method: "client_secret_basic".into(),
            scopes: "openid".into(),
            role_claim: None,
            role_mapping: serde_json::json!({}),
            default_role: None,
            enabled: true,
            updated_at: time::OffsetDateTime::now_utc(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// The application core: every records operation goes through it.
    pub core: akta_core::Core,
    pub settings: Arc<ApiSettings>,
    /// OpenID Connect client with its discovery and key caches.
    pub oidc: Arc<akta_oidc::Oidc>,
}

impl AppState {
    pub fn new(core: akta_core::Core, settings: ApiSettings) -> Self {
        Self {
            core,
            oidc: Arc::new(akta_oidc::Oidc::new(settings.oidc_allow_http)),
            settings: Arc::new(settings),
        }
    }

    /// Opens the search indexes under `settings.index_dir`, if set. Run
    /// `akta_jobs::indexer::run` with the core's search index to keep them current.
    pub fn with_search(mut self) -> Result<Self, ApiError> {
        if let Some(dir) = &self.settings.index_dir {
            let index = akta_search::SearchIndex::open(dir.clone())
                .map_err(|e| ApiError::Internal(format!("search index: {e}")))?;
            self.core = self.core.with_search(Arc::new(index));
        }
        Ok(self)
    }
}
