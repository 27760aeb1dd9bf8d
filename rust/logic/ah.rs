//! AH (RFC 4302): the header, its length rules, and the mutable-field
//! rules its ICV is computed with. The hash is the kernel crypto API's;
//! this module decides which bytes it sees.
//!
//! ```text
//! | next hdr | payload len | reserved | SPI | seq | ICV + padding |
//!  <----------------- 12 fixed bytes --------->
//! payload len = header length in 32-bit words - 2
//! ```
//!
//! The ICV covers the IP header(s) in front of AH, AH and everything after
//! it, with the fields routers may change zeroed (or set to what they will
//! be at the final destination), AH's ICV field zeroed, and with ESN the
//! high half of the sequence number appended after the packet (§2.5.1: it
//! is authenticated, not sent). Linux's ah4/ah6 compute it over the packet
//! in place with the mutable fields zeroed and restore them afterwards;
//! the functions here are those in-place rules, over the bytes in front of
//! AH ([`ipv4_zero_mutable`], [`ipv6_zero_mutable`]) and over AH itself
//! ([`zero_icv`]), and [`esn_trailer`] is the 4 bytes to append.
//!
//! Cross-checked against scapy's independent implementation
//! (`tools/vectors/ah_scapy.py`, vectors in `ah/vectors.rs`); where scapy
//! and Linux disagree (the LSRR/SSRR final destination on the sender, and
//! IPv4 option types compared by number rather than type byte) rxfrm
//! follows Linux.

use crate::logic::ipv6ext::{
    ExtError, ExtHeader, Ipv6Walker, MAX_EXT_HEADERS, NEXTHDR_DEST, NEXTHDR_HOP, NEXTHDR_ROUTING,
};

/// Next header, payload length, reserved, SPI, sequence number.
pub const AH_FIXED_LEN: usize = 12;
/// The longest AH header: payload length 255.
pub const AH_MAX_LEN: usize = (255 + 2) * 4;
/// Bytes appended after the packet for the ICV of an ESN SA.
pub const ESN_TRAILER_LEN: usize = 4;

const IPV4_MIN_HDR: usize = 20;

/// Why AH bytes were refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AhError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// A length that is not one AH can have (below 12 bytes, above
    /// [`AH_MAX_LEN`], or not what the SA's ICV makes it).
    BadLength,
    /// Not an IPv4 header (version, IHL) where one was expected.
    NotIpv4,
    /// Not an IPv6 header where one was expected.
    NotIpv6,
    /// An IPv4 option whose length is below 2 (or below 6 for a source
    /// route) or runs past the header.
    BadOption,
    /// An IPv6 options header whose options overrun it, or an extension
    /// header in front of AH cut short (or too many of them).
    BadExtHeader,
    /// A routing header with more segments left than addresses.
    BadRoutingHeader,
}

/// What AH's length is padded to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Align {
    /// 32 bits: IPv4 (RFC 4302 §3.3.3.2.1; KAME, and Linux with
    /// `XFRM_STATE_ALIGN4`).
    Four,
    /// 64 bits: IPv6, always. Linux's ah4 pads IPv4 AH to 64 bits too
    /// unless the SA has `XFRM_STATE_ALIGN4`, which af_key never sets: for
    /// 16, 24 and 32-byte ICVs a Linux peer keyed through PF_KEY sends (and
    /// accepts) 4 bytes more than RFC 4302 asks for.
    Eight,
}

impl Align {
    /// RFC 4302's alignment for an IPv6 (`true`) or IPv4 header.
    pub fn for_ipv6(v6: bool) -> Self {
        if v6 {
            Align::Eight
        } else {
            Align::Four
        }
    }

    fn mask(self) -> usize {
        match self {
            Align::Four => 3,
            Align::Eight => 7,
        }
    }
}

/// The AH header length for an ICV of `icv_len` bytes: 12 + ICV, padded
/// to `align`. `None` beyond what the length field can express.
pub fn header_len(icv_len: usize, align: Align) -> Option<usize> {
    let m = align.mask();
    let len = AH_FIXED_LEN.checked_add(icv_len)?.checked_add(m)? & !m;
    (len <= AH_MAX_LEN).then_some(len)
}

