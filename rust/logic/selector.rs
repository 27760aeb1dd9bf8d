//! Traffic selectors (RFC 4301 §4.4.1) and the packet flows they match.

use crate::logic::addr::IpAddr;

/// `proto` value meaning any upper-layer protocol (`IPSEC_ULPROTO_ANY`).
pub const PROTO_ANY: u8 = 255;
/// ICMP's protocol number.
pub const PROTO_ICMP: u8 = 1;
/// ICMPv6's protocol number.
pub const PROTO_ICMPV6: u8 = 58;

/// What a policy applies to: two prefixes, an upper-layer protocol and
/// ports. A port of 0 is a wildcard. For ICMP/ICMPv6, `sport` holds the
/// type and `dport` the code, as Linux's af_key stores them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Selector {
    /// Source address (bits past `src_plen` are ignored when matching).
    pub src: IpAddr,
    /// Source prefix length.
    pub src_plen: u8,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination prefix length.
    pub dst_plen: u8,
    /// Upper-layer protocol, [`PROTO_ANY`] for all.
    pub proto: u8,
    /// Source port or ICMP type; 0 for any.
    pub sport: u16,
    /// Destination port or ICMP code; 0 for any.
    pub dport: u16,
}

/// A concrete packet's identity as the SPD looks it up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol.
    pub proto: u8,
    /// Source port, or ICMP type; 0 when the protocol has none.
    pub sport: u16,
    /// Destination port, or ICMP code; 0 when the protocol has none.
    pub dport: u16,
}

/// Why a selector is malformed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SelectorError {
    /// Source and destination are of different address families.
    FamilyMismatch,
    /// A prefix length exceeds the address width.
    PrefixTooLong,
}

impl FlowKey {
    /// A flow with ports (TCP, UDP, SCTP, ...) or none (0, 0).
    pub fn new(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> Self {
        FlowKey {
            src,
            dst,
            proto,
            sport,
            dport,
        }
    }

    /// An ICMP/ICMPv6 flow (the protocol follows the address family).
    pub fn icmp(src: IpAddr, dst: IpAddr, icmp_type: u8, code: u8) -> Self {
        let proto = match src {
            IpAddr::V4(_) => PROTO_ICMP,
            IpAddr::V6(_) => PROTO_ICMPV6,
        };
        FlowKey::new(src, dst, proto, u16::from(icmp_type), u16::from(code))
    }
}

impl Selector {
    /// Selector of everything between two hosts (full prefixes, any protocol).
    pub fn hosts(src: IpAddr, dst: IpAddr) -> Self {
        Selector {
            src,
            src_plen: src.max_prefix(),
            dst,
            dst_plen: dst.max_prefix(),
            proto: PROTO_ANY,
            sport: 0,
            dport: 0,
        }
    }

    /// Checks that the families agree and the prefixes fit.
    pub fn validate(&self) -> Result<(), SelectorError> {
        if self.src.family() != self.dst.family() {
            return Err(SelectorError::FamilyMismatch);
        }
        if self.src_plen > self.src.max_prefix() || self.dst_plen > self.dst.max_prefix() {
            return Err(SelectorError::PrefixTooLong);
        }
        Ok(())
    }

    /// The address family (`AF_INET`/`AF_INET6`) of the selector.
    pub fn family(&self) -> u16 {
        self.src.family()
    }

    /// Whether the protocol is a wildcard.
    pub fn proto_any(&self) -> bool {
        self.proto == PROTO_ANY
    }

    /// Whether `flow` falls under this selector.
    pub fn matches(&self, flow: &FlowKey) -> bool {
        flow.src.in_prefix(&self.src, self.src_plen)
            && flow.dst.in_prefix(&self.dst, self.dst_plen)
            && (self.proto_any() || self.proto == flow.proto)
            && (self.sport == 0 || self.sport == flow.sport)
            && (self.dport == 0 || self.dport == flow.dport)
    }

    /// How narrow the selector is; larger is more specific. Prefix bits
    /// dominate (longest match first), then each pinned protocol/port field
    /// counts one. Only meaningful between selectors of one family.
    pub fn specificity(&self) -> u32 {
        let pinned =
            u32::from(!self.proto_any()) + u32::from(self.sport != 0) + u32::from(self.dport != 0);
        (u32::from(self.src_plen) + u32::from(self.dst_plen)) * 4 + pinned
    }

