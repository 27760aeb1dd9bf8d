//! The security association database (RFC 4301 §4.4.2) with the
//! operations PF_KEY needs, following Linux's xfrm_state.c and af_key.c.
//!
//! Indexes (all keyed hash tables over one id → SA table):
//! - (dst, spi, proto), unique: inbound packets, GET/DELETE/UPDATE;
//! - (src, dst, proto, mode, reqid) → group of SAs: outbound SA choice.
//!   Manual keying may put 100k SAs on one host pair, so each SA knows its
//!   place in its group and leaves it in O(1);
//! - the same tuple, larval SAs only: ACQUIRE/GETSPI/ADD matching, so that
//!   adding an SA never scans its group;
//! - seq, larval SAs only: by the PF_KEY sequence number of their
//!   ACQUIRE/GETSPI.
//!
//! SA ids grow with insertion and double as the dump order, so a dump
//! cursor survives deletes between chunks.

mod larval;
mod sa;

/// Walks over every SA let other tasks run this often (a million SAs under
/// the control mutex must not hog the CPU). A power of two (masked, as
/// `is_multiple_of` is newer than the kernel's rustc).
const YIELD_EVERY: u32 = 1024;

pub use sa::{Charge, NatT, Sa, SaIdent, SaStats, SecretKey};

use crate::logic::addr::IpAddr;
use crate::logic::dump_order::{DumpCursor, OrderLog};
use crate::logic::hash::HashIndex;
use crate::logic::lifetime::{Expiry, ExpiryState, LifetimeCurrent};
use crate::logic::replay::{OutSeq, ReplayWindow, REPLAY_MAX};
use crate::logic::types::{IpsecProto, Mode, SaState};
use crate::seam::{AllocError, Vec};

/// Default GETSPI range without `SADB_EXT_SPIRANGE` (af_key's).
pub const SPI_MIN_DEFAULT: u32 = 0x100;
/// Default GETSPI range upper bound.
pub const SPI_MAX_DEFAULT: u32 = 0x0fff_ffff;
/// Seconds a larval SA lives (Linux's `xfrm_acq_expires` default).
pub const LARVAL_LIFETIME: u64 = 30;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct SpiKey {
    dst: IpAddr,
    spi: u32,
    proto: IpsecProto,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct TupleKey {
    src: IpAddr,
    dst: IpAddr,
    proto: IpsecProto,
    mode: Mode,
    reqid: u32,
}

fn spi_key(i: &SaIdent) -> SpiKey {
    SpiKey {
        dst: i.dst,
        spi: i.spi,
        proto: i.proto,
    }
}

fn tuple_key(i: &SaIdent) -> TupleKey {
    TupleKey {
        src: i.src,
        dst: i.dst,
        proto: i.proto,
        mode: i.mode,
        reqid: i.reqid,
    }
}

/// Why an SAD operation failed (errno in brackets).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SadError {
    /// Malformed SA or request (EINVAL).
    Invalid,
    /// An SA with this (dst, spi, proto) exists (EEXIST).
    Exists,
    /// No such SA (ESRCH).
    NotFound,
    /// No free SPI in the requested range (ENOENT).
    NoSpi,
    /// Out of memory (ENOMEM).
    NoMem,
}

impl From<AllocError> for SadError {
    fn from(_: AllocError) -> Self {
        SadError::NoMem
    }
}

/// A `SADB_GETSPI` request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpiRequest {
    /// Protocol of the SA to reserve an SPI for.
    pub proto: IpsecProto,
    /// Mode (`sadb_x_sa2`, `Any` if absent).
    pub mode: Mode,
    /// Request id (`sadb_x_sa2`, 0 if absent).
    pub reqid: u32,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// `sadb_msg_seq`: matches the larval SA of an earlier ACQUIRE.
    pub seq: u32,
    /// Lowest acceptable SPI.
    pub min: u32,
    /// Highest acceptable SPI.
    pub max: u32,
}

