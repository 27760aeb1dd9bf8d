//! AST → PF_KEY messages, through `rxfrm_logic::pfkey`'s writer only. The
//! extension order and contents follow ipsec-tools' setkeymsg_*().

use crate::ast::*;
use crate::lexer::Pos;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::algs::{self, AlgKind, KeyBits};
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::Errno;
use rxfrm_logic::pfkey::{
    build_vec, AddressRepr, IpsecRequestRepr, KeyRepr, LifetimeRepr, MsgHeader, MsgWriter,
    PolicyRepr, Sa2Repr, SaRepr, SpiRangeRepr,
};
use rxfrm_logic::types::{Dir, Level};
use std::fmt;

/// A statement that cannot become a message; `pos` when it points at
/// something the user wrote (a key, an address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    pub pos: Option<Pos>,
    pub msg: String,
}

impl BuildError {
    fn at(pos: Pos, msg: impl Into<String>) -> Self {
        BuildError {
            pos: Some(pos),
            msg: msg.into(),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}: {}", p.line, p.col, self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

type BResult<T> = Result<T, BuildError>;

/// Host name lookup (getaddrinfo in real use, a table in tests).
pub type Resolver<'a> = &'a dyn Fn(&str, AddrOpts) -> Result<Vec<IpAddr>, String>;

pub struct MsgCtx<'a> {
    pub pid: u32,
    /// `-r`: also install a `fwd` twin of every inbound policy (what
    /// ipsec-tools' RFC mode does on Linux).
    pub rfc: bool,
    pub resolve: Resolver<'a>,
}

fn codec(e: Errno) -> BuildError {
    BuildError {
        pos: None,
        msg: format!("cannot encode message: {e}"),
    }
}

fn header(msg_type: u8, satype: u8, pid: u32) -> MsgHeader {
    MsgHeader {
        msg_type,
        errno: 0,
        satype,
        reserved: 0,
        seq: 0,
        pid,
    }
}

/// A header-only message (flush, dump, spdflush, spddump, promisc).
pub fn short(msg_type: u8, satype: u8, pid: u32) -> Vec<u8> {
    build_vec(|w| w.header(&header(msg_type, satype, pid)))
        .map(|v| v.to_vec())
        .expect("a bare header always encodes")
}

/// `setkey -D`'s DUMP: also asks rxfrm for each SA's error counters (an
/// extension Linux af_key skips).
pub fn dump_with_stats(satype: u8, pid: u32) -> Vec<u8> {
    build_vec(|w| {
        w.header(&header(SADB_DUMP, satype, pid))?;
        w.rxfrm_stats(None)
    })
    .map(|v| v.to_vec())
    .expect("a header and an empty extension always encode")
}

fn expected(d: &algs::AlgDesc) -> String {
    match d.keys {
        KeyBits::List(l) => {
            let v: Vec<String> = l.iter().map(u16::to_string).collect();
            match v.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => v.join(""),
            }
        }
        KeyBits::Range { min, max, .. } => {
            format!("{}..{}", min.max(d.sadb_min_bits), max.min(d.sadb_max_bits))
        }
        KeyBits::Any if d.sadb_min_bits == d.sadb_max_bits => d.sadb_min_bits.to_string(),
        KeyBits::Any => format!("{}..{}", d.sadb_min_bits, d.sadb_max_bits),
        KeyBits::None => "no key".into(),
    }
}

