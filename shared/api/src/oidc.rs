//! OpenID Connect relying party: discovery, the authorization-code flow with PKCE, state and
//! nonce, ID token validation (RS256/ES256 against the provider's JWKS) and the mapping from
//! claims to an Akta role.
//!
//! Follows OpenID Connect Core 1.0 §3.1, Discovery 1.0 §4, RFC 7636 (PKCE), RFC 7517/7518
//! (JWK, JWA) and RFC 9207 (`iss` in the authorization response). Only what Akta needs:
//! confidential clients with `client_secret_basic` or `client_secret_post`.

use akta_db::repo::oidc::{OidcConfig, PendingOidcLogin};
use akta_domain::Role;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use openssl::sign::Verifier;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The claims of a validated login: the ID token's, completed from the userinfo endpoint.
pub type Claims = Map<String, Value>;

/// How long discovery documents and key sets are trusted before they are fetched again.
const CACHE_TTL: Duration = Duration::from_secs(15 * 60);
/// An unknown `kid` refetches the key set (the provider rotated its keys), but not more often
/// than this, so a stream of bad tokens cannot make Akta hammer the provider.
const JWKS_REFETCH_MIN: Duration = Duration::from_secs(10);
/// Clock difference tolerated between Akta and the provider.
const LEEWAY_SECS: i64 = 60;
/// Largest answer read from a provider: discovery, keys, tokens and userinfo are small.
const MAX_RESPONSE: usize = 1024 * 1024;
/// Time allowed for one request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider is unreachable, misconfigured or answered something unusable.
    #[error("identity provider: {0}")]
    Provider(String),
    /// An answer failed validation: bad signature, wrong issuer or audience, expired, …
    #[error("invalid login: {0}")]
    Invalid(String),
}

fn provider_err(context: &str, e: impl std::fmt::Display) -> OidcError {
    OidcError::Provider(format!("{context}: {e}"))
}

fn invalid(message: impl Into<String>) -> OidcError {
    OidcError::Invalid(message.into())
}

/// The parts of a provider's discovery document Akta uses.
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

/// One key of a JWK set, as far as RS256 and ES256 need it.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
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
    allow_http: bool,
    discovery: Mutex<HashMap<String, Cached<Discovery>>>,
    jwks: Mutex<HashMap<String, Cached<Vec<Jwk>>>>,
}

/// A login about to leave for the provider.
pub struct Started {
    /// Where to send the browser.
    pub url: String,
    /// The `state` value, to be bound to the browser (cookie) and stored as a hash.
    pub state: String,
    pub pending: PendingOidcLogin,
}

