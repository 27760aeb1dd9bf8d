//! Upper-layer protocol names, as getprotobyname(3)/getprotobynumber(3)
//! give them on Debian, fixed here so parsing and dumps do not depend on
//! the host's /etc/protocols.

use crate::ast::ULPROTO_ANY;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_GRE: u8 = 47;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_MH: u8 = 135;

/// (number, canonical name, aliases).
const PROTOS: &[(u8, &str, &[&str])] = &[
    (0, "ip", &["IP"]),
    (1, "icmp", &["ICMP"]),
    (2, "igmp", &["IGMP"]),
    (4, "ipencap", &["IP-ENCAP", "ip4", "ipip"]),
    (6, "tcp", &["TCP"]),
    (17, "udp", &["UDP"]),
    (41, "ipv6", &["IPv6"]),
    (47, "gre", &["GRE"]),
    (50, "esp", &["IPSEC-ESP"]),
    (51, "ah", &["IPSEC-AH"]),
    (58, "ipv6-icmp", &["IPv6-ICMP", "icmp6"]),
    (89, "ospf", &["OSPFIGP"]),
    (103, "pim", &["PIM"]),
    (108, "ipcomp", &["IPCOMP"]),
    (112, "vrrp", &["VRRP"]),
    (115, "l2tp", &["L2TP"]),
    (132, "sctp", &["SCTP"]),
    (135, "mobility-header", &["Mobility-Header", "mh"]),
    (136, "udplite", &["UDPLite"]),
];

/// `any`, a number 0..=255, or a protocol name.
pub fn upper_proto(w: &str) -> Option<u8> {
    if w == "any" {
        return Some(ULPROTO_ANY);
    }
    if w.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse().ok();
    }
    PROTOS
        .iter()
        .find(|(_, n, a)| *n == w || a.contains(&w))
        .map(|p| p.0)
}

/// Name for dumps; `any` for 255, the number when unknown.
pub fn upper_name(n: u8) -> String {
    if n == ULPROTO_ANY {
        return "any".into();
    }
    PROTOS
        .iter()
        .find(|p| p.0 == n)
        .map(|p| p.1.to_string())
        .unwrap_or_else(|| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(upper_proto("any"), Some(255));
        assert_eq!(upper_proto("tcp"), Some(6));
        assert_eq!(upper_proto("icmp6"), Some(58));
        assert_eq!(upper_proto("ipv6-icmp"), Some(58));
        assert_eq!(upper_proto("132"), Some(132));
        assert_eq!(upper_proto("256"), None);
        assert_eq!(upper_proto("bogus"), None);
        assert_eq!(upper_name(58), "ipv6-icmp");
        assert_eq!(upper_name(255), "any");
        assert_eq!(upper_name(200), "200");
    }
}
