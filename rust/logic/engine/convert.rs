//! PF_KEY extensions to and from SAD/SPD values, as af_key's
//! `pfkey_msg2xfrm_state`, `__pfkey_xfrm_state2msg`, `pfkey_spdadd` and
//! `pfkey_xfrm_policy2msg` do it.

use super::AlgProbe;
use crate::logic::addr::{IpAddr, AF_INET};
use crate::logic::algs::{self, AlgDesc, AlgKind};
use crate::logic::lifetime::{Lifetime, LifetimeCurrent};
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::ext::{SadbExt, SadbMsg};
use crate::logic::pfkey::{
    AddressRepr, Errno, IpsecRequestRepr, KeyRepr, LifetimeRepr, MsgHeader, MsgWriter, Parsed,
    PolicyRepr, Sa2Repr, SaRepr, SaStatsRepr,
};
use crate::logic::sad::{NatT, Sa, SaIdent, SadError, SecretKey};
use crate::logic::selector::{Selector, PROTO_ANY};
use crate::logic::spd::{Policy, Spd, SpdError, Template, MAX_TEMPLATES};
use crate::logic::types::{Action, Dir, IpsecProto, Level, Mode};

/// The errno af_key answers each SAD failure with.
pub(super) fn sad_errno(e: SadError) -> Errno {
    match e {
        SadError::Invalid => Errno::EINVAL,
        SadError::Exists => Errno::EEXIST,
        SadError::NotFound => Errno::ESRCH,
        SadError::NoSpi => Errno::ENOENT,
        SadError::NoMem => Errno::ENOMEM,
    }
}

/// The errno af_key answers each SPD failure with.
pub(super) fn spd_errno(e: SpdError) -> Errno {
    match e {
        SpdError::Invalid => Errno::EINVAL,
        SpdError::Exists => Errno::EEXIST,
        SpdError::NotFound => Errno::ENOENT,
        SpdError::TooManyTemplates => Errno::ELOOP,
        SpdError::NoMem => Errno::ENOMEM,
    }
}

/// The protocol of an SA type (AH, ESP, IPComp).
pub(super) fn proto_of(satype: u8) -> Result<IpsecProto, Errno> {
    IpsecProto::from_satype(satype).ok_or(Errno::EINVAL)
}

/// `pfkey_mode_to_xfrm`: "any" is transport. rxfrm has no BEET mode.
pub(super) fn mode_of(mode: u8) -> Result<Mode, Errno> {
    match mode {
        IPSEC_MODE_ANY | IPSEC_MODE_TRANSPORT => Ok(Mode::Transport),
        IPSEC_MODE_TUNNEL => Ok(Mode::Tunnel),
        _ => Err(Errno::EINVAL),
    }
}

/// Mode and reqid from `SADB_X_EXT_SA2` (transport, 0 without it).
pub(super) fn mode_reqid(p: &Parsed<'_>) -> Result<(Mode, u32), Errno> {
    match p.sa2() {
        Some(s) => Ok((mode_of(s.mode)?, s.reqid)),
        None => Ok((Mode::Transport, 0)),
    }
}

/// Source and destination address extensions.
pub(super) fn addresses(p: &Parsed<'_>) -> Result<(AddressRepr, AddressRepr), Errno> {
    match (p.address_src(), p.address_dst()) {
        (Some(s), Some(d)) => Ok((s, d)),
        _ => Err(Errno::EINVAL),
    }
}

/// The unspecified address of `a`'s family.
fn unspec_like(a: &IpAddr) -> IpAddr {
    if a.family() == AF_INET {
        IpAddr::UNSPEC_V4
    } else {
        IpAddr::UNSPEC_V6
    }
}

/// `sadb_address_proto` as a selector protocol: 0 and 255 both mean any
/// (`pfkey_proto_to_xfrm`).
fn ulproto_in(proto: u8) -> u8 {
    if proto == 0 {
        PROTO_ANY
    } else {
        proto
    }
}

