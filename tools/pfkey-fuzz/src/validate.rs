//! A small, strict RFC 2367 checker for what the kernel (or the engine)
//! sends back. It shares no code with `rxfrm-logic` — numbers and layouts
//! are written out here from RFC 2367 and `linux/pfkeyv2.h` — so that a
//! bug in rxfrm's codec cannot hide itself by being on both sides.
//!
//! [`classify`] decides what a received message is relative to the request
//! that caused it (a promiscuous copy, an X_PROMISC echo, an error reply, a
//! reply, a dump part, or a kernel-originated message) and checks it:
//! the base header (`sadb_msg_len` = bytes / 8, version 2), every
//! extension's length (≥ 1 word, inside the message), no duplicate or
//! unknown extension types, each known type well formed, the extensions
//! each message type must carry, and that replies echo the request's
//! type, SA type, seq and pid.

use std::fmt;

// --- numbers (RFC 2367, linux/pfkeyv2.h, linux/ipsec.h) ---
const PF_KEY_V2: u8 = 2;
const HDR_LEN: usize = 16;

const GETSPI: u8 = 1;
const UPDATE: u8 = 2;
const ADD: u8 = 3;
const DELETE: u8 = 4;
const GET: u8 = 5;
const ACQUIRE: u8 = 6;
const REGISTER: u8 = 7;
const EXPIRE: u8 = 8;
const FLUSH: u8 = 9;
const DUMP: u8 = 10;
const X_PROMISC: u8 = 11;
const X_SPDUPDATE: u8 = 13;
const X_SPDADD: u8 = 14;
const X_SPDDELETE: u8 = 15;
const X_SPDGET: u8 = 16;
const X_SPDDUMP: u8 = 18;
const X_SPDFLUSH: u8 = 19;
const X_SPDSETIDX: u8 = 20;
const X_SPDEXPIRE: u8 = 21;
const X_SPDDELETE2: u8 = 22;
const MSG_MAX: u8 = 24;

const SATYPE_AH: u8 = 2;
const SATYPE_ESP: u8 = 3;
const SATYPE_IPCOMP: u8 = 9;

const EXT_SA: u16 = 1;
const EXT_LIFETIME_CURRENT: u16 = 2;
const EXT_LIFETIME_HARD: u16 = 3;
const EXT_LIFETIME_SOFT: u16 = 4;
const EXT_ADDRESS_SRC: u16 = 5;
const EXT_ADDRESS_DST: u16 = 6;
const EXT_ADDRESS_PROXY: u16 = 7;
const EXT_KEY_AUTH: u16 = 8;
const EXT_KEY_ENCRYPT: u16 = 9;
const EXT_IDENTITY_SRC: u16 = 10;
const EXT_IDENTITY_DST: u16 = 11;
const EXT_SENSITIVITY: u16 = 12;
const EXT_PROPOSAL: u16 = 13;
const EXT_SUPPORTED_AUTH: u16 = 14;
const EXT_SUPPORTED_ENCRYPT: u16 = 15;
const EXT_SPIRANGE: u16 = 16;
const EXT_KMPRIVATE: u16 = 17;
const EXT_POLICY: u16 = 18;
const EXT_SA2: u16 = 19;
const EXT_NAT_T_TYPE: u16 = 20;
const EXT_NAT_T_SPORT: u16 = 21;
const EXT_NAT_T_DPORT: u16 = 22;
const EXT_NAT_T_OA: u16 = 23;
const EXT_SEC_CTX: u16 = 24;
const EXT_KMADDRESS: u16 = 25;
const EXT_FILTER: u16 = 26;
const EXT_MAX: u16 = 26;
/// rxfrm's per-SA counters, only in answers to a GET/DUMP that asked.
const EXT_RXFRM_STATS: u16 = 0xf0;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// A checking failure: what is wrong, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! bad {
    ($($t:tt)*) => { return Err(Violation(format!($($t)*))) };
}

