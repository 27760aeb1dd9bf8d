//! MTU arithmetic for a bundle: what each transform step adds to a packet
//! and how much of a path MTU is left for the packet it protects.
//!
//! A [`Step`] is one template's SA as the output path applies it: the
//! transform (ESP, AH or IPcomp) and, in tunnel mode, the outer header's
//! family (20 bytes for IPv4, 40 for IPv6; 4in6 and 6in4 take the outer
//! family's). Per step, as Linux's `*_init_state` set `props.header_len`
//! and `xfrm_state_mtu` uses it:
//!
//! - ESP: header and IV, then the worst trailer (`block - 1` padding, pad
//!   length, next header) and the ICV ([`EspLayout::max_overhead`]); the
//!   MTU left is `esp4/6_get_mtu`'s ([`EspLayout::payload_mtu`]).
//! - AH: its header, ICV padded as RFC 4302 asks for the family the AH
//!   header is in (the outer one in tunnel mode): 32 bits for IPv4, 64 for
//!   IPv6 ([`ah::header_len`]).
//! - IPcomp: nothing. `ipcomp4/6_init_state` set `header_len` 0 (plus the
//!   outer header in tunnel mode): `ipcomp_output` sends a packet
//!   uncompressed unless the compressed form with its 4-byte header is
//!   smaller, so IPcomp never makes a packet larger.
//!
//! A bundle holds up to [`MAX_BUNDLE`] steps, innermost (the policy's
//! first template) first; the worst-case overhead is the sum, and the MTU
//! left for the inner packet applies each step's rule from the outermost
//! inwards, as `xfrm_init_pmtu` does from the route's MTU.

use crate::logic::addr::IpAddr;
use crate::logic::ah::{self, Align};
use crate::logic::esp::{EspLayout, ESP_HDR_LEN};

/// Most steps a bundle has (Linux's `XFRM_MAX_DEPTH`).
pub const MAX_BUNDLE: usize = 6;

/// An IP version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The fixed IP header: 20 or 40 bytes.
    pub fn ip_header_len(self) -> usize {
        match self {
            Family::V4 => 20,
            Family::V6 => 40,
        }
    }
}

/// The transform a step applies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transform {
    /// ESP with this layout.
    Esp(EspLayout),
    /// AH with an ICV of this many bytes.
    Ah {
        /// Truncated ICV length.
        icv_len: usize,
    },
    /// IPcomp.
    IpComp,
}

/// One SA of a bundle as output applies it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Step {
    /// What it does.
    pub transform: Transform,
    /// Tunnel mode: the outer header's family. `None` in transport mode.
    pub tunnel: Option<Family>,
}

impl Step {
    /// The family of what this step emits, given the family it receives.
    pub fn output_family(&self, input: Family) -> Family {
        self.tunnel.unwrap_or(input)
    }

    /// The bytes in front of the protected data: the transform's header
    /// (ESP: with its IV) plus the outer header in tunnel mode (Linux's
    /// `props.header_len`). `None` for an AH ICV too long for AH.
    pub fn header_len(&self, input: Family) -> Option<usize> {
        let outer = self.tunnel.map_or(0, Family::ip_header_len);
        let own = match self.transform {
            Transform::Esp(l) => ESP_HDR_LEN.checked_add(l.iv_len)?,
            Transform::Ah { icv_len } => {
                let v6 = self.output_family(input) == Family::V6;
                ah::header_len(icv_len, Align::for_ipv6(v6))?
            }
            Transform::IpComp => 0,
        };
        own.checked_add(outer)
    }

    /// The most bytes this step adds to any packet.
    pub fn max_overhead(&self, input: Family) -> Option<usize> {
        let trailer = match self.transform {
            Transform::Esp(l) => l.max_overhead().checked_sub(ESP_HDR_LEN + l.iv_len)?,
            Transform::Ah { .. } | Transform::IpComp => 0,
        };
        self.header_len(input)?.checked_add(trailer)
    }

    /// The largest packet (of family `input`) that still fits `mtu` once
    /// this step has been applied (`xfrm_state_mtu`); 0 when none does.
    pub fn inner_mtu(&self, input: Family, mtu: u32) -> u32 {
        let Some(hdr) = self.header_len(input).and_then(|h| u32::try_from(h).ok()) else {
            return 0;
        };
        match self.transform {
            Transform::Esp(l) => {
                // Transport mode keeps the IP header out of the padding.
                let net_adj = match self.tunnel {
                    Some(_) => 0,
                    None => input.ip_header_len() as u32,
                };
                l.payload_mtu(mtu, hdr, net_adj)
            }
            Transform::Ah { .. } | Transform::IpComp => mtu.saturating_sub(hdr),
        }
    }
}

/// The most bytes a bundle of `steps` (innermost first, applied to a
/// packet of family `input`) adds; `None` for more than [`MAX_BUNDLE`]
/// steps or a step that cannot exist.
pub fn bundle_max_overhead(input: Family, steps: &[Step]) -> Option<usize> {
    if steps.len() > MAX_BUNDLE {
        return None;
    }
    let mut fam = input;
    let mut sum = 0usize;
    for s in steps {
        sum = sum.checked_add(s.max_overhead(fam)?)?;
        fam = s.output_family(fam);
    }
    Some(sum)
}

/// The largest inner packet (of family `input`) a bundle of `steps` lets
/// through a route of `route_mtu`: each step's [`Step::inner_mtu`] from
/// the outermost in. `None` for more than [`MAX_BUNDLE`] steps or a step
/// that cannot exist.
pub fn bundle_inner_mtu(input: Family, steps: &[Step], route_mtu: u32) -> Option<u32> {
    if steps.len() > MAX_BUNDLE {
        return None;
    }
    // The family each step receives.
    let mut fams = [input; MAX_BUNDLE];
    let mut fam = input;
    for (s, f) in steps.iter().zip(fams.iter_mut()) {
        s.header_len(fam)?;
        *f = fam;
        fam = s.output_family(fam);
    }
    let mut mtu = route_mtu;
    for (s, f) in steps.iter().zip(fams).rev() {
        mtu = s.inner_mtu(f, mtu);
    }
    Some(mtu)
}

#[cfg(test)]
mod tests;
