//! Work in flight that outlives the call that started it (asynchronous
//! crypto requests): counted, so that teardown can wait for all of it.
//! A namespace's state drains its count after its hooks are gone (no new
//! work) and before its tables go; module exit tears every namespace's
//! state down, so it waits for every completion. The completion wrappers
//! run under RCU (`rust/helpers/crypto.c`) and the drain waits for a grace
//! period after the count reaches zero, so no completion is still running
//! module code when the drain returns.

use super::bindings;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::alloc::flags::GFP_KERNEL;
use kernel::prelude::*;
use kernel::sync::Arc;

struct Count {
    n: AtomicUsize,
}

/// A counter of work in flight.
pub(crate) struct InFlight {
    c: Arc<Count>,
}

/// One piece of work in flight; dropping it ends it.
pub(crate) struct InFlightRef {
    c: Arc<Count>,
}

impl InFlight {
    pub(crate) fn new() -> Result<Self> {
        Ok(InFlight {
            c: Arc::new(
                Count {
                    n: AtomicUsize::new(0),
                },
                GFP_KERNEL,
            )?,
        })
    }

    /// Counts one more (any context).
    pub(crate) fn enter(&self) -> InFlightRef {
        self.c.n.fetch_add(1, Ordering::AcqRel);
        InFlightRef { c: self.c.clone() }
    }

    /// Waits until nothing is in flight, then for a grace period (process
    /// context; sleeps).
    pub(crate) fn drain(&self) {
        // SAFETY: the counter lives (an `Arc` this value holds) for the
        // wait; the waker is `InFlightRef::drop`.
        unsafe { bindings::rxfrm_wait_var_zero(self.c.n.as_ptr().cast()) };
        let _ = super::rcu::synchronize();
    }
}

impl Drop for InFlightRef {
    fn drop(&mut self) {
        if self.c.n.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: the counter is alive (`self.c`); waking a variable
            // nobody waits on is a no-op.
            unsafe { bindings::rxfrm_wake_up_var(self.c.n.as_ptr().cast()) };
        }
    }
}
