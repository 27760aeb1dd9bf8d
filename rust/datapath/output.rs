//! Output: the outbound policy decides; an IPsec policy gets a bundle — a
//! chain of dst entries, one per template, each applying its SA in its
//! `output` and passing the packet to the next, the last to the route (the
//! stackable destinations of the Linux xfrm design). Bundles are cached per
//! policy and rebuilt when the SAD/SPD generation or the route changes.

use super::hooks::flow;
use super::policy::{Cached, PolicyDp};
use super::sa::DpSa;
use super::{AcquireReq, OutKey};
use crate::logic::addr::IpAddr;
use crate::logic::esp::{esn_unframe, EspLayout, ESP_HDR_LEN};
use crate::logic::packet::Flow;
use crate::logic::pfkey::sockopt::SockPolicy;
use crate::logic::spd::MAX_TEMPLATES;
use crate::logic::stats::Stat;
use crate::logic::types::{Action, Dir, Level, Mode};
use crate::netns::Ns;
use crate::sys::aead::{self, Completion, Run};
use crate::sys::bundle::{self, BundleEntry};
use crate::sys::dst::{self, Dst, DstRef};
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
const IPPROTO_ESP: u8 = 50;
/// Room left in front for link-layer headers (LL_MAX_HEADER-ish).
const LL_ROOM: usize = 128;

