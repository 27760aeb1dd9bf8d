//! The seeded message sequence: valid messages of every PF_KEY type
//! (built with rxfrm-logic's `MsgWriter`), for ESP, AH and IPComp, IPv4
//! and IPv6, every algorithm of `algs.rs`, then — for most of them — one
//! to three mutations (`mutate`).
//!
//! The sequence depends on the seed alone, never on what a target
//! answers: the generator remembers what it asked for (SA tuples,
//! selectors, GETSPI sequence numbers, how many policies it added) and
//! aims later messages at those, so the same seed sends the same bytes to
//! the host engine and to the kernel.

use crate::mutate;
use crate::wire::Msg;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::algs::{self, AlgDesc, AlgKind, KeyBits};
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::{
    build_vec, AddressRepr, Errno, FilterRepr, IdentityRepr, IpsecRequestRepr, KeyRepr,
    KmAddressRepr, LifetimeRepr, MsgHeader, MsgWriter, PolicyRepr, Sa2Repr, SaRepr, SecCtxRepr,
    SensRepr, SpiRangeRepr,
};

/// The `sadb_msg_pid` of requests: fixed, so that the bytes depend on the
/// seed only (the kernel echoes it and never checks it), plus the sending
/// socket's index (see [`pid_of`]).
pub const PID: u32 = 0x00f0_0f00;

/// The pid socket `sock` puts in its requests: dumps of different sockets
/// stay apart where a promiscuous socket sees them all (af_key).
pub fn pid_of(sock: usize) -> u32 {
    PID + sock as u32
}

/// Sockets a run sends from: 0–2 registered for AH, ESP and IPComp, 3
/// promiscuous, 4 plain.
pub const SOCKS: usize = 5;
/// The plain socket.
pub const PLAIN: usize = 4;

/// One message of the sequence.
#[derive(Clone, Debug)]
pub struct Step {
    /// Position in the sequence (0-based).
    pub index: u64,
    /// Socket to send it from (`0..SOCKS`).
    pub sock: usize,
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// The message type it was generated as (before any mutation).
    pub kind: u8,
    /// Mutations applied, by name (empty: a valid message).
    pub mutations: Vec<&'static str>,
}

#[derive(Clone, Copy, Debug)]
struct SaTuple {
    satype: u8,
    src: IpAddr,
    dst: IpAddr,
    spi: u32,
}

#[derive(Clone, Copy, Debug)]
struct SelTuple {
    src: AddressRepr,
    dst: AddressRepr,
    dir: u8,
}

/// The generator. `next()` yields the sequence.
pub struct Gen {
    rng: ChaCha8Rng,
    index: u64,
    sas: Vec<SaTuple>,
    sels: Vec<SelTuple>,
    seqs: Vec<u32>,
    spdadds: u32,
    /// A run of valid ADDs or SPDADDs in progress: (type, messages left).
    burst: Option<(u8, u32)>,
    /// Entries added by bursts so far (their SPIs and addresses).
    burst_n: u32,
    /// Percentage of messages mutated.
    pub mutate_pct: u32,
}

const V4: [[u8; 4]; 8] = [
    [10, 0, 0, 1],
    [10, 0, 0, 2],
    [10, 0, 1, 1],
    [10, 0, 1, 2],
    [192, 0, 2, 1],
    [198, 51, 100, 7],
    [127, 0, 0, 1],
    [0, 0, 0, 0],
];

fn v6(last: u8, net: u8) -> IpAddr {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[5] = net;
    a[15] = last;
    IpAddr::V6(a)
}

fn v6_pool(i: usize) -> IpAddr {
    match i {
        0 => v6(1, 0),
        1 => v6(2, 0),
        2 => v6(1, 1),
        3 => v6(2, 1),
        4 => {
            let mut a = [0u8; 16];
            a[0] = 0xfe;
            a[1] = 0x80;
            a[15] = 1;
            IpAddr::V6(a)
        }
        5 => {
            let mut a = [0u8; 16];
            a[15] = 1;
            IpAddr::V6(a)
        }
        _ => IpAddr::UNSPEC_V6,
    }
}

