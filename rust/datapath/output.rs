//! Output: the outbound policy decides; an IPsec policy gets a bundle — a
//! chain of dst entries, one per template, each applying its SA in its
//! `output` and passing the packet to the next, the last to the route (the
//! stackable destinations of the Linux xfrm design). Bundles are cached per
//! policy and rebuilt when the SAD/SPD generation or the route changes.
//!
//! One entry's output, for any transform: segment and resolve checksums,
//! find where the transform goes (`mode::Split`), let IPcomp compress, check
//! the MTU, take a sequence number, let the mode make room
//! (`mode::encapsulate`), then the transform (`xform`) fills its header,
//! trailer and crypto and sends the packet on (`OutPkt::send`).

use super::mode::{self, Encap, Split};
use super::policy::{Cached, PolicyDp};
use super::sa::DpSa;
use super::xform::{self, Xform};
use super::{AcquireReq, OutKey};
use crate::logic::addr::IpAddr;
use crate::logic::ipcomp::IPCOMP_HDR_LEN;
use crate::logic::overhead::{Family, Step};
use crate::logic::packet::{classify, Classified, Flow};
use crate::logic::pfkey::sockopt::SockPolicy;
use crate::logic::spd::MAX_TEMPLATES;
use crate::logic::stats::Stat;
use crate::logic::types::{Action, Dir, Level, Mode};
use crate::netns::Ns;
use crate::sys::bundle::{self, BundleEntry};
use crate::sys::dst::{self, Dst, DstRef};
use crate::sys::inflight::InFlightRef;
use crate::sys::net::{Net, NetNs};
use crate::sys::nf::Verdict;
use crate::sys::packet::Pkt;
use crate::sys::rcu::RcuGuard;
use crate::sys::util::real_seconds;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ARef;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// LOCAL_OUT / FORWARD: picks the policy and attaches the bundle.
pub(crate) fn attach(ns: &Ns, mut pkt: Pkt) -> Verdict {
    match decide(ns, &mut pkt) {
        Ok(()) => Verdict::Accept(pkt),
        Err(s) => {
            ns.dp.count(s);
            match s {
                // Linux: xfrm_alloc_dst's ENOBUFS, not a policy's EPERM.
                Stat::XfrmOutBundleGenError => Verdict::DropWith(pkt, kernel::bindings::ENOBUFS),
                _ => Verdict::Drop(pkt),
            }
        }
    }
}

/// What `attach` does; `Err` names the counter of a drop.
fn decide(ns: &Ns, pkt: &mut Pkt) -> Result<(), Stat> {
    let dp = &ns.dp;
    let g = RcuGuard::new();
    // A socket's own policy wins over the SPD (the xfrm core has already
    // refused what it blocks).
    match crate::sys::sockpol::outbound(pkt) {
        Some(SockPolicy::Bypass) => return Ok(()),
        Some(SockPolicy::Discard) => return Err(Stat::XfrmOutPolBlock),
        None => {}
    }
    if dp.spd.is_empty(&g) {
        return Ok(());
    }
    let route = match pkt.dst() {
        Some(r) if !r.is_bundle() && !r.no_xfrm() => r,
        _ => return Ok(()),
    };
    // What a bundle entry sent on (LOCAL_OUT again, as after Linux's
    // transforms) was judged before its transform.
    if pkt.is_transformed(route.ops_family() == AF_INET6) {
        return Ok(());
    }
    // A packet whose headers do not parse can not be matched against the
    // SPD: it is not let through (Linux: XfrmOutError). Nor is a fragment,
    // whose ports are unknown (locally generated packets are fragmented
    // after this hook; forwarded ones were reassembled before it).
    let f = match classify(&*pkt) {
        Ok(Classified::Complete(f)) => f,
        Ok(Classified::Fragment { .. }) | Err(_) => return Err(Stat::XfrmOutError),
    };
    let Some(pd) = dp.spd.lookup(&g, Dir::Outbound, &f.key) else {
        return Ok(());
    };
    match pd.action {
        Action::Ipsec => {}
        Action::Discard => return Err(Stat::XfrmOutPolBlock),
        _ => return Ok(()),
    }
    let genid = dp.genid();
    let hit = {
        let c = pd.cache.lock();
        c.as_ref()
            .filter(|c| {
                c.genid == genid
                    && c.route.as_ptr() == route.as_ptr()
                    && c.src == f.key.src
                    && c.dst == f.key.dst
                    && c.bundle.as_ref().is_none_or(|b| b.is_valid())
            })
            .map(|c| c.bundle.clone())
    };
    let bundle = match hit {
        Some(b) => b,
        None => {
            let b = build(ns, &g, pd, &f, &route, genid)?;
            *pd.cache.lock() = Some(Cached {
                route: route.clone(),
                src: f.key.src,
                dst: f.key.dst,
                bundle: b.clone(),
                genid,
            });
            b
        }
    };
    if let Some(b) = bundle {
        cache_in_socket(pkt, &route, &b);
        pkt.set_dst(b);
    }
    Ok(())
}

