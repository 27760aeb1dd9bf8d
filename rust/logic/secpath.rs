//! Inbound policy verification: were the SAs a packet was decapsulated
//! with the ones its policy's templates ask for? This is the template walk
//! of Linux's `__xfrm_policy_check` (net/xfrm/xfrm_policy.c, v6.12), rule
//! for rule, over a single policy, with two departures for IPcomp:
//!
//! - **IPcomp templates are optional on input, at any level.** A sender
//!   compresses only payloads above a threshold and keeps the result only
//!   when it is smaller, so an IPcomp SA cannot be required of every
//!   packet. KAME's `ipsec_in_reject` ignores IPcomp requirements inbound
//!   ("we don't really care, as IPcomp document says that we shouldn't
//!   compress small packets"); Linux reaches the same through optional
//!   templates (af_key marks level `use` optional; a `require` IPcomp
//!   template makes uncompressed packets fail, which Linux's maintainers
//!   call a configuration error). rxfrm treats an IPcomp template as
//!   optional whatever its level, so `ipcomp/.../require` works as KAME's.
//! - **An uncompressed IPcomp tunnel packet is a layer of its own.** In
//!   tunnel mode an uncompressed packet arrives as plain IP-in-IP from the
//!   SA's endpoints. Linux decapsulates it with an IPIP "kernel state"
//!   (`ipcomp_tunnel_attach`) that `xfrm_state_ok` lets satisfy an
//!   optional template with the same endpoints (`xfrm_state_kern`). rxfrm
//!   records such a packet as [`SecPathEntry::UncompressedIpcompTunnel`]:
//!   it satisfies a tunnel-mode IPcomp template with those endpoints, and
//!   nothing else (Linux's kernel state would also satisfy an optional ESP
//!   or AH tunnel template with the same endpoints; rxfrm does not, since
//!   it stands for an IPcomp tunnel only). Like any tunnel layer it is a
//!   barrier in the walk and must be accounted for by a template.
//!
//! The datapath carries the chain in a [`SecPath`]: at most [`MAX_DEPTH`]
//! entries (Linux's `XFRM_MAX_DEPTH`), outermost first; a seventh layer
//! cannot be recorded (Linux drops the packet, `XfrmInBufferError`), and
//! a longer chain handed to [`verify`] is a mismatch.
//!
//! Not modelled, because rxfrm has no counterpart: `verified_cnt` of
//! secpaths checked by an earlier policy (entries count as unverified),
//! `if_id`, per-template algorithm masks (af_key sets `allalgs`), template
//! SPIs (PF_KEY templates carry none, so an SA's SPI is never compared)
//! and the merging of a sub-policy's templates.

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

/// Most layers one packet records (Linux's `XFRM_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 6;

/// One layer removed from an inbound packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SecPathEntry {
    /// An SA (ESP, AH or IPcomp) removed it.
    Sa(AppliedSa),
    /// It was plain IP-in-IP (IPv4 or IPv6 inside IPv4 or IPv6) from `src`
    /// to `dst`, the endpoints of an inbound IPcomp tunnel SA: a packet of
    /// that tunnel its sender did not compress.
    UncompressedIpcompTunnel {
        /// Outer source (the tunnel's remote end).
        src: IpAddr,
        /// Outer destination.
        dst: IpAddr,
    },
}

/// A packet's decapsulation record, outermost layer first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecPath {
    entries: [SecPathEntry; MAX_DEPTH],
    len: usize,
}

/// [`SecPath::push`] on a full chain.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecPathFull;

/// Fills unused slots; never read (`len` bounds every access).
const UNUSED: SecPathEntry = SecPathEntry::UncompressedIpcompTunnel {
    src: IpAddr::UNSPEC_V4,
    dst: IpAddr::UNSPEC_V4,
};

impl SecPath {
    /// An empty record.
    pub const fn new() -> Self {
        SecPath {
            entries: [UNUSED; MAX_DEPTH],
            len: 0,
        }
    }

    /// Records the next (inner) layer; fails, recording nothing, when
    /// [`MAX_DEPTH`] are recorded already.
    pub fn push(&mut self, e: SecPathEntry) -> Result<(), SecPathFull> {
        let slot = self.entries.get_mut(self.len).ok_or(SecPathFull)?;
        *slot = e;
        self.len += 1;
        Ok(())
    }

    /// Records an SA.
    pub fn push_sa(&mut self, sa: AppliedSa) -> Result<(), SecPathFull> {
        self.push(SecPathEntry::Sa(sa))
    }

    /// The layers recorded, outermost first.
    pub fn entries(&self) -> &[SecPathEntry] {
        self.entries.get(..self.len).unwrap_or(&[])
    }

    /// How many layers are recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// [`verify`] for this record.
    pub fn verify(&self, templates: &[Template]) -> Result<(), Mismatch> {
        verify_layers(templates, self.entries())
    }

    /// [`verify_no_policy`] for this record.
    pub fn verify_no_policy(&self) -> Result<(), Mismatch> {
        no_policy(self.entries())
    }
}

impl Default for SecPath {
    fn default() -> Self {
        Self::new()
    }
}

/// What the template walk needs of a layer.
trait Layer {
    /// `xfrm_state_ok`: the layer is what template `t` describes.
    fn state_ok(&self, t: &Template) -> bool;
    /// A tunnel layer: a barrier for the templates before it.
    fn is_tunnel(&self) -> bool;
}

