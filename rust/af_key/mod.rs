//! PF_KEY v2 (RFC 2367 + KAME extensions) on top of `sys::sock`: runs each
//! message through the namespace's key engine (`logic::engine`, pure logic)
//! and delivers what it emits, as af_key's `pfkey_broadcast` does.
//!
//! A new PF_KEY message type plugs in at the engine (`logic/engine/mod.rs`
//! dispatches on the type; the codec is `logic/pfkey`); this file only
//! carries messages between sockets and the engine.

#![deny(unsafe_code)]

mod deliver;

use crate::logic::algs::{AlgDesc, ALGS};
use crate::logic::engine::{AlgProbe, Audience, Engine, Limits, Rejected, SockCtl};
use crate::logic::pfkey::consts::{SADB_DUMP, SADB_GET};
use crate::netns::{self, Control};
use crate::sys::sock::{KeyFamily, KeySock};
use crate::sys::util::{errno, real_seconds};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
pub(crate) use deliver::Outgoing;
use deliver::SenderBox;
use kernel::prelude::*;
use kernel::sync::Mutex;

/// The PF_KEY socket family.
pub(crate) struct PfKey;

/// A PF_KEY socket.
pub(crate) type Sock<'a> = KeySock<'a, PfKey>;

/// State of one PF_KEY socket.
#[pin_data]
pub(crate) struct SockState {
    /// Registration, promiscuity and a running dump; locked after the
    /// namespace's engine.
    #[pin]
    ctl: Mutex<SockCtl>,
    /// Mirrors of `ctl.registered`/`ctl.promisc`, read by delivery, which
    /// runs under the socket list's spinlock and so can not take `ctl`.
    registered: AtomicU32,
    promisc: AtomicBool,
}

impl SockState {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(SockState {
            ctl <- kernel::new_mutex!(SockCtl::default(), "rxfrm_sock_ctl"),
            registered: AtomicU32::new(0),
            promisc: AtomicBool::new(false),
        }? Error)
    }

    fn sync_flags(&self, ctl: &SockCtl) {
        self.registered.store(ctl.registered, Ordering::Relaxed);
        self.promisc.store(ctl.promisc, Ordering::Relaxed);
    }

    pub(crate) fn is_registered(&self, satype: u8) -> bool {
        satype < 32 && self.registered.load(Ordering::Relaxed) & (1 << satype) != 0
    }

    pub(crate) fn is_promisc(&self) -> bool {
        self.promisc.load(Ordering::Relaxed)
    }
}

/// Algorithms the running kernel can instantiate.
pub(crate) struct KernelProbe;

/// Probe results by position in `ALGS`: 0 unknown, 1 available, 2 not.
/// A miss costs a `request_module()` round trip to user space, so each
/// algorithm is probed once per module load.
static PROBED: [AtomicU8; PROBE_SLOTS] = [const { AtomicU8::new(0) }; PROBE_SLOTS];
const PROBE_SLOTS: usize = 64;

impl AlgProbe for KernelProbe {
    fn available(&self, alg: &AlgDesc) -> bool {
        let slot = ALGS.iter().position(|a| core::ptr::eq(a, alg)).and_then(|i| PROBED.get(i));
        if let Some(known) = slot.map(|s| s.load(Ordering::Relaxed)).filter(|&k| k != 0) {
            return known == 1;
        }
        let ok = alg.crypto.is_some_and(crate::sys::crypto::has_alg);
        if let Some(s) = slot {
            s.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
        }
        ok
    }
}

fn limits() -> Limits {
    Limits {
        max_states: crate::max_states.load(Ordering::Relaxed) as usize,
        max_policies: crate::max_policies.load(Ordering::Relaxed) as usize,
    }
}

impl KeyFamily for PfKey {
    type Sock = SockState;

    fn new_sock() -> impl PinInit<SockState, Error> {
        SockState::new()
    }

    fn created(sock: &Sock<'_>) -> Result {
        let net = sock.net();
        let ns = netns::state(&net).ok_or(crate::sys::util::errno(crate::sys::bindings::EAFNOSUPPORT))?;
        ns.socks.add(sock)
    }

    fn sendmsg(sock: &Sock<'_>, msg: &[u8]) -> Result {
        on_sendmsg(sock, msg)
    }

    fn received(sock: &Sock<'_>) {
        on_recv(sock);
    }

