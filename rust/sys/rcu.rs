//! RCU: read-side guards, pointers published to lock-free readers, and the
//! deferred freeing of what they may still be reading.

use super::bindings;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::KBox;
use kernel::alloc::KVec;
use kernel::prelude::*;

/// An RCU read-side critical section (`rcu_read_lock`).
pub(crate) struct RcuGuard(PhantomData<*mut ()>);

impl RcuGuard {
    pub(crate) fn new() -> Self {
        // SAFETY: paired with the unlock in drop; nests freely.
        unsafe { bindings::rxfrm_rcu_read_lock() };
        RcuGuard(PhantomData)
    }
}

impl Drop for RcuGuard {
    fn drop(&mut self) {
        // SAFETY: locked in `new`.
        unsafe { bindings::rxfrm_rcu_read_unlock() };
    }
}

/// Proof that a grace period ended after the values at hand were taken
/// out of reach (`Graveyard::free_after`).
pub(crate) struct Elapsed(());

/// Waits for every reader that might see an unpublished pointer.
pub(crate) fn synchronize() -> Elapsed {
    // SAFETY: process context (callers are writers, which may sleep).
    unsafe { bindings::synchronize_rcu() };
    Elapsed(())
}

/// A boxed value readers reach without locks. Writers are serialised by
/// the caller (they hold the namespace's control lock).
///
/// INVARIANT: `ptr` is null or from `KBox::into_raw`, owned by this cell,
/// and freed only after a grace period (`Retired`).
pub(crate) struct RcuBox<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: readers get `&T` across CPUs; writers move `T` between them.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}

impl<T> RcuBox<T> {
    pub(crate) const fn empty() -> Self {
        RcuBox {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// A cell holding `v` (not yet reachable by any reader).
    pub(crate) fn new(v: Option<KBox<T>>) -> Self {
        RcuBox {
            ptr: AtomicPtr::new(v.map_or(core::ptr::null_mut(), KBox::into_raw)),
        }
    }

    /// The current value, for as long as the read section lasts.
    pub(crate) fn get<'g>(&self, _g: &'g RcuGuard) -> Option<&'g T> {
        // Acquire pairs with the writer's Release (rcu_dereference).
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: non-null values stay allocated until a grace period
        // after they are unpublished, and `_g` holds one off.
        unsafe { p.as_ref() }
    }

    /// The current value, for the (serialised) writer.
    pub(crate) fn get_mut_side(&self) -> Option<&T> {
        // SAFETY: only the writer replaces the value, and it is the caller.
        unsafe { self.ptr.load(Ordering::Acquire).as_ref() }
    }

    /// Publishes `new`; the old value is returned to be freed later.
    pub(crate) fn replace(&self, new: Option<KBox<T>>) -> Retired<T> {
        let p = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(p, Ordering::AcqRel);
        // SAFETY: `old` came from `KBox::into_raw` and is no longer
        // reachable for new readers.
        Retired(if old.is_null() {
            None
        } else {
            Some(unsafe { KBox::from_raw(old) })
        })
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        // The cell itself is going away, so no reader can reach it any
        // more: either it was never published, or its container was
        // retired and outlived a grace period (Graveyard), or its owner
        // stopped every reader first (the namespace's hooks).
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: from `KBox::into_raw`, owned by this cell (invariant).
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

/// An unpublished value readers may still hold: freed only after a grace
/// period, by a `Graveyard` or (slowly) on its own drop.
pub(crate) struct Retired<T>(Option<KBox<T>>);

impl<T> Drop for Retired<T> {
    fn drop(&mut self) {
        if self.0.is_some() {
            synchronize();
        }
    }
}

/// A retired box of any type, to be dropped later.
///
/// INVARIANT: `ptr` came from `KBox::<T>::into_raw` for the `T` whose
/// `drop_box::<T>` is `drop`, and is owned by this value.
struct Erased {
    ptr: *mut (),
    drop: unsafe fn(*mut ()),
}

// SAFETY: only built from `KBox<T>` with `T: Send` (see `bury`).
unsafe impl Send for Erased {}

/// # Safety
/// `p` came from `KBox::<T>::into_raw` and is not used again.
unsafe fn drop_box<T>(p: *mut ()) {
    // SAFETY: per the contract.
    drop(unsafe { KBox::from_raw(p.cast::<T>()) });
}

impl Drop for Erased {
    fn drop(&mut self) {
        // SAFETY: the invariant; dropped once.
        unsafe { (self.drop)(self.ptr) };
    }
}

/// Retired values (of any type) waiting for one shared grace period.
pub(crate) struct Graveyard {
    items: KVec<Erased>,
}

impl Graveyard {
    pub(crate) const fn new() -> Self {
        Graveyard { items: KVec::new() }
    }

    /// Keeps `r` until the next `take`; if memory is short, waits for the
    /// grace period now instead.
    pub(crate) fn bury<T: Send + 'static>(&mut self, mut r: Retired<T>) {
        if let Some(b) = r.0.take() {
            if self.items.reserve(1, GFP_KERNEL).is_err() {
                synchronize();
                drop(b);
                return;
            }
            let e = Erased {
                ptr: KBox::into_raw(b).cast(),
                drop: drop_box::<T>,
            };
            // Cannot fail: room was reserved.
            let _ = self.items.push(e, GFP_KERNEL);
        }
    }

    /// Moves `other`'s values in here (one grace period for all).
    pub(crate) fn append(&mut self, other: &mut Graveyard) {
        if self.items.reserve(other.items.len(), GFP_KERNEL).is_err() {
            // No room to keep them: free them the slow way.
            synchronize();
            other.items = KVec::new();
            return;
        }
        for e in core::mem::replace(&mut other.items, KVec::new()) {
            // Cannot fail: room was reserved.
            let _ = self.items.push(e, GFP_KERNEL);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Frees the values, a grace period having passed since they were
    /// buried.
    pub(crate) fn free_after(mut self, _gp: &Elapsed) {
        self.items = KVec::new();
    }
}

impl Drop for Graveyard {
    fn drop(&mut self) {
        if !self.items.is_empty() {
            synchronize();
        }
    }
}