impl Oidc {
    /// `allow_http` admits `http://` providers (tests, development); otherwise every URL
    /// Akta contacts must be HTTPS, since the client secret and tokens travel over it.
    pub fn new(allow_http: bool) -> Oidc {
        // Redirects are not followed: a provider's endpoints are named by its discovery
        // document, and a redirect could point Akta's requests anywhere.
        let mut builder = reqwest::Client::builder();
        if !allow_http {
            // Tenant admins choose the provider URL; it must not become a way to reach
            // services inside the operator's network (SSRF). Checked on the resolved
            // addresses, which are also the ones connected to (no DNS rebinding).
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
            .map_err(|e| provider_err("HTTP client", e))
    }

    /// Checks that a URL is absolute, HTTPS (unless http is allowed) and has no fragment.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err("must be an https:// URL".into()),
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !self.allow_http {
            // IP literals are connected to directly, without the resolver below.
            let literal = parsed
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                .and_then(|h| h.parse::<std::net::IpAddr>().ok());
            if literal.is_some_and(|ip| !is_public(ip)) {
                return Err("must not point to a private, loopback or link-local address".into());
            }
        }
        if parsed.fragment().is_some() {
            return Err("must not have a fragment".into());
        }
        Ok(parsed)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<T, OidcError> {
        self.check_url(url).map_err(|e| provider_err(what, e))?;
        let mut request = self.client()?.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| provider_err(what, e))?;
        let (status, body) = read_limited(response)
            .await
            .map_err(|e| provider_err(what, e))?;
        if !status.is_success() {
            return Err(provider_err(what, format!("HTTP {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| provider_err(what, e))
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
            return Err(OidcError::Provider(format!(
                "discovery names issuer {:?}, configured is {issuer:?}",
                doc.issuer
            )));
        }
        for endpoint in [
            &doc.authorization_endpoint,
            &doc.token_endpoint,
            &doc.jwks_uri,
        ]
        .into_iter()
        .chain(doc.userinfo_endpoint.as_ref())
        {
            self.check_url(endpoint)
                .map_err(|e| provider_err(&format!("endpoint {endpoint}"), e))?;
        }
        Ok(store(&self.discovery, issuer, doc))
    }

    async fn keys(&self, jwks_uri: &str, refresh: bool) -> Result<Arc<Vec<Jwk>>, OidcError> {
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

    /// Prepares a login: fresh state, nonce and PKCE verifier, and the provider URL that
    /// carries them (with the S256 challenge, never the verifier).
    pub async fn start(&self, cfg: &OidcConfig, redirect_uri: &str) -> Result<Started, OidcError> {
        let discovery = self.discover(&cfg.issuer).await?;
        let state = random_token()?;
        let nonce = random_token()?;
        let verifier = random_token()?;
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| provider_err("authorization_endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &cfg.scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(Started {
            url: url.into(),
            state,
            pending: PendingOidcLogin {
                nonce,
                pkce_verifier: verifier,
                redirect_uri: redirect_uri.to_owned(),
            },
        })
    }

    /// Completes a login: checks the response's `iss`, redeems the code, validates the ID
    /// token and adds the userinfo claims. Returns the claims of the logged-in person.
    pub async fn finish(
        &self,
        cfg: &OidcConfig,
        pending: &PendingOidcLogin,
        code: &str,
        iss: Option<&str>,
    ) -> Result<Claims, OidcError> {
        let discovery = self.discover(&cfg.issuer).await?;
        // RFC 9207: a provider that announces `iss` in responses must send the right one;
        // this stops a mix-up with another tenant's (or an attacker's) provider.
        match iss {
            Some(iss) if iss != discovery.issuer => {
                return Err(invalid("the authorization response names another issuer"));
            }
            None if discovery.authorization_response_iss_parameter_supported => {
                return Err(invalid("the authorization response lacks its issuer"));
            }
            _ => {}
        }
        let tokens = self.redeem(cfg, &discovery, pending, code).await?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| provider_err("token endpoint", "no id_token in the answer"))?;
        let expect = Expected {
            issuer: &discovery.issuer,
            client_id: &cfg.client_id,
            nonce: &pending.nonce,
            now: now_secs(),
        };
        let mut claims = match self.validate(&discovery, &id_token, &expect, false).await {
            Err(KeyLookup::UnknownKid) => self.validate(&discovery, &id_token, &expect, true).await,
            other => other,
        }
        .map_err(KeyLookup::into_error)?;
        if let (Some(endpoint), Some(access_token)) =
            (&discovery.userinfo_endpoint, &tokens.access_token)
        {
            self.add_userinfo(endpoint, access_token, &mut claims)
                .await?;
        }
        Ok(claims)
    }

    async fn redeem(
        &self,
        cfg: &OidcConfig,
        discovery: &Discovery,
        pending: &PendingOidcLogin,
        code: &str,
    ) -> Result<TokenResponse, OidcError> {
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
            .map_err(|e| provider_err("token endpoint", e))?;
        let (status, body) = read_limited(response)
            .await
            .map_err(|e| provider_err("token endpoint", e))?;
        if !status.is_success() {
            // The provider's error code helps the admin (wrong secret, wrong redirect URI).
            let detail = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(provider_err(
                "token endpoint",
                format!("HTTP {status} {detail}"),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| provider_err("token endpoint", e))
    }

    async fn validate(
        &self,
        discovery: &Discovery,
        id_token: &str,
        expect: &Expected<'_>,
        refresh: bool,
    ) -> Result<Claims, KeyLookup> {
        let keys = self
            .keys(&discovery.jwks_uri, refresh)
            .await
            .map_err(KeyLookup::Failed)?;
        validate_id_token(id_token, &keys, expect)
    }

    /// Completes the claims from the userinfo endpoint: providers that follow Core §5.4
    /// strictly put profile claims only there. Its `sub` must be the ID token's (§5.3.2);
    /// claims of the signed ID token win over userinfo's.
    async fn add_userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
        claims: &mut Claims,
    ) -> Result<(), OidcError> {
        let info: Claims = self
            .get_json("userinfo", endpoint, Some(access_token))
            .await?;
        if info.get("sub") != claims.get("sub") {
            return Err(invalid("userinfo belongs to another subject"));
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

async fn read_limited(
    mut response: reqwest::Response,
) -> Result<(reqwest::StatusCode, Vec<u8>), String> {
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE as u64)
    {
        return Err("answer too large".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err("answer too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// 256 random bits, base64url: for state, nonce and the PKCE verifier (43 characters, within
/// RFC 7636's 43..=128).
pub fn random_token() -> Result<String, OidcError> {
    let mut raw = [0u8; 32];
    openssl::rand::rand_bytes(&mut raw).map_err(|e| provider_err("random", e))?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// The S256 code challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()))
}

/// What a valid ID token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Seconds since the epoch.
    pub now: i64,
}

/// Why validation failed: a `kid` missing from the key set is told apart, since a fresh key
/// set may have it.
#[derive(Debug)]
pub enum KeyLookup {
    UnknownKid,
    Failed(OidcError),
}

impl KeyLookup {
    fn into_error(self) -> OidcError {
        match self {
            KeyLookup::UnknownKid => invalid("the ID token's key is not in the provider's key set"),
            KeyLookup::Failed(e) => e,
        }
    }
}

impl From<OidcError> for KeyLookup {
    fn from(e: OidcError) -> Self {
        KeyLookup::Failed(e)
    }
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, OidcError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid(format!("{what} is not base64url")))
}

/// Validates a compact-serialised ID token (Core §3.1.3.7) and returns its claims.
pub fn validate_id_token(
    token: &str,
    keys: &[Jwk],
    expect: &Expected<'_>,
) -> Result<Claims, KeyLookup> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("the ID token is not a signed JWT").into());
    };
    let header: JwtHeader = serde_json::from_slice(&b64(header, "JWT header")?)
        .map_err(|_| invalid("the JWT header is not JSON"))?;
    let signature = b64(signature, "JWT signature")?;
    // Only asymmetric algorithms: `none` and HS256 (keyed with the client secret) would let
    // anyone who knows the secret, or no one at all, mint tokens.
    let kty = match header.alg.as_str() {
        "RS256" => "RSA",
        "ES256" => "EC",
        other => return Err(invalid(format!("ID token algorithm {other} is not accepted")).into()),
    };
    let candidates: Vec<&Jwk> = keys
        .iter()
        .filter(|k| k.kty == kty)
        .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| k.alg.as_deref().is_none_or(|a| a == header.alg))
        .filter(|k| header.kid.is_none() || k.kid == header.kid)
        .collect();
    if candidates.is_empty() {
        return Err(KeyLookup::UnknownKid);
    }
    let signed = &token[..header_payload_len(token)];
    let mut verified = false;
    for key in candidates {
        if verify_signature(&header.alg, key, signed.as_bytes(), &signature)? {
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(invalid("the ID token's signature is invalid").into());
    }
    let claims: Claims = serde_json::from_slice(&b64(payload, "JWT payload")?)
        .map_err(|_| invalid("the ID token's claims are not a JSON object"))?;
    check_claims(&claims, expect)?;
    Ok(claims)
}

/// Length of `header.payload`, the signed part of a compact JWT.
fn header_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn check_claims(claims: &Claims, expect: &Expected<'_>) -> Result<(), OidcError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(invalid("the ID token comes from another issuer"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expect.client_id) {
        return Err(invalid("the ID token is meant for another client"));
    }
    // Core §3.1.3.7 (4, 5): with several audiences the authorized party must be us.
    let azp = claims.get("azp").and_then(Value::as_str);
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(expect.client_id) {
        return Err(invalid("the ID token was issued to another party"));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = time("exp").ok_or_else(|| invalid("the ID token has no expiry"))?;
    if exp + LEEWAY_SECS <= expect.now {
        return Err(invalid("the ID token has expired"));
    }
    let iat = time("iat").ok_or_else(|| invalid("the ID token has no issue time"))?;
    if iat - LEEWAY_SECS > expect.now {
        return Err(invalid("the ID token is issued in the future"));
    }
    if time("nbf").is_some_and(|nbf| nbf - LEEWAY_SECS > expect.now) {
        return Err(invalid("the ID token is not valid yet"));
    }
    // The nonce ties the token to this browser's login; without it a token from another
    // login could be replayed here.
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !akta_crypto::secrets_match(nonce.as_bytes(), expect.nonce.as_bytes()) {
        return Err(invalid("the ID token's nonce does not match this login"));
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(()),
        _ => Err(invalid("the ID token has no valid subject")),
    }
}

fn verify_signature(
    alg: &str,
    key: &Jwk,
    signed: &[u8],
    signature: &[u8],
) -> Result<bool, OidcError> {
    let key_err = |e: openssl::error::ErrorStack| invalid(format!("unusable provider key: {e}"));
    let field = |v: &Option<String>, name: &str| {
        v.as_deref()
            .ok_or_else(|| invalid(format!("provider key lacks {name}")))
            .and_then(|s| b64(s, name))
    };
    let (pkey, der_signature): (PKey<Public>, Vec<u8>) = match alg {
        "RS256" => {
            let n = BigNum::from_slice(&field(&key.n, "n")?).map_err(key_err)?;
            let e = BigNum::from_slice(&field(&key.e, "e")?).map_err(key_err)?;
            let rsa = Rsa::from_public_components(n, e).map_err(key_err)?;
            if rsa.size() < 256 {
                return Err(invalid("the provider's RSA key is shorter than 2048 bits"));
            }
            (PKey::from_rsa(rsa).map_err(key_err)?, signature.to_vec())
        }
        "ES256" => {
            if key.crv.as_deref() != Some("P-256") {
                return Ok(false);
            }
            let x = field(&key.x, "x")?;
            let y = field(&key.y, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(invalid("the provider's P-256 key has wrong coordinates"));
            }
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(key_err)?;
            let x = BigNum::from_slice(&x).map_err(key_err)?;
            let y = BigNum::from_slice(&y).map_err(key_err)?;
            let ec = EcKey::from_public_key_affine_coordinates(&group, &x, &y).map_err(key_err)?;
            ec.check_key().map_err(key_err)?;
            // JWS carries ES256 signatures as r || s (32 bytes each); OpenSSL wants DER.
            if signature.len() != 64 {
                return Ok(false);
            }
            let r = BigNum::from_slice(&signature[..32]).map_err(key_err)?;
            let s = BigNum::from_slice(&signature[32..]).map_err(key_err)?;
            let der = EcdsaSig::from_private_components(r, s)
                .and_then(|sig| sig.to_der())
                .map_err(key_err)?;
            (PKey::from_ec_key(ec).map_err(key_err)?, der)
        }
        _ => return Ok(false),
    };
    let mut verifier = Verifier::new(MessageDigest::sha256(), &pkey).map_err(key_err)?;
    verifier.update(signed).map_err(key_err)?;
    // A malformed signature is an error inside OpenSSL; for us it is simply not valid.
    Ok(verifier.verify(&der_signature).unwrap_or(false))
}

/// The Akta identity a set of claims stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Candidates for the username, best first: `preferred_username`, `email`, `sub`. Which
    /// of them is a valid username is the user model's rule, not the protocol's.
    pub usernames: Vec<String>,
    /// `name`, else the first username candidate.
    pub display_name: String,
    /// `None`: the claims map to no role and there is no default, so the login is refused.
    pub role: Option<Role>,
}

/// Longest username and display name taken from claims.
const NAME_MAX: usize = 200;

/// Reads the identity from validated claims.
pub fn identity(claims: &Claims, cfg: &OidcConfig) -> Result<Identity, OidcError> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().count() <= NAME_MAX)
            .filter(|s| !s.chars().any(char::is_control))
    };
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no subject"))?
        .to_owned();
    let usernames: Vec<String> = ["preferred_username", "email", "sub"]
        .into_iter()
        .filter_map(text)
        .map(str::to_owned)
        .collect();
    let display_name = text("name")
        .map(str::to_owned)
        .or_else(|| usernames.first().cloned())
        .ok_or_else(|| invalid("no usable name claim"))?;
    let role = map_role(
        claims,
        cfg.role_claim.as_deref(),
        &cfg.role_mapping,
        cfg.default_role.as_deref(),
    );
    Ok(Identity {
        subject,
        usernames,
        display_name,
        role,
    })
}