    /// The selector with its addresses masked to their prefixes: two
    /// selectors with equal canonical forms match exactly the same flows.
    pub fn canonical(&self) -> Selector {
        Selector {
            src: self.src.masked(self.src_plen),
            dst: self.dst.masked(self.dst_plen),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4([10, 0, 0, 1]);
    const B: IpAddr = IpAddr::V4([10, 0, 1, 2]);

    fn sel(src: IpAddr, sp: u8, dst: IpAddr, dp: u8, proto: u8, s: u16, d: u16) -> Selector {
        Selector {
            src,
            src_plen: sp,
            dst,
            dst_plen: dp,
            proto,
            sport: s,
            dport: d,
        }
    }

    #[test]
    fn validation() {
        assert_eq!(Selector::hosts(A, B).validate(), Ok(()));
        let mixed = sel(A, 32, IpAddr::UNSPEC_V6, 0, PROTO_ANY, 0, 0);
        assert_eq!(mixed.validate(), Err(SelectorError::FamilyMismatch));
        let long = sel(A, 33, B, 32, PROTO_ANY, 0, 0);
        assert_eq!(long.validate(), Err(SelectorError::PrefixTooLong));
        let v6 = sel(IpAddr::UNSPEC_V6, 128, IpAddr::UNSPEC_V6, 129, 6, 0, 0);
        assert_eq!(v6.validate(), Err(SelectorError::PrefixTooLong));
        assert_eq!(sel(A, 0, B, 0, 6, 1, 1).validate(), Ok(()));
    }

    #[test]
    fn matching() {
        let s = sel(IpAddr::V4([10, 0, 0, 0]), 16, B, 32, 6, 0, 80);
        assert!(s.matches(&FlowKey::new(A, B, 6, 1234, 80)));
        assert!(!s.matches(&FlowKey::new(A, B, 6, 1234, 81)));
        assert!(!s.matches(&FlowKey::new(A, B, 17, 1234, 80)));
        assert!(!s.matches(&FlowKey::new(IpAddr::V4([10, 1, 0, 1]), B, 6, 1, 80)));
        assert!(!s.matches(&FlowKey::new(B, A, 6, 1, 80)));
        let any = sel(IpAddr::UNSPEC_V4, 0, IpAddr::UNSPEC_V4, 0, PROTO_ANY, 0, 0);
        assert!(any.matches(&FlowKey::new(A, B, 50, 0, 0)));
        assert!(!any.matches(&FlowKey::new(IpAddr::UNSPEC_V6, IpAddr::UNSPEC_V6, 6, 0, 0)));
        // ICMP echo request (type 8, code 0): code 0 in a selector is "any".
        let echo = sel(A, 32, B, 32, PROTO_ICMP, 8, 0);
        assert!(echo.matches(&FlowKey::icmp(A, B, 8, 0)));
        assert!(!echo.matches(&FlowKey::icmp(A, B, 0, 0)));
        assert_eq!(
            FlowKey::icmp(IpAddr::UNSPEC_V6, IpAddr::UNSPEC_V6, 128, 0).proto,
            58
        );
    }

    #[test]
    fn specificity_orders_prefix_then_fields() {
        let host = Selector::hosts(A, B);
        let net_tcp80 = sel(A, 24, B, 32, 6, 0, 80);
        assert!(host.specificity() > net_tcp80.specificity());
        let host_tcp = Selector { proto: 6, ..host };
        assert!(host_tcp.specificity() > host.specificity());
        let host_tcp80 = Selector {
            dport: 80,
            ..host_tcp
        };
        assert!(host_tcp80.specificity() > host_tcp.specificity());
        assert_eq!(
            sel(A, 24, B, 16, PROTO_ANY, 0, 0).canonical(),
            sel(
                IpAddr::V4([10, 0, 0, 0]),
                24,
                IpAddr::V4([10, 0, 0, 0]),
                16,
                PROTO_ANY,
                0,
                0
            )
        );
    }
}
