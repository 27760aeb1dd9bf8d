//! An SA as the packet path sees it: identity, ESP layout, the keyed
//! crypto transform, the sequence counter, the replay window and the
//! counters the control plane reads back into the SAD once a second.

use crate::logic::algs::{by_id, AlgKind};
use crate::logic::esp::{esn_frame, EspLayout, ESP_HDR_LEN};
use crate::logic::lifetime::Lifetime;
use crate::logic::replay::{ReplayError, ReplayWindow};
use crate::logic::sad::{Sa, SaIdent};
use crate::logic::suite;
use crate::logic::types::IpsecProto;
use crate::sys::aead::Aead;
use crate::sys::bhlock::BhLock;
use crate::sys::util::zeroize;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

/// Packet and byte counts, and the error counts `setkey -D` shows.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) packets: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) replay_fails: AtomicU64,
    pub(crate) integrity_fails: AtomicU64,
}

#[pin_data]
pub(crate) struct DpSa {
    /// The SAD id this mirrors.
    pub(crate) id: u64,
    pub(crate) ident: SaIdent,
    pub(crate) layout: EspLayout,
    aead: Aead,
    esn: bool,
    oseq: AtomicU64,
    #[pin]
    replay: BhLock<ReplayWindow>,
    /// Hard limits enforced per packet (0: none); updated by UPDATE.
    hard_bytes: AtomicU64,
    hard_packets: AtomicU64,
    /// Set when a hard limit is hit, until the SA is removed.
    pub(crate) expired: AtomicBool,
    pub(crate) counters: Counters,
}

/// Why an SA has no datapath form.
pub(crate) enum Unusable {
    /// Not an ESP SA, or an algorithm with no ESP transform here.
    Unsupported,
    /// The crypto API refused the transform or key (errno).
    Crypto(i32),
    Alloc,
}

impl DpSa {
    /// Builds the datapath form of a mature ESP SA (process context).
    pub(crate) fn from_sa(sa: &Sa) -> Result<Arc<DpSa>, Unusable> {
        let ident = *sa.ident();
        if ident.proto != IpsecProto::Esp {
            return Err(Unusable::Unsupported);
        }
        let enc = by_id(AlgKind::Encrypt, sa.enc_alg).ok_or(Unusable::Unsupported)?;
        let auth = match sa.auth_alg {
            0 => None,
            id => Some(by_id(AlgKind::Auth, id).ok_or(Unusable::Unsupported)?),
        };
        let layout = EspLayout::from_algs(enc, auth).ok_or(Unusable::Unsupported)?;
        let mut s = suite::compose(
            enc,
            auth,
            sa.enc_key.as_bytes(),
            sa.auth_key.as_bytes(),
            sa.esn,
        )
        .map_err(|_| Unusable::Unsupported)?;
        let name = CStr::from_bytes_with_nul(s.name_nul()).map_err(|_| Unusable::Unsupported);
        let aead =
            name.and_then(|n| Aead::new(n, &s.key, layout.icv_len).map_err(Unusable::Crypto));
        zeroize(&mut s.key);
        let aead = aead?;
        if aead.ivsize() != layout.iv_len {
            return Err(Unusable::Unsupported);
        }
        let window = ReplayWindow::new(sa.replay_window, sa.esn).map_err(|_| Unusable::Alloc)?;
        Arc::pin_init(
            pin_init!(DpSa {
                id: sa.id(),
                ident,
                layout,
                aead,
                esn: sa.esn,
                oseq: AtomicU64::new(0),
                replay <- BhLock::new(window),
                hard_bytes: AtomicU64::new(sa.lifetime_hard.bytes),
                hard_packets: AtomicU64::new(sa.lifetime_hard.allocations),
                expired: AtomicBool::new(false),
                counters: Counters::default(),
            }),
            GFP_KERNEL,
        )
        .map_err(|_| Unusable::Alloc)
    }

    /// Bytes the AEAD authenticates before the IV: the ESP header, and
    /// for ESN the high half of the sequence number.
    pub(crate) fn assoclen(&self) -> usize {
        ESP_HDR_LEN + if self.esn { 4 } else { 0 }
    }

    /// For ESN, puts `seq`'s high half into the associated data by lending
    /// it the 4 bytes before the ESP header at `esp_off` (`esn_frame`);
    /// returns what to give back (`esn_unframe`), `Ok(None)` without ESN.
    pub(crate) fn frame(
        &self,
        buf: &mut [u8],
        esp_off: usize,
        seq: u64,
    ) -> Result<Option<[u8; 4]>, ()> {
        if !self.esn {
            return Ok(None);
        }
        esn_frame(buf, esp_off, (seq >> 32) as u32)
            .map(Some)
            .ok_or(())
    }

    pub(crate) fn aead(&self) -> &Aead {
        &self.aead
    }

    /// New hard limits (SADB_UPDATE of a mature SA).
    pub(crate) fn set_hard(&self, hard: &Lifetime) {
        self.hard_bytes.store(hard.bytes, Ordering::Relaxed);
        self.hard_packets.store(hard.allocations, Ordering::Relaxed);
    }

    /// The next outbound sequence number; `None` once exhausted (RFC 4303
    /// §3.3.3: never cycle).
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
}