/// Maps the role claim to a role. The claim may be a string or a list of strings (group
/// lists); `role_claim` may be a dotted path into nested objects (`realm_access.roles`).
/// Of several mapped roles the most powerful wins: admin, clerk, archivist, reader. A claim
/// that maps to nothing gives `default_role`, which may be none (login refused).
pub fn map_role(
    claims: &Claims,
    role_claim: Option<&str>,
    mapping: &Value,
    default_role: Option<&str>,
) -> Option<Role> {
    let default = default_role.and_then(|r| Role::parse(r).ok());
    let Some(path) = role_claim else {
        return default;
    };
    let mut segments = path.split('.').peekable();
    let mut scope = claims;
    let value = loop {
        let Some(segment) = segments.next() else {
            break None;
        };
        let found = scope.get(segment);
        if segments.peek().is_none() {
            break found;
        }
        match found {
            Some(Value::Object(inner)) => scope = inner,
            _ => break None,
        }
    };
    let values: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let rank = |role: &Role| match role {
        Role::Admin => 3,
        Role::Clerk => 2,
        Role::Archivist => 1,
        Role::Reader => 0,
    };
    values
        .into_iter()
        .filter_map(|v| mapping.get(v).and_then(Value::as_str))
        .filter_map(|r| Role::parse(r).ok())
        .max_by_key(rank)
        .or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::EcKey;
    use openssl::pkey::Private;
    use openssl::sign::Signer;
    use serde_json::json;

    const ISSUER: &str = "https://idp.example";
    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: "akta",
            nonce: "n-0S6_WzA2Mj",
            now: NOW,
        }
    }

    fn good_claims() -> Value {
        json!({"iss": ISSUER, "aud": "akta", "sub": "248289761001", "nonce": "n-0S6_WzA2Mj",
               "exp": NOW + 300, "iat": NOW - 5, "name": "Jane Doe"})
    }

    struct TestKey {
        alg: &'static str,
        private: PKey<Private>,
        jwk: Jwk,
    }

    fn rsa_key(kid: &str) -> TestKey {
        let rsa = Rsa::generate(2048).expect("rsa");
        let jwk = Jwk {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            alg: Some("RS256".into()),
            use_: Some("sig".into()),
            n: Some(URL_SAFE_NO_PAD.encode(rsa.n().to_vec())),
            e: Some(URL_SAFE_NO_PAD.encode(rsa.e().to_vec())),
            crv: None,
            x: None,
            y: None,
        };
        TestKey {
            alg: "RS256",
            private: PKey::from_rsa(rsa).expect("pkey"),
            jwk,
        }
    }

    fn ec_key(kid: &str) -> TestKey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
        let ec = EcKey::generate(&group).expect("ec");
        let mut ctx = openssl::bn::BigNumContext::new().expect("ctx");
        let mut x = BigNum::new().expect("x");
        let mut y = BigNum::new().expect("y");
        ec.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .expect("coordinates");
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some(kid.into()),
            alg: None,
            use_: None,
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(x.to_vec_padded(32).expect("x32"))),
            y: Some(URL_SAFE_NO_PAD.encode(y.to_vec_padded(32).expect("y32"))),
        };
        TestKey {
            alg: "ES256",
            private: PKey::from_ec_key(ec).expect("pkey"),
            jwk,
        }
    }

    fn sign(key: &TestKey, header: Value, claims: &Value) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), &key.private).expect("signer");
        signer.update(signed.as_bytes()).expect("update");
        let der = signer.sign_to_vec().expect("sign");
        let signature = if key.alg == "ES256" {
            let sig = EcdsaSig::from_der(&der).expect("der");
            let mut raw = sig.r().to_vec_padded(32).expect("r");
            raw.extend(sig.s().to_vec_padded(32).expect("s"));
            raw
        } else {
            der
        };
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn token(key: &TestKey, claims: &Value) -> String {
        sign(key, json!({"alg": key.alg, "kid": key.jwk.kid}), claims)
    }

    #[test]
    fn accepts_rs256_and_es256_tokens_signed_by_a_known_key() {
        for key in [rsa_key("r1"), ec_key("e1")] {
            let claims = validate_id_token(
                &token(&key, &good_claims()),
                std::slice::from_ref(&key.jwk),
                &expect(),
            )
            .unwrap_or_else(|e| panic!("{} refused: {e:?}", key.alg));
            assert_eq!(claims["sub"], "248289761001");
        }
    }

    #[test]
    fn refuses_a_token_signed_by_another_key_with_the_same_kid() {
        for (signer, published) in [(rsa_key("k"), rsa_key("k")), (ec_key("k"), ec_key("k"))] {
            let result =
                validate_id_token(&token(&signer, &good_claims()), &[published.jwk], &expect());
            assert!(
                matches!(result, Err(KeyLookup::Failed(OidcError::Invalid(_)))),
                "{result:?}"
            );
        }
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let key = rsa_key("r1");
        let good = token(&key, &good_claims());
        let mut forged_claims = good_claims();
        forged_claims["sub"] = json!("admin");
        let forged = token(&key, &forged_claims);
        // The forged payload with the genuine signature.
        let parts: Vec<&str> = good.split('.').collect();
        let forged_parts: Vec<&str> = forged.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], forged_parts[1], parts[2]);
        assert!(validate_id_token(&spliced, &[key.jwk], &expect()).is_err());
    }

    #[test]
    fn an_unknown_kid_asks_for_a_fresh_key_set() {
        let key = rsa_key("new");
        let published = rsa_key("old");
        let result = validate_id_token(&token(&key, &good_claims()), &[published.jwk], &expect());
        assert!(matches!(result, Err(KeyLookup::UnknownKid)));
    }

    #[test]
    fn refuses_unsigned_and_symmetric_tokens() {
        let key = rsa_key("r1");
        let payload = URL_SAFE_NO_PAD.encode(good_claims().to_string());
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string());
            let result = validate_id_token(
                &format!("{header}.{payload}."),
                std::slice::from_ref(&key.jwk),
                &expect(),
            );
            assert!(
                matches!(result, Err(KeyLookup::Failed(OidcError::Invalid(_)))),
                "{alg}"
            );
        }
        // An RS256 header on an EC key set finds no key of that type.
        let ec = ec_key("e1");
        let result = validate_id_token(&token(&key, &good_claims()), &[ec.jwk], &expect());
        assert!(result.is_err());
    }

    #[test]
    fn checks_issuer_audience_times_and_nonce() {
        let key = ec_key("e1");
        let cases = [
            ("iss", json!("https://evil.example")),
            ("aud", json!("someone-else")),
            ("aud", json!(["akta", "other"])),
            ("exp", json!(NOW - LEEWAY_SECS - 1)),
            ("iat", json!(NOW + LEEWAY_SECS + 10)),
            ("nbf", json!(NOW + LEEWAY_SECS + 10)),
            ("nonce", json!("another-login")),
            ("sub", json!("")),
        ];
        for (claim, value) in cases {
            let mut claims = good_claims();
            claims[claim] = value.clone();
            let result = validate_id_token(
                &token(&key, &claims),
                std::slice::from_ref(&key.jwk),
                &expect(),
            );
            assert!(result.is_err(), "{claim} = {value} was accepted");
        }
        for missing in ["exp", "iat", "nonce", "sub"] {
            let mut claims = good_claims();
            claims.as_object_mut().expect("object").remove(missing);
            let result = validate_id_token(
                &token(&key, &claims),
                std::slice::from_ref(&key.jwk),
                &expect(),
            );
            assert!(result.is_err(), "token without {missing} was accepted");
        }
        // Within the leeway, and several audiences with us as the authorized party.
        let mut claims = good_claims();
        claims["exp"] = json!(NOW - 30);
        claims["aud"] = json!(["akta", "other"]);
        claims["azp"] = json!("akta");
        validate_id_token(
            &token(&key, &claims),
            std::slice::from_ref(&key.jwk),
            &expect(),
        )
        .expect("valid");
    }

    #[test]
    fn maps_string_list_and_nested_role_claims() {
        let mapping = json!({"Sachbearbeitung": "clerk", "IT": "admin", "Archiv": "archivist"});
        let claims = |v: Value| v.as_object().cloned().expect("object");
        let c = claims(json!({"role": "Sachbearbeitung"}));
        assert_eq!(
            map_role(&c, Some("role"), &mapping, None),
            Some(Role::Clerk)
        );
        let c = claims(json!({"groups": ["Archiv", "IT", "Kantine"]}));
        assert_eq!(
            map_role(&c, Some("groups"), &mapping, None),
            Some(Role::Admin)
        );
        let c = claims(json!({"realm_access": {"roles": ["Archiv"]}}));
        assert_eq!(
            map_role(&c, Some("realm_access.roles"), &mapping, None),
            Some(Role::Archivist)
        );
        let c = claims(json!({"role": "Kantine"}));
        assert_eq!(map_role(&c, Some("role"), &mapping, None), None);
        assert_eq!(
            map_role(&c, Some("role"), &mapping, Some("reader")),
            Some(Role::Reader)
        );
        assert_eq!(
            map_role(&c, None, &mapping, Some("clerk")),
            Some(Role::Clerk)
        );
        assert_eq!(map_role(&c, Some("missing.path"), &mapping, None), None);
    }

    #[test]
    fn pkce_challenge_matches_rfc_7636_example() {
        // RFC 7636, Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let token = random_token().expect("random");
        assert_eq!(token.len(), 43);
    }
}

/// Resolves host names like the system does, but only to public addresses.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> =
                all.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves to no public address; private networks are not reachable"
                )
                .into();
                return Err(refused);
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether an address lies on the public internet (not loopback, private, link-local,
/// shared, multicast, documentation or unspecified ranges).
fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in ["8.8.8.8", "193.99.144.80", "2a00:1450:4001::1"] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn provider_urls_on_private_addresses_are_refused() {
        let strict = Oidc::new(false);
        assert!(strict.check_url("https://10.0.0.5/realms/x").is_err());
        assert!(strict.check_url("https://[::1]/").is_err());
        assert!(strict
            .check_url("https://login.example.org/realms/x")
            .is_ok());
        assert!(Oidc::new(true).check_url("http://127.0.0.1:8080/").is_ok());
    }
}
