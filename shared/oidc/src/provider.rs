//! Talking to identity providers: the HTTP client, discovery documents and key sets with
//! their caches, the code exchange at the token endpoint and the userinfo request.

use akta_db::repo::oidc::{OidcConfig, PendingOidcLogin};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::address::{check_url, PublicOnlyResolver};
use crate::{Claims, Jwk, OidcError};

/// How long discovery documents and key sets are trusted before they are fetched again.
const CACHE_TTL: Duration = Duration::from_secs(15 * 60);
/// An unknown `kid` refetches the key set (the provider rotated its keys), but not more often
/// than this, so a stream of bad tokens cannot make Akta hammer the provider.
const JWKS_REFETCH_MIN: Duration = Duration::from_secs(10);
/// Largest answer read from a provider: discovery, keys, tokens and userinfo are small.
const MAX_RESPONSE: usize = 1024 * 1024;
/// Time allowed for one request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The parts of a provider's discovery document Akta uses (Discovery 1.0 §3).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) id_token: Option<String>,
    pub(crate) access_token: Option<String>,
}

struct Cached<T> {
    fetched: Instant,
    value: Arc<T>,
}

/// The relying party: an HTTP client for the providers and caches of their discovery
/// documents and keys, shared by all tenants (keyed by URL, so tenants never share a
/// provider by accident: only the same URL gives the same entry).
pub struct Oidc {
    http: Result<reqwest::Client, String>,
    pub(crate) allow_http: bool,
    discovery: Mutex<HashMap<String, Cached<Discovery>>>,
    jwks: Mutex<HashMap<String, Cached<Vec<Jwk>>>>,
}