fn lifetime_in(r: Option<LifetimeRepr>) -> Lifetime {
    r.map_or(Lifetime::default(), |r| Lifetime {
        allocations: u64::from(r.allocations),
        bytes: r.bytes,
        addtime: r.addtime,
        usetime: r.usetime,
    })
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn lifetime_out(l: &Lifetime) -> LifetimeRepr {
    LifetimeRepr {
        allocations: clamp32(l.allocations),
        bytes: l.bytes,
        addtime: l.addtime,
        usetime: l.usetime,
    }
}

fn current_out(c: &LifetimeCurrent) -> LifetimeRepr {
    LifetimeRepr {
        allocations: clamp32(c.allocations),
        bytes: c.bytes,
        addtime: c.addtime,
        usetime: c.usetime,
    }
}

/// The flags Linux keeps of `sadb_sa_flags` (and reports back), and
/// FreeBSD's ESN flag.
const SA_FLAGS_KEPT: u32 =
    SADB_SAFLAGS_NOECN | SADB_SAFLAGS_DECAP_DSCP | SADB_SAFLAGS_NOPMTUDISC | SADB_X_SAFLAGS_ESN;

/// An algorithm the kernel can run: unknown or unavailable ones are
/// `ENOSYS`, as `xfrm_*_get_byid` failing its probe is in af_key.
fn usable(kind: AlgKind, id: u8, probe: &dyn AlgProbe) -> Result<&'static AlgDesc, Errno> {
    match algs::by_id(kind, id) {
        Some(a) if a.implemented() && probe.available(a) => Ok(a),
        _ => Err(Errno::ENOSYS),
    }
}

/// `pfkey_msg2xfrm_state` for an ADD/UPDATE that `check_required` passed.
pub(super) fn sa_from_msg(p: &Parsed<'_>, probe: &dyn AlgProbe) -> Result<Sa, Errno> {
    let sa = p.sa().ok_or(Errno::EINVAL)?;
    let (src, dst) = addresses(p)?;
    let proto = proto_of(p.satype())?;
    let (mode, reqid) = mode_reqid(p)?;
    let ident = SaIdent {
        spi: sa.spi,
        proto,
        mode,
        reqid,
        src: src.addr,
        dst: dst.addr,
    };
    let mut out = Sa::new(ident).with_seq(p.seq());
    // Linux clamps to its 32-bit bitmap; rxfrm's window takes all 255.
    out.replay_window = u32::from(sa.replay);
    out.flags = sa.flags & SA_FLAGS_KEPT;
    out.esn = sa.flags & SADB_X_SAFLAGS_ESN != 0;
    if out.esn && proto == IpsecProto::IpComp {
        // IPcomp has no sequence numbers (Linux: XFRM_STATE_ESN is EINVAL).
        return Err(Errno::EINVAL);
    }
    out.lifetime_hard = lifetime_in(p.lifetime_hard());
    out.lifetime_soft = lifetime_in(p.lifetime_soft());
    if sa.auth != 0 {
        out.auth_alg = usable(AlgKind::Auth, sa.auth, probe)?.id;
        if let Some(k) = p.key_auth() {
            out.auth_key = SecretKey::with_bits(k.key, k.bits)?;
        }
    }
    if sa.encrypt != 0 && proto == IpsecProto::IpComp {
        // KAME overloads sadb_sa_encrypt with the compression algorithm.
        out.comp_alg = usable(AlgKind::Compress, sa.encrypt, probe)?.id;
    } else if sa.encrypt != 0 {
        out.enc_alg = usable(AlgKind::Encrypt, sa.encrypt, probe)?.id;
        if let Some(k) = p.key_encrypt() {
            out.enc_key = SecretKey::with_bits(k.key, k.bits)?;
        }
    }
    if let Some(t) = p.nat_t_type() {
        out.natt = Some(NatT {
            encap_type: u16::from(t),
            sport: p.nat_t_sport().unwrap_or(0),
            dport: p.nat_t_dport().unwrap_or(0),
            oa: p.nat_t_oa().map(|a| a.addr),
        });
    }
    // Only the proxy address narrows an SA's traffic, as on Linux (the
    // SA addresses' prefixes and protocol are ignored).
    if let Some(px) = p.address_proxy() {
        out.selector = Some(Selector {
            src: px.addr,
            src_plen: px.prefixlen,
            dst: unspec_like(&px.addr),
            dst_plen: 0,
            proto: ulproto_in(px.proto),
            sport: px.port,
            dport: 0,
        });
    }
    Ok(out)
}

