//! Per-socket policies (`IP_IPSEC_POLICY` / `IPV6_IPSEC_POLICY`), as af_key
//! provides them: rxfrm registers a key manager whose `compile_policy`
//! turns the KAME `sadb_x_policy` into the socket's xfrm policy. The
//! kernel's xfrm core stores it in `sk->sk_policy` and enforces block and
//! allow itself; rxfrm's hooks read it so that a socket's bypass wins over
//! the SPD, as on Linux.

use super::bindings;
use super::pernet::Net;
use super::pkt::Pkt;
use crate::logic::addr::IpAddr;
use crate::logic::pfkey::sockopt::{socket_policy, SockPolicy};
use crate::logic::types::Dir;
use kernel::ffi::c_int;

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

#[no_mangle]
unsafe extern "C" fn rxfrm_sockpolicy_parse(
    data: *const u8,
    len: c_int,
    block: *mut c_int,
) -> c_int {
    let Ok(n) = usize::try_from(len) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: the kernel passes `len` readable bytes (its copy of optval).
    let data = unsafe { core::slice::from_raw_parts(data, n) };
    match socket_policy(data) {
        Ok((dir, p)) => {
            // SAFETY: `block` is the caller's local.
            unsafe { *block = c_int::from(p == SockPolicy::Discard) };
            // XFRM_POLICY_IN is 0, XFRM_POLICY_OUT 1.
            c_int::from(dir == Dir::Outbound)
        }
        Err(e) => -e.0,
    }
}

fn decode(r: c_int) -> Option<SockPolicy> {
    match r {
        0 => Some(SockPolicy::Bypass),
        1 => Some(SockPolicy::Discard),
        _ => None,
    }
}

/// The outbound policy of the socket that sent `pkt`, if it has one.
pub(crate) fn outbound(pkt: &Pkt) -> Option<SockPolicy> {
    // SAFETY: the skb's socket (if any) is held by the skb; the caller is
    // in a netfilter hook (RCU read side).
    decode(unsafe { bindings::rxfrm_sk_policy(pkt.sk(), true) })
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
    let r = unsafe {
        bindings::rxfrm_udp_sk_policy_in(
            net.as_ptr(),
            pkt.as_ptr(),
            v6,
            src.as_bytes().as_ptr(),
            sport,
            dst.as_bytes().as_ptr(),
            dport,
        )
    };
    decode(r)
}
