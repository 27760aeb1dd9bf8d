//! The security policy database (RFC 4301 §4.4.1), per direction, with
//! the operations PF_KEY's SPD messages need and a per-packet lookup that
//! does not scan the policies (see `tuple`).
//!
//! Best match: lowest `priority` value (Linux's order), then the most
//! specific selector, then the oldest policy. `SPDUPDATE` keeps the
//! replaced policy's index and age, as Linux's `xfrm_policy_insert` does.

mod tuple;

use crate::logic::addr::IpAddr;
use crate::logic::dump_order::{DumpCursor, OrderLog};
use crate::logic::hash::HashIndex;
use crate::logic::lifetime::{Expiry, ExpiryState, Lifetime, LifetimeCurrent};
use crate::logic::sad::Changes;
use crate::logic::selector::{FlowKey, Selector};
use crate::logic::types::{Action, Dir, IpsecProto, Level, Mode};
use crate::seam::{AllocError, Vec};
use tuple::TupleSpace;
pub use tuple::{MaskedKey, Shape};

/// Most templates one policy may carry (Linux's `XFRM_MAX_DEPTH`).
pub const MAX_TEMPLATES: usize = 6;

/// One IPsec transform a policy requires (`sadb_x_ipsecrequest`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Template {
    /// AH, ESP or IPComp.
    pub proto: IpsecProto,
    /// Transport or tunnel.
    pub mode: Mode,
    /// Tunnel source; unspecified in transport mode.
    pub src: IpAddr,
    /// Tunnel destination; unspecified in transport mode.
    pub dst: IpAddr,
    /// default/use/require/unique.
    pub level: Level,
    /// SA binding id; 0 unless the level is `unique`.
    pub reqid: u32,
}

/// A security policy.
#[derive(Debug)]
pub struct Policy {
    index: u32,
    seq: u64,
    /// Direction the policy applies to.
    pub dir: Dir,
    /// Traffic the policy covers.
    pub selector: Selector,
    /// Smaller values are preferred.
    pub priority: u32,
    /// What to do with matching traffic.
    pub action: Action,
    /// Transforms to apply, outermost last (as in the PF_KEY message).
    pub templates: Vec<Template>,
    /// Hard limits (`SADB_EXT_LIFETIME_HARD`).
    pub lifetime_hard: Lifetime,
    /// Soft limits (`SADB_EXT_LIFETIME_SOFT`).
    pub lifetime_soft: Lifetime,
    /// Usage so far; `addtime` is when the policy was added.
    pub current: LifetimeCurrent,
    expiry: ExpiryState,
}

impl Policy {
    /// A policy with priority 0, no templates and no lifetimes; `Spd::add`
    /// assigns its index.
    pub fn new(dir: Dir, selector: Selector, action: Action) -> Self {
        Policy {
            index: 0,
            seq: 0,
            dir,
            selector,
            priority: 0,
            action,
            templates: Vec::new(),
            lifetime_hard: Lifetime::default(),
            lifetime_soft: Lifetime::default(),
            current: LifetimeCurrent::default(),
            expiry: ExpiryState::default(),
        }
    }

    /// Index (`sadb_x_policy_id`): unique, direction in the low 3 bits.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Position in dump order (for `DumpCursor::advance_past`).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the policy was added (the caller's clock).
    pub fn created(&self) -> u64 {
        self.current.addtime
    }

    /// Preference key: smaller is better.
    pub fn rank(&self) -> (u32, u32, u64) {
        (
            self.priority,
            u32::MAX - self.selector.specificity(),
            self.seq,
        )
    }
}

/// Why an SPD operation failed (errno in brackets).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpdError {
    /// Malformed selector or template (EINVAL).
    Invalid,
    /// An identical selector exists in that direction (EEXIST).
    Exists,
    /// No such policy (ENOENT).
    NotFound,
    /// More than [`MAX_TEMPLATES`] templates (ELOOP).
    TooManyTemplates,
    /// Out of memory (ENOMEM).
    NoMem,
}

impl From<AllocError> for SpdError {
    fn from(_: AllocError) -> Self {
        SpdError::NoMem
    }
}

/// Work done by one lookup, for tests and diagnostics.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct LookupStats {
    /// Selector classes probed (one hash lookup each).
    pub classes: usize,
    /// Candidate policies compared.
    pub candidates: usize,
}

/// Kernel numbering of a direction (`XFRM_POLICY_IN` = 0, ...), which
/// Linux keeps in an index's low 3 bits.
fn dir_bits(dir: Dir) -> u32 {
    u32::from(dir as u8 - 1)
}

/// The direction encoded in a policy index, as `xfrm_policy_id2dir`;
/// `None` for socket-policy or invalid indexes (PF_KEY answers EINVAL).
pub fn dir_of_index(index: u32) -> Option<Dir> {
    Dir::from_u8((index & 7) as u8 + 1)
}

