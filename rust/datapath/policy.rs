//! The packet path's copy of the SPD, changed in place one policy at a time
//! (an SPDADD costs the same with 10 or 100,000 policies): per direction a
//! tuple space like `logic::spd`'s, whose classes are RCU hash tables of
//! masked keys to the policies filed there. Readers walk it without locks;
//! the writer (holding the `SpdWriter`, inside the namespace's control
//! lock) copies what it changes.
//! Each policy also carries the state packets update: the cached bundle
//! and the ACQUIRE rate limit.

use super::table::{HashWriter, RcuHash};
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

struct ClassTable {
    t: RcuHash<MaskedKey, Arc<Filed>>,
}

/// A class as readers see it.
#[derive(Clone)]
struct Class {
    shape: Shape,
    table: Arc<ClassTable>,
}

/// One direction's classes; replaced whole when a class comes or goes.
struct Classes {
    v: KVec<Class>,
}

/// A class as the writer keeps it: with its table's writer half.
struct WriterClass {
    shape: Shape,
    table: Arc<ClassTable>,
    w: HashWriter<MaskedKey, Arc<Filed>>,
}

/// The writer's half of the packet-path SPD (inside the control lock).
pub(crate) struct SpdWriter {
    /// Every policy mirrored, by index.
    pols: HashIndex<u32, Arc<PolicyDp>>,
    /// Per direction, the classes and their tables' writer halves.
    classes: [seam::Vec<WriterClass>; 3],
    graves: Graveyard,
}

impl SpdWriter {
    pub(crate) fn new() -> Self {
        SpdWriter {
            pols: HashIndex::new(),
            classes: [seam::Vec::new(), seam::Vec::new(), seam::Vec::new()],
            graves: Graveyard::new(),
        }
    }

    /// Moves everything retired since the last call into `into`.
    pub(crate) fn take_retired(&mut self, into: &mut Graveyard) {
        into.append(&mut self.graves);
        for c in self.classes.iter_mut().flat_map(|v| v.iter_mut()) {
            into.append(c.w.retired());
        }
    }

    /// Every policy mirrored (for flushing their cached bundles).
    pub(crate) fn policies(&self) -> impl Iterator<Item = &Arc<PolicyDp>> {
        self.pols.iter().map(|(_, p)| p)
    }
}

/// What readers see: per direction, the published classes.
pub(crate) struct PacketSpd {
    dirs: [RcuBox<Classes>; 3],
}

fn slot(dir: Dir) -> usize {
    match dir {
        Dir::Inbound => 0,
        Dir::Outbound => 1,
        _ => 2,
    }
}

