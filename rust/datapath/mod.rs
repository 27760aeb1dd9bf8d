//! The datapath of one namespace: lock-free lookup tables mirrored from
//! the SAD/SPD (process context writes them, under the engine lock), the
//! counters of `/proc/net/rxfrm_stat`, and the queue of ACQUIREs packets
//! ask for (sent from process context by the namespace's tick).
//!
//! - `hooks`: netfilter entry points (outbound policy, clear-text checks).
//! - `output`: bundles and ESP output; `input`: the ESP protocol handler
//!   and inbound policy verification.
//! - `sync`: mirrors SAD/SPD changes into the tables.

pub(crate) mod hooks;
pub(crate) mod input;
pub(crate) mod output;
mod policy;
pub(crate) mod sa;
mod sync;
mod table;

use crate::logic::addr::IpAddr;
use crate::logic::selector::FlowKey;
use crate::logic::stats::{Stat, COUNT};
use crate::logic::types::IpsecProto;
use crate::sys::bhlock::BhLock;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};
use policy::PacketSpd;
use sa::DpSa;
use table::RcuHash;

pub(crate) use sync::{counters, sync, tick};

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

/// Writer-side state, behind the namespace's engine lock.
pub(crate) struct DpWriter {
    /// The SAs mirrored, by SAD id.
    registry: crate::logic::hash::HashIndex<u64, Arc<DpSa>>,
    /// SAs with no local endpoint yet: no crypto transform is built for
    /// them (a host keyed with 100k foreign SAs stays cheap) until an
    /// address appears that makes them usable.
    dormant: crate::logic::hash::HashIndex<u64, ()>,
}

#[pin_data]
pub(crate) struct Dp {
    genid: AtomicU32,
    /// An address appeared: dormant SAs may have become usable.
    rescan: AtomicBool,
    /// A packet was counted since the counters were last copied to the
    /// SAD (so an idle namespace's tick does not walk every SA).
    active: AtomicBool,
    stats: [AtomicU64; COUNT],
    #[pin]
    spd: PacketSpd,
    #[pin]
    sa_in: RcuHash<InKey, Arc<DpSa>>,
    #[pin]
    sa_out: RcuHash<OutKey, Arc<DpSa>>,
    #[pin]
    sa_by_id: RcuHash<u64, Arc<DpSa>>,
    #[pin]
    acquires: BhLock<([Option<AcquireReq>; ACQUIRE_QUEUE], usize)>,
    #[pin]
    writer: Mutex<DpWriter>,
    /// Keys the verified-decapsulation mark (see `input`).
    secret: u64,
}

impl Dp {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        let secret = (u64::from(crate::sys::util::random_u32()) << 32)
            | u64::from(crate::sys::util::random_u32());
        try_pin_init!(Dp {
            genid: AtomicU32::new(1),
            active: AtomicBool::new(false),
            rescan: AtomicBool::new(false),
            stats: [const { AtomicU64::new(0) }; COUNT],
            spd <- PacketSpd::new(),
            sa_in <- RcuHash::new(),
            sa_out <- RcuHash::new(),
            sa_by_id <- RcuHash::new(),
            acquires <- BhLock::new(([None; ACQUIRE_QUEUE], 0)),
            writer <- kernel::new_mutex!(DpWriter {
                registry: crate::logic::hash::HashIndex::new(),
                dormant: crate::logic::hash::HashIndex::new(),
            }, "rxfrm_dp_writer"),
            secret,
        }? Error)
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
    pub(crate) fn flush_bundles(&self) {
        self.genid.fetch_add(1, Ordering::AcqRel);
        self.spd.flush_bundles();
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
