//! Building the C structs handed to the kernel: a `static` the kernel may
//! write to (module parameters' tables), shareable because only the kernel
//! touches it after setup, and zeroed ops tables.

use core::cell::UnsafeCell;

/// A C struct in a `static` whose address is handed to the kernel.
#[repr(transparent)]
pub(crate) struct KernelStatic<T>(UnsafeCell<T>);

// SAFETY: after module init the Rust side never reads or writes the inner
// value; the kernel serialises its own accesses (registration list locks).
unsafe impl<T> Sync for KernelStatic<T> {}

impl<T> KernelStatic<T> {
    /// Wraps a fully initialised C struct.
    pub(crate) const fn new(v: T) -> Self {
        KernelStatic(UnsafeCell::new(v))
    }

}

/// A zero-filled C struct, the usual starting point of an ops table.
pub(crate) const fn zeroed<T>() -> T {
    // SAFETY: only used for bindgen structs of integers, pointers and
    // `Option<fn>`, for all of which all-zero bytes are a valid value.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
}

/// A fixed-size C name field from an ASCII byte string (NUL-padded).
pub(crate) const fn c_name<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < s.len() && i + 1 < N {
        out[i] = s[i];
        i += 1;
    }
    out
}