impl Oidc {
    /// `allow_http` admits `http://` providers (tests, development) on any address;
    /// otherwise every URL Akta contacts must be HTTPS, since the client secret and tokens
    /// travel over it, and must lead to a public address.
    pub fn new(allow_http: bool) -> Oidc {
        // Redirects are not followed: a provider's endpoints are named by its discovery
        // document, and a redirect could point Akta's requests anywhere.
        let mut builder = reqwest::Client::builder();
        if !allow_http {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        let http = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("akta/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string());
        Oidc {
            http,
            allow_http,
            discovery: Mutex::new(HashMap::new()),
            jwks: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, OidcError> {
        self.http
            .as_ref()
            .map_err(|e| OidcError::Internal(format!("HTTP client: {e}")))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<T, OidcError> {
        check_url(url, self.allow_http).map_err(|e| OidcError::misbehaving(what, e))?;
        let mut request = self.client()?.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| OidcError::unreachable(what, e))?;
        let (status, body) = read_limited(what, response).await?;
        if !status.is_success() {
            return Err(OidcError::misbehaving(what, format!("HTTP {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::misbehaving(what, e))
    }

    /// The provider's discovery document, from the cache while fresh. Its `issuer` must be
    /// exactly the configured one (Discovery §4.3), or tokens could come from an impostor.
    pub async fn discover(&self, issuer: &str) -> Result<Arc<Discovery>, OidcError> {
        if let Some(hit) = fresh(&self.discovery, issuer, CACHE_TTL) {
            return Ok(hit);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Discovery = self.get_json("discovery", &url, None).await?;
        if doc.issuer != issuer {
            return Err(OidcError::misbehaving(
                "discovery",
                format!(
                    "the document names issuer {:?}, configured is {issuer:?}",
                    doc.issuer
                ),
            ));
        }
        for endpoint in [
            &doc.authorization_endpoint,
            &doc.token_endpoint,
            &doc.jwks_uri,
        ]
        .into_iter()
        .chain(doc.userinfo_endpoint.as_ref())
        {
            check_url(endpoint, self.allow_http)
                .map_err(|e| OidcError::misbehaving(&format!("endpoint {endpoint}"), e))?;
        }
        Ok(store(&self.discovery, issuer, doc))
    }

    /// The provider's signing keys; `refresh` asks for a newer set than the cached one.
    pub(crate) async fn keys(
        &self,
        jwks_uri: &str,
        refresh: bool,
    ) -> Result<Arc<Vec<Jwk>>, OidcError> {
        let max_age = if refresh { JWKS_REFETCH_MIN } else { CACHE_TTL };
        if let Some(hit) = fresh(&self.jwks, jwks_uri, max_age) {
            return Ok(hit);
        }
        let set: JwkSet = self.get_json("jwks", jwks_uri, None).await?;
        // Keys of kinds Akta does not use are skipped, not fatal: a set may hold many kinds.
        let keys = set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .collect();
        Ok(store(&self.jwks, jwks_uri, keys))
    }

    /// Redeems the authorization code with the PKCE verifier (Core §3.1.3.1), authenticating
    /// as the tenant's client the way it is registered.
    pub(crate) async fn redeem(
        &self,
        cfg: &OidcConfig,
        discovery: &Discovery,
        pending: &PendingOidcLogin,
        code: &str,
    ) -> Result<TokenResponse, OidcError> {
        const WHAT: &str = "token endpoint";
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", pending.pkce_verifier.as_str()),
        ];
        let mut request = self
            .client()?
            .post(&discovery.token_endpoint)
            .header("accept", "application/json");
        if cfg.token_auth_method == "client_secret_post" {
            form.push(("client_id", &cfg.client_id));
            form.push(("client_secret", &cfg.client_secret));
        } else {
            // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
            let user = form_encode(&cfg.client_id);
            let password = form_encode(&cfg.client_secret);
            request = request.basic_auth(user, Some(password));
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::unreachable(WHAT, e))?;
        let (status, body) = read_limited(WHAT, response).await?;
        if !status.is_success() {
            // The provider's error code helps the admin (wrong secret, wrong redirect URI).
            let error = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(OidcError::CodeRefused {
                status: status.as_u16(),
                error,
            });
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::misbehaving(WHAT, e))
    }

    /// Completes the claims from the userinfo endpoint: providers that follow Core §5.4
    /// strictly put profile claims only there. Its `sub` must be the ID token's (§5.3.2);
    /// claims of the signed ID token win over userinfo's.
    pub(crate) async fn add_userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
        claims: &mut Claims,
    ) -> Result<(), OidcError> {
        let info: Claims = self
            .get_json("userinfo", endpoint, Some(access_token))
            .await?;
        if info.get("sub") != claims.get("sub") {
            return Err(OidcError::InvalidResponse(
                "userinfo belongs to another subject".into(),
            ));
        }
        for (name, value) in info {
            claims.entry(name).or_insert(value);
        }
        Ok(())
    }
}

fn fresh<T>(
    cache: &Mutex<HashMap<String, Cached<T>>>,
    key: &str,
    max_age: Duration,
) -> Option<Arc<T>> {
    let cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .get(key)
        .filter(|c| c.fetched.elapsed() < max_age)
        .map(|c| c.value.clone())
}

fn store<T>(cache: &Mutex<HashMap<String, Cached<T>>>, key: &str, value: T) -> Arc<T> {
    let value = Arc::new(value);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Providers are few (one per tenant); dropping stale entries keeps a tenant that keeps
    // changing its issuer from growing the map.
    cache.retain(|_, c| c.fetched.elapsed() < CACHE_TTL);
    cache.insert(
        key.to_owned(),
        Cached {
            fetched: Instant::now(),
            value: value.clone(),
        },
    );
    value
}

/// Status and body of an answer, refusing bodies over [`MAX_RESPONSE`].
async fn read_limited(
    what: &str,
    mut response: reqwest::Response,
) -> Result<(reqwest::StatusCode, Vec<u8>), OidcError> {
    let too_large = || OidcError::misbehaving(what, "answer too large");
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| OidcError::unreachable(what, e))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
