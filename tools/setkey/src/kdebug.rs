//! The structural message dump of `-v` and `-x` (libipsec's kdebug_sadb()
//! format), decoded with the codec's views and reprs.

use crate::dump::hexdump;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::ext::{SadbExt, SadbMsg};
use rxfrm_logic::pfkey::*;
use std::fmt::Write;

fn sockaddr(o: &mut String, a: &IpAddr, port: u16) {
    match a {
        IpAddr::V4(_) => {
            let _ = writeln!(o, "sockaddr{{ len=16 family=2 port={port}");
        }
        IpAddr::V6(_) => {
            let _ = writeln!(o, "sockaddr{{ len=28 family=10 port={port}");
            o.push_str("  flowinfo=0x00000000, scope_id=0x00000000\n");
        }
    }
    let _ = writeln!(o, "{}  }}", hexdump(a.as_bytes()));
}

/// One extension's body (`e` is exactly the extension).
fn ext_body(o: &mut String, ty: u16, e: &[u8]) -> Result<(), Errno> {
    match ty {
        SADB_EXT_SA => {
            let s = SaRepr::parse(e)?;
            let _ = writeln!(
                o,
                "sadb_sa{{ spi={} replay={} state={}",
                s.spi, s.replay, s.state
            );
            let _ = writeln!(
                o,
                "  auth={} encrypt={} flags=0x{:08x} }}",
                s.auth, s.encrypt, s.flags
            );
        }
        SADB_EXT_LIFETIME_CURRENT | SADB_EXT_LIFETIME_HARD | SADB_EXT_LIFETIME_SOFT => {
            let l = LifetimeRepr::parse(e)?;
            // kdebug prints these as 32-bit values.
            let _ = writeln!(
                o,
                "sadb_lifetime{{ alloc={}, bytes={}",
                l.allocations, l.bytes as u32
            );
            let _ = writeln!(
                o,
                "  addtime={}, usetime={} }}",
                l.addtime as u32, l.usetime as u32
            );
        }
        SADB_EXT_ADDRESS_SRC
        | SADB_EXT_ADDRESS_DST
        | SADB_EXT_ADDRESS_PROXY
        | SADB_X_EXT_NAT_T_OA => {
            let a = AddressRepr::parse(e)?;
            let _ = writeln!(
                o,
                "sadb_address{{ proto={} prefixlen={} reserved=0x0000 }}",
                a.proto, a.prefixlen
            );
            sockaddr(o, &a.addr, a.port);
        }
        SADB_EXT_KEY_AUTH | SADB_EXT_KEY_ENCRYPT => {
            let k = KeyRepr::parse(e)?;
            let _ = writeln!(
                o,
                "sadb_key{{ bits={} reserved=0\n  key={} }}",
                k.bits,
                hexdump(k.key)
            );
        }
        SADB_EXT_SUPPORTED_AUTH | SADB_EXT_SUPPORTED_ENCRYPT => {
            o.push_str("sadb_sup{\n");
            for a in Supported::parse(e)?.algs() {
                let _ = writeln!(
                    o,
                    "  {{ id={} ivlen={} min={} max={} }}",
                    a.id, a.ivlen, a.min_bits, a.max_bits
                );
            }
            o.push_str("}\n");
        }
        SADB_X_EXT_SA2 => {
            let s = Sa2Repr::parse(e)?;
            let _ = writeln!(o, "sadb_x_sa2{{ mode={} reqid={}", s.mode, s.reqid);
            let _ = writeln!(o, "  reserved1=0 reserved2=0 sequence={} }}", s.sequence);
        }
        SADB_X_EXT_POLICY => {
            let p = Policy::parse(e)?;
            let _ = writeln!(
                o,
                "sadb_x_policy{{ type={} dir={} id={:x} priority={} }}",
                p.policy_type, p.dir, p.id, p.priority
            );
            for r in p.requests() {
                let _ = writeln!(
                    o,
                    " {{ len={} proto={} mode={} level={} reqid={}",
                    r.wire_len(),
                    r.proto,
                    r.mode,
                    r.level,
                    r.reqid
                );
                if let Some((a, b)) = r.addrs {
                    sockaddr(o, &a, r.ports.0);
                    sockaddr(o, &b, r.ports.1);
                }
                o.push_str(" }\n");
            }
        }
        SADB_X_EXT_NAT_T_TYPE => {
            let _ = writeln!(o, "sadb_x_nat_t_type{{ type={} }}", parse_nat_t_type(e)?);
        }
        SADB_X_EXT_NAT_T_SPORT | SADB_X_EXT_NAT_T_DPORT => {
            let _ = writeln!(o, "sadb_x_nat_t_port{{ port={} }}", parse_nat_t_port(e)?);
        }
        // Extensions kdebug_sadb shows no body for.
        SADB_EXT_SENSITIVITY | SADB_EXT_SPIRANGE | SADB_X_EXT_KMPRIVATE => {}
        SADB_EXT_IDENTITY_SRC | SADB_EXT_IDENTITY_DST => {
            let i = IdentityRepr::parse(e)?;
            let which = if ty == SADB_EXT_IDENTITY_SRC {
                "src"
            } else {
                "dst"
            };
            let _ = writeln!(
                o,
                "sadb_ident_{which}{{ type={} id={} }}",
                i.ident_type, i.id
            );
        }
        _ => {
            let _ = writeln!(o, "kdebug_sadb: invalid ext_type {ty} was passed.");
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// kdebug_sadb(): header, then each extension in wire order.
pub fn kdebug(m: &[u8]) -> String {
    let mut o = String::new();
    let Ok(h) = SadbMsg::new_checked(m) else {
        return "kdebug_sadb: message shorter than its header.\n".into();
    };
    let _ = writeln!(
        o,
        "sadb_msg{{ version={} type={} errno={} satype={}",
        h.version(),
        h.msg_type(),
        h.errno(),
        h.satype()
    );
    let _ = writeln!(
        o,
        "  len={} reserved={} seq={} pid={}",
        h.len(),
        h.reserved(),
        h.seq(),
        h.pid()
    );
    let end = (usize::from(h.len()) * 8).min(m.len());
    let mut off = 16;
    while off < end {
        let rest = &m[off..end];
        let Ok(e) = SadbExt::new_checked(rest) else {
            o.push_str("kdebug_sadb: truncated extension header.\n");
            break;
        };
        let _ = writeln!(o, "sadb_ext{{ len={} type={} }}", e.len(), e.ext_type());
        let elen = usize::from(e.len()) * 8;
        if elen == 0 {
            o.push_str("kdebug_sadb: invalid ext_len=0 was passed.\n");
            break;
        }
        let Some(body) = rest.get(..elen) else {
            o.push_str("kdebug_sadb: ext_len exceeds end of buffer.\n");
            break;
        };
        if ext_body(&mut o, e.ext_type(), body).is_err() {
            break;
        }
        off += elen;
    }
    o
}

/// `-H`: offset, then 16 bytes per line (setkey.c's hex dump).
pub fn hexlines(b: &[u8]) -> String {
    let mut o = String::new();
    for (i, byte) in b.iter().enumerate() {
        if i % 16 == 0 {
            let _ = write!(o, "{i:08x}: ");
        }
        let _ = write!(o, "{byte:02x} ");
        if i % 16 == 15 {
            o.push('\n');
        }
    }
    if !b.len().is_multiple_of(16) {
        o.push('\n');
    }
    o
}
