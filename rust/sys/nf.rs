//! Netfilter hooks, per namespace: output (local out, forward) resolves the
//! outbound policy and attaches a bundle; input (local in, forward) refuses
//! clear text a policy says must be protected. IPv4 and IPv6 alike.

use super::bindings;
use super::pernet::Net;
use super::pkt::Pkt;
use crate::datapath::hooks::{self, Hook, Verdict};
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::types::Opaque;

const N: usize = 6;

/// (family, hook, priority) of each entry. Input checks run before the
/// filter table, output after everything (NAT included), as xfrm's
/// lookups happen after routing decisions are final.
const TABLE: [(u8, u32, i32, Hook); N] = [
    (
        bindings::RXFRM_NFPROTO_IPV4,
        bindings::RXFRM_NF_LOCAL_OUT,
        bindings::RXFRM_NF_PRI_LAST - 1,
        Hook::Out,
    ),
    (
        bindings::RXFRM_NFPROTO_IPV4,
        bindings::RXFRM_NF_FORWARD,
        bindings::RXFRM_NF_PRI_LAST - 1,
        Hook::Forward,
    ),
    (
        bindings::RXFRM_NFPROTO_IPV4,
        bindings::RXFRM_NF_LOCAL_IN,
        bindings::RXFRM_NF_PRI_FILTER - 1,
        Hook::In,
    ),
    (
        bindings::RXFRM_NFPROTO_IPV6,
        bindings::RXFRM_NF_LOCAL_OUT,
        bindings::RXFRM_NF_PRI_LAST - 1,
        Hook::Out,
    ),
    (
        bindings::RXFRM_NFPROTO_IPV6,
        bindings::RXFRM_NF_FORWARD,
        bindings::RXFRM_NF_PRI_LAST - 1,
        Hook::Forward,
    ),
    (
        bindings::RXFRM_NFPROTO_IPV6,
        bindings::RXFRM_NF_LOCAL_IN,
        bindings::RXFRM_NF_PRI_FILTER - 1,
        Hook::In,
    ),
];

/// The hook table of one namespace, registered while it lives.
#[pin_data(PinnedDrop)]
pub(crate) struct NfHooks {
    #[pin]
    ops: Opaque<[bindings::nf_hook_ops; N]>,
    net: Opaque<*mut bindings::net>,
}

// SAFETY: the ops are only touched by the kernel's (locked) hook
// registration; `net` is written once before registration.
unsafe impl Send for NfHooks {}
// SAFETY: as above.
unsafe impl Sync for NfHooks {}

impl NfHooks {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(NfHooks {
            // SAFETY: zeroed ops are valid; each entry is then filled in.
            ops <- Opaque::ffi_init(|p: *mut [bindings::nf_hook_ops; N]| unsafe {
                core::ptr::write_bytes(p, 0, 1);
                for (i, &(pf, hook, prio, _)) in TABLE.iter().enumerate() {
                    let op = p.cast::<bindings::nf_hook_ops>().add(i);
                    bindings::rxfrm_nf_fill(op, pf, hook, prio, Some(hook_fn));
                    (*op).priv_ = i as *mut c_void;
                }
            }),
            net: Opaque::new(core::ptr::null_mut()),
        })
    }

    /// Registers the hooks in `net` (from `NetState::started`).
    pub(crate) fn register(&self, net: Net) -> Result {
        // SAFETY: the ops are initialised and pinned inside the namespace
        // state, which outlives the registration (unregistered in drop).
        let e = unsafe {
            *self.net.get() = net.as_ptr();
            bindings::nf_register_net_hooks(net.as_ptr(), self.ops.get().cast(), N as u32)
        };
        if e != 0 {
            // SAFETY: nothing was registered.
            unsafe { *self.net.get() = core::ptr::null_mut() };
            return Err(Error::from_errno(e));
        }
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for NfHooks {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: set before a successful registration, and never after.
        let net = unsafe { *self.net.get() };
        if !net.is_null() {
            // SAFETY: registered in `register` with these ops; this waits
            // for running hooks (synchronize_net).
            unsafe { bindings::nf_unregister_net_hooks(net, self.ops.get().cast(), N as u32) };
        }
    }
}

unsafe extern "C" fn hook_fn(
    priv_: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const c_void,
) -> u32 {
    let Some(&(pf, _, _, hook)) = TABLE.get(priv_ as usize) else {
        return bindings::RXFRM_NF_ACCEPT;
    };
    // SAFETY: netfilter passes a live skb it owns and a live state whose
    // namespace has our hooks registered (so its pernet state exists).
    let (net, mut pkt) = unsafe {
        (
            Net::from_raw(bindings::rxfrm_nf_state_net(state)),
            Pkt::borrowed(skb),
        )
    };
    let v6 = pf == bindings::RXFRM_NFPROTO_IPV6;
    match hooks::on_hook(net, &mut pkt, hook, v6) {
        Verdict::Accept => bindings::RXFRM_NF_ACCEPT,
        Verdict::Drop => bindings::RXFRM_NF_DROP,
    }
}
