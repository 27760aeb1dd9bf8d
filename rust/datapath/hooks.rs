//! Netfilter entry points (`sys::nf`): output hooks attach bundles, input
//! hooks check packets against inbound policies.

use crate::logic::types::Dir;
use crate::sys::net::Net;
use crate::sys::nf::{Hook, NfHandler, Verdict};
use crate::sys::packet::Pkt;

/// The datapath's netfilter hook function.
pub(crate) struct Hooks;

impl NfHandler for Hooks {
    fn hook(net: Net, pkt: Pkt, hook: Hook, _v6: bool) -> Verdict {
        // Hooks are registered by the namespace's state: a packet here
        // without it can not be classified.
        let Some(ns) = crate::netns::state(&net) else {
            return Verdict::Drop(pkt);
        };
        match hook {
            Hook::In => super::verify::check(ns, pkt, Dir::Inbound),
            // Routed: the fwd policy, then the out policy.
            Hook::Forward => match super::verify::check(ns, pkt, Dir::Forward) {
                Verdict::Accept(p) => super::output::attach(ns, p),
                v => v,
            },
            Hook::Out => super::output::attach(ns, pkt),
        }
    }
}