fn u16_ne(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_ne(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u32_be(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u64_ne(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(a)
}

/// `struct sadb_msg`, read field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hdr {
    pub version: u8,
    pub msg_type: u8,
    pub errno: u8,
    pub satype: u8,
    /// `sadb_msg_len`, 64-bit words.
    pub len: u16,
    pub reserved: u16,
    pub seq: u32,
    pub pid: u32,
}

impl Hdr {
    /// The header of `b`, if it has 16 bytes.
    pub fn read(b: &[u8]) -> Option<Hdr> {
        if b.len() < HDR_LEN {
            return None;
        }
        Some(Hdr {
            version: b[0],
            msg_type: b[1],
            errno: b[2],
            satype: b[3],
            len: u16_ne(b, 4),
            reserved: u16_ne(b, 6),
            seq: u32_ne(b, 8),
            pid: u32_ne(b, 12),
        })
    }
}

/// What a received message turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A promiscuous socket's byte-for-byte copy of the request.
    PromiscCopy,
    /// A promiscuous copy cut short: the request's header (its length
    /// made to fit) and only its leading well-framed extensions. Linux's
    /// af_key broadcasts the request's own bytes (`skb_clone`); rxfrm
    /// rebuilds the copy. Well formed, but not what was sent.
    PromiscAltered,
    /// The echo of an X_PROMISC request.
    Echo,
    /// The header-only error reply, with this errno.
    ErrorReply(u8),
    /// A reply or notification for the request.
    Reply,
    /// One message of a DUMP/X_SPDDUMP (`seq` counts down to 0).
    Dump { seq: u32 },
    /// EXPIRE, ACQUIRE or X_SPDEXPIRE from the kernel itself.
    Unsolicited,
}

/// Offsets of the extensions of a checked message, by type.
#[derive(Clone, Debug, Default)]
pub struct Exts {
    at: Vec<(u16, usize, usize)>,
}

impl Exts {
    /// The extension of type `t` (header included), if present.
    pub fn get<'a>(&self, b: &'a [u8], t: u16) -> Option<&'a [u8]> {
        self.at
            .iter()
            .find(|(ty, _, _)| *ty == t)
            .map(|&(_, off, len)| &b[off..off + len])
    }

    pub fn has(&self, t: u16) -> bool {
        self.at.iter().any(|(ty, _, _)| *ty == t)
    }

    /// The types present, in wire order.
    pub fn types(&self) -> impl Iterator<Item = u16> + '_ {
        self.at.iter().map(|(t, _, _)| *t)
    }
}

/// Splits a message into its extensions without judging their contents:
/// every length ≥ 1 word and inside the message, nothing left over.
/// Tolerant enough for requests (used to find a request's SA or policy).
pub fn walk(b: &[u8]) -> Result<Exts, Violation> {
    let mut ex = Exts::default();
    let mut off = HDR_LEN;
    while off < b.len() {
        if b.len() - off < 4 {
            bad!("{} stray bytes after the last extension", b.len() - off);
        }
        let words = usize::from(u16_ne(b, off));
        let t = u16_ne(b, off + 2);
        if words == 0 {
            bad!("extension type {t} at offset {off} has length 0");
        }
        let len = words * 8;
        if len > b.len() - off {
            bad!(
                "extension type {t} at offset {off} claims {len} bytes, {} left",
                b.len() - off
            );
        }
        ex.at.push((t, off, len));
        off += len;
    }
    Ok(ex)
}

fn is_spd_type(t: u8) -> bool {
    (X_SPDUPDATE..=X_SPDDELETE2).contains(&t)
}

/// The base header of a kernel message: version 2, a known type, a length
/// that is the byte count / 8, reserved 0 except for SPD messages (Linux
/// puts a policy's refcount there).
fn check_base(b: &[u8]) -> Result<Hdr, Violation> {
    let Some(h) = Hdr::read(b) else {
        bad!("message of {} bytes, shorter than sadb_msg", b.len());
    };
    if h.version != PF_KEY_V2 {
        bad!("sadb_msg_version {}", h.version);
    }
    if h.msg_type == 0 || h.msg_type > MSG_MAX {
        bad!("sadb_msg_type {}", h.msg_type);
    }
    if !b.len().is_multiple_of(8) {
        bad!("{} bytes is not a multiple of 8", b.len());
    }
    if usize::from(h.len) * 8 != b.len() {
        bad!("sadb_msg_len {} words for {} bytes", h.len, b.len());
    }
    if h.reserved != 0 && !is_spd_type(h.msg_type) {
        bad!(
            "sadb_msg_reserved {} in a type {} message",
            h.reserved,
            h.msg_type
        );
    }
    Ok(h)
}

/// Base header, extension framing, known types only, no duplicates, each
/// extension well formed.
pub fn check_structure(b: &[u8]) -> Result<(Hdr, Exts), Violation> {
    let h = check_base(b)?;
    let ex = walk(b)?;
    let mut seen: Vec<u16> = Vec::new();
    for &(t, off, len) in &ex.at {
        if seen.contains(&t) {
            bad!("duplicate extension type {t}");
        }
        seen.push(t);
        check_ext(t, &b[off..off + len]).map_err(|v| Violation(format!("extension {t}: {v}")))?;
    }
    Ok((h, ex))
}

fn exact(e: &[u8], n: usize) -> Result<(), Violation> {
    if e.len() != n {
        bad!("length {} bytes, want {n}", e.len());
    }
    Ok(())
}

