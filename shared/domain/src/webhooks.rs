//! Webhooks: the public event types Fachverfahren may subscribe to (and which domain events
//! they come from), and the one rule for where deliveries may go: http(s) only, and never to
//! a private, loopback, link-local, unique-local or unspecified address unless the operator
//! allows it. The rule holds for the literal host and for every address a name resolves to,
//! at registration and again at delivery (a name may be re-pointed meanwhile).

use std::net::IpAddr;

use crate::DomainError;

/// What a subscriber may ask for, besides `*` (everything).
pub const EVENT_TYPES: &[&str] = &[
    "document.created",
    "document.updated",
    "version.created",
    "extraction.done",
    "file.created",
    "file.updated",
    "file.closed",
    "file.reopened",
    "file.hold_set",
    "file.hold_lifted",
    "file.retention_set",
    "file.destroyed",
    "file.access_granted",
    "file.access_revoked",
    "case.created",
    "case.updated",
    "case.closed",
    "case.reopened",
    "inbox.received",
    "inbox.filed",
    "inbox.forwarded",
    "routing.started",
    "routing.signed",
    "routing.returned",
    "transfer.created",
    "transfer.incoming",
    "transfer.accepted",
    "transfer.state",
    "webhook.test",
];

/// Subscribes to every event type.
pub const ALL_EVENTS: &str = "*";

/// The public name of a domain event (`TenantTx::record`'s kinds), or `None` for events that
/// are no business of a Fachverfahren (reads, people, tokens, keys, settings).
pub fn public_event(kind: &str) -> Option<&'static str> {
    let public = match kind {
        "document.version_added" => "version.created",
        "document.text_extracted" => "extraction.done",
        "webhook.test" => return None,
        other => other,
    };
    EVENT_TYPES.iter().copied().find(|t| *t == public)
}

/// The subscribed event types, checked against [`EVENT_TYPES`]; duplicates dropped.
pub fn parse_events(events: &[String]) -> Result<Vec<String>, DomainError> {
    if events.is_empty() {
        return Err(DomainError::new(
            "events",
            "name at least one event type (or \"*\" for all)",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if e != ALL_EVENTS && !EVENT_TYPES.contains(&e.as_str()) {
            return Err(DomainError::new(
                "events",
                format!(
                    "unknown event type '{}': use \"*\" or one of {}",
                    e.chars().take(80).collect::<String>(),
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// An endpoint URL that passed the syntactic half of the rule: http(s), a host, no user
/// info, and (if the host is an IP literal) an address deliveries may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: url::Url,
}

impl WebhookUrl {
    pub fn parse(text: &str, allow_private: bool) -> Result<WebhookUrl, DomainError> {
        let bad = |m: &str| DomainError::new("url", m);
        let text = text.trim();
        if text.len() > 2000 {
            return Err(bad("at most 2000 characters"));
        }
        let url = url::Url::parse(text).map_err(|e| bad(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        let parsed = WebhookUrl { url };
        match parsed.url.host() {
            None => return Err(bad("names no host")),
            Some(url::Host::Ipv4(ip)) => check_addresses(&[IpAddr::V4(ip)], allow_private)?,
            Some(url::Host::Ipv6(ip)) => check_addresses(&[IpAddr::V6(ip)], allow_private)?,
            Some(url::Host::Domain(_)) => {}
        }
        Ok(parsed)
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The host as resolvers take it (IPv6 literals without brackets).
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }
}

/// The addresses the endpoint's host name resolved to (`lookup` is the resolver's answer),
/// if deliveries may go to all of them.
pub fn checked_addresses(
    lookup: std::io::Result<impl Iterator<Item = std::net::SocketAddr>>,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, DomainError> {
    let addrs: Vec<std::net::SocketAddr> = lookup
        .map_err(|e| DomainError::new("url", format!("the host name does not resolve: {e}")))?
        .collect();
    let ips: Vec<IpAddr> = addrs.iter().map(|a| a.ip()).collect();
    check_addresses(&ips, allow_private)?;
    Ok(addrs)
}

/// Refuses the target if any of its addresses is one deliveries must not reach (a name with
/// one public and one private address could otherwise be steered inside).
pub fn check_addresses(addrs: &[IpAddr], allow_private: bool) -> Result<(), DomainError> {
    if addrs.is_empty() {
        return Err(DomainError::new("url", "the host name does not resolve"));
    }
    if allow_private {
        return Ok(());
    }
    match addrs.iter().find(|ip| is_internal(**ip)) {
        Some(ip) => Err(DomainError::new(
            "url",
            format!(
                "points at the private or local address {ip}; the operator must allow \
                 private webhook targets (webhooks_allow_private) for that"
            ),
        )),
        None => Ok(()),
    }
}

/// Private, loopback, link-local, unique-local, unspecified, shared (CGNAT), documentation,
/// benchmark, multicast and broadcast addresses: nothing a Fachverfahren on the internet has.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking (RFC 2544)
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 to IPv4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_literals_are_refused() {
        for url in [
            "http://127.0.0.1/hook",
            "http://10.1.2.3/",
            "https://192.168.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(WebhookUrl::parse(url, false).is_err(), "{url} was accepted");
            assert!(
                WebhookUrl::parse(url, true).is_ok(),
                "{url} refused when allowed"
            );
        }
    }

    #[test]
    fn only_http_and_https_without_credentials() {
        assert!(WebhookUrl::parse("ftp://example.org/", true).is_err());
        assert!(WebhookUrl::parse("file:///etc/passwd", true).is_err());
        assert!(WebhookUrl::parse("https://user:pw@example.org/", true).is_err());
        let ok = WebhookUrl::parse("https://fachverfahren.example.org/hook", false).unwrap();
        assert_eq!(ok.host(), "fachverfahren.example.org");
        assert_eq!(ok.port(), 443);
        assert!(!is_internal("93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn events_are_checked_against_the_known_types() {
        assert!(parse_events(&["document.created".into(), "*".into()]).is_ok());
        assert!(parse_events(&["document.exploded".into()]).is_err());
        assert!(parse_events(&[]).is_err());
        assert_eq!(
            public_event("document.version_added"),
            Some("version.created")
        );
        assert_eq!(public_event("file.read"), None);
    }
}
