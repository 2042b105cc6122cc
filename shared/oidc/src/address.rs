//! Which URLs Akta contacts for a provider: HTTPS only and, unless plain HTTP is allowed for
//! tests, never an address inside the operator's network.
//!
//! Tenant admins choose the provider URL; it must not become a way to reach services behind
//! the firewall (SSRF). IP literals are checked in the URL, host names on every address they
//! resolve to, which are also the ones connected to (no DNS rebinding in between).

use std::net::{IpAddr, SocketAddr};

/// Checks that a URL is absolute, HTTPS (unless `allow_http`), names a host and has no
/// fragment; with `allow_http` off, an IP literal must be public.
pub(crate) fn check_url(url: &str, allow_http: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err("must be an https:// URL".into()),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !allow_http {
        // Literals are connected to directly, without the resolver below.
        let literal = parsed
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err("must not point to a private, loopback or link-local address".into());
        }
    }
    if parsed.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    Ok(parsed)
}

/// Resolves host names like the system does, but only to public addresses.
pub(crate) struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
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
fn is_public(ip: IpAddr) -> bool {
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
mod tests {
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
        assert!(check_url("https://10.0.0.5/realms/x", false).is_err());
        assert!(check_url("https://[::1]/", false).is_err());
        assert!(check_url("https://login.example.org/realms/x", false).is_ok());
        assert!(check_url("http://login.example.org/", false).is_err());
        assert!(check_url("https://login.example.org/#x", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
    }
}
