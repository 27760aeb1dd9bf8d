//! Keyed hashes through the kernel crypto API (`crypto_ahash`), as AH uses
//! them: one digest over one linear buffer plus a few trailing bytes (ESN's
//! high sequence half), completing synchronously or later from the crypto
//! driver (then through a `HashCompletion`).

use super::aead::Run;
use super::bindings;
use core::ptr::NonNull;
use kernel::alloc::KBox;
use kernel::ffi::{c_int, c_void};
use kernel::str::CStr;

/// Largest digest a job writes (SHA-512's).
pub(crate) const DIGEST_MAX: usize = 64;

/// An allocated, keyed hash transform.
///
/// INVARIANT: `tfm` is a live transform this value owns.
pub(crate) struct Ahash {
    tfm: NonNull<bindings::crypto_ahash>,
    digest: usize,
}

// SAFETY: a keyed transform is shared by concurrent requests (each
// carries its own state), as the kernel's AH does.
unsafe impl Send for Ahash {}
// SAFETY: as above.
unsafe impl Sync for Ahash {}

impl Ahash {
    /// Allocates `name` (`hmac(sha256)`, `xcbc(aes)`, `cmac(aes)`;
    /// `sync_only`: an implementation `cryptd` can wrap) and sets `key`.
    /// Errors are negative errnos. May sleep.
    pub(crate) fn new(name: &CStr, sync_only: bool, key: &[u8]) -> Result<Ahash, c_int> {
        // SAFETY: NUL-terminated name; process context.
        let p = unsafe { bindings::rxfrm_ahash_alloc(name.as_char_ptr(), sync_only) };
        // SAFETY: reads the pointer only.
        if unsafe { bindings::rxfrm_ahash_is_err(p) } {
            // SAFETY: as above.
            return Err(unsafe { bindings::rxfrm_ahash_err(p) } as c_int);
        }
        // SAFETY: checked above: a live transform, now owned.
        let tfm = unsafe { NonNull::new_unchecked(p) };
        // SAFETY: live transform.
        let digest = unsafe { bindings::rxfrm_ahash_digestsize(p) } as usize;
        let h = Ahash { tfm, digest };
        if digest > DIGEST_MAX {
            return Err(-(bindings::EINVAL as c_int));
        }
        let klen = u32::try_from(key.len()).map_err(|_| -(bindings::EINVAL as c_int))?;
        // SAFETY: live transform; the key is read during the call only.
        let e = unsafe { bindings::crypto_ahash_setkey(p, key.as_ptr(), klen) };
        if e != 0 {
            return Err(e);
        }
        Ok(h)
    }

    /// The implementation's unique name (`cra_driver_name`); see
    /// `Aead::driver_name`.
    pub(crate) fn driver_name(&self) -> &CStr {
        // SAFETY: live transform; the name lives in its algorithm, which
        // outlives the transform (and so `&self`).
        unsafe { CStr::from_char_ptr(bindings::rxfrm_ahash_driver_name(self.tfm.as_ptr())) }
    }

    /// Bytes of the untruncated digest.
    pub(crate) fn digest_size(&self) -> usize {
        self.digest
    }
}

impl Drop for Ahash {
    fn drop(&mut self) {
        // SAFETY: owned (invariant); no request is in flight, since every
        // request holds the SA, and so this transform, alive.
        unsafe { bindings::rxfrm_ahash_free(self.tfm.as_ptr()) };
    }
}

/// What a digest covers and where it goes, all owned by the context.
pub(crate) struct HashParts<'a> {
    /// The bytes hashed first (the packet, mutable fields zeroed).
    pub(crate) data: &'a [u8],
    /// Bytes hashed after them (ESN: the high sequence half); heap memory,
    /// as the context is.
    pub(crate) extra: &'a [u8],
    /// `DIGEST_MAX` bytes for the full digest.
    pub(crate) out: &'a mut [u8; DIGEST_MAX],
}

/// The rest of a packet's processing once its digest is done.
pub(crate) trait HashCompletion: Sized {
    fn parts(&mut self) -> HashParts<'_>;
    /// Called from the crypto driver when an asynchronous request ends.
    fn complete(self: KBox<Self>, err: c_int);
}

/// Computes the digest of `ctx.parts()` into its `out`.
pub(crate) fn digest<C: HashCompletion>(h: &Ahash, mut ctx: KBox<C>) -> Run<C> {
    let einval = -(bindings::EINVAL as c_int);
    let (d, dl, e, el, o) = {
        let p = ctx.parts();
        (
            p.data.as_ptr(),
            p.data.len(),
            p.extra.as_ptr(),
            p.extra.len(),
            p.out.as_mut_ptr(),
        )
    };
    let (Ok(dl), Ok(el)) = (u32::try_from(dl), u32::try_from(el)) else {
        return Run::Done(ctx, einval);
    };
    // SAFETY: live transform; GFP_ATOMIC allocation, NULL handled.
    let job = unsafe { bindings::rxfrm_ahash_job_alloc(h.tfm.as_ptr()) };
    if job.is_null() {
        return Run::Done(ctx, -(bindings::ENOMEM as c_int));
    }
    let data = KBox::into_raw(ctx);
    // SAFETY: the three buffers live inside the context (heap), which stays
    // put until the completion (or the return below) gives it back; `out`
    // holds DIGEST_MAX ≥ the digest size (checked in `new`).
    let r = unsafe {
        bindings::rxfrm_ahash_run(
            job,
            h.tfm.as_ptr(),
            d,
            dl,
            e,
            el,
            o,
            Some(done_tramp::<C>),
            data.cast::<c_void>(),
        )
    };
    if r == -(bindings::EINPROGRESS as c_int) {
        return Run::Pending;
    }
    // SAFETY: finished (no backlog flag: -EBUSY means no callback comes),
    // so the job and the context are ours again.
    unsafe {
        bindings::rxfrm_ahash_job_free(job);
        Run::Done(KBox::from_raw(data), r)
    }
}

unsafe extern "C" fn done_tramp<C: HashCompletion>(data: *mut c_void, err: c_int) {
    // SAFETY: `data` is the context `digest` leaked for this request.
    let ctx = unsafe { KBox::from_raw(data.cast::<C>()) };
    C::complete(ctx, err);
}

/// Constant-time comparison of two ICVs (`crypto_memneq`).
pub(crate) fn icv_eq(a: &[u8], b: &[u8]) -> bool {
    // SAFETY: both slices are readable for the shorter length, compared
    // first.
    a.len() == b.len()
        && unsafe { bindings::rxfrm_crypto_memneq(a.as_ptr().cast(), b.as_ptr().cast(), a.len()) }
            == 0
}
