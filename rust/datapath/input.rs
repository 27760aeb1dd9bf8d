//! Input: the ESP protocol handler (decrypt, check, strip, hand back to
//! the stack) and the inbound policy check at LOCAL_IN / FORWARD, which
//! verifies decapsulated packets against their policy's templates and
//! refuses clear text a policy requires protection for.
//!
//! Both modes re-inject the decapsulated packet (`netif_rx`), so that it
//! meets netfilter, routing and the policy check like any packet, as
//! xfrm_input does for tunnels. It carries a tag (a word in `skb->cb`)
//! naming the SA that decapsulated it, keyed to the skb's address and a
//! per-namespace secret so that nothing else can produce one.

use super::hooks::flow;
use super::sa::DpSa;
use super::{Dp, InKey};
use crate::logic::addr::IpAddr;
use crate::logic::esp::{esn_unframe, parse_trailer, EspError, EspHeader, ESP_HDR_LEN};
use crate::logic::secpath::{verify, verify_no_policy, AppliedSa};
use crate::logic::stats::Stat;
use crate::logic::types::{Action, Dir, IpsecProto, Mode};
use crate::netns::Ns;
use crate::sys::aead::{self, Completion, Run};
use crate::sys::net::NetNs;
use crate::sys::nf::Verdict;
use crate::sys::packet::Pkt;
use crate::sys::proto::{
    IcmpError, ProtoHandler, ICMPV6_PKT_TOOBIG, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_REDIRECT,
    NDISC_REDIRECT,
};
use crate::sys::rcu::RcuGuard;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ARef;

const EBADMSG: c_int = -(kernel::bindings::EBADMSG as c_int);
const NEXTHDR_NONE: u8 = 59;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;

fn tag(dp: &Dp, pkt: &Pkt) -> u64 {
    (dp.secret ^ pkt.as_ptr() as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(29)
}

/// Tags carry the SA id and this bit when the packet was a tunnel's.
const TAG_TUNNEL: u64 = 1 << 40;

/// The SA a re-injected packet was decapsulated with, if it was, and
/// whether as a tunnel.
fn tagged_sa(dp: &Dp, pkt: &Pkt, g: &RcuGuard) -> Option<(Arc<DpSa>, bool)> {
    let m = pkt.cb_tag() ^ tag(dp, pkt);
    let id = m & !TAG_TUNNEL;
    // SAD ids are small; anything else is not a tag of ours.
    if id == 0 || id >> 40 != 0 {
        return None;
    }
    Some((dp.sa_by_id(g, id)?, m & TAG_TUNNEL != 0))
}

fn applied(sa: &DpSa, tunnel: bool) -> AppliedSa {
    AppliedSa {
        proto: sa.ident.proto,
        mode: if tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        },
        spi: sa.ident.spi,
        reqid: sa.ident.reqid,
        src: sa.ident.src,
        dst: sa.ident.dst,
    }
}

/// LOCAL_IN (`Dir::Inbound`) and FORWARD (`Dir::Forward`).
pub(crate) fn check(ns: &Ns, pkt: &mut Pkt, v6: bool, dir: Dir) -> Verdict {
    let (net, dp) = (ns.net(), &ns.dp);
    let g = RcuGuard::new();
    let sa = tagged_sa(dp, pkt, &g);
    if sa.is_none() && dp.spd.is_empty(&g) {
        return Verdict::Accept;
    }
    let Some(f) = flow(pkt, v6) else {
        return Verdict::Accept;
    };
    let pol = dp.spd.lookup(&g, dir, &f.key);
    if let Some((sa, tunnel)) = sa {
        pkt.set_cb_tag(0);
        let a = [applied(&sa, tunnel)];
        let ok = match pol {
            None => verify_no_policy(&a).is_ok(),
            Some(p) if p.action == Action::Discard => {
                dp.count(Stat::XfrmInPolBlock);
                return Verdict::Drop;
            }
            Some(p) if p.action == Action::Ipsec => verify(&p.templates, &a).is_ok(),
            Some(_) => verify(&[], &a).is_ok(),
        };
        if !ok {
            dp.count(if pol.is_some() {
                Stat::XfrmInTmplMismatch
            } else {
                Stat::XfrmInNoPols
            });
            return Verdict::Drop;
        }
        return Verdict::Accept;
    }
    // Clear text. IPsec packets for this host are the protocol handlers';
    // loopback traffic is never checked (Linux: lo is nopolicy).
    if (dir == Dir::Inbound && matches!(f.key.proto, 50 | 51 | 108)) || pkt.from_loopback() {
        return Verdict::Accept;
    }
    let refused = match pol {
        None => None,
        Some(p) if p.action == Action::Discard => Some(Stat::XfrmInPolBlock),
        Some(p) if p.action == Action::Ipsec && verify(&p.templates, &[]).is_err() => {
            Some(Stat::XfrmInTmplMismatch)
        }
        Some(_) => None,
    };
    let Some(stat) = refused else {
        return Verdict::Accept;
    };
    // A UDP socket with its own bypass policy (an IKE daemon's) takes clear
    // text whatever the SPD says, as the socket policy wins on Linux.
    if dir == Dir::Inbound && f.key.proto == 17 {
        let k = &f.key;
        if crate::sys::sockpol::udp_inbound(net, pkt, &k.src, k.sport, &k.dst, k.dport)
            == Some(crate::logic::pfkey::sockopt::SockPolicy::Bypass)
        {
            return Verdict::Accept;
        }
    }
    dp.count(stat);
    Verdict::Drop
}

