//! The classifier against an independent table of networks (written with `ipnet`, not octet
//! matches): every address inside a listed network is refused with its range, every address
//! outside all of them passes, and IPv6 forms that carry an IPv4 address are judged by it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use super::{BlockedRange, BlockedRange::*, blocked_range, blocked_v4};

/// Most specific first: the first network that holds an address gives its range.
const V4: &[(&str, BlockedRange)] = &[
    ("255.255.255.255/32", Broadcast),
    ("0.0.0.0/8", Unspecified),
    ("10.0.0.0/8", Private),
    ("172.16.0.0/12", Private),
    ("192.168.0.0/16", Private),
    ("100.64.0.0/10", SharedCgnat),
    ("127.0.0.0/8", Loopback),
    ("169.254.0.0/16", LinkLocal),
    ("192.0.2.0/24", Documentation),
    ("198.51.100.0/24", Documentation),
    ("203.0.113.0/24", Documentation),
    ("192.0.0.0/24", Reserved),
    ("192.88.99.0/24", Reserved),
    ("198.18.0.0/15", Reserved),
    ("224.0.0.0/4", Multicast),
    ("240.0.0.0/4", Reserved),
];

const V6: &[(&str, BlockedRange)] = &[
    ("::/128", Unspecified),
    ("::1/128", Loopback),
    ("fc00::/7", UniqueLocal),
    ("fe80::/10", LinkLocal),
    ("fec0::/10", Reserved),
    ("ff00::/8", Multicast),
    ("100::/64", Reserved),
    ("2001:db8::/32", Documentation),
    ("2001::/32", Reserved),
    ("3fff::/20", Documentation),
    ("64:ff9b:1::/48", Reserved),
];

fn table_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    V4.iter().find(|(net, _)| net.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&ip))).map(|(_, r)| *r)
}

fn table_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    V6.iter().find(|(net, _)| net.parse::<Ipv6Net>().is_ok_and(|n| n.contains(&ip))).map(|(_, r)| *r)
}

/// An address inside `net`: its network address plus `offset` within the host bits.
fn inside(net: IpNet, offset: u128) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let host_bits = 32 - u32::from(n.prefix_len());
            let mask = if host_bits == 0 { 0 } else { (1u128 << host_bits) - 1 };
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | (offset & mask) as u32))
        }
        IpNet::V6(n) => {
            let host_bits = 128 - u32::from(n.prefix_len());
            let mask = if host_bits == 0 { 0 } else if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | (offset & mask)))
        }
    }
}

fn mapped(v4: Ipv4Addr) -> Ipv6Addr {
    v4.to_ipv6_mapped()
}

#[test]
fn named_addresses() {
    let cases: &[(&str, Option<BlockedRange>)] = &[
        ("127.0.0.1", Some(Loopback)),
        ("169.254.169.254", Some(LinkLocal)),
        ("10.1.2.3", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("172.32.0.1", None),
        ("100.64.0.1", Some(SharedCgnat)),
        ("100.128.0.1", None),
        ("0.0.0.0", Some(Unspecified)),
        ("255.255.255.255", Some(Broadcast)),
        ("224.0.0.251", Some(Multicast)),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("::", Some(Unspecified)),
        ("::1", Some(Loopback)),
        ("fd00::1", Some(UniqueLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("ff02::1", Some(Multicast)),
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("::ffff:169.254.169.254", Some(LinkLocal)),
        ("::ffff:8.8.8.8", None),
        ("::127.0.0.1", Some(Loopback)),
        ("::8.8.8.8", Some(Reserved)),
        ("64:ff9b::10.0.0.1", Some(Private)),
        ("64:ff9b::8.8.8.8", None),
        ("2002:7f00:1::", Some(Loopback)),
        ("2002:808:808::", None),
        ("2001:db8::1", Some(Documentation)),
        ("3fff:fff::1", Some(Documentation)),
        ("3fff:1000::1", None),
        ("3ff0::", None),
        ("2606:4700:4700::1111", None),
    ];
    for (text, expected) in cases {
        let ip: IpAddr = text.parse().expect("address");
        assert_eq!(blocked_range(ip), *expected, "{text}");
    }
}

proptest! {
    #[test]
    fn every_ipv4_address_matches_the_table(bits in any::<u32>()) {
        let ip = Ipv4Addr::from(bits);
        prop_assert_eq!(blocked_v4(ip), table_v4(ip), "{}", ip);
    }

    #[test]
    fn addresses_inside_each_listed_network_are_refused(pick in any::<prop::sample::Index>(), offset in any::<u128>()) {
        let all: Vec<(IpNet, BlockedRange)> = V4.iter().chain(V6).map(|(net, range)| (net.parse().expect("net"), *range)).collect();
        let (net, _) = all[pick.index(all.len())];
        let ip = inside(net, offset);
        let expected = match ip {
            IpAddr::V4(v4) => table_v4(v4),
            IpAddr::V6(v6) => table_v6(v6),
        };
        prop_assert!(expected.is_some());
        prop_assert_eq!(blocked_range(ip), expected, "{} in {}", ip, net);
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_it(bits in any::<u32>()) {
        let v4 = Ipv4Addr::from(bits);
        prop_assert_eq!(blocked_range(IpAddr::V6(mapped(v4))), blocked_v4(v4));
        let [a, b, c, d] = v4.octets();
        let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        prop_assert_eq!(blocked_range(IpAddr::V6(nat64)), blocked_v4(v4));
        let six_to_four = Ipv6Addr::new(0x2002, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1);
        prop_assert_eq!(blocked_range(IpAddr::V6(six_to_four)), blocked_v4(v4));
        let compatible = Ipv6Addr::new(0, 0, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        prop_assert!(blocked_range(IpAddr::V6(compatible)).is_some(), "{}", compatible);
    }

    #[test]
    fn global_unicast_ipv6_outside_the_table_passes(bits in any::<u128>()) {
        // 2000::/3 with the special networks above excluded by the table itself.
        let ip = Ipv6Addr::from((bits & (u128::MAX >> 3)) | (1u128 << 125));
        let special = table_v6(ip).is_some() || matches!(ip.segments(), [0x2002, ..] | [0x64, 0xff9b, ..]);
        prop_assume!(!special);
        prop_assert_eq!(blocked_range(IpAddr::V6(ip)), None, "{}", ip);
    }
}
