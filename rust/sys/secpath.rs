//! The record of every SA a decapsulated packet went through: the kernel's
//! own `sec_path` (the `SKB_EXT_SEC_PATH` skb extension, up to
//! XFRM_MAX_DEPTH entries), holding one *shadow* `xfrm_state` per rxfrm SA
//! and mode. An skb extension survives re-injection, the trip to
//! LOCAL_IN/FORWARD and reassembly (the reassembled packet keeps its head
//! fragment's), and only kernel code can create one: a packet cannot forge
//! it. A shadow is never hashed into the kernel's xfrm tables, so nothing
//! but rxfrm can find it; rxfrm recognises its own by pointer identity.

use super::bindings;
use super::net::Net;
use super::packet::Pkt;
use core::ptr::NonNull;
use kernel::ffi::c_int;

/// The kernel's limit on a sec_path's entries (XFRM_MAX_DEPTH).
pub(crate) const MAX_DEPTH: usize = 6;

/// A shadow state naming one SA in one mode.
///
/// INVARIANT: holds one reference on a live shadow state.
pub(crate) struct Shadow(NonNull<bindings::xfrm_state>);

// SAFETY: xfrm states are refcounted and shared across CPUs by design.
unsafe impl Send for Shadow {}
// SAFETY: a shadow is never changed after creation.
unsafe impl Sync for Shadow {}

/// What a shadow names.
pub(crate) struct ShadowId<'a> {
    pub(crate) proto: u8,
    pub(crate) spi: u32,
    pub(crate) dst: &'a [u8],
    pub(crate) src: &'a [u8],
    pub(crate) v6: bool,
    pub(crate) reqid: u32,
}

impl Shadow {
    /// A new shadow in `net` (process context; allocates atomically).
    pub(crate) fn new(net: Net, id: &ShadowId<'_>) -> Option<Shadow> {
        let n = if id.v6 { 16 } else { 4 };
        if id.dst.len() < n || id.src.len() < n {
            return None;
        }
        // SAFETY: live namespace; the addresses hold `n` bytes, read during
        // the call; the returned state (if any) carries our reference.
        let p = unsafe {
            bindings::rxfrm_shadow_new(
                net.as_ptr(),
                id.proto,
                id.spi.to_be(),
                id.dst.as_ptr(),
                id.src.as_ptr(),
                id.v6,
                id.reqid,
            )
        };
        NonNull::new(p).map(Shadow)
    }

    /// Identity, for telling rxfrm's entries from others.
    pub(crate) fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        // SAFETY: our reference (invariant); sec_paths hold their own.
        unsafe { bindings::rxfrm_shadow_put(self.0.as_ptr()) };
    }
}

/// Why an entry could not be recorded.
pub(crate) enum PushError {
    /// The sec_path already holds MAX_DEPTH entries.
    Full,
    NoMem,
}

/// Appends `s` to the packet's sec_path.
pub(crate) fn push(pkt: &mut Pkt, s: &Shadow) -> Result<(), PushError> {
    // SAFETY: live, owned skb and shadow; the sec_path takes its own
    // reference.
    match unsafe { bindings::rxfrm_secpath_push(pkt.as_ptr(), s.0.as_ptr()) } {
        0 => Ok(()),
        e if e == -(bindings::E2BIG as c_int) => Err(PushError::Full),
        _ => Err(PushError::NoMem),
    }
}

/// One entry of a packet's sec_path, as the kernel's table names it.
pub(crate) struct Entry {
    /// Identity of the state (compare with `Shadow::addr`).
    pub(crate) addr: usize,
    pub(crate) proto: u8,
    pub(crate) spi: u32,
    /// The destination address (the first 4 bytes for IPv4).
    pub(crate) dst: [u8; 16],
    pub(crate) v6: bool,
}

/// The packet's sec_path entries, outermost first (decapsulation order).
pub(crate) fn entries(pkt: &Pkt) -> ([Option<Entry>; MAX_DEPTH], usize) {
    let mut out: [Option<Entry>; MAX_DEPTH] = Default::default();
    // SAFETY: live skb (the caller's).
    let n = unsafe { bindings::rxfrm_secpath_len(pkt.as_ptr()) };
    let n = usize::try_from(n).unwrap_or(0);
    for (i, slot) in out.iter_mut().enumerate().take(n) {
        // SAFETY: `i` < len; the state is held by the packet's sec_path.
        let x = unsafe { bindings::rxfrm_secpath_at(pkt.as_ptr(), i as c_int) };
        if x.is_null() {
            continue;
        }
        let (mut proto, mut spi, mut dst, mut family) = (0u8, 0u32, [0u8; 16], 0u16);
        // SAFETY: a live state; the outputs are our locals (16 address
        // bytes).
        unsafe { bindings::rxfrm_xfrm_state_id(x, &mut proto, &mut spi, dst.as_mut_ptr(), &mut family) };
        *slot = Some(Entry {
            addr: x as usize,
            proto,
            spi: u32::from_be(spi),
            dst,
            v6: family == 10,
        });
    }
    (out, n)
}
