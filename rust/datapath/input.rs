//! Input: the protocol handlers of ESP (50), AH (51) and IPcomp (108), one
//! path for all three as Linux's `xfrm_input`: find the SA by (destination,
//! SPI/CPI, protocol), check the replay window before the crypto (ESP, AH),
//! let the SA's transform verify and remove what it added (`xform`), then
//! advance the window, let the mode strip the rest (`mode::decapsulate`),
//! record the SA in the packet's sec_path and hand the packet back to the
//! stack (`mode::reinject`). A nested packet (ESP inside AH, ...) comes
//! back through here for each layer; what it went through is checked
//! against the inbound policy at LOCAL_IN/FORWARD (`verify`).
//!
//! Also the ICMP error handlers (`esp4_err`/`ah4_err`/`ipcomp4_err`...):
//! an ICMP error about a packet of one of our SAs updates its route's PMTU.

use super::mode;
use super::sa::{Applied, DpSa};
use super::xform::{self, Xform};
use super::InKey;
use crate::logic::spi::{ip_dst as outer_dst, spi_seq};
use crate::logic::stats::Stat;
use crate::logic::types::{IpsecProto, Mode};
use crate::netns::Ns;
use crate::sys::inflight::InFlightRef;
use crate::sys::net::{DevRef, NetNs};
use crate::sys::packet::Pkt;
use crate::sys::proto::{
    IcmpError, ProtoHandler, ICMPV6_PKT_TOOBIG, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_REDIRECT,
    NDISC_REDIRECT,
};
use crate::sys::rcu::RcuGuard;
use crate::sys::secpath::{self, PushError};
use core::sync::atomic::Ordering;
use kernel::ffi::c_int;
use kernel::sync::Arc;
use kernel::types::ARef;

/// ESP (IP protocol 50).
pub(crate) struct Esp;
/// AH (IP protocol 51).
pub(crate) struct Ah;
/// IPcomp (IP protocol 108).
pub(crate) struct IpComp;

macro_rules! handler {
    ($t:ident, $proto:expr, $name:expr, $p:expr) => {
        impl ProtoHandler for $t {
            const PROTO: u8 = $proto;
            const NAME: &'static str = $name;

            fn rcv(pkt: Pkt, v6: bool) -> c_int {
                xfrm_rcv(pkt, v6, $p);
                0
            }

            fn err(pkt: &Pkt, v6: bool, e: IcmpError) -> c_int {
                icmp_err(pkt, v6, e, $p);
                0
            }
        }
    };
}
handler!(Esp, 50, "ESP", IpsecProto::Esp);
handler!(Ah, 51, "AH", IpsecProto::Ah);
handler!(IpComp, 108, "IPcomp", IpsecProto::IpComp);

/// A packet between the SA lookup and its re-injection: what the
/// transform's input half needs, and what finishes it (possibly from an
/// asynchronous crypto completion).
pub(crate) struct InPkt {
    /// Data at the transform's header, network header at the outer IP
    /// header.
    pub(crate) pkt: Pkt,
    pub(crate) sa: Arc<DpSa>,
    /// Counted: an asynchronous completion may outlive the call.
    pub(crate) net: ARef<NetNs>,
    pub(crate) v6: bool,
    /// Bytes of outer IP header(s) in front of the transform.
    pub(crate) l3_len: usize,
    /// The sequence number (0 for IPcomp), as the replay window inferred
    /// it (ESN: with its high half).
    pub(crate) seq: u64,
    /// The device the packet came on, re-injected on after an
    /// asynchronous completion (dropped after that).
    _dev: Option<DevRef>,
    /// Counted until the packet is done: teardown waits for it.
    _inflight: InFlightRef,
}

impl InPkt {
    fn ns(&self) -> Option<&Ns> {
        crate::netns::state_of(&self.net)
    }

    /// Dropped, and counted.
    pub(crate) fn failed(self, s: Stat) {
        if let Some(ns) = self.ns() {
            ns.dp.count(s);
        }
    }

    /// The ICV did not verify: counted for the SA too (`setkey -D`).
    pub(crate) fn integrity_failed(self) {
        self.sa
            .counters
            .integrity_fails
            .fetch_add(1, Ordering::Relaxed);
        if let Some(ns) = self.ns() {
            ns.dp.touch();
        }
        self.failed(Stat::XfrmInStateProtoError)
    }
}

/// What a transform verified and will have removed: `strip` header bytes
/// in front of `payload_len` bytes of payload naming `next`.
pub(crate) struct Verified {
    pub(crate) strip: usize,
    pub(crate) payload_len: usize,
    pub(crate) next: u8,
}

