//! A hash table the packet path reads without locks (RCU): buckets are
//! copied on write and republished, the old copies freed after a grace
//! period; the table doubles (rebuilt, republished) as it fills.
//!
//! The table is two halves: `RcuHash`, what readers see, and `HashWriter`,
//! the writer's bookkeeping. Every writer method takes the writer half, which
//! lives inside the namespace's control lock (`netns::Control`): holding it
//! mutably is the proof that the one writer lock is held.

use crate::logic::hash::HashSeed;
use crate::sys::rcu::{Graveyard, RcuBox, RcuGuard};
use core::hash::Hash;
use core::marker::PhantomData;
use kernel::alloc::KVec;
use kernel::prelude::*;

const INITIAL_BUCKETS: usize = 256;

struct Bucket<K, V> {
    items: KVec<(K, V)>,
}

struct Table<K, V> {
    seed: HashSeed,
    mask: u64,
    buckets: KVec<RcuBox<Bucket<K, V>>>,
}

impl<K: Hash + Eq, V> Table<K, V> {
    /// A table of `n` (a power of two) buckets filled from `lists`, or
    /// empty ones.
    fn build(n: usize, seed: HashSeed, lists: Option<KVec<KVec<(K, V)>>>) -> Result<KBox<Self>> {
        let mut buckets = KVec::with_capacity(n, GFP_KERNEL)?;
        match lists {
            Some(lists) => {
                for items in lists.into_iter() {
                    let b = if items.is_empty() {
                        None
                    } else {
                        Some(KBox::new(Bucket { items }, GFP_KERNEL)?)
                    };
                    buckets.push(RcuBox::new(b), GFP_KERNEL)?;
                }
            }
            None => {
                for _ in 0..n {
                    buckets.push(RcuBox::empty(), GFP_KERNEL)?;
                }
            }
        }
        let t = Table {
            seed,
            mask: (n as u64).wrapping_sub(1),
            buckets,
        };
        Ok(KBox::new(t, GFP_KERNEL)?)
    }

    fn index(seed: &HashSeed, mask: u64, k: &K) -> usize {
        usize::try_from(seed.hash(k) & mask).unwrap_or(0)
    }

    fn slot(&self, k: &K) -> Option<&RcuBox<Bucket<K, V>>> {
        self.buckets.get(Self::index(&self.seed, self.mask, k))
    }
}

/// The writer's half of an `RcuHash`.
pub(crate) struct HashWriter<K, V> {
    len: usize,
    /// Buckets and tables readers may still see.
    graves: Graveyard,
    _t: PhantomData<(K, V)>,
}

impl<K, V> HashWriter<K, V> {
    pub(crate) const fn new() -> Self {
        HashWriter {
            len: 0,
            graves: Graveyard::new(),
            _t: PhantomData,
        }
    }

    /// Whether the table holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What was retired since the last call, to free after a grace period.
    pub(crate) fn retired(&mut self) -> &mut Graveyard {
        &mut self.graves
    }
}

/// What readers see. `K` and `V` are cloned when buckets are copied (`V` is
/// typically an `Arc`).
pub(crate) struct RcuHash<K, V> {
    top: RcuBox<Table<K, V>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static, V: Clone + Send + Sync + 'static> RcuHash<K, V> {
    pub(crate) const fn new() -> Self {
        RcuHash {
            top: RcuBox::empty(),
        }
    }

    /// Whether the table is empty, as a reader sees it (no table yet).
    pub(crate) fn is_empty_for_readers(&self, g: &RcuGuard) -> bool {
        self.top.get(g).is_none()
    }

    /// The value for `k`, valid for the read section.
    pub(crate) fn get<'g>(&self, g: &'g RcuGuard, k: &K) -> Option<&'g V> {
        let t = self.top.get(g)?;
        let b = t.slot(k)?.get(g)?;
        b.items.iter().find(|(bk, _)| bk == k).map(|(_, v)| v)
    }

    /// Inserts or replaces the value for `k`.
    pub(crate) fn insert(&self, w: &mut HashWriter<K, V>, k: K, v: V) -> Result {
        if self.top.get_mut_side().is_none() {
            let t = Table::build(INITIAL_BUCKETS, HashSeed::random(), None)?;
            w.graves.bury(self.top.replace(Some(t)));
        }
        let t = self.top.get_mut_side().ok_or(ENOMEM)?;
        let slot = t.slot(&k).ok_or(EINVAL)?;
        let old = slot.get_mut_side();
        let n = old.map_or(0, |b| b.items.len());
        let mut items = KVec::with_capacity(n + 1, GFP_KERNEL)?;
        let mut replaced = false;
        for (bk, bv) in old.map(|b| &b.items[..]).unwrap_or(&[]) {
            if *bk == k {
                replaced = true;
                items.push((k.clone(), v.clone()), GFP_KERNEL)?;
            } else {
                items.push((bk.clone(), bv.clone()), GFP_KERNEL)?;
            }
        }
        if !replaced {
            items.push((k, v), GFP_KERNEL)?;
            w.len += 1;
        }
        let nb = KBox::new(Bucket { items }, GFP_KERNEL)?;
        w.graves.bury(slot.replace(Some(nb)));
        let nbuckets = t.buckets.len();
        if w.len > 2 * nbuckets {
            // A failed grow leaves the table as it is, only fuller.
            let _ = self.grow(w, nbuckets * 2);
        }
        Ok(())
    }

    /// Removes `k`; returns whether it was there.
    pub(crate) fn remove(&self, w: &mut HashWriter<K, V>, k: &K) -> Result<bool> {
        let Some(t) = self.top.get_mut_side() else {
            return Ok(false);
        };
        let slot = t.slot(k).ok_or(EINVAL)?;
        let Some(old) = slot.get_mut_side() else {
            return Ok(false);
        };
        if !old.items.iter().any(|(bk, _)| bk == k) {
            return Ok(false);
        }
        let mut items = KVec::with_capacity(old.items.len(), GFP_KERNEL)?;
        for (bk, bv) in old.items.iter().filter(|(bk, _)| bk != k) {
            items.push((bk.clone(), bv.clone()), GFP_KERNEL)?;
        }
        let nb = if items.is_empty() {
            None
        } else {
            Some(KBox::new(Bucket { items }, GFP_KERNEL)?)
        };
        w.graves.bury(slot.replace(nb));
        w.len -= 1;
        if w.len == 0 {
            // Readers see "empty" again (`is_empty_for_readers`).
            w.graves.bury(self.top.replace(None));
        }
        Ok(true)
    }

    /// Removes everything.
    pub(crate) fn clear(&self, w: &mut HashWriter<K, V>) {
        w.graves.bury(self.top.replace(None));
        w.len = 0;
    }

    fn grow(&self, w: &mut HashWriter<K, V>, n: usize) -> Result {
        let old = self.top.get_mut_side().ok_or(EINVAL)?;
        let seed = HashSeed::random();
        let mask = (n as u64).wrapping_sub(1);
        let mut lists: KVec<KVec<(K, V)>> = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            lists.push(KVec::new(), GFP_KERNEL)?;
        }
        for ob in old.buckets.iter().filter_map(|b| b.get_mut_side()) {
            for (k, v) in ob.items.iter() {
                let i = Table::<K, V>::index(&seed, mask, k);
                lists
                    .get_mut(i)
                    .ok_or(EINVAL)?
                    .push((k.clone(), v.clone()), GFP_KERNEL)?;
            }
        }
        let new = Table::build(n, seed, Some(lists))?;
        w.graves.bury(self.top.replace(Some(new)));
        Ok(())
    }

}