/// Name → SADB id, with ipsec-tools' key length check (ipsec_check_keylen)
/// done before anything is sent. Algorithms no Linux kernel implements
/// (`keyed-md5`, `rc5-cbc`, `tcp-md5`, `oui`…) are sent all the same, with
/// the key lengths setkey(8) gives them: the kernel refuses them with an
/// errno, which setkey reports.
pub fn check_alg(kind: AlgKind, spec: &AlgSpec) -> BResult<u8> {
    let bits = spec.key.as_ref().map_or(0, |k| k.len() * 8);
    let what = match kind {
        AlgKind::Auth => "authentication",
        AlgKind::Encrypt => "encryption",
        AlgKind::Compress => "compression",
    };
    let d = algs::by_name(kind, &spec.name).ok_or_else(|| {
        BuildError::at(
            spec.pos,
            format!("unknown {what} algorithm \"{}\"", spec.name),
        )
    })?;
    if kind != AlgKind::Compress {
        let ok = u16::try_from(bits).is_ok_and(|b| d.in_advertised_range(b) && d.key_bits_ok(b));
        if !ok {
            return Err(BuildError::at(
                spec.pos,
                format!(
                    "invalid key length {bits} bits for {} (needs {})",
                    spec.name,
                    expected(d)
                ),
            ));
        }
    }
    Ok(d.id)
}

/// Resolves both ends, keeping same-family pairs (ipsec-tools loops over
/// all getaddrinfo() pairs for add; other commands want exactly one).
fn pairs(
    ctx: &MsgCtx<'_>,
    src: &Addr,
    dst: &Addr,
    many_ok: bool,
) -> BResult<Vec<(IpAddr, IpAddr)>> {
    let res = |a: &Addr| -> BResult<Vec<IpAddr>> {
        let mut v = match &a.host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(n) => {
                (ctx.resolve)(n, AddrOpts::default()).map_err(|e| BuildError::at(a.pos, e))?
            }
        };
        v.dedup();
        if let Some(p) = a.prefix {
            if v.iter().any(|ip| p > ip.max_prefix()) {
                return Err(BuildError::at(a.pos, format!("invalid prefix length {p}")));
            }
        }
        Ok(v)
    };
    let (s, d) = (res(src)?, res(dst)?);
    if !many_ok && (s.len() > 1 || d.len() > 1) {
        let at = if s.len() > 1 { src.pos } else { dst.pos };
        return Err(BuildError::at(at, "multiple address specified"));
    }
    let out: Vec<_> = s
        .iter()
        .flat_map(|a| {
            d.iter()
                .filter(|b| b.family() == a.family())
                .map(move |b| (*a, *b))
        })
        .collect();
    if out.is_empty() {
        return Err(BuildError::at(dst.pos, "address family mismatch"));
    }
    Ok(out)
}

fn sa_addr(ip: IpAddr, port: Option<u16>) -> AddressRepr {
    AddressRepr {
        proto: IPSEC_ULPROTO_ANY,
        prefixlen: ip.max_prefix(),
        addr: ip,
        port: port.unwrap_or(0),
    }
}

/// Checked algorithm ids and keys of an add.
struct AlgIds {
    auth: u8,
    enc: u8,
}

fn alg_ids(sa: &Sa) -> BResult<AlgIds> {
    let mut ids = AlgIds {
        auth: SADB_AALG_NONE,
        enc: SADB_EALG_NONE,
    };
    if let Some(e) = &sa.algs.enc {
        ids.enc = check_alg(AlgKind::Encrypt, e)?;
    }
    if let Some(c) = &sa.algs.comp {
        ids.enc = check_alg(AlgKind::Compress, c)?;
    }
    if let Some(a) = &sa.algs.auth {
        ids.auth = check_alg(AlgKind::Auth, a)?;
    }
    Ok(ids)
}

