//! Which addresses the fence refuses: a pure classifier over `IpAddr`. An address in any
//! range below is never fetched unless its `host:port` is trusted (see [`super::settings`]).
//!
//! IPv4: `0/8` (this network), `10/8`, `172.16/12`, `192.168/16` (RFC 1918), `100.64/10`
//! (CGNAT), `127/8`, `169.254/16` (link-local, cloud metadata at `169.254.169.254`), `192.0.0/24`
//! (IETF protocol assignments), `192.0.2/24`, `198.51.100/24`, `203.0.113/24` (documentation),
//! `192.88.99/24` (6to4 relay), `198.18/15` (benchmarking), `224/4` (multicast), `240/4`
//! (reserved) and `255.255.255.255` (broadcast).
//!
//! IPv6: `::`, `::1`, `fc00::/7` (unique-local), `fe80::/10` (link-local), `fec0::/10` (old
//! site-local), `ff00::/8` (multicast), `100::/64` (discard), `2001::/32` (Teredo),
//! `2001:db8::/32` and `3fff::/20` (documentation), `64:ff9b:1::/48` (local NAT64). Addresses
//! that carry an IPv4 address are judged by it: IPv4-mapped `::ffff:0:0/96`, IPv4-translated
//! `::ffff:0:0:0/96`, IPv4-compatible `::/96` (deprecated, so refused even when public), NAT64
//! `64:ff9b::/96` and 6to4 `2002::/16`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused; the name is a bounded label (`details.range` in the event trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedRange {
    Loopback,
    Private,
    SharedCgnat,
    LinkLocal,
    UniqueLocal,
    Multicast,
    Unspecified,
    Broadcast,
    Documentation,
    Reserved,
}

impl BlockedRange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedCgnat => "cgnat",
            Self::LinkLocal => "link_local",
            Self::UniqueLocal => "unique_local",
            Self::Multicast => "multicast",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Documentation => "documentation",
            Self::Reserved => "reserved",
        }
    }
}

/// The range `ip` falls in, or `None` for an address the fence lets through.
pub fn blocked_range(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

pub fn blocked_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip == Ipv4Addr::BROADCAST => Some(Broadcast),
        (0, _, _) => Some(Unspecified),
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Some(Private),
        (100, 64..=127, _) => Some(SharedCgnat),
        (127, _, _) => Some(Loopback),
        (169, 254, _) => Some(LinkLocal),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some(Documentation),
        (192, 0, 0) | (192, 88, 99) | (198, 18..=19, _) => Some(Reserved),
        (224..=239, _, _) => Some(Multicast),
        (240..=255, _, _) => Some(Reserved),
        _ => None,
    }
}

pub fn blocked_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => Some(Unspecified),
        [0, 0, 0, 0, 0, 0, 0, 1] => Some(Loopback),
        // IPv4-mapped and IPv4-translated: the IPv4 address decides.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => blocked_v4(embedded(hi, lo)),
        // IPv4-compatible (deprecated): never a route to the public IPv4 address.
        [0, 0, 0, 0, 0, 0, hi, lo] => Some(blocked_v4(embedded(hi, lo)).unwrap_or(Reserved)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => blocked_v4(embedded(hi, lo)),
        [0x64, 0xff9b, 1, ..] => Some(Reserved),
        [0x100, 0, 0, 0, ..] => Some(Reserved),
        [0x2001, 0xdb8, ..] => Some(Documentation),
        [0x2001, 0, ..] => Some(Reserved),
        [0x2002, hi, lo, ..] => blocked_v4(embedded(hi, lo)),
        [0x3fff, second, ..] if second & 0xf000 == 0 => Some(Documentation),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some(UniqueLocal),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some(LinkLocal),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some(Reserved),
        [first, ..] if first & 0xff00 == 0xff00 => Some(Multicast),
        _ => None,
    }
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
