//! Bundle entries: rxfrm's own `dst_entry`s (`struct rxfrm_dst`), one per
//! transform of an output bundle, each holding the next entry or, last, the
//! route — the stackable destinations of the Linux xfrm design. What an
//! entry does to a packet is its `BundleEntry`'s (the datapath's); this file
//! gives entries the semantics of a dst: an entry is valid while its owner
//! says so and the whole chain behind it is, its MTU is the next one's less
//! its overhead, and it lets go of a device being unregistered.
//!
//! A socket may cache a *head* entry in front of a bundle as its route (as
//! Linux sockets cache xfrm bundles): it applies nothing, passes packets to
//! the bundle, and pins the module, since a socket can outlive every table.

use super::bindings;
use super::dst::{Dst, DstRef};
use super::net::Net;
use super::packet::Pkt;
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{flags::GFP_ATOMIC, flags::GFP_KERNEL, KBox};
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// What one bundle entry does.
pub(crate) trait BundleEntry: Send + Sync + 'static {
    /// Applies the entry's transform to `pkt` and sends it on to `next`
    /// (softirq or process context). Always consumes the packet.
    fn output(&self, net: Net, pkt: Pkt, next: &Dst) -> c_int;
    /// Whether the entry still reflects its namespace's tables.
    fn is_current(&self, net: Net) -> bool;
    /// Most bytes the entry adds to a packet.
    fn overhead(&self) -> u32;
}

/// An entry's payload (an `Arc`: the kernel crate's `KBox` can not hold a
/// trait object in 6.12).
pub(crate) type Payload = kernel::sync::Arc<dyn BundleEntry>;

/// The ops of every entry; null while the module is not set up.
static OPS: AtomicPtr<bindings::dst_ops> = AtomicPtr::new(null_mut());

const AF_INET6: u16 = 10;

fn ops() -> *mut bindings::dst_ops {
    OPS.load(Ordering::Acquire)
}

/// Whether `d` is one of rxfrm's entries.
pub(crate) fn is_entry(d: &Dst) -> bool {
    let o = ops();
    // SAFETY: live dst; `ops` is fixed at creation.
    !o.is_null() && unsafe { (*d.as_ptr()).ops } == o
}

/// An entry's own check (its owner's and its chain's), for `Dst::is_valid`.
pub(crate) fn entry_valid(d: &Dst) -> bool {
    d.ops_check()
}

/// # Safety
/// `d` is one of rxfrm's entries.
unsafe fn raw(d: *mut bindings::dst_entry) -> *mut bindings::rxfrm_dst {
    // `dst` is the first member of `rxfrm_dst` (checked in C).
    d.cast()
}

/// The payload of a (non-head) entry, borrowed from it.
///
/// # Safety
/// `d` is a live entry of ours.
unsafe fn payload<'a>(d: *mut bindings::dst_entry) -> Option<&'a dyn BundleEntry> {
    // SAFETY: per the contract; `data` is null (head) or a `KBox<Payload>`
    // the entry owns until `destroy`.
    let p = unsafe { (*raw(d)).data as *const Payload };
    // SAFETY: as above.
    unsafe { p.as_ref().map(|b| &**b) }
}

/// # Safety
/// `d` is a live entry of ours.
unsafe fn next_of(d: *mut bindings::dst_entry) -> *mut bindings::dst_entry {
    // SAFETY: per the contract; `next` is set at creation and held.
    unsafe { (*raw(d)).next }
}

fn alloc(next: &Dst) -> Option<NonNull<bindings::rxfrm_dst>> {
    let o = ops();
    if o.is_null() {
        return None;
    }
    // SAFETY: our ops are registered; `next` is live and its device held by
    // it; the fresh entry is ours (one reference) and on the live list.
    let d = NonNull::new(unsafe { bindings::rxfrm_dst_alloc(o, next.as_ptr()) })?;
    let cookie = if !is_entry(next) && next.ops_family() == AF_INET6 {
        // SAFETY: an IPv6 route is an `rt6_info`.
        unsafe { bindings::rxfrm_rt6_get_cookie(next.as_ptr()) }
    } else {
        0
    };
    // SAFETY: fresh, unshared entry: its fields are ours to set. The
    // reference on `next` is released by `destroy`.
    unsafe {
        let r = d.as_ptr();
        (*r).next = DstRef::into_raw(DstRef::from(next)).as_ptr().cast();
        (*r).next_cookie = cookie;
        (*r).data = null_mut();
        (*r).head = 0;
    }
    Some(d)
}

