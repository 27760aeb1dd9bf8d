//! rxfrm's state in one network namespace: its PF_KEY sockets and its
//! security databases. Created and destroyed with the namespace
//! (`sys::pernet`).

use crate::logic::engine::{Engine, Limits};
use crate::sys::pernet::Net;
use crate::sys::sock::SockList;
use crate::sys::ticker::Ticker;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Lifetime timers. First, so that dropping the state stops it before
    /// anything it uses goes away.
    #[pin]
    pub(crate) ticker: Ticker,
    /// PF_KEY sockets open in this namespace.
    #[pin]
    pub(crate) socks: SockList,
    /// SAD + SPD and the PF_KEY processing over them. A sleeping lock: the
    /// control plane runs in process context.
    #[pin]
    pub(crate) engine: Mutex<Engine>,
}

impl NetState {
    pub(crate) fn new(_net: Net) -> impl PinInit<Self, Error> {
        let limits = Limits {
            max_states: 0,
            max_policies: 0,
        };
        try_pin_init!(NetState {
            ticker <- Ticker::new(),
            socks <- SockList::new(),
            engine <- kernel::new_mutex!(Engine::new(limits), "rxfrm_engine"),
        })
    }

    /// The state is complete and in place: start its timers.
    pub(crate) fn started(&self) {
        self.ticker.start();
    }

    /// Once a second: lifetimes, larval SA timeouts, policy expiry.
    pub(crate) fn on_tick(&self) {
        crate::af_key::on_tick(self);
    }
}
