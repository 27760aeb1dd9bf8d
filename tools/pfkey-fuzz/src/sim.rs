//! `--target sim`: the kernel target's harness (sockets, drains, slow
//! dumps, full dumps) against PF_KEY sockets simulated in-process — the
//! key engine plus delivery as `rust/af_key` does it (af_key's
//! `pfkey_broadcast`: promiscuous sockets get a copy of everything, a
//! full receive queue drops the message for that socket, dumps fill the
//! reader's queue and continue as it drains to a third). It tests the
//! harness without a VM, and the glue's delivery rules with the engine.

use crate::kernel::Io;
use rxfrm_logic::algs::AlgDesc;
use rxfrm_logic::engine::{AlgProbe, Audience, Build, Engine, Limits, Outbox, Rejected, SockCtl};
use rxfrm_logic::pfkey::{build_vec, Errno};
use std::collections::VecDeque;

/// sk_sndbuf / sk_rcvbuf defaults (net.core.wmem_default/rmem_default).
const SNDBUF: usize = 212_992;
const RCVBUF: usize = 212_992;
/// What an skb costs beyond its data (truesize).
const SKB_OVERHEAD: usize = 576;

struct Probe;

impl AlgProbe for Probe {
    fn available(&self, alg: &AlgDesc) -> bool {
        !matches!(alg.crypto, Some("lzs") | Some("lzjh"))
    }
}

#[derive(Default)]
struct Sock {
    ctl: SockCtl,
    queue: VecDeque<Vec<u8>>,
    used: usize,
}

impl Sock {
    /// `sock_queue_rcv_skb`: refused once the queue is at its limit.
    fn deliver(&mut self, m: &[u8]) -> bool {
        if self.used >= RCVBUF {
            return false;
        }
        self.used += m.len() + SKB_OVERHEAD;
        self.queue.push_back(m.to_vec());
        true
    }
}

#[derive(Default)]
struct Pending(Vec<(Audience, Vec<u8>)>);

impl Outbox for Pending {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        self.0.push((to, build_vec(|w| build(w))?.to_vec()));
        Ok(())
    }
}

/// Straight into the reader's queue (`SenderBox`): fails when full.
struct Direct<'a>(&'a mut Sock);

impl Outbox for Direct<'_> {
    fn send(&mut self, _to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        let m = build_vec(|w| build(w))?;
        if self.0.deliver(&m) {
            Ok(())
        } else {
            Err(Errno::ENOBUFS)
        }
    }
}

/// Simulated PF_KEY sockets of one namespace.
pub struct SimIo {
    engine: Engine,
    socks: Vec<Sock>,
    now: u64,
    sends: u64,
    /// Deliver as Linux af_key does where rxfrm differs: promiscuous
    /// copies are the request's own bytes, and dump messages are copied to
    /// promiscuous sockets too (`pfkey_broadcast(BROADCAST_ONE)`).
    pub af_key_exact: bool,
}

impl SimIo {
    pub fn new(nsocks: usize) -> SimIo {
        SimIo {
            engine: Engine::new(Limits {
                max_states: 1000,
                max_policies: 1000,
            }),
            socks: (0..nsocks).map(|_| Sock::default()).collect(),
            now: 1_000_000,
            sends: 0,
            af_key_exact: false,
        }
    }

    fn wants(s: &Sock, to: Audience) -> bool {
        match to {
            Audience::All => true,
            Audience::Registered(t) => t < 32 && s.ctl.registered & (1 << t) != 0,
            Audience::Sender | Audience::PromiscOnly => false,
        }
    }

    /// `Pending::deliver`.
    fn deliver(&mut self, msgs: Vec<(Audience, Vec<u8>)>, sender: Option<usize>) {
        for (to, m) in msgs {
            let to_sender = matches!(to, Audience::Sender | Audience::Registered(_));
            for (i, s) in self.socks.iter_mut().enumerate() {
                if s.ctl.promisc {
                    s.deliver(&m);
                }
                if to_sender && sender == Some(i) {
                    continue;
                }
                if Self::wants(s, to) {
                    s.deliver(&m);
                }
            }
            if let (true, Some(i)) = (to_sender, sender) {
                self.socks[i].deliver(&m);
            }
        }
    }

    /// `continue_dump`: fill the reader's queue while it has room.
    fn continue_dump(&mut self, i: usize) {
        let Some(mut dump) = self.socks[i].ctl.dump.take() else {
            return;
        };
        loop {
            if self.socks[i].used >= RCVBUF {
                self.socks[i].ctl.dump = Some(dump);
                return;
            }
            let r = if self.af_key_exact {
                let mut p = Pending::default();
                let r = self.engine.dump_next(&mut dump, &mut p);
                for (_, m) in p.0 {
                    for s in self.socks.iter_mut().filter(|s| s.ctl.promisc) {
                        s.deliver(&m);
                    }
                    self.socks[i].deliver(&m);
                }
                r
            } else {
                self.engine
                    .dump_next(&mut dump, &mut Direct(&mut self.socks[i]))
            };
            match r {
                Ok(true) => continue,
                Ok(false) | Err(_) => break,
            }
        }
    }

    fn tick(&mut self) {
        self.now += 3;
        let mut p = Pending::default();
        self.engine.tick(self.now, &mut p);
        self.deliver(p.0, None);
    }
}

impl Io for SimIo {
    fn send(&mut self, i: usize, msg: &[u8]) -> Result<(), i32> {
        self.sends += 1;
        if self.sends.is_multiple_of(64) {
            self.tick();
        }
        if msg.len() > SNDBUF - 32 {
            return Err(Errno::EMSGSIZE.0);
        }
        let mut p = Pending::default();
        let promisc = self.socks.iter().any(|s| s.ctl.promisc);
        let res = {
            let mut sink = PromiscFilter {
                inner: &mut p,
                promisc,
            };
            let sock = &mut self.socks[i];
            self.engine
                .handle(msg, &mut sock.ctl, self.now, &Probe, &mut sink)
        };
        if self.af_key_exact {
            for (to, m) in p.0.iter_mut() {
                if *to == Audience::PromiscOnly {
                    *m = msg.to_vec();
                }
            }
        }
        if res.is_ok() && self.socks[i].ctl.dump.is_some() {
            let msgs = std::mem::take(&mut p.0);
            self.deliver(msgs, Some(i));
            self.continue_dump(i);
        }
        self.deliver(p.0, Some(i));
        match res {
            Ok(()) => Ok(()),
            Err(Rejected::Header(e)) => Err(e.0),
            Err(Rejected::Message(e)) => {
                let mut r = Pending::default();
                Engine::error_reply(msg, e, &mut r).map_err(|x| x.0)?;
                self.deliver(r.0, Some(i));
                Ok(())
            }
        }
    }

    fn recv(&mut self, i: usize, _wait: bool) -> Option<Vec<u8>> {
        let s = &mut self.socks[i];
        let m = s.queue.pop_front()?;
        s.used -= m.len() + SKB_OVERHEAD;
        if 3 * s.used <= RCVBUF && s.ctl.dump.is_some() {
            self.continue_dump(i);
        }
        Some(m)
    }
}

/// The glue's `wanted`: no promiscuous copy is built when nobody listens.
struct PromiscFilter<'a> {
    inner: &'a mut Pending,
    promisc: bool,
}

impl Outbox for PromiscFilter<'_> {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        self.inner.send(to, build)
    }

    fn wanted(&self, to: Audience) -> bool {
        to != Audience::PromiscOnly || self.promisc
    }
}
