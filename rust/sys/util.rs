//! Small kernel services: randomness, clocks, zeroing, capabilities.

use super::bindings;

/// `get_random_u32()`.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no preconditions; callable from any context.
    unsafe { bindings::get_random_u32() }
}

/// Wall-clock seconds (`ktime_get_real_seconds`), as PF_KEY lifetimes use.
pub(crate) fn real_seconds() -> u64 {
    // SAFETY: no preconditions.
    let s = unsafe { bindings::ktime_get_real_seconds() };
    u64::try_from(s).unwrap_or(0)
}

/// `memzero_explicit`: a store the compiler may not elide.
pub(crate) fn zeroize(buf: &mut [u8]) {
    // SAFETY: `buf` is a valid, exclusive region of `buf.len()` bytes.
    unsafe { bindings::rxfrm_memzero_explicit(buf.as_mut_ptr().cast(), buf.len()) }
}

/// The pointer every kernel object owned by this module names as `owner`.
pub(crate) const fn this_module() -> *mut bindings::module {
    // Only the address of the linker-provided object is taken; it is never
    // read here.
    core::ptr::addr_of!(bindings::__this_module) as *mut bindings::module
}

/// An errno constant from the bindings (positive) as a kernel `Error`.
pub(crate) fn errno(e: u32) -> kernel::error::Error {
    kernel::error::Error::from_errno(-(e as i32))
}

/// An errno constant from the bindings as a C return value (negative).
pub(crate) fn neg(e: u32) -> kernel::ffi::c_int {
    -(e as kernel::ffi::c_int)
}

/// Lets other tasks run during a long loop in process context
/// (`cond_resched`).
pub(crate) fn cond_resched() {
    // SAFETY: callers are in process context and hold no spinlock.
    unsafe { bindings::rxfrm_cond_resched() };
}

/// Whether a message may be logged now (`net_ratelimit`): per-SA and
/// per-packet warnings must not flood the log.
pub(crate) fn ratelimit() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::net_ratelimit() != 0 }
}
