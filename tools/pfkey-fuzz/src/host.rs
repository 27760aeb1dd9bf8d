//! `--target host`: the key engine in-process (`Engine::handle`, as
//! `rust/af_key` calls it), with a recording outbox. Fast, and it catches
//! panics (an oops in the kernel). Every emitted message goes through the
//! independent validator; a refused message must emit nothing but the
//! promiscuous copy and change neither table; a shadow of the tables kept
//! from the replies alone (ADD/UPDATE/DELETE/FLUSH/EXPIRE and the policy
//! messages) must match full dumps taken every K messages, whose counts
//! must also match the engine's own.

use crate::gen::{Step, SOCKS};
use crate::stats::{Failure, Stats};
use crate::validate::{self, Class, DumpTrack, Entry, Hdr};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rxfrm_logic::algs::AlgDesc;
use rxfrm_logic::engine::{AlgProbe, Audience, Build, Engine, Limits, Outbox, Rejected, SockCtl};
use rxfrm_logic::pfkey::{build_vec, Errno};
use rxfrm_logic::selector::FlowKey;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Records what the engine emits, with its audience.
#[derive(Default)]
struct Rec {
    msgs: Vec<(Audience, Vec<u8>)>,
}

impl Outbox for Rec {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        let v = build_vec(|w| build(w))?;
        self.msgs.push((to, v.to_vec()));
        Ok(())
    }
}

/// A crypto API without the compressors a stock kernel lacks.
struct Probe;

impl AlgProbe for Probe {
    fn available(&self, alg: &AlgDesc) -> bool {
        !matches!(alg.crypto, Some("lzs") | Some("lzjh"))
    }
}

const SA_DUMP: u8 = 10;
const SPD_DUMP: u8 = 18;
const LARVAL: u8 = 0;

/// The tables as the replies describe them: mature SAs and policies.
#[derive(Default, Debug)]
struct Shadow {
    sas: BTreeSet<Entry>,
    pols: BTreeSet<u32>,
}

pub struct Host {
    e: Engine,
    socks: Vec<SockCtl>,
    now: u64,
    shadow: Shadow,
    /// Picks the policy a kernel-originated ACQUIRE is for; separate from
    /// the generator's stream, which must not depend on the target.
    rng: ChaCha8Rng,
    tick_every: u64,
    acquire_every: u64,
    /// After a panic the engine's state is unknown: stop.
    pub dead: bool,
    /// A promiscuous copy must be the request byte for byte.
    pub strict_promisc: bool,
}

