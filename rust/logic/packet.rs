//! The SPD lookup key of a packet, read from its IP header onwards: what
//! Linux's `__xfrm_decode_session` (flow dissector + `decode_session4/6`)
//! and `xfrm_flowi_sport/dport` make of it.
//!
//! Two readings. [`classify`] (and [`classify_ipv4`], [`classify_ipv6`])
//! read the real packet through [`PacketBytes`] and fail closed: a packet
//! is either classified completely, or a fragment whose ports are not
//! there (every fragment of a datagram must meet the same policy, so the
//! caller checks again after reassembly, as Linux's policy check does at
//! transport input), or [`Unclassifiable`], which the caller drops and
//! counts (`XfrmInHdrError` inbound, `XfrmOutError` outbound). Precisely,
//! a packet is unclassifiable when
//!
//! - its IP header is cut short (fewer than 20 bytes or IHL × 4 for IPv4,
//!   40 for IPv6: [`Unclassifiable::Truncated`]) or inconsistent (another
//!   version, IHL below 5, a total length below the header length:
//!   [`Unclassifiable::BadHeader`]);
//! - an IPv6 extension header in front of the upper layer (hop-by-hop,
//!   routing, destination options, fragment) runs past the datagram (40 +
//!   payload length) or the bytes there are ([`Unclassifiable::Truncated`]),
//!   or there are more than [`MAX_EXT_HEADERS`](crate::logic::ipv6ext::MAX_EXT_HEADERS) of them
//!   ([`Unclassifiable::TooManyExtHeaders`]);
//! - it is not a fragment and its upper-layer header ends, at the datagram's
//!   end or the source's, before the selector fields Linux reads: the 4
//!   port bytes of TCP, UDP, UDP-Lite, SCTP and DCCP, ICMP's and ICMPv6's
//!   type and code, the Mobility Header's type (third byte), GRE's flags
//!   and, when they announce the key rxfrm matches (version 0 with K set
//!   and R clear, or PPTP), the protocol field and the key
//!   ([`Unclassifiable::L4Truncated`]). Protocols without selector fields
//!   (ESP, AH, IPcomp, no next header, any other) need no bytes past the
//!   IP headers.
//!
//! A total length past the source's end is not an error by itself: only
//! bytes the classification needs have to be there.
//!
//! The older [`flow_of_ipv4`] and [`flow_of_ipv6`] read a prefix copy and,
//! like Linux, give ports 0 when the upper-layer header is cut short; the
//! datapath still calls them. They are the same walk with that one rule
//! relaxed. Both stop the IPv6 walk at AH (the flow dissector and the old
//! `decode_session6` do, so AH-carrying traffic meets `proto 51` policies
//! as it does over IPv4) and at the fragment header, whose next header is
//! the flow's protocol; fragments, first ones included (the dissector runs
//! without `FLOW_DISSECTOR_F_PARSE_1ST_FRAG`), carry no ports.

use crate::logic::addr::IpAddr;
use crate::logic::bytes::{PacketBytes, Prefix};
use crate::logic::ipv6ext::{
    ExtError, Ipv6Walker, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_ROUTING,
};
use crate::logic::selector::{FlowKey, PROTO_ICMP, PROTO_ICMPV6};

const IPV4_MIN_HDR: usize = 20;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_DCCP: u8 = 33;
const PROTO_GRE: u8 = 47;
const PROTO_SCTP: u8 = 132;
const PROTO_MH: u8 = 135;
const PROTO_UDPLITE: u8 = 136;

/// A packet's SPD key and where its upper-layer header starts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flow {
    /// Addresses, protocol and ports (or ICMP type/code) to look up.
    pub key: FlowKey,
    /// Offset of the upper-layer header (past IPv6 extension headers).
    pub l4_offset: usize,
    /// The packet is a fragment; its ports are 0.
    pub fragment: bool,
}

/// Why no flow could be read (the older, prefix-based functions).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PacketError {
    /// The IP header (or an IPv6 extension header) is cut short.
    Truncated,
    /// Wrong version or inconsistent length fields.
    BadHeader,
}

/// What a fail-closed reading made of a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Classified {
    /// Every selector field was read.
    Complete(Flow),
    /// A fragment: addresses and protocol, ports 0 (`flow.fragment` is
    /// set). Its real selectors are known only after reassembly.
    Fragment {
        /// The flow without ports.
        flow: Flow,
        /// Offset 0: the fragment that carries the upper-layer header.
        first: bool,
    },
}

impl Classified {
    /// The flow, complete or without ports.
    pub fn flow(&self) -> &Flow {
        match self {
            Classified::Complete(f) | Classified::Fragment { flow: f, .. } => f,
        }
    }
}

