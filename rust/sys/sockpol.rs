//! Per-socket policies (`IP_IPSEC_POLICY` / `IPV6_IPSEC_POLICY`), as af_key
//! provides them: rxfrm registers a key manager whose `compile_policy`
//! turns the KAME `sadb_x_policy` into the socket's xfrm policy. The
//! kernel's xfrm core stores it in `sk->sk_policy` and enforces block and
//! allow itself; rxfrm's hooks read it so that a socket's bypass wins over
//! the SPD, as on Linux.

use super::bindings;
use super::net::Net;
use super::packet::Pkt;
use crate::logic::addr::IpAddr;
use crate::logic::pfkey::sockopt::{socket_policy, SockPolicy};
use crate::logic::types::Dir;
use kernel::ffi::{c_int, c_void};

/// Holds the key manager registered.
pub(crate) struct KmRegistration(());

impl KmRegistration {
    pub(crate) fn new() -> Self {
        // SAFETY: the manager is a static of this module, unregistered in
        // drop before the module goes.
        unsafe { bindings::rxfrm_km_register() };
        KmRegistration(())
    }
}

impl Drop for KmRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; waits for readers of the list.
        unsafe { bindings::rxfrm_km_unregister() };
    }
}

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const IP_IPSEC_POLICY: c_int = 16;
const IPV6_IPSEC_POLICY: c_int = 34;

/// `compile_policy`: `setsockopt(IP_IPSEC_POLICY / IPV6_IPSEC_POLICY)` of a
/// KAME `sadb_x_policy`. Bypass/none/entrust become an allow policy,
/// discard a block one; `ipsec` policies are refused (templates come from
/// the SPD only). `*dir` gets the direction (XFRM_POLICY_IN 0 / OUT 1) or a
/// negative errno.
#[no_mangle]
unsafe extern "C" fn rxfrm_km_compile_policy(
    sk: *mut bindings::sock,
    family: u16,
    opt: c_int,
    data: *const u8,
    len: c_int,
    dir: *mut c_int,
) -> *mut bindings::xfrm_policy {
    let fail = |e: u32| {
        // SAFETY: `dir` is the caller's out parameter.
        unsafe { *dir = -(e as c_int) };
        core::ptr::null_mut()
    };
    if !((family == AF_INET && opt == IP_IPSEC_POLICY)
        || (family == AF_INET6 && opt == IPV6_IPSEC_POLICY))
    {
        return fail(bindings::EOPNOTSUPP);
    }
    let Ok(n) = usize::try_from(len) else {
        return fail(bindings::EINVAL);
    };
    // SAFETY: the kernel passes `len` readable bytes (its copy of optval).
    let bytes = unsafe { core::slice::from_raw_parts(data, n) };
    let (d, p) = match socket_policy(bytes) {
        Ok(x) => x,
        Err(e) => return fail(e.0 as u32),
    };
    // SAFETY: a live socket (the caller's setsockopt); NULL is handled.
    let xp = unsafe { bindings::rxfrm_xfrm_policy_new(sk, p == SockPolicy::Discard) };
    if xp.is_null() {
        return fail(bindings::ENOBUFS);
    }
    // SAFETY: as above.
    unsafe { *dir = c_int::from(d == Dir::Outbound) };
    xp
}

// The other key-manager callbacks: rxfrm keys only its own tables, never
// the kernel's native xfrm states and policies, so it takes no part in
// their events. Each returns what tells the xfrm core "not handled here"
// (the callers loop over every registered manager, some without checking
// for NULL).

#[no_mangle]
extern "C" fn rxfrm_km_acquire(_x: *mut c_void, _t: *mut c_void, _p: *mut c_void) -> c_int {
    -(bindings::EOPNOTSUPP as c_int)
}

#[no_mangle]
extern "C" fn rxfrm_km_notify(_x: *mut c_void, _c: *const c_void) -> c_int {
    0
}

#[no_mangle]
extern "C" fn rxfrm_km_notify_policy(_x: *mut c_void, _dir: c_int, _c: *const c_void) -> c_int {
    0
}

#[no_mangle]
extern "C" fn rxfrm_km_new_mapping(_x: *mut c_void, _addr: *mut c_void, _sport: u16) -> c_int {
    -(bindings::EOPNOTSUPP as c_int)
}

#[no_mangle]
extern "C" fn rxfrm_km_report(_net: *mut c_void, _proto: u8, _sel: *mut c_void, _addr: *mut c_void) -> c_int {
    -(bindings::EOPNOTSUPP as c_int)
}

#[no_mangle]
extern "C" fn rxfrm_km_migrate() -> c_int {
    -(bindings::EOPNOTSUPP as c_int)
}

#[no_mangle]
extern "C" fn rxfrm_km_is_alive(_c: *const c_void) -> bool {
    false
}

/// A socket policy's action, as the kernel stored it (`xfrm_policy.action`).
fn decode(action: c_int) -> Option<SockPolicy> {
    match action {
        a if a == bindings::RXFRM_XFRM_POLICY_ALLOW => Some(SockPolicy::Bypass),
        a if a == bindings::RXFRM_XFRM_POLICY_BLOCK => Some(SockPolicy::Discard),
        _ => None,
    }
}

/// The outbound policy of the socket that sent `pkt`, if it has one.
pub(crate) fn outbound(pkt: &Pkt) -> Option<SockPolicy> {
    // SAFETY: the skb's socket (if any) is held by the skb; the caller is
    // in a netfilter hook (RCU read side).
    decode(unsafe { bindings::rxfrm_sk_policy_action(pkt.sk(), true) })
}

/// The inbound policy of the UDP socket `pkt` would be delivered to.
pub(crate) fn udp_inbound(
    net: Net,
    pkt: &Pkt,
    src: &IpAddr,
    sport: u16,
    dst: &IpAddr,
    dport: u16,
) -> Option<SockPolicy> {
    let v6 = matches!(src, IpAddr::V6(_));
    // SAFETY: live namespace and skb; the addresses are read during the
    // call; the lookup runs under the hook's RCU read side.
    let sk = unsafe {
        bindings::rxfrm_udp_lookup(
            net.as_ptr(),
            pkt.as_ptr(),
            v6,
            src.as_bytes().as_ptr(),
            sport,
            dst.as_bytes().as_ptr(),
            dport,
        )
    };
    // SAFETY: a socket found under the hook's RCU read side (or NULL).
    decode(unsafe { bindings::rxfrm_sk_policy_action(sk, false) })
}
