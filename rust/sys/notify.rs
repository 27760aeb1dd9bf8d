//! Device and address events of every namespace (netdevice, inetaddr and
//! inet6addr notifier chains), passed on to a `NetEvents` handler.

use super::bindings;
use super::net::Net;
use core::marker::PhantomData;
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::ffi::{c_int, c_ulong, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A network device, by identity (compared, never dereferenced above).
pub(crate) type DevId = *const bindings::net_device;

/// What the upper layer wants to hear about.
pub(crate) trait NetEvents: 'static {
    /// A device of `net` went down, or is being unregistered (RTNL held).
    fn device_down(net: Net, dev: DevId, unregistering: bool);
    /// An address of `net` came up (IPv4, or IPv6 when `v6`).
    fn address_up(net: Net, v6: bool);
}

/// The three notifier blocks, registered while this lives.
pub(crate) struct NetEventsRegistration<H: NetEvents> {
    netdev: KBox<Opaque<bindings::notifier_block>>,
    inet: KBox<Opaque<bindings::notifier_block>>,
    inet6: KBox<Opaque<bindings::notifier_block>>,
    _h: PhantomData<H>,
}

// SAFETY: the blocks are only touched by the kernel's (locked) chains.
unsafe impl<H: NetEvents> Send for NetEventsRegistration<H> {}
// SAFETY: as above.
unsafe impl<H: NetEvents> Sync for NetEventsRegistration<H> {}

type NotifierFn = unsafe extern "C" fn(*mut bindings::notifier_block, c_ulong, *mut c_void) -> c_int;

fn block(f: NotifierFn) -> Result<KBox<Opaque<bindings::notifier_block>>> {
    let mut nb: bindings::notifier_block = super::sync_cell::zeroed();
    nb.notifier_call = Some(f);
    Ok(KBox::new(Opaque::new(nb), GFP_KERNEL)?)
}

impl<H: NetEvents> NetEventsRegistration<H> {
    pub(crate) fn new() -> Result<Self> {
        let r = NetEventsRegistration {
            netdev: block(netdev_cb::<H>)?,
            inet: block(inetaddr_cb::<H>)?,
            inet6: block(inet6addr_cb::<H>)?,
            _h: PhantomData::<H>,
        };
        // SAFETY: the blocks live in boxes owned by `r`, whose drop
        // unregisters them before they are freed; on a failure here the
        // ones already registered are unregistered again first.
        unsafe {
            let e = bindings::register_netdevice_notifier(r.netdev.get());
            if e != 0 {
                return Err(Error::from_errno(e));
            }
            let e = bindings::register_inetaddr_notifier(r.inet.get());
            if e != 0 {
                bindings::unregister_netdevice_notifier(r.netdev.get());
                return Err(Error::from_errno(e));
            }
            let e = bindings::register_inet6addr_notifier(r.inet6.get());
            if e != 0 {
                bindings::unregister_inetaddr_notifier(r.inet.get());
                bindings::unregister_netdevice_notifier(r.netdev.get());
                return Err(Error::from_errno(e));
            }
        }
        Ok(r)
    }
}

impl<H: NetEvents> Drop for NetEventsRegistration<H> {
    fn drop(&mut self) {
        // SAFETY: all three were registered in `new`.
        unsafe {
            bindings::unregister_inet6addr_notifier(self.inet6.get());
            bindings::unregister_inetaddr_notifier(self.inet.get());
            bindings::unregister_netdevice_notifier(self.netdev.get());
        }
    }
}

const NOTIFY_DONE: c_int = 0;

unsafe extern "C" fn netdev_cb<H: NetEvents>(
    _nb: *mut bindings::notifier_block,
    event: c_ulong,
    ptr: *mut c_void,
) -> c_int {
    let unregistering = event == bindings::RXFRM_NETDEV_UNREGISTER as c_ulong;
    if !unregistering && event != bindings::RXFRM_NETDEV_DOWN as c_ulong {
        return NOTIFY_DONE;
    }
    // SAFETY: a netdevice notifier's `ptr` is its info, naming a live
    // device of a live namespace.
    let (dev, net) = unsafe {
        let dev = bindings::rxfrm_netdev_notifier_info_to_dev(ptr);
        (dev, Net::from_raw(bindings::rxfrm_dev_net(dev)))
    };
    if let Some(net) = net {
        H::device_down(net, dev, unregistering);
    }
    NOTIFY_DONE
}

unsafe extern "C" fn inetaddr_cb<H: NetEvents>(
    _nb: *mut bindings::notifier_block,
    event: c_ulong,
    ptr: *mut c_void,
) -> c_int {
    if event == bindings::RXFRM_NETDEV_UP as c_ulong {
        // SAFETY: the inetaddr chain passes a live `in_ifaddr`.
        if let Some(net) = unsafe { Net::from_raw(bindings::rxfrm_inetaddr_net(ptr)) } {
            H::address_up(net, false);
        }
    }
    NOTIFY_DONE
}

unsafe extern "C" fn inet6addr_cb<H: NetEvents>(
    _nb: *mut bindings::notifier_block,
    event: c_ulong,
    ptr: *mut c_void,
) -> c_int {
    if event == bindings::RXFRM_NETDEV_UP as c_ulong {
        // SAFETY: the inet6addr chain passes a live `inet6_ifaddr`.
        if let Some(net) = unsafe { Net::from_raw(bindings::rxfrm_inet6addr_net(ptr)) } {
            H::address_up(net, true);
        }
    }
    NOTIFY_DONE
}