fn at_least(e: &[u8], n: usize) -> Result<(), Violation> {
    if e.len() < n {
        bad!("length {} bytes, want at least {n}", e.len());
    }
    Ok(())
}

fn zero(e: &[u8], what: &str) -> Result<(), Violation> {
    if e.iter().any(|&x| x != 0) {
        bad!("{what} not zero");
    }
    Ok(())
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// A sockaddr_in/sockaddr_in6 as Linux fills them (no sa_len); returns
/// (family, its length).
fn sockaddr(b: &[u8]) -> Result<(u16, usize), Violation> {
    if b.len() < 2 {
        bad!("no room for a sockaddr family");
    }
    match u16_ne(b, 0) {
        AF_INET => {
            if b.len() < 16 {
                bad!("sockaddr_in truncated");
            }
            zero(&b[8..16], "sin_zero")?;
            Ok((AF_INET, 16))
        }
        AF_INET6 => {
            if b.len() < 28 {
                bad!("sockaddr_in6 truncated");
            }
            Ok((AF_INET6, 28))
        }
        f => bad!("sockaddr family {f}"),
    }
}

fn check_address(e: &[u8]) -> Result<(), Violation> {
    at_least(e, 16)?;
    zero(&e[6..8], "sadb_address_reserved")?;
    let plen = e[5];
    let (fam, n) = sockaddr(&e[8..])?;
    if e.len() != align8(8 + n) {
        bad!("length {} for a family {fam} sockaddr", e.len());
    }
    zero(&e[8 + n..], "padding after the sockaddr")?;
    let max = if fam == AF_INET { 32 } else { 128 };
    if plen > max {
        bad!("prefix length {plen} on family {fam}");
    }
    Ok(())
}

fn check_key(e: &[u8]) -> Result<(), Violation> {
    at_least(e, 8)?;
    zero(&e[6..8], "sadb_key_reserved")?;
    let bits = usize::from(u16_ne(e, 4));
    let want = align8(8 + bits.div_ceil(8));
    if e.len() != want {
        bad!("{} bytes for {bits} key bits (want {want})", e.len());
    }
    Ok(())
}

fn check_policy(e: &[u8]) -> Result<(), Violation> {
    at_least(e, 16)?;
    let ptype = u16_ne(e, 4);
    let dir = e[6];
    if ptype > 4 {
        bad!("policy type {ptype}");
    }
    if dir > 3 {
        bad!("policy direction {dir}");
    }
    zero(&e[7..8], "sadb_x_policy_reserved")?;
    let mut off = 16;
    let mut n = 0;
    while off < e.len() {
        let rest = &e[off..];
        if rest.len() < 16 {
            bad!("{} stray bytes after request {n}", rest.len());
        }
        let rlen = usize::from(u16_ne(rest, 0));
        if rlen < 16 || rlen > rest.len() || !rlen.is_multiple_of(8) {
            bad!("request {n} length {rlen} ({} bytes left)", rest.len());
        }
        let proto = u16_ne(rest, 2);
        let (mode, level) = (rest[4], rest[5]);
        if !matches!(proto, 50 | 51 | 108 | 43 | 60) {
            bad!("request {n} proto {proto}");
        }
        if !(1..=3).contains(&mode) {
            bad!("request {n} mode {mode}");
        }
        if !(1..=3).contains(&level) {
            bad!("request {n} level {level}");
        }
        zero(&rest[6..8], "sadb_x_ipsecrequest_reserved1")?;
        zero(&rest[12..16], "sadb_x_ipsecrequest_reserved2")?;
        let addrs = &rest[16..rlen];
        if mode == 2 {
            let (f1, n1) = sockaddr(addrs)?;
            let (f2, n2) = sockaddr(&addrs[n1..])?;
            if f1 != f2 {
                bad!("request {n} tunnel endpoints of families {f1} and {f2}");
            }
            if align8(16 + n1 + n2) != rlen {
                bad!("request {n} length {rlen} for its endpoints");
            }
        } else if !addrs.iter().all(|&x| x == 0) {
            // Linux sends endpoints (zero) with every request; they must
            // at least be well framed.
            let (f1, n1) = sockaddr(addrs)?;
            let (f2, _) = sockaddr(&addrs[n1..])?;
            if f1 != f2 {
                bad!("request {n} endpoints of families {f1} and {f2}");
            }
        }
        off += rlen;
        n += 1;
    }
    if ptype != 2 && n > 0 {
        bad!("{n} requests in a policy of type {ptype}");
    }
    Ok(())
}

/// The per-type check of one extension `e` (its header included).
pub fn check_ext(t: u16, e: &[u8]) -> Result<(), Violation> {
    match t {
        EXT_SA => {
            exact(e, 16)?;
            if e[9] > 3 {
                bad!("SA state {}", e[9]);
            }
        }
        EXT_LIFETIME_CURRENT | EXT_LIFETIME_HARD | EXT_LIFETIME_SOFT => exact(e, 32)?,
        EXT_ADDRESS_SRC | EXT_ADDRESS_DST | EXT_ADDRESS_PROXY | EXT_NAT_T_OA => check_address(e)?,
        EXT_KEY_AUTH | EXT_KEY_ENCRYPT => check_key(e)?,
        EXT_IDENTITY_SRC | EXT_IDENTITY_DST => at_least(e, 16)?,
        EXT_SENSITIVITY => {
            at_least(e, 16)?;
            let need = 16 + 8 * (usize::from(e[9]) + usize::from(e[11]));
            if need > e.len() {
                bad!("bitmaps of {need} bytes in {}", e.len());
            }
        }
        EXT_PROPOSAL => {
            at_least(e, 8)?;
            zero(&e[5..8], "sadb_prop_reserved")?;
            if !(e.len() - 8).is_multiple_of(72) {
                bad!("{} bytes is not a whole number of combs", e.len() - 8);
            }
            for (i, c) in e[8..].chunks_exact(72).enumerate() {
                let (amin, amax) = (u16_ne(c, 4), u16_ne(c, 6));
                let (emin, emax) = (u16_ne(c, 8), u16_ne(c, 10));
                if amin > amax || emin > emax {
                    bad!("comb {i}: bits {amin}..{amax} / {emin}..{emax}");
                }
                zero(&c[12..16], "sadb_comb_reserved")?;
                // soft/hard addtime at 40/48, usetime at 56/64.
                for (soft, hard) in [(40, 48), (56, 64)] {
                    let (s, h) = (u64_ne(c, soft), u64_ne(c, hard));
                    if h != 0 && s > h {
                        bad!("comb {i}: soft lifetime {s} beyond hard {h}");
                    }
                }
            }
        }
        EXT_SUPPORTED_AUTH | EXT_SUPPORTED_ENCRYPT => {
            at_least(e, 8)?;
            zero(&e[4..8], "sadb_supported_reserved")?;
            let mut ids = Vec::new();
            for a in e[8..].chunks_exact(8) {
                let (id, min, max) = (a[0], u16_ne(a, 2), u16_ne(a, 4));
                if min > max {
                    bad!("algorithm {id}: bits {min}..{max}");
                }
                if ids.contains(&id) {
                    bad!("algorithm {id} listed twice");
                }
                zero(&a[6..8], "sadb_alg_reserved")?;
                ids.push(id);
            }
        }
        EXT_SPIRANGE => {
            exact(e, 16)?;
            if u32_ne(e, 4) > u32_ne(e, 8) {
                bad!("SPI range min > max");
            }
        }
        EXT_KMPRIVATE => at_least(e, 8)?,
        EXT_POLICY => check_policy(e)?,
        EXT_SA2 => {
            exact(e, 16)?;
            if e[4] > 3 {
                bad!("SA2 mode {}", e[4]);
            }
            zero(&e[5..8], "sadb_x_sa2_reserved")?;
        }
        EXT_NAT_T_TYPE | EXT_NAT_T_SPORT | EXT_NAT_T_DPORT => exact(e, 8)?,
        EXT_SEC_CTX => {
            at_least(e, 8)?;
            let n = usize::from(u16_ne(e, 6));
            if e.len() != align8(8 + n) {
                bad!("{} bytes for a {n}-byte context", e.len());
            }
        }
        EXT_KMADDRESS => at_least(e, 8)?,
        EXT_FILTER => exact(e, 40)?,
        EXT_RXFRM_STATS => exact(e, 24)?,
        0 => bad!("extension type 0"),
        t => bad!("unknown extension type {t} (highest known {EXT_MAX})"),
    }
    Ok(())
}

/// Address family of an (already checked) address extension.
fn addr_family(e: &[u8]) -> u16 {
    u16_ne(e, 8)
}

fn sa_satype(t: u8, h: &Hdr) -> Result<(), Violation> {
    if !matches!(h.satype, SATYPE_AH | SATYPE_ESP | SATYPE_IPCOMP) {
        bad!("type {t} message with SA type {}", h.satype);
    }
    Ok(())
}

/// What each kind of message must (and must not) carry.
fn check_required(b: &[u8], h: &Hdr, ex: &Exts) -> Result<(), Violation> {
    let t = h.msg_type;
    let need = |types: &[u16]| -> Result<(), Violation> {
        for &x in types {
            if !ex.has(x) {
                bad!("type {t} message without extension {x}");
            }
        }
        Ok(())
    };
    let none_of = |types: &[u16]| -> Result<(), Violation> {
        for &x in types {
            if ex.has(x) {
                bad!("type {t} message with extension {x}");
            }
        }
        Ok(())
    };
    let same_family = || -> Result<(), Violation> {
        let s = addr_family(ex.get(b, EXT_ADDRESS_SRC).unwrap_or(&[0; 16]));
        let d = addr_family(ex.get(b, EXT_ADDRESS_DST).unwrap_or(&[0; 16]));
        if s != d {
            bad!("type {t} message with src family {s}, dst family {d}");
        }
        Ok(())
    };
    let one_lifetime = || -> Result<(), Violation> {
        need(&[EXT_LIFETIME_CURRENT])?;
        if ex.has(EXT_LIFETIME_HARD) == ex.has(EXT_LIFETIME_SOFT) {
            bad!("type {t} message must carry exactly one of the hard and soft lifetimes");
        }
        Ok(())
    };
    match t {
        ADD | UPDATE | DELETE | GET | DUMP | GETSPI | EXPIRE => {
            sa_satype(t, h)?;
            need(&[EXT_SA, EXT_ADDRESS_SRC, EXT_ADDRESS_DST])?;
            same_family()?;
            none_of(&[EXT_POLICY, EXT_SUPPORTED_AUTH, EXT_SUPPORTED_ENCRYPT])?;
            if matches!(t, ADD | UPDATE | DELETE | EXPIRE | GETSPI) {
                // RFC 2367: notifications to all sockets carry no keys.
                none_of(&[EXT_KEY_AUTH, EXT_KEY_ENCRYPT])?;
            }
            if t == EXPIRE {
                one_lifetime()?;
            }
        }
        ACQUIRE => {
            sa_satype(t, h)?;
            need(&[EXT_ADDRESS_SRC, EXT_ADDRESS_DST])?;
            same_family()?;
            none_of(&[EXT_KEY_AUTH, EXT_KEY_ENCRYPT, EXT_SA])?;
        }
        REGISTER => {
            if let Some(x) = ex
                .types()
                .find(|&x| x != EXT_SUPPORTED_AUTH && x != EXT_SUPPORTED_ENCRYPT)
            {
                bad!("REGISTER reply with extension {x}");
            }
        }
        FLUSH | X_SPDFLUSH => {
            if h.len != 2 {
                bad!("type {t} reply of {} words, want the bare header", h.len);
            }
        }
        X_SPDADD | X_SPDUPDATE | X_SPDDELETE | X_SPDDELETE2 | X_SPDGET | X_SPDDUMP
        | X_SPDEXPIRE => {
            if h.satype != 0 {
                bad!("policy message with SA type {}", h.satype);
            }
            need(&[EXT_ADDRESS_SRC, EXT_ADDRESS_DST, EXT_POLICY])?;
            same_family()?;
            none_of(&[EXT_SA, EXT_KEY_AUTH, EXT_KEY_ENCRYPT])?;
            if t == X_SPDEXPIRE {
                one_lifetime()?;
            }
        }
        _ => bad!("unexpected successful message of type {t}"),
    }
    Ok(())
}

/// The message type a successful reply to `req_type` carries.
fn reply_type(req_type: u8) -> u8 {
    match req_type {
        // af_key notifies SETIDX as a new policy (XFRM_MSG_NEWPOLICY).
        X_SPDSETIDX => X_SPDADD,
        t => t,
    }
}

/// The SPI (host order) of the SA extension of a request, if it has a
/// well-framed one.
fn request_spi(req: &[u8]) -> Option<u32> {
    let ex = walk(req).ok()?;
    let e = ex.get(req, EXT_SA)?;
    (e.len() >= 8).then(|| u32_be(e, 4))
}

/// The IP address bytes of an address extension (`None` if malformed).
fn address_bytes(e: &[u8]) -> Option<&[u8]> {
    match u16_ne(e, 8) {
        AF_INET if e.len() >= 16 => Some(&e[12..16]),
        AF_INET6 if e.len() >= 40 => Some(&e[16..32]),
        _ => None,
    }
}

fn request_has(req: &[u8], t: u16) -> bool {
    walk(req).is_ok_and(|ex| ex.has(t))
}

/// Classifies and checks `msg`, received after the request `req` was
/// sent. `promisc` says whether the receiving socket may get promiscuous
/// copies. Dump parts are checked per message; their sequence is the
/// caller's (see [`DumpTrack`]).
pub fn classify(req: &[u8], msg: &[u8], promisc: bool) -> Result<Class, Violation> {
    if promisc && msg == req {
        return Ok(Class::PromiscCopy);
    }
    if promisc && is_cut_copy(req, msg) {
        // A header-only FLUSH echo looks the same when the request's
        // errno is 0 (a reply then, if it is one); with an errno it would
        // pass for an error reply, which carries the kernel's errno.
        let r = classify_reply(req, msg);
        if req[2] == 0 && r.is_ok() {
            return r;
        }
        return Ok(Class::PromiscAltered);
    }
    classify_reply(req, msg)
}

/// Whether `msg` is a well-formed DUMP/X_SPDDUMP message of anybody's:
/// what a promiscuous socket sees of other sockets' dumps (af_key copies
/// every message of a dump to promiscuous sockets).
pub fn is_dump_message(msg: &[u8]) -> bool {
    let Ok((h, ex)) = check_structure(msg) else {
        return false;
    };
    h.errno == 0 && matches!(h.msg_type, DUMP | X_SPDDUMP) && check_required(msg, &h, &ex).is_ok()
}

/// As [`classify`], but a promiscuous copy must be the request byte for
/// byte (what af_key sends).
pub fn classify_strict(req: &[u8], msg: &[u8], promisc: bool) -> Result<Class, Violation> {
    if promisc && msg == req {
        return Ok(Class::PromiscCopy);
    }
    classify_reply(req, msg)
}

fn classify_reply(req: &[u8], msg: &[u8]) -> Result<Class, Violation> {
    let rh = Hdr::read(req);
    if let Some(rh) = rh.filter(|r| r.msg_type == X_PROMISC) {
        if msg.len() == req.len() && msg.len() >= HDR_LEN {
            let bare = req.len() == HDR_LEN;
            let same_rest = msg[..2] == req[..2] && msg[3..] == req[3..];
            let errno_ok = if bare {
                msg[2] == 0
            } else {
                msg[2] == rh.errno
            };
            if same_rest && errno_ok {
                return Ok(Class::Echo);
            }
        }
    }
    let h = check_base(msg)?;
    if h.errno != 0 {
        if h.len != 2 {
            bad!("error reply (errno {}) of {} words", h.errno, h.len);
        }
        let Some(rh) = rh else {
            bad!("error reply to a request without a header");
        };
        if (h.msg_type, h.satype, h.seq, h.pid, h.reserved)
            != (rh.msg_type, rh.satype, rh.seq, rh.pid, rh.reserved)
        {
            bad!(
                "error reply {:?} does not echo the request {:?}",
                (h.msg_type, h.satype, h.seq, h.pid),
                (rh.msg_type, rh.satype, rh.seq, rh.pid)
            );
        }
        return Ok(Class::ErrorReply(h.errno));
    }
    let (_, ex) = check_structure(msg)?;
    check_required(msg, &h, &ex)?;
    if h.pid == 0 && matches!(h.msg_type, EXPIRE | ACQUIRE | X_SPDEXPIRE) {
        return Ok(Class::Unsolicited);
    }
    let Some(rh) = rh else {
        bad!(
            "type {} message after a request without a header",
            h.msg_type
        );
    };
    let stats_ok = request_has(req, EXT_RXFRM_STATS);
    if ex.has(EXT_RXFRM_STATS) && !(stats_ok && matches!(h.msg_type, GET | DUMP)) {
        bad!(
            "rxfrm counters (0xf0) in a type {} message nobody asked for",
            h.msg_type
        );
    }
    if matches!(h.msg_type, DUMP | X_SPDDUMP) && rh.msg_type == h.msg_type {
        if h.pid != rh.pid {
            bad!("dump message pid {} for a request of pid {}", h.pid, rh.pid);
        }
        if h.msg_type == DUMP && rh.satype != 0 && h.satype != rh.satype {
            bad!("DUMP of SA type {} answered with {}", rh.satype, h.satype);
        }
        return Ok(Class::Dump { seq: h.seq });
    }
    if h.msg_type != reply_type(rh.msg_type) || h.seq != rh.seq || h.pid != rh.pid {
        bad!(
            "message (type {}, seq {}, pid {}) is no reply to the request (type {}, seq {}, pid {})",
            h.msg_type,
            h.seq,
            h.pid,
            rh.msg_type,
            rh.seq,
            rh.pid
        );
    }
    if matches!(
        h.msg_type,
        ADD | UPDATE | DELETE | GET | GETSPI | FLUSH | REGISTER
    ) && h.satype != rh.satype
    {
        bad!(
            "type {} reply of SA type {} to a request of SA type {}",
            h.msg_type,
            h.satype,
            rh.satype
        );
    }
    if matches!(h.msg_type, ADD | UPDATE | DELETE | GET) {
        let got = ex.get(msg, EXT_SA).map(|e| u32_be(e, 4));
        if let (Some(want), Some(got)) = (request_spi(req), got) {
            if want != got {
                bad!("reply for SPI {got:#x} to a request for SPI {want:#x}");
            }
        }
        // The SA is the one asked for: destination (the lookup key), and
        // for ADD the algorithms and the source too. (An UPDATE of a mature
        // SA keeps its algorithms, keys and source, as xfrm_state_update;
        // rxfrm reports the SA as kept, af_key the discarded request.)
        let rex = walk(req).unwrap_or_default();
        let mut same = vec![EXT_ADDRESS_DST];
        if h.msg_type == ADD {
            same.push(EXT_ADDRESS_SRC);
            let (a, b) = (ex.get(msg, EXT_SA), rex.get(req, EXT_SA));
            if let (Some(a), Some(b)) = (a, b.filter(|b| b.len() >= 12)) {
                if a[10..12] != b[10..12] {
                    bad!(
                        "reply names algorithms (auth {}, enc {}), the request ({}, {})",
                        a[10],
                        a[11],
                        b[10],
                        b[11]
                    );
                }
            }
        }
        for t in same {
            if let (Some(a), Some(b)) = (ex.get(msg, t), rex.get(req, t)) {
                if address_bytes(a) != address_bytes(b) {
                    bad!("reply's extension {t} is not the request's address");
                }
            }
        }
    }
    Ok(Class::Reply)
}

/// Whether `msg` is `req` cut after some whole extensions, with
/// `sadb_msg_len` made to fit (and the rest well framed).
pub fn is_cut_copy(req: &[u8], msg: &[u8]) -> bool {
    msg.len() >= HDR_LEN
        && msg.len() < req.len()
        && msg[..4] == req[..4]
        && msg[6..HDR_LEN] == req[6..HDR_LEN]
        && usize::from(u16_ne(msg, 4)) * 8 == msg.len()
        && msg[HDR_LEN..] == req[HDR_LEN..msg.len()]
        && walk(msg).is_ok()
}

/// The sequence numbers of one dump: they never count up, and the dump
/// ends with the message of seq 0.
#[derive(Debug, Default)]
pub struct DumpTrack {
    pub msgs: usize,
    last: Option<u32>,
    pub done: bool,
}

impl DumpTrack {
    /// One more dump message; `Ok(true)` when it was the last.
    pub fn push(&mut self, seq: u32) -> Result<bool, Violation> {
        if self.done {
            bad!("dump message (seq {seq}) after the final seq-0 message");
        }
        if let Some(prev) = self.last {
            if seq > prev {
                bad!("dump seq went up from {prev} to {seq}");
            }
        }
        self.last = Some(seq);
        self.msgs += 1;
        self.done = seq == 0;
        Ok(self.done)
    }
}

/// Fields of a dumped SA or policy, for duplicate and count checks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entry {
    /// (SA type, destination address bytes, SPI).
    Sa(u8, Vec<u8>, u32),
    /// Policy id.
    Policy(u32),
}

