//! Netfilter entry points (`sys::nf`): output hooks attach bundles, input
//! hooks check packets against inbound policies.

use crate::logic::packet::{flow_of_ipv4, flow_of_ipv6, Flow};
use crate::logic::types::Dir;
use crate::sys::net::Net;
use crate::sys::nf::{Hook, NfHandler, Verdict};
use crate::sys::packet::Pkt;

/// The datapath's netfilter hook function.
pub(crate) struct Hooks;

impl NfHandler for Hooks {
    fn hook(net: Net, pkt: &mut Pkt, hook: Hook, v6: bool) -> Verdict {
        // Hooks are registered by the namespace's state: a packet here
        // without it can not be classified.
        let Some(ns) = crate::netns::state(&net) else {
            return Verdict::Drop;
        };
        match hook {
            Hook::In => super::input::check(ns, pkt, v6, Dir::Inbound),
            // Routed: the fwd policy, then the out policy.
            Hook::Forward => match super::input::check(ns, pkt, v6, Dir::Forward) {
                Verdict::Accept => super::output::attach(ns, pkt, v6),
                Verdict::Drop => Verdict::Drop,
            },
            Hook::Out => super::output::attach(ns, pkt, v6),
        }
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
