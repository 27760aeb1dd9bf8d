//! The packet path's copy of the SPD, changed in place one policy at a time
//! (an SPDADD costs the same with 10 or 100,000 policies): per direction a
//! tuple space like `logic::spd`'s, whose classes are RCU hash tables of
//! masked keys to the policies filed there. Readers walk it without locks;
//! the writer (under the datapath's writer lock) copies what it changes.
//! Each policy also carries the state packets update: the cached bundle
//! and the ACQUIRE rate limit.

use super::table::RcuHash;
use crate::logic::addr::IpAddr;
use crate::logic::hash::HashIndex;
use crate::logic::selector::{FlowKey, Selector};
use crate::logic::spd::{MaskedKey, Policy, Shape, Spd, Template};
use crate::logic::types::{Action, Dir};
use crate::seam;
use crate::sys::bhlock::BhLock;
use crate::sys::dst::DstRef;
use crate::sys::rcu::{Graveyard, RcuBox, RcuGuard};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

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

/// One policy as the packet path sees it.
#[pin_data]
pub(crate) struct PolicyDp {
    /// The SPD's index of the policy (ACQUIRE names it).
    pub(crate) index: u32,
    pub(crate) action: Action,
    pub(crate) templates: seam::Vec<Template>,
    dir: Dir,
    selector: Selector,
    /// `Policy::rank`: the lowest wins.
    rank: (u32, u32, u64),
    #[pin]
    pub(crate) cache: BhLock<Option<Cached>>,
    /// When the last ACQUIRE for it was queued (seconds).
    pub(crate) last_acquire: AtomicU64,
}

impl PolicyDp {
    fn new(p: &Policy) -> Result<Arc<Self>> {
        let mut templates = seam::Vec::new();
        for t in p.templates.iter() {
            templates.push(*t).map_err(|_| ENOMEM)?;
        }
        Arc::pin_init(
            pin_init!(PolicyDp {
                index: p.index(),
                action: p.action,
                templates,
                dir: p.dir,
                selector: p.selector,
                rank: p.rank(),
                cache <- BhLock::new(None),
                last_acquire: AtomicU64::new(0),
            }),
            GFP_KERNEL,
        )
    }

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

/// The policies under one masked key (several only when their selectors
/// differ in what the key does not cover); replaced whole on change.
struct Filed {
    pols: KVec<Arc<PolicyDp>>,
}

#[pin_data]
struct ClassTable {
    #[pin]
    t: RcuHash<MaskedKey, Arc<Filed>>,
}

#[derive(Clone)]
struct Class {
    shape: Shape,
    table: Arc<ClassTable>,
}

/// One direction's classes; replaced whole when a class comes or goes.
struct Classes {
    v: KVec<Class>,
}

struct Writer {
    /// Every policy mirrored, by index.
    pols: HashIndex<u32, Arc<PolicyDp>>,
    graves: Graveyard<Classes>,
}

#[pin_data]
pub(crate) struct PacketSpd {
    dirs: [RcuBox<Classes>; 3],
    #[pin]
    w: Mutex<Writer>,
}

fn slot(dir: Dir) -> usize {
    match dir {
        Dir::Inbound => 0,
        Dir::Outbound => 1,
        _ => 2,
    }
}

impl PacketSpd {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(PacketSpd {
            dirs: [RcuBox::empty(), RcuBox::empty(), RcuBox::empty()],
            w <- kernel::new_mutex!(Writer {
                pols: HashIndex::new(),
                graves: Graveyard::new(),
            }, "rxfrm_spd_writer"),
        })
    }

    /// Whether no direction has a policy (the hooks' fast exit).
    pub(crate) fn is_empty(&self, g: &RcuGuard) -> bool {
        self.dirs.iter().all(|d| d.get(g).is_none())
    }