impl PacketSpd {
    pub(crate) const fn new() -> Self {
        PacketSpd {
            dirs: [RcuBox::empty(), RcuBox::empty(), RcuBox::empty()],
        }
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
    pub(crate) fn apply(&self, w: &mut SpdWriter, spd: &Spd, index: u32) -> Result {
        if let Some(old) = w.pols.remove(&index) {
            self.unfile(w, &old)?;
        }
        let Some(p) = spd.get(index) else {
            return Ok(());
        };
        let pd = PolicyDp::new(p)?;
        w.pols.reserve(1).map_err(|_| ENOMEM)?;
        self.file(w, &pd)?;
        w.pols.insert(index, pd).map_err(|_| ENOMEM)?;
        Ok(())
    }

    /// Rebuilds everything from `spd` (after a flush, or a failed update).
    pub(crate) fn resync(&self, w: &mut SpdWriter, spd: &Spd) -> Result {
        self.clear(w);
        let mut cur = spd.dump_cursor();
        while let Some(p) = spd.dump_next(&mut cur) {
            self.apply(w, spd, p.index())?;
            crate::sys::util::cond_resched();
        }
        Ok(())
    }

    /// Forgets every policy.
    pub(crate) fn clear(&self, w: &mut SpdWriter) {
        w.pols.clear();
        for (d, classes) in self.dirs.iter().zip(w.classes.iter_mut()) {
            let old = d.replace(None);
            w.graves.bury(old);
            // The tables stay reachable through the retired `Classes`
            // until the grace period ends; their writer halves go now
            // (with what they had retired).
            while let Some(mut c) = classes.pop() {
                w.graves.append(c.w.retired());
            }
        }
    }

    /// Publishes direction `i`'s classes as the writer now has them.
    fn publish(&self, w: &mut SpdWriter, i: usize) -> Result {
        let cell = self.dirs.get(i).ok_or(EINVAL)?;
        let list = w.classes.get(i).ok_or(EINVAL)?;
        let new = if list.is_empty() {
            None
        } else {
            let mut v = KVec::with_capacity(list.len(), GFP_KERNEL)?;
            for c in list.iter() {
                v.push(
                    Class {
                        shape: c.shape,
                        table: c.table.clone(),
                    },
                    GFP_KERNEL,
                )?;
            }
            Some(KBox::new(Classes { v }, GFP_KERNEL)?)
        };
        let retired = cell.replace(new);
        w.graves.bury(retired);
        Ok(())
    }

    fn file(&self, w: &mut SpdWriter, p: &Arc<PolicyDp>) -> Result {
        let i = slot(p.dir);
        let shape = Shape::of(&p.selector);
        let key = shape.sel_key(&p.selector);
        let list = w.classes.get_mut(i).ok_or(EINVAL)?;
        let pos = match list.iter().position(|c| c.shape == shape) {
            Some(pos) => pos,
            None => {
                let table = Arc::new(
                    ClassTable {
                        t: RcuHash::new(),
                    },
                    GFP_KERNEL,
                )?;
                list.push(WriterClass {
                    shape,
                    table,
                    w: HashWriter::new(),
                })
                .map_err(|_| ENOMEM)?;
                let pos = list.len() - 1;
                if let Err(e) = self.publish(w, i) {
                    if let Some(l) = w.classes.get_mut(i) {
                        l.pop();
                    }
                    return Err(e);
                }
                pos
            }
        };
        let c = w.classes.get_mut(i).and_then(|l| l.get_mut(pos)).ok_or(EINVAL)?;
        let filed = {
            // Cloned out of the read section: allocating may sleep.
            let cur = c.table.t.get(&RcuGuard::new(), &key).cloned();
            let old = cur.as_ref().map_or(&[][..], |f| &f.pols[..]);
            let mut pols = KVec::with_capacity(old.len() + 1, GFP_KERNEL)?;
            for q in old {
                pols.push(q.clone(), GFP_KERNEL)?;
            }
            pols.push(p.clone(), GFP_KERNEL)?;
            Arc::new(Filed { pols }, GFP_KERNEL)?
        };
        c.table.t.insert(&mut c.w, key, filed)
    }

    fn unfile(&self, w: &mut SpdWriter, p: &PolicyDp) -> Result {
        let i = slot(p.dir);
        let shape = Shape::of(&p.selector);
        let key = shape.sel_key(&p.selector);
        let Some(list) = w.classes.get_mut(i) else {
            return Ok(());
        };
        let Some(pos) = list.iter().position(|c| c.shape == shape) else {
            return Ok(());
        };
        let c = list.get_mut(pos).ok_or(EINVAL)?;
        let rest = {
            let cur = c.table.t.get(&RcuGuard::new(), &key).cloned();
            let old = cur.as_ref().map_or(&[][..], |f| &f.pols[..]);
            let mut rest = KVec::with_capacity(old.len(), GFP_KERNEL)?;
            for q in old.iter().filter(|q| q.index != p.index) {
                rest.push(q.clone(), GFP_KERNEL)?;
            }
            rest
        };
        if !rest.is_empty() {
            return c
                .table
                .t
                .insert(&mut c.w, key, Arc::new(Filed { pols: rest }, GFP_KERNEL)?);
        }
        c.table.t.remove(&mut c.w, &key)?;
        if c.w.is_empty() {
            let mut gone = list.remove(pos);
            w.graves.append(gone.w.retired());
            // Readers may still be in the class: its table goes with the
            // retired `Classes` after a grace period.
            self.publish(w, i)?;
            drop(gone);
        }
        Ok(())
    }

    /// Forgets every cached bundle (and the routes they hold).
    pub(crate) fn flush_bundles(&self, w: &SpdWriter) {
        for pd in w.policies() {
            let old = pd.cache.lock().take();
            drop(old);
        }
    }
}