/// Bytes AH adds to a packet in transport mode (tunnel mode adds the
/// outer IP header as well): its header, padding included.
pub fn overhead(icv_len: usize, align: Align) -> Option<usize> {
    header_len(icv_len, align)
}

/// The payload length field of a header `len` bytes long (a multiple of 4
/// from 12 to [`AH_MAX_LEN`]).
pub fn payload_len_field(len: usize) -> Option<u8> {
    if len < AH_FIXED_LEN || len & 3 != 0 {
        return None;
    }
    u8::try_from((len >> 2) - 2).ok()
}

/// Whether an inbound AH header of `len` bytes fits the SA, as ah4/ah6
/// `*_input` check it: the length for the truncated ICV or for the full
/// digest (`icv_full_len`), padded. For IPv4 (`Align::Four`) both RFC 4302's
/// 32-bit and Linux's default 64-bit padding are taken, so that a Linux
/// peer keyed through PF_KEY is understood; IPv6 has only 64-bit padding.
pub fn accepts_header_len(len: usize, icv_len: usize, icv_full_len: usize, align: Align) -> bool {
    let fits = |icv, a| header_len(icv, a) == Some(len);
    let ok = |a| fits(icv_len, a) || fits(icv_full_len, a);
    match align {
        Align::Four => ok(Align::Four) || ok(Align::Eight),
        Align::Eight => ok(Align::Eight),
    }
}

/// The 4 bytes hashed after the packet for an ESN SA: the high half of
/// the 64-bit sequence number, big-endian (`seqhi` in ah4/ah6).
pub fn esn_trailer(seq_hi: u32) -> [u8; ESN_TRAILER_LEN] {
    seq_hi.to_be_bytes()
}

fn be32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off.saturating_add(4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_be_bytes)
}

fn set_bytes(b: &mut [u8], off: usize, v: &[u8]) -> Option<()> {
    let dst = b.get_mut(off..off.checked_add(v.len())?)?;
    for (d, s) in dst.iter_mut().zip(v) {
        *d = *s;
    }
    Some(())
}

fn zero(b: &mut [u8], from: usize, len: usize) -> Option<()> {
    b.get_mut(from..from.checked_add(len)?)?.fill(0);
    Some(())
}

/// A zero-copy view of the AH header at the start of `buf`.
#[derive(Clone, Copy, Debug)]
pub struct AhHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> AhHeader<T> {
    /// Wraps `buf` after checking that it holds the whole header its
    /// payload length announces, and that it is at least 12 bytes.
    pub fn new_checked(buf: T) -> Result<Self, AhError> {
        let b = buf.as_ref();
        let words = *b.get(1).ok_or(AhError::Truncated)?;
        let len = (usize::from(words) + 2) * 4;
        if len < AH_FIXED_LEN {
            return Err(AhError::BadLength);
        }
        if b.len() < len {
            return Err(AhError::Truncated);
        }
        Ok(AhHeader { buf })
    }

    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Protocol after AH.
    pub fn next_header(&self) -> u8 {
        self.b().first().copied().unwrap_or(0)
    }

    /// The payload length field (header length in 32-bit words, minus 2).
    pub fn payload_len(&self) -> u8 {
        self.b().get(1).copied().unwrap_or(0)
    }

    /// Header length in bytes, ICV and padding included.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len()) + 2) * 4
    }

    /// The reserved field (zero when sent, ignored on receipt).
    pub fn reserved(&self) -> u16 {
        let b = self.b();
        u16::from_be_bytes([
            b.get(2).copied().unwrap_or(0),
            b.get(3).copied().unwrap_or(0),
        ])
    }

    /// Security parameter index.
    pub fn spi(&self) -> u32 {
        be32_at(self.b(), 4)
    }

    /// Low 32 bits of the sequence number.
    pub fn seq(&self) -> u32 {
        be32_at(self.b(), 8)
    }

    /// The ICV field: ICV and padding.
    pub fn icv_field(&self) -> &[u8] {
        self.b().get(AH_FIXED_LEN..self.header_len()).unwrap_or(&[])
    }

    /// The first `icv_len` bytes of the ICV field (the ICV proper).
    pub fn icv(&self, icv_len: usize) -> Option<&[u8]> {
        self.icv_field().get(..icv_len)
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        self.b().get(self.header_len()..).unwrap_or(&[])
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AhHeader<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, nh: u8) {
        if let Some(b) = self.buf.as_mut().first_mut() {
            *b = nh;
        }
    }

    /// Sets the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        let _ = set_bytes(self.buf.as_mut(), 4, &spi.to_be_bytes());
    }

    /// Sets the sequence number's low half.
    pub fn set_seq(&mut self, seq: u32) {
        let _ = set_bytes(self.buf.as_mut(), 8, &seq.to_be_bytes());
    }

    /// Writes `icv` at the start of the ICV field.
    pub fn set_icv(&mut self, icv: &[u8]) -> Result<(), AhError> {
        if icv.len() > self.header_len().saturating_sub(AH_FIXED_LEN) {
            return Err(AhError::BadLength);
        }
        set_bytes(self.buf.as_mut(), AH_FIXED_LEN, icv).ok_or(AhError::Truncated)
    }
}