/// The outcome of an outbound SA search.
#[derive(Clone, Copy, Debug)]
pub enum OutputSa<'a> {
    /// Use this SA.
    Valid(&'a Sa),
    /// No usable SA, but a larval one shows negotiation is under way.
    Acquiring(&'a Sa),
    /// Nothing: the caller should `acquire`.
    Missing,
}

/// A larval SA standing for an ACQUIRE.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Acquired {
    /// Its id.
    pub id: u64,
    /// The `sadb_msg_seq` to send in `SADB_ACQUIRE`.
    pub seq: u32,
    /// False if one was pending already (send no new ACQUIRE).
    pub created: bool,
}

/// The SA database.
pub struct Sad {
    sas: HashIndex<u64, Sa>,
    by_spi: HashIndex<SpiKey, u64>,
    by_tuple: HashIndex<TupleKey, Vec<u64>>,
    larvals: HashIndex<TupleKey, u64>,
    by_seq: HashIndex<u32, u64>,
    order: OrderLog<()>,
    acq_seq: u32,
    larval_lifetime: u64,
    changes: Changes,
}

/// SAs (by id) or policies (by index) added, removed or changed since the
/// datapath last looked (`Sad::take_changes`, `Spd::take_changes`): it
/// mirrors only those into its packet-path tables instead of rescanning.
#[derive(Default)]
pub struct Changes {
    /// Ids of the SAs concerned (possibly repeated, possibly gone since).
    pub ids: Vec<u64>,
    /// Too many to list, or a bulk change: resynchronise everything.
    pub all: bool,
}

impl Changes {
    pub(crate) fn note(&mut self, id: u64) {
        if !self.all && self.ids.push(id).is_err() {
            self.all = true;
        }
    }

    /// Everything went: what was listed no longer matters.
    pub(crate) fn flushed(&mut self) {
        self.ids = Vec::new();
        self.all = true;
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.all && self.ids.is_empty()
    }
}

impl Default for Sad {
    fn default() -> Self {
        Self::new()
    }
}

impl Sad {
    /// An empty SAD.
    pub fn new() -> Self {
        Sad {
            sas: HashIndex::new(),
            by_spi: HashIndex::new(),
            by_tuple: HashIndex::new(),
            larvals: HashIndex::new(),
            by_seq: HashIndex::new(),
            order: OrderLog::new(),
            acq_seq: 0,
            larval_lifetime: LARVAL_LIFETIME,
            changes: Changes::default(),
        }
    }

    /// What changed since the last call (see [`Changes`]).
    pub fn take_changes(&mut self) -> Changes {
        core::mem::take(&mut self.changes)
    }

    /// Sets how long larval SAs live (seconds, 0 for ever).
    pub fn set_larval_lifetime(&mut self, secs: u64) {
        self.larval_lifetime = secs;
    }

    /// Number of SAs, larval ones included.
    pub fn len(&self) -> usize {
        self.sas.len()
    }

    /// Whether the SAD is empty.
    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    /// Number of SAs of `proto`.
    pub fn count(&self, proto: IpsecProto) -> usize {
        self.sas.values().filter(|s| s.ident.proto == proto).count()
    }