/// What of an SA a message carries beyond SA, current lifetime,
/// addresses and SA2.
#[derive(Clone, Copy, Debug)]
pub(super) struct SaParts {
    /// Key extensions (only to the requester: GET, DUMP, GETSPI).
    pub(super) keys: bool,
    /// Hard lifetime.
    pub(super) hard: bool,
    /// Soft lifetime.
    pub(super) soft: bool,
    /// Report the SA as dead (a hard EXPIRE: it is being removed).
    pub(super) dead: bool,
    /// rxfrm's error counters (a GET/DUMP that asked for them).
    pub(super) stats: bool,
}

impl SaParts {
    /// Everything (GET, DUMP, GETSPI).
    pub(super) const FULL: SaParts = SaParts {
        keys: true,
        hard: true,
        soft: true,
        dead: false,
        stats: false,
    };
    /// Broadcasts: no key material (RFC 2367 §3.1.3/3.1.4).
    pub(super) const NO_KEYS: SaParts = SaParts {
        keys: false,
        hard: true,
        soft: true,
        dead: false,
        stats: false,
    };
}

fn host_address(addr: IpAddr) -> AddressRepr {
    AddressRepr {
        proto: 0,
        prefixlen: addr.max_prefix(),
        addr,
        port: 0,
    }
}

/// `__pfkey_xfrm_state2msg`: header, SA, lifetimes (hard, soft, current),
/// addresses, keys, SA2, NAT-T.
pub(super) fn write_sa(
    w: &mut MsgWriter<'_>,
    hdr: &MsgHeader,
    sa: &Sa,
    parts: SaParts,
) -> Result<(), Errno> {
    w.header(hdr)?;
    let id = sa.ident();
    let encrypt = if id.proto == IpsecProto::IpComp {
        sa.comp_alg
    } else {
        sa.enc_alg
    };
    w.sa(&SaRepr {
        spi: id.spi,
        replay: u8::try_from(sa.replay_window).unwrap_or(u8::MAX),
        state: if parts.dead {
            SADB_SASTATE_DEAD
        } else {
            sa.state() as u8
        },
        auth: sa.auth_alg,
        encrypt,
        flags: sa.flags,
    })?;
    if parts.hard {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime_out(&sa.lifetime_hard))?;
    }
    if parts.soft {
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime_out(&sa.lifetime_soft))?;
    }
    w.lifetime(SADB_EXT_LIFETIME_CURRENT, &current_out(&sa.current))?;
    w.address(SADB_EXT_ADDRESS_SRC, &host_address(id.src))?;
    w.address(SADB_EXT_ADDRESS_DST, &host_address(id.dst))?;
    if let Some(sel) = &sa.selector {
        w.address(
            SADB_EXT_ADDRESS_PROXY,
            &AddressRepr {
                proto: sel.proto,
                prefixlen: sel.src_plen,
                addr: sel.src,
                port: sel.sport,
            },
        )?;
    }
    if parts.keys {
        for (alg, key, t) in [
            (sa.auth_alg, &sa.auth_key, SADB_EXT_KEY_AUTH),
            (sa.enc_alg, &sa.enc_key, SADB_EXT_KEY_ENCRYPT),
        ] {
            if alg != 0 && key.bits() != 0 {
                let k = KeyRepr {
                    bits: key.bits(),
                    key: key.as_bytes(),
                };
                w.key(t, &k)?;
            }
        }
    }
    w.sa2(&Sa2Repr {
        mode: id.mode as u8,
        sequence: 0,
        reqid: id.reqid,
    })?;
    if let Some(n) = &sa.natt {
        w.nat_t_type(u8::try_from(n.encap_type).unwrap_or(u8::MAX))?;
        w.nat_t_port(SADB_X_EXT_NAT_T_SPORT, n.sport)?;
        w.nat_t_port(SADB_X_EXT_NAT_T_DPORT, n.dport)?;
        if let Some(oa) = n.oa {
            w.address(SADB_X_EXT_NAT_T_OA, &host_address(oa))?;
        }
    }
    if parts.stats {
        w.rxfrm_stats(Some(&SaStatsRepr {
            replay: sa.stats.replay_fails,
            integrity_failed: sa.stats.integrity_fails,
        }))?;
    }
    Ok(())
}

