//! The transforms, as Linux's `struct xfrm_type`: every SA carries one —
//! ESP, AH or IPcomp — keyed, and this enum is the one place a protocol
//! plugs in: how it is built from the SAD, what it adds to a packet (for
//! MTUs), whether it is replay-protected, and its output and input halves
//! (`esp`, `ah`, `ipcomp`), which the output and input paths call for the
//! SA's transform after the mode (`super::mode`) has done its part.
//!
//! A closed enum rather than a trait: the three are fixed by the IPsec
//! architecture, a `match` keeps the per-packet dispatch direct, and each
//! variant owns exactly the crypto state its protocol needs.

pub(crate) mod ah;
pub(crate) mod esp;
pub(crate) mod ipcomp;

use super::sa::Unusable;
use crate::logic::algs::{by_id, AlgKind};
use crate::logic::overhead::Transform;
use crate::logic::sad::Sa;
use crate::logic::types::IpsecProto;
use kernel::ffi::c_int;
use kernel::str::CStr;

/// One SA's transform.
pub(crate) enum Xform {
    Esp(esp::Esp),
    Ah(ah::Ah),
    IpComp(ipcomp::IpComp),
}

impl Xform {
    /// The transform of a mature SA (process context: may sleep).
    pub(crate) fn new(sa: &Sa) -> Result<Xform, Unusable> {
        match sa.ident().proto {
            IpsecProto::Esp => {
                let enc = by_id(AlgKind::Encrypt, sa.enc_alg).ok_or(Unusable::Unsupported)?;
                let auth = match sa.auth_alg {
                    0 => None,
                    id => Some(by_id(AlgKind::Auth, id).ok_or(Unusable::Unsupported)?),
                };
                esp::Esp::new(sa, enc, auth).map(Xform::Esp)
            }
            IpsecProto::Ah => {
                let auth = by_id(AlgKind::Auth, sa.auth_alg).ok_or(Unusable::Unsupported)?;
                ah::Ah::new(sa, auth).map(Xform::Ah)
            }
            IpsecProto::IpComp => {
                let alg = by_id(AlgKind::Compress, sa.comp_alg).ok_or(Unusable::Unsupported)?;
                ipcomp::IpComp::new(alg).map(Xform::IpComp)
            }
        }
    }

    /// Whether inbound packets pass the replay window (not IPcomp, which
    /// has no sequence numbers).
    pub(crate) fn replay_protected(&self) -> bool {
        !matches!(self, Xform::IpComp(_))
    }

    /// What the transform adds, for MTU arithmetic (`logic::overhead`).
    pub(crate) fn step(&self) -> Transform {
        match self {
            Xform::Esp(e) => Transform::Esp(e.layout),
            Xform::Ah(a) => Transform::Ah { icv_len: a.icv_len },
            Xform::IpComp(_) => Transform::IpComp,
        }
    }
}

/// A crypto API name as a C string, in `buf`.
fn c_name<'a>(name: &str, buf: &'a mut [u8; 160]) -> Option<&'a CStr> {
    c_name_parts(&[name.as_bytes()], buf)
}

fn c_name_parts<'a>(parts: &[&[u8]], buf: &'a mut [u8; 160]) -> Option<&'a CStr> {
    let mut n = 0;
    for part in parts {
        let end = n + part.len();
        buf.get_mut(n..end)?.copy_from_slice(part);
        n = end;
    }
    *buf.get_mut(n)? = 0;
    CStr::from_bytes_with_nul(buf.get(..=n)?).ok()
}

/// Allocates a transform by `name` (`alloc(name, sync_only)`); with the
/// module parameter `force_async` set, then wraps that implementation in
/// `cryptd(...)`, so every request completes asynchronously. cryptd must be
/// given the implementation's driver name, as the kernel's own users do
/// (`cryptd_alloc_aead`): the instance it registers keeps the inner
/// `cra_name`, so asking for `cryptd(<algorithm name>)` would build and
/// register it again for each SA (EEXIST from the second on). And it wraps
/// only synchronous implementations (an async one, like the AES-NI SIMD
/// wrappers, gives ENOENT), so the one it wraps is asked for as such.
fn alloc_crypto<T>(
    name: &CStr,
    alloc: impl Fn(&CStr, bool) -> Result<T, c_int>,
    driver: impl Fn(&T) -> &CStr,
) -> Result<T, c_int> {
    let force = crate::force_async.load(core::sync::atomic::Ordering::Relaxed) != 0;
    let plain = alloc(name, force)?;
    if !force {
        return Ok(plain);
    }
    let mut buf = [0u8; 160];
    let wrapped = c_name_parts(
        &[b"cryptd(", driver(&plain).as_bytes(), b")"],
        &mut buf,
    )
    .ok_or(kernel::error::code::EINVAL.to_errno())?;
    alloc(wrapped, false)
}