/// add / getspi (setkeymsg_add) and get / delete (setkeymsg_addr).
fn sa_msgs(msg_type: u8, sa: &Sa, ctx: &MsgCtx<'_>) -> BResult<Vec<Vec<u8>>> {
    let is_add = matches!(msg_type, SADB_ADD | SADB_GETSPI);
    let ids = if is_add {
        alg_ids(sa)?
    } else {
        AlgIds {
            auth: SADB_AALG_NONE,
            enc: SADB_EALG_NONE,
        }
    };
    let sa_repr = SaRepr {
        spi: sa.spi,
        replay: sa.ext.replay,
        state: 0,
        auth: ids.auth,
        encrypt: ids.enc,
        flags: sa.flags(),
    };
    let sa2 = Sa2Repr {
        mode: sa.ext.mode.map_or(IPSEC_MODE_ANY, |m| m as u8),
        sequence: 0,
        reqid: sa.ext.reqid,
    };
    let mut out = vec![];
    for (s, d) in pairs(ctx, &sa.src, &sa.dst, msg_type == SADB_ADD)? {
        let m = build_vec(|w: &mut MsgWriter<'_>| {
            w.header(&header(msg_type, sa.proto.satype(), ctx.pid))?;
            if is_add {
                add_body(w, sa, msg_type)?;
            }
            w.sa(&sa_repr)?;
            w.sa2(&sa2)?;
            w.address(SADB_EXT_ADDRESS_SRC, &sa_addr(s, sa.src.port))?;
            w.address(SADB_EXT_ADDRESS_DST, &sa_addr(d, sa.dst.port))?;
            if msg_type == SADB_GET {
                // rxfrm's error counters for the dump (af_key ignores it).
                w.rxfrm_stats(None)?;
            }
            Ok(())
        })
        .map_err(codec)?;
        out.push(m.to_vec());
    }
    Ok(out)
}

/// Keys, lifetimes and SPI range: what add/getspi put before the SA.
fn add_body(w: &mut MsgWriter<'_>, sa: &Sa, msg_type: u8) -> Result<(), Errno> {
    if let Some(AlgSpec { key, .. }) = &sa.algs.enc {
        // `-E null` still sends an empty key extension, as ipsec-tools does.
        let key = key.as_deref().unwrap_or_default();
        w.key(
            SADB_EXT_KEY_ENCRYPT,
            &KeyRepr {
                bits: (key.len() * 8) as u16,
                key,
            },
        )?;
    }
    if let Some(AlgSpec { key: Some(key), .. }) = &sa.algs.auth {
        w.key(
            SADB_EXT_KEY_AUTH,
            &KeyRepr {
                bits: (key.len() * 8) as u16,
                key,
            },
        )?;
    }
    let e = &sa.ext;
    if e.lifetime_hard != 0 || e.lifebyte_hard != 0 {
        let l = LifetimeRepr {
            allocations: 0,
            bytes: e.lifebyte_hard,
            addtime: e.lifetime_hard,
            usetime: 0,
        };
        w.lifetime(SADB_EXT_LIFETIME_HARD, &l)?;
    }
    if e.lifetime_soft != 0 || e.lifebyte_soft != 0 {
        let l = LifetimeRepr {
            allocations: 0,
            bytes: e.lifebyte_soft,
            addtime: e.lifetime_soft,
            usetime: 0,
        };
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &l)?;
    }
    // An SPI of 0 lets the kernel pick one.
    if msg_type == SADB_GETSPI && sa.spi != 0 {
        w.spirange(&SpiRangeRepr {
            min: sa.spi,
            max: sa.spi,
        })?;
    }
    Ok(())
}

/// The delete for one SPI found by `deleteall` (Linux wants an SPI).
pub fn delete_one(satype: u8, spi: u32, src: IpAddr, dst: IpAddr, pid: u32) -> Vec<u8> {
    build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&header(SADB_DELETE, satype, pid))?;
        w.sa(&SaRepr {
            spi,
            replay: 0,
            state: 0,
            auth: 0,
            encrypt: 0,
            flags: 0,
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &sa_addr(src, None))?;
        w.address(SADB_EXT_ADDRESS_DST, &sa_addr(dst, None))
    })
    .map(|v| v.to_vec())
    .expect("delete message encodes")
}

fn requests(p: &Policy) -> Vec<IpsecRequestRepr> {
    p.requests
        .iter()
        .map(|r| IpsecRequestRepr {
            proto: r.proto as u16,
            mode: r.mode as u8,
            level: r.level as u8,
            reqid: r.reqid,
            addrs: r.endpoints.map(|((a, _), (b, _))| (a, b)),
            ports: r.endpoints.map_or((0, 0), |((_, p), (_, q))| (p, q)),
        })
        .collect()
}