/// The selector of an SPD message's address extensions (`pfkey_spdadd`:
/// the protocol is taken from the destination, ports from each side).
pub(super) fn selector_from(p: &Parsed<'_>) -> Result<Selector, Errno> {
    let (s, d) = addresses(p)?;
    Ok(Selector {
        src: s.addr,
        src_plen: s.prefixlen,
        dst: d.addr,
        dst_plen: d.prefixlen,
        proto: ulproto_in(d.proto),
        sport: s.port,
        dport: d.port,
    })
}

/// A policy direction.
pub(super) fn dir_of(dir: u8) -> Result<Dir, Errno> {
    Dir::from_u8(dir).ok_or(Errno::EINVAL)
}

/// `pfkey_spdadd` + `parse_ipsecrequest`: the policy of an SPDADD-like
/// message; `gen_reqid` gives `unique` templates without a manual reqid
/// one (`None`: all taken, `ENOBUFS`).
pub(super) fn policy_from_msg(
    p: &Parsed<'_>,
    gen_reqid: &mut dyn FnMut() -> Option<u32>,
) -> Result<Policy, Errno> {
    let x = p.policy().ok_or(Errno::EINVAL)?;
    let dir = dir_of(x.dir)?;
    let sel = selector_from(p)?;
    let action = match x.policy_type {
        IPSEC_POLICY_DISCARD => Action::Discard,
        IPSEC_POLICY_IPSEC => Action::Ipsec,
        _ => Action::None,
    };
    let mut pol = Policy::new(dir, sel, action);
    pol.priority = x.priority;
    pol.lifetime_hard = lifetime_in(p.lifetime_hard());
    pol.lifetime_soft = lifetime_in(p.lifetime_soft());
    if action == Action::Ipsec {
        for rq in x.requests() {
            if pol.templates.len() >= MAX_TEMPLATES {
                return Err(Errno::ELOOP);
            }
            let t = template_from(&rq, &sel, gen_reqid)?;
            pol.templates.push(t)?;
        }
        // Linux reports an IPsec policy without templates as "none".
        if pol.templates.is_empty() {
            pol.action = Action::None;
        }
    }
    Ok(pol)
}

fn template_from(
    rq: &IpsecRequestRepr,
    sel: &Selector,
    gen_reqid: &mut dyn FnMut() -> Option<u32>,
) -> Result<Template, Errno> {
    // af_key stores the u16 into a u8; MIPv6's routing/dstopts templates
    // have no transform in rxfrm.
    let proto = IpsecProto::from_u8(rq.proto as u8).ok_or(Errno::EINVAL)?;
    let mode = match rq.mode {
        IPSEC_MODE_TRANSPORT => Mode::Transport,
        IPSEC_MODE_TUNNEL => Mode::Tunnel,
        _ => return Err(Errno::EINVAL),
    };
    // Anything but use/unique is "require", as af_key reports it back.
    let level = match rq.level {
        IPSEC_LEVEL_USE => Level::Use,
        IPSEC_LEVEL_UNIQUE => Level::Unique,
        _ => Level::Require,
    };
    let reqid = match level {
        Level::Unique if rq.reqid != 0 && rq.reqid <= IPSEC_MANUAL_REQID_MAX => rq.reqid,
        Level::Unique => gen_reqid().ok_or(Errno::ENOBUFS)?,
        _ => 0,
    };
    // `rq.ports` are dropped: a `Template` has no ports, and af_key
    // (`parse_ipsecrequest`) ignores the sockaddrs' ports too.
    let (src, dst) = match (mode, rq.addrs) {
        (Mode::Tunnel, Some(a)) => a,
        (Mode::Tunnel, None) => return Err(Errno::EINVAL),
        _ => (unspec_like(&sel.src), unspec_like(&sel.src)),
    };
    Ok(Template {
        proto,
        mode,
        src,
        dst,
        level,
        reqid,
    })
}

/// af_key's `gen_reqid`: the next reqid above the manual range that no
/// policy's template uses.
pub(super) fn gen_reqid(spd: &Spd, next: &mut u32) -> Option<u32> {
    // Each policy blocks at most MAX_TEMPLATES values: this many tries
    // meet a free one.
    let tries = spd.len().saturating_mul(MAX_TEMPLATES).saturating_add(2);
    for _ in 0..tries {
        *next = next.wrapping_add(1);
        if *next <= IPSEC_MANUAL_REQID_MAX {
            *next = IPSEC_MANUAL_REQID_MAX + 1;
        }
        let mut c = spd.dump_cursor();
        let mut used = false;
        while let Some(pol) = spd.dump_next(&mut c) {
            if pol.templates.iter().any(|t| t.reqid == *next) {
                used = true;
                break;
            }
        }
        if !used {
            return Some(*next);
        }
    }
    None
}

