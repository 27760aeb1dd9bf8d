//! The datapath of one namespace: lock-free lookup tables mirrored from
//! the SAD/SPD (their writer halves, `DpWriter`, live inside the
//! namespace's control lock), the counters of `/proc/net/rxfrm_stat`, and
//! the queue of ACQUIREs packets ask for (sent from process context by the
//! namespace's tick).
//!
//! - `hooks`: netfilter entry points.
//! - `output`: bundles, and one entry's output for any transform;
//!   `input`: the ESP/AH/IPcomp protocol handlers; `verify`: the inbound
//!   policy check over the packet's sec_path.
//! - `xform`: the transforms (ESP, AH, IPcomp); `mode`: transport and
//!   tunnel; `sa`: an SA as the packet path sees it.
//! - `mirror`: copies SAD/SPD changes into the tables.

#![deny(unsafe_code)]

pub(crate) mod hooks;
pub(crate) mod input;
mod mirror;
mod mode;
pub(crate) mod output;
mod policy;
pub(crate) mod sa;
mod table;
mod verify;
mod xform;

use crate::logic::addr::IpAddr;
use crate::logic::selector::FlowKey;
use crate::logic::stats::{Stat, COUNT};
use crate::logic::types::IpsecProto;
use crate::sys::bhlock::BhLock;
use crate::sys::inflight::InFlight;
use crate::sys::net::Net;
use crate::sys::procfs::ProcShow;
use crate::sys::rcu::{Graveyard, RcuGuard};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;
use policy::{PacketSpd, SpdWriter};
use sa::DpSa;
use table::{HashWriter, RcuHash};

pub(crate) use hooks::Hooks;
pub(crate) use mirror::{counters, mirror, reclaim, tick, SaBuilder};

/// Inbound SA key: (destination, SPI, protocol).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InKey {
    pub(crate) dst: IpAddr,
    pub(crate) spi: u32,
    pub(crate) proto: IpsecProto,
}

/// Outbound SA key: what a template resolves to (`xfrm_state_find`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct OutKey {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) proto: IpsecProto,
    pub(crate) tunnel: bool,
    pub(crate) reqid: u32,
}

/// An ACQUIRE a packet asked for.
#[derive(Clone, Copy)]
pub(crate) struct AcquireReq {
    pub(crate) policy: u32,
    pub(crate) template: usize,
    pub(crate) flow: FlowKey,
}

const ACQUIRE_QUEUE: usize = 32;

/// The writer's half of the datapath, inside the namespace's control lock
/// (`netns::Control`): holding it mutably is the proof every table writer
/// method asks for.
pub(crate) struct DpWriter {
    /// The SAs mirrored, by SAD id.
    registry: crate::logic::hash::HashIndex<u64, Arc<DpSa>>,
    /// SAs with no local endpoint yet: no crypto transform is built for
    /// them (a host keyed with 100k foreign SAs stays cheap) until an
    /// address appears that makes them usable.
    dormant: crate::logic::hash::HashIndex<u64, ()>,
    sa_in: HashWriter<InKey, Arc<DpSa>>,
    sa_out: HashWriter<OutKey, Arc<DpSa>>,
    ipcomp_tunnels: HashWriter<(IpAddr, IpAddr), Arc<DpSa>>,
    spd: SpdWriter,
    /// The SA an ADD/UPDATE built before committing (`SaBuilder`), taken
    /// by the mirror that follows it.
    prepared: Option<Arc<DpSa>>,
}

impl DpWriter {
    pub(crate) fn new() -> Self {
        DpWriter {
            registry: crate::logic::hash::HashIndex::new(),
            dormant: crate::logic::hash::HashIndex::new(),
            sa_in: HashWriter::new(),
            sa_out: HashWriter::new(),
            ipcomp_tunnels: HashWriter::new(),
            spd: SpdWriter::new(),
            prepared: None,
        }
    }

    /// Everything the tables retired since the last call, to be freed once
    /// readers can no longer see it.
    fn take_retired(&mut self) -> Graveyard {
        let mut g = Graveyard::new();
        g.append(self.sa_in.retired());
        g.append(self.sa_out.retired());
        g.append(self.ipcomp_tunnels.retired());
        self.spd.take_retired(&mut g);
        g
    }
}

