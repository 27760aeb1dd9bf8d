//! The SPD lookup key of a packet, read from its IP header onwards: what
//! Linux's `__xfrm_decode_session` (flow dissector + `decode_session4/6`)
//! and `xfrm_flowi_sport/dport` make of it.
//!
//! As in Linux, a packet whose upper-layer header is cut short still gets a
//! flow (ports 0) rather than an error, and fragments (first ones included,
//! since the dissector runs without `FLOW_DISSECTOR_F_PARSE_1ST_FRAG`) carry
//! no ports, so every fragment of a datagram meets the same policy.

use crate::logic::addr::IpAddr;
use crate::logic::selector::{FlowKey, PROTO_ICMP, PROTO_ICMPV6};

const IPV4_MIN_HDR: usize = 20;
const IPV6_HDR: usize = 40;

const PROTO_HOPOPTS: u8 = 0;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_DCCP: u8 = 33;
const PROTO_ROUTING: u8 = 43;
const PROTO_FRAGMENT: u8 = 44;
const PROTO_GRE: u8 = 47;
const PROTO_DSTOPTS: u8 = 60;
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

/// Why no flow could be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PacketError {
    /// The IP header (or an IPv6 extension header) is cut short.
    Truncated,
    /// Wrong version or inconsistent length fields.
    BadHeader,
}

fn byte(pkt: &[u8], off: usize) -> Result<u8, PacketError> {
    pkt.get(off).copied().ok_or(PacketError::Truncated)
}

fn be16(pkt: &[u8], off: usize) -> Option<u16> {
    let b = pkt.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes(<[u8; 2]>::try_from(b).ok()?))
}

fn be32(pkt: &[u8], off: usize) -> Option<u32> {
    let b = pkt.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes(<[u8; 4]>::try_from(b).ok()?))
}

