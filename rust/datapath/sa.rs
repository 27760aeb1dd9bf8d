//! An SA as the packet path sees it: identity, its transform (ESP, AH or
//! IPcomp, keyed), the sequence counter, the replay window, the counters
//! the control plane reads back into the SAD once a second, and the names
//! it goes by in packets' sec_paths.

use super::xform::Xform;
use crate::logic::addr::IpAddr;
use crate::logic::lifetime::Lifetime;
use crate::logic::replay::{ReplayError, ReplayWindow};
use crate::logic::sad::{Sa, SaIdent};
use crate::logic::secpath::{AppliedSa, SecPathEntry};
use crate::logic::types::Mode;
use crate::sys::bhlock::BhLock;
use crate::sys::net::Net;
use crate::sys::secpath::{Shadow, ShadowId};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Packet and byte counts, and the error counts `setkey -D` shows.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) replay_fails: AtomicU64,
    pub(crate) integrity_fails: AtomicU64,
}

/// How an SA was applied to an inbound packet.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    Transport,
    Tunnel,
    /// An IPcomp tunnel's packet that came uncompressed (plain IP-in-IP
    /// from the SA's peer, RFC 3173 §2.2).
    UncompressedTunnel,
}

/// The sec_path entries naming this SA, one per way it can be applied.
struct Shadows {
    transport: Shadow,
    tunnel: Shadow,
    uncompressed: Option<Shadow>,
}

#[pin_data]
pub(crate) struct DpSa {
    /// The SAD id this mirrors: set when it is mirrored (an SA built
    /// before ADD commits it has none yet), read only under the writer lock.
    id: AtomicU64,
    pub(crate) ident: SaIdent,
    pub(crate) xform: Xform,
    pub(crate) esn: bool,
    oseq: AtomicU64,
    #[pin]
    replay: BhLock<ReplayWindow>,
    /// Hard limits enforced per packet (0: none); updated by UPDATE.
    hard_bytes: AtomicU64,
    hard_packets: AtomicU64,
    /// Set when a hard limit is hit, until the SA is removed.
    pub(crate) expired: AtomicBool,
    pub(crate) counters: Counters,
    shadows: Shadows,
}

/// Why an SA has no datapath form.
pub(crate) enum Unusable {
    /// An algorithm with no transform here.
    Unsupported,
    /// The crypto API refused the transform or key (errno).
    Crypto(i32),
    Alloc,
}

impl Unusable {
    /// The errno an ADD that needed this SA fails with.
    pub(crate) fn errno(&self) -> i32 {
        match self {
            Unusable::Unsupported => kernel::bindings::EINVAL as i32,
            Unusable::Crypto(errno) => errno.saturating_abs(),
            Unusable::Alloc => kernel::bindings::ENOMEM as i32,
        }
    }
}

fn shadow(net: Net, ident: &SaIdent) -> Result<Shadow, Unusable> {
    let id = ShadowId {
        proto: ident.proto as u8,
        spi: ident.spi,
        dst: ident.dst.as_bytes(),
        src: ident.src.as_bytes(),
        v6: matches!(ident.dst, IpAddr::V6(_)),
        reqid: ident.reqid,
    };
    Shadow::new(net, &id).ok_or(Unusable::Alloc)
}

impl DpSa {
    /// Builds the datapath form of a mature SA (process context).
    pub(crate) fn from_sa(net: Net, sa: &Sa) -> Result<Arc<DpSa>, Unusable> {
        let ident = *sa.ident();
        let xform = Xform::new(sa)?;
        let window = if xform.replay_protected() {
            ReplayWindow::new(sa.replay_window, sa.esn).map_err(|_| Unusable::Alloc)?
        } else {
            // RFC 3173: IPcomp has no sequence numbers to protect.
            ReplayWindow::disabled(false)
        };
        let shadows = Shadows {
            transport: shadow(net, &ident)?,
            tunnel: shadow(net, &ident)?,
            uncompressed: match xform {
                Xform::IpComp(_) => Some(shadow(net, &ident)?),
                _ => None,
            },
        };
        Arc::pin_init(
            pin_init!(DpSa {
                id: AtomicU64::new(sa.id()),
                ident,
                xform,
                esn: sa.esn,
                oseq: AtomicU64::new(0),
                replay <- BhLock::new(window),
                hard_bytes: AtomicU64::new(sa.lifetime_hard.bytes),
                hard_packets: AtomicU64::new(sa.lifetime_hard.allocations),
                expired: AtomicBool::new(false),
                counters: Counters::default(),
                shadows,
            }),
            GFP_KERNEL,
        )
        .map_err(|_| Unusable::Alloc)
    }

