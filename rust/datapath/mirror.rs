//! Mirrors the SAD and SPD into the packet path's tables (process context,
//! holding the writer half, so under the namespace's control lock), and the
//! datapath's share of the namespace tick: counters back into the SAD,
//! queued ACQUIREs out, retired memory freed.

use super::sa::DpSa;
use super::{Dp, DpWriter, InKey, OutKey};
use crate::logic::algs::AlgDesc;
use crate::logic::engine::{AlgProbe, Engine, Outbox};
use crate::logic::pfkey::Errno;
use crate::logic::sad::{OutputSa, Sa, SaIdent};
use crate::logic::stats::Stat;
use crate::logic::types::{Mode, SaState};
use crate::netns::Control;
use crate::sys::dst::is_local;
use crate::sys::net::Net;
use crate::sys::rcu::RcuGuard;
use core::cell::Cell;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

fn in_key(i: &SaIdent) -> InKey {
    InKey {
        dst: i.dst,
        spi: i.spi,
        proto: i.proto,
    }
}

/// The output key a template resolving to these values looks up.
pub(super) fn out_key(i: &SaIdent) -> OutKey {
    OutKey {
        src: i.src,
        dst: i.dst,
        proto: i.proto,
        tunnel: i.mode == Mode::Tunnel,
        reqid: i.reqid,
    }
}

/// Brings the tables up to date with `engine` after it changed.
pub(crate) fn mirror(net: Net, dp: &Dp, w: &mut DpWriter, engine: &mut Engine) {
    let ch = engine.sad.take_changes();
    let mut changed = !ch.is_empty();
    if ch.all {
        dp.sa_in.clear(&mut w.sa_in);
        dp.sa_out.clear(&mut w.sa_out);
        dp.ipcomp_tunnels.clear(&mut w.ipcomp_tunnels);
        w.registry.clear();
        w.dormant.clear();
        let ids = collect_ids(engine.sad.iter().map(|sa| sa.id()));
        for id in ids.iter().flat_map(|v| v.iter()) {
            mirror_sa(net, dp, w, engine, *id);
            crate::sys::util::cond_resched();
        }
    } else {
        for &id in ch.ids.iter() {
            mirror_sa(net, dp, w, engine, id);
        }
    }
    if dp.rescan.swap(false, Ordering::AcqRel) && !w.dormant.is_empty() {
        let ids = collect_ids(w.dormant.iter().map(|(id, _)| *id));
        for id in ids.iter().flat_map(|v| v.iter()) {
            w.dormant.remove(id);
            mirror_sa(net, dp, w, engine, *id);
            crate::sys::util::cond_resched();
        }
        changed = true;
    }
    let pch = engine.spd.take_changes();
    if !pch.is_empty() {
        // A flush, or a failed update, resynchronises everything.
        let ok = !pch.all
            && pch.ids.iter().all(|&i| {
                u32::try_from(i)
                    .map_err(|_| EINVAL)
                    .and_then(|i| dp.spd.apply(&mut w.spd, &engine.spd, i))
                    .is_ok()
            });
        if !ok && dp.spd.resync(&mut w.spd, &engine.spd).is_err() {
            // Some policies are missing from the packet path; retried on
            // the next change.
            engine.spd.force_resync();
            if crate::sys::util::ratelimit() {
                pr_warn!("out of memory mirroring the SPD\n");
            }
        }
        changed = true;
    }
    if changed {
        dp.genid.fetch_add(1, Ordering::AcqRel);
    }
    // Not taken (the message failed after building): freed here.
    w.prepared = None;
}

/// What `SaBuilder` built for `sa` ahead of its ADD, now named by its id.
fn built_for(w: &mut DpWriter, sa: &Sa) -> Option<Arc<DpSa>> {
    let d = w.prepared.take_if(|d| d.ident == *sa.ident())?;
    d.set_id(sa.id());
    Some(d)
}

