//! The header arithmetic of the two modes, for any transform (its protocol
//! number is a parameter): the outer header a tunnel writes, and the IP
//! header fields transport mode rewrites on output and restores on input.
//! The datapath (`datapath/mode.rs`) moves the bytes; this decides them.

use crate::logic::addr::IpAddr;

/// IPv4-in-IP and IPv6-in-IP: what a tunnel's outer header names when no
/// transform header follows it (an uncompressed IPcomp packet), and what an
/// inbound tunnel SA finds behind its transform.
pub const IPPROTO_IPIP: u8 = 4;
/// See [`IPPROTO_IPIP`].
pub const IPPROTO_IPV6: u8 = 41;

/// Bytes of an outer header of this family.
pub fn outer_len(v6: bool) -> usize {
    if v6 {
        40
    } else {
        20
    }
}

/// The protocol number naming an inner packet of this family.
pub fn inner_proto(inner_v6: bool) -> u8 {
    if inner_v6 {
        IPPROTO_IPV6
    } else {
        IPPROTO_IPIP
    }
}

/// Why a header could not be written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModeError {
    /// The buffer is shorter than the header.
    Truncated,
    /// The packet would be longer than the length field can say (64 KiB):
    /// refused, never sent with a wrong length.
    TooBig,
    /// The addresses' family does not match the header's.
    Family,
}

/// The DSCP of the inner packet whose first bytes are `inner`; ECN is not
/// copied (RFC 6040's compatibility mode, as Linux's default).
fn inner_dscp(inner: &[u8; 8], inner_v6: bool) -> u8 {
    let tos = if inner_v6 {
        ((inner[0] & 0x0f) << 4) | (inner[1] >> 4)
    } else {
        inner[1]
    };
    tos & 0xfc
}

/// Writes a tunnel's outer header at the start of `buf`: `total` bytes in
/// all (outer header included), naming `proto`, from `src` to `dst`, with
/// hop limit / TTL `hop`; DSCP copied from the inner packet, and (IPv4 in
/// IPv4) its DF bit. The IPv4 id and checksum are the caller's (left 0).
#[allow(clippy::too_many_arguments)]
pub fn write_outer(
    buf: &mut [u8],
    inner: &[u8; 8],
    inner_v6: bool,
    total: usize,
    hop: u8,
    proto: u8,
    src: &IpAddr,
    dst: &IpAddr,
) -> Result<(), ModeError> {
    let dscp = inner_dscp(inner, inner_v6);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let h = buf.get_mut(..20).ok_or(ModeError::Truncated)?;
            let len = u16::try_from(total).map_err(|_| ModeError::TooBig)?;
            let df = if !inner_v6 && inner[6] & 0x40 != 0 {
                0x40
            } else {
                0
            };
            h.fill(0);
            h[0] = 0x45;
            h[1] = dscp;
            h[2..4].copy_from_slice(&len.to_be_bytes());
            h[6] = df;
            h[8] = hop;
            h[9] = proto;
            h[12..16].copy_from_slice(s);
            h[16..20].copy_from_slice(d);
            Ok(())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let h = buf.get_mut(..40).ok_or(ModeError::Truncated)?;
            let plen = total
                .checked_sub(40)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or(ModeError::TooBig)?;
            h.fill(0);
            h[0] = 0x60 | (dscp >> 4);
            h[1] = (dscp & 0x0f) << 4;
            h[4..6].copy_from_slice(&plen.to_be_bytes());
            h[6] = proto;
            h[7] = hop;
            h[8..24].copy_from_slice(s);
            h[24..40].copy_from_slice(d);
            Ok(())
        }
        _ => Err(ModeError::Family),
    }
}

/// Transport mode, output: the IP header at the start of `buf` now names
/// `proto` (at `nh_pos`, the byte that named what follows the headers the
/// transform went behind) and the packet is `total` bytes long.
pub fn set_transport_fields(
    buf: &mut [u8],
    v6: bool,
    nh_pos: usize,
    proto: u8,
    total: usize,
) -> Result<(), ModeError> {
    *buf.get_mut(nh_pos).ok_or(ModeError::Truncated)? = proto;
    set_length(buf, v6, total)
}

/// The IP header's length field for a packet of `total` bytes.
pub fn set_length(buf: &mut [u8], v6: bool, total: usize) -> Result<(), ModeError> {
    let (off, n) = if v6 {
        (4, total.checked_sub(40).ok_or(ModeError::Truncated)?)
    } else {
        (2, total)
    };
    let n = u16::try_from(n).map_err(|_| ModeError::TooBig)?;
    buf.get_mut(off..off + 2)
        .ok_or(ModeError::Truncated)?
        .copy_from_slice(&n.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests;
