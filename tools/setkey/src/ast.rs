//! Parsed setkey statements. Values stay close to what the user wrote
//! (algorithm names, host names); `msg.rs` resolves and encodes them.

use crate::lexer::Pos;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::types::{Action, Dir, IpsecProto, Level, Mode};
use std::fmt;

/// `sadb_sa_flags` bits (KAME `SADB_X_EXT_*`), as ipsec-tools sets them.
pub mod flags {
    pub const OLD: u32 = 0x0001;
    pub const IV4B: u32 = 0x0010;
    pub const DERIV: u32 = 0x0020;
    pub const CYCSEQ: u32 = 0x0040;
    pub const RAWCPI: u32 = 0x0080;
    pub const PRAND: u32 = 0x0100;
    pub const PZERO: u32 = 0x0200;
    pub const PSEQ: u32 = 0x0000;
    /// FreeBSD's `SADB_X_SAFLAGS_ESN` (`-f esn`): extended sequence numbers.
    pub const ESN: u32 = 0x0400;
}

/// `IPSEC_ULPROTO_ANY`.
pub const ULPROTO_ANY: u8 = 255;

/// Policy priorities of `ipsec_set_policy(3)` (libpfkey.h).
pub mod prio {
    pub const LOW: u32 = 0xC000_0000;
    pub const DEFAULT: u32 = 0x8000_0000;
    pub const HIGH: u32 = 0x4000_0000;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// Resolved at execution time, like ipsec-tools' getaddrinfo().
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(a) => a.fmt(f),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// `host[/prefix][[port]]`; `port == None` means any (0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    pub host: Host,
    pub prefix: Option<u8>,
    pub port: Option<u16>,
    pub pos: Pos,
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.host)?;
        if let Some(p) = self.prefix {
            write!(f, "/{p}")?;
        }
        if let Some(p) = self.port {
            write!(f, "[{p}]")?;
        }
        Ok(())
    }
}

/// Address resolution options `-4`, `-6`, `-n` given after the command word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrOpts {
    /// 4 or 6 restricts the family; 0 = either.
    pub family: u8,
    pub numeric_only: bool,
}

/// The protocol word of SA commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaProto {
    Esp,
    EspOld,
    Ah,
    AhOld,
    IpComp,
    /// TCP-MD5 signatures (`SADB_X_SATYPE_TCPSIGNATURE`).
    Tcp,
}

impl SaProto {
    pub fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "esp" => SaProto::Esp,
            "esp-old" => SaProto::EspOld,
            "ah" => SaProto::Ah,
            "ah-old" => SaProto::AhOld,
            "ipcomp" => SaProto::IpComp,
            "tcp" => SaProto::Tcp,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SaProto::Esp => "esp",
            SaProto::EspOld => "esp-old",
            SaProto::Ah => "ah",
            SaProto::AhOld => "ah-old",
            SaProto::IpComp => "ipcomp",
            SaProto::Tcp => "tcp",
        }
    }

    /// PF_KEY SA type (`SADB_SATYPE_*`).
    pub fn satype(self) -> u8 {
        match self {
            SaProto::Esp | SaProto::EspOld => IpsecProto::Esp.satype(),
            SaProto::Ah | SaProto::AhOld => IpsecProto::Ah.satype(),
            SaProto::IpComp => IpsecProto::IpComp.satype(),
            SaProto::Tcp => SATYPE_TCPSIGNATURE,
        }
    }

    pub fn is_old(self) -> bool {
        matches!(self, SaProto::EspOld | SaProto::AhOld)
    }
}

/// `SADB_X_SATYPE_TCPSIGNATURE` (KAME value; Linux has no number for it).
pub const SATYPE_TCPSIGNATURE: u8 = 11;

/// An algorithm as written: name, key bytes (None for key-less ones such as
/// `null`), and where it was written for key-length errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgSpec {
    pub name: String,
    pub key: Option<Vec<u8>>,
    pub pos: Pos,
}

/// The SA options shared by add/get/delete/getspi (`extension_spec`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SaExt {
    /// `-m`; None = any.
    pub mode: Option<Mode>,
    /// `-r` (sadb_sa_replay is 8 bits).
    pub replay: u8,
    /// `-u`.
    pub reqid: u32,
    /// `-f random-pad|seq-pad|zero-pad` bits.
    pub pad: u32,
    /// `-f nocyclic-seq`.
    pub nocyclic_seq: bool,
    /// `-f esn` (FreeBSD's setkey): 64-bit sequence numbers.
    pub esn: bool,
    pub lifetime_hard: u64,
    pub lifetime_soft: u64,
    pub lifebyte_hard: u64,
    pub lifebyte_soft: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Algs {
    /// `-E` (or the compression algorithm of `-C`, which carries no key).
    pub enc: Option<AlgSpec>,
    /// `-A`.
    pub auth: Option<AlgSpec>,
    /// `-C`.
    pub comp: Option<AlgSpec>,
    /// `-R` after `-C`.
    pub raw_cpi: bool,
    /// des-deriv / des-32iv variants set extra flag bits.
    pub extra_flags: u32,
}