/// Writes an AH header for an ICV of `icv_len` bytes into the start of
/// `buf`: next header, payload length, reserved 0, SPI, sequence number,
/// and the ICV field (ICV and padding) zeroed, ready to be hashed. Returns
/// the header length.
pub fn write_header(
    buf: &mut [u8],
    next_header: u8,
    spi: u32,
    seq: u32,
    icv_len: usize,
    align: Align,
) -> Result<usize, AhError> {
    let len = header_len(icv_len, align).ok_or(AhError::BadLength)?;
    let words = payload_len_field(len).ok_or(AhError::BadLength)?;
    let h = buf.get_mut(..len).ok_or(AhError::Truncated)?;
    h.fill(0);
    let fixed = [next_header, words, 0, 0];
    set_bytes(h, 0, &fixed).ok_or(AhError::Truncated)?;
    set_bytes(h, 4, &spi.to_be_bytes()).ok_or(AhError::Truncated)?;
    set_bytes(h, 8, &seq.to_be_bytes()).ok_or(AhError::Truncated)?;
    Ok(len)
}

/// Zeroes the ICV proper (`icv_len` bytes after the fixed part) of the AH
/// header at the start of `ah`, for hashing; padding after it stays as
/// sent, as in Linux (it is hashed as it is).
pub fn zero_icv(ah: &mut [u8], icv_len: usize) -> Result<(), AhError> {
    zero(ah, AH_FIXED_LEN, icv_len).ok_or(AhError::Truncated)
}

/// Who computes the ICV: the sender predicts the final destination's view
/// (an IPv4 source route's last address); the receiver has it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// Output.
    Sender,
    /// Input.
    Receiver,
}

const IPOPT_END: u8 = 0;
const IPOPT_NOOP: u8 = 1;
const IPOPT_SEC: u8 = 130;
const IPOPT_LSRR: u8 = 131;
const IPOPT_EXT_SEC: u8 = 133;
const IPOPT_CIPSO: u8 = 134;
const IPOPT_SSRR: u8 = 137;
const IPOPT_RA: u8 = 148;
const IPOPT_SDMDD: u8 = 149;