/// spdadd / spdupdate / spddelete (setkeymsg_spdaddr).
fn spd_msgs(msg_type: u8, s: &Spd, ctx: &MsgCtx<'_>) -> BResult<Vec<Vec<u8>>> {
    let (src, dst) = pairs(ctx, &s.src, &s.dst, false)?[0];
    let mut reqs = requests(&s.policy);
    let mut dirs = vec![s.policy.dir];
    if ctx.rfc && s.policy.dir == Dir::Inbound {
        dirs.push(Dir::Forward);
    }
    let mut out = vec![];
    for dir in dirs {
        if dir == Dir::Forward && s.policy.dir == Dir::Inbound {
            // ipsec-tools: the fwd twin of a unique request is require.
            if let Some(r) = reqs.first_mut().filter(|r| r.level == Level::Unique as u8) {
                r.level = Level::Require as u8;
                r.reqid = 0;
            }
        }
        let pol = PolicyRepr {
            policy_type: s.policy.action as u16,
            dir: dir as u8,
            id: 0,
            priority: s.policy.priority,
            requests: &reqs,
        };
        let addr = |a: &Addr, ip: IpAddr| AddressRepr {
            proto: s.upper,
            prefixlen: a.prefix.unwrap_or(ip.max_prefix()),
            addr: ip,
            port: a.port.unwrap_or(0),
        };
        let m = build_vec(|w: &mut MsgWriter<'_>| {
            w.header(&header(msg_type, SADB_SATYPE_UNSPEC, ctx.pid))?;
            w.policy(&pol)?;
            w.address(SADB_EXT_ADDRESS_SRC, &addr(&s.src, src))?;
            w.address(SADB_EXT_ADDRESS_DST, &addr(&s.dst, dst))
        })
        .map_err(codec)?;
        out.push(m.to_vec());
    }
    Ok(out)
}

fn satype(p: &Option<SaProto>) -> u8 {
    p.map_or(SADB_SATYPE_UNSPEC, SaProto::satype)
}

/// The messages one statement sends, in order. `deleteall` and `exit`
/// send none here (deleteall needs a dump first; see exec.rs).
pub fn build(cmd: &Command, ctx: &MsgCtx<'_>) -> BResult<Vec<Vec<u8>>> {
    Ok(match cmd {
        Command::Add(sa) => sa_msgs(SADB_ADD, sa, ctx)?,
        Command::GetSpi(sa) => sa_msgs(SADB_GETSPI, sa, ctx)?,
        Command::Get(sa) => sa_msgs(SADB_GET, sa, ctx)?,
        Command::Delete(sa) => sa_msgs(SADB_DELETE, sa, ctx)?,
        Command::Flush(p) => vec![short(SADB_FLUSH, satype(p), ctx.pid)],
        Command::Dump(p) => vec![short(SADB_DUMP, satype(p), ctx.pid)],
        Command::SpdAdd(s) => spd_msgs(SADB_X_SPDADD, s, ctx)?,
        Command::SpdUpdate(s) => spd_msgs(SADB_X_SPDUPDATE, s, ctx)?,
        Command::SpdDelete(s) => spd_msgs(SADB_X_SPDDELETE, s, ctx)?,
        Command::SpdFlush => vec![short(SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, ctx.pid)],
        Command::SpdDump => vec![short(SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, ctx.pid)],
        Command::DeleteAll { .. } | Command::Exit => vec![],
    })
}

/// deleteall's end points, resolved.
pub fn deleteall_pair(src: &Addr, dst: &Addr, ctx: &MsgCtx<'_>) -> BResult<(IpAddr, IpAddr)> {
    Ok(pairs(ctx, src, dst, false)?[0])
}
