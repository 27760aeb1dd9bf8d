//! Per-network-namespace state: `register_pernet_subsys` with an `id` and a
//! `size`, so the kernel allocates a `NetState` slot in every `struct net`
//! (created and destroyed with the namespace) and `net_generic` finds it.

use super::bindings;
use super::sync_cell::{zeroed, KernelStatic};
use crate::netns::NetState;
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::init::PinInit;
use kernel::prelude::*;

/// Filled in by the kernel on registration.
static NET_ID: AtomicU32 = AtomicU32::new(0);

static OPS: KernelStatic<bindings::pernet_operations> =
    KernelStatic::new(bindings::pernet_operations {
        init: Some(net_init),
        exit: Some(net_exit),
        id: NET_ID.as_ptr(),
        size: core::mem::size_of::<NetState>(),
        ..zeroed()
    });

// net_generic storage is kzalloc'ed: kmalloc alignment is at least 8.
const _: () = assert!(core::mem::align_of::<NetState>() <= 8);

/// A network namespace, borrowed for as long as the caller holds a
/// reference on it (a socket in it, or the pernet callback running).
#[derive(Clone, Copy)]
pub(crate) struct Net(*mut bindings::net);

// SAFETY: `struct net` is shared across CPUs by design; `Net` only reads
// its immutable generic-pointer array.
unsafe impl Send for Net {}
// SAFETY: as above.
unsafe impl Sync for Net {}

impl Net {
    /// # Safety
    /// `net` is a live namespace for as long as the `Net` is used.
    pub(crate) unsafe fn from_raw(net: *mut bindings::net) -> Net {
        Net(net)
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0
    }

    /// rxfrm's state in this namespace.
    pub(crate) fn state(&self) -> &NetState {
        let id = NET_ID.load(Ordering::Relaxed);
        // SAFETY: `self.0` is live (type invariant) and our pernet ops are
        // registered for as long as any namespace can reach rxfrm code, so
        // slot `id` holds a `NetState` initialised by `net_init`.
        unsafe { &*(bindings::rxfrm_net_generic(self.0, id) as *const NetState) }
    }

    /// Whether the caller has CAP_NET_ADMIN over this namespace.
    pub(crate) fn admin_capable(&self) -> bool {
        // SAFETY: `self.0` is live.
        unsafe { bindings::rxfrm_net_admin_capable(self.0) }
    }
}

unsafe extern "C" fn net_init(net: *mut bindings::net) -> kernel::ffi::c_int {
    // SAFETY: the kernel passes a live namespace being set up.
    let net = unsafe { Net::from_raw(net) };
    let slot = {
        let id = NET_ID.load(Ordering::Relaxed);
        // SAFETY: the kernel allocated `size` bytes for us at `id`.
        unsafe { bindings::rxfrm_net_generic(net.as_ptr(), id) as *mut NetState }
    };
    // SAFETY: `slot` is zeroed, unaliased memory of the right size and
    // alignment that stays put until `net_exit`; on error it is only freed.
    match unsafe { NetState::new(net).__pinned_init(slot) } {
        Ok(()) => {
            // SAFETY: initialised just above; it lives until `net_exit`.
            unsafe { (*slot).started() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn net_exit(net: *mut bindings::net) {
    let id = NET_ID.load(Ordering::Relaxed);
    // SAFETY: `net_init` succeeded for this namespace (else the kernel would
    // not call exit), so the slot holds a `NetState` nobody else uses now.
    unsafe {
        let slot = bindings::rxfrm_net_generic(net, id) as *mut NetState;
        core::ptr::drop_in_place(slot);
    }
}

/// Keeps the pernet operations registered; unregistering runs `net_exit`
/// for every namespace.
pub(crate) struct PernetRegistration(());

impl PernetRegistration {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: `OPS` is a static that outlives the registration.
        let err = unsafe { bindings::register_pernet_subsys(OPS.get()) };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        Ok(PernetRegistration(()))
    }
}

impl Drop for PernetRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.
        unsafe { bindings::unregister_pernet_subsys(OPS.get()) }
    }
}