/// What a (checked) SA or policy message is about.
pub fn entry_of(msg: &[u8]) -> Option<Entry> {
    let h = Hdr::read(msg)?;
    let ex = walk(msg).ok()?;
    if let Some(p) = ex.get(msg, EXT_POLICY) {
        if is_spd_type(h.msg_type) {
            return Some(Entry::Policy(u32_ne(p, 8)));
        }
    }
    let sa = ex.get(msg, EXT_SA)?;
    let dst = ex.get(msg, EXT_ADDRESS_DST)?;
    let addr = match addr_family(dst) {
        AF_INET => dst[12..16].to_vec(),
        _ => dst[16..32].to_vec(),
    };
    Some(Entry::Sa(h.satype, addr, u32_be(sa, 4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(t: u8, satype: u8, words: u16, seq: u32, pid: u32) -> Vec<u8> {
        let mut b = vec![PF_KEY_V2, t, 0, satype];
        b.extend(words.to_ne_bytes());
        b.extend(0u16.to_ne_bytes());
        b.extend(seq.to_ne_bytes());
        b.extend(pid.to_ne_bytes());
        b
    }

    fn ext(t: u16, body: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        let n = align8(4 + body.len());
        e.extend(((n / 8) as u16).to_ne_bytes());
        e.extend(t.to_ne_bytes());
        e.extend(body);
        e.resize(n, 0);
        e
    }

    fn addr4(t: u16, a: [u8; 4]) -> Vec<u8> {
        let mut body = vec![255, 32, 0, 0];
        body.extend(AF_INET.to_ne_bytes());
        body.extend([0, 0]);
        body.extend(a);
        body.extend([0; 8]);
        ext(t, &body)
    }

    fn sa(spi: u32) -> Vec<u8> {
        let mut body = spi.to_be_bytes().to_vec();
        body.extend([32, 1, 0, 3, 0, 0, 0, 0]);
        ext(EXT_SA, &body)
    }

    fn message(t: u8, satype: u8, seq: u32, pid: u32, exts: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = exts.concat();
        let mut m = hdr(t, satype, ((16 + body.len()) / 8) as u16, seq, pid);
        m.extend(body);
        m
    }

    fn add_req() -> Vec<u8> {
        message(
            ADD,
            SATYPE_ESP,
            7,
            99,
            &[
                sa(0x1234),
                addr4(EXT_ADDRESS_SRC, [10, 0, 0, 1]),
                addr4(EXT_ADDRESS_DST, [10, 0, 0, 2]),
                ext(EXT_KEY_ENCRYPT, &[192, 0, 0, 0, 0, 0, 0, 0]),
            ],
        )
    }

    fn add_reply() -> Vec<u8> {
        message(
            ADD,
            SATYPE_ESP,
            7,
            99,
            &[
                sa(0x1234),
                addr4(EXT_ADDRESS_SRC, [10, 0, 0, 1]),
                addr4(EXT_ADDRESS_DST, [10, 0, 0, 2]),
            ],
        )
    }

    #[test]
    fn good_reply_passes() {
        assert_eq!(classify(&add_req(), &add_reply(), false), Ok(Class::Reply));
        assert_eq!(
            classify(&add_req(), &add_req(), true),
            Ok(Class::PromiscCopy)
        );
    }

    #[test]
    fn each_defect_is_caught() {
        let req = add_req();
        let good = add_reply();
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut m = good.clone();
        m[4] += 1;
        cases.push(("len +1", m));
        let mut m = good.clone();
        m[0] = 1;
        cases.push(("version", m));
        cases.push(("truncated", good[..good.len() - 8].to_vec()));
        let mut m = good.clone();
        m[16] = 0;
        m[17] = 0;
        cases.push(("ext len 0", m));
        let mut m = good.clone();
        m[16] = 40;
        cases.push(("ext past end", m));
        let mut m = good.clone();
        m.extend(sa(0x1234));
        m[4] += 2;
        cases.push(("duplicate SA", m));
        let mut m = good.clone();
        m.extend(ext(77, &[0; 4]));
        m[4] += 1;
        cases.push(("unknown type", m));
        let mut m = good.clone();
        m.extend(ext(EXT_KEY_ENCRYPT, &[192, 0, 0, 0]));
        m[4] += 1;
        cases.push(("key bits lie", m));
        let mut m = good.clone();
        m[8] = 8;
        cases.push(("seq not echoed", m));
        let mut m = good.clone();
        m[12] = 1;
        cases.push(("pid not echoed", m));
        let mut m = good.clone();
        m[16 + 16 + 5] = 33;
        cases.push(("prefix 33", m));
        let mut m = good.clone();
        m[16 + 16 + 8] = 1;
        cases.push(("family 1", m));
        cases.push((
            "no dst",
            message(
                ADD,
                SATYPE_ESP,
                7,
                99,
                &[sa(0x1234), addr4(EXT_ADDRESS_SRC, [10, 0, 0, 1])],
            ),
        ));
        cases.push((
            "keys in an ADD notification",
            message(
                ADD,
                SATYPE_ESP,
                7,
                99,
                &[
                    sa(0x1234),
                    addr4(EXT_ADDRESS_SRC, [10, 0, 0, 1]),
                    addr4(EXT_ADDRESS_DST, [10, 0, 0, 2]),
                    ext(EXT_KEY_ENCRYPT, &[64, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
                ],
            ),
        ));
        let mut m = hdr(ADD, SATYPE_ESP, 3, 7, 99);
        m[2] = 22;
        m.extend([0; 8]);
        cases.push(("error reply with a body", m));
        let mut m = hdr(GET, SATYPE_ESP, 2, 7, 99);
        m[2] = 22;
        cases.push(("error reply of another type", m));
        for (what, m) in cases {
            assert!(
                classify(&req, &m, false).is_err(),
                "{what}: {:?}",
                classify(&req, &m, false)
            );
        }
        let mut err = hdr(ADD, SATYPE_ESP, 2, 7, 99);
        err[2] = 17;
        assert_eq!(classify(&req, &err, false), Ok(Class::ErrorReply(17)));
    }

    #[test]
    fn dumps_count_down_to_zero() {
        let mut d = DumpTrack::default();
        assert_eq!(d.push(2), Ok(false));
        assert_eq!(d.push(1), Ok(false));
        assert!(d.push(2).is_err());
        let mut d = DumpTrack::default();
        assert_eq!(d.push(0), Ok(true));
        assert!(d.push(0).is_err());
    }
}
