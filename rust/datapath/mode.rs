//! The modes, as Linux's `xfrm_mode`, for any transform (its protocol
//! number and header/trailer sizes are parameters):
//! - transport: the transform's header goes behind the IP header (IPv6:
//!   behind the extension headers that must come first, as
//!   `ip6_find_1stfragopt` places it), whose protocol byte then names the
//!   transform;
//! - tunnel: a new outer header (IPv4 or IPv6, in any mix with the inner
//!   packet) names the transform, behind which the whole inner packet is.
//!
//! Output makes the room and writes the IP header fields (`encapsulate`,
//! then `finish_output`); the transform fills its header, trailer and
//! crypto in between. Input removes what the transform has verified
//! (`decapsulate`) and hands the inner packet back to the stack
//! (`reinject`). The header arithmetic is `logic::mode`'s.

use crate::logic::addr::IpAddr;
use crate::logic::bytes::PacketBytes;
use crate::logic::ipv6ext::{nexthdr_pos_of, transport_insert_point};
use crate::logic::mode::{inner_proto, outer_len, set_transport_fields, write_outer};
pub(crate) use crate::logic::mode::{IPPROTO_IPIP, IPPROTO_IPV6};
use crate::sys::net::Net;
use crate::sys::packet::Pkt;

/// Room left in front for link-layer headers (LL_MAX_HEADER-ish).
const LL_ROOM: usize = 128;

/// Where a transform goes in an outbound packet (data at its network
/// header).
#[derive(Clone, Copy)]
pub(crate) struct Split {
    /// The packet being protected is IPv6.
    pub(crate) v6_in: bool,
    pub(crate) tunnel: bool,
    /// The packet that leaves is IPv6.
    pub(crate) outer_v6: bool,
    /// Transport: the bytes of IP header(s) the transform goes behind;
    /// tunnel: 0 (all of the packet is protected).
    pub(crate) l3: usize,
    /// Transport: the byte that names what follows `l3`.
    nh_pos: usize,
    /// What follows `l3` (tunnel: the inner packet's protocol, 4 or 41):
    /// what the transform's header names as its next header.
    pub(crate) next: u8,
    /// The inner packet's first bytes (DSCP, DF for the outer header).
    first: [u8; 8],
}

impl Split {
    pub(crate) fn of(pkt: &Pkt, tunnel: bool, outer_v6: bool) -> Option<Split> {
        let first: [u8; 8] = pkt.array(0)?;
        let v6_in = match first[0] >> 4 {
            4 => false,
            6 => true,
            _ => return None,
        };
        if tunnel {
            return Some(Split {
                v6_in,
                tunnel,
                outer_v6,
                l3: 0,
                nh_pos: 0,
                next: inner_proto(v6_in),
                first,
            });
        }
        let (l3, nh_pos, next) = if v6_in {
            let p = transport_insert_point(pkt).ok()?;
            (p.offset, p.nexthdr_pos, p.next_header)
        } else {
            let l3 = usize::from(first[0] & 0x0f) * 4;
            (l3, 9, pkt.byte(9)?)
        };
        (l3 >= 20 && l3 <= pkt.len()).then_some(Split {
            v6_in,
            tunnel,
            outer_v6: v6_in,
            l3,
            nh_pos,
            next,
            first,
        })
    }

    /// The outer header a tunnel adds.
    pub(crate) fn outer(&self) -> usize {
        if self.tunnel {
            outer_len(self.outer_v6)
        } else {
            0
        }
    }

    /// IPv4 with DF set: the packet may not be fragmented.
    pub(crate) fn df(&self) -> bool {
        !self.v6_in && self.first[6] & 0x40 != 0
    }
}

/// The layout once the mode has made room (data at the outer header).
#[derive(Clone, Copy)]
pub(crate) struct Encap {
    pub(crate) split: Split,
    /// Offset of the transform's header.
    pub(crate) hdr: usize,
    pub(crate) hdr_len: usize,
    /// Offset and length of what the transform protects (behind its
    /// header).
    pub(crate) payload: usize,
    pub(crate) payload_len: usize,
    /// Room for the transform's trailer, behind the payload.
    pub(crate) trailer_len: usize,
}

