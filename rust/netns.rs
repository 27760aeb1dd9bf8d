//! rxfrm's state in one network namespace: its PF_KEY sockets and its
//! security databases. Created and destroyed with the namespace
//! (`sys::pernet`).

use crate::datapath::Dp;
use crate::logic::engine::{Engine, Limits};
use crate::sys::nf::NfHooks;
use crate::sys::pernet::Net;
use crate::sys::sock::SockList;
use crate::sys::ticker::Ticker;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// Per-namespace state.
#[pin_data]
pub(crate) struct NetState {
    /// Netfilter hooks: unregistered first on teardown (fields drop in
    /// declaration order), so no packet reaches what follows.
    #[pin]
    hooks: NfHooks,
    /// Lifetime timers, stopped before anything they use goes away.
    #[pin]
    pub(crate) ticker: Ticker,
    /// /proc/net/rxfrm_stat, removed before the counters it reads.
    proc: ProcFile,
    /// PF_KEY sockets open in this namespace.
    #[pin]
    pub(crate) socks: SockList,
    /// SAD + SPD and the PF_KEY processing over them. A sleeping lock: the
    /// control plane runs in process context.
    #[pin]
    pub(crate) engine: Mutex<Engine>,
    /// The packet path's tables and counters.
    #[pin]
    pub(crate) dp: Dp,
    pub(crate) net: Net,
}

/// Owns the namespace's /proc/net/rxfrm_stat.
struct ProcFile(Net);

impl ProcFile {
    fn create(net: Net) -> Result<Self> {
        crate::sys::procfs::create(net)?;
        Ok(ProcFile(net))
    }
}

impl Drop for ProcFile {
    fn drop(&mut self) {
        crate::sys::procfs::remove(self.0);
    }
}

impl NetState {
    pub(crate) fn new(net: Net) -> impl PinInit<Self, Error> {
        let limits = Limits {
            max_states: 0,
            max_policies: 0,
        };
        // Initialised in this order (the file reads `dp`); dropped in
        // declaration order.
        try_pin_init!(NetState {
            hooks <- NfHooks::new(),
            ticker <- Ticker::new(),
            socks <- SockList::new(),
            engine <- kernel::new_mutex!(Engine::new(limits), "rxfrm_engine"),
            dp <- Dp::new(),
            proc: ProcFile::create(net)?,
            net,
        })
    }

    /// The state is complete and in place: start its timers.
    pub(crate) fn started(&self) {
        self.ticker.start();
        if let Err(e) = self.hooks.register(self.net) {
            pr_err!("rxfrm: netfilter hooks not registered ({:?}): no IPsec traffic in this namespace\n", e);
        }
    }

    /// Once a second: lifetimes, larval SA timeouts, policy expiry.
    pub(crate) fn on_tick(&self) {
        crate::af_key::on_tick(self);
    }
}
