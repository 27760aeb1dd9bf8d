//! Host tests of the engine: a recording outbox, a fake crypto probe,
//! message builders over the codec's `MsgWriter`, and full-dump snapshots
//! to check that refused messages change nothing.

mod dump;
mod faq;
mod sa;
mod spd;
mod timers;
mod transforms;

use super::*;
use crate::logic::addr::IpAddr;
use crate::logic::pfkey::{
    build_vec, parse_reply, AddressRepr, IpsecRequestRepr, KeyRepr, LifetimeRepr, PolicyRepr,
    Sa2Repr, SaRepr,
};
use std::vec::Vec as StdVec;

/// The pid every test request carries.
const PID: u32 = 4242;

/// Records every message with its audience.
#[derive(Default)]
struct Rec {
    msgs: StdVec<(Audience, StdVec<u8>)>,
}

impl Outbox for Rec {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        let v = build_vec(|w| build(w))?;
        self.msgs.push((to, v.to_vec()));
        Ok(())
    }
}

impl Rec {
    /// Messages other than the promiscuous copy of the request.
    fn replies(&self) -> StdVec<(Audience, StdVec<u8>)> {
        self.msgs
            .iter()
            .filter(|(a, _)| *a != Audience::PromiscOnly)
            .cloned()
            .collect()
    }
}

/// Crypto probe refusing the algorithms whose crypto name is listed.
struct Probe(&'static [&'static str]);

impl AlgProbe for Probe {
    fn available(&self, alg: &AlgDesc) -> bool {
        !alg.crypto.is_some_and(|c| self.0.contains(&c))
    }
}

const ALL_ALGS: Probe = Probe(&[]);

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4([a, b, c, d])
}

fn hdr(msg_type: u8, satype: u8, seq: u32) -> MsgHeader {
    MsgHeader {
        msg_type,
        satype,
        seq,
        pid: PID,
        ..MsgHeader::default()
    }
}

/// A message: `h`, then what `f` appends.
fn msg(h: MsgHeader, f: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>) -> StdVec<u8> {
    build_vec(|w| {
        w.header(&h)?;
        f(w)
    })
    .unwrap()
    .to_vec()
}

/// An address extension as setkey sends it.
fn ad(addr: IpAddr, prefixlen: u8, proto: u8, port: u16) -> AddressRepr {
    AddressRepr {
        proto,
        prefixlen,
        addr,
        port,
    }
}

/// A host address, any protocol (setkey's form for SAs).
fn host(addr: IpAddr) -> AddressRepr {
    ad(addr, addr.max_prefix(), IPSEC_ULPROTO_ANY, 0)
}

/// Writes SA, SA2 and the two host addresses.
fn sa_exts(w: &mut MsgWriter<'_>, sa: &SaRepr, src: IpAddr, dst: IpAddr) -> Result<(), Errno> {
    w.sa(sa)?;
    w.sa2(&Sa2Repr::default())?;
    w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
    w.address(SADB_EXT_ADDRESS_DST, &host(dst))
}

const KEY_3DES: &[u8] = b"hogehogehogehogehogehoge";
const KEY_SHA1: &[u8] = b"0123456789abcdefghij";

/// ADD/UPDATE of an ESP 3des-cbc + hmac-sha1 SA.
fn esp_msg(t: u8, seq: u32, spi: u32, src: IpAddr, dst: IpAddr) -> StdVec<u8> {
    esp_msg_with(t, seq, spi, src, dst, |_| Ok(()))
}

fn esp_msg_with(
    t: u8,
    seq: u32,
    spi: u32,
    src: IpAddr,
    dst: IpAddr,
    extra: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>,
) -> StdVec<u8> {
    let sa = SaRepr {
        spi,
        replay: 32,
        state: SADB_SASTATE_MATURE,
        auth: SADB_AALG_SHA1HMAC,
        encrypt: SADB_EALG_3DESCBC,
        flags: 0,
    };
    msg(hdr(t, SADB_SATYPE_ESP, seq), |w| {
        sa_exts(w, &sa, src, dst)?;
        w.key(SADB_EXT_KEY_AUTH, &key(KEY_SHA1))?;
        w.key(SADB_EXT_KEY_ENCRYPT, &key(KEY_3DES))?;
        extra(w)
    })
}

fn key(k: &[u8]) -> KeyRepr<'_> {
    KeyRepr {
        bits: (k.len() * 8) as u16,
        key: k,
    }
}

