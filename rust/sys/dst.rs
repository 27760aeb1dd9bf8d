//! Routes and bundle entries: counted `dst_entry` references, route
//! lookups, and the stackable destinations a bundle is made of (one
//! `struct rxfrm_dst` per transform, whose `output` is `rxfrm_dst_output`).

use super::bindings;
use super::pernet::Net;
use super::pkt::Pkt;
use crate::datapath::sa::DpSa;
use core::ptr::NonNull;
use kernel::ffi::{c_int, c_void};
use kernel::sync::Arc;

/// A counted reference on a `dst_entry` (route or bundle entry).
///
/// INVARIANT: holds one reference on a live dst.
pub(crate) struct DstRef(NonNull<bindings::dst_entry>);

// SAFETY: dst references are taken and dropped on any CPU.
unsafe impl Send for DstRef {}
// SAFETY: the methods only read immutable fields or call thread-safe APIs.
unsafe impl Sync for DstRef {}

impl DstRef {
    /// Takes over one reference.
    ///
    /// # Safety
    /// `p` is a live dst the caller holds a reference on, given up here.
    pub(crate) unsafe fn from_owned(p: *mut bindings::dst_entry) -> Option<DstRef> {
        NonNull::new(p).map(DstRef)
    }

    /// Takes a new reference on a dst the caller can see.
    ///
    /// # Safety
    /// `p` is a live dst for the duration of the call.
    pub(crate) unsafe fn from_borrowed(p: *mut bindings::dst_entry) -> Option<DstRef> {
        let p = NonNull::new(p)?;
        // SAFETY: live per the contract.
        unsafe { bindings::rxfrm_dst_hold(p.as_ptr()) };
        Some(DstRef(p))
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::dst_entry {
        self.0.as_ptr()
    }

    pub(crate) fn into_raw(self) -> *mut bindings::dst_entry {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }

    /// Path MTU below this entry (bundle entries subtract their overhead).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: live dst (invariant).
        unsafe { bindings::rxfrm_dst_mtu(self.as_ptr()) }
    }

    /// Still valid: not obsoleted by a route change or a newer SAD/SPD.
    pub(crate) fn is_valid(&self) -> bool {
        // SAFETY: live dst (invariant).
        !unsafe { bindings::rxfrm_dst_check(self.as_ptr()) }.is_null()
    }

    /// Traffic on this route is never transformed (loopback, as Linux's
    /// DST_NOXFRM).
    pub(crate) fn no_xfrm(&self) -> bool {
        // SAFETY: live dst (invariant).
        unsafe { bindings::rxfrm_dst_noxfrm(self.as_ptr()) }
    }

