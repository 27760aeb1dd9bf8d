//! rxfrm's state in one network namespace: its PF_KEY sockets and its
//! security databases. Created and destroyed with the namespace
//! (`sys::pernet`).

use crate::sys::pernet::Net;
use crate::sys::sock::SockList;
use kernel::prelude::*;

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// PF_KEY sockets open in this namespace.
    #[pin]
    pub(crate) socks: SockList,
}

impl NetState {
    pub(crate) fn new(_net: Net) -> impl PinInit<Self, Error> {
        try_pin_init!(NetState {
            socks <- SockList::new(),
        })
    }
}