/// Linux sockets cache the xfrm bundle as their route, so TCP sizes its
/// segments by the bundle's MTU and never needs the outer packet cut up. A
/// TCP socket whose cached route is the one `bundle` was built on gets a
/// head entry in front of `bundle` instead (its MTU and check are the
/// bundle's; a changed SPD/SAD or route fails the check and the socket
/// routes afresh). Other sockets keep their routes: UDP and raw code reads
/// more of an rtable than TCP does.
fn cache_in_socket(pkt: &Pkt, route: &Dst, bundle: &Dst) {
    if !pkt.from_tcp_socket() || !pkt.socket_route_is(route) {
        return;
    }
    let idev = (route.ops_family() == AF_INET6).then_some(route);
    if let Some(head) = bundle::new_head(bundle, idev) {
        pkt.set_socket_route(head);
    }
}

fn family(a: &IpAddr) -> u16 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn route_to(net: Net, dst: &IpAddr, src: &IpAddr) -> Option<DstRef> {
    match (dst, src) {
        (IpAddr::V4(d), IpAddr::V4(s)) => dst::route4(net, *d, *s),
        (IpAddr::V6(d), IpAddr::V6(s)) => dst::route6(net, *d, *s),
        _ => None,
    }
}

/// `xfrm_tmpl_resolve` + `xfrm_bundle_create`: one SA per template
/// (tunnel templates move the addresses later templates resolve with),
/// then the entries from the route back to the first transform. `Ok(None)`:
/// only optional templates, none with an SA: send in clear.
fn build(
    ns: &Ns,
    g: &RcuGuard,
    pd: &Arc<PolicyDp>,
    f: &Flow,
    route: &DstRef,
    genid: u32,
) -> Result<Option<DstRef>, Stat> {
    let (net, dp) = (ns.net(), &ns.dp);
    let mut chosen: [Option<(Arc<DpSa>, u32, Option<u16>)>; MAX_TEMPLATES] = Default::default();
    let (mut local, mut remote) = (f.key.src, f.key.dst);
    let mut fam = family(&f.key.dst);
    let mut last_route = route.clone();
    let mut missing = false;
    for (i, t) in pd.templates.iter().enumerate() {
        let tunnel = t.mode == Mode::Tunnel;
        let (s, d) = if tunnel {
            (t.src, t.dst)
        } else {
            (local, remote)
        };
        let key = OutKey {
            src: s,
            dst: d,
            proto: t.proto,
            tunnel,
            reqid: t.reqid,
        };
        let sa = dp
            .sa_out
            .get(g, &key)
            .filter(|sa| !sa.expired.load(core::sync::atomic::Ordering::Relaxed));
        let input = Family::of(&remote);
        if tunnel {
            local = t.src;
            remote = t.dst;
            fam = family(&t.dst);
            let Some(r) = route_to(net, &t.dst, &t.src) else {
                return Err(Stat::XfrmOutBundleGenError);
            };
            last_route = r;
        }
        match sa {
            Some(sa) => {
                let step = Step {
                    transform: sa.xform.step(),
                    tunnel: tunnel.then_some(Family::of(&t.dst)),
                };
                let Some(o) = step
                    .max_overhead(input)
                    .and_then(|o| u32::try_from(o).ok())
                else {
                    return Err(Stat::XfrmOutBundleGenError);
                };
                if let Some(slot) = chosen.get_mut(i) {
                    *slot = Some((sa.clone(), o, tunnel.then_some(fam)));
                }
            }
            None if t.level == Level::Use => {}
            None => {
                missing = true;
                if pd.acquire_due(real_seconds()) {
                    let req = AcquireReq {
                        policy: pd.index,
                        template: i,
                        flow: f.key,
                    };
                    if dp.queue_acquire(req) {
                        ns.kick();
                    }
                }
            }
        }
    }
    if missing {
        return Err(Stat::XfrmOutNoStates);
    }
    // Families of what each entry emits, to label them.
    let mut fams = [0u16; MAX_TEMPLATES];
    let mut cur = family(&f.key.dst);
    for (i, c) in chosen.iter().enumerate() {
        if let Some((_, _, Some(outer))) = c {
            cur = *outer;
        }
        if let Some(x) = fams.get_mut(i) {
            *x = cur;
        }
    }
    let mut next: Option<DstRef> = None;
    for (i, c) in chosen.iter().enumerate().rev() {
        let Some((sa, o, _)) = c else {
            continue;
        };
        let after = next.clone().unwrap_or_else(|| last_route.clone());
        let tunnel = pd.templates.get(i).is_some_and(|t| t.mode == Mode::Tunnel);
        let family = fams.get(i).copied().unwrap_or(AF_INET);
        let entry = XfrmEntry {
            sa: sa.clone(),
            family,
            genid,
            overhead: *o,
            tunnel,
        };
        let entry = Arc::new(entry, GFP_ATOMIC).map_err(|_| Stat::XfrmOutBundleGenError)?;
        next = Some(bundle::new_entry(&after, entry).ok_or(Stat::XfrmOutBundleGenError)?);
    }
    Ok(next)
}

