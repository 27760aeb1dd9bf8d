//! A once-a-second callback per namespace (a `delayed_work` on the system
//! workqueue, so it runs in process context and may sleep), driving SA and
//! policy lifetimes.

use super::bindings;
use crate::netns::NetState;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel::types::Opaque;

const PERIOD_MS: u32 = 1000;

/// The periodic work item, embedded in `NetState`.
#[pin_data(PinnedDrop)]
pub(crate) struct Ticker {
    #[pin]
    work: Opaque<bindings::delayed_work>,
    stopping: AtomicBool,
}

// SAFETY: the work item is only touched through the workqueue API, which
// serialises itself; `stopping` is atomic.
unsafe impl Send for Ticker {}
// SAFETY: as above.
unsafe impl Sync for Ticker {}

impl Ticker {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Ticker {
            // SAFETY: `INIT_DELAYED_WORK` initialises the whole struct in
            // place; it is pinned from here on.
            work <- Opaque::ffi_init(|p| unsafe {
                bindings::rxfrm_init_delayed_work(p, Some(tick))
            }),
            stopping: AtomicBool::new(false),
        })
    }

    /// Arms the first tick; called once the owning `NetState` is complete.
    pub(crate) fn start(&self) {
        self.schedule();
    }

    /// Runs the tick as soon as possible (any context).
    pub(crate) fn kick(&self) {
        if !self.stopping.load(Ordering::Acquire) {
            // SAFETY: the work was initialised in `new` and is pinned;
            // mod_delayed_work is safe from softirq.
            unsafe { bindings::rxfrm_kick_delayed(self.work.get()) };
        }
    }

    fn schedule(&self) {
        if !self.stopping.load(Ordering::Acquire) {
            // SAFETY: the work was initialised in `new` and is pinned.
            unsafe { bindings::rxfrm_schedule_delayed_ms(self.work.get(), PERIOD_MS) };
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Ticker {
    fn drop(self: Pin<&mut Self>) {
        self.stopping.store(true, Ordering::Release);
        // SAFETY: initialised work; this waits for a running tick and
        // copes with it re-arming itself.
        unsafe { bindings::cancel_delayed_work_sync(self.work.get()) };
    }
}

unsafe extern "C" fn tick(work: *mut bindings::work_struct) {
    // `work` is the first member of `delayed_work`, which is `Ticker::work`
    // (an `Opaque` is layout-transparent), inside `NetState::ticker`.
    let off = core::mem::offset_of!(Ticker, work) + core::mem::offset_of!(NetState, ticker);
    // SAFETY: the kernel passes the `work_struct` of a `Ticker` embedded in a
    // live `NetState` (the drop above cancels the work before the state goes).
    let state = unsafe { &*(work.cast::<u8>().sub(off).cast::<NetState>()) };
    state.on_tick();
    state.ticker.schedule();
}