    pub(crate) fn is_bundle(&self) -> bool {
        // SAFETY: live dst (invariant).
        unsafe { bindings::rxfrm_is_rxfrm_dst(self.as_ptr()) }
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

impl Clone for DstRef {
    fn clone(&self) -> Self {
        // SAFETY: live dst (invariant); the new reference is the clone's.
        unsafe { bindings::rxfrm_dst_hold(self.as_ptr()) };
        DstRef(self.0)
    }
}

impl Drop for DstRef {
    fn drop(&mut self) {
        // SAFETY: we hold a reference (invariant).
        unsafe { bindings::dst_release(self.as_ptr()) };
    }
}

/// An IPv4 output route.
pub(crate) fn route4(net: Net, dst: [u8; 4], src: [u8; 4]) -> Option<DstRef> {
    // SAFETY: live namespace; the returned reference is ours.
    unsafe {
        DstRef::from_owned(bindings::rxfrm_route4(
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
    unsafe { DstRef::from_owned(bindings::rxfrm_route6(net.as_ptr(), &d, &s)) }
}

/// Parameters of a new bundle entry.
pub(crate) struct EntrySpec {
    /// Family of the packets the entry emits.
    pub(crate) family: u16,
    /// Namespace generation it is valid for.
    pub(crate) genid: u32,
    /// Bytes the transform adds (for the entry's MTU).
    pub(crate) overhead: u16,
    /// Tunnel mode (else transport).
    pub(crate) tunnel: bool,
}

/// A bundle entry that applies `sa` and then passes packets to `next`.
pub(crate) fn new_entry(next: &DstRef, spec: &EntrySpec, sa: Arc<DpSa>) -> Option<DstRef> {
    // SAFETY: `next` is live; the new entry holds its own reference on it.
    let d = unsafe { bindings::rxfrm_dst_alloc(next.as_ptr(), spec.family) };
    if d.is_null() {
        return None;
    }
    // SAFETY: a fresh, unshared entry: its fields are ours to set. The SA
    // reference is released by `rxfrm_dst_release_sa` when it is destroyed.
    unsafe {
        (*d).sa = Arc::into_raw(sa).cast::<c_void>();
        (*d).genid = spec.genid;
        (*d).overhead = spec.overhead;
        (*d).tunnel = u8::from(spec.tunnel);
        DstRef::from_owned(d.cast::<bindings::dst_entry>())
    }
}

/// What a bundle entry holds, for its output function.
pub(crate) struct Entry {
    pub(crate) sa: Arc<DpSa>,
    pub(crate) next: DstRef,
    pub(crate) family: u16,
    pub(crate) tunnel: bool,
}

/// The bundle entry a packet is at, if its dst is one.
pub(crate) fn entry_of(pkt: &Pkt) -> Option<Entry> {
    // SAFETY: the skb is live; the entry (if any) is held by the skb.
    let d = unsafe { bindings::rxfrm_skb_rxfrm_dst(pkt.as_ptr()) };
    if d.is_null() {
        return None;
    }
    // SAFETY: `d` is a live entry made by `new_entry`, so `sa` is an
    // `Arc<DpSa>` raw pointer it owns (we add a count, not take it) and
    // `next` a live dst it holds.
    unsafe {
        let held = core::mem::ManuallyDrop::new(Arc::from_raw((*d).sa.cast::<DpSa>()));
        Some(Entry {
            sa: (*held).clone(),
            next: DstRef::from_borrowed((*d).next)?,
            family: (*d).family,
            tunnel: (*d).tunnel != 0,
        })
    }
}

#[no_mangle]
unsafe extern "C" fn rxfrm_dst_release_sa(sa: *const c_void) {
    // SAFETY: set by `new_entry` from `Arc::into_raw`; the entry is being
    // destroyed, so this is its one release.
    drop(unsafe { Arc::from_raw(sa.cast::<DpSa>()) });
}

#[no_mangle]
unsafe extern "C" fn rxfrm_net_genid(net: *mut bindings::net) -> u32 {
    // SAFETY: the kernel passes the live namespace of a bundle entry's
    // device, and rxfrm's pernet state exists while entries do.
    let net = unsafe { Net::from_raw(net) };
    net.state().dp.genid()
}

#[no_mangle]
unsafe extern "C" fn rxfrm_dst_output(
    net: *mut bindings::net,
    _sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: the kernel hands over the skb (dst_output's contract) in a
    // live namespace.
    let (net, pkt) = unsafe { (Net::from_raw(net), Pkt::from_raw(skb)) };
    crate::datapath::output::on_dst_output(net, pkt)
}

/// Sets up the bundle entries' cache.
pub(crate) fn init() -> kernel::error::Result {
    // SAFETY: module init, once.
    let e = unsafe { bindings::rxfrm_dst_init() };
    if e != 0 {
        return Err(kernel::error::Error::from_errno(e));
    }
    Ok(())
}

/// Frees the cache once every entry is gone.
pub(crate) fn exit() {
    // SAFETY: module exit, after every namespace's state (and so every
    // bundle) is gone; waits for RCU-deferred entry frees.
    unsafe { bindings::rxfrm_dst_exit() };
}

/// Drops every bundle of a namespace when one of its devices goes down or
/// away (bundles and cached routes hold device references).
pub(crate) struct NetdevNotifier(());

impl NetdevNotifier {
    pub(crate) fn new() -> kernel::error::Result<Self> {
        // SAFETY: the notifier block is a static of this module,
        // unregistered in drop.
        let e = unsafe { bindings::rxfrm_netdev_notifier_register() };
        if e != 0 {
            return Err(kernel::error::Error::from_errno(e));
        }
        Ok(NetdevNotifier(()))
    }
}

impl Drop for NetdevNotifier {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.
        unsafe { bindings::rxfrm_netdev_notifier_unregister() };
    }
}

#[no_mangle]
unsafe extern "C" fn rxfrm_netdev_event(net: *mut bindings::net, _event: kernel::ffi::c_ulong) {
    // SAFETY: the notifier runs for a live device of a live namespace,
    // whose pernet state exists while the notifier is registered (it is
    // registered after, and removed before, the pernet operations).
    let net = unsafe { Net::from_raw(net) };
    net.state().dp.flush_bundles();
}

/// Whether `addr` is an address of `net` (its SAs can carry traffic here).
pub(crate) fn is_local(net: Net, addr: &crate::logic::addr::IpAddr) -> bool {
    let v6 = matches!(addr, crate::logic::addr::IpAddr::V6(_));
    // SAFETY: live namespace; the address is read during the call (callers
    // are in process context, as the address lookups require).
    unsafe { bindings::rxfrm_addr_is_local(net.as_ptr(), addr.as_bytes().as_ptr(), v6) }
}

/// Re-checks dormant SAs when an address appears.
pub(crate) struct AddrNotifiers(());

impl AddrNotifiers {
    pub(crate) fn new() -> kernel::error::Result<Self> {
        // SAFETY: static notifier blocks of this module, unregistered in drop.
        let e = unsafe { bindings::rxfrm_addr_notifiers_register() };
        if e != 0 {
            return Err(kernel::error::Error::from_errno(e));
        }
        Ok(AddrNotifiers(()))
    }
}

impl Drop for AddrNotifiers {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.
        unsafe { bindings::rxfrm_addr_notifiers_unregister() };
    }
}

#[no_mangle]
unsafe extern "C" fn rxfrm_addr_event(net: *mut bindings::net) {
    // SAFETY: a live namespace with rxfrm state (the notifiers are
    // registered after the pernet operations and removed before).
    let net = unsafe { Net::from_raw(net) };
    let st = net.state();
    st.dp.request_rescan();
    st.ticker.kick();
}
