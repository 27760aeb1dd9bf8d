//! Netfilter entry points (sys::nf): output hooks attach bundles, input
//! hooks check packets against inbound policies.

use crate::logic::packet::{flow_of_ipv4, flow_of_ipv6, Flow};
use crate::logic::types::Dir;
use crate::sys::pernet::Net;
use crate::sys::pkt::Pkt;

/// Which hook a packet is at.
#[derive(Clone, Copy)]
pub(crate) enum Hook {
    /// Locally generated (LOCAL_OUT).
    Out,
    /// Routed through this host (FORWARD): fwd policy, then out policy.
    Forward,
    /// For this host (LOCAL_IN).
    In,
}

pub(crate) enum Verdict {
    Accept,
    Drop,
}

pub(crate) fn on_hook(net: Net, pkt: &mut Pkt, hook: Hook, v6: bool) -> Verdict {
    let dp = &net.state().dp;
    match hook {
        Hook::In => super::input::check(net, dp, pkt, v6, Dir::Inbound),
        Hook::Forward => match super::input::check(net, dp, pkt, v6, Dir::Forward) {
            Verdict::Accept => super::output::attach(net, dp, pkt, v6),
            Verdict::Drop => Verdict::Drop,
        },
        Hook::Out => super::output::attach(net, dp, pkt, v6),
    }
}

/// The selectors of the packet at `data` (its network header at these
/// hooks), read from a copy of its first bytes.
pub(crate) fn flow(pkt: &Pkt, v6: bool) -> Option<Flow> {
    let mut buf = [0u8; 128];
    let n = pkt.len().min(buf.len());
    let b = buf.get_mut(..n)?;
    pkt.copy_out(0, b)?;
    if v6 {
        flow_of_ipv6(b).ok()
    } else {
        flow_of_ipv4(b).ok()
    }
}