impl Layer for AppliedSa {
    fn state_ok(&self, t: &Template) -> bool {
        state_ok(t, self)
    }

    fn is_tunnel(&self) -> bool {
        !is_transport(self.mode)
    }
}

impl Layer for SecPathEntry {
    fn state_ok(&self, t: &Template) -> bool {
        match self {
            SecPathEntry::Sa(sa) => state_ok(t, sa),
            SecPathEntry::UncompressedIpcompTunnel { src, dst } => {
                t.proto == IpsecProto::IpComp
                    && !is_transport(t.mode)
                    && endpoint_ok(&t.src, src)
                    && endpoint_ok(&t.dst, dst)
            }
        }
    }

    fn is_tunnel(&self) -> bool {
        match self {
            SecPathEntry::Sa(sa) => sa.is_tunnel(),
            SecPathEntry::UncompressedIpcompTunnel { .. } => true,
        }
    }
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

/// A template endpoint matches a layer's: equal, or unspecified in the
/// template.
fn endpoint_ok(want: &IpAddr, got: &IpAddr) -> bool {
    want.is_unspecified() || want == got
}

/// `xfrm_state_ok`: the SA is what the template describes. Same protocol
/// and mode, reqid if the template pins one, and in tunnel mode the
/// tunnel endpoints (`xfrm_state_addr_cmp`). Linux compares endpoints
/// strictly since PF_KEY tunnel templates always carry them; an
/// unspecified endpoint of ours matches any.
fn state_ok(t: &Template, sa: &AppliedSa) -> bool {
    sa.proto == t.proto
        && (t.reqid == 0 || t.reqid == sa.reqid)
        && is_transport(sa.mode) == is_transport(t.mode)
        && (is_transport(t.mode) || (endpoint_ok(&t.src, &sa.src) && endpoint_ok(&t.dst, &sa.dst)))
}

/// Whether `t` may be missing from a packet: a `use` template (af_key's
/// `optional`), or any IPcomp template (see the module documentation).
fn optional(t: &Template) -> bool {
    t.level == Level::Use || t.proto == IpsecProto::IpComp
}

/// `xfrm_policy_ok`: looks for the layer of template `t` in `layers` from
/// `start`, stepping over transport layers but not past a tunnel one (a
/// tunnel is a barrier: what lies beyond it was inside the tunnel).
/// Returns the index after the match. An optional template never fails
/// the walk, and in transport mode is not even looked for.
fn policy_ok<L: Layer>(t: &Template, layers: &[L], start: usize) -> Result<usize, Mismatch> {
    let optional = optional(t);
    if optional && is_transport(t.mode) {
        return Ok(start);
    }
    let mut index = None;
    for (i, l) in layers.iter().enumerate().skip(start) {
        if l.state_ok(t) {
            return Ok(i + 1);
        }
        if l.is_tunnel() {
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

/// `secpath_has_nontransport`: a tunnel layer at or after `from` that no
/// template accounted for.
fn has_nontransport<L: Layer>(layers: &[L], from: usize) -> Result<(), Mismatch> {
    match layers
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.is_tunnel())
    {
        Some((i, _)) => Err(Mismatch { index: Some(i) }),
        None => Ok(()),
    }
}

/// More layers than a packet can record.
fn too_deep<L>(layers: &[L]) -> Result<(), Mismatch> {
    if layers.len() > MAX_DEPTH {
        return Err(Mismatch {
            index: Some(MAX_DEPTH),
        });
    }
    Ok(())
}

fn verify_layers<L: Layer>(templates: &[Template], layers: &[L]) -> Result<(), Mismatch> {
    too_deep(layers)?;
    let mut k = 0;
    for t in templates.iter().rev() {
        k = policy_ok(t, layers, k)?;
    }
    has_nontransport(layers, k)
}

fn no_policy<L: Layer>(layers: &[L]) -> Result<(), Mismatch> {
    too_deep(layers)?;
    has_nontransport(layers, 0)
}

/// Checks the SAs `applied` to an inbound packet (outermost first, in
/// decapsulation order) against the templates of the `ipsec` policy that
/// matched it (innermost first, as stored). The templates are walked
/// outermost first, each consuming SAs in order (`__xfrm_policy_check`);
/// then no tunnel SA may be left over (`secpath_has_nontransport`).
/// Extra transport SAs are tolerated, as in Linux; more than
/// [`MAX_DEPTH`] SAs are a mismatch at index [`MAX_DEPTH`].
pub fn verify(templates: &[Template], applied: &[AppliedSa]) -> Result<(), Mismatch> {
    verify_layers(templates, applied)
}

/// [`verify`] over a record that may hold uncompressed IPcomp tunnel
/// layers.
pub fn verify_entries(templates: &[Template], layers: &[SecPathEntry]) -> Result<(), Mismatch> {
    verify_layers(templates, layers)
}

/// The check for a packet no inbound policy matched (`__xfrm_policy_check`
/// with no policy and an `accept` default): fine unless it came out of a
/// tunnel SA, which only a policy could have authorised.
pub fn verify_no_policy(applied: &[AppliedSa]) -> Result<(), Mismatch> {
    no_policy(applied)
}

#[cfg(test)]
mod tests;