    /// The policy governing `flow` in `dir`: one probe per class of the
    /// flow's family, the best rank among the policies found.
    pub(crate) fn lookup<'g>(
        &self,
        g: &'g RcuGuard,
        dir: Dir,
        flow: &FlowKey,
    ) -> Option<&'g Arc<PolicyDp>> {
        let classes = self.dirs.get(slot(dir))?.get(g)?;
        let v6 = matches!(flow.src, IpAddr::V6(_));
        if matches!(flow.dst, IpAddr::V6(_)) != v6 {
            return None;
        }
        let mut best: Option<&'g Arc<PolicyDp>> = None;
        for c in classes.v.iter().filter(|c| c.shape.is_v6() == v6) {
            let Some(filed) = c.table.t.get(g, &c.shape.flow_key(flow)) else {
                continue;
            };
            for p in filed.pols.iter() {
                if best.is_none_or(|b| p.rank < b.rank) {
                    best = Some(p);
                }
            }
        }
        best
    }

    /// Brings policy `index` up to date with `spd` (added, replaced or
    /// removed). On failure the policy may be missing: resync everything.
    pub(crate) fn apply(&self, spd: &Spd, index: u32) -> Result {
        let mut w = self.w.lock();
        if let Some(old) = w.pols.remove(&index) {
            self.unfile(&mut w, &old)?;
        }
        let Some(p) = spd.get(index) else {
            return Ok(());
        };
        let pd = PolicyDp::new(p)?;
        w.pols.reserve(1).map_err(|_| ENOMEM)?;
        self.file(&mut w, &pd)?;
        w.pols.insert(index, pd).map_err(|_| ENOMEM)?;
        Ok(())
    }

    /// Rebuilds everything from `spd` (after a flush, or a failed update).
    pub(crate) fn resync(&self, spd: &Spd) -> Result {
        self.clear();
        let mut cur = spd.dump_cursor();
        while let Some(p) = spd.dump_next(&mut cur) {
            self.apply(spd, p.index())?;
        }
        Ok(())
    }

    /// Forgets every policy.
    pub(crate) fn clear(&self) {
        let mut w = self.w.lock();
        w.pols.clear();
        for d in self.dirs.iter() {
            let old = d.replace(None);
            w.graves.bury(old);
        }
    }

    fn file(&self, w: &mut Writer, p: &Arc<PolicyDp>) -> Result {
        let cell = self.dirs.get(slot(p.dir)).ok_or(EINVAL)?;
        let shape = Shape::of(&p.selector);
        let key = shape.sel_key(&p.selector);
        let found = cell
            .get_mut_side()
            .and_then(|c| c.v.iter().find(|c| c.shape == shape))
            .map(|c| c.table.clone());
        let table = match found {
            Some(t) => t,
            None => {
                let table = Arc::pin_init(
                    try_pin_init!(ClassTable { t <- RcuHash::new() }? Error),
                    GFP_KERNEL,
                )?;
                let old = cell.get_mut_side().map_or(&[][..], |c| &c.v[..]);
                let mut v = KVec::with_capacity(old.len() + 1, GFP_KERNEL)?;
                for c in old {
                    v.push(c.clone(), GFP_KERNEL)?;
                }
                v.push(
                    Class {
                        shape,
                        table: table.clone(),
                    },
                    GFP_KERNEL,
                )?;
                let retired = cell.replace(Some(KBox::new(Classes { v }, GFP_KERNEL)?));
                w.graves.bury(retired);
                table
            }
        };
        let filed = {
            // Cloned out of the read section: allocating may sleep.
            let cur = table.t.get(&RcuGuard::new(), &key).cloned();
            let old = cur.as_ref().map_or(&[][..], |f| &f.pols[..]);
            let mut pols = KVec::with_capacity(old.len() + 1, GFP_KERNEL)?;
            for q in old {
                pols.push(q.clone(), GFP_KERNEL)?;
            }
            pols.push(p.clone(), GFP_KERNEL)?;
            Arc::new(Filed { pols }, GFP_KERNEL)?
        };
        table.t.insert(key, filed)
    }

    fn unfile(&self, w: &mut Writer, p: &PolicyDp) -> Result {
        let cell = self.dirs.get(slot(p.dir)).ok_or(EINVAL)?;
        let shape = Shape::of(&p.selector);
        let key = shape.sel_key(&p.selector);
        let Some(classes) = cell.get_mut_side() else {
            return Ok(());
        };
        let Some(pos) = classes.v.iter().position(|c| c.shape == shape) else {
            return Ok(());
        };
        let table = classes.v.get(pos).map(|c| c.table.clone()).ok_or(EINVAL)?;
        let rest = {
            let cur = table.t.get(&RcuGuard::new(), &key).cloned();
            let old = cur.as_ref().map_or(&[][..], |f| &f.pols[..]);
            let mut rest = KVec::with_capacity(old.len(), GFP_KERNEL)?;
            for q in old.iter().filter(|q| q.index != p.index) {
                rest.push(q.clone(), GFP_KERNEL)?;
            }
            rest
        };
        if !rest.is_empty() {
            return table
                .t
                .insert(key, Arc::new(Filed { pols: rest }, GFP_KERNEL)?);
        }
        table.t.remove(&key)?;
        if table.t.is_empty() {
            let mut v = KVec::with_capacity(classes.v.len(), GFP_KERNEL)?;
            for (i, c) in classes.v.iter().enumerate() {
                if i != pos {
                    v.push(c.clone(), GFP_KERNEL)?;
                }
            }
            let new = if v.is_empty() {
                None
            } else {
                Some(KBox::new(Classes { v }, GFP_KERNEL)?)
            };
            let retired = cell.replace(new);
            w.graves.bury(retired);
        }
        Ok(())
    }

    /// Forgets every cached bundle (and the routes they hold).
    pub(crate) fn flush_bundles(&self) {
        let w = self.w.lock();
        for (_, pd) in w.pols.iter() {
            let old = pd.cache.lock().take();
            drop(old);
        }
    }

    /// Frees what readers can no longer reach (process context; sleeps
    /// for a grace period when there is some).
    pub(crate) fn reclaim(&self) {
        let (graves, tables) = {
            let mut w = self.w.lock();
            let mut tables = KVec::new();
            for c in self.dirs.iter().filter_map(|d| d.get_mut_side()) {
                for class in c.v.iter() {
                    // Out of memory: that class waits for the next tick.
                    let _ = tables.push(class.table.clone(), GFP_KERNEL);
                }
            }
            (w.graves.take(), tables)
        };
        for t in tables.iter() {
            t.t.reclaim();
        }
        if !graves.is_empty() {
            let gp = crate::sys::rcu::synchronize();
            graves.free_after(&gp);
        }
    }
}
