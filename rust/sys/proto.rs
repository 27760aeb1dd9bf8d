//! IPv4/IPv6 protocol handlers (`inet_add_protocol`/`inet6_add_protocol`),
//! registered once for all namespaces. One `ProtoHandler` per IP protocol
//! (ESP, AH, IPcomp): registering another is an `impl` above this layer
//! and one more `ProtoRegistration::new::<H>()`.

use super::bindings;
use super::packet::Pkt;
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What an ICMP error about one of our packets says (`esp4_err`'s view).
#[derive(Clone, Copy)]
pub(crate) struct IcmpError {
    /// ICMP type and code (ICMPv6 for IPv6).
    pub(crate) kind: u8,
    pub(crate) code: u8,
    /// The `info` word: the next-hop MTU for "fragmentation needed" /
    /// "packet too big".
    pub(crate) info: u32,
    /// Offset of the quoted protocol header from the quoted IP header
    /// (`data`).
    pub(crate) offset: usize,
}

/// ICMP "destination unreachable", code "fragmentation needed"; redirect.
pub(crate) const ICMP_DEST_UNREACH: u8 = 3;
pub(crate) const ICMP_FRAG_NEEDED: u8 = 4;
pub(crate) const ICMP_REDIRECT: u8 = 5;
/// ICMPv6 "packet too big"; redirect.
pub(crate) const ICMPV6_PKT_TOOBIG: u8 = 2;
pub(crate) const NDISC_REDIRECT: u8 = 137;

/// An IP protocol's receive path.
pub(crate) trait ProtoHandler: 'static {
    /// The IP protocol number.
    const PROTO: u8;
    /// The name for messages ("ESP").
    const NAME: &'static str;
    /// Receives a packet whose network header precedes `data`, which is at
    /// the protocol's header. Always consumes it.
    fn rcv(pkt: Pkt, v6: bool) -> c_int;
    /// An ICMP error quoting one of our packets: `pkt`'s data is at the
    /// quoted IP header, the protocol header `e.offset` bytes on. The
    /// packet is the ICMP layer's (borrowed).
    fn err(pkt: &Pkt, v6: bool, e: IcmpError) -> c_int;
}

/// Holds one protocol's IPv4 and IPv6 handlers registered.
pub(crate) struct ProtoRegistration {
    v4: KBox<Opaque<bindings::net_protocol>>,
    v6: KBox<Opaque<bindings::inet6_protocol>>,
    proto: u8,
}

// SAFETY: the protocol structs are only read by the IP input path.
unsafe impl Send for ProtoRegistration {}
// SAFETY: as above.
unsafe impl Sync for ProtoRegistration {}

impl ProtoRegistration {
    pub(crate) fn new<H: ProtoHandler>() -> Result<Self> {
        let mut p4: bindings::net_protocol = super::sync_cell::zeroed();
        p4.handler = Some(rcv4::<H>);
        p4.err_handler = Some(err4::<H>);
        // The xfrm policy check of the transport input is rxfrm's own.
        p4.set_no_policy(1);
        let mut p6: bindings::inet6_protocol = super::sync_cell::zeroed();
        p6.handler = Some(rcv6::<H>);
        p6.err_handler = Some(err6::<H>);
        p6.flags = bindings::RXFRM_INET6_PROTO_NOPOLICY;
        let reg = ProtoRegistration {
            v4: KBox::new(Opaque::new(p4), GFP_KERNEL)?,
            v6: KBox::new(Opaque::new(p6), GFP_KERNEL)?,
            proto: H::PROTO,
        };
        // SAFETY: the structs live in boxes owned by the registration,
        // which removes them (and waits for running handlers) before they
        // are freed; the handlers are functions of this module.
        if unsafe { bindings::inet_add_protocol(reg.v4.get(), H::PROTO) } != 0 {
            pr_err!(
                "IP protocol {} ({}) is taken: is the kernel's own {} loaded?\n",
                H::PROTO,
                H::NAME,
                H::NAME
            );
            return Err(EBUSY);
        }
        // SAFETY: as above.
        if unsafe { bindings::inet6_add_protocol(reg.v6.get(), H::PROTO) } != 0 {
            // SAFETY: added just above.
            unsafe { bindings::inet_del_protocol(reg.v4.get(), H::PROTO) };
            // SAFETY: no handler runs once this returns.
            unsafe { bindings::synchronize_net() };
            pr_err!("IPv6 protocol {} ({}) is taken\n", H::PROTO, H::NAME);
            return Err(EBUSY);
        }
        Ok(reg)
    }
}

impl Drop for ProtoRegistration {
    fn drop(&mut self) {
        // SAFETY: both were added in `new`; synchronize_net waits for
        // handlers still running before the boxes are freed.
        unsafe {
            bindings::inet6_del_protocol(self.v6.get(), self.proto);
            bindings::inet_del_protocol(self.v4.get(), self.proto);
            bindings::synchronize_net();
        }
    }
}

unsafe extern "C" fn rcv4<H: ProtoHandler>(skb: *mut bindings::sk_buff) -> c_int {
    // SAFETY: the IP input path hands over the skb.
    H::rcv(unsafe { Pkt::from_raw(skb) }, false)
}

unsafe extern "C" fn rcv6<H: ProtoHandler>(skb: *mut bindings::sk_buff) -> c_int {
    // SAFETY: as above.
    H::rcv(unsafe { Pkt::from_raw(skb) }, true)
}

unsafe extern "C" fn err4<H: ProtoHandler>(skb: *mut bindings::sk_buff, info: u32) -> c_int {
    // SAFETY: ICMP error handlers get a live skb they do not own (the
    // ICMP message, `data` at the quoted protocol header).
    let pkt = unsafe { Pkt::borrowed(skb) };
    // SAFETY: the ICMP header is the skb's transport header here.
    let (kind, code) = unsafe { (bindings::rxfrm_icmp_type(skb), bindings::rxfrm_icmp_code(skb)) };
    // The quoted IPv4 header's length (the ICMP layer pulled it).
    let mut b = [0u8; 1];
    if pkt.copy_out(0, &mut b).is_none() {
        return 0;
    }
    let offset = usize::from(b[0] & 0x0f) * 4;
    H::err(&pkt, false, IcmpError { kind, code, info, offset })
}

unsafe extern "C" fn err6<H: ProtoHandler>(
    skb: *mut bindings::sk_buff,
    _opt: *mut bindings::inet6_skb_parm,
    kind: u8,
    code: u8,
    offset: c_int,
    info: bindings::__be32,
) -> c_int {
    // SAFETY: as for IPv4.
    let pkt = unsafe { Pkt::borrowed(skb) };
    let info = u32::from_be(info);
    let Ok(offset) = usize::try_from(offset) else {
        return 0;
    };
    H::err(&pkt, true, IcmpError { kind, code, info, offset })
}