/// DELETE/GET by SPI and addresses.
fn sa_ref(t: u8, satype: u8, spi: u32, src: IpAddr, dst: IpAddr) -> StdVec<u8> {
    msg(hdr(t, satype, 7), |w| {
        w.sa(&SaRepr {
            spi,
            ..SaRepr::default()
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(dst))
    })
}

/// A header-only message.
fn bare(t: u8, satype: u8, seq: u32) -> StdVec<u8> {
    msg(hdr(t, satype, seq), |_| Ok(()))
}

/// An SPD message with a selector and an X_POLICY.
fn spd_msg(
    t: u8,
    src: AddressRepr,
    dst: AddressRepr,
    pol: &PolicyRepr<'_>,
    extra: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>,
) -> StdVec<u8> {
    msg(hdr(t, SADB_SATYPE_UNSPEC, 11), |w| {
        w.address(SADB_EXT_ADDRESS_SRC, &src)?;
        w.address(SADB_EXT_ADDRESS_DST, &dst)?;
        w.policy(pol)?;
        extra(w)
    })
}

fn pol(policy_type: u16, dir: u8, requests: &[IpsecRequestRepr]) -> PolicyRepr<'_> {
    PolicyRepr {
        policy_type,
        dir,
        id: 0,
        priority: 0,
        requests,
    }
}

fn transport(proto: u8, level: u8) -> IpsecRequestRepr {
    IpsecRequestRepr {
        proto: u16::from(proto),
        mode: IPSEC_MODE_TRANSPORT,
        level,
        reqid: 0,
        addrs: None,
        ports: (0, 0),
    }
}

fn tunnel(proto: u8, level: u8, src: IpAddr, dst: IpAddr) -> IpsecRequestRepr {
    IpsecRequestRepr {
        mode: IPSEC_MODE_TUNNEL,
        addrs: Some((src, dst)),
        ports: (0, 0),
        ..transport(proto, level)
    }
}

fn lifetime(bytes: u64, addtime: u64, usetime: u64) -> LifetimeRepr {
    LifetimeRepr {
        allocations: 0,
        bytes,
        addtime,
        usetime,
    }
}

/// An engine, one socket and a clock.
struct H {
    e: Engine,
    sock: SockCtl,
    out: Rec,
    now: u64,
}

impl H {
    fn new() -> H {
        H::with_limits(1000, 1000)
    }

    fn with_limits(max_states: usize, max_policies: usize) -> H {
        H {
            e: Engine::new(Limits {
                max_states,
                max_policies,
            }),
            sock: SockCtl::default(),
            out: Rec::default(),
            now: 1_000_000,
        }
    }

    /// Handles `m` with every algorithm available; `out` holds what it
    /// emitted.
    fn send(&mut self, m: &[u8]) -> Result<(), Rejected> {
        self.send_probe(m, &ALL_ALGS)
    }

    fn send_probe(&mut self, m: &[u8], probe: &dyn AlgProbe) -> Result<(), Rejected> {
        self.out.msgs.clear();
        self.e
            .handle(m, &mut self.sock, self.now, probe, &mut self.out)
    }

    /// Handles `m`, which must succeed, and returns the replies.
    fn ok(&mut self, m: &[u8]) -> StdVec<(Audience, StdVec<u8>)> {
        self.send(m).unwrap();
        self.out.replies()
    }

    /// `m` must fail with `Message(e)` and leave the tables as they were.
    fn refused(&mut self, m: &[u8], e: Errno) {
        self.refused_probe(m, e, &ALL_ALGS);
    }

    fn refused_probe(&mut self, m: &[u8], e: Errno, probe: &dyn AlgProbe) {
        let before = self.snapshot();
        assert_eq!(self.send_probe(m, probe), Err(Rejected::Message(e)));
        assert!(
            self.out.replies().is_empty(),
            "a refused message has no reply"
        );
        assert_eq!(self.snapshot(), before, "a refused message changed state");
    }

    /// Every message of a full DUMP (`satype`) or X_SPDDUMP on a scratch
    /// socket; empty if the table is.
    fn dump_all(&mut self, t: u8, satype: u8) -> StdVec<StdVec<u8>> {
        let mut sock = SockCtl::default();
        let mut out = Rec::default();
        let m = bare(t, satype, 0);
        match self.e.handle(&m, &mut sock, self.now, &ALL_ALGS, &mut out) {
            Err(Rejected::Message(Errno::ENOENT)) => return StdVec::new(),
            r => r.unwrap(),
        }
        let mut d = sock.dump.take().unwrap();
        out.msgs.clear();
        while self.e.dump_next(&mut d, &mut out).unwrap() {}
        assert!(out.msgs.iter().all(|(a, _)| *a == Audience::Sender));
        out.msgs.into_iter().map(|(_, b)| b).collect()
    }

    /// Both tables, as dumps.
    fn snapshot(&mut self) -> (StdVec<StdVec<u8>>, StdVec<StdVec<u8>>) {
        (
            self.dump_all(SADB_DUMP, SADB_SATYPE_UNSPEC),
            self.dump_all(SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC),
        )
    }
}

/// Decodes a kernel message (which may carry a refcount in `reserved`).
fn dec(b: &[u8]) -> Parsed<'_> {
    parse_reply(b).unwrap()
}

/// The extension types of a message, in wire order.
fn ext_types(b: &[u8]) -> StdVec<u16> {
    dec(b).raw_exts().map(|(t, _)| t).collect()
}
