//! Per-network-namespace state: `register_pernet_subsys` with an `id` and a
//! `size`, so the kernel allocates a slot in every `struct net` (created and
//! destroyed with the namespace) and `net_generic` finds it again. Each slot
//! also carries a once-a-second work item on the system workqueue (process
//! context, may sleep), stopped before the state goes.
//!
//! The state type is the upper layer's (`PernetState`); this file only knows
//! how to place it, find it and tick it.

use super::bindings;
use super::net::{Net, NetNs};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::ffi::c_int;
use kernel::init::PinInit;
use kernel::prelude::*;
use kernel::types::Opaque;

const TICK_MS: u32 = 1000;

/// A per-namespace state.
pub(crate) trait PernetState: Send + Sync + Sized + 'static {
    /// Where the kernel stores this state's generic id (a `static` of the
    /// implementing module).
    fn id() -> &'static PernetId;
    /// The state of a new namespace.
    fn new(net: Net) -> impl PinInit<Self, Error>;
    /// The state is in place: register what refers to it. An error fails
    /// the namespace's creation (nothing may run unprotected).
    fn start(this: &Pernet<Self>) -> Result;
    /// Once a second, in process context.
    fn tick(this: &Pernet<Self>);
}

/// The generic id the kernel assigns at registration.
pub(crate) struct PernetId {
    id: AtomicU32,
    registered: AtomicBool,
}

impl PernetId {
    pub(crate) const fn new() -> Self {
        PernetId {
            id: AtomicU32::new(0),
            registered: AtomicBool::new(false),
        }
    }
}

/// One namespace's slot: the state, its namespace and its tick.
///
/// INVARIANT: lives in the `net_generic` slot of `net`, from `net_init` to
/// `net_exit`; `ready` is set once it is fully initialised and started, and
/// cleared before it is torn down.
#[pin_data(PinnedDrop)]
pub(crate) struct Pernet<T> {
    ready: AtomicBool,
    stopping: AtomicBool,
    #[pin]
    work: Opaque<bindings::delayed_work>,
    net: Net,
    #[pin]
    state: T,
}

// SAFETY: the work item is only touched through the workqueue API, which
// serialises itself; the flags are atomic; `T` is Send + Sync.
unsafe impl<T: Send + Sync> Send for Pernet<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Pernet<T> {}

impl<T> core::ops::Deref for Pernet<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.state
    }
}

impl<T: PernetState> Pernet<T> {
    fn new(net: Net) -> impl PinInit<Self, Error> {
        try_pin_init!(Pernet {
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            // SAFETY: `INIT_DELAYED_WORK` initialises the whole struct in
            // place; it is pinned from here on.
            work <- Opaque::ffi_init(|p| unsafe {
                bindings::rxfrm_init_delayed_work(p, Some(tick::<T>))
            }),
            net,
            state <- T::new(*net),
        }? Error)
    }

    /// The state of `net`, if rxfrm has one there (registered, and the
    /// namespace's slot complete). Borrowed for as long as `net` is.
    pub(crate) fn of(net: &Net) -> Option<&Pernet<T>> {
        Self::of_live(*net)
    }

    /// The state of the namespace `ns` counts, for as long as the count is
    /// held.
    pub(crate) fn of_counted(ns: &NetNs) -> Option<&Pernet<T>> {
        Self::of_live(ns.net())
    }

    /// # The lifetime
    /// The callers bound `'a` by what keeps the namespace alive.
    fn of_live<'a>(net: Net) -> Option<&'a Pernet<T>> {
        let idp = T::id();
        if !idp.registered.load(Ordering::Acquire) {
            return None;
        }
        let id = idp.id.load(Ordering::Relaxed);
        // SAFETY: `net` is live (its invariant) and our operations are
        // registered, so slot `id` exists: zeroed memory until `net_init`
        // completes (then `ready` is set), a `Pernet<T>` until `net_exit`.
        // An all-zero `AtomicBool` is a valid `false`, so reading `ready`
        // first is sound either way.
        let slot = unsafe { bindings::rxfrm_net_generic(net.as_ptr(), id) as *const Pernet<T> };
        if slot.is_null() {
            return None;
        }
        // SAFETY: as above (a field projection; no other field is read).
        let ready = unsafe { &*core::ptr::addr_of!((*slot).ready) };
        if !ready.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `ready` means a complete `Pernet<T>` that stays until
        // `net_exit`, which cannot run while `net` is held.
        Some(unsafe { &*slot })
    }

    pub(crate) fn net(&self) -> Net {
        self.net
    }

    /// Runs the tick as soon as possible (any context).
    pub(crate) fn kick(&self) {
        if !self.stopping.load(Ordering::Acquire) {
            // SAFETY: the work was initialised in `new` and is pinned;
            // mod_delayed_work may be called from softirq.
            unsafe { bindings::rxfrm_kick_delayed(self.work.get()) };
        }
    }

