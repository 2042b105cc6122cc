//! ID token validation (OpenID Connect Core §3.1.3.7): a compact JWS signed with RS256 or
//! ES256 by one of the provider's keys (RFC 7517/7518), then its claims against the login.

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

use crate::OidcError;

/// The claims of a validated login: the ID token's, completed from the userinfo endpoint.
pub type Claims = Map<String, Value>;

/// Clock difference tolerated between Akta and the provider.
pub(crate) const LEEWAY_SECS: i64 = 60;

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
struct JwtHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
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
/// set may have it (the provider rotated its keys).
#[derive(Debug)]
pub enum KeyLookup {
    UnknownKid,
    Failed(OidcError),
}

impl KeyLookup {
    pub(crate) fn into_error(self) -> OidcError {
        match self {
            KeyLookup::UnknownKid => {
                OidcError::token("the ID token's key is not in the provider's key set")
            }
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
        .map_err(|_| OidcError::token(format!("{what} is not base64url")))
}

/// Validates a compact-serialised ID token and returns its claims.
pub fn validate_id_token(
    token: &str,
    keys: &[Jwk],
    expect: &Expected<'_>,
) -> Result<Claims, KeyLookup> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::token("the ID token is not a signed JWT").into());
    };
    let header: JwtHeader = serde_json::from_slice(&b64(header, "JWT header")?)
        .map_err(|_| OidcError::token("the JWT header is not JSON"))?;
    let signature = b64(signature, "JWT signature")?;
    // Only asymmetric algorithms: `none` and HS256 (keyed with the client secret) would let
    // anyone who knows the secret, or no one at all, mint tokens.
    let kty = match header.alg.as_str() {
        "RS256" => "RSA",
        "ES256" => "EC",
        other => {
            return Err(
                OidcError::token(format!("ID token algorithm {other} is not accepted")).into(),
            )
        }
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
    // The signed part is `header.payload`, everything before the last dot.
    let signed = &token[..token.rfind('.').unwrap_or(0)];
    let mut verified = false;
    for key in candidates {
        if verify_signature(&header.alg, key, signed.as_bytes(), &signature)? {
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(OidcError::token("the ID token's signature is invalid").into());
    }
    let claims: Claims = serde_json::from_slice(&b64(payload, "JWT payload")?)
        .map_err(|_| OidcError::token("the ID token's claims are not a JSON object"))?;
    check_claims(&claims, expect)?;
    Ok(claims)
}

fn check_claims(claims: &Claims, expect: &Expected<'_>) -> Result<(), OidcError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(OidcError::token("the ID token comes from another issuer"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expect.client_id) {
        return Err(OidcError::token("the ID token is meant for another client"));
    }
    // Core §3.1.3.7 (4, 5): with several audiences the authorized party must be us.
    let azp = claims.get("azp").and_then(Value::as_str);
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(expect.client_id) {
        return Err(OidcError::token("the ID token was issued to another party"));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = time("exp").ok_or_else(|| OidcError::token("the ID token has no expiry"))?;
    if exp + LEEWAY_SECS <= expect.now {
        return Err(OidcError::token("the ID token has expired"));
    }
    let iat = time("iat").ok_or_else(|| OidcError::token("the ID token has no issue time"))?;
    if iat - LEEWAY_SECS > expect.now {
        return Err(OidcError::token("the ID token is issued in the future"));
    }
    if time("nbf").is_some_and(|nbf| nbf - LEEWAY_SECS > expect.now) {
        return Err(OidcError::token("the ID token is not valid yet"));
    }
    // The nonce ties the token to this browser's login; without it a token from another
    // login could be replayed here.
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !akta_crypto::secrets_match(nonce.as_bytes(), expect.nonce.as_bytes()) {
        return Err(OidcError::token(
            "the ID token's nonce does not match this login",
        ));
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(()),
        _ => Err(OidcError::token("the ID token has no valid subject")),
    }
}

fn verify_signature(
    alg: &str,
    key: &Jwk,
    signed: &[u8],
    signature: &[u8],
) -> Result<bool, OidcError> {
    let key_err =
        |e: openssl::error::ErrorStack| OidcError::token(format!("unusable provider key: {e}"));
    let field = |v: &Option<String>, name: &str| {
        v.as_deref()
            .ok_or_else(|| OidcError::token(format!("provider key lacks {name}")))
            .and_then(|s| b64(s, name))
    };
    let (pkey, der_signature): (PKey<Public>, Vec<u8>) = match alg {
        "RS256" => {
            let n = BigNum::from_slice(&field(&key.n, "n")?).map_err(key_err)?;
            let e = BigNum::from_slice(&field(&key.e, "e")?).map_err(key_err)?;
            let rsa = Rsa::from_public_components(n, e).map_err(key_err)?;
            if rsa.size() < 256 {
                return Err(OidcError::token(
                    "the provider's RSA key is shorter than 2048 bits",
                ));
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
                return Err(OidcError::token(
                    "the provider's P-256 key has wrong coordinates",
                ));
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
                matches!(result, Err(KeyLookup::Failed(OidcError::InvalidToken(_)))),
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
                matches!(result, Err(KeyLookup::Failed(OidcError::InvalidToken(_)))),
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
}
