//! One security association and its key material.

use core::fmt;

use crate::logic::addr::IpAddr;
use crate::logic::lifetime::{Expiry, ExpiryState, Lifetime, LifetimeCurrent};
use crate::logic::replay::{OutSeq, ReplayWindow};
use crate::logic::selector::Selector;
use crate::logic::types::{IpsecProto, Mode, SaState};
use crate::seam::{zeroize, AllocError, Vec};

/// Key bytes that are wiped when dropped and never printed.
pub struct SecretKey {
    bytes: Vec<u8>,
    bits: u16,
}

impl SecretKey {
    /// No key (algorithms without one).
    pub const fn empty() -> Self {
        SecretKey {
            bytes: Vec::new(),
            bits: 0,
        }
    }

    /// A copy of `key`, `8 * len` bits long.
    pub fn from_slice(key: &[u8]) -> Result<Self, AllocError> {
        let bits = u16::try_from(key.len().saturating_mul(8)).map_err(|_| AllocError)?;
        Self::with_bits(key, bits)
    }

    /// A copy of `key` whose significant length is `bits`
    /// (`sadb_key_bits`; the bytes are padded to whole octets).
    pub fn with_bits(key: &[u8], bits: u16) -> Result<Self, AllocError> {
        Ok(SecretKey {
            bytes: Vec::from_slice(key)?,
            bits,
        })
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Significant length in bits.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// A second copy (also wiped on drop).
    pub fn try_clone(&self) -> Result<Self, AllocError> {
        Self::with_bits(&self.bytes, self.bits)
    }
}

impl SecretKey {
    /// Overwrites the key bytes with zeros (the length stays).
    pub fn wipe(&mut self) {
        zeroize(&mut self.bytes);
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} bits, ..)", self.bits)
    }
}

/// UDP encapsulation for NAT traversal (RFC 3948).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NatT {
    /// `UDP_ENCAP_ESPINUDP` (2) or the non-IKE variant (1).
    pub encap_type: u16,
    /// UDP source port, host order.
    pub sport: u16,
    /// UDP destination port, host order.
    pub dport: u16,
    /// Original address before NAT (for transport-mode checksum fixup).
    pub oa: Option<IpAddr>,
}

/// Error counters beyond the lifetime counters.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct SaStats {
    /// Packets refused by the replay window.
    pub replay_fails: u64,
    /// Packets whose ICV did not verify.
    pub integrity_fails: u64,
}

/// What identifies an SA: the SAD's indexes are built from these fields,
/// so they cannot change while the SA is in the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SaIdent {
    /// SPI as a number (the wire's big-endian field read with
    /// `u32::from_be_bytes`); 0 only for larval SAs awaiting GETSPI.
    pub spi: u32,
    /// AH, ESP or IPComp.
    pub proto: IpsecProto,
    /// Mode from `sadb_x_sa2` (`Any` if absent).
    pub mode: Mode,
    /// Request id binding the SA to policy templates.
    pub reqid: u32,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
}

/// What one packet's accounting decided (`xfrm_state_check_expire`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Charge {
    /// Proceed.
    Ok,
    /// Proceed, and send a soft `SADB_EXPIRE` (reported once).
    SoftExpired,
    /// Drop the packet, send a hard `SADB_EXPIRE` and delete the SA.
    HardExpired,
    /// Drop: the SA is larval or dead.
    Unusable,
}

/// A security association.
#[derive(Debug)]
pub struct Sa {
    pub(super) id: u64,
    pub(super) ident: SaIdent,
    pub(super) seq: u32,
    /// Position in the SAD's group for this tuple.
    pub(super) tuple_pos: usize,
    pub(super) state: SaState,
    pub(super) expiry: ExpiryState,
    pub(super) replay: ReplayWindow,
    /// `sadb_sa_auth` (SADB_AALG_*).
    pub auth_alg: u8,
    /// `sadb_sa_encrypt` (SADB_EALG_*).
    pub enc_alg: u8,
    /// IPComp algorithm (SADB_X_CALG_*).
    pub comp_alg: u8,
    /// Authentication key.
    pub auth_key: SecretKey,
    /// Encryption key (with salt/nonce for combined modes).
    pub enc_key: SecretKey,
    /// Replay window size in packets, 0..=4096 (0: no checking).
    pub replay_window: u32,
    /// `sadb_sa_flags`.
    pub flags: u32,
    /// 64-bit sequence numbers (RFC 4303 ESN).
    pub esn: bool,
    /// Hard limits.
    pub lifetime_hard: Lifetime,
    /// Soft limits.
    pub lifetime_soft: Lifetime,
    /// Usage so far; `addtime` is when the SA was added.
    pub current: LifetimeCurrent,
    /// Error counters.
    pub stats: SaStats,
    /// NAT traversal, if the SA is UDP-encapsulated.
    pub natt: Option<NatT>,
    /// Traffic the SA may carry (from the address extensions' prefixes and
    /// protocol), if given.
    pub selector: Option<Selector>,
    /// Outbound sequence counter.
    pub oseq: OutSeq,
}