/// A new entry that applies `entry` and passes packets on to `next` (any
/// context: allocates atomically).
pub(crate) fn new_entry(next: &Dst, entry: Payload) -> Option<DstRef> {
    let data = KBox::new(entry, GFP_ATOMIC).ok()?;
    let d = alloc(next)?;
    // SAFETY: a fresh entry (see `alloc`): it owns `data` from here on
    // (`destroy` frees it); `output` is a function of this module, which
    // outlives its entries (module exit waits for them).
    unsafe {
        let r = d.as_ptr();
        (*r).data = KBox::into_raw(data).cast();
        (*r).dst.output = Some(output);
        Dst::from_owned(r.cast())
    }
}

/// A head entry for a socket to cache in front of `bundle`; `idev_of` is
/// the route whose IPv6 device the socket's code reads (`rt6i_idev`).
pub(crate) fn new_head(bundle: &Dst, idev_of: Option<&Dst>) -> Option<DstRef> {
    // SAFETY: plain module refcount; released by `destroy`.
    if !unsafe { bindings::rxfrm_module_get() } {
        return None;
    }
    let Some(d) = alloc(bundle) else {
        // SAFETY: taken just above.
        unsafe { bindings::rxfrm_module_put() };
        return None;
    };
    // SAFETY: a fresh entry (see `alloc`).
    unsafe {
        let r = d.as_ptr();
        (*r).head = 1;
        (*r).dst.output = Some(head_output);
        if let Some(rt) = idev_of {
            bindings::rxfrm_rt6_set_idev(r.cast(), bindings::rxfrm_dst_dev(rt.as_ptr()));
        }
        Dst::from_owned(r.cast())
    }
}

/// `dev` is being unregistered: entries still on it (held by sockets or
/// packets) move to the blackhole device, fail their check and drop what
/// they are given, as `rt_flush_dev()` does for Linux's uncached routes
/// and xfrm bundles. Process context (RTNL held).
pub(crate) fn release_device(dev: *const bindings::net_device) {
    // SAFETY: the live list is walked under its lock; every entry on it is
    // live (removed in `destroy` before it is freed).
    unsafe {
        bindings::rxfrm_dst_live_lock();
        let mut d = bindings::rxfrm_dst_live_next(null_mut());
        while !d.is_null() {
            let dst = d.cast::<bindings::dst_entry>();
            // A head's IPv6 device is its socket route's (the inner one),
            // which in tunnel mode is not the device the entry sends on.
            if (*d).head != 0 && bindings::rxfrm_rt6_idev_dev(dst).cast_const() == dev {
                bindings::rxfrm_rt6_idev_to_blackhole(dst);
            }
            if bindings::rxfrm_dst_dev(dst).cast_const() == dev {
                bindings::dst_dev_put(dst);
            }
            d = bindings::rxfrm_dst_live_next(d);
        }
        bindings::rxfrm_dst_live_unlock();
    }
}

unsafe extern "C" fn output(
    net: *mut bindings::net,
    _sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: `dst_output` hands over the skb, whose dst is this entry, in
    // a live namespace.
    let (net, pkt) = unsafe { (Net::from_raw(net), Pkt::from_raw(skb)) };
    let (Some(net), Some(d)) = (net, pkt.dst()) else {
        return -(bindings::EINVAL as c_int);
    };
    // `d` (our own reference) keeps the entry and its payload alive while
    // the handler runs, whatever it does to the packet's dst.
    if !is_entry(&d) {
        return -(bindings::EINVAL as c_int);
    }
    // SAFETY: one of our entries, held by `d`.
    let (entry, next) = unsafe { (payload(d.as_ptr()), next_of(d.as_ptr())) };
    let (Some(entry), Some(next)) = (entry, NonNull::new(next)) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: `next` is held by the entry, which `d` holds.
    let next = unsafe { next.cast::<Dst>().as_ref() };
    entry.output(net, pkt, next)
}

unsafe extern "C" fn head_output(
    net: *mut bindings::net,
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: as `output`; the head's `next` is the bundle it fronts.
    unsafe {
        let d = bindings::rxfrm_skb_dst(skb);
        let next = Dst::from_borrowed(next_of(d));
        let mut pkt = Pkt::from_raw(skb);
        let Some(next) = next else {
            return -(bindings::EINVAL as c_int);
        };
        pkt.set_dst(next);
        bindings::rxfrm_dst_output_skb(net, sk, pkt.into_raw())
    }
}

unsafe extern "C" fn check(dst: *mut bindings::dst_entry, _cookie: u32) -> *mut bindings::dst_entry {
    // SAFETY: the kernel checks one of our live entries.
    unsafe {
        // Its device went away (`release_device`).
        if bindings::rxfrm_dst_obsolete(dst) == bindings::RXFRM_DST_OBSOLETE_DEAD {
            return null_mut();
        }
        if let Some(e) = payload(dst) {
            let net = Net::from_raw(bindings::rxfrm_dev_net(bindings::rxfrm_dst_dev(dst)));
            if !net.is_some_and(|n| e.is_current(n)) {
                return null_mut();
            }
        }
        let next = next_of(dst);
        let Some(n) = NonNull::new(next) else {
            return null_mut();
        };
        let n = n.cast::<Dst>().as_ref();
        let ok = if is_entry(n) {
            n.ops_check()
        } else {
            // dst_check() of the route with the cookie it had.
            n.obsolete() == 0
                || !bindings::rxfrm_dst_ops_check(next, (*raw(dst)).next_cookie).is_null()
        };
        if ok {
            dst
        } else {
            null_mut()
        }
    }
}