/// The algorithm probe an ADD/UPDATE runs with: builds the SA's transform
/// before the engine commits it, so that a failure is the message's errno
/// (Linux's `xfrm_init_state` in `pfkey_add`) and not an SA that silently
/// carries nothing; the mirror that follows takes what it built.
pub(crate) struct SaBuilder<'a> {
    net: Net,
    probe: &'a dyn AlgProbe,
    built: Cell<Option<Arc<DpSa>>>,
}

impl<'a> SaBuilder<'a> {
    pub(crate) fn new(net: Net, probe: &'a dyn AlgProbe) -> Self {
        SaBuilder {
            net,
            probe,
            built: Cell::new(None),
        }
    }

    /// Hands what was built to the mirror (call before `mirror`).
    pub(crate) fn finish(self, w: &mut DpWriter) {
        w.prepared = self.built.into_inner();
    }
}

impl AlgProbe for SaBuilder<'_> {
    fn available(&self, alg: &AlgDesc) -> bool {
        self.probe.available(alg)
    }

    fn prepare(&self, sa: &Sa) -> Result<(), Errno> {
        if !is_local(self.net, &sa.src()) && !is_local(self.net, &sa.dst()) {
            // Dormant until an address appears (`mirror_sa`): built then.
            return Ok(());
        }
        let d = DpSa::from_sa(self.net, sa).map_err(|e| Errno(e.errno()))?;
        self.built.set(Some(d));
        Ok(())
    }
}

/// The ids, copied out so the tables they come from can change while the
/// caller walks them; `None` if memory ran out (the caller retries later).
fn collect_ids(ids: impl Iterator<Item = u64>) -> Option<KVec<u64>> {
    ids.into_iter().try_fold(KVec::new(), |mut v, id| {
        v.push(id, GFP_KERNEL).ok()?;
        Some(v)
    })
}

fn mirror_sa(net: Net, dp: &Dp, w: &mut DpWriter, engine: &Engine, id: u64) {
    let cur = engine
        .sad
        .get(id)
        .filter(|sa| matches!(sa.state(), SaState::Mature | SaState::Dying));
    let old = w.registry.get(&id).cloned();
    match (old, cur) {
        (Some(o), Some(sa)) => {
            o.set_hard(&sa.lifetime_hard);
            refresh_out(dp, w, engine, &o.ident);
        }
        (None, None) => {
            w.dormant.remove(&id);
        }
        (None, Some(sa)) if !is_local(net, &sa.src()) && !is_local(net, &sa.dst()) => {
            // No endpoint here: no traffic can use it until an address
            // appears (rescan); its transform is not built before.
            let _ = w.dormant.insert(id, ());
        }
        (Some(o), None) => {
            w.registry.remove(&id);
            let k = in_key(&o.ident);
            let same = dp
                .sa_in
                .get(&RcuGuard::new(), &k)
                .is_some_and(|d| d.id() == id);
            if same {
                let _ = dp.sa_in.remove(&mut w.sa_in, &k);
            }
            let tk = (o.ident.src, o.ident.dst);
            if dp
                .ipcomp_tunnels
                .get(&RcuGuard::new(), &tk)
                .is_some_and(|d| d.id() == id)
            {
                let _ = dp.ipcomp_tunnels.remove(&mut w.ipcomp_tunnels, &tk);
            }
            refresh_out(dp, w, engine, &o.ident);
        }
        (None, Some(sa)) => match built_for(w, sa).map_or_else(|| DpSa::from_sa(net, sa), Ok) {
            Ok(d) => {
                // An inbound IPcomp tunnel also takes uncompressed
                // IP-in-IP from its peer (`verify`).
                let tunnel_in = d.ipcomp().is_some()
                    && d.ident.mode != Mode::Transport
                    && is_local(net, &d.ident.dst);
                let ok = w.registry.insert(id, d.clone()).is_ok()
                    && dp.sa_in.insert(&mut w.sa_in, in_key(&d.ident), d.clone()).is_ok()
                    && (!tunnel_in
                        || dp
                            .ipcomp_tunnels
                            .insert(&mut w.ipcomp_tunnels, (d.ident.src, d.ident.dst), d.clone())
                            .is_ok());
                if !ok && crate::sys::util::ratelimit() {
                    pr_warn!("out of memory mirroring an SA\n");
                }
                refresh_out(dp, w, engine, &d.ident);
            }
            Err(e) => {
                // The SA stays in the SAD (GET/DUMP show it) but carries no
                // traffic: packets for it count as XfrmInNoStates /
                // XfrmOutNoStates.
                if crate::sys::util::ratelimit() {
                    pr_warn!(
                        "SA spi 0x{:08x} carries no traffic (error -{})\n",
                        sa.spi(),
                        e.errno()
                    );
                }
            }
        },
    }
}