/// What one bundle entry applies: an SA, in its template's mode.
struct XfrmEntry {
    sa: Arc<DpSa>,
    /// Address family of the packets the entry emits.
    family: u16,
    /// The namespace's generation the bundle was built at.
    genid: u32,
    /// Most bytes the transform adds (the entry's MTU is the next one's
    /// less these).
    overhead: u32,
    /// Tunnel (not transport) encapsulation: the template decides, so an
    /// SA of mode "any" serves both, as in KAME.
    tunnel: bool,
}

impl BundleEntry for XfrmEntry {
    /// A packet leaving through the entry (`dst->output`).
    fn output(&self, net: Net, pkt: Pkt, next: &Dst) -> c_int {
        let Some(ns) = crate::netns::state(&net) else {
            return -(kernel::bindings::EINVAL as c_int);
        };
        if !pkt.is_gso() {
            return xfrm_output(ns, self, next, pkt);
        }
        let Some(segs) = pkt.segment() else {
            ns.dp.count(Stat::XfrmOutError);
            return -(kernel::bindings::ENOMEM as c_int);
        };
        for seg in segs {
            let _ = xfrm_output(ns, self, next, seg);
        }
        0
    }

    fn is_current(&self, net: Net) -> bool {
        crate::netns::state(&net).is_some_and(|ns| ns.dp.genid() == self.genid)
    }

    fn overhead(&self) -> u32 {
        self.overhead
    }
}

