//! Anti-replay: the receiver's sliding window (RFC 4303 §3.4.3, ESN
//! inference per Appendix A) and the sender's sequence counter.
//!
//! Input is two-phase, as in Linux's xfrm_input: `check` before the ICV is
//! verified (it changes nothing, so forged packets cannot move the window),
//! then `advance` once the packet is authentic (it re-checks, because
//! another CPU may have accepted the same number in between).

use crate::seam::{AllocError, Vec};

/// Largest supported window, in packets.
pub const REPLAY_MAX: u32 = 4096;

/// Why an inbound sequence number is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplayError {
    /// Sequence number 0 is never sent (RFC 4303 §3.3.3).
    SeqZero,
    /// Already received.
    Replayed,
    /// Left of the window (or, with ESN, before the first subspace).
    TooOld,
}

/// Why a window cannot be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WindowError {
    /// Larger than [`REPLAY_MAX`].
    TooLarge,
    /// The bitmap could not be allocated.
    NoMem,
}

impl From<AllocError> for WindowError {
    fn from(_: AllocError) -> Self {
        WindowError::NoMem
    }
}

/// The receive window of one SA.
///
/// `top` is the highest authenticated sequence number (64-bit, so ESN and
/// 32-bit SAs share the code); bit `s mod cap` of the ring records whether
/// `s` in `(top - size, top]` was received.
#[derive(Debug)]
pub struct ReplayWindow {
    size: u32,
    esn: bool,
    top: u64,
    bits: Vec<u64>,
}

impl ReplayWindow {
    /// A window of `size` packets (0 disables replay checking, as in Linux).
    pub fn new(size: u32, esn: bool) -> Result<Self, WindowError> {
        if size > REPLAY_MAX {
            return Err(WindowError::TooLarge);
        }
        let mut bits = Vec::new();
        bits.extend_with(size.div_ceil(64) as usize, 0)?;
        Ok(ReplayWindow {
            size,
            esn,
            top: 0,
            bits,
        })
    }

    /// A window that checks nothing but sequence number 0; allocates
    /// nothing.
    pub fn disabled(esn: bool) -> Self {
        ReplayWindow {
            size: 0,
            esn,
            top: 0,
            bits: Vec::new(),
        }
    }

    /// Window size in packets.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Whether sequence numbers are 64-bit (ESN).
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// Highest authenticated sequence number so far (0: none).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Ring capacity in bits (a multiple of 64, at least `size`).
    fn cap(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// The full 64-bit number of a received low half (RFC 4303 Appendix A);
    /// `None` when it would precede sequence number 0 or pass 2^64.
    pub fn infer(&self, seq_lo: u32) -> Option<u64> {
        if !self.esn {
            return Some(u64::from(seq_lo));
        }
        let th = (self.top >> 32) as u32;
        let tl = self.top as u32;
        // The inference needs a window even when checking is disabled.
        let w = self.size.max(1);
        let hi = if tl >= w - 1 {
            // Case A: the window lies within one subspace.
            if seq_lo >= tl - (w - 1) {
                Some(th)
            } else {
                th.checked_add(1)
            }
        } else if seq_lo >= tl.wrapping_sub(w - 1) {
            // Case B: the window spans two subspaces; this is the older one.
            th.checked_sub(1)
        } else {
            Some(th)
        };
        Some((u64::from(hi?) << 32) | u64::from(seq_lo))
    }

    /// Whether the packet carrying `seq_lo` may be processed; returns the
    /// full sequence number (for the ESN ICV and for `advance`). Changes
    /// nothing.
    pub fn check(&self, seq_lo: u32) -> Result<u64, ReplayError> {
        let seq = self.infer(seq_lo).ok_or(ReplayError::TooOld)?;
        self.check_full(seq)?;
        Ok(seq)
    }

    fn check_full(&self, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::SeqZero);
        }
        if self.size == 0 || seq > self.top {
            return Ok(());
        }
        if self.top - seq >= u64::from(self.size) {
            return Err(ReplayError::TooOld);
        }
        if self.bit(seq) {
            return Err(ReplayError::Replayed);
        }
        Ok(())
    }

    /// Word index and mask of `seq`'s bit; `None` without a bitmap.
    /// (`checked_rem`: a remainder panic path trips the kernel's objtool.)
    fn slot(&self, seq: u64) -> Option<(usize, u64)> {
        let pos = seq.checked_rem(self.cap())?;
        Some(((pos / 64) as usize, 1u64 << (pos % 64)))
    }

    fn bit(&self, seq: u64) -> bool {
        self.slot(seq)
            .and_then(|(i, m)| self.bits.get(i).map(|w| w & m != 0))
            .unwrap_or(false)
    }

    fn set_bit(&mut self, seq: u64) {
        if let Some((i, m)) = self.slot(seq) {
            if let Some(w) = self.bits.get_mut(i) {
                *w |= m;
            }
        }
    }

    /// Clears the bits of `count` (< cap) numbers starting at `from`.
    fn clear_range(&mut self, from: u64, count: u64) {
        let cap = self.cap();
        let Some(mut pos) = from.checked_rem(cap) else {
            return;
        };
        let mut left = count;
        while left > 0 {
            let bit = pos % 64;
            // cap is a multiple of 64, so a word never straddles the wrap.
            let n = (64 - bit).min(left);
            let mask = if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << bit
            };
            if let Some(w) = self.bits.get_mut((pos / 64) as usize) {
                *w &= !mask;
            }
            left -= n;
            pos += n;
            if pos >= cap {
                pos -= cap;
            }
        }
    }

    /// Records the authenticated packet `seq` (a value `check` returned).
    /// Fails, changing nothing, if `seq` is no longer acceptable.
    pub fn advance(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check_full(seq)?;
        if self.size == 0 {
            self.top = self.top.max(seq);
            return Ok(());
        }
        if seq > self.top {
            let jump = seq - self.top;
            if jump >= self.cap() {
                for w in self.bits.iter_mut() {
                    *w = 0;
                }
            } else {
                self.clear_range(self.top + 1, jump);
            }
            self.top = seq;
        }
        self.set_bit(seq);
        Ok(())
    }
}

/// The sender's counter has reached its end; the SA must be rekeyed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SeqOverflow;

/// The outbound sequence counter of one SA (first packet gets 1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct OutSeq {
    last: u64,
    esn: bool,
}

impl OutSeq {
    /// A fresh counter; `esn` selects 64-bit numbers.
    pub fn new(esn: bool) -> Self {
        OutSeq { last: 0, esn }
    }

    /// The number most recently handed out (0: none).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The next number, refusing to cycle (RFC 4303 §3.3.3: after 2^32-1
    /// without ESN, after 2^64-1 with it). The wire carries the low 32 bits;
    /// the high 32 bits enter the ESN ICV.
    pub fn next_seq(&mut self) -> Result<u64, SeqOverflow> {
        let limit = if self.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        if self.last >= limit {
            return Err(SeqOverflow);
        }
        self.last += 1;
        Ok(self.last)
    }
}

#[cfg(test)]
mod tests;
