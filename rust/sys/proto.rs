//! IPv4/IPv6 protocol handlers (`inet_add_protocol`/`inet6_add_protocol`)
//! for the IPsec protocols, registered once for all namespaces.

use super::bindings;
use super::pkt::Pkt;
use kernel::ffi::c_int;
use kernel::prelude::*;

/// IP protocol number of ESP.
pub(crate) const IPPROTO_ESP: u8 = 50;

/// Holds the ESP handlers registered.
pub(crate) struct ProtoRegistration(u8);

impl ProtoRegistration {
    pub(crate) fn esp() -> Result<Self> {
        // SAFETY: the handlers are functions of this module, which stays
        // loaded while they are registered (removed in drop).
        let e = unsafe { bindings::rxfrm_proto_add(Some(esp4_rcv), Some(esp6_rcv), IPPROTO_ESP) };
        if e != 0 {
            pr_err!("rxfrm: IP protocol 50 (ESP) is taken: is esp4/esp6 loaded?\n");
            return Err(Error::from_errno(e));
        }
        Ok(ProtoRegistration(IPPROTO_ESP))
    }
}

impl Drop for ProtoRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `esp`; waits for running handlers.
        unsafe { bindings::rxfrm_proto_del(self.0) };
    }
}

unsafe extern "C" fn esp4_rcv(skb: *mut bindings::sk_buff) -> c_int {
    // SAFETY: the IP input path hands over the skb.
    crate::datapath::input::esp_rcv(unsafe { Pkt::from_raw(skb) }, false)
}

unsafe extern "C" fn esp6_rcv(skb: *mut bindings::sk_buff) -> c_int {
    // SAFETY: as above.
    crate::datapath::input::esp_rcv(unsafe { Pkt::from_raw(skb) }, true)
}