/// A packet between decryption and re-injection.
struct InCtx {
    pkt: Pkt,
    sa: Arc<DpSa>,
    /// Counted: an asynchronous completion may outlive the call.
    net: ARef<NetNs>,
    v6: bool,
    /// Length of the outer IP header(s) in front of ESP.
    l3_len: usize,
    seq: u64,
    /// ESN: what `esn_frame` borrowed in front of the ESP header.
    esn_saved: Option<[u8; 4]>,
}

impl Completion for InCtx {
    fn buffer(&mut self) -> &mut [u8] {
        let off = self
            .l3_len
            .saturating_sub(if self.esn_saved.is_some() { 4 } else { 0 });
        self.pkt.l3_mut().get_mut(off..).unwrap_or(&mut [])
    }

    fn complete(self: KBox<Self>, err: c_int) {
        decrypted(KBox::into_inner(self), err);
    }
}

fn outer_dst(l3: &[u8], v6: bool) -> Option<IpAddr> {
    if v6 {
        Some(IpAddr::V6(l3.get(24..40)?.try_into().ok()?))
    } else {
        Some(IpAddr::V4(l3.get(16..20)?.try_into().ok()?))
    }
}

/// ESP (IP protocol 50).
pub(crate) struct Esp;

impl ProtoHandler for Esp {
    const PROTO: u8 = 50;
    const NAME: &'static str = "ESP";

    fn rcv(pkt: Pkt, v6: bool) -> c_int {
        esp_rcv(pkt, v6)
    }

    fn err(pkt: &Pkt, v6: bool, e: IcmpError) -> c_int {
        icmp_err(pkt, v6, e, IpsecProto::Esp);
        0
    }
}

/// An ICMP error about a packet one of our SAs sent (`esp4_err`,
/// `esp6_err`): "fragmentation needed"/"packet too big" updates the PMTU of
/// the route towards the SA's peer, a redirect its next hop. Anything else,
/// or a packet of no SA of ours, is ignored.
fn icmp_err(pkt: &Pkt, v6: bool, e: IcmpError, proto: IpsecProto) {
    let pmtu = if v6 {
        match e.kind {
            ICMPV6_PKT_TOOBIG => true,
            NDISC_REDIRECT => false,
            _ => return,
        }
    } else {
        match (e.kind, e.code) {
            (ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED) => true,
            (ICMP_REDIRECT, _) => false,
            _ => return,
        }
    };
    let Some(net) = pkt.net() else {
        return;
    };
    let Some(ns) = crate::netns::state(&net) else {
        return;
    };
    // The quoted IP header, then the SPI (ESP, AH: at bytes 0 and 4).
    let mut ip = [0u8; 40];
    let ip_len = if v6 { 40 } else { 20 };
    let Some(ip) = ip.get_mut(..ip_len) else {
        return;
    };
    let spi_off = if proto == IpsecProto::Ah { 4 } else { 0 };
    let mut spi = [0u8; 4];
    if pkt.copy_out(0, ip).is_none() || pkt.copy_out(e.offset + spi_off, &mut spi).is_none() {
        return;
    }
    let Some(dst) = outer_dst(ip, v6) else {
        return;
    };
    let key = InKey {
        dst,
        spi: u32::from_be_bytes(spi),
        proto,
    };
    if ns.dp.sa_in.get(&RcuGuard::new(), &key).is_none() {
        return;
    }
    if pmtu {
        pkt.update_pmtu(net, v6, e.info, proto as u8);
    } else {
        pkt.redirect(net, v6, proto as u8);
    }
}