/// Message types by weight: most are SA and policy additions and
/// look-ups, a few flush or dump everything.
const WEIGHTS: &[(u8, u32)] = &[
    (SADB_GETSPI, 6),
    (SADB_UPDATE, 6),
    (SADB_ADD, 20),
    (SADB_DELETE, 7),
    (SADB_GET, 7),
    (SADB_ACQUIRE, 2),
    (SADB_REGISTER, 2),
    (SADB_EXPIRE, 1),
    (SADB_FLUSH, 1),
    (SADB_DUMP, 1),
    (SADB_X_PROMISC, 1),
    (SADB_X_PCHANGE, 1),
    (SADB_X_SPDUPDATE, 4),
    (SADB_X_SPDADD, 12),
    (SADB_X_SPDDELETE, 4),
    (SADB_X_SPDGET, 4),
    (SADB_X_SPDACQUIRE, 1),
    (SADB_X_SPDDUMP, 1),
    (SADB_X_SPDFLUSH, 1),
    (SADB_X_SPDSETIDX, 2),
    (SADB_X_SPDEXPIRE, 1),
    (SADB_X_SPDDELETE2, 3),
    (SADB_X_NAT_T_NEW_MAPPING, 1),
    (SADB_X_MIGRATE, 1),
];

/// Every message type the generator produces.
pub fn all_kinds() -> impl Iterator<Item = u8> {
    WEIGHTS.iter().map(|&(t, _)| t)
}

