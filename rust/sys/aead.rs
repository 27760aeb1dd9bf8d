//! AEAD transforms through the kernel crypto API, as ESP uses them: one
//! request over one linear buffer, completing synchronously or later from
//! the crypto driver (then through a `Completion`).

use super::bindings;
use core::ptr::NonNull;
use kernel::alloc::KBox;
use kernel::ffi::{c_int, c_void};
use kernel::str::CStr;

/// An allocated, keyed AEAD transform.
///
/// INVARIANT: `tfm` is a live transform this value owns.
pub(crate) struct Aead {
    tfm: NonNull<bindings::crypto_aead>,
}

// SAFETY: a keyed transform is used concurrently by the kernel's own ESP;
// requests carry all per-call state.
unsafe impl Send for Aead {}
// SAFETY: as above.
unsafe impl Sync for Aead {}

impl Aead {
    /// Allocates `name` (e.g. `seqiv(rfc4106(gcm(aes)))`; `sync_only`: an
    /// implementation that never completes later, as `cryptd` wraps), sets
    /// `key` and the ICV length. Errors are negative errnos. May sleep.
    pub(crate) fn new(
        name: &CStr,
        sync_only: bool,
        key: &[u8],
        icv_len: usize,
    ) -> Result<Aead, c_int> {
        // SAFETY: NUL-terminated name; process context.
        let p = unsafe { bindings::rxfrm_aead_alloc(name.as_char_ptr(), sync_only) };
        // SAFETY: reads the pointer only.
        if unsafe { bindings::rxfrm_aead_is_err(p) } {
            // SAFETY: as above.
            return Err(unsafe { bindings::rxfrm_aead_err(p) } as c_int);
        }
        // SAFETY: checked above: a live transform, now owned.
        let aead = Aead {
            tfm: unsafe { NonNull::new_unchecked(p) },
        };
        let klen = u32::try_from(key.len()).map_err(|_| -(bindings::EINVAL as c_int))?;
        // SAFETY: live transform; the key is read during the call only.
        let e = unsafe { bindings::crypto_aead_setkey(p, key.as_ptr(), klen) };
        if e != 0 {
            return Err(e);
        }
        // SAFETY: live transform.
        let e = unsafe { bindings::crypto_aead_setauthsize(p, icv_len as u32) };
        if e != 0 {
            return Err(e);
        }
        Ok(aead)
    }

    /// The implementation's unique name (`cra_driver_name`), e.g.
    /// `rfc4106-gcm-aesni`: what `cryptd(...)` must be given to find the
    /// instance it registers (its `cra_name` is the inner algorithm's).
    pub(crate) fn driver_name(&self) -> &CStr {
        // SAFETY: live transform; its algorithm's name is a NUL-terminated
        // array inside the algorithm, which outlives the transform (and so
        // `&self`).
        unsafe { CStr::from_char_ptr(bindings::rxfrm_aead_driver_name(self.tfm.as_ptr())) }
    }

    /// Bytes of IV each packet carries.
    pub(crate) fn ivsize(&self) -> usize {
        // SAFETY: live transform.
        unsafe { bindings::rxfrm_aead_ivsize(self.tfm.as_ptr()) as usize }
    }
}

impl Drop for Aead {
    fn drop(&mut self) {
        // SAFETY: owned (invariant); no request is in flight, since every
        // request holds the SA, and so this transform, alive.
        unsafe { bindings::rxfrm_aead_free(self.tfm.as_ptr()) };
    }
}

/// The rest of a packet's processing once its crypto is done.
pub(crate) trait Completion: Sized {
    /// The bytes the request covers: associated data, then the IV and
    /// payload, then (encrypting) room for the ICV / (decrypting) the ICV.
    fn buffer(&mut self) -> &mut [u8];
    /// Called from the crypto driver when an asynchronous request ends.
    fn complete(self: KBox<Self>, err: c_int);
}

/// Largest IV a job carries (`rxfrm_aead_job.iv`).
const IV_MAX: usize = 32;

/// How `run` went.
pub(crate) enum Run<C> {
    /// Finished in the call: 0, or a negative errno (-EBADMSG: bad ICV).
    Done(KBox<C>, c_int),
    /// Will finish through `Completion::complete`.
    Pending,
}

/// Encrypts or decrypts `ctx.buffer()` in place. `assoclen` bytes are
/// authenticated only; `cryptlen` counts IV and payload (and the ICV when
/// decrypting). `seq` seeds the IV generator.
pub(crate) fn run<C: Completion>(
    aead: &Aead,
    encrypt: bool,
    assoclen: usize,
    cryptlen: usize,
    seq: u64,
    mut ctx: KBox<C>,
) -> Run<C> {
    let einval = -(bindings::EINVAL as c_int);
    let buf = ctx.buffer();
    let (ptr, len) = (buf.as_mut_ptr(), buf.len());
    // SAFETY: live transform.
    let icv = unsafe { bindings::rxfrm_aead_authsize(aead.tfm.as_ptr()) } as usize;
    let need = assoclen + cryptlen + if encrypt { icv } else { 0 };
    if need > len {
        return Run::Done(ctx, einval);
    }
    // SAFETY: live transform; GFP_ATOMIC allocation, NULL handled.
    let job = unsafe { bindings::rxfrm_aead_job_alloc(aead.tfm.as_ptr()) };
    if job.is_null() {
        return Run::Done(ctx, -(bindings::ENOMEM as c_int));
    }
    // The IV generator (seqiv/echainiv) derives the IV from the IV it is
    // given: the 64-bit sequence number, right-aligned, as Linux's esp
    // (`esp_output_tail`) seeds it.
    let mut iv = [0u8; IV_MAX];
    let ivsize = aead.ivsize();
    let n = ivsize.min(8);
    if ivsize > IV_MAX {
        // SAFETY: allocated above, never used.
        unsafe { bindings::rxfrm_aead_job_free(job) };
        return Run::Done(ctx, einval);
    }
    if let (Some(dst), Some(src)) = (iv.get_mut(ivsize - n..ivsize), seq.to_be_bytes().get(8 - n..)) {
        dst.copy_from_slice(src);
    }
    let data = KBox::into_raw(ctx);
    // SAFETY: `ptr` points into the packet `ctx` owns, which stays put
    // until the completion (or the return below) gives `ctx` back; `job`
    // is fresh; `iv` holds `ivsize` bytes and is copied during the call.
    let r = unsafe {
        bindings::rxfrm_aead_run(
            job,
            aead.tfm.as_ptr(),
            encrypt,
            ptr,
            assoclen as u32,
            cryptlen as u32,
            iv.as_ptr(),
            Some(done_tramp::<C>),
            data.cast::<c_void>(),
        )
    };
    if r == -(bindings::EINPROGRESS as c_int) {
        // The driver owns job and ctx now; `done_tramp` ends both.
        return Run::Pending;
    }
    // SAFETY: finished (or refused, -EBUSY included: no backlog flag, so no
    // callback comes): the job and the context are ours again.
    unsafe {
        bindings::rxfrm_aead_job_free(job);
        Run::Done(KBox::from_raw(data), r)
    }
}

unsafe extern "C" fn done_tramp<C: Completion>(data: *mut c_void, err: c_int) {
    // SAFETY: `data` is the context `run` leaked for this request.
    let ctx = unsafe { KBox::from_raw(data.cast::<C>()) };
    C::complete(ctx, err);
}
