//! `setsockopt(IP_IPSEC_POLICY / IPV6_IPSEC_POLICY)`: the KAME per-socket
//! policy an IKE daemon sets on its own sockets, read as af_key's
//! `pfkey_compile_policy` reads it.

use crate::logic::pfkey::Errno;
use crate::logic::types::Dir;

/// What the socket asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SockPolicy {
    /// Skip the SPD: send and receive in clear (af_key compiles every type
    /// but `discard` and `ipsec` to "allow, no templates").
    Bypass,
    /// Drop everything.
    Discard,
}

const POLICY_LEN: usize = 16;
const IPSEC_POLICY_DISCARD: u16 = 0;
const IPSEC_POLICY_IPSEC: u16 = 2;
const IPSEC_POLICY_BYPASS: u16 = 4;

/// Reads a `struct sadb_x_policy` (with any trailing requests) given to
/// the socket option. `ipsec` policies — templates for one socket — are
/// refused with EOPNOTSUPP: rxfrm applies templates from the SPD only.
pub fn socket_policy(data: &[u8]) -> Result<(Dir, SockPolicy), Errno> {
    let h = data.get(..POLICY_LEN).ok_or(Errno::EINVAL)?;
    let u16_at = |o: usize| u16::from_ne_bytes([h[o], h[o + 1]]);
    let words = usize::from(u16_at(0));
    let ptype = u16_at(4);
    let dir = h[6];
    if words * 8 > data.len() || ptype > IPSEC_POLICY_BYPASS || !(1..=2).contains(&dir) {
        return Err(Errno::EINVAL);
    }
    let dir = if dir == 1 {
        Dir::Inbound
    } else {
        Dir::Outbound
    };
    match ptype {
        IPSEC_POLICY_DISCARD => Ok((dir, SockPolicy::Discard)),
        IPSEC_POLICY_IPSEC => Err(Errno::EOPNOTSUPP),
        _ => Ok((dir, SockPolicy::Bypass)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pol(len: u16, ptype: u16, dir: u8) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..2].copy_from_slice(&len.to_ne_bytes());
        b[2..4].copy_from_slice(&18u16.to_ne_bytes());
        b[4..6].copy_from_slice(&ptype.to_ne_bytes());
        b[6] = dir;
        b
    }

    #[test]
    fn bypass_discard_and_refusals() {
        assert_eq!(
            socket_policy(&pol(2, 4, 2)),
            Ok((Dir::Outbound, SockPolicy::Bypass))
        );
        assert_eq!(
            socket_policy(&pol(2, 1, 1)),
            Ok((Dir::Inbound, SockPolicy::Bypass))
        );
        assert_eq!(
            socket_policy(&pol(2, 3, 1)),
            Ok((Dir::Inbound, SockPolicy::Bypass))
        );
        assert_eq!(
            socket_policy(&pol(2, 0, 2)),
            Ok((Dir::Outbound, SockPolicy::Discard))
        );
        assert_eq!(socket_policy(&pol(2, 2, 2)), Err(Errno::EOPNOTSUPP));
        assert_eq!(socket_policy(&pol(2, 5, 2)), Err(Errno::EINVAL));
        assert_eq!(socket_policy(&pol(2, 4, 0)), Err(Errno::EINVAL));
        assert_eq!(socket_policy(&pol(2, 4, 3)), Err(Errno::EINVAL));
        assert_eq!(socket_policy(&pol(3, 4, 2)), Err(Errno::EINVAL));
        assert_eq!(socket_policy(&pol(2, 4, 2)[..15]), Err(Errno::EINVAL));
    }
}
