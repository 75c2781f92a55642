//! The optional ingest IP allowlist. The client address is the socket peer,
//! unless the peer is a trusted proxy: then `X-Forwarded-For` is read from
//! the right, skipping trusted proxies, and the first untrusted hop is the
//! client. A forwarded header from an untrusted peer is ignored, so it
//! cannot be used to spoof an allowed address.

use std::net::IpAddr;

use ipnet::IpNet;

pub struct IpPolicy {
    allowed: Vec<IpNet>,
    trusted_proxies: Vec<IpNet>,
}

impl IpPolicy {
    pub fn new(allowed: Vec<IpNet>, trusted_proxies: Vec<IpNet>) -> Self {
        Self { allowed, trusted_proxies }
    }

    pub fn is_enabled(&self) -> bool {
        !self.allowed.is_empty()
    }

    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else { return peer };
        let mut client = peer;
        for hop in header.rsplit(',').map(str::trim) {
            let Some(address) = parse_hop(hop) else { break };
            client = address;
            if !self.is_trusted(address) {
                break;
            }
        }
        client
    }

    pub fn allows(&self, peer: IpAddr, forwarded_for: Option<&str>) -> bool {
        if !self.is_enabled() {
            return true;
        }
        let client = self.client_ip(peer, forwarded_for);
        self.allowed.iter().any(|net| net.contains(&client))
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&address))
    }
}

/// Accepts `1.2.3.4`, `1.2.3.4:5678`, `::1` and `[::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    None
}

/// IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(address),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|n| n.parse().ok()).collect()
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_header_is_believed_only_from_trusted_proxies() {
        let policy = IpPolicy::new(nets(&["203.0.113.0/24"]), nets(&["10.0.0.0/8"]));
        assert!(policy.allows(ip("10.0.0.5"), Some("203.0.113.9")));
        assert!(!policy.allows(ip("198.51.100.1"), Some("203.0.113.9")), "spoofed header from untrusted peer");
        assert!(policy.allows(ip("203.0.113.7"), None));
        assert!(!policy.allows(ip("10.0.0.5"), None), "the proxy itself is not allowed");
    }

    #[test]
    fn walks_proxy_chains_from_the_right() {
        let policy = IpPolicy::new(nets(&["203.0.113.0/24"]), nets(&["10.0.0.0/8", "172.16.0.0/12"]));
        assert_eq!(policy.client_ip(ip("10.0.0.5"), Some("198.51.100.1, 203.0.113.9, 172.16.0.2")), ip("203.0.113.9"));
        assert_eq!(policy.client_ip(ip("10.0.0.5"), Some("203.0.113.9:4711")), ip("203.0.113.9"));
        assert_eq!(policy.client_ip(ip("10.0.0.5"), Some("garbage")), ip("10.0.0.5"));
    }

    #[test]
    fn disabled_policy_allows_everyone_and_mapped_v4_matches() {
        assert!(IpPolicy::new(vec![], vec![]).allows(ip("198.51.100.1"), None));
        let policy = IpPolicy::new(nets(&["127.0.0.1/32"]), vec![]);
        assert!(policy.allows(ip("::ffff:127.0.0.1"), None));
    }
}