/// Why a packet cannot be classified; see the module documentation for
/// exactly when. The caller drops it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unclassifiable {
    /// The IP header or an IPv6 extension header is cut short.
    Truncated,
    /// Wrong version or inconsistent IP length fields.
    BadHeader,
    /// More than [`MAX_EXT_HEADERS`](crate::logic::ipv6ext::MAX_EXT_HEADERS) IPv6 extension headers.
    TooManyExtHeaders,
    /// Not a fragment, and the upper-layer header ends before its
    /// selector fields.
    L4Truncated,
}

impl From<ExtError> for Unclassifiable {
    fn from(e: ExtError) -> Self {
        match e {
            ExtError::Truncated => Unclassifiable::Truncated,
            ExtError::TooMany => Unclassifiable::TooManyExtHeaders,
            // The flow walk never steps over AH, nor looks for an offset.
            ExtError::NotIpv6 | ExtError::Malformed | ExtError::NotFound => {
                Unclassifiable::BadHeader
            }
        }
    }
}

impl From<Unclassifiable> for PacketError {
    fn from(e: Unclassifiable) -> Self {
        match e {
            Unclassifiable::Truncated | Unclassifiable::L4Truncated => PacketError::Truncated,
            Unclassifiable::BadHeader | Unclassifiable::TooManyExtHeaders => PacketError::BadHeader,
        }
    }
}

/// What to do with an upper-layer header cut short.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ShortL4 {
    /// Unclassifiable (the packet is all there: it is malformed).
    Refuse,
    /// Ports 0 (a prefix copy, as Linux's flow dissector has it).
    ZeroPorts,
}

/// The IPv4 header length (IHL × 4) after checking version and IHL.
fn ipv4_hlen<S: PacketBytes + ?Sized>(src: &S) -> Result<usize, Unclassifiable> {
    let vihl = src.byte(0).ok_or(Unclassifiable::Truncated)?;
    if vihl >> 4 != 4 {
        return Err(Unclassifiable::BadHeader);
    }
    let hlen = usize::from(vihl & 0x0f) * 4;
    if hlen < IPV4_MIN_HDR {
        return Err(Unclassifiable::BadHeader);
    }
    if src.len() < hlen {
        return Err(Unclassifiable::Truncated);
    }
    Ok(hlen)
}

/// The IPv4 header length (IHL × 4) after checking version and IHL.
pub fn ipv4_header_len(pkt: &[u8]) -> Result<usize, PacketError> {
    Ok(ipv4_hlen(pkt)?)
}

/// The "ports" of the upper-layer header at `l4` in the datagram `d`:
/// what `xfrm_flowi_sport/dport` match a selector against. `None` when the
/// header ends before them; (0, 0) when the protocol has none.
fn ports<S: PacketBytes + ?Sized>(d: &S, l4: usize, proto: u8) -> Option<(u16, u16)> {
    match proto {
        // DCCP is matched too, as `decode_session4` did before the flow
        // dissector: RFC 4301 selectors apply to any ported protocol.
        PROTO_TCP | PROTO_UDP | PROTO_UDPLITE | PROTO_SCTP | PROTO_DCCP => {
            d.be32(l4).map(|p| ((p >> 16) as u16, p as u16))
        }
        // Type and code, as af_key stores ICMP selectors.
        PROTO_ICMP | PROTO_ICMPV6 => d.be16(l4).map(|tc| (tc >> 8, tc & 0xff)),
        // Mobility header type (its third byte); no dport.
        PROTO_MH => d.byte(l4.checked_add(2)?).map(|t| (u16::from(t), 0)),
        PROTO_GRE => gre_key(d, l4).map(|k| ((k >> 16) as u16, k as u16)),
        _ => Some((0, 0)),
    }
}

/// GRE's key, split over sport/dport by `xfrm_flowi_sport/dport`; 0 when
/// there is none. Only the headers the flow dissector reads: version 0
/// without routing, and PPTP (version 1) whose key field holds the call id
/// in its low half. `None` when the bytes those flags call for are missing.
fn gre_key<S: PacketBytes + ?Sized>(d: &S, l4: usize) -> Option<u32> {
    const CSUM: u16 = 0x8000;
    const ROUTING: u16 = 0x4000;
    const KEY: u16 = 0x2000;
    const PPP: u16 = 0x880b;
    let flags = d.be16(l4)?;
    if flags & (ROUTING | KEY) != KEY {
        return Some(0);
    }
    let off = l4.checked_add(if flags & CSUM != 0 { 8 } else { 4 })?;
    match flags & 7 {
        0 => d.be32(off),
        1 if d.be16(l4.checked_add(2)?)? == PPP => d.be32(off).map(|k| k & 0xffff),
        _ => Some(0),
    }
}

