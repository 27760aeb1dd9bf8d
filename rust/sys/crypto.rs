//! The kernel crypto API, as far as the control plane needs it.

use super::bindings;

/// Whether the crypto API can instantiate `name` (e.g. `cbc(aes)`), loading
/// a module for it if needed (`crypto_has_alg`).
pub(crate) fn has_alg(name: &str) -> bool {
    // A NUL-terminated copy; crypto API names are short (CRYPTO_MAX_ALG_NAME
    // is 128).
    let mut buf = [0u8; 128];
    let Some(dst) = buf.get_mut(..name.len()) else {
        return false;
    };
    if name.len() >= 128 {
        return false;
    }
    dst.copy_from_slice(name.as_bytes());
    // SAFETY: `buf` is NUL-terminated and outlives the call, which may sleep
    // (callers are in process context).
    unsafe { bindings::crypto_has_alg(buf.as_ptr(), 0, 0) != 0 }
}