/// Zeroes the mutable options of the IPv4 header `hdr` (its length from
/// IHL), as Linux's `ip_clear_mutable_options` (net/ipv4/ah4.c) and RFC
/// 4302 Appendix A.1 have it. Kept: end of list (which ends the walk; the
/// bytes after it are kept too), no-op, Security (130), Extended Security
/// (133), CIPSO (134), Router Alert (148) and Sender-Directed
/// Multi-Destination Delivery (149), compared by their whole type byte as
/// Linux does. Zeroed, type and length included: every other option
/// (Record Route, Timestamp, unknown ones, ...). A loose or strict source
/// route (131/137) is zeroed too, and its last address is returned: the
/// destination the packet will have on arrival. An option whose length is
/// below 2 (6 for a source route) or runs past the header is an error.
pub fn ipv4_clear_mutable_options(hdr: &mut [u8]) -> Result<Option<[u8; 4]>, AhError> {
    let hlen = ipv4_hlen(hdr)?;
    let mut final_dst = None;
    let mut i = IPV4_MIN_HDR;
    while i < hlen {
        let t = *hdr.get(i).ok_or(AhError::Truncated)?;
        match t {
            IPOPT_END => break,
            IPOPT_NOOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if i + 1 >= hlen {
            return Err(AhError::BadOption);
        }
        let optlen = usize::from(*hdr.get(i + 1).ok_or(AhError::BadOption)?);
        if optlen < 2 || optlen > hlen - i {
            return Err(AhError::BadOption);
        }
        match t {
            IPOPT_SEC | IPOPT_EXT_SEC | IPOPT_CIPSO | IPOPT_RA | IPOPT_SDMDD => {}
            IPOPT_LSRR | IPOPT_SSRR => {
                if optlen < 6 {
                    return Err(AhError::BadOption);
                }
                let last = i + optlen - 4;
                final_dst = Some(
                    hdr.get(last..last + 4)
                        .and_then(|s| <[u8; 4]>::try_from(s).ok())
                        .ok_or(AhError::BadOption)?,
                );
                zero(hdr, i, optlen).ok_or(AhError::BadOption)?;
            }
            _ => zero(hdr, i, optlen).ok_or(AhError::BadOption)?,
        }
        i += optlen;
    }
    Ok(final_dst)
}

/// IHL × 4 of the IPv4 header in `hdr`, checked against its length.
fn ipv4_hlen(hdr: &[u8]) -> Result<usize, AhError> {
    let vihl = *hdr.first().ok_or(AhError::Truncated)?;
    let hlen = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || hlen < IPV4_MIN_HDR {
        return Err(AhError::NotIpv4);
    }
    if hdr.len() < hlen {
        return Err(AhError::Truncated);
    }
    Ok(hlen)
}

/// Zeroes, in place, what the ICV must not cover in the IPv4 header at the
/// start of `hdr` (ah4.c `ah_output`/`ah_input`; RFC 4302 §3.3.3.1.1.1):
/// TOS (DSCP and ECN), flags and fragment offset, TTL, header checksum, and
/// the mutable options ([`ipv4_clear_mutable_options`]). On the sender a
/// source route's last address replaces the destination address, as it
/// will be on arrival; the receiver's destination already is that.
/// Total length and protocol are covered: set them (to the AH packet's)
/// first. The caller keeps a copy to restore the header after hashing.
pub fn ipv4_zero_mutable(hdr: &mut [u8], side: Side) -> Result<(), AhError> {
    let hlen = ipv4_hlen(hdr)?;
    let final_dst = ipv4_clear_mutable_options(hdr)?;
    let h = hdr.get_mut(..hlen).ok_or(AhError::Truncated)?;
    for off in [1usize, 6, 7, 8, 10, 11] {
        if let Some(b) = h.get_mut(off) {
            *b = 0;
        }
    }
    if let (Side::Sender, Some(d)) = (side, final_dst) {
        set_bytes(h, 16, &d).ok_or(AhError::Truncated)?;
    }
    Ok(())
}

/// Zeroes the data of every option whose "may change" bit (0x20 of the
/// type) is set in one hop-by-hop or destination options header `opts`
/// (Linux `zero_out_mutable_opts`): Pad1 is one byte, every other option
/// is type, length, data; options that overrun the header are an error.
pub fn ipv6_zero_mutable_options(opts: &mut [u8]) -> Result<(), AhError> {
    let mut off = 2usize;
    while off < opts.len() {
        let t = *opts.get(off).ok_or(AhError::BadExtHeader)?;
        if t == 0 {
            off += 1;
            continue;
        }
        let data = usize::from(*opts.get(off + 1).ok_or(AhError::BadExtHeader)?);
        let end = off + 2 + data;
        if end > opts.len() {
            return Err(AhError::BadExtHeader);
        }
        if t & 0x20 != 0 {
            zero(opts, off + 2, data).ok_or(AhError::BadExtHeader)?;
        }
        off = end;
    }
    Ok(())
}

fn addr_at(b: &[u8], off: usize) -> Option<[u8; 16]> {
    b.get(off..off.checked_add(16)?)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
}

/// Rearranges the routing header `rt` of the packet whose IPv6 header
/// starts `hdrs` as it will be at the final destination (Linux
/// `ipv6_rearrange_rthdr`, RFC 4302 Appendix A.2): destination = the last
/// address, the addresses not yet visited shifted up with the current
/// destination in front of them, segments left = 0. Nothing to do when
/// segments left is 0 already; more segments left than addresses is an
/// error.
///
/// Linux treats every routing type as type 0 here (addresses of 16 bytes
/// after 8 fixed ones), and so does rxfrm: right for type 0 and type 2
/// (Mobile IPv6's one home address); for RPL (3) and segment routing (4),
/// whose layouts and processing differ, the result is not what arrives,
/// so AH over those only verifies between peers that compute it the same
/// (Linux) way, or with no segments left.
fn ipv6_rearrange_routing(hdrs: &mut [u8], rt: &ExtHeader) -> Result<(), AhError> {
    let base = rt.at.offset;
    let bad = AhError::BadRoutingHeader;
    let units = *hdrs.get(base + 1).ok_or(bad)?;
    let seg_left = usize::from(*hdrs.get(base + 3).ok_or(bad)?);
    if seg_left == 0 {
        return Ok(());
    }
    let segments = usize::from(units >> 1);
    if seg_left > segments {
        return Err(bad);
    }
    let addr = |i: usize| base + 8 + i * 16;
    let final_addr = addr_at(hdrs, addr(segments - 1)).ok_or(bad)?;
    let first = segments - seg_left;
    // Shift the unvisited addresses up by one, last first.
    for i in (first..segments - 1).rev() {
        let a = addr_at(hdrs, addr(i)).ok_or(bad)?;
        set_bytes(hdrs, addr(i + 1), &a).ok_or(bad)?;
    }
    let dst = addr_at(hdrs, 24).ok_or(bad)?;
    set_bytes(hdrs, addr(first), &dst).ok_or(bad)?;
    set_bytes(hdrs, 24, &final_addr).ok_or(bad)?;
    set_bytes(hdrs, base + 3, &[0]).ok_or(bad)
}

/// Zeroes, in place, what the ICV must not cover in `hdrs`: the IPv6
/// header and every extension header in front of AH, and nothing else
/// (Linux `ipv6_clear_mutable_options` over `skb_network_header_len`):
/// traffic class, flow label and hop limit; in hop-by-hop and destination
/// options headers the data of options that may change en route
/// ([`ipv6_zero_mutable_options`]); routing headers rearranged as they will
/// arrive ([`ipv6_rearrange_routing`]'s rules). As in Linux the walk stops
/// at the first other header in front of AH, which is covered as it is,
/// and both sides rearrange (a received packet has no segments left).
/// Linux's sender also swaps a Mobile IPv6 home address option into the
/// source address, with `CONFIG_IPV6_MIP6` only; rxfrm's kernel has none
/// and neither does this. The payload length is covered: set it (to the
/// AH packet's) first.
pub fn ipv6_zero_mutable(hdrs: &mut [u8]) -> Result<(), AhError> {
    let mut found: [Option<ExtHeader>; MAX_EXT_HEADERS] = [None; MAX_EXT_HEADERS];
    {
        let mut w = Ipv6Walker::new(&*hdrs).map_err(|e| match e {
            ExtError::NotIpv6 => AhError::NotIpv6,
            _ => AhError::Truncated,
        })?;
        let mut n = 0;
        while w.offset() < hdrs.len()
            && matches!(w.proto(), NEXTHDR_HOP | NEXTHDR_DEST | NEXTHDR_ROUTING)
        {
            let Some(h) = w.next_ext().map_err(|_| AhError::BadExtHeader)? else {
                break;
            };
            if let Some(slot) = found.get_mut(n) {
                *slot = Some(h);
            }
            n += 1;
        }
    }
    if let Some(b) = hdrs
        .get_mut(..8)
        .and_then(|s| <&mut [u8; 8]>::try_from(s).ok())
    {
        // Version stays; traffic class, flow label, hop limit go.
        b[0] &= 0xf0;
        b[1] = 0;
        b[2] = 0;
        b[3] = 0;
        b[7] = 0;
    }
    for h in found.iter().flatten() {
        if h.at.proto == NEXTHDR_ROUTING {
            ipv6_rearrange_routing(hdrs, h)?;
        } else {
            let opts = hdrs
                .get_mut(h.at.offset..h.end())
                .ok_or(AhError::BadExtHeader)?;
            ipv6_zero_mutable_options(opts)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
