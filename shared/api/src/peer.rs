//! Who is on the other end: the client address and whether it used HTTPS. Forwarded headers
//! (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only from configured proxies; from
//! anyone else they would let a client choose its own address.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

use crate::tls::ConnectPeer;
use crate::AppState;

/// A trusted proxy: one address or a CIDR block like `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    pub fn parse(s: &str) -> Result<ProxyNet, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an IP address: {s}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or(format!("bad prefix in {s}"))?,
            None => max,
        };
        Ok(ProxyNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> u128 {
            match ip {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        // Both families sit in the top bits of the 128-bit value, so the prefix counts from
        // the top either way.
        let mask = match self.prefix {
            0 => 0,
            p => u128::MAX << (128 - u32::from(p)),
        };
        bits(self.addr) & mask == bits(ip) & mask
    }
}

/// The client as Akta understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub https: bool,
}

/// Walks `X-Forwarded-For` from the right while the hops are trusted proxies; the first
/// untrusted hop is the client.
pub fn resolve(
    peer: Option<IpAddr>,
    tls: bool,
    headers: &HeaderMap,
    trusted: &[ProxyNet],
) -> ClientInfo {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let Some(peer_ip) = peer.filter(|p| is_trusted(*p)) else {
        return ClientInfo {
            ip: peer,
            https: tls,
        };
    };
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    let ip = hops
        .iter()
        .rev()
        .copied()
        .find(|ip| !is_trusted(*ip))
        .or(hops.first().copied())
        .unwrap_or(peer_ip);
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().eq_ignore_ascii_case("https"))
        .unwrap_or(tls);
    ClientInfo {
        ip: Some(ip),
        https,
    }
}

pub async fn client_info(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let tls_peer = req.extensions().get::<ConnectPeer>().map(|p| p.0);
    let plain_peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let peer = tls_peer.or(plain_peer).map(|a| a.ip());
    let info = resolve(
        peer,
        tls_peer.is_some(),
        req.headers(),
        &state.settings.trusted_proxies,
    );
    if let Some(ip) = info.ip {
        tracing::Span::current().record("client", tracing::field::display(ip));
    }
    req.extensions_mut().insert(info);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn cidr_blocks_match_their_addresses_only() {
        let net = ProxyNet::parse("10.1.0.0/16").expect("net");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("10.2.0.1".parse().expect("ip")));
        assert!(!net.contains("::1".parse().expect("ip")));
        assert!(ProxyNet::parse("127.0.0.1")
            .expect("one")
            .contains("127.0.0.1".parse().expect("ip")));
        assert!(ProxyNet::parse("fd00::/8")
            .expect("v6")
            .contains("fd12::1".parse().expect("ip")));
        assert!(ProxyNet::parse("10.0.0.0/33").is_err());
        assert!(ProxyNet::parse("proxy").is_err());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = [ProxyNet::parse("10.0.0.0/8").expect("net")];
        let forwarded = headers(&[
            ("x-forwarded-for", "203.0.113.9, 10.0.0.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let via_proxy = resolve(
            Some("10.0.0.2".parse().expect("ip")),
            false,
            &forwarded,
            &trusted,
        );
        assert_eq!(via_proxy.ip, Some("203.0.113.9".parse().expect("ip")));
        assert!(via_proxy.https);
        // A client that sends the headers itself gets nothing for it.
        let spoofed = resolve(
            Some("198.51.100.4".parse().expect("ip")),
            false,
            &forwarded,
            &trusted,
        );
        assert_eq!(spoofed.ip, Some("198.51.100.4".parse().expect("ip")));
        assert!(!spoofed.https);
        // No proxies configured: headers are ignored altogether.
        let none = resolve(Some("10.0.0.2".parse().expect("ip")), true, &forwarded, &[]);
        assert_eq!(
            none,
            ClientInfo {
                ip: Some("10.0.0.2".parse().expect("ip")),
                https: true
            }
        );
    }
}