/// The ESP protocol handler (IPv4 and IPv6). Always consumes the packet.
fn esp_rcv(mut pkt: Pkt, v6: bool) -> c_int {
    let Some(net) = pkt.net() else {
        return 0;
    };
    let Some(ns) = crate::netns::state(&net) else {
        return 0;
    };
    let dp = &ns.dp;
    let Ok(l3_len) = usize::try_from(-pkt.network_offset()) else {
        dp.count(Stat::XfrmInHdrError);
        return 0;
    };
    if pkt.make_private(0, 0).is_err() {
        dp.count(Stat::XfrmInBufferError);
        return 0;
    }
    let l3 = pkt.l3_mut();
    let (Some(dst), Some(esp)) = (outer_dst(l3, v6), l3.get(l3_len..)) else {
        dp.count(Stat::XfrmInHdrError);
        return 0;
    };
    let Ok(h) = EspHeader::new_checked(&*esp) else {
        dp.count(Stat::XfrmInHdrError);
        return 0;
    };
    let (spi, seq_lo, esp_len) = (h.spi(), h.seq(), esp.len());
    let key = InKey {
        dst,
        spi,
        proto: IpsecProto::Esp,
    };
    let Some(sa) = dp.sa_in.get(&RcuGuard::new(), &key).cloned() else {
        dp.count(Stat::XfrmInNoStates);
        return 0;
    };
    if sa.expired.load(core::sync::atomic::Ordering::Relaxed) {
        dp.count(Stat::XfrmInStateExpired);
        return 0;
    }
    let seq = match sa.replay_check(seq_lo) {
        Ok(s) => s,
        Err(_) => {
            sa.counters
                .replay_fails
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            dp.touch();
            dp.count(Stat::XfrmInStateSeqError);
            return 0;
        }
    };
    let l = sa.layout;
    let fixed = ESP_HDR_LEN + l.iv_len + l.icv_len;
    let ct = esp_len
        .checked_sub(fixed)
        .filter(|&c| c >= 2 && c & (l.block - 1) == 0);
    if ct.is_none() {
        dp.count(Stat::XfrmInHdrError);
        return 0;
    }
    let Ok(esn_saved) = sa.frame(pkt.l3_mut(), l3_len, seq) else {
        dp.count(Stat::XfrmInHdrError);
        return 0;
    };
    // The namespace is being dismantled: nothing may outlive this call.
    let Some(net) = net.counted() else {
        dp.count(Stat::XfrmInError);
        return 0;
    };
    let ctx = KBox::new(
        InCtx {
            pkt,
            sa: sa.clone(),
            net,
            v6,
            l3_len,
            seq,
            esn_saved,
        },
        GFP_ATOMIC,
    );
    let Ok(ctx) = ctx else {
        dp.count(Stat::XfrmInBufferError);
        return 0;
    };
    match aead::run(
        sa.aead(),
        false,
        sa.assoclen(),
        esp_len - ESP_HDR_LEN,
        0,
        ctx,
    ) {
        Run::Done(ctx, err) => decrypted(KBox::into_inner(ctx), err),
        Run::Pending => {}
    }
    0
}