unsafe extern "C" fn mtu(dst: *const bindings::dst_entry) -> c_uint {
    let d = dst.cast_mut();
    // SAFETY: one of our live entries; its next is held by it.
    unsafe {
        let m = bindings::rxfrm_dst_mtu(next_of(d));
        let o = payload(d).map_or(0, |e| e.overhead());
        m.saturating_sub(o)
    }
}

unsafe extern "C" fn advmss(dst: *const bindings::dst_entry) -> c_uint {
    // SAFETY: as `mtu`.
    unsafe { bindings::rxfrm_dst_metric_advmss(next_of(dst.cast_mut())) }
}

unsafe extern "C" fn neigh_lookup(
    dst: *const bindings::dst_entry,
    skb: *mut bindings::sk_buff,
    daddr: *const c_void,
) -> *mut bindings::neighbour {
    // SAFETY: as `mtu`; the next entry's ops are its own.
    unsafe {
        let next = next_of(dst.cast_mut());
        match (*(*next).ops).neigh_lookup {
            Some(f) => f(next, skb, daddr),
            None => null_mut(),
        }
    }
}

unsafe extern "C" fn destroy(dst: *mut bindings::dst_entry) {
    // SAFETY: the last reference is gone (an RCU callback after
    // `dst_release`): the entry's fields are ours to release.
    unsafe {
        bindings::rxfrm_dst_live_del(raw(dst));
        let r = raw(dst);
        bindings::dst_release((*r).next);
        let data = (*r).data as *mut Payload;
        if !data.is_null() {
            (*r).data = null_mut();
            drop(KBox::from_raw(data));
        }
        if (*r).head != 0 {
            bindings::rxfrm_rt6_put_idev(dst);
            // The module's exit waits for these callbacks (rcu_barrier)
            // before its code goes.
            bindings::rxfrm_module_put();
        }
    }
}

unsafe extern "C" fn update_pmtu(
    _dst: *mut bindings::dst_entry,
    _sk: *mut bindings::sock,
    _skb: *mut bindings::sk_buff,
    _mtu: u32,
    _confirm: bool,
) {
}

unsafe extern "C" fn redirect(
    _dst: *mut bindings::dst_entry,
    _sk: *mut bindings::sock,
    _skb: *mut bindings::sk_buff,
) {
}

unsafe extern "C" fn link_failure(_skb: *mut bindings::sk_buff) {}

/// The entries' slab and ops, set up for the module's lifetime.
pub(crate) struct BundleRegistration {
    ops: KBox<Opaque<bindings::dst_ops>>,
}

// SAFETY: the ops are read-only once published.
unsafe impl Send for BundleRegistration {}
// SAFETY: as above.
unsafe impl Sync for BundleRegistration {}

impl BundleRegistration {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: module init; a NULL return is handled.
        let cache = unsafe { bindings::rxfrm_dst_cache_create() };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        let mut o: bindings::dst_ops = super::sync_cell::zeroed();
        o.family = 0;
        o.check = Some(check);
        o.mtu = Some(mtu);
        o.default_advmss = Some(advmss);
        o.cow_metrics = Some(bindings::dst_cow_metrics_generic);
        o.destroy = Some(destroy);
        o.neigh_lookup = Some(neigh_lookup);
        o.update_pmtu = Some(update_pmtu);
        o.redirect = Some(redirect);
        o.link_failure = Some(link_failure);
        o.kmem_cachep = cache;
        let ops = match KBox::new(Opaque::new(o), GFP_KERNEL) {
            Ok(b) => b,
            Err(e) => {
                // SAFETY: created above, never used.
                unsafe { bindings::kmem_cache_destroy(cache) };
                return Err(e.into());
            }
        };
        OPS.store(ops.get(), Ordering::Release);
        Ok(BundleRegistration { ops })
    }
}

impl Drop for BundleRegistration {
    fn drop(&mut self) {
        // SAFETY: module exit, after every namespace's state (and so every
        // cached bundle) is gone; entries are freed from RCU callbacks, so
        // wait for those before the cache and ops go.
        unsafe {
            bindings::rcu_barrier();
            OPS.store(null_mut(), Ordering::Release);
            bindings::kmem_cache_destroy((*self.ops.get()).kmem_cachep);
        }
    }
}