impl Sa {
    /// A mature-to-be SA with no algorithms, keys, lifetimes or window;
    /// the caller fills the public fields, then `Sad::add`s it.
    pub fn new(ident: SaIdent) -> Self {
        Sa {
            id: 0,
            ident,
            seq: 0,
            tuple_pos: 0,
            state: SaState::Larval,
            expiry: ExpiryState::default(),
            replay: ReplayWindow::disabled(false),
            auth_alg: 0,
            enc_alg: 0,
            comp_alg: 0,
            auth_key: SecretKey::empty(),
            enc_key: SecretKey::empty(),
            replay_window: 0,
            flags: 0,
            esn: false,
            lifetime_hard: Lifetime::default(),
            lifetime_soft: Lifetime::default(),
            current: LifetimeCurrent::default(),
            stats: SaStats::default(),
            natt: None,
            selector: None,
            oseq: OutSeq::new(false),
        }
    }

    /// Sets the PF_KEY message sequence number the SA answers
    /// (`sadb_msg_seq`, used to match ACQUIRE/GETSPI).
    pub fn with_seq(mut self, seq: u32) -> Self {
        self.seq = seq;
        self
    }

    /// The SAD's handle for this SA (also its dump position).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Identifying fields.
    pub fn ident(&self) -> &SaIdent {
        &self.ident
    }

    /// SPI (numeric; see [`SaIdent::spi`]).
    pub fn spi(&self) -> u32 {
        self.ident.spi
    }

    /// Protocol.
    pub fn proto(&self) -> IpsecProto {
        self.ident.proto
    }

    /// Mode.
    pub fn mode(&self) -> Mode {
        self.ident.mode
    }

    /// Request id.
    pub fn reqid(&self) -> u32 {
        self.ident.reqid
    }

    /// Source address.
    pub fn src(&self) -> IpAddr {
        self.ident.src
    }

    /// Destination address.
    pub fn dst(&self) -> IpAddr {
        self.ident.dst
    }

    /// PF_KEY sequence number (ACQUIRE/GETSPI matching).
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Life-cycle state.
    pub fn state(&self) -> SaState {
        self.state
    }

    /// Whether packets may use the SA (mature or dying).
    pub fn is_valid(&self) -> bool {
        matches!(self.state, SaState::Mature | SaState::Dying)
    }

    /// The inbound replay window.
    pub fn replay(&self) -> &ReplayWindow {
        &self.replay
    }

    /// The inbound replay window, to `advance` after the ICV verified.
    pub fn replay_mut(&mut self) -> &mut ReplayWindow {
        &mut self.replay
    }

    /// Accounts one packet of `bytes` at `now`, before it is processed.
    /// Limits are checked against the usage before this packet, as Linux's
    /// `xfrm_state_check_expire` does.
    pub fn charge(&mut self, bytes: u64, now: u64) -> Charge {
        if !self.is_valid() {
            return Charge::Unusable;
        }
        if self.current.usetime == 0 {
            self.current.usetime = now;
        }
        let verdict = match self.poll_expiry(now) {
            Some(Expiry::Hard) => return Charge::HardExpired,
            Some(Expiry::Soft) => Charge::SoftExpired,
            None => Charge::Ok,
        };
        self.current.account(bytes, now);
        verdict
    }

    /// Polls the limits, moving to dying (soft) or dead (hard).
    pub(super) fn poll_expiry(&mut self, now: u64) -> Option<Expiry> {
        let e = self
            .expiry
            .poll(&self.lifetime_hard, &self.lifetime_soft, &self.current, now)?;
        match e {
            Expiry::Hard => self.state = SaState::Dead,
            Expiry::Soft if self.state == SaState::Mature => self.state = SaState::Dying,
            Expiry::Soft => {}
        }
        Some(e)
    }
}