/// What the packet path reads (lock-free, or under short bh spinlocks).
#[pin_data]
pub(crate) struct Dp {
    genid: AtomicU32,
    /// An address appeared: dormant SAs may have become usable.
    rescan: AtomicBool,
    /// A packet was counted since the counters were last copied to the
    /// SAD (so an idle namespace's tick does not walk every SA).
    active: AtomicBool,
    stats: [AtomicU64; COUNT],
    spd: PacketSpd,
    sa_in: RcuHash<InKey, Arc<DpSa>>,
    sa_out: RcuHash<OutKey, Arc<DpSa>>,
    /// Inbound IPcomp tunnel SAs by (peer, local) address: their
    /// uncompressed packets arrive as plain IP-in-IP (`verify`).
    ipcomp_tunnels: RcuHash<(IpAddr, IpAddr), Arc<DpSa>>,
    #[pin]
    acquires: BhLock<([Option<AcquireReq>; ACQUIRE_QUEUE], usize)>,
    /// Packets inside asynchronous crypto requests (drained at teardown).
    pub(crate) inflight: InFlight,
}

impl Dp {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Dp {
            genid: AtomicU32::new(1),
            active: AtomicBool::new(false),
            rescan: AtomicBool::new(false),
            stats: [const { AtomicU64::new(0) }; COUNT],
            spd: PacketSpd::new(),
            sa_in: RcuHash::new(),
            sa_out: RcuHash::new(),
            ipcomp_tunnels: RcuHash::new(),
            acquires <- BhLock::new(([None; ACQUIRE_QUEUE], 0)),
            inflight: InFlight::new()?,
        }? Error)
    }

    /// Whether any inbound IPcomp tunnel SA exists.
    pub(crate) fn has_ipcomp_tunnels(&self, g: &RcuGuard) -> bool {
        !self.ipcomp_tunnels.is_empty_for_readers(g)
    }

    /// The inbound IPcomp tunnel SA from `src` to `dst`.
    pub(crate) fn ipcomp_tunnel(&self, g: &RcuGuard, src: &IpAddr, dst: &IpAddr) -> Option<Arc<DpSa>> {
        self.ipcomp_tunnels.get(g, &(*src, *dst)).cloned()
    }

    /// Bundles built before a change of this number are stale.
    pub(crate) fn genid(&self) -> u32 {
        self.genid.load(Ordering::Acquire)
    }

    /// Asks the tick to re-check dormant SAs.
    pub(crate) fn request_rescan(&self) {
        self.rescan.store(true, Ordering::Release);
    }

    /// Notes that SA counters moved (read-mostly: no write when set).
    pub(crate) fn touch(&self) {
        if !self.active.load(Ordering::Relaxed) {
            self.active.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn count(&self, s: Stat) {
        if let Some(c) = self.stats.get(s.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn stats_snapshot(&self) -> [u64; COUNT] {
        let mut v = [0u64; COUNT];
        for (o, c) in v.iter_mut().zip(self.stats.iter()) {
            *o = c.load(Ordering::Relaxed);
        }
        v
    }

    /// A device went down or away: drop the bundles (process context).
    pub(crate) fn flush_bundles(&self, w: &mut DpWriter) {
        self.genid.fetch_add(1, Ordering::AcqRel);
        self.spd.flush_bundles(&w.spd);
    }

    /// Queues an ACQUIRE for the tick to send; false if the queue is full.
    pub(crate) fn queue_acquire(&self, req: AcquireReq) -> bool {
        let mut q = self.acquires.lock();
        let (slots, n) = &mut *q;
        match slots.get_mut(*n) {
            Some(s) => {
                *s = Some(req);
                *n += 1;
                true
            }
            None => false,
        }
    }

    fn take_acquires(&self) -> [Option<AcquireReq>; ACQUIRE_QUEUE] {
        let mut q = self.acquires.lock();
        q.1 = 0;
        core::mem::replace(&mut q.0, [None; ACQUIRE_QUEUE])
    }
}

/// `/proc/net/rxfrm_stat`: the namespace's counters in the format of Linux's
/// `/proc/net/xfrm_stat`.
pub(crate) struct StatFile;

impl ProcShow for StatFile {
    const NAME: &'static kernel::str::CStr = kernel::c_str!("rxfrm_stat");

    fn show(net: Net, out: &mut dyn core::fmt::Write) {
        if let Some(ns) = crate::netns::state(&net) {
            let _ = crate::logic::stats::format_table(&ns.dp.stats_snapshot(), &mut &mut *out);
        }
    }
}