/// One SA: add, getspi, get, delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sa {
    pub opts: AddrOpts,
    pub src: Addr,
    pub dst: Addr,
    pub proto: SaProto,
    pub spi: u32,
    pub ext: SaExt,
    pub algs: Algs,
}

impl Sa {
    /// `sadb_sa_flags` as ipsec-tools computes `p_ext`.
    pub fn flags(&self) -> u32 {
        let mut f = if self.ext.nocyclic_seq {
            0
        } else {
            flags::CYCSEQ
        };
        f |= self.ext.pad | self.algs.extra_flags;
        if self.proto.is_old() {
            f |= flags::OLD;
        }
        if self.algs.raw_cpi {
            f |= flags::RAWCPI;
        }
        if self.ext.esn {
            f |= flags::ESN;
        }
        f
    }
}

/// A tunnel end point: address and port (0 = any).
pub type Endpoint = (IpAddr, u16);

/// One IPsec request of a policy: `proto/mode/src-dst/level[:id]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub proto: IpsecProto,
    pub mode: Mode,
    /// Tunnel end points (address, port); None for transport or `me-any`.
    pub endpoints: Option<(Endpoint, Endpoint)>,
    pub level: Level,
    pub reqid: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub dir: Dir,
    pub priority: u32,
    pub action: Action,
    pub requests: Vec<Request>,
}

/// spdadd / spdupdate / spddelete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spd {
    pub opts: AddrOpts,
    pub src: Addr,
    pub dst: Addr,
    /// Upper-layer protocol; `ULPROTO_ANY` for any.
    pub upper: u8,
    pub policy: Policy,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Add(Sa),
    GetSpi(Sa),
    Get(Sa),
    Delete(Sa),
    DeleteAll {
        opts: AddrOpts,
        src: Addr,
        dst: Addr,
        proto: Option<SaProto>,
    },
    Flush(Option<SaProto>),
    Dump(Option<SaProto>),
    SpdAdd(Spd),
    SpdUpdate(Spd),
    SpdDelete(Spd),
    SpdFlush,
    SpdDump,
    Exit,
}

/// A command plus where it started in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub cmd: Command,
    pub pos: Pos,
}

fn opt_proto(p: &Option<SaProto>) -> String {
    p.map(|p| format!(" {}", p.name())).unwrap_or_default()
}

/// A short, key-free rendering used in error reports, e.g.
/// `add 10.1.1.1 20.1.1.1 esp 9876`.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Add(sa) | Command::GetSpi(sa) | Command::Get(sa) | Command::Delete(sa) => {
                let verb = match self {
                    Command::Add(_) => "add",
                    Command::GetSpi(_) => "getspi",
                    Command::Get(_) => "get",
                    _ => "delete",
                };
                write!(
                    f,
                    "{verb} {} {} {} {}",
                    sa.src,
                    sa.dst,
                    sa.proto.name(),
                    sa.spi
                )
            }
            Command::DeleteAll {
                src, dst, proto, ..
            } => {
                write!(f, "deleteall {src} {dst}{}", opt_proto(proto))
            }
            Command::Flush(p) => write!(f, "flush{}", opt_proto(p)),
            Command::Dump(p) => write!(f, "dump{}", opt_proto(p)),
            Command::SpdAdd(s) | Command::SpdUpdate(s) | Command::SpdDelete(s) => {
                let verb = match self {
                    Command::SpdAdd(_) => "spdadd",
                    Command::SpdUpdate(_) => "spdupdate",
                    _ => "spddelete",
                };
                let dir = match s.policy.dir {
                    Dir::Inbound => "in",
                    Dir::Outbound => "out",
                    Dir::Forward => "fwd",
                };
                let upper = crate::names::upper_name(s.upper);
                write!(f, "{verb} {} {} {upper} -P {dir}", s.src, s.dst)
            }
            Command::SpdFlush => f.write_str("spdflush"),
            Command::SpdDump => f.write_str("spddump"),
            Command::Exit => f.write_str("exit"),
        }
    }
}
