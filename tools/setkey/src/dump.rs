//! `setkey -D` / `-DP` output, text for text as ipsec-tools' pfkey_dump.c
//! and ipsec_dump_policy.c print it (quirks such as the trailing blanks and
//! IPComp's unterminated `C:` line included).

use crate::ast::ULPROTO_ANY;
use crate::names;
use crate::policy::MANUAL_REQID_MAX;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::algs::{self, AlgKind};
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::{LifetimeRepr, Parsed};
use std::fmt::Write;

/// What the dump needs from the outside world, injectable for tests.
#[derive(Clone, Copy, Debug)]
pub struct DumpCtx {
    /// Seconds since the epoch.
    pub now: u64,
    /// Local time zone offset from UTC, seconds.
    pub tz_offset: i64,
    /// `-p`: print ports of SA addresses and tunnel end points.
    pub withports: bool,
}

const SATYPES: [&str; 12] = [
    "unspec", "unknown", "ah", "esp", "unknown", "rsvp", "ospfv2", "ripv2", "mip", "ipcomp",
    "policy", "tcp",
];
const MODES: [&str; 3] = ["any", "transport", "tunnel"];
const STATES: [&str; 4] = ["larval", "mature", "dying", "dead"];

/// GETMSGSTR: a name and a blank, or the number and a blank.
fn msgstr(tab: &[&str], n: usize) -> String {
    match tab.get(n) {
        Some(s) if !s.is_empty() => format!("{s} "),
        _ => format!("{n} "),
    }
}

/// pfkey_dump.c's algorithm names (they differ from setkey's input names
/// for a few, e.g. `aes-cbc`, `md5`), then rxfrm's table for newer ones.
fn alg_name(kind: AlgKind, id: u8) -> String {
    let classic = match (kind, id) {
        (_, 0) => Some("none"),
        (AlgKind::Auth, 249) => Some("md5"),
        (AlgKind::Auth, 250) => Some("sha"),
        (AlgKind::Encrypt, 12) => Some("aes-cbc"),
        _ => None,
    };
    match classic {
        Some(n) => n.to_string(),
        None => algs::by_id(kind, id)
            .map(|a| a.name.to_string())
            .unwrap_or_else(|| id.to_string()),
    }
}