/// The `N` bytes at `off`.
fn array<const N: usize>(pkt: &[u8], off: usize) -> Result<[u8; N], PacketError> {
    pkt.get(off..off.checked_add(N).ok_or(PacketError::Truncated)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(PacketError::Truncated)
}

/// The IPv4 header length (IHL × 4) after checking version and IHL.
pub fn ipv4_header_len(pkt: &[u8]) -> Result<usize, PacketError> {
    let vihl = byte(pkt, 0)?;
    if vihl >> 4 != 4 {
        return Err(PacketError::BadHeader);
    }
    let hlen = usize::from(vihl & 0x0f) * 4;
    if hlen < IPV4_MIN_HDR {
        return Err(PacketError::BadHeader);
    }
    if pkt.len() < hlen {
        return Err(PacketError::Truncated);
    }
    Ok(hlen)
}

/// The "ports" of the upper-layer header at `l4` in `pkt` (already cut at
/// the datagram's end): what `xfrm_flowi_sport/dport` match a selector
/// against. (0, 0) when the protocol has none or the header is short.
fn ports(pkt: &[u8], l4: usize, proto: u8) -> (u16, u16) {
    let ports = match proto {
        // DCCP is matched too, as `decode_session4` did before the flow
        // dissector: RFC 4301 selectors apply to any ported protocol.
        PROTO_TCP | PROTO_UDP | PROTO_UDPLITE | PROTO_SCTP | PROTO_DCCP => {
            be32(pkt, l4).map(|p| ((p >> 16) as u16, p as u16))
        }
        // Type and code, as af_key stores ICMP selectors.
        PROTO_ICMP | PROTO_ICMPV6 => be16(pkt, l4).map(|tc| (tc >> 8, tc & 0xff)),
        // Mobility header type (its third byte); no dport.
        PROTO_MH => pkt.get(l4.saturating_add(2)).map(|&t| (u16::from(t), 0)),
        PROTO_GRE => gre_key(pkt, l4).map(|k| ((k >> 16) as u16, k as u16)),
        _ => None,
    };
    ports.unwrap_or((0, 0))
}

/// GRE's key, split over sport/dport by `xfrm_flowi_sport/dport`. Only
/// the headers the flow dissector reads: version 0 without routing, and
/// PPTP (version 1) whose key field holds the call id in its low half.
fn gre_key(pkt: &[u8], l4: usize) -> Option<u32> {
    const CSUM: u16 = 0x8000;
    const ROUTING: u16 = 0x4000;
    const KEY: u16 = 0x2000;
    const PPP: u16 = 0x880b;
    let flags = be16(pkt, l4)?;
    if flags & (ROUTING | KEY) != KEY {
        return None;
    }
    let off = l4.checked_add(if flags & CSUM != 0 { 8 } else { 4 })?;
    match flags & 7 {
        0 => be32(pkt, off),
        1 if be16(pkt, l4.checked_add(2)?)? == PPP => be32(pkt, off).map(|k| k & 0xffff),
        _ => None,
    }
}

/// The flow of an IPv4 packet starting at `pkt[0]`.
pub fn flow_of_ipv4(pkt: &[u8]) -> Result<Flow, PacketError> {
    let hlen = ipv4_header_len(pkt)?;
    let total = usize::from(be16(pkt, 2).ok_or(PacketError::Truncated)?);
    if total < hlen {
        return Err(PacketError::BadHeader);
    }
    // Bytes past the total length (link padding) are not the datagram's;
    // a caller may pass only the first bytes (a netfilter hook's copy).
    let pkt = pkt
        .get(..total.min(pkt.len()))
        .ok_or(PacketError::Truncated)?;
    let frag = be16(pkt, 6).ok_or(PacketError::Truncated)?;
    // MF set or a non-zero offset (`ip_is_fragment`).
    let fragment = frag & 0x3fff != 0;
    let proto = byte(pkt, 9)?;
    let src = IpAddr::V4(array(pkt, 12)?);
    let dst = IpAddr::V4(array(pkt, 16)?);
    let (sport, dport) = if fragment {
        (0, 0)
    } else {
        ports(pkt, hlen, proto)
    };
    Ok(Flow {
        key: FlowKey::new(src, dst, proto, sport, dport),
        l4_offset: hlen,
        fragment,
    })
}

/// The flow of an IPv6 packet starting at `pkt[0]`, past hop-by-hop,
/// routing and destination options headers. A fragment header ends the
/// walk (its next header is the protocol, without ports), as do ESP, AH
/// (the flow dissector and the old `decode_session6` both stop there, so
/// AH-carrying traffic meets `proto 51` policies as it does over IPv4), no
/// next header and any upper-layer protocol.
pub fn flow_of_ipv6(pkt: &[u8]) -> Result<Flow, PacketError> {
    if pkt.len() < IPV6_HDR {
        return Err(PacketError::Truncated);
    }
    if byte(pkt, 0)? >> 4 != 6 {
        return Err(PacketError::BadHeader);
    }
    let plen = usize::from(be16(pkt, 4).ok_or(PacketError::Truncated)?);
    // Payload length 0 is a jumbogram or a BIG TCP packet: the buffer is
    // the datagram.
    let pkt = if plen == 0 {
        pkt
    } else {
        pkt.get(..(IPV6_HDR + plen).min(pkt.len()))
            .ok_or(PacketError::Truncated)?
    };
    let src = IpAddr::V6(array(pkt, 8)?);
    let dst = IpAddr::V6(array(pkt, 24)?);
    let mut proto = byte(pkt, 6)?;
    let mut off = IPV6_HDR;
    let mut fragment = false;
    loop {
        match proto {
            PROTO_HOPOPTS | PROTO_ROUTING | PROTO_DSTOPTS => {
                let next = byte(pkt, off)?;
                let len = (usize::from(byte(pkt, off + 1)?) + 1) * 8;
                if pkt.len() < off + len {
                    return Err(PacketError::Truncated);
                }
                proto = next;
                off += len;
            }
            PROTO_FRAGMENT => {
                if pkt.len() < off + 8 {
                    return Err(PacketError::Truncated);
                }
                proto = byte(pkt, off)?;
                off += 8;
                fragment = true;
                break;
            }
            _ => break,
        }
    }
    let (sport, dport) = if fragment {
        (0, 0)
    } else {
        ports(pkt, off, proto)
    };
    Ok(Flow {
        key: FlowKey::new(src, dst, proto, sport, dport),
        l4_offset: off,
        fragment,
    })
}

#[cfg(test)]
mod tests;
