//! Linux sockaddrs as PF_KEY carries them: `sockaddr_in` (16 bytes) or
//! `sockaddr_in6` (28 bytes), `sa_family` a host-order u16 with no BSD
//! `sa_len` byte, port and address in network order.

use super::ext::{SockaddrIn, SockaddrIn6};
use super::Errno;
use crate::logic::addr::{IpAddr, AF_INET, AF_INET6};

/// An address and its host-order port, as one sockaddr carries them.
pub type SockEnd = (IpAddr, u16);

/// `sizeof(struct sockaddr_in)`.
pub const SOCKADDR_IN_LEN: usize = 16;
/// `sizeof(struct sockaddr_in6)`.
pub const SOCKADDR_IN6_LEN: usize = 28;

/// `n` rounded up to PF_KEY's 8-byte unit (`None` on overflow).
pub fn align8(n: usize) -> Option<usize> {
    Some(n.checked_add(7)? & !7)
}

/// The sockaddr size of `family`, 0 if PF_KEY cannot carry it
/// (`pfkey_sockaddr_len`).
pub fn sockaddr_len(family: u16) -> usize {
    match family {
        AF_INET => SOCKADDR_IN_LEN,
        AF_INET6 => SOCKADDR_IN6_LEN,
        _ => 0,
    }
}

/// Bytes a source+destination pair of `family` takes, padded to 8
/// (`pfkey_sockaddr_pair_size`): 32 for IPv4, 56 for IPv6, 0 if unknown.
pub fn pair_size(family: u16) -> usize {
    // Both lengths are small constants: no overflow.
    sockaddr_len(family).saturating_mul(2).saturating_add(7) & !7
}

/// `sa_family` of the sockaddr at the start of `b`, if two bytes are there.
pub fn family_of(b: &[u8]) -> Option<u16> {
    let f = b.get(..2)?;
    Some(u16::from_ne_bytes([*f.first()?, *f.get(1)?]))
}

/// Decodes the sockaddr at the start of `b` into address and host-order
/// port; `EINVAL` if the family is not IPv4/IPv6 or `b` is too short.
pub fn parse_sockaddr(b: &[u8]) -> Result<SockEnd, Errno> {
    match family_of(b) {
        Some(AF_INET) => {
            let s = SockaddrIn::new_checked(b)?;
            Ok((IpAddr::V4(s.addr()), s.port()))
        }
        Some(AF_INET6) => {
            let s = SockaddrIn6::new_checked(b)?;
            Ok((IpAddr::V6(s.addr()), s.port()))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Writes `addr`/`port` as a sockaddr at the start of `buf`, zeroing the
/// rest of it (`sin_zero`, flowinfo, scope id); returns its length.
/// `ENOBUFS` if `buf` is too short.
pub fn write_sockaddr(buf: &mut [u8], addr: &IpAddr, port: u16) -> Result<usize, Errno> {
    let len = sockaddr_len(addr.family());
    let area = buf.get_mut(..len).ok_or(Errno::ENOBUFS)?;
    area.fill(0);
    match addr {
        IpAddr::V4(a) => {
            let mut s = SockaddrIn::new_unchecked(area);
            s.set_family(AF_INET);
            s.set_port(port);
            s.set_addr(*a);
        }
        IpAddr::V6(a) => {
            let mut s = SockaddrIn6::new_unchecked(area);
            s.set_family(AF_INET6);
            s.set_port(port);
            s.set_addr(*a);
        }
    }
    Ok(len)
}

/// Decodes the source/destination pair at the start of `b` the way af_key's
/// `parse_sockaddr_pair` does: `b` must hold the padded pair of the first
/// family and both must be of that family, else `EINVAL`. Each comes with
/// its host-order port (af_key ignores them; they are on the wire).
pub fn parse_sockaddr_pair(b: &[u8]) -> Result<(SockEnd, SockEnd), Errno> {
    let family = family_of(b).ok_or(Errno::EINVAL)?;
    let size = pair_size(family);
    if size == 0 || b.len() < size {
        return Err(Errno::EINVAL);
    }
    let src = parse_sockaddr(b)?;
    let second = b.get(sockaddr_len(family)..).ok_or(Errno::EINVAL)?;
    if family_of(second) != Some(family) {
        return Err(Errno::EINVAL);
    }
    let dst = parse_sockaddr(second)?;
    Ok((src, dst))
}

/// Writes a source/destination pair with their (host-order) ports into
/// `buf`, padded to 8; returns the padded size. `EINVAL` if the families
/// differ.
pub fn write_sockaddr_pair(
    buf: &mut [u8],
    (src, sport): (&IpAddr, u16),
    (dst, dport): (&IpAddr, u16),
) -> Result<usize, Errno> {
    if src.family() != dst.family() {
        return Err(Errno::EINVAL);
    }
    let size = pair_size(src.family());
    buf.get_mut(..size).ok_or(Errno::ENOBUFS)?.fill(0);
    let n = write_sockaddr(buf, src, sport)?;
    write_sockaddr(buf.get_mut(n..).ok_or(Errno::ENOBUFS)?, dst, dport)?;
    Ok(size)
}