    /// The SAD id this mirrors.
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    /// Names the SAD entry an SA built ahead of its ADD became.
    pub(crate) fn set_id(&self, id: u64) {
        self.id.store(id, Ordering::Relaxed);
    }

    /// New hard limits (SADB_UPDATE of a mature SA).
    pub(crate) fn set_hard(&self, hard: &Lifetime) {
        self.hard_bytes.store(hard.bytes, Ordering::Relaxed);
        self.hard_packets.store(hard.allocations, Ordering::Relaxed);
    }

    /// The next outbound sequence number; `None` once exhausted (RFC 4303
    /// §3.3.3, RFC 4302 §3.3.2: never cycle).
    pub(crate) fn next_seq(&self) -> Option<u64> {
        let limit = if self.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let n = self.oseq.fetch_add(1, Ordering::Relaxed).checked_add(1)?;
        (n <= limit).then_some(n)
    }

    /// Whether `seq` may be accepted (before the ICV is checked).
    pub(crate) fn replay_check(&self, seq: u32) -> Result<u64, ReplayError> {
        self.replay.lock().check(seq)
    }

    /// Records an authentic `seq` (after the ICV verified).
    pub(crate) fn replay_advance(&self, seq: u64) -> Result<(), ReplayError> {
        self.replay.lock().advance(seq)
    }

    /// Counts one packet of `bytes`; false if that crosses a hard limit
    /// (the packet must be dropped; the control plane expires the SA).
    pub(crate) fn charge(&self, bytes: usize) -> bool {
        if self.expired.load(Ordering::Relaxed) {
            return false;
        }
        let c = &self.counters;
        let p = c.packets.fetch_add(1, Ordering::Relaxed) + 1;
        let b = c.bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        let hb = self.hard_bytes.load(Ordering::Relaxed);
        let hp = self.hard_packets.load(Ordering::Relaxed);
        if (hb != 0 && b > hb) || (hp != 0 && p > hp) {
            self.expired.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The ESP transform, if it is an ESP SA (likewise `ah`, `ipcomp`).
    pub(crate) fn esp(&self) -> Option<&super::xform::esp::Esp> {
        match &self.xform {
            Xform::Esp(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn ah(&self) -> Option<&super::xform::ah::Ah> {
        match &self.xform {
            Xform::Ah(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn ipcomp(&self) -> Option<&super::xform::ipcomp::IpComp> {
        match &self.xform {
            Xform::IpComp(c) => Some(c),
            _ => None,
        }
    }

    /// The sec_path entry recording that this SA was applied so.
    pub(crate) fn shadow(&self, how: Applied) -> Option<&Shadow> {
        match how {
            Applied::Transport => Some(&self.shadows.transport),
            Applied::Tunnel => Some(&self.shadows.tunnel),
            Applied::UncompressedTunnel => self.shadows.uncompressed.as_ref(),
        }
    }

    /// Which of this SA's entries the sec_path entry at `addr` is, if any.
    pub(crate) fn applied_as(&self, addr: usize) -> Option<Applied> {
        [Applied::Transport, Applied::Tunnel, Applied::UncompressedTunnel]
            .into_iter()
            .find(|&how| self.shadow(how).is_some_and(|s| s.addr() == addr))
    }

    /// The entry as the policy check sees it.
    pub(crate) fn entry(&self, how: Applied) -> SecPathEntry {
        let mode = match how {
            Applied::Transport => Mode::Transport,
            Applied::Tunnel | Applied::UncompressedTunnel => Mode::Tunnel,
        };
        if how == Applied::UncompressedTunnel {
            return SecPathEntry::UncompressedIpcompTunnel {
                src: self.ident.src,
                dst: self.ident.dst,
            };
        }
        SecPathEntry::Sa(AppliedSa {
            proto: self.ident.proto,
            mode,
            spi: self.ident.spi,
            reqid: self.ident.reqid,
            src: self.ident.src,
            dst: self.ident.dst,
        })
    }
}
