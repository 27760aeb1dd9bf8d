//! The packet path's copy of the SPD: an immutable lookup structure
//! (republished under RCU whenever the SPD changes) plus, per policy, the
//! state packets update: the cached bundle and the ACQUIRE rate limit.

use crate::logic::addr::IpAddr;
use crate::logic::hash::HashIndex;
use crate::logic::selector::FlowKey;
use crate::logic::spd::{Policy, Spd, Template};
use crate::logic::types::{Action, Dir};
use crate::seam;
use crate::sys::bhlock::BhLock;
use crate::sys::dst::DstRef;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// A bundle built for one route and address pair.
pub(crate) struct Cached {
    /// The route the packet had (the bundle ends at it or at a tunnel's).
    pub(crate) route: DstRef,
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    /// First entry; `None`: every template was optional and had no SA,
    /// so the packet goes in clear.
    pub(crate) bundle: Option<DstRef>,
    pub(crate) genid: u32,
}

/// Per-policy packet-path state.
#[pin_data]
pub(crate) struct PolicyDp {
    /// The SPD's index of the policy (ACQUIRE names it).
    pub(crate) index: u32,
    pub(crate) action: Action,
    pub(crate) templates: seam::Vec<Template>,
    #[pin]
    pub(crate) cache: BhLock<Option<Cached>>,
    /// When the last ACQUIRE for it was queued (seconds).
    pub(crate) last_acquire: AtomicU64,
}

impl PolicyDp {
    /// Whether an ACQUIRE may be queued now (at most one a second).
    pub(crate) fn acquire_due(&self, now: u64) -> bool {
        let last = self.last_acquire.load(Ordering::Relaxed);
        now > last
            && self
                .last_acquire
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// The lookup copy: policies re-added to a private SPD (same selectors,
/// priorities and order, so the same winners), and their state by the
/// copy's index.
pub(crate) struct SpdView {
    spd: Spd,
    pols: HashIndex<u32, Arc<PolicyDp>>,
}

impl SpdView {
    /// Compiles `src`, keeping each policy's state from `prev` if it is
    /// still there (its counters and rate limit survive; bundles are
    /// invalidated by the generation bump anyway).
    pub(crate) fn build(src: &Spd) -> Result<KBox<SpdView>> {
        let mut v = SpdView {
            spd: Spd::new(),
            pols: HashIndex::new(),
        };
        let mut cur = src.dump_cursor();
        while let Some(p) = src.dump_next(&mut cur) {
            let mut copy = Policy::new(p.dir, p.selector, p.action);
            copy.priority = p.priority;
            let mut templates = seam::Vec::new();
            for t in p.templates.iter() {
                copy.templates.push(*t).map_err(|_| ENOMEM)?;
                templates.push(*t).map_err(|_| ENOMEM)?;
            }
            let idx = v.spd.add(copy, p.created()).map_err(|_| ENOMEM)?;
            let pd = Arc::pin_init(
                pin_init!(PolicyDp {
                    index: p.index(),
                    action: p.action,
                    templates,
                    cache <- BhLock::new(None),
                    last_acquire: AtomicU64::new(0),
                }),
                GFP_KERNEL,
            )?;
            v.pols.insert(idx, pd).map_err(|_| ENOMEM)?;
        }
        Ok(KBox::new(v, GFP_KERNEL)?)
    }

    /// Forgets every cached bundle (and the routes they hold).
    pub(crate) fn flush_bundles(&self) {
        for (_, pd) in self.pols.iter() {
            let old = pd.cache.lock().take();
            drop(old);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.spd.is_empty()
    }

    /// The policy governing `flow` in `dir`.
    pub(crate) fn lookup(&self, dir: Dir, flow: &FlowKey) -> Option<&Arc<PolicyDp>> {
        let p = self.spd.lookup(dir, flow)?;
        self.pols.get(&p.index())
    }
}