/// The flow, or the fragment, of a datagram whose upper layer is `proto`
/// at `l4` in `d`.
fn finish<S: PacketBytes + ?Sized>(
    d: &S,
    key: FlowKey,
    l4: usize,
    fragment: Option<bool>,
    short: ShortL4,
) -> Result<Classified, Unclassifiable> {
    let flow = |key| Flow {
        key,
        l4_offset: l4,
        fragment: fragment.is_some(),
    };
    if let Some(first) = fragment {
        return Ok(Classified::Fragment {
            flow: flow(key),
            first,
        });
    }
    let (sport, dport) = match (ports(d, l4, key.proto), short) {
        (Some(p), _) => p,
        (None, ShortL4::ZeroPorts) => (0, 0),
        (None, ShortL4::Refuse) => return Err(Unclassifiable::L4Truncated),
    };
    Ok(Classified::Complete(flow(FlowKey::new(
        key.src, key.dst, key.proto, sport, dport,
    ))))
}

fn read_ipv4<S: PacketBytes + ?Sized>(
    src: &S,
    short: ShortL4,
) -> Result<Classified, Unclassifiable> {
    let hlen = ipv4_hlen(src)?;
    let total = usize::from(src.be16(2).ok_or(Unclassifiable::Truncated)?);
    if total < hlen {
        return Err(Unclassifiable::BadHeader);
    }
    // Bytes past the total length (link padding) are not the datagram's.
    let d = Prefix::new(src, total);
    let truncated = Unclassifiable::Truncated;
    let frag = d.be16(6).ok_or(truncated)?;
    let proto = d.byte(9).ok_or(truncated)?;
    let src_addr = IpAddr::V4(d.array(12).ok_or(truncated)?);
    let dst_addr = IpAddr::V4(d.array(16).ok_or(truncated)?);
    // MF set or a non-zero offset (`ip_is_fragment`).
    let fragment = (frag & 0x3fff != 0).then_some(frag & 0x1fff == 0);
    let key = FlowKey::new(src_addr, dst_addr, proto, 0, 0);
    finish(&d, key, hlen, fragment, short)
}

fn read_ipv6<S: PacketBytes + ?Sized>(
    src: &S,
    short: ShortL4,
) -> Result<Classified, Unclassifiable> {
    let mut w = Ipv6Walker::new(src)?;
    let truncated = Unclassifiable::Truncated;
    let src_addr = IpAddr::V6(src.array(8).ok_or(truncated)?);
    let dst_addr = IpAddr::V6(src.array(24).ok_or(truncated)?);
    // Hop-by-hop, routing and destination options are stepped over; the
    // fragment header is the last one read.
    loop {
        match w.proto() {
            NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_DEST => {
                w.next_ext()?;
            }
            NEXTHDR_FRAGMENT => {
                w.next_ext()?;
                break;
            }
            _ => break,
        }
    }
    let key = FlowKey::new(src_addr, dst_addr, w.proto(), 0, 0);
    let fragment = w.fragment().map(|f| f.is_first());
    finish(&Prefix::new(src, w.end()), key, w.offset(), fragment, short)
}

/// Classifies the IPv4 packet at offset 0 of `src`, failing closed.
pub fn classify_ipv4<S: PacketBytes + ?Sized>(src: &S) -> Result<Classified, Unclassifiable> {
    read_ipv4(src, ShortL4::Refuse)
}

/// Classifies the IPv6 packet at offset 0 of `src`, failing closed.
pub fn classify_ipv6<S: PacketBytes + ?Sized>(src: &S) -> Result<Classified, Unclassifiable> {
    read_ipv6(src, ShortL4::Refuse)
}

/// Classifies the IPv4 or IPv6 packet at offset 0 of `src` by its version.
pub fn classify<S: PacketBytes + ?Sized>(src: &S) -> Result<Classified, Unclassifiable> {
    match src.byte(0).ok_or(Unclassifiable::Truncated)? >> 4 {
        4 => classify_ipv4(src),
        6 => classify_ipv6(src),
        _ => Err(Unclassifiable::BadHeader),
    }
}

/// The flow of an IPv4 packet starting at `pkt[0]`, which may be a prefix
/// of it (a netfilter hook's copy): an upper-layer header cut short gives
/// ports 0.
pub fn flow_of_ipv4(pkt: &[u8]) -> Result<Flow, PacketError> {
    Ok(*read_ipv4(pkt, ShortL4::ZeroPorts)?.flow())
}

/// The flow of an IPv6 packet starting at `pkt[0]` (or a prefix of it),
/// past hop-by-hop, routing and destination options headers; ports 0 when
/// the upper-layer header is cut short. More than [`MAX_EXT_HEADERS`](crate::logic::ipv6ext::MAX_EXT_HEADERS)
/// extension headers are `BadHeader`.
pub fn flow_of_ipv6(pkt: &[u8]) -> Result<Flow, PacketError> {
    Ok(*read_ipv6(pkt, ShortL4::ZeroPorts)?.flow())
}

#[cfg(test)]
mod tests;