fn u32_ne(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// SA state of an SA message (its SA extension, byte 9).
fn sa_state(msg: &[u8]) -> Option<u8> {
    let ex = validate::walk(msg).ok()?;
    ex.get(msg, 1).map(|e| e[9])
}

fn has_ext(msg: &[u8], t: u16) -> bool {
    validate::walk(msg).is_ok_and(|ex| ex.has(t))
}

impl Host {
    pub fn new(seed: u64, max_states: usize, max_policies: usize) -> Host {
        Host {
            e: Engine::new(Limits {
                max_states,
                max_policies,
            }),
            socks: (0..SOCKS).map(|_| SockCtl::default()).collect(),
            now: 1_000_000,
            shadow: Shadow::default(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_4057),
            tick_every: 64,
            acquire_every: 97,
            dead: false,
            strict_promisc: false,
        }
    }

    /// Registers sockets 0–2 (AH, ESP, IPComp) and makes 3 promiscuous,
    /// as the kernel target does.
    pub fn setup(&mut self, stats: &mut Stats) {
        let msgs: [(usize, u8, u8); 4] = [(0, 7, 2), (1, 7, 3), (2, 7, 9), (3, 11, 1)];
        for (i, (sock, t, satype)) in msgs.into_iter().enumerate() {
            let mut m = vec![2, t, 0, satype, 2, 0, 0, 0];
            m.extend((i as u32 + 1).to_ne_bytes());
            m.extend(crate::gen::PID.to_ne_bytes());
            m[4..6].copy_from_slice(&2u16.to_ne_bytes());
            let step = Step {
                index: u64::MAX - 4 + i as u64,
                sock,
                bytes: m,
                kind: t,
                mutations: Vec::new(),
            };
            self.handle(&step, stats, false);
        }
    }

    fn fail(
        stats: &mut Stats,
        kind: &'static str,
        index: u64,
        what: String,
        req: &[u8],
        reply: Option<&[u8]>,
    ) {
        stats.fail(Failure {
            kind,
            index,
            what,
            request: req.to_vec(),
            reply: reply.map(<[u8]>::to_vec),
        });
    }

    /// One message of the sequence, with the time- and policy-driven
    /// events due before it.
    pub fn step(&mut self, s: &Step, stats: &mut Stats) {
        if self.dead {
            return;
        }
        if s.index.is_multiple_of(self.tick_every) && s.index > 0 {
            self.now += 3;
            let mut rec = Rec::default();
            let now = self.now;
            let r = catch_unwind(AssertUnwindSafe(|| self.e.tick(now, &mut rec)));
            if r.is_err() {
                self.dead = true;
                Self::fail(
                    stats,
                    "panic",
                    s.index,
                    "Engine::tick panicked".into(),
                    &[],
                    None,
                );
                return;
            }
            self.check_emitted(&[], &rec, s.index, stats);
        }
        if s.index.is_multiple_of(self.acquire_every) && s.index > 0 {
            self.kernel_acquire(s.index, stats);
        }
        stats.count_step(s);
        self.handle(s, stats, true);
    }

    /// A kernel-originated ACQUIRE for a template of some IPsec policy.
    fn kernel_acquire(&mut self, index: u64, stats: &mut Stats) {
        let mut cands = Vec::new();
        let mut c = self.e.spd.dump_cursor();
        while let Some(p) = self.e.spd.dump_next(&mut c) {
            if !p.templates.is_empty() {
                cands.push((p.index(), p.templates.len(), p.selector));
            }
        }
        if cands.is_empty() {
            return;
        }
        let (pol, n, sel) = cands[self.rng.random_range(0..cands.len())];
        let t = self.rng.random_range(0..n);
        let flow = FlowKey::new(sel.src, sel.dst, sel.proto, sel.sport, sel.dport);
        let mut rec = Rec::default();
        let now = self.now;
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.e.acquire(pol, t, &flow, now, &Probe, &mut rec)
        }));
        if r.is_err() {
            self.dead = true;
            Self::fail(
                stats,
                "panic",
                index,
                format!("Engine::acquire({pol}, {t}) panicked"),
                &[],
                None,
            );
            return;
        }
        self.check_emitted(&[], &rec, index, stats);
    }

    fn handle(&mut self, s: &Step, stats: &mut Stats, count: bool) {
        let req = &s.bytes;
        let before = (self.e.sad.len(), self.e.spd.len());
        let mut rec = Rec::default();
        let now = self.now;
        let sock = &mut self.socks[s.sock];
        let e = &mut self.e;
        let r = catch_unwind(AssertUnwindSafe(|| {
            e.handle(req, sock, now, &Probe, &mut rec)
        }));
        let res = match r {
            Ok(res) => res,
            Err(_) => {
                self.dead = true;
                Self::fail(
                    stats,
                    "panic",
                    s.index,
                    "Engine::handle panicked".into(),
                    req,
                    None,
                );
                return;
            }
        };
        match res {
            Err(Rejected::Header(e)) => {
                if count {
                    *stats.send_errno.entry(e.0).or_default() += 1;
                }
                if !rec.msgs.is_empty() {
                    Self::fail(
                        stats,
                        "malformed",
                        s.index,
                        format!(
                            "send() fails with {e} yet {} messages went out",
                            rec.msgs.len()
                        ),
                        req,
                        Some(&rec.msgs[0].1),
                    );
                }
            }
            Err(Rejected::Message(e)) => {
                for (to, m) in &rec.msgs {
                    if *to == Audience::PromiscOnly {
                        self.check_copy(req, m, s.index, stats);
                    } else {
                        Self::fail(
                            stats,
                            "malformed",
                            s.index,
                            format!("refused with {e} yet emitted a message to {to:?}"),
                            req,
                            Some(m),
                        );
                    }
                }
                let after = (self.e.sad.len(), self.e.spd.len());
                if after != before {
                    Self::fail(stats, "inconsistent", s.index, format!("refused with {e} yet the tables went from {before:?} to {after:?} entries"), req, None);
                }
                let mut er = Rec::default();
                if let Err(x) = Engine::error_reply(req, e, &mut er) {
                    Self::fail(
                        stats,
                        "malformed",
                        s.index,
                        format!("no error reply for {e}: {x}"),
                        req,
                        None,
                    );
                }
                for (_, m) in &er.msgs {
                    match validate::classify(req, m, false) {
                        Ok(Class::ErrorReply(n)) => {
                            if count {
                                *stats.reply_errno.entry(n).or_default() += 1;
                            }
                            if n != e.to_wire() {
                                Self::fail(
                                    stats,
                                    "malformed",
                                    s.index,
                                    format!("error reply says {n}, engine {e}"),
                                    req,
                                    Some(m),
                                );
                            }
                            stats.count_class(Class::ErrorReply(n));
                        }
                        Ok(c) => Self::fail(
                            stats,
                            "malformed",
                            s.index,
                            format!("error reply classified as {c:?}"),
                            req,
                            Some(m),
                        ),
                        Err(v) => Self::fail(stats, "malformed", s.index, v.0, req, Some(m)),
                    }
                }
            }
            Ok(()) => {
                if count {
                    stats.accepted += 1;
                }
                self.check_emitted(req, &rec, s.index, stats);
                if self.socks[s.sock].dump.is_some() {
                    self.drain_dump(s.sock, req, s.index, stats);
                }
            }
        }
        let (sas, pols) = (self.e.sad.len(), self.e.spd.len());
        if sas > self.e.limits.max_states || pols > self.e.limits.max_policies {
            Self::fail(
                stats,
                "inconsistent",
                s.index,
                format!("{sas} SAs / {pols} policies beyond the limits"),
                req,
                None,
            );
        }
    }

    /// The promiscuous copy of a request: the request itself, or (unless
    /// strict) a cut copy of it, counted apart.
    fn check_copy(&self, req: &[u8], m: &[u8], index: u64, stats: &mut Stats) {
        // The audience says what it is: no need to guess as on a socket.
        if m == req {
            stats.count_class(Class::PromiscCopy);
            return;
        }
        match validate::is_cut_copy(req, m) {
            true if !self.strict_promisc => stats.count_class(Class::PromiscAltered),
            _ => Self::fail(
                stats,
                "malformed",
                index,
                "promiscuous copy differs from the request".into(),
                req,
                Some(m),
            ),
        }
    }

    /// Validates what a request (or a timer, `req` empty) emitted and
    /// follows it in the shadow.
    fn check_emitted(&mut self, req: &[u8], rec: &Rec, index: u64, stats: &mut Stats) {
        let mut flush_notified = false;
        for (to, m) in &rec.msgs {
            if *to == Audience::PromiscOnly {
                self.check_copy(req, m, index, stats);
                continue;
            }
            let c = match validate::classify(req, m, false) {
                Ok(c) => c,
                Err(v) => {
                    Self::fail(
                        stats,
                        "malformed",
                        index,
                        format!("{v} (to {to:?})"),
                        req,
                        Some(m),
                    );
                    continue;
                }
            };
            stats.count_class(c);
            if let Class::ErrorReply(n) = c {
                Self::fail(
                    stats,
                    "malformed",
                    index,
                    format!("errno {n} message from a request that succeeded"),
                    req,
                    Some(m),
                );
                continue;
            }
            if matches!(c, Class::Reply | Class::Unsolicited) {
                if m.len() == 16 && matches!(m[1], 9 | 19) && *to == Audience::All {
                    flush_notified = true;
                }
                self.follow(m, index, stats, req);
            }
        }
        // FLUSH/SPDFLUSH: every socket hears iff something was removed.
        if let Some(h) = Hdr::read(req).filter(|h| matches!(h.msg_type, 9 | 19)) {
            let had = if h.msg_type == 9 {
                self.shadow
                    .sas
                    .iter()
                    .any(|e| matches!(e, Entry::Sa(t, ..) if h.satype == 0 || *t == h.satype))
            } else {
                !self.shadow.pols.is_empty()
            };
            if had && !flush_notified {
                Self::fail(
                    stats,
                    "inconsistent",
                    index,
                    "FLUSH of a non-empty table notified nobody".into(),
                    req,
                    None,
                );
            }
            if h.msg_type == 9 {
                self.shadow
                    .sas
                    .retain(|e| !matches!(e, Entry::Sa(t, ..) if h.satype == 0 || *t == h.satype));
            } else {
                self.shadow.pols.clear();
            }
        }
    }

    /// The shadow's view of one successful message.
    fn follow(&mut self, m: &[u8], index: u64, stats: &mut Stats, req: &[u8]) {
        let Some(h) = Hdr::read(m) else { return };
        let Some(entry) = validate::entry_of(m) else {
            return;
        };
        let larval = sa_state(m) == Some(LARVAL);
        let sh = &mut self.shadow;
        let bad = match (h.msg_type, &entry) {
            (3, Entry::Sa(..)) if !larval => (!sh.sas.insert(entry.clone()))
                .then(|| format!("ADD reported for {entry:?}, already present")),
            (2, Entry::Sa(..)) if !larval => {
                sh.sas.insert(entry.clone());
                None
            }
            (4, Entry::Sa(..)) => (!sh.sas.remove(&entry) && !larval)
                .then(|| format!("DELETE reported for {entry:?}, not known")),
            (8, Entry::Sa(..)) if has_ext(m, 3) => {
                sh.sas.remove(&entry);
                None
            }
            (14, Entry::Policy(id)) => (!sh.pols.insert(*id))
                .then(|| format!("SPDADD reported for policy {id}, already present")),
            (13, Entry::Policy(id)) => {
                sh.pols.insert(*id);
                None
            }
            (15 | 22, Entry::Policy(id)) => {
                (!sh.pols.remove(id)).then(|| format!("policy {id} deleted, not known"))
            }
            (21, Entry::Policy(id)) if has_ext(m, 3) => {
                (!sh.pols.remove(id)).then(|| format!("hard SPDEXPIRE of policy {id}, not known"))
            }
            _ => None,
        };
        if let Some(what) = bad {
            Self::fail(stats, "inconsistent", index, what, req, Some(m));
        }
    }

    /// Runs a dump started on `sock` to its end, validating each message.
    fn drain_dump(
        &mut self,
        sock: usize,
        req: &[u8],
        index: u64,
        stats: &mut Stats,
    ) -> Option<Vec<Vec<u8>>> {
        let mut dump = self.socks[sock].dump.take()?;
        let mut out = Rec::default();
        let limit = self.e.sad.len() + self.e.spd.len() + 4;
        let mut calls = 0;
        let e = &self.e;
        let r = catch_unwind(AssertUnwindSafe(|| loop {
            calls += 1;
            match e.dump_next(&mut dump, &mut out) {
                Ok(true) if calls <= limit => continue,
                Ok(true) => break Err("dump does not end".to_string()),
                Ok(false) => break Ok(()),
                Err(x) => break Err(format!("dump_next failed: {x}")),
            }
        }));
        match r {
            Err(_) => {
                self.dead = true;
                Self::fail(
                    stats,
                    "panic",
                    index,
                    "Engine::dump_next panicked".into(),
                    req,
                    None,
                );
                return None;
            }
            Ok(Err(what)) => {
                Self::fail(stats, "dump", index, what, req, None);
                return None;
            }
            Ok(Ok(())) => {}
        }
        let mut track = DumpTrack::default();
        let mut msgs = Vec::new();
        for (to, m) in out.msgs {
            if to != Audience::Sender {
                Self::fail(
                    stats,
                    "malformed",
                    index,
                    format!("dump message to {to:?}"),
                    req,
                    Some(&m),
                );
            }
            match validate::classify(req, &m, false) {
                Ok(Class::Dump { seq }) => {
                    stats.count_class(Class::Dump { seq });
                    if let Err(v) = track.push(seq) {
                        Self::fail(stats, "dump", index, v.0, req, Some(&m));
                    }
                    msgs.push(m);
                }
                Ok(Class::ErrorReply(2)) if msgs.is_empty() => {}
                Ok(c) => Self::fail(
                    stats,
                    "dump",
                    index,
                    format!("dump message classified {c:?}"),
                    req,
                    Some(&m),
                ),
                Err(v) => Self::fail(stats, "malformed", index, v.0, req, Some(&m)),
            }
        }
        if !msgs.is_empty() && !track.done {
            Self::fail(
                stats,
                "dump",
                index,
                "dump ended without its seq-0 message".into(),
                req,
                None,
            );
        }
        Some(msgs)
    }

    /// A full DUMP of `t` on a scratch socket: every message, validated.
    fn full_dump(&mut self, t: u8, index: u64, stats: &mut Stats) -> Option<Vec<Vec<u8>>> {
        let mut req = vec![2, t, 0, 0, 0, 0, 0, 0];
        req[4..6].copy_from_slice(&2u16.to_ne_bytes());
        req.extend(0u32.to_ne_bytes());
        req.extend(crate::gen::PID.to_ne_bytes());
        self.socks.push(SockCtl::default());
        let sock = self.socks.len() - 1;
        let mut rec = Rec::default();
        let now = self.now;
        let e = &mut self.e;
        let sc = &mut self.socks[sock];
        let r = catch_unwind(AssertUnwindSafe(|| {
            e.handle(&req, sc, now, &Probe, &mut rec)
        }));
        let res = match r {
            Ok(x) => x,
            Err(_) => {
                self.dead = true;
                self.socks.pop();
                Self::fail(
                    stats,
                    "panic",
                    index,
                    "Engine::handle(DUMP) panicked".into(),
                    &req,
                    None,
                );
                return None;
            }
        };
        let out = match res {
            Err(Rejected::Message(Errno::ENOENT)) => Some(Vec::new()),
            Ok(()) => self.drain_dump(sock, &req, index, stats),
            Err(x) => {
                Self::fail(
                    stats,
                    "dump",
                    index,
                    format!("full dump refused: {x:?}"),
                    &req,
                    None,
                );
                None
            }
        };
        self.socks.pop();
        out
    }

    /// Every K messages: full dumps must parse, count what the engine
    /// holds, seq down from count − 1, and match the shadow.
    pub fn check_tables(&mut self, index: u64, stats: &mut Stats) {
        if self.dead {
            return;
        }
        let Some(sas) = self.full_dump(SA_DUMP, index, stats) else {
            return;
        };
        let Some(pols) = self.full_dump(SPD_DUMP, index, stats) else {
            return;
        };
        stats.dumps += 1;
        stats.spddumps += 1;
        stats.dumped_sas += sas.len() as u64;
        stats.dumped_policies += pols.len() as u64;
        stats.last_sas = sas.len() as u64;
        stats.last_policies = pols.len() as u64;
        let mut problems = Vec::new();
        for (what, msgs, n) in [
            ("SA", &sas, self.e.sad.len()),
            ("policy", &pols, self.e.spd.len()),
        ] {
            if msgs.len() != n {
                problems.push(format!(
                    "{what} dump has {} entries, the table {n}",
                    msgs.len()
                ));
            }
            if let Some(first) = msgs.first() {
                let seq = u32_ne(first, 8) as usize;
                if seq + 1 != msgs.len() {
                    problems.push(format!(
                        "{what} dump starts at seq {seq} for {} entries",
                        msgs.len()
                    ));
                }
            }
        }
        let mut mature = BTreeSet::new();
        let mut seen: BTreeMap<Entry, usize> = BTreeMap::new();
        for m in &sas {
            let Some(e) = validate::entry_of(m) else {
                continue;
            };
            *seen.entry(e.clone()).or_default() += 1;
            if sa_state(m) != Some(LARVAL) {
                mature.insert(e);
            }
        }
        for (e, n) in &seen {
            if *n > 1 && !matches!(e, Entry::Sa(_, _, 0)) {
                problems.push(format!("{e:?} dumped {n} times"));
            }
        }
        let ids: Vec<u32> = pols
            .iter()
            .filter_map(|m| match validate::entry_of(m) {
                Some(Entry::Policy(id)) => Some(id),
                _ => None,
            })
            .collect();
        let idset: BTreeSet<u32> = ids.iter().copied().collect();
        if idset.len() != ids.len() {
            problems.push("a policy id dumped twice".into());
        }
        if mature != self.shadow.sas {
            let extra: Vec<_> = mature.difference(&self.shadow.sas).take(3).collect();
            let missing: Vec<_> = self.shadow.sas.difference(&mature).take(3).collect();
            problems.push(format!("SAD differs from what the replies said: dumped but never reported {extra:?}, reported but not dumped {missing:?}"));
        }
        if idset != self.shadow.pols {
            let extra: Vec<_> = idset.difference(&self.shadow.pols).take(3).collect();
            let missing: Vec<_> = self.shadow.pols.difference(&idset).take(3).collect();
            problems.push(format!("SPD differs from what the replies said: dumped {extra:?} never reported, reported {missing:?} not dumped"));
        }
        for p in problems {
            Self::fail(stats, "inconsistent", index, p, &[], None);
        }
        self.shadow.sas = mature;
        self.shadow.pols = idset;
    }
}
