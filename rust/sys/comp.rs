//! Compression through the kernel crypto API (`crypto_comp`, as 6.12's
//! xfrm_ipcomp does): one transform per CPU per algorithm (a deflate stream
//! is not reentrant), one scratch buffer per CPU shared by all, used with
//! softirqs off. Compressors are shared by every SA of their algorithm, for
//! the module's lifetime.

use super::bindings;
use super::packet::Pkt;
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVec};
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};

// The scratch holds Linux's IPCOMP_SCRATCH_SIZE, which the pure logic
// bounds decompression by.
const _: () = assert!(
    bindings::RXFRM_COMP_SCRATCH as usize == crate::logic::ipcomp::IPCOMP_SCRATCH_SIZE
);

/// The per-CPU transforms of one algorithm.
///
/// INVARIANT: `tfms` is a live per-CPU array of live transforms, owned.
pub(crate) struct Compressor {
    tfms: NonNull<*mut bindings::crypto_comp>,
}

// SAFETY: each CPU only uses its own transform, with softirqs off.
unsafe impl Send for Compressor {}
// SAFETY: as above.
unsafe impl Sync for Compressor {}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: owned (invariant); no SA uses it any more (each holds an
        // `Arc` on it).
        unsafe { bindings::rxfrm_comp_tfms_free(self.tfms.as_ptr()) };
    }
}

impl Compressor {
    /// Compresses (or decompresses) the `len` bytes at `off` of `pkt` (a
    /// private packet, offsets from `data`) and hands the packet and the
    /// result — in this CPU's scratch, valid only during the call — to
    /// `take`, which may change the packet as it likes (the input is no
    /// longer read by then). Any context.
    pub(crate) fn run_on<R, F: FnOnce(&mut Pkt, &[u8]) -> Result<R, c_int>>(
        &self,
        compress: bool,
        pkt: &mut Pkt,
        off: usize,
        len: usize,
        take: F,
    ) -> Result<R, c_int> {
        struct Slot<F, R> {
            pkt: *mut Pkt,
            take: Option<F>,
            out: Option<Result<R, c_int>>,
        }
        unsafe extern "C" fn tramp<F: FnOnce(&mut Pkt, &[u8]) -> Result<R, c_int>, R>(
            data: *mut c_void,
            out: *const u8,
            len: u32,
        ) -> c_int {
            // SAFETY: `data` is the `Slot` of the `run_on` below, alive for
            // the call; `out` holds `len` bytes of this CPU's scratch until
            // this returns; the packet is `run_on`'s `&mut`, and the C side
            // no longer reads the input bytes borrowed from it.
            let (slot, bytes) = unsafe {
                (
                    &mut *data.cast::<Slot<F, R>>(),
                    core::slice::from_raw_parts(out, len as usize),
                )
            };
            match slot.take.take() {
                Some(f) => {
                    // SAFETY: as above.
                    slot.out = Some(f(unsafe { &mut *slot.pkt }, bytes));
                    0
                }
                None => -(bindings::EINVAL as c_int),
            }
        }
        let einval = -(bindings::EINVAL as c_int);
        let slen = u32::try_from(len).map_err(|_| -(bindings::EMSGSIZE as c_int))?;
        let end = off.checked_add(len).ok_or(einval)?;
        let src = pkt.bytes_mut().get(off..end).ok_or(einval)?.as_ptr();
        let mut slot: Slot<F, R> = Slot {
            pkt: pkt as *mut Pkt,
            take: Some(take),
            out: None,
        };
        // SAFETY: live transforms (invariant); `src` points at `len` bytes
        // of the private packet, which nothing else touches during the
        // call and which are read before `take` runs; `slot` outlives the
        // call and matches `tramp`'s types.
        let e = unsafe {
            bindings::rxfrm_comp_run(
                self.tfms.as_ptr(),
                compress,
                src,
                slen,
                Some(tramp::<F, R>),
                (&mut slot as *mut Slot<F, R>).cast(),
            )
        };
        if e != 0 {
            return Err(e);
        }
        slot.out.unwrap_or(Err(einval))
    }
}

/// The module's compressors, by algorithm, and the per-CPU scratch they
/// share; set up at module load, torn down at unload (after every SA).
pub(crate) struct CompRegistration {
    cache: Pin<KBox<Mutex<KVec<(&'static CStr, Arc<Compressor>)>>>>,
}

/// The registration, for `get` (module load to unload).
static REG: core::sync::atomic::AtomicPtr<Mutex<KVec<(&'static CStr, Arc<Compressor>)>>> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

impl CompRegistration {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: module init, once; undone in drop.
        let e = unsafe { bindings::rxfrm_comp_scratch_alloc() };
        if e != 0 {
            return Err(Error::from_errno(e));
        }
        let cache = match KBox::pin_init(
            kernel::new_mutex!(KVec::new(), "rxfrm_compressors"),
            GFP_KERNEL,
        ) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: allocated above, unused.
                unsafe { bindings::rxfrm_comp_scratch_free() };
                return Err(e);
            }
        };
        REG.store(
            (&*cache as *const Mutex<_>).cast_mut(),
            core::sync::atomic::Ordering::Release,
        );
        Ok(CompRegistration { cache })
    }

    /// The shared compressor for `alg` (`deflate`), made on first use.
    /// Process context (may sleep).
    pub(crate) fn get(alg: &'static CStr) -> Result<Arc<Compressor>, c_int> {
        let reg = REG.load(core::sync::atomic::Ordering::Acquire);
        // SAFETY: set from the registration's pinned box, which outlives
        // every SA (the module's namespaces go before it).
        let Some(reg) = (unsafe { reg.as_ref() }) else {
            return Err(-(bindings::ENOENT as c_int));
        };
        let mut cache = reg.lock();
        if let Some((_, c)) = cache.iter().find(|(n, _)| n.as_bytes() == alg.as_bytes()) {
            return Ok(c.clone());
        }
        // SAFETY: NUL-terminated name; process context.
        let tfms = unsafe { bindings::rxfrm_comp_tfms_new(alg.as_char_ptr()) };
        let tfms = NonNull::new(tfms).ok_or(-(bindings::ENOENT as c_int))?;
        let c = Arc::new(Compressor { tfms }, GFP_KERNEL).map_err(|_| -(bindings::ENOMEM as c_int))?;
        cache
            .push((alg, c.clone()), GFP_KERNEL)
            .map_err(|_| -(bindings::ENOMEM as c_int))?;
        Ok(c)
    }
}

impl Drop for CompRegistration {
    fn drop(&mut self) {
        REG.store(core::ptr::null_mut(), core::sync::atomic::Ordering::Release);
        // The compressors go with the cache (no SA is left to hold one).
        *self.cache.lock() = KVec::new();
        // SAFETY: allocated in `new`; nothing runs compressions any more.
        unsafe { bindings::rxfrm_comp_scratch_free() };
    }
}