    fn release(sock: &Sock<'_>) {
        let net = sock.net();
        if let Some(ns) = netns::state(&net) {
            ns.socks.remove(sock);
        }
        // Closing: drop any dump in progress.
        sock.state().ctl.lock().dump = None;
    }
}

/// A message arrived from user space. `Err` is returned from sendmsg; a
/// message the engine refused after its header was read is answered with
/// an error reply instead, as af_key does.
fn on_sendmsg(sock: &Sock<'_>, msg: &[u8]) -> Result {
    let net = sock.net();
    let ns = netns::state(&net).ok_or(crate::sys::util::errno(crate::sys::bindings::EAFNOSUPPORT))?;
    let mut pending = Outgoing::new(&ns.socks);
    let res = {
        let mut ctl = ns.ctl.lock();
        let Control { engine, dp } = &mut *ctl;
        let mut sctl = sock.state().ctl.lock();
        engine.limits = limits();
        // GET and DUMP report the packet counters as of now.
        if matches!(msg.get(1), Some(&SADB_GET) | Some(&SADB_DUMP)) {
            crate::datapath::counters(&ns.dp, dp, engine, real_seconds());
        }
        let builder = crate::datapath::SaBuilder::new(ns.net(), &KernelProbe);
        let res = engine.handle(msg, &mut sctl, real_seconds(), &builder, &mut pending);
        builder.finish(dp);
        crate::datapath::mirror(ns.net(), &ns.dp, dp, engine);
        sock.state().sync_flags(&sctl);
        if res.is_ok() && sctl.dump.is_some() {
            // Deliver what precedes the dump first, then start it.
            let _ = pending.deliver(&ns.socks, Some(sock));
            continue_dump(engine, &mut sctl, sock, &ns.socks);
        }
        res
    };
    // Replies lost to a full queue are the reader's loss, as in af_key.
    let _ = pending.deliver(&ns.socks, Some(sock));
    match res {
        Ok(()) => Ok(()),
        Err(Rejected::Header(e)) => Err(errno(e.0 as u32)),
        Err(Rejected::Message(e)) => {
            let mut reply = Outgoing::new(&ns.socks);
            Engine::error_reply(msg, e, &mut reply).map_err(|e| errno(e.0 as u32))?;
            reply
                .deliver(&ns.socks, Some(sock))
                .map_err(|_| errno(e.0 as u32))
        }
    }
}

/// Emits dump messages straight to the reader while its queue has room
/// (af_key's `pfkey_do_dump`); the rest follows as it reads.
fn continue_dump(
    engine: &Engine,
    ctl: &mut SockCtl,
    sock: &Sock<'_>,
    socks: &crate::sys::sock::SockList<PfKey>,
) {
    let Some(dump) = ctl.dump.as_mut() else {
        return;
    };
    let mut out = SenderBox::new(sock, socks);
    loop {
        let (used, size) = sock.rmem();
        if used >= size {
            return;
        }
        match engine.dump_next(dump, &mut out) {
            Ok(true) => continue,
            // The queue filled up meanwhile (another socket's broadcast):
            // the same message goes when the reader drains it, as af_key's
            // dump resumes (a transient ENOBUFS never ends a dump).
            Err(crate::logic::pfkey::Errno::ENOBUFS) => return,
            // Done, or the reply could not be built: end the dump.
            Ok(false) | Err(_) => break,
        }
    }
    ctl.dump = None;
}

/// The reader consumed a message: a pending dump continues once its queue
/// is down to a third (af_key's threshold).
fn on_recv(sock: &Sock<'_>) {
    let (used, size) = sock.rmem();
    if 3 * used > size {
        return;
    }
    let net = sock.net();
    let Some(ns) = netns::state(&net) else {
        return;
    };
    let ctl = ns.ctl.lock();
    let mut sctl = sock.state().ctl.lock();
    if sctl.dump.is_some() {
        continue_dump(&ctl.engine, &mut sctl, sock, &ns.socks);
    }
}

/// Whether a message for `to` goes to `sock` in the broadcast loop (the
/// sender itself is handled after the loop, as af_key's `one_sk`).
pub(crate) fn wants(sock: &SockState, to: Audience) -> bool {
    match to {
        Audience::All => true,
        Audience::Registered(satype) => sock.is_registered(satype),
        Audience::Sender | Audience::PromiscOnly => false,
    }
}