/// What lifetimes a policy message carries besides the current one.
#[derive(Clone, Copy, Debug)]
pub(super) struct PolParts {
    /// Hard lifetime.
    pub(super) hard: bool,
    /// Soft lifetime.
    pub(super) soft: bool,
}

impl PolParts {
    /// Both (every message but X_SPDEXPIRE).
    pub(super) const ALL: PolParts = PolParts {
        hard: true,
        soft: true,
    };
}

/// `pfkey_xfrm_policy2msg`: header, addresses with prefixes, protocol and
/// ports, lifetimes, then X_POLICY with id, priority and templates.
pub(super) fn write_policy(
    w: &mut MsgWriter<'_>,
    hdr: &MsgHeader,
    pol: &Policy,
    parts: PolParts,
) -> Result<(), Errno> {
    w.header(hdr)?;
    let sel = &pol.selector;
    w.address(
        SADB_EXT_ADDRESS_SRC,
        &AddressRepr {
            proto: sel.proto,
            prefixlen: sel.src_plen,
            addr: sel.src,
            port: sel.sport,
        },
    )?;
    w.address(
        SADB_EXT_ADDRESS_DST,
        &AddressRepr {
            proto: sel.proto,
            prefixlen: sel.dst_plen,
            addr: sel.dst,
            port: sel.dport,
        },
    )?;
    if parts.hard {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime_out(&pol.lifetime_hard))?;
    }
    if parts.soft {
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime_out(&pol.lifetime_soft))?;
    }
    w.lifetime(SADB_EXT_LIFETIME_CURRENT, &current_out(&pol.current))?;
    let blank = IpsecRequestRepr {
        proto: 0,
        mode: 0,
        level: 0,
        reqid: 0,
        addrs: None,
        ports: (0, 0),
    };
    let mut reqs = [blank; MAX_TEMPLATES];
    let mut n = 0;
    for (slot, t) in reqs.iter_mut().zip(pol.templates.iter()) {
        *slot = IpsecRequestRepr {
            proto: u16::from(t.proto as u8),
            mode: t.mode as u8,
            level: match t.level {
                Level::Default => IPSEC_LEVEL_REQUIRE,
                l => l as u8,
            },
            reqid: t.reqid,
            addrs: (t.mode == Mode::Tunnel).then_some((t.src, t.dst)),
            // Not kept (see `template_from`): zero, as af_key's
            // `pfkey_sockaddr_fill` reports them.
            ports: (0, 0),
        };
        n += 1;
    }
    let policy_type = match pol.action {
        Action::Discard => IPSEC_POLICY_DISCARD,
        _ if n > 0 => IPSEC_POLICY_IPSEC,
        _ => IPSEC_POLICY_NONE,
    };
    w.policy(&PolicyRepr {
        policy_type,
        dir: pol.dir as u8,
        id: pol.index(),
        priority: pol.priority,
        requests: reqs.get(..n).unwrap_or(&[]),
    })
}

/// Re-emits a whole message (the promiscuous copy, X_PROMISC, a held dump
/// message) with `edit` applied to its header. Extensions are copied as
/// they are, up to the first malformed one: `MsgWriter` can only append
/// whole extensions.
pub(super) fn copy_message(
    w: &mut MsgWriter<'_>,
    msg: &[u8],
    edit: impl Fn(&mut MsgHeader),
) -> Result<(), Errno> {
    let mut hdr = MsgHeader::parse(&SadbMsg::new_checked(msg)?);
    edit(&mut hdr);
    w.header(&hdr)?;
    let body = msg.len() / 8 * 8;
    let mut rest = msg.get(16..body).unwrap_or(&[]);
    while let Ok(e) = SadbExt::new_checked(rest) {
        let n = usize::from(e.len()) * 8;
        let Some((ext, tail)) = rest.split_at_checked(n) else {
            break;
        };
        if n == 0 {
            break;
        }
        w.raw(ext)?;
        rest = tail;
    }
    Ok(())
}
