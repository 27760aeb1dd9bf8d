//! Network namespaces: `Net`, a borrowed handle for callbacks during which
//! the kernel holds the namespace, and `ARef<NetNs>`, a counted reference
//! for work that outlives the call that found the namespace (asynchronous
//! crypto completions).

use super::bindings;
use core::ptr::NonNull;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A network namespace, borrowed.
///
/// INVARIANT: the namespace is live for as long as the value is used: every
/// `Net` comes from a kernel callback that holds the namespace (a packet of
/// it, a socket in it, a pernet/notifier callback for it) or from a counted
/// `NetNs` reference, and is not kept past that.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Net(NonNull<bindings::net>);

// SAFETY: `struct net` is shared across CPUs by design; `Net` only passes
// it to thread-safe kernel APIs.
unsafe impl Send for Net {}
// SAFETY: as above.
unsafe impl Sync for Net {}

impl Net {
    /// # Safety
    /// `net` is a live namespace for as long as the `Net` is used (the type
    /// invariant).
    pub(crate) unsafe fn from_raw(net: *mut bindings::net) -> Option<Net> {
        NonNull::new(net).map(Net)
    }

    /// # Safety
    /// As `from_raw`, and `net` is not null.
    pub(super) unsafe fn from_nonnull(net: *mut bindings::net) -> Net {
        // SAFETY: per the contract.
        Net(unsafe { NonNull::new_unchecked(net) })
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.as_ptr()
    }

    /// Whether the caller has CAP_NET_ADMIN over this namespace.
    pub(crate) fn admin_capable(&self) -> bool {
        // SAFETY: live namespace (invariant).
        unsafe { bindings::rxfrm_net_admin_capable(self.as_ptr()) }
    }

    /// A counted reference, unless the namespace is already being
    /// dismantled (`maybe_get_net`): then whatever wanted to outlive the
    /// call must not start.
    pub(crate) fn counted(&self) -> Option<ARef<NetNs>> {
        // SAFETY: live namespace (invariant); on success we own one count.
        let p = unsafe { bindings::rxfrm_maybe_get_net(self.as_ptr()) };
        // SAFETY: `p` carries the count just taken; `NetNs` is
        // layout-transparent over `struct net`.
        NonNull::new(p).map(|p| unsafe { ARef::from_raw(p.cast::<NetNs>()) })
    }
}

/// A network namespace as a reference-counted object (`get_net`/`put_net`).
#[repr(transparent)]
pub(crate) struct NetNs(Opaque<bindings::net>);

// SAFETY: namespaces are shared across CPUs by design.
unsafe impl Send for NetNs {}
// SAFETY: as above.
unsafe impl Sync for NetNs {}

// SAFETY: `get_net`/`put_net` keep the namespace alive while the count is
// held; `put_net` of the last count schedules its cleanup (any context).
unsafe impl AlwaysRefCounted for NetNs {
    fn inc_ref(&self) {
        // SAFETY: `&self` proves a count is held, so the namespace is live.
        unsafe { bindings::rxfrm_get_net(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up one count it held.
        unsafe { bindings::rxfrm_put_net(obj.as_ptr().cast()) };
    }
}

impl NetNs {
    /// The borrowed handle, valid while this count is held.
    pub(crate) fn net(&self) -> Net {
        Net(NonNull::from(self).cast())
    }
}

/// A counted reference on a network device (`dev_hold`/`dev_put`), for
/// work that re-injects a packet on its device after the call that got it
/// returned (as xfrm_input holds `skb->dev` across asynchronous crypto).
///
/// INVARIANT: holds one reference on a live device.
pub(crate) struct DevRef(NonNull<bindings::net_device>);

// SAFETY: device references are taken and dropped on any CPU.
unsafe impl Send for DevRef {}
// SAFETY: only the identity is used.
unsafe impl Sync for DevRef {}

impl DevRef {
    /// # Safety
    /// `dev` is null or a live device for the duration of the call.
    pub(crate) unsafe fn hold(dev: *mut bindings::net_device) -> Option<DevRef> {
        let d = NonNull::new(dev)?;
        // SAFETY: live per the contract; the reference is ours.
        unsafe { bindings::rxfrm_dev_hold(d.as_ptr()) };
        Some(DevRef(d))
    }
}

impl Drop for DevRef {
    fn drop(&mut self) {
        // SAFETY: ours (invariant).
        unsafe { bindings::rxfrm_dev_put(self.0.as_ptr()) };
    }
}