/// A packet on its way through one entry once the mode has made room for
/// its transform (data at the outer IP header): what the transform's output
/// half needs, and what carries it on when it is done (possibly from an
/// asynchronous crypto completion).
pub(crate) struct OutPkt {
    pub(crate) pkt: Pkt,
    pub(crate) next: DstRef,
    /// Counted: an asynchronous completion may outlive the call.
    pub(crate) net: ARef<NetNs>,
    pub(crate) sa: Arc<DpSa>,
    pub(crate) enc: Encap,
    pub(crate) seq: u64,
    /// Counted until the packet is sent: teardown waits for it.
    _inflight: InFlightRef,
}

impl OutPkt {
    /// On to the next entry, or the route.
    pub(crate) fn send(self) -> c_int {
        let OutPkt {
            mut pkt,
            next,
            net,
            enc,
            ..
        } = self;
        pkt.set_dst(next);
        pkt.transformed_output(net.net(), enc.split.outer_v6)
    }

    /// Dropped, and counted.
    pub(crate) fn failed(self, s: Stat) -> c_int {
        self.failed_with(s, -(kernel::bindings::EINVAL as c_int))
    }

    /// The transform's crypto failed with `err` (a negative errno): dropped,
    /// counted, and `err` goes back to the sender, as from Linux's
    /// xfrm_output_one (ENOMEM for a request that could not be allocated).
    pub(crate) fn failed_with(self, s: Stat, err: c_int) -> c_int {
        if let Some(ns) = crate::netns::state_of(&self.net) {
            ns.dp.count(s);
        }
        err
    }
}