impl Verified {
    /// The rest of `xfrm_input`: the replay window, the SA's counters and
    /// limits, the mode, the sec_path, re-injection.
    pub(crate) fn finish(self, mut i: InPkt) {
        let net = i.net.clone();
        let Some(ns) = crate::netns::state_of(&net) else {
            return;
        };
        let dp = &ns.dp;
        let sa = i.sa.clone();
        if sa.xform.replay_protected() && sa.replay_advance(i.seq).is_err() {
            sa.counters.replay_fails.fetch_add(1, Ordering::Relaxed);
            dp.touch();
            return dp.count(Stat::XfrmInStateSeqError);
        }
        dp.touch();
        if !sa.charge(i.l3_len + i.pkt.len()) {
            return dp.count(Stat::XfrmInStateExpired);
        }
        // Mode "any" (KAME) decapsulates whatever the packet holds.
        let tunnel = match sa.ident.mode {
            Mode::Tunnel => true,
            Mode::Transport => false,
            Mode::Any => matches!(self.next, mode::IPPROTO_IPIP | mode::IPPROTO_IPV6),
        };
        if tunnel && !matches!(self.next, mode::IPPROTO_IPIP | mode::IPPROTO_IPV6) {
            return dp.count(Stat::XfrmInStateModeError);
        }
        let Some(inner_v6) = mode::decapsulate(
            &mut i.pkt,
            i.v6,
            i.l3_len,
            self.strip,
            self.payload_len,
            self.next,
            tunnel,
        ) else {
            return dp.count(Stat::XfrmInHdrError);
        };
        let how = if tunnel {
            Applied::Tunnel
        } else {
            Applied::Transport
        };
        if let Err(e) = record(&mut i.pkt, &sa, how) {
            return dp.count(e);
        }
        let InPkt { pkt, .. } = i;
        mode::reinject(pkt, inner_v6, tunnel);
    }
}

/// Records in `pkt`'s sec_path that `sa` was applied `how`.
pub(super) fn record(pkt: &mut Pkt, sa: &DpSa, how: Applied) -> Result<(), Stat> {
    let s = sa.shadow(how).ok_or(Stat::XfrmInError)?;
    match secpath::push(pkt, s) {
        Ok(()) => Ok(()),
        // Linux: more than XFRM_MAX_DEPTH layers is XfrmInBufferError.
        Err(PushError::Full) => Err(Stat::XfrmInBufferError),
        Err(PushError::NoMem) => Err(Stat::XfrmInError),
    }
}

/// The protocol handler of all three. Always consumes the packet.
fn xfrm_rcv(mut pkt: Pkt, v6: bool, proto: IpsecProto) {
    let Some(net) = pkt.net() else {
        return;
    };
    let Some(ns) = crate::netns::state(&net) else {
        return;
    };
    let dp = &ns.dp;
    let Ok(l3_len) = usize::try_from(-pkt.network_offset()) else {
        dp.count(Stat::XfrmInHdrError);
        return;
    };
    if pkt.make_private(0, 0).is_err() {
        dp.count(Stat::XfrmInBufferError);
        return;
    }
    let l3 = pkt.l3_mut();
    let (Some(dst), Some((spi, seq_lo))) = (
        outer_dst(l3, v6),
        l3.get(l3_len..).and_then(|b| spi_seq(proto, b)),
    ) else {
        dp.count(Stat::XfrmInHdrError);
        return;
    };
    let key = InKey { dst, spi, proto };
    let Some(sa) = dp.sa_in.get(&RcuGuard::new(), &key).cloned() else {
        dp.count(Stat::XfrmInNoStates);
        return;
    };
    if sa.expired.load(Ordering::Relaxed) {
        dp.count(Stat::XfrmInStateExpired);
        return;
    }
    let seq = if sa.xform.replay_protected() {
        match sa.replay_check(seq_lo) {
            Ok(s) => s,
            Err(_) => {
                sa.counters.replay_fails.fetch_add(1, Ordering::Relaxed);
                dp.touch();
                dp.count(Stat::XfrmInStateSeqError);
                return;
            }
        }
    } else {
        0
    };
    // The namespace is being dismantled: nothing may outlive this call.
    let Some(net) = net.counted() else {
        dp.count(Stat::XfrmInError);
        return;
    };
    let i = InPkt {
        _dev: pkt.hold_dev(),
        _inflight: dp.inflight.enter(),
        pkt,
        sa: sa.clone(),
        net,
        v6,
        l3_len,
        seq,
    };
    match &sa.xform {
        Xform::Esp(_) => xform::esp::input(i),
        Xform::Ah(_) => xform::ah::input(i),
        Xform::IpComp(_) => xform::ipcomp::input(i),
    }
}

/// An ICMP error about a packet one of our SAs sent (`esp4_err`,
/// `ah4_err`, `ipcomp4_err` and their IPv6 twins): "fragmentation needed"
/// / "packet too big" updates the PMTU of the route towards the SA's peer,
/// a redirect its next hop. Anything else, or a packet of no SA of ours,
/// is ignored.
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
    // The quoted IP header, then the SPI/CPI.
    let mut ip = [0u8; 40];
    let ip_len = if v6 { 40 } else { 20 };
    let Some(ip) = ip.get_mut(..ip_len) else {
        return;
    };
    let mut hdr = [0u8; 12];
    let n = match proto {
        IpsecProto::Esp => 8,
        IpsecProto::Ah => 12,
        IpsecProto::IpComp => 4,
    };
    let Some(hdr) = hdr.get_mut(..n) else {
        return;
    };
    if pkt.copy_out(0, ip).is_none() || pkt.copy_out(e.offset, hdr).is_none() {
        return;
    }
    let (Some(dst), Some((spi, _))) = (outer_dst(ip, v6), spi_seq(proto, hdr)) else {
        return;
    };
    if ns
        .dp
        .sa_in
        .get(&RcuGuard::new(), &InKey { dst, spi, proto })
        .is_none()
    {
        return;
    }
    if pmtu {
        pkt.update_pmtu(net, v6, e.info, proto as u8);
    } else {
        pkt.redirect(net, v6, proto as u8);
    }
}