/// LOCAL_OUT / FORWARD: picks the policy and attaches the bundle.
pub(crate) fn attach(ns: &Ns, pkt: &mut Pkt, v6: bool) -> Verdict {
    let dp = &ns.dp;
    let g = RcuGuard::new();
    // A socket's own policy wins over the SPD (the xfrm core has already
    // refused what it blocks).
    match crate::sys::sockpol::outbound(pkt) {
        Some(SockPolicy::Bypass) => return Verdict::Accept,
        Some(SockPolicy::Discard) => {
            dp.count(Stat::XfrmOutPolBlock);
            return Verdict::Drop;
        }
        None => {}
    }
    if dp.spd.is_empty(&g) {
        return Verdict::Accept;
    }
    let route = match pkt.dst() {
        Some(r) if !r.is_bundle() && !r.no_xfrm() => r,
        _ => return Verdict::Accept,
    };
    let Some(f) = flow(pkt, v6) else {
        return Verdict::Accept;
    };
    let Some(pd) = dp.spd.lookup(&g, Dir::Outbound, &f.key) else {
        return Verdict::Accept;
    };
    match pd.action {
        Action::Ipsec => {}
        Action::Discard => {
            dp.count(Stat::XfrmOutPolBlock);
            return Verdict::Drop;
        }
        _ => return Verdict::Accept,
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
        None => match build(ns, &g, pd, &f, &route, genid) {
            Ok(b) => {
                *pd.cache.lock() = Some(Cached {
                    route: route.clone(),
                    src: f.key.src,
                    dst: f.key.dst,
                    bundle: b.clone(),
                    genid,
                });
                b
            }
            Err(v) => return v,
        },
    };
    if let Some(b) = bundle {
        cache_in_socket(pkt, &route, &b);
        pkt.set_dst(b);
    }
    Verdict::Accept
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

/// Most bytes an entry adds: ESP header, IV, worst padding, trailer, ICV,
/// and the outer header in tunnel mode.
fn overhead(l: &EspLayout, outer: Option<u16>) -> u16 {
    let ip = match outer {
        Some(AF_INET) => 20,
        Some(_) => 40,
        None => 0,
    };
    (ESP_HDR_LEN + l.iv_len + l.block + 1 + l.icv_len + ip) as u16
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
) -> Result<Option<DstRef>, Verdict> {
    let (net, dp) = (ns.net(), &ns.dp);
    let mut chosen: [Option<(Arc<DpSa>, u16, Option<u16>)>; MAX_TEMPLATES] = Default::default();
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
        if tunnel {
            local = t.src;
            remote = t.dst;
            fam = family(&t.dst);
            let Some(r) = route_to(net, &t.dst, &t.src) else {
                dp.count(Stat::XfrmOutBundleGenError);
                return Err(Verdict::Drop);
            };
            last_route = r;
        }
        match sa {
            Some(sa) => {
                let o = overhead(&sa.layout, tunnel.then_some(fam));
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
        dp.count(Stat::XfrmOutNoStates);
        return Err(Verdict::Drop);
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
        let Ok(entry) = Arc::new(entry, GFP_ATOMIC) else {
            dp.count(Stat::XfrmOutBundleGenError);
            return Err(Verdict::Drop);
        };
        match bundle::new_entry(&after, entry) {
            Some(e) => next = Some(e),
            None => {
                dp.count(Stat::XfrmOutBundleGenError);
                return Err(Verdict::Drop);
            }
        }
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
    overhead: u16,
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
            return esp_output(ns, self, next, pkt);
        }
        let Some(segs) = pkt.segment() else {
            ns.dp.count(Stat::XfrmOutError);
            return -(kernel::bindings::ENOMEM as c_int);
        };
        for seg in segs {
            let _ = esp_output(ns, self, next, seg);
        }
        0
    }

    fn is_current(&self, net: Net) -> bool {
        crate::netns::state(&net).is_some_and(|ns| ns.dp.genid() == self.genid)
    }

    fn overhead(&self) -> u32 {
        u32::from(self.overhead)
    }
}

struct OutCtx {
    pkt: Pkt,
    next: DstRef,
    /// Counted: an asynchronous completion may outlive the call.
    net: ARef<NetNs>,
    esp_off: usize,
    /// ESN: what `esn_frame` borrowed in front of the ESP header.
    esn_saved: Option<[u8; 4]>,
}

impl Completion for OutCtx {
    fn buffer(&mut self) -> &mut [u8] {
        let off = self
            .esp_off
            .saturating_sub(if self.esn_saved.is_some() { 4 } else { 0 });
        self.pkt.bytes_mut().get_mut(off..).unwrap_or(&mut [])
    }

    fn complete(self: KBox<Self>, err: c_int) {
        let _ = encrypted(KBox::into_inner(self), err);
    }
}

/// Where ESP goes in a transport-mode packet, and the byte naming the
/// protocol after the headers ESP follows.
fn transport_split(b: &[u8], v6: bool) -> Option<(usize, usize)> {
    if !v6 {
        return Some((usize::from(*b.first()? & 0x0f) * 4, 9));
    }
    // After hop-by-hop and routing headers (those the path must see).
    let (mut pos, mut off) = (6usize, 40usize);
    while matches!(*b.get(pos)?, 0 | 43) {
        let len = (usize::from(*b.get(off + 1)?) + 1) * 8;
        pos = off;
        off += len;
    }
    Some((off, pos))
}

/// Applies the entry's SA (ESP) to one packet and sends it on to `next`.
fn esp_output(ns: &Ns, entry: &XfrmEntry, next: &Dst, mut pkt: Pkt) -> c_int {
    let (net, dp) = (ns.net(), &ns.dp);
    let sa = &entry.sa;
    let l = sa.layout;
    let tunnel = entry.tunnel;
    let drop_with = |s: Stat| {
        dp.count(s);
        -(kernel::bindings::EINVAL as c_int)
    };
    if !pkt.checksum_help() {
        return drop_with(Stat::XfrmOutError);
    }
    let mut first = [0u8; 8];
    if pkt.copy_out(0, &mut first).is_none() {
        return drop_with(Stat::XfrmOutError);
    }
    let v6_in = first[0] >> 4 == 6;
    let df_in = !v6_in && first[6] & 0x40 != 0;
    let outer_v6 = if tunnel {
        matches!(sa.ident.dst, IpAddr::V6(_))
    } else {
        v6_in
    };
    let outer_h = if !tunnel {
        0
    } else if outer_v6 {
        40
    } else {
        20
    };
    let esp_h = ESP_HDR_LEN + l.iv_len;
    if pkt
        .make_private(LL_ROOM + outer_h + esp_h, l.block + 2 + l.icv_len)
        .is_err()
    {
        return drop_with(Stat::XfrmOutError);
    }
    let len = pkt.len();
    let (l3h, nh_pos) = if tunnel {
        (0, 0)
    } else {
        match transport_split(pkt.bytes_mut(), v6_in) {
            Some(x) if x.0 <= len => x,
            _ => return drop_with(Stat::XfrmOutError),
        }
    };
    let payload = len - l3h;
    let pad = l.pad_len(payload);
    let new_len = len + outer_h + esp_h + pad + 2 + l.icv_len;
    // Tunnel mode: the outer path has its own route, so an inner packet
    // that no longer fits is refused with the inner MTU (ICMP), as
    // xfrm4/6_tunnel_check_size do. Transport mode shares the route with
    // the inner packet (a PMTU learnt there would shrink the outer path
    // too): TCP sockets cache the bundle and fit; a datagram socket that
    // forbade fragmentation (IP(V6)_PMTUDISC_DO: DF, no ignore_df) gets
    // EMSGSIZE from its send, as against Linux's bundle MTU; anything else
    // leaves as outer fragments (RFC 4303 §3.3.4).
    let mtu = next.mtu() as usize;
    if tunnel && new_len > mtu && (outer_v6 || df_in) && !pkt.ignore_df() {
        dp.count(Stat::RxfrmOutMtuExceeded);
        let inner_mtu = l.payload_mtu(mtu as u32, (esp_h + outer_h) as u32, 0);
        // ICMP needs a route of the packet's own family to answer along.
        if !next.is_bundle() && v6_in == (entry.family == AF_INET6) {
            pkt.set_dst(DstRef::from(next));
            pkt.too_big(v6_in, inner_mtu);
        }
        return -(kernel::bindings::EMSGSIZE as c_int);
    }
    if !tunnel && new_len > mtu {
        if (v6_in || df_in) && !pkt.ignore_df() && pkt.from_dgram_socket() {
            dp.count(Stat::RxfrmOutMtuExceeded);
            return -(kernel::bindings::EMSGSIZE as c_int);
        }
        pkt.set_ignore_df();
    }
    let Some(seq) = sa.next_seq() else {
        return drop_with(Stat::XfrmOutStateSeqError);
    };
    dp.touch();
    if !sa.charge(len) {
        ns.kick();
        return drop_with(Stat::XfrmOutStateExpired);
    }
    let esp_off = if tunnel { outer_h } else { l3h };
    let next_header;
    if tunnel {
        next_header = if v6_in { 41 } else { 4 };
        if !pkt.push(outer_h + esp_h) {
            return drop_with(Stat::XfrmOutError);
        }
    } else {
        next_header = pkt.bytes_mut().get(nh_pos).copied().unwrap_or(0);
        if !pkt.push(esp_h) {
            return drop_with(Stat::XfrmOutError);
        }
        let b = pkt.bytes_mut();
        b.copy_within(esp_h..esp_h + l3h, 0);
    }
    if !pkt.put(pad + 2 + l.icv_len) {
        return drop_with(Stat::XfrmOutError);
    }
    let total = pkt.len();
    let tr_off = esp_off + esp_h + payload;
    let hop = next.hop_limit(outer_v6);
    {
        let b = pkt.bytes_mut();
        let ok = b
            .get_mut(tr_off..tr_off + pad + 2)
            .is_some_and(|t| l.write_trailer(t, pad, next_header).is_ok());
        if !ok {
            return drop_with(Stat::XfrmOutError);
        }
        if let Some(h) = b.get_mut(esp_off..esp_off + 8) {
            h[..4].copy_from_slice(&sa.ident.spi.to_be_bytes());
            h[4..].copy_from_slice(&(seq as u32).to_be_bytes());
        }
        if tunnel {
            write_outer(
                b,
                &first,
                v6_in,
                outer_v6,
                total,
                hop,
                &sa.ident.src,
                &sa.ident.dst,
            );
        } else if v6_in {
            if let Some(x) = b.get_mut(nh_pos) {
                *x = IPPROTO_ESP;
            }
            let pl = ((total - 40) as u16).to_be_bytes();
            if let Some(x) = b.get_mut(4..6) {
                x.copy_from_slice(&pl);
            }
        } else {
            if let Some(x) = b.get_mut(9) {
                *x = IPPROTO_ESP;
            }
            if let Some(x) = b.get_mut(2..4) {
                x.copy_from_slice(&(total as u16).to_be_bytes());
            }
        }
    }
    pkt.set_network_header(0);
    if tunnel {
        pkt.clear_ipcb();
        pkt.set_protocol(if outer_v6 { 0x86dd } else { 0x0800 });
        if !outer_v6 {
            pkt.ip_select_ident(net);
        }
    }
    if !outer_v6 {
        pkt.ip_send_check();
    }
    // After the checksum: the borrowed bytes are back before it is sent.
    let Ok(esn_saved) = sa.frame(pkt.bytes_mut(), esp_off, seq) else {
        return drop_with(Stat::XfrmOutError);
    };
    // The namespace is being dismantled: nothing may outlive this call.
    let Some(net) = net.counted() else {
        return drop_with(Stat::XfrmOutError);
    };
    let ctx = OutCtx {
        pkt,
        next: DstRef::from(next),
        net,
        esp_off,
        esn_saved,
    };
    let Ok(ctx) = KBox::new(ctx, GFP_ATOMIC) else {
        return drop_with(Stat::XfrmOutError);
    };
    let cryptlen = l.iv_len + payload + pad + 2;
    match aead::run(sa.aead(), true, sa.assoclen(), cryptlen, seq, ctx) {
        Run::Done(ctx, err) => encrypted(KBox::into_inner(ctx), err),
        Run::Pending => 0,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_outer(
    b: &mut [u8],
    inner: &[u8; 8],
    v6_in: bool,
    v6: bool,
    total: usize,
    hop: u8,
    src: &IpAddr,
    dst: &IpAddr,
) {
    // DSCP carries over; ECN does not (RFC 6040's compatibility mode).
    let tos = if v6_in {
        ((inner[0] & 0x0f) << 4) | (inner[1] >> 4)
    } else {
        inner[1]
    } & 0xfc;
    match (v6, src, dst) {
        (false, IpAddr::V4(s), IpAddr::V4(d)) => {
            let Some(h) = b.get_mut(..20) else { return };
            let df = if !v6_in && inner[6] & 0x40 != 0 {
                0x40
            } else {
                0
            };
            h.copy_from_slice(&[
                0x45,
                tos,
                0,
                0,
                0,
                0,
                df,
                0,
                hop,
                IPPROTO_ESP,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ]);
            h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            h[12..16].copy_from_slice(s);
            h[16..20].copy_from_slice(d);
        }
        (true, IpAddr::V6(s), IpAddr::V6(d)) => {
            let Some(h) = b.get_mut(..40) else { return };
            h[..8].copy_from_slice(&[
                0x60 | (tos >> 4),
                (tos & 0x0f) << 4,
                0,
                0,
                0,
                0,
                IPPROTO_ESP,
                hop,
            ]);
            h[4..6].copy_from_slice(&((total - 40) as u16).to_be_bytes());
            h[8..24].copy_from_slice(s);
            h[24..40].copy_from_slice(d);
        }
        _ => {}
    }
}

/// After encryption: on to the next entry or the route.
fn encrypted(c: OutCtx, err: c_int) -> c_int {
    if err != 0 {
        if let Some(ns) = crate::netns::state(&c.net.net()) {
            ns.dp.count(Stat::XfrmOutStateProtoError);
        }
        return err;
    }
    let OutCtx {
        mut pkt,
        next,
        net,
        esp_off,
        esn_saved,
    } = c;
    if let Some(saved) = esn_saved {
        esn_unframe(pkt.bytes_mut(), esp_off, saved);
    }
    pkt.set_dst(next);
    pkt.output(net.net())
}