/// Applies the entry's SA to one packet and sends it on to `next`.
fn xfrm_output(ns: &Ns, entry: &XfrmEntry, next: &Dst, mut pkt: Pkt) -> c_int {
    let (net, dp) = (ns.net(), &ns.dp);
    let sa = &entry.sa;
    let tunnel = entry.tunnel;
    let drop_errno = |s: Stat, errno: u32| {
        dp.count(s);
        -(errno as c_int)
    };
    let drop_with = |s: Stat| drop_errno(s, kernel::bindings::EINVAL);
    // Out of memory is ENOMEM to the sender, as from Linux's
    // skb_checksum_help / pskb_expand_head.
    if !pkt.checksum_help() || pkt.make_private(0, 0).is_err() {
        return drop_errno(Stat::XfrmOutError, kernel::bindings::ENOMEM);
    }
    let outer_v6 = matches!(sa.ident.dst, IpAddr::V6(_));
    let Some(split) = Split::of(&pkt, tunnel, outer_v6) else {
        return drop_with(Stat::XfrmOutError);
    };
    let v6_in = split.v6_in;
    // The SA's lifetime counts the packet as given to it, before IPcomp
    // shrinks it: Linux's xfrm_output_one charges before type->output
    // (and KAME's ipcomp_output before deflating).
    let len = pkt.len();
    // What the transform adds; IPcomp first compresses (only a smaller
    // payload gets its header), and an uncompressed packet keeps what it
    // names (transport) or goes as IP-in-IP (tunnel).
    let (proto, hdr_len, trailer_len) = match &sa.xform {
        Xform::Esp(e) => {
            let (h, t) = e.sizes(pkt.len() - split.l3);
            (50, h, t)
        }
        Xform::Ah(a) => match a.header_len(split.outer_v6) {
            Some(h) => (51, h, 0),
            None => return drop_with(Stat::XfrmOutError),
        },
        Xform::IpComp(c) => match c.compress(&mut pkt, split.l3) {
            Ok(true) => (108, IPCOMP_HDR_LEN, 0),
            Ok(false) => (split.next, 0, 0),
            Err(_) => return drop_errno(Stat::XfrmOutError, kernel::bindings::ENOMEM),
        },
    };
    let new_len = pkt.len() + split.outer() + hdr_len + trailer_len;
    // Tunnel mode: the outer path has its own route, so an inner packet
    // that no longer fits is refused with the inner MTU (ICMP), as
    // xfrm4/6_tunnel_check_size do. Transport mode shares the route with
    // the inner packet (a PMTU learnt there would shrink the outer path
    // too): TCP sockets cache the bundle and fit; a datagram socket that
    // forbade fragmentation (IP(V6)_PMTUDISC_DO: DF, no ignore_df) gets
    // EMSGSIZE from its send, as against Linux's bundle MTU. A TCP segment
    // sized before its socket saw a smaller PMTU is refused with an ICMP
    // error to its own sender (TCP resegments and retransmits at once), as
    // Linux's ip_fragment/ip6_fragment refuse the DF outer packet; anything
    // else leaves as outer fragments (RFC 4303 §3.3.4).
    let mtu = next.mtu();
    if tunnel && new_len > mtu as usize && (outer_v6 || split.df()) && !pkt.ignore_df() {
        dp.count(Stat::RxfrmOutMtuExceeded);
        let in_fam = if v6_in { Family::V6 } else { Family::V4 };
        let step = Step {
            transform: sa.xform.step(),
            tunnel: Some(Family::of(&sa.ident.dst)),
        };
        let inner_mtu = step.inner_mtu(in_fam, mtu);
        // ICMP needs a route of the packet's own family to answer along.
        if !next.is_bundle() && v6_in == (entry.family == AF_INET6) {
            pkt.set_dst(DstRef::from(next));
            pkt.too_big(v6_in, inner_mtu);
        }
        return -(kernel::bindings::EMSGSIZE as c_int);
    }
    if !tunnel && new_len > mtu as usize {
        if (v6_in || split.df()) && !pkt.ignore_df() && pkt.from_dgram_socket() {
            dp.count(Stat::RxfrmOutMtuExceeded);
            return -(kernel::bindings::EMSGSIZE as c_int);
        }
        if (v6_in || split.df()) && !pkt.ignore_df() && pkt.from_tcp_socket() {
            dp.count(Stat::RxfrmOutMtuExceeded);
            if !next.is_bundle() {
                let step = Step {
                    transform: sa.xform.step(),
                    tunnel: None,
                };
                let in_fam = if v6_in { Family::V6 } else { Family::V4 };
                pkt.set_dst(DstRef::from(next));
                pkt.too_big(v6_in, step.inner_mtu(in_fam, mtu));
            }
            return -(kernel::bindings::EMSGSIZE as c_int);
        }
        pkt.set_ignore_df();
    }
    let seq = if sa.xform.replay_protected() {
        match sa.next_seq() {
            Some(s) => s,
            None => return drop_with(Stat::XfrmOutStateSeqError),
        }
    } else {
        0
    };
    dp.touch();
    if !sa.charge(len) {
        ns.kick();
        return drop_with(Stat::XfrmOutStateExpired);
    }
    let hop = next.hop_limit(outer_v6);
    let Some(enc) = mode::encapsulate(
        &mut pkt,
        &split,
        proto,
        hdr_len,
        trailer_len,
        &sa.ident.src,
        &sa.ident.dst,
        hop,
    ) else {
        // No memory, or (IPv4 64 KiB, IPv6 64 KiB payload) too big to say.
        return drop_errno(Stat::XfrmOutError, kernel::bindings::ENOMEM);
    };
    mode::finish_output(&mut pkt, net, &enc);
    // The namespace is being dismantled: nothing may outlive this call.
    let Some(net) = net.counted() else {
        return drop_with(Stat::XfrmOutError);
    };
    let o = OutPkt {
        pkt,
        next: DstRef::from(next),
        net,
        sa: sa.clone(),
        enc,
        seq,
        _inflight: dp.inflight.enter(),
    };
    match &sa.xform {
        Xform::Esp(_) => xform::esp::output(o),
        Xform::Ah(_) => xform::ah::output(o),
        Xform::IpComp(_) => xform::ipcomp::output(o),
    }
}
