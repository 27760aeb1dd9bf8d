//! A spinlock that also keeps softirqs off (`spin_lock_bh`): for state the
//! packet path (softirq) and process context both touch.

use super::bindings;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use kernel::prelude::*;
use kernel::types::Opaque;

#[pin_data]
pub(crate) struct BhLock<T> {
    #[pin]
    lock: Opaque<bindings::spinlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises all access to `data`.
unsafe impl<T: Send> Send for BhLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for BhLock<T> {}

impl<T> BhLock<T> {
    pub(crate) fn new(data: T) -> impl PinInit<Self> {
        pin_init!(BhLock {
            // SAFETY: initialises the spinlock in place; pinned from here.
            lock <- Opaque::ffi_init(|p| unsafe { bindings::rxfrm_spin_lock_init(p) }),
            data: UnsafeCell::new(data),
        })
    }

    pub(crate) fn lock(&self) -> BhGuard<'_, T> {
        // SAFETY: initialised in `new`; released by the guard.
        unsafe { bindings::rxfrm_spin_lock_bh(self.lock.get()) };
        BhGuard { lock: self }
    }
}

pub(crate) struct BhGuard<'a, T> {
    lock: &'a BhLock<T>,
}

impl<T> Deref for BhGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for BhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held, and `&mut self` makes this unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for BhGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: locked by `BhLock::lock`.
        unsafe { bindings::rxfrm_spin_unlock_bh(self.lock.lock.get()) };
    }
}