/// The policy database.
pub struct Spd {
    policies: HashIndex<u32, Policy>,
    dirs: [TupleSpace<u32>; 3],
    order: OrderLog<u32>,
    idx_generator: u32,
    changes: Changes,
}

impl Default for Spd {
    fn default() -> Self {
        Self::new()
    }
}

impl Spd {
    /// An empty SPD.
    pub fn new() -> Self {
        Spd {
            policies: HashIndex::new(),
            dirs: [TupleSpace::new(), TupleSpace::new(), TupleSpace::new()],
            order: OrderLog::new(),
            idx_generator: 0,
            changes: Changes::default(),
        }
    }

    /// Indexes of the policies added, replaced or removed since the last
    /// call (`all` after a flush): the datapath updates its lookup copy
    /// with only those.
    pub fn take_changes(&mut self) -> Changes {
        core::mem::take(&mut self.changes)
    }

    /// Makes the next `take_changes` report everything (its consumer
    /// could not apply the last ones).
    pub fn force_resync(&mut self) {
        self.changes.flushed();
    }

    /// Number of policies in all directions.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether the SPD is empty.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    fn space(&self, dir: Dir) -> &TupleSpace<u32> {
        &self.dirs[dir_bits(dir) as usize]
    }

    fn space_mut(&mut self, dir: Dir) -> &mut TupleSpace<u32> {
        &mut self.dirs[dir_bits(dir) as usize]
    }

    /// Number of selector classes in `dir` (the per-lookup probe count).
    pub fn class_count(&self, dir: Dir) -> usize {
        self.space(dir).class_count()
    }

    fn validate(p: &Policy) -> Result<(), SpdError> {
        p.selector.validate().map_err(|_| SpdError::Invalid)?;
        if p.templates.len() > MAX_TEMPLATES {
            return Err(SpdError::TooManyTemplates);
        }
        for t in p.templates.iter() {
            if t.src.family() != t.dst.family() {
                return Err(SpdError::Invalid);
            }
            if t.mode == Mode::Tunnel && (t.src.is_unspecified() || t.dst.is_unspecified()) {
                return Err(SpdError::Invalid);
            }
        }
        Ok(())
    }

    /// The policy with exactly this selector in `dir`.
    fn find_exact(&self, dir: Dir, sel: &Selector) -> Option<u32> {
        let mut found = None;
        self.space(dir).same_key(sel, |i| {
            if found.is_none() && self.policies.get(&i).is_some_and(|p| p.selector == *sel) {
                found = Some(i);
            }
        });
        found
    }

    /// A fresh index for `dir`, as Linux's `xfrm_gen_index`.
    fn gen_index(&mut self, dir: Dir) -> Result<u32, SpdError> {
        // Each taken index is skipped at most once, so this ends.
        for _ in 0..=self.policies.len() {
            let mut idx = self.idx_generator | dir_bits(dir);
            self.idx_generator = self.idx_generator.wrapping_add(8);
            if idx == 0 {
                idx = 8;
            }
            if !self.policies.contains_key(&idx) {
                return Ok(idx);
            }
        }
        Err(SpdError::NoMem)
    }

    /// `SPDADD`: inserts `policy`, failing with `Exists` if its selector is
    /// already in use in its direction. Returns the new index.
    pub fn add(&mut self, policy: Policy, now: u64) -> Result<u32, SpdError> {
        self.insert(policy, now, true).map(|(i, _)| i)
    }

    /// `SPDUPDATE`: replaces the policy with the same direction and
    /// selector (keeping its index and age), or adds it. Returns the index
    /// and the policy replaced.
    pub fn update(&mut self, policy: Policy, now: u64) -> Result<(u32, Option<Policy>), SpdError> {
        self.insert(policy, now, false)
    }

    fn insert(
        &mut self,
        mut p: Policy,
        now: u64,
        excl: bool,
    ) -> Result<(u32, Option<Policy>), SpdError> {
        Self::validate(&p)?;
        p.current = LifetimeCurrent::new(now);
        p.expiry = ExpiryState::default();
        if let Some(old) = self.find_exact(p.dir, &p.selector) {
            if excl {
                return Err(SpdError::Exists);
            }
            let Some(slot) = self.policies.get_mut(&old) else {
                return Err(SpdError::NotFound);
            };
            p.index = slot.index;
            p.seq = slot.seq;
            let replaced = core::mem::replace(slot, p);
            self.changes.note(u64::from(old));
            return Ok((old, Some(replaced)));
        }
        let index = self.gen_index(p.dir)?;
        self.policies.reserve(1)?;
        self.order.reserve()?;
        // The only fallible step left; on failure nothing has changed.
        let sel = p.selector;
        self.space_mut(p.dir).insert(&sel, index)?;
        p.index = index;
        p.seq = self.order.push(index)?;
        self.policies.insert(index, p)?;
        self.changes.note(u64::from(index));
        Ok((index, None))
    }

    fn unlink(&mut self, index: u32) -> Option<Policy> {
        let p = self.policies.remove(&index)?;
        self.changes.note(u64::from(index));
        let sel = p.selector;
        self.space_mut(p.dir).remove(&sel, index);
        self.order.remove(p.seq);
        Some(p)
    }

    /// `SPDDELETE`: removes the policy with this direction and selector.
    pub fn delete(&mut self, dir: Dir, sel: &Selector) -> Result<Policy, SpdError> {
        let index = self.find_exact(dir, sel).ok_or(SpdError::NotFound)?;
        self.unlink(index).ok_or(SpdError::NotFound)
    }

    /// `SPDDELETE2`: removes the policy with this index.
    pub fn delete_by_index(&mut self, index: u32) -> Result<Policy, SpdError> {
        self.unlink(index).ok_or(SpdError::NotFound)
    }

    /// `SPDGET`: the policy with this index.
    pub fn get(&self, index: u32) -> Option<&Policy> {
        self.policies.get(&index)
    }

    /// The policy with this direction and exact selector.
    pub fn get_by_selector(&self, dir: Dir, sel: &Selector) -> Option<&Policy> {
        self.get(self.find_exact(dir, sel)?)
    }

    /// `SPDFLUSH`: removes every policy; returns how many there were.
    pub fn flush(&mut self) -> usize {
        let n = self.policies.len();
        self.changes.flushed();
        self.policies.clear();
        for d in self.dirs.iter_mut() {
            d.clear();
        }
        self.order.clear();
        n
    }

    /// The policy that governs `flow` in `dir`.
    pub fn lookup(&self, dir: Dir, flow: &FlowKey) -> Option<&Policy> {
        self.lookup_counted(dir, flow).0
    }

    /// `lookup`, also reporting the work done.
    pub fn lookup_counted(&self, dir: Dir, flow: &FlowKey) -> (Option<&Policy>, LookupStats) {
        let mut best: Option<&Policy> = None;
        let mut candidates = 0;
        let classes = self.space(dir).matching(flow, |i| {
            candidates += 1;
            if let Some(p) = self.policies.get(&i) {
                if best.is_none_or(|b| p.rank() < b.rank()) {
                    best = Some(p);
                }
            }
        });
        let stats = LookupStats {
            classes,
            candidates,
        };
        (best, stats)
    }

    /// Records that `index` was used for a packet of `bytes` at `now`.
    pub fn account(&mut self, index: u32, bytes: u64, now: u64) {
        if let Some(p) = self.policies.get_mut(&index) {
            p.current.account(bytes, now);
        }
    }

    /// Appends to `out` every (index, expiry) newly due at `now`. Each soft
    /// and hard expiry is reported once; the caller deletes hard-expired
    /// policies after notifying (`SADB_X_SPDEXPIRE`).
    pub fn expire_check(
        &mut self,
        now: u64,
        out: &mut Vec<(u32, Expiry)>,
    ) -> Result<(), AllocError> {
        for (i, p) in self.policies.values_mut().enumerate() {
            // A walk over every policy lets other tasks run now and then.
            if i & 1023 == 0 {
                crate::seam::cond_resched();
            }
            if p.lifetime_hard.is_unlimited() && p.lifetime_soft.is_unlimited() {
                continue;
            }
            // Reserve before polling so that a failed push loses no event.
            out.reserve(1)?;
            if let Some(e) = p
                .expiry
                .poll(&p.lifetime_hard, &p.lifetime_soft, &p.current, now)
            {
                out.push((p.index, e))?;
            }
        }
        Ok(())
    }

    /// A cursor for a resumable `SPDDUMP` over the policies present now.
    pub fn dump_cursor(&self) -> DumpCursor {
        self.order.cursor()
    }

    /// The next policy of the dump, in insertion order, without moving the
    /// cursor (call `cursor.advance_past(p.seq())` once it is emitted).
    pub fn dump_peek(&self, cursor: &DumpCursor) -> Option<&Policy> {
        let mut c = *cursor;
        loop {
            let (seq, index) = self.order.peek(&c)?;
            match self.policies.get(&index) {
                Some(p) if p.seq == seq => return Some(p),
                _ => c.advance_past(seq),
            }
        }
    }

    /// The next policy of the dump, advancing the cursor past it.
    pub fn dump_next(&self, cursor: &mut DumpCursor) -> Option<&Policy> {
        let p = self.dump_peek(cursor)?;
        cursor.advance_past(p.seq);
        Some(p)
    }

    /// Policies the cursor has yet to visit.
    pub fn dump_remaining(&self, cursor: &DumpCursor) -> usize {
        self.order.remaining(cursor)
    }
}

#[cfg(test)]
mod tests;
