//! PF_KEY messages as the socket buffers they travel in (not packets:
//! those are `packet::Pkt`).

use super::bindings;
use core::ptr::NonNull;

/// Allocation context: whether the caller may sleep.
#[derive(Clone, Copy)]
pub(crate) enum Gfp {
    /// Process context, may sleep.
    Kernel,
    /// Softirq or under a spinlock.
    Atomic,
}

impl Gfp {
    fn raw(self) -> bindings::gfp_t {
        match self {
            Gfp::Kernel => bindings::RXFRM_GFP_KERNEL,
            Gfp::Atomic => bindings::RXFRM_GFP_ATOMIC,
        }
    }
}

/// An `sk_buff` this code owns: freed on drop unless handed on.
///
/// INVARIANT: `ptr` is a valid skb with no other owner.
pub(crate) struct KeyMsg {
    ptr: NonNull<bindings::sk_buff>,
}

// SAFETY: an owned skb may be passed between CPUs; the kernel does so too.
unsafe impl Send for KeyMsg {}

impl KeyMsg {
    /// A new linear skb holding `len` zero bytes.
    pub(crate) fn alloc(len: usize, gfp: Gfp) -> Option<KeyMsg> {
        let len = u32::try_from(len).ok()?;
        // SAFETY: plain allocation; a NULL return is handled.
        let ptr = NonNull::new(unsafe { bindings::rxfrm_alloc_skb(len, gfp.raw()) })?;
        // SAFETY: the skb was allocated with `len` bytes of tailroom.
        unsafe { bindings::rxfrm_skb_put_zero(ptr.as_ptr(), len) };
        Some(KeyMsg { ptr })
    }

    /// Gives up ownership (the receiver frees it).
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        p
    }

    /// The packet bytes, writable.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: skbs made by `alloc` are linear, so `data` holds `len`
        // bytes, and `&mut self` makes the access exclusive.
        unsafe {
            let skb = &*self.ptr.as_ptr();
            core::slice::from_raw_parts_mut(skb.data, skb.len as usize)
        }
    }

    /// A clone sharing the data (`skb_clone`).
    pub(crate) fn try_clone(&self, gfp: Gfp) -> Option<KeyMsg> {
        // SAFETY: valid skb; a NULL return is handled.
        let p = unsafe { bindings::skb_clone(self.ptr.as_ptr(), gfp.raw()) };
        NonNull::new(p).map(|ptr| KeyMsg { ptr })
    }
}

impl Drop for KeyMsg {
    fn drop(&mut self) {
        // SAFETY: we own the skb (type invariant).
        unsafe { bindings::rxfrm_kfree_skb(self.ptr.as_ptr()) }
    }
}
