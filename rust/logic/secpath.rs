//! Inbound policy verification: were the SAs a packet was decapsulated
//! with the ones its policy's templates ask for? This is the template walk
//! of Linux's `__xfrm_policy_check` (net/xfrm/xfrm_policy.c, v6.12), rule
//! for rule, over a single policy.
//!
//! Not modelled, because rxfrm has no counterpart: kernel-internal states
//! (`xfrm_state_kern`, IPIP states of IPComp tunnels), `verified_cnt` of
//! secpaths checked by an earlier policy (entries count as unverified),
//! `if_id`, per-template algorithm masks (af_key sets `allalgs`), template
//! SPIs (PF_KEY templates carry none) and the merging of a sub-policy's
//! templates.

use crate::logic::addr::IpAddr;
use crate::logic::spd::Template;
use crate::logic::types::{IpsecProto, Level, Mode};

/// One SA removed from an inbound packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AppliedSa {
    /// AH, ESP or IPComp.
    pub proto: IpsecProto,
    /// Transport or tunnel.
    pub mode: Mode,
    /// SPI (IPComp: CPI).
    pub spi: u32,
    /// The SA's reqid.
    pub reqid: u32,
    /// SA source (the tunnel's remote end in tunnel mode).
    pub src: IpAddr,
    /// SA destination.
    pub dst: IpAddr,
}

/// The packet does not satisfy the policy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mismatch {
    /// Position in `applied` of the SA that stopped the walk (Linux's
    /// `xerr_idx`, for `xfrm_secpath_reject`); `None` when a required
    /// template found no SA at all.
    pub index: Option<usize>,
}

/// Whether `mode` is transport: af_key's `pfkey_mode_to_xfrm` turns
/// `IPSEC_MODE_ANY` into transport, for templates and SAs alike.
fn is_transport(mode: Mode) -> bool {
    mode != Mode::Tunnel
}

/// `xfrm_state_ok`: the SA is what the template describes. Same protocol
/// and mode, reqid if the template pins one, and in tunnel mode the
/// tunnel endpoints (`xfrm_state_addr_cmp`). Linux compares endpoints
/// strictly since PF_KEY tunnel templates always carry them; an
/// unspecified endpoint of ours matches any.
fn state_ok(t: &Template, sa: &AppliedSa) -> bool {
    let endpoint_ok = |want: &IpAddr, got: &IpAddr| want.is_unspecified() || want == got;
    sa.proto == t.proto
        && (t.reqid == 0 || t.reqid == sa.reqid)
        && is_transport(sa.mode) == is_transport(t.mode)
        && (is_transport(t.mode) || (endpoint_ok(&t.src, &sa.src) && endpoint_ok(&t.dst, &sa.dst)))
}

/// `xfrm_policy_ok`: looks for the SA of template `t` in `applied` from
/// `start`, stepping over transport SAs but not past a tunnel one (a tunnel
/// SA is a barrier: what lies beyond it was inside the tunnel). Returns
/// the index after the match. An optional (`use`) template never fails the
/// walk, and in transport mode is not even looked for.
fn policy_ok(t: &Template, applied: &[AppliedSa], start: usize) -> Result<usize, Mismatch> {
    let optional = t.level == Level::Use;
    if optional && is_transport(t.mode) {
        return Ok(start);
    }
    let mut index = None;
    for (i, sa) in applied.iter().enumerate().skip(start) {
        if state_ok(t, sa) {
            return Ok(i + 1);
        }
        if !is_transport(sa.mode) {
            index = Some(i);
            break;
        }
    }
    if optional {
        Ok(start)
    } else {
        Err(Mismatch { index })
    }
}

/// `secpath_has_nontransport`: a tunnel SA at or after `from` that no
/// template accounted for.
fn has_nontransport(applied: &[AppliedSa], from: usize) -> Result<(), Mismatch> {
    match applied
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, sa)| !is_transport(sa.mode))
    {
        Some((i, _)) => Err(Mismatch { index: Some(i) }),
        None => Ok(()),
    }
}

/// Checks the SAs `applied` to an inbound packet (outermost first, in
/// decapsulation order) against the templates of the `ipsec` policy that
/// matched it (innermost first, as stored). The templates are walked
/// outermost first, each consuming SAs in order (`__xfrm_policy_check`);
/// then no tunnel SA may be left over (`secpath_has_nontransport`).
/// Extra transport SAs are tolerated, as in Linux.
pub fn verify(templates: &[Template], applied: &[AppliedSa]) -> Result<(), Mismatch> {
    let mut k = 0;
    for t in templates.iter().rev() {
        k = policy_ok(t, applied, k)?;
    }
    has_nontransport(applied, k)
}

/// The check for a packet no inbound policy matched (`__xfrm_policy_check`
/// with no policy and an `accept` default): fine unless it came out of a
/// tunnel SA, which only a policy could have authorised.
pub fn verify_no_policy(applied: &[AppliedSa]) -> Result<(), Mismatch> {
    has_nontransport(applied, 0)
}

#[cfg(test)]
mod tests;
