//! Netfilter hooks, per namespace, IPv4 and IPv6: LOCAL_OUT and FORWARD
//! (after everything else, NAT included, as xfrm's lookups happen once
//! routing is final) and LOCAL_IN (before the filter table). What a hook
//! decides is the `NfHandler`'s; this file registers the table and turns
//! the kernel's call into a call of the handler.

use super::bindings;
use super::net::Net;
use super::packet::Pkt;
use core::marker::PhantomData;
use kernel::ffi::{c_uint, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Which hook a packet is at.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    /// Locally generated (LOCAL_OUT).
    Out,
    /// Routed through this host (FORWARD).
    Forward,
    /// For this host (LOCAL_IN).
    In,
}

/// What becomes of the packet: handed back to netfilter to let through or
/// to drop, or kept by the handler (which then owns it).
pub(crate) enum Verdict {
    Accept(Pkt),
    /// Dropped; the sender's call fails with EPERM, as for any netfilter drop.
    Drop(Pkt),
    /// Dropped, and the sender's call (`sendmsg`, `connect`) fails with this
    /// errno (positive) rather than EPERM: as Linux's xfrm_lookup reports
    /// ENOBUFS for a bundle it could not allocate.
    DropWith(Pkt, u32),
    Stolen,
}

/// The upper layer's hook function.
pub(crate) trait NfHandler: 'static {
    /// Called for every packet at `hook` of a namespace where the hooks are
    /// registered (softirq or process context, RCU read side held), with
    /// its data at the network header.
    fn hook(net: Net, pkt: Pkt, hook: Hook, v6: bool) -> Verdict;
}

const N: usize = 6;

/// (family, hook, priority) of each entry; the index is the hook's `priv`.
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
pub(crate) struct NfHooks<H: NfHandler> {
    #[pin]
    ops: Opaque<[bindings::nf_hook_ops; N]>,
    /// The namespace they are registered in (null: not registered).
    net: Opaque<*mut bindings::net>,
    _h: PhantomData<H>,
}

// SAFETY: the ops are only touched by the kernel's (locked) hook
// registration; `net` is written once, before registration.
unsafe impl<H: NfHandler> Send for NfHooks<H> {}
// SAFETY: as above.
unsafe impl<H: NfHandler> Sync for NfHooks<H> {}

impl<H: NfHandler> NfHooks<H> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(NfHooks {
            // SAFETY: zeroed ops are valid; each entry is then filled in.
            ops <- Opaque::ffi_init(|p: *mut [bindings::nf_hook_ops; N]| unsafe {
                core::ptr::write_bytes(p, 0, 1);
                for (i, &(pf, hook, prio, _)) in TABLE.iter().enumerate() {
                    let op = &mut *p.cast::<bindings::nf_hook_ops>().add(i);
                    // The function has nf_hookfn's exact type: no cast, so
                    // the indirect call is CFI-clean.
                    op.hook = Some(hook_fn::<H>);
                    op.pf = pf;
                    op.hooknum = hook;
                    op.priority = prio;
                    op.priv_ = i as *mut c_void;
                }
            }),
            net: Opaque::new(core::ptr::null_mut()),
            _h: PhantomData,
        })
    }

    /// Registers the hooks in `net` (once the owner is in place).
    pub(crate) fn register(&self, net: Net) -> Result {
        // SAFETY: the ops are initialised and pinned inside their owner,
        // which outlives the registration (unregistered in drop); `net` is
        // only written here, before the kernel can call back.
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

impl<H: NfHandler> NfHooks<H> {
    /// Unregisters the hooks (if registered): no packet reaches the
    /// handler once this returns. Idempotent; drop does it too.
    pub(crate) fn unregister(&self) {
        // SAFETY: `net` is only written by `register` and here, both from
        // the owner's process-context setup and teardown, never together.
        let net = unsafe { core::ptr::replace(self.net.get(), core::ptr::null_mut()) };
        if !net.is_null() {
            // SAFETY: registered in `register` with these ops; this waits
            // for running hooks (synchronize_net).
            unsafe { bindings::nf_unregister_net_hooks(net, self.ops.get().cast(), N as u32) };
        }
    }
}

#[pinned_drop]
impl<H: NfHandler> PinnedDrop for NfHooks<H> {
    fn drop(self: Pin<&mut Self>) {
        self.unregister();
    }
}

unsafe extern "C" fn hook_fn<H: NfHandler>(
    priv_: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> c_uint {
    let Some(&(pf, _, _, hook)) = TABLE.get(priv_ as usize) else {
        return bindings::RXFRM_NF_DROP;
    };
    // SAFETY: netfilter passes a live state of a namespace where our hooks
    // are registered.
    let Some(net) = (unsafe { Net::from_raw((*state).net) }) else {
        return bindings::RXFRM_NF_DROP;
    };
    // SAFETY: a live skb, ours until we give it back with a verdict:
    // ACCEPT and DROP return it to netfilter (which frees a dropped one),
    // STOLEN means the handler kept it.
    let pkt = unsafe { Pkt::from_raw(skb) };
    let v6 = pf == bindings::RXFRM_NFPROTO_IPV6;
    match H::hook(net, pkt, hook, v6) {
        Verdict::Accept(p) => {
            p.into_raw();
            bindings::RXFRM_NF_ACCEPT
        }
        Verdict::Drop(p) => {
            p.into_raw();
            bindings::RXFRM_NF_DROP
        }
        // NF_DROP_ERR: nf_hook_slow returns the errno from the verdict's
        // upper half.
        Verdict::DropWith(p, errno) => {
            p.into_raw();
            (errno.min(0xfff) << 16) | bindings::RXFRM_NF_DROP
        }
        Verdict::Stolen => bindings::RXFRM_NF_STOLEN,
    }
}

/// Reassembly ahead of the hooks, per namespace: conntrack's IPv4 and IPv6
/// defragmentation (`nf_defrag_ipv4/6_enable`), so that LOCAL_IN and
/// FORWARD see whole datagrams — with their ports, and with the sec_path of
/// their head fragment — rather than fragments no port policy can judge.
pub(crate) struct Defrag {
    net: Net,
}

impl Defrag {
    pub(crate) fn enable(net: Net) -> Result<Self> {
        // SAFETY: live namespace; undone in drop (the calls are counted per
        // namespace by the kernel).
        let e = unsafe { bindings::nf_defrag_ipv4_enable(net.as_ptr()) };
        if e != 0 {
            return Err(Error::from_errno(e));
        }
        // SAFETY: as above.
        let e = unsafe { bindings::nf_defrag_ipv6_enable(net.as_ptr()) };
        if e != 0 {
            // SAFETY: enabled just above.
            unsafe { bindings::nf_defrag_ipv4_disable(net.as_ptr()) };
            return Err(Error::from_errno(e));
        }
        Ok(Defrag { net })
    }
}

impl Drop for Defrag {
    fn drop(&mut self) {
        // SAFETY: both were enabled in `enable`; the namespace outlives its
        // state.
        unsafe {
            bindings::nf_defrag_ipv6_disable(self.net.as_ptr());
            bindings::nf_defrag_ipv4_disable(self.net.as_ptr());
        }
    }
}
