//! rxfrm's state in one network namespace and the orchestration over it:
//! what is created and torn down with the namespace (`sys::pernet`), the
//! once-a-second tick, and device and address events. The datapath and the
//! PF_KEY family find their namespace's state here (`state`).

#![deny(unsafe_code)]

use crate::af_key::PfKey;
use crate::datapath::{self, Dp, DpWriter, Hooks, StatFile};
use crate::logic::engine::{Engine, Limits};
use crate::sys::net::{Net, NetNs};
use crate::sys::nf::{Defrag, NfHooks};
use crate::sys::notify::{DevId, NetEvents};
use crate::sys::pernet::{Pernet, PernetId, PernetState};
use crate::sys::procfs::ProcFile;
use crate::sys::sock::SockList;
use crate::sys::util::real_seconds;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// What the namespace's one writer lock protects: the SAD and SPD with the
/// PF_KEY processing over them, and the writer side of every table the
/// packet path reads without locks. Holding `&mut Control` (only possible
/// through `NetState::ctl`) is the proof the datapath's writer methods ask
/// for. A sleeping lock: the control plane runs in process context.
pub(crate) struct Control {
    pub(crate) engine: Engine,
    pub(crate) dp: DpWriter,
}

/// Per-namespace state. Its drop first stops new work (the hooks) and
/// waits for work in flight (asynchronous crypto); then the fields drop in
/// declaration order.
#[pin_data(PinnedDrop)]
pub(crate) struct NetState {
    /// Netfilter hooks: unregistered first, so no packet reaches what
    /// follows.
    #[pin]
    hooks: NfHooks<Hooks>,
    /// /proc/net/rxfrm_stat, removed before the counters it reads.
    proc: ProcFile<StatFile>,
    /// PF_KEY sockets open in this namespace.
    #[pin]
    pub(crate) socks: SockList<PfKey>,
    /// The writer lock (see `Control`).
    #[pin]
    pub(crate) ctl: Mutex<Control>,
    /// The packet path's tables and counters.
    #[pin]
    pub(crate) dp: Dp,
    /// Reassembly ahead of the hooks: they judge whole datagrams.
    defrag: Defrag,
}

#[pinned_drop]
impl PinnedDrop for NetState {
    fn drop(self: Pin<&mut Self>) {
        self.hooks.unregister();
        self.dp.inflight.drain();
    }
}

/// A namespace's state in its slot (with its net and its tick).
pub(crate) type Ns = Pernet<NetState>;

/// rxfrm's state in `net`, for as long as `net` is borrowed.
pub(crate) fn state(net: &Net) -> Option<&Ns> {
    Pernet::of(net)
}

/// rxfrm's state in a namespace held by a count, for as long as it is.
pub(crate) fn state_of(ns: &NetNs) -> Option<&Ns> {
    Pernet::of_counted(ns)
}

static ID: PernetId = PernetId::new();

impl PernetState for NetState {
    fn id() -> &'static PernetId {
        &ID
    }

    fn new(net: Net) -> impl PinInit<Self, Error> {
        let limits = Limits {
            max_states: 0,
            max_policies: 0,
        };
        try_pin_init!(NetState {
            hooks <- NfHooks::new(),
            proc: ProcFile::create(net)?,
            socks <- SockList::new(),
            ctl <- kernel::new_mutex!(
                Control {
                    engine: Engine::new(limits),
                    dp: DpWriter::new(),
                },
                "rxfrm_ctl"
            ),
            dp <- Dp::new(),
            defrag: Defrag::enable(net)?,
        }? Error)
    }

    fn start(this: &Ns) -> Result {
        // A namespace whose SPD could not be enforced must not exist.
        this.hooks.register(this.net())
    }

    /// Once a second: the datapath's counters and queued ACQUIREs, then
    /// lifetimes, larval SA timeouts, policy expiry; what changed is
    /// mirrored, messages go out, retired table memory is freed.
    fn tick(this: &Ns) {
        let now = real_seconds();
        let mut out = crate::af_key::Outgoing::new(&this.socks);
        {
            let mut ctl = this.ctl.lock();
            let Control { engine, dp } = &mut *ctl;
            datapath::tick(&this.dp, dp, engine, now, &crate::af_key::KernelProbe, &mut out);
            engine.tick(now, &mut out);
            datapath::mirror(this.net(), &this.dp, dp, engine);
        }
        out.deliver_all(&this.socks);
        datapath::reclaim(&this.ctl);
    }
}

/// Device and address events, for every namespace.
pub(crate) struct Events;

impl NetEvents for Events {
    fn device_down(net: Net, dev: DevId, unregistering: bool) {
        if let Some(ns) = state(&net) {
            // Bundles and cached routes hold device references.
            let mut ctl = ns.ctl.lock();
            ns.dp.flush_bundles(&mut ctl.dp);
        }
        if unregistering {
            crate::sys::bundle::release_device(dev);
        }
    }

    fn address_up(net: Net, _v6: bool) {
        if let Some(ns) = state(&net) {
            // Dormant SAs may have become usable.
            ns.dp.request_rescan();
            ns.kick();
        }
    }
}