/// After decryption (in the handler, or from the crypto driver).
fn decrypted(mut c: InCtx, err: c_int) {
    if let Some(saved) = c.esn_saved {
        esn_unframe(c.pkt.l3_mut(), c.l3_len, saved);
    }
    let net = c.net.net();
    let Some(ns) = crate::netns::state(&net) else {
        return;
    };
    let dp = &ns.dp;
    let sa = c.sa.clone();
    let relaxed = core::sync::atomic::Ordering::Relaxed;
    if err != 0 {
        if err == EBADMSG {
            sa.counters.integrity_fails.fetch_add(1, relaxed);
            dp.touch();
            dp.count(Stat::XfrmInStateProtoError);
        } else {
            dp.count(Stat::XfrmInError);
        }
        return;
    }
    if sa.replay_advance(c.seq).is_err() {
        sa.counters.replay_fails.fetch_add(1, relaxed);
        dp.count(Stat::XfrmInStateSeqError);
        dp.touch();
        return;
    }
    dp.touch();
    if !sa.charge(c.pkt.len()) {
        dp.count(Stat::XfrmInStateExpired);
        return;
    }
    let l = sa.layout;
    let esp_h = ESP_HDR_LEN + l.iv_len;
    let l3_len = c.l3_len;
    let l3 = c.pkt.l3_mut();
    let end = l3.len().saturating_sub(l.icv_len);
    let Some(plain) = l3.get(l3_len + esp_h..end) else {
        dp.count(Stat::XfrmInHdrError);
        return;
    };
    let tr = match parse_trailer(plain) {
        Ok(t) => t,
        Err(EspError::BadPadding) => {
            dp.count(Stat::RxfrmInPadError);
            return;
        }
        Err(_) => {
            dp.count(Stat::XfrmInStateProtoError);
            return;
        }
    };
    if tr.next_header == NEXTHDR_NONE {
        // A dummy packet (RFC 4303 §2.6): discarded silently.
        return;
    }
    // Mode "any" (KAME) decapsulates whatever the packet holds.
    let tunnel = match sa.ident.mode {
        Mode::Tunnel => true,
        Mode::Transport => false,
        Mode::Any => matches!(tr.next_header, IPPROTO_IPIP | IPPROTO_IPV6),
    };
    let inner_v6 = if tunnel {
        let v6 = match tr.next_header {
            IPPROTO_IPIP => false,
            IPPROTO_IPV6 => true,
            _ => {
                dp.count(Stat::XfrmInStateModeError);
                return;
            }
        };
        // data is at the ESP header: step over it to the inner packet.
        if !c.pkt.pull(esp_h) {
            return;
        }
        c.pkt.trim(tr.payload_len);
        v6
    } else {
        if strip_transport(
            &mut c.pkt,
            c.v6,
            l3_len,
            esp_h,
            tr.payload_len,
            tr.next_header,
        )
        .is_none()
        {
            dp.count(Stat::XfrmInHdrError);
            return;
        }
        c.v6
    };
    c.pkt.reset_for_reinject();
    c.pkt.set_protocol(if inner_v6 { 0x86dd } else { 0x0800 });
    if !inner_v6 && !tunnel {
        c.pkt.ip_send_check();
    }
    let t = (sa.id | if tunnel { TAG_TUNNEL } else { 0 }) ^ tag(dp, &c.pkt);
    c.pkt.set_cb_tag(t);
    c.pkt.netif_rx();
}

/// Transport mode: moves the IP header(s) up against the payload, fixes
/// protocol and length, and leaves `data` at the IP header.
fn strip_transport(
    pkt: &mut Pkt,
    v6: bool,
    l3_len: usize,
    esp_h: usize,
    plen: usize,
    nh: u8,
) -> Option<()> {
    let l3 = pkt.l3_mut();
    // Where the "next header" that named ESP sits (IPv6: last extension).
    let nh_pos = if v6 { ipv6_nexthdr_pos(l3, l3_len)? } else { 9 };
    *l3.get_mut(nh_pos)? = nh;
    if v6 {
        let pl = u16::try_from(l3_len - 40 + plen).ok()?;
        l3.get_mut(4..6)?.copy_from_slice(&pl.to_be_bytes());
    } else {
        let tl = u16::try_from(l3_len + plen).ok()?;
        l3.get_mut(2..4)?.copy_from_slice(&tl.to_be_bytes());
    }
    if l3.len() < l3_len + esp_h {
        return None;
    }
    l3.copy_within(0..l3_len, esp_h);
    // data: ESP header -> payload; then back over the moved header.
    if !pkt.pull(esp_h) {
        return None;
    }
    pkt.trim(plen);
    if !pkt.push(l3_len) {
        return None;
    }
    Some(())
}

/// The offset of the next-header byte that leads to the header at `end`.
fn ipv6_nexthdr_pos(l3: &[u8], end: usize) -> Option<usize> {
    let (mut pos, mut off) = (6usize, 40usize);
    while off < end {
        let len = match *l3.get(pos)? {
            44 => 8,
            51 => (usize::from(*l3.get(off + 1)?) + 2) * 4,
            _ => (usize::from(*l3.get(off + 1)?) + 1) * 8,
        };
        pos = off;
        off += len;
    }
    (off == end).then_some(pos)
}
