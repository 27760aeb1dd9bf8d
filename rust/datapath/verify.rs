//! The inbound policy check at LOCAL_IN and FORWARD, as Linux's
//! `__xfrm_policy_check`: the packet's sec_path — every SA that removed a
//! layer, outermost first — is read back into rxfrm's SAs and walked
//! against the templates of the policy the inner packet matches
//! (`logic::secpath`: order, optional templates, tunnel endpoints, reqid);
//! clear text a policy requires protection for is refused. A packet whose
//! headers cannot be classified, or whose sec_path names what rxfrm did not
//! put there, is dropped and counted — never accepted.
//!
//! Also the receive side of uncompressed IPcomp tunnels: a sender does not
//! compress small or incompressible packets (RFC 3173 §2.2), which then
//! arrive as plain IP-in-IP from the tunnel's peer. Linux takes them with
//! an IPIP "tunnel state" (`xfrm4_tunnel`); rxfrm takes them here, at
//! LOCAL_IN, recording the IPcomp SA they belong to.

use super::input::record;
use crate::logic::spi::ip_dst as outer_dst;
use super::mode;
use super::sa::Applied;
use super::InKey;
use crate::logic::addr::IpAddr;
use crate::logic::packet::{classify, Classified, Flow};
use crate::logic::pfkey::sockopt::SockPolicy;
use crate::logic::secpath::SecPath;
use crate::logic::stats::Stat;
use crate::logic::types::{Action, Dir, IpsecProto};
use crate::netns::Ns;
use crate::sys::nf::Verdict;
use crate::sys::packet::Pkt;
use crate::sys::rcu::RcuGuard;
use crate::sys::secpath;

/// LOCAL_IN (`Dir::Inbound`) and FORWARD (`Dir::Forward`).
pub(crate) fn check(ns: &Ns, mut pkt: Pkt, dir: Dir) -> Verdict {
    let dp = &ns.dp;
    let g = RcuGuard::new();
    let (entries, n) = secpath::entries(&pkt);
    if n == 0 && dp.spd.is_empty(&g) && !dp.has_ipcomp_tunnels(&g) {
        return Verdict::Accept(pkt);
    }
    let f = match classify(&pkt) {
        Ok(Classified::Complete(f)) => f,
        // Fragments are reassembled before these hooks (nf_defrag): one
        // that is not has no ports to judge by.
        Ok(Classified::Fragment { .. }) | Err(_) => {
            dp.count(Stat::XfrmInHdrError);
            return Verdict::Drop(pkt);
        }
    };
    // IPsec packets for this host are the protocol handlers': a nested
    // packet is checked once its last layer is off (its sec_path then
    // names them all).
    if dir == Dir::Inbound && matches!(f.key.proto, 50 | 51 | 108) {
        return Verdict::Accept(pkt);
    }
    if dir == Dir::Inbound && n < secpath::MAX_DEPTH && is_ipip(&f) {
        match uncompressed_ipcomp(ns, pkt, &f) {
            Ok(v) => return v,
            Err(p) => pkt = p,
        }
    }
    // The sec_path, as rxfrm's SAs.
    let mut sp = SecPath::new();
    for e in entries.iter().take(n).flatten() {
        let dst = if e.v6 {
            IpAddr::V6(e.dst)
        } else {
            let mut a = [0u8; 4];
            a.copy_from_slice(&e.dst[..4]);
            IpAddr::V4(a)
        };
        let entry = IpsecProto::from_u8(e.proto)
            .and_then(|proto| dp.sa_in.get(&g, &InKey { dst, spi: e.spi, proto }))
            .and_then(|sa| sa.applied_as(e.addr).map(|how| sa.entry(how)));
        match entry {
            Some(en) if sp.push(en).is_ok() => {}
            // Not ours (or no longer: its SA went since): nothing vouches
            // for the packet.
            _ => {
                dp.count(Stat::XfrmInStateInvalid);
                return Verdict::Drop(pkt);
            }
        }
    }
    let pol = dp.spd.lookup(&g, dir, &f.key);
    if !sp.is_empty() {
        let ok = match pol {
            None => sp.verify_no_policy().is_ok(),
            Some(p) if p.action == Action::Discard => {
                dp.count(Stat::XfrmInPolBlock);
                return Verdict::Drop(pkt);
            }
            Some(p) if p.action == Action::Ipsec => sp.verify(&p.templates).is_ok(),
            Some(_) => sp.verify(&[]).is_ok(),
        };
        if ok {
            return Verdict::Accept(pkt);
        }
        dp.count(if pol.is_some() {
            Stat::XfrmInTmplMismatch
        } else {
            Stat::XfrmInNoPols
        });
        return Verdict::Drop(pkt);
    }
    // Clear text. Loopback traffic is never checked (Linux: lo is
    // nopolicy).
    if pkt.from_loopback() {
        return Verdict::Accept(pkt);
    }
    let refused = match pol {
        None => None,
        Some(p) if p.action == Action::Discard => Some(Stat::XfrmInPolBlock),
        Some(p) if p.action == Action::Ipsec && sp.verify(&p.templates).is_err() => {
            Some(Stat::XfrmInTmplMismatch)
        }
        Some(_) => None,
    };
    let Some(stat) = refused else {
        return Verdict::Accept(pkt);
    };
    // A UDP socket with its own bypass policy (an IKE daemon's) takes clear
    // text whatever the SPD says, as the socket policy wins on Linux.
    if dir == Dir::Inbound && f.key.proto == 17 {
        let k = &f.key;
        if crate::sys::sockpol::udp_inbound(ns.net(), &pkt, &k.src, k.sport, &k.dst, k.dport)
            == Some(SockPolicy::Bypass)
        {
            return Verdict::Accept(pkt);
        }
    }
    dp.count(stat);
    Verdict::Drop(pkt)
}

fn is_ipip(f: &Flow) -> bool {
    matches!(f.key.proto, mode::IPPROTO_IPIP | mode::IPPROTO_IPV6)
}

/// An IP-in-IP packet for this host from the peer of an inbound IPcomp
/// tunnel SA: that tunnel's packet, sent uncompressed. Decapsulated,
/// recorded and re-injected (`Verdict::Stolen`); anything else is given
/// back (`Err`) for the usual check.
fn uncompressed_ipcomp(ns: &Ns, mut pkt: Pkt, f: &Flow) -> Result<Verdict, Pkt> {
    let dp = &ns.dp;
    let Some(sa) = dp.ipcomp_tunnel(&RcuGuard::new(), &f.key.src, &f.key.dst) else {
        return Err(pkt);
    };
    let v6 = matches!(f.key.dst, IpAddr::V6(_));
    let outer = f.l4_offset;
    if pkt.make_private(0, 0).is_err() {
        dp.count(Stat::XfrmInBufferError);
        return Ok(Verdict::Drop(pkt));
    }
    let inner_v6 = f.key.proto == mode::IPPROTO_IPV6;
    let ok = outer_dst(pkt.bytes_mut(), v6).is_some() && pkt.pull(outer);
    if !ok {
        dp.count(Stat::XfrmInHdrError);
        return Ok(Verdict::Drop(pkt));
    }
    if let Err(e) = record(&mut pkt, &sa, Applied::UncompressedTunnel) {
        dp.count(e);
        return Ok(Verdict::Drop(pkt));
    }
    dp.touch();
    if !sa.charge(pkt.len()) {
        dp.count(Stat::XfrmInStateExpired);
        return Ok(Verdict::Drop(pkt));
    }
    mode::reinject(pkt, inner_v6, true);
    Ok(Verdict::Stolen)
}
