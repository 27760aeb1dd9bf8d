//! IP addresses and prefixes as PF_KEY, the SPD and the SAD see them.

use core::fmt;

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// An IPv4 or IPv6 address in network byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum IpAddr {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl IpAddr {
    pub const UNSPEC_V4: IpAddr = IpAddr::V4([0; 4]);
    pub const UNSPEC_V6: IpAddr = IpAddr::V6([0; 16]);

    /// Builds an address from `AF_INET`/`AF_INET6` and its raw bytes.
    pub fn from_family(family: u16, bytes: &[u8]) -> Option<IpAddr> {
        match family {
            AF_INET => Some(IpAddr::V4(bytes.get(..4)?.try_into().ok()?)),
            AF_INET6 => Some(IpAddr::V6(bytes.get(..16)?.try_into().ok()?)),
            _ => None,
        }
    }

    pub fn family(&self) -> u16 {
        match self {
            IpAddr::V4(_) => AF_INET,
            IpAddr::V6(_) => AF_INET6,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            IpAddr::V4(b) => b,
            IpAddr::V6(b) => b,
        }
    }

    /// 32 or 128.
    pub fn max_prefix(&self) -> u8 {
        match self {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    pub fn is_unspecified(&self) -> bool {
        self.as_bytes().iter().all(|&b| b == 0)
    }

    /// The address with all bits past `prefix` cleared.
    pub fn masked(&self, prefix: u8) -> IpAddr {
        let mut out = *self;
        let bytes: &mut [u8] = match &mut out {
            IpAddr::V4(b) => b,
            IpAddr::V6(b) => b,
        };
        let prefix = usize::from(prefix);
        for (i, b) in bytes.iter_mut().enumerate() {
            let keep = prefix.saturating_sub(i * 8).min(8);
            *b &= !(0xffu16 >> keep) as u8;
        }
        out
    }

    /// Whether `self` lies in `net/prefix` (same family required).
    pub fn in_prefix(&self, net: &IpAddr, prefix: u8) -> bool {
        self.family() == net.family() && self.masked(prefix) == net.masked(prefix)
    }
}

impl fmt::Display for IpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpAddr::V4(b) => write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
            IpAddr::V6(b) => fmt_v6(b, f),
        }
    }
}

/// RFC 5952 text form: longest run (>1) of zero groups becomes `::`.
fn fmt_v6(b: &[u8; 16], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut g = [0u16; 8];
    for (i, w) in g.iter_mut().enumerate() {
        *w = u16::from_be_bytes([b[2 * i], b[2 * i + 1]]);
    }
    let (mut best, mut best_len, mut cur, mut cur_len) = (0, 0, 0, 0);
    for (i, &w) in g.iter().enumerate() {
        if w == 0 {
            if cur_len == 0 {
                cur = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                best = cur;
                best_len = cur_len;
            }
        } else {
            cur_len = 0;
        }
    }
    if best_len < 2 {
        best_len = 0;
    }
    let mut i = 0;
    while i < 8 {
        if best_len > 0 && i == best {
            f.write_str(if i == 0 { "::" } else { ":" })?;
            i += best_len;
            continue;
        }
        write!(f, "{:x}", g[i])?;
        if i != 7 {
            f.write_str(":")?;
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn masks_and_prefixes() {
        let a = IpAddr::V4([10, 1, 2, 3]);
        assert_eq!(a.masked(24), IpAddr::V4([10, 1, 2, 0]));
        assert_eq!(a.masked(0), IpAddr::V4([0; 4]));
        assert_eq!(a.masked(32), a);
        assert_eq!(a.masked(12), IpAddr::V4([10, 0, 0, 0]));
        assert!(a.in_prefix(&IpAddr::V4([10, 1, 0, 0]), 16));
        assert!(!a.in_prefix(&IpAddr::V4([10, 2, 0, 0]), 16));
        assert!(!a.in_prefix(&IpAddr::UNSPEC_V6, 0));
    }

    #[test]
    fn formats_like_inet_ntop() {
        let v6 = |s: [u16; 8]| {
            let mut b = [0u8; 16];
            for (i, w) in s.iter().enumerate() {
                b[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
            }
            IpAddr::V6(b).to_string()
        };
        assert_eq!(v6([0; 8]), "::");
        assert_eq!(v6([0, 0, 0, 0, 0, 0, 0, 1]), "::1");
        assert_eq!(v6([0xfe80, 0, 0, 0, 0, 0, 0, 1]), "fe80::1");
        assert_eq!(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), "2001:db8:0:1::1");
        assert_eq!(v6([1, 0, 1, 0, 1, 0, 1, 0]), "1:0:1:0:1:0:1:0");
        assert_eq!(IpAddr::V4([192, 0, 2, 1]).to_string(), "192.0.2.1");
    }
}