fn build(f: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>) -> Msg {
    let v = build_vec(f).expect("the generator builds only what the codec can write");
    Msg::split(&v).expect("the codec writes well-framed messages")
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

fn host(a: IpAddr) -> AddressRepr {
    AddressRepr {
        proto: IPSEC_ULPROTO_ANY,
        prefixlen: a.max_prefix(),
        addr: a,
        port: 0,
    }
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            index: 0,
            sas: Vec::new(),
            sels: Vec::new(),
            seqs: Vec::new(),
            spdadds: 0,
            burst: None,
            burst_n: 0,
            mutate_pct: 60,
        }
    }

    /// The next message of the sequence.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Step {
        let index = self.index;
        self.index += 1;
        let sock = self.rng.random_range(0..SOCKS);
        if self.burst.is_none() && self.rng.random_range(0..600) == 0 {
            let kind = if self.chance(60) {
                SADB_ADD
            } else {
                SADB_X_SPDADD
            };
            self.burst = Some((kind, self.rng.random_range(64..=768)));
        }
        if let Some((kind, left)) = self.burst {
            self.burst = (left > 1).then_some((kind, left - 1));
            let mut m = self.burst_msg(kind);
            m.hdr.pid = pid_of(sock);
            let bytes = m.encode();
            return Step {
                index,
                sock,
                bytes,
                kind,
                mutations: Vec::new(),
            };
        }
        let kind = self.pick_kind();
        let mut msg = self.valid(kind);
        msg.hdr.pid = pid_of(sock);
        let mut mutations = Vec::new();
        let bytes = if self.rng.random_range(0..100) < self.mutate_pct {
            let n = self.rng.random_range(1..=3);
            mutate::apply(&mut self.rng, &mut msg, n, &mut mutations)
        } else {
            msg.encode()
        };
        Step {
            index,
            sock,
            bytes,
            kind,
            mutations,
        }
    }

    fn pick_kind(&mut self) -> u8 {
        let total: u32 = WEIGHTS.iter().map(|w| w.1).sum();
        let mut x = self.rng.random_range(0..total);
        for &(t, w) in WEIGHTS {
            if x < w {
                return t;
            }
            x -= w;
        }
        SADB_ADD
    }

    fn chance(&mut self, pct: u32) -> bool {
        self.rng.random_range(0..100) < pct
    }

    fn pick<T: Copy>(&mut self, of: &[T]) -> T {
        of[self.rng.random_range(0..of.len())]
    }

    fn seq(&mut self) -> u32 {
        if self.chance(10) {
            0
        } else {
            self.rng.random_range(1..100_000)
        }
    }

    fn addr(&mut self, v6: bool) -> IpAddr {
        if v6 {
            let i = self.rng.random_range(0..7);
            v6_pool(i)
        } else {
            IpAddr::V4(self.pick(&V4))
        }
    }

    fn addr_pair(&mut self) -> (IpAddr, IpAddr) {
        let v6 = self.chance(30);
        (self.addr(v6), self.addr(v6))
    }

    fn satype(&mut self) -> u8 {
        match self.rng.random_range(0..20) {
            0..=11 => SADB_SATYPE_ESP,
            12..=16 => SADB_SATYPE_AH,
            _ => SADB_X_SATYPE_IPCOMP,
        }
    }

    fn spi(&mut self, satype: u8) -> u32 {
        match self.rng.random_range(0..20) {
            0 => 0,
            1 if satype != SADB_X_SATYPE_IPCOMP => self.rng.random(),
            _ => self.rng.random_range(0x100..0x120),
        }
    }

    /// A tuple aimed at an earlier one (70%) or a fresh one.
    fn sa_tuple(&mut self) -> SaTuple {
        if !self.sas.is_empty() && self.chance(70) {
            let i = self.rng.random_range(0..self.sas.len());
            return self.sas[i];
        }
        let satype = self.satype();
        let (src, dst) = self.addr_pair();
        let spi = self.spi(satype);
        SaTuple {
            satype,
            src,
            dst,
            spi,
        }
    }

    fn remember_sa(&mut self, t: SaTuple) {
        if self.sas.len() >= 64 {
            let i = self.rng.random_range(0..self.sas.len());
            self.sas[i] = t;
        } else {
            self.sas.push(t);
        }
    }

    fn key_bits(&mut self, a: &AlgDesc) -> u16 {
        match a.keys {
            KeyBits::List(l) => self.pick(l),
            KeyBits::Range { min, max, step } => {
                let steps = (max - min) / step.max(1);
                min + step * self.rng.random_range(0..=steps)
            }
            KeyBits::Any => {
                let b = self.pick(&[a.sadb_min_bits, 128, 160, 256, 512, 8, 1024]);
                b.max(8)
            }
            KeyBits::None => 0,
        }
    }

    fn key(&mut self, bits: u16) -> Vec<u8> {
        let n = usize::from(bits).div_ceil(8);
        (0..n).map(|_| self.rng.random()).collect()
    }

    fn alg(&mut self, kind: AlgKind) -> &'static AlgDesc {
        let all: Vec<&'static AlgDesc> = algs::iter(kind).collect();
        self.pick(&all)
    }

    fn lifetimes(&mut self) -> Option<(LifetimeRepr, LifetimeRepr)> {
        if !self.chance(30) {
            return None;
        }
        let mut soft = LifetimeRepr::default();
        let mut hard = LifetimeRepr::default();
        match self.rng.random_range(0..4) {
            0 => {
                soft.addtime = self.rng.random_range(1..20);
                hard.addtime = soft.addtime + self.rng.random_range(1..30);
            }
            1 => {
                soft.usetime = self.rng.random_range(1..20);
                hard.usetime = soft.usetime + self.rng.random_range(1..30);
            }
            2 => {
                soft.bytes = self.rng.random_range(1..100_000);
                hard.bytes = soft.bytes * 2;
                soft.allocations = self.rng.random_range(0..100);
                hard.allocations = soft.allocations * 2;
            }
            _ => {
                hard.addtime = self.rng.random_range(0..3600);
            }
        }
        Some((hard, soft))
    }

    fn valid(&mut self, kind: u8) -> Msg {
        match kind {
            SADB_GETSPI => self.getspi(),
            SADB_UPDATE | SADB_ADD => self.add(kind),
            SADB_DELETE | SADB_GET | SADB_EXPIRE | SADB_X_NAT_T_NEW_MAPPING => self.sa_ref(kind),
            SADB_ACQUIRE => self.user_acquire(),
            SADB_REGISTER => {
                let satype = self.pick(&[0, 2, 2, 3, 3, 3, 9, 9, 1, 5, 10, 200]);
                build(|w| w.header(&hdr(SADB_REGISTER, satype, 1)))
            }
            SADB_FLUSH => {
                let satype = self.pick(&[0, 2, 3, 9, 0, 2, 3, 9, 7]);
                build(|w| w.header(&hdr(SADB_FLUSH, satype, 1)))
            }
            SADB_DUMP => self.dump(),
            SADB_X_PROMISC => self.promisc(),
            SADB_X_SPDUPDATE | SADB_X_SPDADD | SADB_X_SPDSETIDX | SADB_X_PCHANGE
            | SADB_X_SPDACQUIRE | SADB_X_SPDEXPIRE => self.spdadd(kind),
            SADB_X_SPDDELETE => self.spddelete(),
            SADB_X_SPDGET | SADB_X_SPDDELETE2 => self.spdget(kind),
            SADB_X_SPDDUMP | SADB_X_SPDFLUSH => {
                let seq = self.seq();
                build(|w| w.header(&hdr(kind, 0, seq)))
            }
            SADB_X_MIGRATE => self.migrate(),
            _ => build(|w| w.header(&hdr(kind, 0, 0))),
        }
    }

    /// One message of a burst: many distinct entries in a row, so that
    /// the tables grow past what the random traffic reaches (hash growth,
    /// chunked dumps, the limits). Foreign addresses: no crypto is set up.
    fn burst_msg(&mut self, kind: u8) -> Msg {
        let n = self.burst_n;
        self.burst_n = self.burst_n.wrapping_add(1);
        let src = IpAddr::V4([10, 200 + (n >> 16) as u8 % 50, (n >> 8) as u8, n as u8]);
        let seq = n;
        if kind == SADB_X_SPDADD {
            let dst = IpAddr::V4([10, 254, 0, 1]);
            let rq = [IpsecRequestRepr {
                proto: u16::from(IPPROTO_ESP),
                mode: IPSEC_MODE_TRANSPORT,
                level: IPSEC_LEVEL_REQUIRE,
                reqid: 0,
                addrs: None,
                ports: (0, 0),
            }];
            self.spdadds += 1;
            return build(|w| {
                w.header(&hdr(SADB_X_SPDADD, 0, seq))?;
                w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
                w.address(SADB_EXT_ADDRESS_DST, &host(dst))?;
                w.policy(&PolicyRepr {
                    policy_type: IPSEC_POLICY_IPSEC,
                    dir: IPSEC_DIR_OUTBOUND,
                    id: 0,
                    priority: 0,
                    requests: &rq,
                })
            });
        }
        let dst = IpAddr::V4([10, 253, 0, 1]);
        let t = SaTuple {
            satype: SADB_SATYPE_ESP,
            src,
            dst,
            spi: 0x0010_0000 + n,
        };
        if self.chance(2) {
            self.remember_sa(t);
        }
        let key = self.key(160);
        build(|w| {
            w.header(&hdr(SADB_ADD, SADB_SATYPE_ESP, seq))?;
            w.sa(&SaRepr {
                spi: t.spi,
                replay: 32,
                state: SADB_SASTATE_MATURE,
                auth: 0,
                encrypt: SADB_X_EALG_AES_GCM_ICV16,
                flags: 0,
            })?;
            w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(dst))?;
            w.key(
                SADB_EXT_KEY_ENCRYPT,
                &KeyRepr {
                    bits: 160,
                    key: &key,
                },
            )
        })
    }

    fn getspi(&mut self) -> Msg {
        let mut t = self.sa_tuple();
        // Small ones name the larval SAs of kernel ACQUIREs (numbered from
        // 1), which GETSPI then completes.
        let seq = if self.chance(40) {
            self.rng.random_range(1..=64)
        } else {
            self.rng.random_range(1..100_000)
        };
        self.seqs.push(seq);
        if self.seqs.len() > 32 {
            self.seqs.remove(0);
        }
        let ipcomp = t.satype == SADB_X_SATYPE_IPCOMP;
        let range = match self.rng.random_range(0..10) {
            0..=4 => {
                // One SPI: a later UPDATE can name it.
                t.spi = self.rng.random_range(0x100..0x120);
                self.remember_sa(t);
                Some(SpiRangeRepr {
                    min: t.spi,
                    max: t.spi,
                })
            }
            5..=7 => Some(SpiRangeRepr {
                min: 0x100,
                max: if ipcomp { 0xffff } else { 0x0fff_ffff },
            }),
            _ => None,
        };
        let sa2 = self.chance(50).then(|| Sa2Repr {
            mode: self.rng.random_range(0..3),
            sequence: 0,
            reqid: self.rng.random_range(0..4),
        });
        build(|w| {
            w.header(&hdr(SADB_GETSPI, t.satype, seq))?;
            if let Some(s) = &sa2 {
                w.sa2(s)?;
            }
            w.address(SADB_EXT_ADDRESS_SRC, &host(t.src))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(t.dst))?;
            if let Some(r) = &range {
                w.spirange(r)?;
            }
            Ok(())
        })
    }

    fn add(&mut self, kind: u8) -> Msg {
        let mut t = if kind == SADB_UPDATE {
            self.sa_tuple()
        } else {
            let satype = self.satype();
            let (src, dst) = self.addr_pair();
            let spi = self.spi(satype);
            SaTuple {
                satype,
                src,
                dst,
                spi,
            }
        };
        if t.satype == SADB_X_SATYPE_IPCOMP && t.spi > 0xffff {
            t.spi &= 0xffff;
        }
        self.remember_sa(t);
        let (mut auth, mut enc) = (None, None);
        match t.satype {
            SADB_SATYPE_ESP => {
                let e = self.alg(AlgKind::Encrypt);
                enc = Some(e);
                if !e.aead && self.chance(75) {
                    auth = Some(self.alg(AlgKind::Auth));
                }
            }
            SADB_SATYPE_AH => auth = Some(self.alg(AlgKind::Auth)),
            _ => enc = Some(self.alg(AlgKind::Compress)),
        }
        let ipcomp = t.satype == SADB_X_SATYPE_IPCOMP;
        let akey = auth.map(|a| {
            let b = self.key_bits(a);
            (b, self.key(b))
        });
        let ekey = enc.filter(|_| !ipcomp).map(|e| {
            let b = self.key_bits(e);
            (b, self.key(b))
        });
        let flags = match self.rng.random_range(0..10) {
            0 => SADB_X_SAFLAGS_ESN,
            1 => SADB_SAFLAGS_NOECN | SADB_SAFLAGS_DECAP_DSCP,
            2 => SADB_SAFLAGS_NOPMTUDISC,
            3 => SADB_X_EXT_CYCSEQ,
            _ => 0,
        };
        let sa = SaRepr {
            spi: t.spi,
            replay: self.pick(&[0, 32, 64, 4, 255]),
            state: SADB_SASTATE_MATURE,
            auth: auth.map_or(0, |a| a.id),
            encrypt: enc.map_or(0, |e| e.id),
            flags,
        };
        let sa2 = self.chance(80).then(|| Sa2Repr {
            mode: self.pick(&[0, 0, 1, 2, 2, 3]),
            sequence: 0,
            reqid: self.pick(&[0, 0, 1, 2, 100, 0x3fff, 0x4000]),
        });
        let life = self.lifetimes();
        let current = self.chance(5).then_some(LifetimeRepr {
            allocations: 1,
            bytes: 100,
            addtime: 5,
            usetime: 0,
        });
        let proxy = self.chance(5).then(|| {
            let a = self.addr(matches!(t.src, IpAddr::V6(_)));
            AddressRepr {
                proto: self.pick(&[255, 6, 17]),
                prefixlen: self.rng.random_range(0..=a.max_prefix()),
                addr: a,
                port: self.pick(&[0, 80]),
            }
        });
        let natt = (t.satype != SADB_X_SATYPE_IPCOMP && self.chance(5)).then(|| {
            (
                self.pick(&[2u8, 1, 0]),
                4500u16,
                self.pick(&[4500u16, 0, 1]),
            )
        });
        let ident = self.chance(3);
        let sens = self.chance(2);
        let ctx = self.chance(2);
        let kmpriv = self.chance(2);
        let seq = self.seq();
        build(|w| {
            w.header(&hdr(kind, t.satype, seq))?;
            w.sa(&sa)?;
            if let Some(s) = &sa2 {
                w.sa2(s)?;
            }
            if let Some((hard, soft)) = &life {
                w.lifetime(SADB_EXT_LIFETIME_HARD, hard)?;
                w.lifetime(SADB_EXT_LIFETIME_SOFT, soft)?;
            }
            if let Some(c) = &current {
                w.lifetime(SADB_EXT_LIFETIME_CURRENT, c)?;
            }
            w.address(SADB_EXT_ADDRESS_SRC, &host(t.src))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(t.dst))?;
            if let Some(p) = &proxy {
                w.address(SADB_EXT_ADDRESS_PROXY, p)?;
            }
            if let Some((bits, k)) = &akey {
                w.key(
                    SADB_EXT_KEY_AUTH,
                    &KeyRepr {
                        bits: *bits,
                        key: k,
                    },
                )?;
            }
            if let Some((bits, k)) = &ekey {
                w.key(
                    SADB_EXT_KEY_ENCRYPT,
                    &KeyRepr {
                        bits: *bits,
                        key: k,
                    },
                )?;
            }
            if let Some((ty, sport, dport)) = natt {
                w.nat_t_type(ty)?;
                w.nat_t_port(SADB_X_EXT_NAT_T_SPORT, sport)?;
                w.nat_t_port(SADB_X_EXT_NAT_T_DPORT, dport)?;
            }
            if ident {
                w.identity(
                    SADB_EXT_IDENTITY_SRC,
                    &IdentityRepr {
                        ident_type: SADB_IDENTTYPE_FQDN,
                        id: 0,
                        data: b"fuzz.example",
                    },
                )?;
            }
            if sens {
                w.sensitivity(&SensRepr {
                    dpd: 1,
                    sens_level: 2,
                    integ_level: 3,
                    sens_bitmap: &[0xff; 8],
                    integ_bitmap: &[],
                })?;
            }
            if ctx {
                w.sec_ctx(&SecCtxRepr {
                    alg: 1,
                    doi: 1,
                    ctx: b"system_u:object_r:fuzz_t:s0",
                })?;
            }
            if kmpriv {
                w.kmprivate(b"key manager private")?;
            }
            Ok(())
        })
    }

    fn sa_ref(&mut self, kind: u8) -> Msg {
        let t = self.sa_tuple();
        let stats = kind == SADB_GET && self.chance(30);
        let seq = self.seq();
        let life = kind == SADB_EXPIRE;
        build(|w| {
            w.header(&hdr(kind, t.satype, seq))?;
            w.sa(&SaRepr {
                spi: t.spi,
                ..SaRepr::default()
            })?;
            if life {
                w.lifetime(SADB_EXT_LIFETIME_CURRENT, &LifetimeRepr::default())?;
                w.lifetime(SADB_EXT_LIFETIME_HARD, &LifetimeRepr::default())?;
            }
            w.address(SADB_EXT_ADDRESS_SRC, &host(t.src))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(t.dst))?;
            if kind == SADB_X_NAT_T_NEW_MAPPING {
                w.nat_t_port(SADB_X_EXT_NAT_T_SPORT, 4500)?;
                w.nat_t_port(SADB_X_EXT_NAT_T_DPORT, 4501)?;
            }
            if stats {
                w.rxfrm_stats(None)?;
            }
            Ok(())
        })
    }

    fn user_acquire(&mut self) -> Msg {
        let seq = if !self.seqs.is_empty() && self.chance(60) {
            self.pick(&self.seqs.clone())
        } else {
            self.seq()
        };
        let errno = self.pick(&[0u8, 22, 2, 0, 22]);
        let satype = self.satype();
        if self.chance(85) {
            return build(|w| {
                w.header(&MsgHeader {
                    errno,
                    ..hdr(SADB_ACQUIRE, satype, seq)
                })
            });
        }
        let (src, dst) = self.addr_pair();
        build(|w| {
            w.header(&hdr(SADB_ACQUIRE, satype, seq))?;
            w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(dst))
        })
    }

    fn dump(&mut self) -> Msg {
        let satype = self.pick(&[0, 0, 2, 3, 9, 5]);
        let filter = self.chance(20).then(|| {
            let mut f = FilterRepr {
                family: self.pick(&[2, 10, 0, 1]),
                splen: self.pick(&[0, 8, 24, 32, 64, 128, 129]),
                dplen: self.pick(&[0, 16, 32, 128]),
                ..FilterRepr::default()
            };
            f.saddr[..4].copy_from_slice(&[10, 0, 0, 0]);
            f.daddr[..4].copy_from_slice(&[10, 0, 0, 0]);
            f
        });
        let stats = self.chance(30);
        build(|w| {
            w.header(&hdr(SADB_DUMP, satype, 0))?;
            if let Some(f) = &filter {
                w.filter(f)?;
            }
            if stats {
                w.rxfrm_stats(None)?;
            }
            Ok(())
        })
    }

    fn promisc(&mut self) -> Msg {
        let seq = self.seq();
        if self.chance(50) {
            // The header-only form switches promiscuity (1 on, 0 off; 2
            // and up are EINVAL). Mostly on, so the run keeps listeners.
            let satype = self.pick(&[1, 1, 1, 0, 2]);
            return build(|w| w.header(&hdr(SADB_X_PROMISC, satype, seq)));
        }
        let payload: Vec<u8> = (0..self.rng.random_range(0..40))
            .map(|_| self.rng.random())
            .collect();
        build(|w| {
            w.header(&hdr(SADB_X_PROMISC, 0, seq))?;
            w.kmprivate(&payload)
        })
    }

    fn selector(&mut self) -> (AddressRepr, AddressRepr) {
        let (s, d) = self.addr_pair();
        let proto = self.pick(&[255, 255, 6, 17, 1, 58, 132, 50]);
        let ports = matches!(proto, 6 | 17 | 132);
        let sport = if ports {
            self.pick(&[0, 0, 80, 500])
        } else if proto == 1 || proto == 58 {
            self.pick(&[0, 8])
        } else {
            0
        };
        let dport = if ports { self.pick(&[0, 443, 4500]) } else { 0 };
        let sp = self.rng.random_range(0..=s.max_prefix());
        let dp = self.pick(&[d.max_prefix(), 0, d.max_prefix() / 2, d.max_prefix()]);
        (
            AddressRepr {
                proto,
                prefixlen: sp,
                addr: s.masked(sp),
                port: sport,
            },
            AddressRepr {
                proto,
                prefixlen: dp,
                addr: d.masked(dp),
                port: dport,
            },
        )
    }

    fn requests(&mut self, v6: bool, dir: u8) -> Vec<IpsecRequestRepr> {
        let n = self.pick(&[1, 1, 1, 2, 2, 3]);
        (0..n)
            .map(|_| {
                let tunnel = self.chance(40);
                let mut level = self.pick(&[
                    IPSEC_LEVEL_DEFAULT,
                    IPSEC_LEVEL_USE,
                    IPSEC_LEVEL_REQUIRE,
                    IPSEC_LEVEL_REQUIRE,
                    IPSEC_LEVEL_UNIQUE,
                ]);
                if tunnel
                    && level == IPSEC_LEVEL_USE
                    && dir == IPSEC_DIR_OUTBOUND
                    && self.chance(80)
                {
                    level = IPSEC_LEVEL_REQUIRE;
                }
                let addrs = tunnel.then(|| (self.addr(v6), self.addr(v6)));
                IpsecRequestRepr {
                    proto: u16::from(self.pick(&[
                        IPPROTO_ESP,
                        IPPROTO_ESP,
                        IPPROTO_AH,
                        IPPROTO_COMP,
                    ])),
                    mode: if tunnel {
                        IPSEC_MODE_TUNNEL
                    } else {
                        self.pick(&[
                            IPSEC_MODE_TRANSPORT,
                            IPSEC_MODE_TRANSPORT,
                            IPSEC_MODE_ANY + 1,
                            IPSEC_MODE_BEET,
                        ])
                    },
                    level,
                    reqid: if level == IPSEC_LEVEL_UNIQUE {
                        self.pick(&[0, 1, 7, 0x3fff])
                    } else {
                        0
                    },
                    addrs,
                    ports: (0, 0),
                }
            })
            .collect()
    }

    fn spdadd(&mut self, kind: u8) -> Msg {
        let (src, dst) = self.selector();
        let v6 = matches!(src.addr, IpAddr::V6(_));
        let dir = self.pick(&[
            IPSEC_DIR_INBOUND,
            IPSEC_DIR_OUTBOUND,
            IPSEC_DIR_OUTBOUND,
            IPSEC_DIR_FWD,
        ]);
        let ptype = self.pick(&[
            IPSEC_POLICY_IPSEC,
            IPSEC_POLICY_IPSEC,
            IPSEC_POLICY_IPSEC,
            IPSEC_POLICY_NONE,
            IPSEC_POLICY_DISCARD,
        ]);
        let reqs = if ptype == IPSEC_POLICY_IPSEC {
            self.requests(v6, dir)
        } else {
            Vec::new()
        };
        if matches!(kind, SADB_X_SPDADD | SADB_X_SPDUPDATE | SADB_X_SPDSETIDX) {
            self.spdadds += 1;
            let s = SelTuple { src, dst, dir };
            if self.sels.len() >= 64 {
                let i = self.rng.random_range(0..self.sels.len());
                self.sels[i] = s;
            } else {
                self.sels.push(s);
            }
        }
        let priority = self.pick(&[0, 0, 1, 100, u32::MAX]);
        let life = self.chance(15).then(|| {
            let soft = LifetimeRepr {
                addtime: self.rng.random_range(1..15),
                ..LifetimeRepr::default()
            };
            let hard = LifetimeRepr {
                addtime: soft.addtime + self.rng.random_range(1..20),
                ..LifetimeRepr::default()
            };
            (hard, soft)
        });
        let seq = self.seq();
        build(|w| {
            w.header(&hdr(kind, 0, seq))?;
            w.address(SADB_EXT_ADDRESS_SRC, &src)?;
            w.address(SADB_EXT_ADDRESS_DST, &dst)?;
            if let Some((hard, soft)) = &life {
                w.lifetime(SADB_EXT_LIFETIME_HARD, hard)?;
                w.lifetime(SADB_EXT_LIFETIME_SOFT, soft)?;
            }
            w.policy(&PolicyRepr {
                policy_type: ptype,
                dir,
                id: 0,
                priority,
                requests: &reqs,
            })
        })
    }

    fn spddelete(&mut self) -> Msg {
        let s = if !self.sels.is_empty() && self.chance(75) {
            let i = self.rng.random_range(0..self.sels.len());
            self.sels[i]
        } else {
            let (src, dst) = self.selector();
            SelTuple {
                src,
                dst,
                dir: IPSEC_DIR_OUTBOUND,
            }
        };
        let seq = self.seq();
        build(|w| {
            w.header(&hdr(SADB_X_SPDDELETE, 0, seq))?;
            w.address(SADB_EXT_ADDRESS_SRC, &s.src)?;
            w.address(SADB_EXT_ADDRESS_DST, &s.dst)?;
            w.policy(&PolicyRepr {
                policy_type: IPSEC_POLICY_IPSEC,
                dir: s.dir,
                id: 0,
                priority: 0,
                requests: &[],
            })
        })
    }

    fn spdget(&mut self, kind: u8) -> Msg {
        // Linux numbers policies 8k + direction, k counting up from 1.
        let id = if self.chance(85) {
            let k = self.rng.random_range(0..=self.spdadds + 2);
            k * 8 + self.rng.random_range(0..3)
        } else {
            self.rng.random()
        };
        let seq = self.seq();
        build(|w| {
            w.header(&hdr(kind, 0, seq))?;
            w.policy(&PolicyRepr {
                policy_type: IPSEC_POLICY_IPSEC,
                dir: IPSEC_DIR_OUTBOUND,
                id,
                priority: 0,
                requests: &[],
            })
        })
    }

    fn migrate(&mut self) -> Msg {
        let (src, dst) = self.selector();
        let v6 = matches!(src.addr, IpAddr::V6(_));
        let (a, b, c, d) = (self.addr(v6), self.addr(v6), self.addr(v6), self.addr(v6));
        let rq = |s, t| IpsecRequestRepr {
            proto: u16::from(IPPROTO_ESP),
            mode: IPSEC_MODE_TUNNEL,
            level: IPSEC_LEVEL_REQUIRE,
            reqid: 0,
            addrs: Some((s, t)),
            ports: (0, 0),
        };
        let reqs = [rq(a, b), rq(c, d)];
        build(|w| {
            w.header(&hdr(SADB_X_MIGRATE, 0, 1))?;
            w.address(SADB_EXT_ADDRESS_SRC, &src)?;
            w.address(SADB_EXT_ADDRESS_DST, &dst)?;
            w.kmaddress(&KmAddressRepr {
                reserved: 0,
                local: a,
                remote: b,
            })?;
            w.policy(&PolicyRepr {
                policy_type: IPSEC_POLICY_IPSEC,
                dir: IPSEC_DIR_OUTBOUND,
                id: 0,
                priority: 0,
                requests: &reqs,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn digest(seed: u64, n: usize) -> Vec<u64> {
        let mut g = Gen::new(seed);
        (0..n)
            .map(|_| {
                let s = g.next();
                // FNV-1a over socket and bytes.
                let mut h = 0xcbf2_9ce4_8422_2325u64 ^ s.sock as u64;
                for b in &s.bytes {
                    h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
                }
                h
            })
            .collect()
    }

    #[test]
    fn same_seed_same_sequence() {
        assert_eq!(digest(7, 3000), digest(7, 3000));
        assert_ne!(digest(7, 100), digest(8, 100));
    }

    #[test]
    fn every_type_and_algorithm_is_generated_valid() {
        let mut g = Gen::new(1);
        g.mutate_pct = 0;
        let mut kinds = BTreeSet::new();
        let mut algs_seen = BTreeSet::new();
        let (mut v4, mut v6) = (false, false);
        for _ in 0..20_000 {
            let s = g.next();
            assert!(s.mutations.is_empty());
            kinds.insert(s.bytes[1]);
            let m = Msg::split(&s.bytes).unwrap();
            if let Some(sa) = m.exts.iter().find(|e| e.ext_type == SADB_EXT_SA) {
                if matches!(s.bytes[1], SADB_ADD | SADB_UPDATE) {
                    algs_seen.insert((s.bytes[3], sa.body[6], sa.body[7]));
                }
            }
            if let Some(a) = m.exts.iter().find(|e| e.ext_type == SADB_EXT_ADDRESS_DST) {
                match u16::from_ne_bytes([a.body[4], a.body[5]]) {
                    2 => v4 = true,
                    _ => v6 = true,
                }
            }
        }
        for t in all_kinds() {
            assert!(kinds.contains(&t), "type {t} never generated");
        }
        assert!(v4 && v6);
        for a in algs::ALGS {
            let used = algs_seen.iter().any(|&(satype, auth, enc)| match a.kind {
                AlgKind::Auth => auth == a.id && satype != SADB_X_SATYPE_IPCOMP,
                AlgKind::Encrypt => enc == a.id && satype == SADB_SATYPE_ESP,
                AlgKind::Compress => enc == a.id && satype == SADB_X_SATYPE_IPCOMP,
            });
            assert!(used, "algorithm {} never used", a.name);
        }
        for satype in [SADB_SATYPE_AH, SADB_SATYPE_ESP, SADB_X_SATYPE_IPCOMP] {
            assert!(algs_seen.iter().any(|x| x.0 == satype));
        }
    }
}
