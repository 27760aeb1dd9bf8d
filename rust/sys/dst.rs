//! Destinations: counted `dst_entry` references (`ARef<Dst>`) and output
//! route lookups. Bundle entries — rxfrm's own dst entries — are in
//! `bundle`.

use super::bindings;
use super::net::Net;
use core::ptr::NonNull;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A `dst_entry`: a route, or a bundle entry.
#[repr(transparent)]
pub(crate) struct Dst(Opaque<bindings::dst_entry>);

/// A counted reference on a dst.
pub(crate) type DstRef = ARef<Dst>;

// SAFETY: dst entries are shared across CPUs by design.
unsafe impl Send for Dst {}
// SAFETY: the methods only read fields fixed at creation or call
// thread-safe APIs.
unsafe impl Sync for Dst {}

// SAFETY: `dst_hold`/`dst_release` keep the entry alive while counted;
// the last release frees it after an RCU grace period.
unsafe impl AlwaysRefCounted for Dst {
    fn inc_ref(&self) {
        // SAFETY: `&self` proves a reference is held.
        unsafe { bindings::rxfrm_dst_hold(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up one reference it held.
        unsafe { bindings::dst_release(obj.as_ptr().cast()) };
    }
}

const AF_INET6: u16 = 10;

impl Dst {
    /// Takes over one reference the caller holds on `p`.
    ///
    /// # Safety
    /// `p` is null or a live dst whose reference the caller gives up.
    pub(crate) unsafe fn from_owned(p: *mut bindings::dst_entry) -> Option<DstRef> {
        // SAFETY: per the contract; `Dst` is layout-transparent.
        NonNull::new(p).map(|p| unsafe { ARef::from_raw(p.cast::<Dst>()) })
    }

    /// Takes a new reference on a dst the caller can see.
    ///
    /// # Safety
    /// `p` is null or a live dst for the duration of the call.
    pub(crate) unsafe fn from_borrowed(p: *mut bindings::dst_entry) -> Option<DstRef> {
        // SAFETY: live per the contract; `From<&T>` takes a reference.
        NonNull::new(p).map(|p| ARef::from(unsafe { p.cast::<Dst>().as_ref() }))
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::dst_entry {
        self.0.get()
    }

    /// Path MTU of this entry (bundle entries subtract their overhead).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: live dst (`&self`).
        unsafe { bindings::rxfrm_dst_mtu(self.as_ptr()) }
    }

    /// Address family of the entry's ops (`AF_INET`, `AF_INET6`;
    /// `AF_UNSPEC` for bundle entries).
    pub(crate) fn ops_family(&self) -> u16 {
        // SAFETY: live dst; `ops` is set at creation and never changes.
        unsafe { (*(*self.as_ptr()).ops).family }
    }

    /// `dst->obsolete`: 0 while valid without a check; otherwise its owner
    /// must be asked (`DST_OBSOLETE_FORCE_CHK`, -1, as IPv4/IPv6 routes are
    /// created; `DST_OBSOLETE_DEAD`/`KILL` once removed), as `dst_check()`
    /// does.
    pub(crate) fn obsolete(&self) -> i32 {
        // SAFETY: live dst.
        unsafe { bindings::rxfrm_dst_obsolete(self.as_ptr()) }
    }

    /// The owner's check (`dst->ops->check`) with the route's cookie.
    pub(super) fn ops_check(&self) -> bool {
        let cookie = if self.ops_family() == AF_INET6 {
            // SAFETY: an IPv6 route (its ops say so) is an `rt6_info`.
            unsafe { bindings::rxfrm_rt6_get_cookie(self.as_ptr()) }
        } else {
            0
        };
        // SAFETY: live dst; `check` only reads it.
        !unsafe { bindings::rxfrm_dst_ops_check(self.as_ptr(), cookie) }.is_null()
    }

    /// Still usable: not obsoleted by a route change, and for bundle
    /// entries, not by a newer SAD/SPD either.
    pub(crate) fn is_valid(&self) -> bool {
        if super::bundle::is_entry(self) {
            return super::bundle::entry_valid(self);
        }
        // dst_check(): any non-zero `obsolete` asks the owner (routes are
        // FORCE_CHK from birth; a removed one is DEAD or KILL).
        self.obsolete() == 0 || self.ops_check()
    }

    /// Whether the entry is one of rxfrm's bundle entries.
    pub(crate) fn is_bundle(&self) -> bool {
        super::bundle::is_entry(self)
    }

    /// The device the entry sends on (identity only).
    pub(crate) fn dev(&self) -> *const bindings::net_device {
        // SAFETY: live dst.
        unsafe { bindings::rxfrm_dst_dev(self.as_ptr()) }
    }

    /// Traffic on this route is never transformed: Linux's DST_NOXFRM, set
    /// for loopback (which rxfrm also recognises by the device).
    pub(crate) fn no_xfrm(&self) -> bool {
        // SAFETY: live dst; the device (if any) is held by it.
        unsafe {
            bindings::rxfrm_dst_flags(self.as_ptr()) & bindings::RXFRM_DST_NOXFRM != 0
                || bindings::rxfrm_dev_is_loopback(self.dev())
        }
    }

    /// Hop limit / TTL for packets this route carries.
    pub(crate) fn hop_limit(&self, v6: bool) -> u8 {
        // SAFETY: live dst; callers pass a route of that family.
        let h = unsafe {
            if v6 {
                bindings::rxfrm_ip6_hoplimit(self.as_ptr())
            } else {
                bindings::rxfrm_ip4_hoplimit(self.as_ptr())
            }
        };
        u8::try_from(h).unwrap_or(64)
    }
}

/// An IPv4 output route.
pub(crate) fn route4(net: Net, dst: [u8; 4], src: [u8; 4]) -> Option<DstRef> {
    // SAFETY: live namespace; the returned reference is ours.
    unsafe {
        Dst::from_owned(bindings::rxfrm_route4(
            net.as_ptr(),
            u32::from_ne_bytes(dst),
            u32::from_ne_bytes(src),
        ))
    }
}

/// An IPv6 output route.
pub(crate) fn route6(net: Net, dst: [u8; 16], src: [u8; 16]) -> Option<DstRef> {
    let d = bindings::in6_addr {
        in6_u: bindings::in6_addr__bindgen_ty_1 { u6_addr8: dst },
    };
    let s = bindings::in6_addr {
        in6_u: bindings::in6_addr__bindgen_ty_1 { u6_addr8: src },
    };
    // SAFETY: live namespace; the addresses outlive the call; the returned
    // reference is ours.
    unsafe { Dst::from_owned(bindings::rxfrm_route6(net.as_ptr(), &d, &s)) }
}

/// Whether `addr` is an address of `net`.
pub(crate) fn is_local(net: Net, addr: &crate::logic::addr::IpAddr) -> bool {
    let v6 = matches!(addr, crate::logic::addr::IpAddr::V6(_));
    // SAFETY: live namespace; the address is read during the call (callers
    // are in process context, as the address lookups require).
    unsafe { bindings::rxfrm_addr_is_local(net.as_ptr(), addr.as_bytes().as_ptr(), v6) }
}