/// ipsec_hexdump(): a blank before every 4 bytes, a newline every 32.
pub fn hexdump(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, byte) in b.iter().enumerate() {
        if i != 0 && i % 32 == 0 {
            s.push('\n');
        }
        if i % 4 == 0 {
            s.push(' ');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 → (year, month 1..=12, day) (Howard Hinnant's
/// civil_from_days), so dumps need no time crate.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// str_time(): `ctime()` without the weekday and newline, 20 blanks for 0.
pub fn str_time(t: u64, tz_offset: i64) -> String {
    if t == 0 {
        return " ".repeat(20);
    }
    let t = t as i64 + tz_offset;
    let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
    let (y, m, d) = civil(days);
    format!(
        "{} {d:>2} {:02}:{:02}:{:02} {y}",
        MONTHS[m as usize - 1],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn lifetime_bytes(out: &mut String, l: Option<LifetimeRepr>, what: &str) {
    let _ = write!(out, "\t{what}: {}(bytes)", l.map_or(0, |l| l.bytes));
}

fn addr_text(a: &IpAddr, port: u16, withports: bool) -> String {
    if withports {
        format!("{a}[{port}]")
    } else {
        a.to_string()
    }
}

/// pfkey_sadump(): one SA of a DUMP or GET reply.
pub fn sadump(m: &Parsed<'_>, ctx: &DumpCtx) -> String {
    let mut o = String::new();
    let natt = m.nat_t_type().is_some_and(|t| t != 0);
    let Some(src) = m.address_src() else {
        return "no ADDRESS_SRC extension.\n".into();
    };
    o += &addr_text(&src.addr, src.port, ctx.withports);
    if let (true, Some(p)) = (natt, m.nat_t_sport()) {
        let _ = write!(o, "[{p}]");
    }
    o.push(' ');
    let Some(dst) = m.address_dst() else {
        return o + " no ADDRESS_DST extension.\n";
    };
    o += &addr_text(&dst.addr, dst.port, ctx.withports);
    if let (true, Some(p)) = (natt, m.nat_t_dport()) {
        let _ = write!(o, "[{p}]");
    }
    o.push(' ');
    let Some(sa) = m.sa() else {
        return o + "no SA extension.\n";
    };
    let Some(sa2) = m.sa2() else {
        return o + "no SA2 extension.\n";
    };
    o += "\n\t";
    let satype = m.satype();
    if natt && satype == SADB_SATYPE_ESP {
        o += "esp-udp ";
    } else {
        if natt {
            o += "natt+";
        }
        o += &msgstr(&SATYPES, satype.into());
    }
    let _ = writeln!(
        o,
        "mode={}spi={}(0x{:08x}) reqid={}(0x{:08x})",
        msgstr(&MODES, sa2.mode.into()),
        sa.spi,
        sa.spi,
        sa2.reqid,
        sa2.reqid
    );
    if let (true, Some(oa)) = (natt, m.nat_t_oa()) {
        let _ = writeln!(o, "\tNAT OA={}", oa.addr);
    }
    if satype == SADB_X_SATYPE_IPCOMP {
        // ipsec-tools prints no newline after the C: line.
        let _ = write!(o, "\tC: {} ", alg_name(AlgKind::Compress, sa.encrypt));
    } else if satype == SADB_SATYPE_ESP {
        if let Some(k) = m.key_encrypt() {
            let n = (usize::from(k.bits) / 8).min(k.key.len());
            let _ = writeln!(
                o,
                "\tE: {} {}",
                alg_name(AlgKind::Encrypt, sa.encrypt),
                hexdump(&k.key[..n])
            );
        }
    }
    if let Some(k) = m.key_auth() {
        let n = (usize::from(k.bits) / 8).min(k.key.len());
        let _ = writeln!(
            o,
            "\tA: {} {}",
            alg_name(AlgKind::Auth, sa.auth),
            hexdump(&k.key[..n])
        );
    }
    let _ = writeln!(
        o,
        "\tseq=0x{:08x} replay={} flags=0x{:08x} state={}",
        sa2.sequence,
        sa.replay,
        sa.flags,
        msgstr(&STATES, sa.state.into())
    );
    if let Some(c) = m.lifetime_current() {
        let (h, s) = (m.lifetime_hard(), m.lifetime_soft());
        let tz = ctx.tz_offset;
        let diff = if c.addtime == 0 {
            0
        } else {
            ctx.now.saturating_sub(c.addtime)
        };
        let _ = writeln!(
            o,
            "\tcreated: {}\tcurrent: {}",
            str_time(c.addtime, tz),
            str_time(ctx.now, tz)
        );
        let _ = writeln!(
            o,
            "\tdiff: {diff}(s)\thard: {}(s)\tsoft: {}(s)",
            h.map_or(0, |l| l.addtime),
            s.map_or(0, |l| l.addtime)
        );
        let _ = writeln!(
            o,
            "\tlast: {}\thard: {}(s)\tsoft: {}(s)",
            str_time(c.usetime, tz),
            h.map_or(0, |l| l.usetime),
            s.map_or(0, |l| l.usetime)
        );
        lifetime_bytes(&mut o, Some(c), "current");
        lifetime_bytes(&mut o, h, "hard");
        lifetime_bytes(&mut o, s, "soft");
        o.push('\n');
        let _ = writeln!(
            o,
            "\tallocated: {}\thard: {}\tsoft: {}",
            c.allocations,
            h.map_or(0, |l| l.allocations),
            s.map_or(0, |l| l.allocations)
        );
    }
    sec_ctx(&mut o, m);
    // rxfrm's per-SA error counters (Linux's `ip -s xfrm state` stats).
    if let Some(st) = m.rxfrm_stats() {
        let _ = writeln!(
            o,
            "\tstats: replay={} integrity_failed={}",
            st.replay, st.integrity_failed
        );
    }
    let _ = writeln!(
        o,
        "\tsadb_seq={} pid={} refcnt={}",
        m.seq(),
        m.pid(),
        m.header().reserved
    );
    o
}

fn sec_ctx(o: &mut String, m: &Parsed<'_>) {
    if let Some(c) = m.sec_ctx() {
        let text = c.ctx.split(|&b| b == 0).next().unwrap_or_default();
        let _ = writeln!(o, "\tsecurity context doi: {}", c.doi);
        let _ = writeln!(o, "\tsecurity context algorithm: {}", c.alg);
        let _ = writeln!(o, "\tsecurity context length: {}", c.ctx.len());
        let _ = writeln!(o, "\tsecurity context: {}", String::from_utf8_lossy(text));
    }
}

fn icmp_like(ulp: u8) -> bool {
    matches!(
        ulp,
        names::IPPROTO_ICMP | names::IPPROTO_ICMPV6 | names::IPPROTO_MH
    )
}

/// str_prefport(): `/prefix` unless full length, then `[port]`/`[any]`
/// unless the "ports" are ICMP type/code or a GRE key.
fn prefport(a: &IpAddr, prefix: u8, port: u16, ulp: u8) -> String {
    let mut s = String::new();
    if prefix != a.max_prefix() {
        let _ = write!(s, "/{prefix}");
    }
    if !(icmp_like(ulp) || ulp == names::IPPROTO_GRE) {
        if port == 0 {
            s += "[any]";
        } else {
            let _ = write!(s, "[{port}]");
        }
    }
    s
}

/// pfkey_spdump(): one policy of an SPDDUMP or SPDGET reply.
pub fn spdump(m: &Parsed<'_>, ctx: &DumpCtx) -> String {
    let mut o = String::new();
    let pol = m.policy();
    match (m.address_src(), m.address_dst()) {
        // Linux marks per-socket policies by their index, not by leaving
        // the selector out.
        _ if pol.is_some_and(|p| p.id % 8 >= 3) => o += "(per-socket policy) ",
        (Some(s), Some(d)) => {
            let _ = write!(
                o,
                "{}{} ",
                s.addr,
                prefport(&s.addr, s.prefixlen, s.port, s.proto)
            );
            let _ = write!(
                o,
                "{}{} ",
                d.addr,
                prefport(&d.addr, d.prefixlen, d.port, s.proto)
            );
            if s.proto != d.proto {
                return o + "upper layer protocol mismatched.\n";
            }
            o += &names::upper_name(s.proto);
            if s.proto != ULPROTO_ANY && (s.port != 0 || d.port != 0) {
                if icmp_like(s.proto) {
                    let _ = write!(o, " {},{}", s.port, d.port);
                } else if s.proto == names::IPPROTO_GRE {
                    let _ = write!(o, " {}", (u32::from(s.port) << 16) + u32::from(d.port));
                }
            }
        }
        _ => o += "(no selector, probably per-socket policy) ",
    }
    let Some(pol) = pol else {
        return o + "no X_POLICY extension.\n";
    };
    match dump_policy(&pol, "\n\t", ctx.withports) {
        Ok(text) => {
            let _ = writeln!(o, "\n\t{text}");
        }
        Err(e) => {
            let _ = writeln!(o, "\n\tPolicy:[{e}]");
        }
    }
    if let Some(c) = m.lifetime_current() {
        let tz = ctx.tz_offset;
        let _ = writeln!(
            o,
            "\tcreated: {}  lastused: {}",
            str_time(c.addtime, tz),
            str_time(c.usetime, tz)
        );
    }
    if let Some(h) = m.lifetime_hard() {
        let _ = writeln!(
            o,
            "\tlifetime: {}(s) validtime: {}(s)",
            h.addtime, h.usetime
        );
    }
    sec_ctx(&mut o, m);
    let _ = writeln!(o, "\tspid={} seq={} pid={}", pol.id, m.seq(), m.pid());
    let _ = writeln!(o, "\trefcnt={}", m.header().reserved);
    o
}

/// ipsec_dump_policy(): `dir [prio …] action` then each request after
/// `delim`.
pub fn dump_policy(
    p: &rxfrm_logic::pfkey::Policy<'_>,
    delim: &str,
    withports: bool,
) -> Result<String, String> {
    const DIRS: [&str; 6] = ["any", "in", "out", "fwd", "in(socket)", "out(socket)"];
    const TYPES: [&str; 5] = ["discard", "none", "ipsec", "entrust", "bypass"];
    let dir = DIRS
        .get(usize::from(p.dir))
        .ok_or("Invalid direction of policy")?;
    let ty = TYPES
        .get(usize::from(p.policy_type))
        .ok_or("Invalid policy type")?;
    let mut s = format!("{dir} {}{ty}", priority_text(p.priority));
    if usize::from(p.policy_type) != 2 {
        return Ok(s);
    }
    for r in p.requests() {
        let proto = match r.proto {
            50 => "esp",
            51 => "ah",
            108 => "ipcomp",
            _ => return Err("Invalid ipsec protocol".into()),
        };
        let mode = MODES.get(usize::from(r.mode)).ok_or("Invalid mode")?;
        let level = ["default", "use", "require", "unique"]
            .get(usize::from(r.level))
            .ok_or("Invalid level")?;
        // set_address(): with `-p` every end point is `addr[port]`, a
        // zero port included.
        let (sport, dport) = r.ports;
        let addrs = r.addrs.map_or(String::new(), |(a, b)| {
            format!(
                "{}-{}",
                addr_text(&a, sport, withports),
                addr_text(&b, dport, withports)
            )
        });
        let _ = write!(s, "{delim}{proto}/{mode}/{addrs}/{level}");
        if r.reqid != 0 {
            let ch = if r.reqid > MANUAL_REQID_MAX { '#' } else { ':' };
            let _ = write!(s, "{ch}{}", r.reqid);
        }
    }
    Ok(s)
}

/// `prio def `, `prio high + 5 `, … (with its trailing blank), or nothing
/// for priority 0.
fn priority_text(prio: u32) -> String {
    use crate::ast::prio::{DEFAULT, HIGH, LOW};
    if prio == 0 {
        return String::new();
    }
    let (name, base) = if prio < DEFAULT / 4 * 3 {
        ("high", HIGH)
    } else if prio < DEFAULT / 4 * 5 {
        ("def", DEFAULT)
    } else {
        ("low", LOW)
    };
    // Lower numbers are higher priority: `+ N` means base - N.
    let off = base.wrapping_sub(prio) as i32;
    match off {
        0 => format!("prio {name} "),
        o if o < 0 => format!("prio {name} - {} ", o.unsigned_abs()),
        o => format!("prio {name} + {o} "),
    }
}