    /// All SAs, in unspecified order.
    pub fn iter(&self) -> impl Iterator<Item = &Sa> + '_ {
        self.sas.values()
    }

    /// The SA with this id.
    pub fn get(&self, id: u64) -> Option<&Sa> {
        self.sas.get(&id)
    }

    /// The SA with this id, mutably (its identity stays read-only).
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Sa> {
        self.sas.get_mut(&id)
    }

    /// `SADB_GET` and inbound packets: the SA for (dst, spi, proto).
    pub fn lookup(&self, dst: &IpAddr, spi: u32, proto: IpsecProto) -> Option<&Sa> {
        let id = self.id_of(dst, spi, proto)?;
        self.sas.get(&id)
    }

    /// `lookup`, mutably (replay window, counters).
    pub fn lookup_mut(&mut self, dst: &IpAddr, spi: u32, proto: IpsecProto) -> Option<&mut Sa> {
        let id = self.id_of(dst, spi, proto)?;
        self.sas.get_mut(&id)
    }

    fn id_of(&self, dst: &IpAddr, spi: u32, proto: IpsecProto) -> Option<u64> {
        let key = SpiKey {
            dst: *dst,
            spi,
            proto,
        };
        self.by_spi.get(&key).copied()
    }

    /// Makes the next `link(sa)` infallible.
    fn reserve_link(&mut self, sa: &Sa) -> Result<(), AllocError> {
        self.sas.reserve(1)?;
        if sa.ident.spi != 0 {
            self.by_spi.reserve(1)?;
        }
        match self.by_tuple.get_mut(&tuple_key(&sa.ident)) {
            Some(group) => group.reserve(1)?,
            None => self.by_tuple.reserve(1)?,
        }
        if sa.state == SaState::Larval {
            self.larvals.reserve(1)?;
            if sa.seq != 0 {
                self.by_seq.reserve(1)?;
            }
        }
        self.order.reserve()
    }

    /// Inserts `sa` into every index; on failure nothing changed.
    fn link(&mut self, sa: Sa) -> Result<u64, AllocError> {
        self.link_with(sa, None)
    }

    /// `link`, taking a new tuple group from `spare` if one is needed.
    fn link_with(&mut self, mut sa: Sa, spare: Option<Vec<u64>>) -> Result<u64, AllocError> {
        self.reserve_link(&sa)?;
        let tk = tuple_key(&sa.ident);
        // A new group is the last allocation; nothing is touched before it.
        let fresh = match (self.by_tuple.contains_key(&tk), spare) {
            (true, _) => None,
            (false, Some(group)) => Some(group),
            (false, None) => Some(Vec::with_capacity(1)?),
        };
        // Everything below was reserved and cannot fail.
        let id = self.order.push(())?;
        sa.id = id;
        if sa.ident.spi != 0 {
            self.by_spi.insert(spi_key(&sa.ident), id)?;
        }
        match fresh {
            Some(mut group) => {
                sa.tuple_pos = 0;
                group.push(id)?;
                self.by_tuple.insert(tk, group)?;
            }
            None => {
                if let Some(group) = self.by_tuple.get_mut(&tk) {
                    sa.tuple_pos = group.len();
                    group.push(id)?;
                }
            }
        }
        if sa.state == SaState::Larval {
            self.larvals.insert_multi(tk, id)?;
            if sa.seq != 0 {
                self.by_seq.insert_multi(sa.seq, id)?;
            }
        }
        self.sas.insert(id, sa)?;
        self.changes.note(id);
        Ok(id)
    }

    fn unlink(&mut self, id: u64) -> Option<Sa> {
        let sa = self.sas.remove(&id)?;
        self.changes.note(id);
        if sa.ident.spi != 0 {
            self.by_spi.remove_where(&spi_key(&sa.ident), |v| *v == id);
        }
        let tk = tuple_key(&sa.ident);
        if let Some(group) = self.by_tuple.get_mut(&tk) {
            let pos = sa.tuple_pos;
            if group.get(pos) == Some(&id) {
                group.swap_remove(pos);
                if let Some(moved) = group.get(pos).and_then(|m| self.sas.get_mut(m)) {
                    moved.tuple_pos = pos;
                }
            }
            if group.is_empty() {
                self.by_tuple.remove(&tk);
            }
        }
        // Larval at insertion is what counts (expiry may have killed it).
        self.larvals.remove_where(&tk, |v| *v == id);
        if sa.seq != 0 {
            self.by_seq.remove_where(&sa.seq, |v| *v == id);
        }
        self.order.remove(id);
        Some(sa)
    }

    fn check_ident(i: &SaIdent) -> Result<(), SadError> {
        if i.src.family() != i.dst.family() {
            return Err(SadError::Invalid);
        }
        Ok(())
    }

    /// Makes `sa` a fresh mature SA added at `now`.
    fn prepare(sa: &mut Sa, now: u64) -> Result<(), SadError> {
        Self::check_ident(&sa.ident)?;
        if sa.ident.spi == 0 || sa.replay_window > REPLAY_MAX {
            return Err(SadError::Invalid);
        }
        sa.replay = ReplayWindow::new(sa.replay_window, sa.esn).map_err(|_| SadError::NoMem)?;
        sa.oseq = OutSeq::new(sa.esn);
        sa.state = SaState::Mature;
        sa.current = LifetimeCurrent::new(now);
        sa.expiry = ExpiryState::default();
        Ok(())
    }

    /// `SADB_ADD`: adds a mature SA; fails with `Exists` if (dst, spi,
    /// proto) is taken (larval SAs from GETSPI included: those are
    /// completed with UPDATE). A larval SA this one answers (same seq, or
    /// same tuple without SPI) is removed, as `xfrm_state_add` does.
    pub fn add(&mut self, mut sa: Sa, now: u64) -> Result<u64, SadError> {
        Self::prepare(&mut sa, now)?;
        if self.by_spi.contains_key(&spi_key(&sa.ident)) {
            return Err(SadError::Exists);
        }
        let larval = self
            .larval_by_seq(sa.seq, &sa.ident.dst, sa.ident.proto)
            .or_else(|| self.larval_by_tuple(&sa.ident));
        let id = self.link(sa)?;
        if let Some(l) = larval {
            self.unlink(l);
        }
        Ok(id)
    }

    /// `SADB_UPDATE`, as `xfrm_state_update`: a larval SA with this (dst,
    /// spi, proto) is replaced by `sa`; for a mature or dying one only the
    /// lifetimes and the NAT-T ports/original address change (keys and
    /// algorithms of the message are ignored), and a dying SA becomes mature
    /// again. Returns the id of the resulting SA.
    pub fn update(&mut self, mut sa: Sa, now: u64) -> Result<u64, SadError> {
        Self::check_ident(&sa.ident)?;
        let old_id = self
            .id_of(&sa.ident.dst, sa.ident.spi, sa.ident.proto)
            .ok_or(SadError::NotFound)?;
        let old_state = self.sas.get(&old_id).ok_or(SadError::NotFound)?.state;
        match old_state {
            SaState::Larval => {
                Self::prepare(&mut sa, now)?;
                // Allocate all first: unlinking may free the tuple's group.
                self.reserve_link(&sa)?;
                let spare = Vec::with_capacity(1)?;
                self.unlink(old_id);
                Ok(self.link_with(sa, Some(spare))?)
            }
            SaState::Dead => Err(SadError::Invalid),
            SaState::Mature | SaState::Dying => {
                let old = self.sas.get_mut(&old_id).ok_or(SadError::NotFound)?;
                match (&mut old.natt, &sa.natt) {
                    (Some(o), Some(n)) if o.encap_type == n.encap_type => *o = *n,
                    (None, None) => {}
                    _ => return Err(SadError::Invalid),
                }
                old.lifetime_hard = sa.lifetime_hard;
                old.lifetime_soft = sa.lifetime_soft;
                old.state = SaState::Mature;
                old.expiry.rearm_soft();
                self.changes.note(old_id);
                Ok(old_id)
            }
        }
    }

    /// `SADB_DELETE`: removes the SA for (dst, spi, proto).
    pub fn delete(&mut self, dst: &IpAddr, spi: u32, proto: IpsecProto) -> Result<Sa, SadError> {
        let id = self.id_of(dst, spi, proto).ok_or(SadError::NotFound)?;
        self.unlink(id).ok_or(SadError::NotFound)
    }

    /// Removes the SA with this id (after a hard expiry, say).
    pub fn delete_id(&mut self, id: u64) -> Option<Sa> {
        self.unlink(id)
    }

    /// `SADB_FLUSH`: removes every SA of `proto` (all for `None`), calling
    /// `on_remove` with each before it is dropped; returns how many.
    pub fn flush(&mut self, proto: Option<IpsecProto>, mut on_remove: impl FnMut(&Sa)) -> usize {
        let before = self.sas.len();
        self.changes.all = true;
        let mut walked = 0u32;
        self.sas.retain(|_, sa| {
            walked = walked.wrapping_add(1);
            if walked & (YIELD_EVERY - 1) == 0 {
                crate::seam::cond_resched();
            }
            let hit = proto.is_none_or(|p| sa.ident.proto == p);
            if hit {
                on_remove(sa);
            }
            !hit
        });
        let sas = &mut self.sas;
        for group in self.by_tuple.values_mut() {
            group.retain(|id| sas.contains_key(id));
            for (pos, id) in group.iter().enumerate() {
                if let Some(sa) = sas.get_mut(id) {
                    sa.tuple_pos = pos;
                }
            }
        }
        let sas = &self.sas;
        self.by_tuple.retain(|_, group| !group.is_empty());
        self.by_spi.retain(|_, id| sas.contains_key(id));
        self.larvals.retain(|_, id| sas.contains_key(id));
        self.by_seq.retain(|_, id| sas.contains_key(id));
        self.order.retain(|id, _| sas.contains_key(&id));
        before - self.sas.len()
    }

    /// The SA outbound traffic for this tuple should use: mature before
    /// dying, then the most recently added (as `xfrm_state_look_at`).
    pub fn find_output(
        &self,
        src: &IpAddr,
        dst: &IpAddr,
        proto: IpsecProto,
        mode: Mode,
        reqid: u32,
    ) -> OutputSa<'_> {
        let key = TupleKey {
            src: *src,
            dst: *dst,
            proto,
            mode,
            reqid,
        };
        let mut best: Option<&Sa> = None;
        let mut larval: Option<&Sa> = None;
        let group = self.by_tuple.get(&key).map_or(&[][..], |g| &g[..]);
        // O(group) per packet, as Linux's bydst chain walk.
        for sa in group.iter().filter_map(|id| self.sas.get(id)) {
            if sa.state == SaState::Larval {
                larval = larval.or(Some(sa));
            } else if sa.is_valid() {
                let rank = |s: &Sa| (s.state == SaState::Mature, s.current.addtime, s.id);
                if best.is_none_or(|b| rank(sa) > rank(b)) {
                    best = Some(sa);
                }
            }
        }
        match (best, larval) {
            (Some(b), _) => OutputSa::Valid(b),
            (None, Some(l)) => OutputSa::Acquiring(l),
            (None, None) => OutputSa::Missing,
        }
    }

    /// Appends to `out` every (id, expiry) newly due at `now`, moving SAs to
    /// dying (soft) or dead (hard). Each is reported once; the caller sends
    /// `SADB_EXPIRE` and then deletes hard-expired SAs with `delete_id`.
    pub fn expire_check(
        &mut self,
        now: u64,
        out: &mut Vec<(u64, Expiry)>,
    ) -> Result<(), AllocError> {
        for (i, sa) in self.sas.values_mut().enumerate() {
            if i & (YIELD_EVERY as usize - 1) == 0 {
                crate::seam::cond_resched();
            }
            if sa.lifetime_hard.is_unlimited() && sa.lifetime_soft.is_unlimited() {
                continue;
            }
            // Reserve before polling so that a failed push loses no event;
            // soft and hard may both be due (two polls).
            out.reserve(2)?;
            while let Some(e) = sa.poll_expiry(now) {
                self.changes.note(sa.id);
                out.push((sa.id, e))?;
            }
        }
        Ok(())
    }

    /// A cursor for a resumable `SADB_DUMP` over the SAs present now.
    pub fn dump_cursor(&self) -> DumpCursor {
        self.order.cursor()
    }

    /// The next SA of `proto` (all for `None`) in the dump, without moving
    /// the cursor (call `cursor.advance_past(sa.id())` once emitted).
    pub fn dump_peek(&self, cursor: &DumpCursor, proto: Option<IpsecProto>) -> Option<&Sa> {
        let mut c = *cursor;
        loop {
            let (id, ()) = self.order.peek(&c)?;
            c.advance_past(id);
            if let Some(sa) = self.sas.get(&id) {
                if proto.is_none_or(|p| sa.ident.proto == p) {
                    return Some(sa);
                }
            }
        }
    }

    /// The next SA of the dump, advancing the cursor past it.
    pub fn dump_next(&self, cursor: &mut DumpCursor, proto: Option<IpsecProto>) -> Option<&Sa> {
        let sa = self.dump_peek(cursor, proto)?;
        cursor.advance_past(sa.id);
        Some(sa)
    }

    /// SAs of `proto` the cursor has yet to visit (O(n)).
    pub fn dump_remaining(&self, cursor: &DumpCursor, proto: Option<IpsecProto>) -> usize {
        if proto.is_none() {
            return self.order.remaining(cursor);
        }
        let mut c = *cursor;
        let mut n = 0;
        while let Some(sa) = self.dump_peek(&c, proto) {
            c.advance_past(sa.id);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests;