/// Re-picks the SAs outbound traffic for this identity's tuple uses: one
/// for transport templates, one for tunnel templates. An SA of mode "any"
/// serves both (KAME) unless one of the exact mode exists.
fn refresh_out(dp: &Dp, w: &mut DpWriter, engine: &Engine, i: &SaIdent) {
    let pick = |mode: Mode| match engine
        .sad
        .find_output(&i.src, &i.dst, i.proto, mode, i.reqid)
    {
        OutputSa::Valid(sa) => w.registry.get(&sa.id()).cloned(),
        _ => None,
    };
    let any = pick(Mode::Any);
    for tunnel in [false, true] {
        let key = OutKey {
            tunnel,
            ..out_key(i)
        };
        let exact = pick(if tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        });
        let _ = match exact.or_else(|| any.clone()) {
            Some(d) => dp.sa_out.insert(&mut w.sa_out, key, d).map(|_| ()),
            None => dp.sa_out.remove(&mut w.sa_out, &key).map(|_| ()),
        };
    }
}

/// The datapath's part of the once-a-second tick, before the engine's own:
/// counters into the SAD (lifetimes see them) and the queued ACQUIREs.
pub(crate) fn tick(
    dp: &Dp,
    w: &mut DpWriter,
    engine: &mut Engine,
    now: u64,
    probe: &dyn AlgProbe,
    out: &mut dyn Outbox,
) {
    counters(dp, w, engine, now);
    for req in dp.take_acquires().iter().flatten() {
        match engine.acquire(req.policy, req.template, &req.flow, now, probe, out) {
            Ok(()) => dp.count(Stat::RxfrmOutAcquire),
            Err(_) => dp.count(Stat::XfrmAcquireError),
        }
    }
}

/// Copies the packet counters into the SAD (GET and DUMP call it too, so
/// that what they report is current).
pub(crate) fn counters(dp: &Dp, w: &DpWriter, engine: &mut Engine, now: u64) {
    if !dp.active.swap(false, Ordering::AcqRel) {
        return;
    }
    for (id, d) in w.registry.iter() {
        let Some(sa) = engine.sad.get_mut(*id) else {
            continue;
        };
        let c = &d.counters;
        let packets = c.packets.load(Ordering::Relaxed);
        sa.current.allocations = packets;
        sa.current.bytes = c.bytes.load(Ordering::Relaxed);
        if packets != 0 && sa.current.usetime == 0 {
            sa.current.usetime = now;
        }
        sa.stats.replay_fails = c.replay_fails.load(Ordering::Relaxed);
        sa.stats.integrity_fails = c.integrity_fails.load(Ordering::Relaxed);
    }
}

/// Frees table memory readers can no longer reach: taken out under the
/// control lock, freed after a grace period without it (sleeps when there
/// is some).
pub(crate) fn reclaim(ctl: &Mutex<Control>) {
    let graves = ctl.lock().dp.take_retired();
    if !graves.is_empty() {
        let gp = crate::sys::rcu::synchronize();
        graves.free_after(&gp);
    }
}