/// Makes room for `hdr_len` bytes of transform header in front of the
/// payload and `trailer_len` behind it, and writes the IP header that now
/// names `proto` (tunnel: a new one from `src` to `dst` with hop limit
/// `hop`; transport: the packet's own, rewritten). `None`: no memory, or a
/// packet too big for its length field (never sent with a wrong length).
pub(crate) fn encapsulate(
    pkt: &mut Pkt,
    s: &Split,
    proto: u8,
    hdr_len: usize,
    trailer_len: usize,
    src: &IpAddr,
    dst: &IpAddr,
    hop: u8,
) -> Option<Encap> {
    let outer = s.outer();
    pkt.make_private(LL_ROOM + outer + hdr_len, trailer_len).ok()?;
    let payload_len = pkt.len().checked_sub(s.l3)?;
    if !pkt.push(outer + hdr_len) || !pkt.put(trailer_len) {
        return None;
    }
    let total = pkt.len();
    let b = pkt.bytes_mut();
    if s.tunnel {
        write_outer(b, &s.first, s.v6_in, total, hop, proto, src, dst).ok()?;
    } else {
        // Move the IP header(s) in front of the room just made.
        b.copy_within(hdr_len..hdr_len + s.l3, 0);
        set_transport_fields(b, s.v6_in, s.nh_pos, proto, total).ok()?;
    }
    let hdr = outer + s.l3;
    Some(Encap {
        split: *s,
        hdr,
        hdr_len,
        payload: hdr + hdr_len,
        payload_len,
        trailer_len,
    })
}

/// The rest of the IP header once the transform has its bytes in place:
/// a tunnel's outer packet is a new datagram (control block, protocol,
/// IPv4 id); IPv4 gets its checksum.
pub(crate) fn finish_output(pkt: &mut Pkt, net: Net, e: &Encap) {
    pkt.set_network_header(0);
    if e.split.tunnel {
        pkt.clear_ipcb();
        pkt.set_protocol(if e.split.outer_v6 { 0x86dd } else { 0x0800 });
        if !e.split.outer_v6 {
            pkt.ip_select_ident(net);
        }
    }
    if !e.split.outer_v6 {
        pkt.ip_send_check();
    }
}

/// Input: removes a verified transform. `pkt`'s data is at the transform's
/// header (`strip` bytes), behind `l3_len` bytes of outer IP header(s); the
/// `payload_len` bytes after the header are what it protected, naming
/// `next`. Tunnel mode leaves the inner packet; transport mode moves the IP
/// header up against the payload and restores its protocol and length.
/// Either way the data ends at the IP header; returns whether it is IPv6.
pub(crate) fn decapsulate(
    pkt: &mut Pkt,
    v6: bool,
    l3_len: usize,
    strip: usize,
    payload_len: usize,
    next: u8,
    tunnel: bool,
) -> Option<bool> {
    if tunnel {
        let inner_v6 = match next {
            IPPROTO_IPIP => false,
            IPPROTO_IPV6 => true,
            _ => return None,
        };
        if !pkt.pull(strip) {
            return None;
        }
        pkt.trim(payload_len);
        return Some(inner_v6);
    }
    let l3 = pkt.l3_mut();
    if l3.len() < l3_len + strip {
        return None;
    }
    // Where the byte that named the transform sits (IPv6: the last
    // extension header in front of it).
    let nh_pos = if v6 {
        nexthdr_pos_of(l3.get(..l3_len)?, l3_len).ok()?
    } else {
        9
    };
    set_transport_fields(l3, v6, nh_pos, next, l3_len + payload_len).ok()?;
    l3.copy_within(0..l3_len, strip);
    // data: transform header -> payload; then back over the moved header.
    if !pkt.pull(strip) {
        return None;
    }
    pkt.trim(payload_len);
    if !pkt.push(l3_len) {
        return None;
    }
    Some(v6)
}

/// Hands a decapsulated packet (data at its IP header) back to the stack,
/// as if it came from its device: it meets netfilter, routing and the
/// policy check like any packet, its sec_path telling what it went through.
pub(crate) fn reinject(mut pkt: Pkt, inner_v6: bool, tunnel: bool) {
    pkt.reset_for_reinject();
    pkt.set_protocol(if inner_v6 { 0x86dd } else { 0x0800 });
    if !inner_v6 && !tunnel {
        pkt.ip_send_check();
    }
    pkt.netif_rx();
}