    fn schedule(&self) {
        if !self.stopping.load(Ordering::Acquire) {
            // SAFETY: the work was initialised in `new` and is pinned.
            unsafe { bindings::rxfrm_schedule_delayed_ms(self.work.get(), TICK_MS) };
        }
    }
}

#[pinned_drop]
impl<T> PinnedDrop for Pernet<T> {
    fn drop(self: Pin<&mut Self>) {
        self.ready.store(false, Ordering::Release);
        self.stopping.store(true, Ordering::Release);
        // SAFETY: initialised work; this waits for a running tick and copes
        // with it re-arming itself. The state drops after this.
        unsafe { bindings::cancel_delayed_work_sync(self.work.get()) };
    }
}

unsafe extern "C" fn tick<T: PernetState>(work: *mut bindings::work_struct) {
    // `work` is the first member of `delayed_work`, which is `Pernet::work`
    // (an `Opaque` is layout-transparent).
    let off = core::mem::offset_of!(Pernet<T>, work);
    // SAFETY: the kernel passes the `work_struct` of a live slot: the drop
    // above cancels the work before the slot goes.
    let this = unsafe { &*(work.cast::<u8>().sub(off).cast::<Pernet<T>>()) };
    T::tick(this);
    this.schedule();
}

fn slot_of<T: PernetState>(net: *mut bindings::net) -> *mut Pernet<T> {
    let id = T::id().id.load(Ordering::Relaxed);
    // SAFETY: called from our pernet callbacks, for a live namespace in
    // which the kernel allocated `size` bytes for us at `id`.
    unsafe { bindings::rxfrm_net_generic(net, id) as *mut Pernet<T> }
}

unsafe extern "C" fn net_init<T: PernetState>(net: *mut bindings::net) -> c_int {
    // SAFETY: the kernel passes a live namespace being set up.
    let Some(n) = (unsafe { Net::from_raw(net) }) else {
        return -(bindings::EINVAL as c_int);
    };
    let slot = slot_of::<T>(net);
    // SAFETY: `slot` is zeroed, unaliased memory of the right size and
    // alignment that stays put until `net_exit`; on error it is only freed.
    if let Err(e) = unsafe { Pernet::<T>::new(n).__pinned_init(slot) } {
        return e.to_errno();
    }
    // SAFETY: initialised just above; it lives until `net_exit` or the
    // drop below.
    let this = unsafe { &*slot };
    if let Err(e) = T::start(this) {
        // SAFETY: nobody can reach the slot (`ready` is not set): tear it
        // down; the kernel then frees it.
        unsafe { core::ptr::drop_in_place(slot) };
        return e.to_errno();
    }
    this.ready.store(true, Ordering::Release);
    this.schedule();
    0
}

unsafe extern "C" fn net_exit<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: `net_init` succeeded for this namespace (else the kernel would
    // not call exit), so the slot holds a `Pernet<T>`; nothing else uses it
    // now (the namespace is being dismantled, its devices are gone).
    unsafe { core::ptr::drop_in_place(slot_of::<T>(net)) };
}

/// Keeps the pernet operations of `T` registered; unregistering runs
/// `net_exit` for every namespace.
pub(crate) struct PernetRegistration<T: PernetState> {
    ops: KBox<Opaque<bindings::pernet_operations>>,
    _t: PhantomData<T>,
}

// SAFETY: the ops are only read by the kernel's (locked) pernet code.
unsafe impl<T: PernetState> Send for PernetRegistration<T> {}
// SAFETY: as above.
unsafe impl<T: PernetState> Sync for PernetRegistration<T> {}

impl<T: PernetState> PernetRegistration<T> {
    pub(crate) fn new() -> Result<Self> {
        // The kernel kzallocs `size` bytes: kmalloc alignment is at least 8.
        const { assert!(core::mem::align_of::<Pernet<T>>() <= 8) };
        let ops = KBox::new(
            Opaque::new(bindings::pernet_operations {
                init: Some(net_init::<T>),
                exit: Some(net_exit::<T>),
                id: T::id().id.as_ptr(),
                size: core::mem::size_of::<Pernet<T>>(),
                ..super::sync_cell::zeroed()
            }),
            GFP_KERNEL,
        )?;
        // Lookups may start as soon as the first `net_init` has run, which
        // happens inside the registration (slots are checked for `ready`).
        T::id().registered.store(true, Ordering::Release);
        // SAFETY: the ops live in a box owned by the registration, which
        // unregisters them before it frees them.
        let err = unsafe { bindings::register_pernet_subsys(ops.get()) };
        if err != 0 {
            T::id().registered.store(false, Ordering::Release);
            return Err(Error::from_errno(err));
        }
        Ok(PernetRegistration {
            ops,
            _t: PhantomData,
        })
    }
}

impl<T: PernetState> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; this runs `net_exit` everywhere.
        unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        T::id().registered.store(false, Ordering::Release);
    }
}
