//! ESP framing (RFC 4303): the header view, the padding/trailer rules and
//! the MTU arithmetic. The cipher itself is the kernel crypto API's; this
//! module only decides where the bytes go.
//!
//! ```text
//! | SPI | seq | IV | payload | pad 1,2,3.. | pad len | next hdr | ICV |
//!  <-- 8 --->                 <----- trailer (pad + 2) ------->
//! ```

use crate::logic::algs::{AlgDesc, AlgKind};

/// SPI plus sequence number.
pub const ESP_HDR_LEN: usize = 8;

/// Extended sequence numbers (RFC 4303 §2.2.1) authenticate the high 32
/// bits without sending them. As Linux's esp does, the AEAD is given
/// `SPI | seq_hi | seq_lo` as associated data by borrowing the 4 bytes in
/// front of the ESP header at `esp_off` (the end of the IP header):
/// `esn_frame` moves the SPI there (returning what it covered) and puts
/// `seq_hi` in the SPI's place; `esn_unframe` undoes it. `None` if `buf`
/// lacks those bytes.
pub fn esn_frame(buf: &mut [u8], esp_off: usize, seq_hi: u32) -> Option<[u8; 4]> {
    let start = esp_off.checked_sub(4)?;
    let w = buf.get_mut(start..esp_off.checked_add(4)?)?;
    let mut saved = [0u8; 4];
    saved.copy_from_slice(&w[..4]);
    w.copy_within(4..8, 0);
    w[4..8].copy_from_slice(&seq_hi.to_be_bytes());
    Some(saved)
}

/// Undoes [`esn_frame`].
pub fn esn_unframe(buf: &mut [u8], esp_off: usize, saved: [u8; 4]) {
    let Some(start) = esp_off.checked_sub(4) else {
        return;
    };
    if let Some(w) = esp_off
        .checked_add(4)
        .and_then(|end| buf.get_mut(start..end))
    {
        w.copy_within(0..4, 4);
        w[..4].copy_from_slice(&saved);
    }
}

/// Why ESP bytes were refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EspError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// Padding bytes are not the default 1, 2, 3, ... sequence.
    BadPadding,
    /// A length field or buffer size is inconsistent.
    BadLength,
}

/// A zero-copy view of the ESP header at the start of `buf`.
#[derive(Clone, Copy, Debug)]
pub struct EspHeader<T: AsRef<[u8]>> {
    buf: T,
}

/// Reads a big-endian u32 at `off`; 0 past the end (unreachable after
/// `new_checked`, but this keeps the accessors free of panic paths).
fn be32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off.saturating_add(4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_be_bytes)
}

fn set_be32_at(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b
        .get_mut(off..off.saturating_add(4))
        .and_then(|s| <&mut [u8; 4]>::try_from(s).ok())
    {
        *s = v.to_be_bytes();
    }
}

impl<T: AsRef<[u8]>> EspHeader<T> {
    /// Wraps `buf` after checking it holds at least [`ESP_HDR_LEN`] bytes.
    pub fn new_checked(buf: T) -> Result<Self, EspError> {
        if buf.as_ref().len() < ESP_HDR_LEN {
            return Err(EspError::Truncated);
        }
        Ok(EspHeader { buf })
    }

    /// Security parameter index.
    pub fn spi(&self) -> u32 {
        be32_at(self.buf.as_ref(), 0)
    }

    /// Low 32 bits of the sequence number (ESN's high half is not sent).
    pub fn seq(&self) -> u32 {
        be32_at(self.buf.as_ref(), 4)
    }

    /// The bytes after the header: IV, ciphertext and ICV.
    pub fn payload(&self) -> &[u8] {
        self.buf.as_ref().get(ESP_HDR_LEN..).unwrap_or(&[])
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EspHeader<T> {
    /// Sets the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        set_be32_at(self.buf.as_mut(), 0, spi);
    }

    /// Sets the (low 32 bits of the) sequence number.
    pub fn set_seq(&mut self, seq: u32) {
        set_be32_at(self.buf.as_mut(), 4, seq);
    }
}

/// The decoded ESP trailer of a decrypted payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Trailer {
    /// Padding bytes before the pad length field.
    pub pad_len: usize,
    /// Protocol of the payload (4 = IPv4 in tunnel mode, 59 = dummy packet).
    pub next_header: u8,
    /// Bytes of real payload before the padding.
    pub payload_len: usize,
}

/// The per-SA sizes ESP framing depends on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EspLayout {
    /// IV bytes after the header.
    pub iv_len: usize,
    /// ICV bytes at the end.
    pub icv_len: usize,
    /// Alignment payload + pad + 2 must reach: a power of two, at least 4.
    pub block: usize,
}

impl EspLayout {
    /// The layout of an SA with encryption `enc` and authentication `auth`
    /// (`None` or the null algorithm for none). An AEAD's ICV is its own;
    /// an AEAD with a real auth algorithm is refused rather than guessing
    /// which ICV the peer uses. `None` also for wrong kinds or a block size
    /// that is not a power of two.
    pub fn from_algs(enc: &AlgDesc, auth: Option<&AlgDesc>) -> Option<Self> {
        if enc.kind != AlgKind::Encrypt {
            return None;
        }
        let auth_icv = match auth {
            Some(a) if a.kind != AlgKind::Auth => return None,
            Some(a) => usize::from(a.icv_trunc_bits >> 3),
            None => 0,
        };
        let icv_len = if enc.aead {
            if auth_icv != 0 {
                return None;
            }
            usize::from(enc.icv_trunc_bits >> 3)
        } else {
            auth_icv
        };
        // Linux: blksize = ALIGN(crypto_aead_blocksize(aead), 4).
        let cipher_block = usize::from(enc.block_bits >> 3).max(1);
        let block = cipher_block.checked_add(3)? & !3;
        if !block.is_power_of_two() {
            return None;
        }
        Some(EspLayout {
            iv_len: usize::from(enc.iv_bits >> 3),
            icv_len,
            block,
        })
    }

    /// `block - 1`; a hand-built layout with a bad block counts as 4, so
    /// the arithmetic below never needs a runtime divisor.
    fn mask(&self) -> usize {
        if self.block.is_power_of_two() && self.block >= 4 {
            self.block - 1
        } else {
            3
        }
    }

    /// Padding so that payload + pad + 2 is a multiple of `block`
    /// (RFC 4303 §2.4; Linux `esp_output`'s `clen - skb->len - 2`).
    pub fn pad_len(&self, payload_len: usize) -> usize {
        payload_len.wrapping_add(2).wrapping_neg() & self.mask()
    }

    /// Padding plus the pad length and next header bytes.
    pub fn trailer_len(&self, payload_len: usize) -> usize {
        self.pad_len(payload_len) + 2
    }

    /// Bytes ESP adds to a payload of `payload_len`: header, IV, trailer, ICV.
    pub fn overhead(&self, payload_len: usize) -> usize {
        ESP_HDR_LEN
            .saturating_add(self.iv_len)
            .saturating_add(self.trailer_len(payload_len))
            .saturating_add(self.icv_len)
    }

    /// The most bytes ESP adds to any payload (what a bundle entry
    /// subtracts from its route's MTU): header, IV, the longest padding
    /// (`block - 1`) with pad length and next header, ICV.
    pub fn max_overhead(&self) -> usize {
        ESP_HDR_LEN
            .saturating_add(self.iv_len)
            .saturating_add(self.mask() + 2)
            .saturating_add(self.icv_len)
    }

    /// Writes padding 1, 2, 3, ..., then `pad_len` and `next_header` into
    /// `buf`, which must be exactly `pad_len + 2` bytes.
    pub fn write_trailer(
        &self,
        buf: &mut [u8],
        pad_len: usize,
        next_header: u8,
    ) -> Result<(), EspError> {
        let pad_byte = u8::try_from(pad_len).map_err(|_| EspError::BadLength)?;
        if buf.len() != pad_len + 2 {
            return Err(EspError::BadLength);
        }
        let (pad, tail) = buf.split_at_mut(pad_len);
        for (b, v) in pad.iter_mut().zip(1..=u8::MAX) {
            *b = v;
        }
        if let [len, nh] = tail {
            *len = pad_byte;
            *nh = next_header;
        }
        Ok(())
    }

    /// The largest inner packet that still fits `path_mtu` once
    /// encapsulated, as Linux's `esp4_get_mtu`/`esp6_get_mtu`:
    /// `((mtu - header_len - icv - net_adj) & !(block - 1)) + net_adj - 2`.
    /// `header_len` is ESP_HDR_LEN + IV (+ the outer IP header in tunnel
    /// mode); `net_adj` is 0 in tunnel mode and the IP header (20, or 40
    /// for IPv6) in transport mode, which stays outside the padding. 0 when
    /// nothing fits, where Linux would wrap around.
    pub fn payload_mtu(&self, path_mtu: u32, header_len: u32, net_adj: u32) -> u32 {
        let icv = u32::try_from(self.icv_len).unwrap_or(u32::MAX);
        let room = header_len
            .checked_add(icv)
            .and_then(|f| f.checked_add(net_adj))
            .and_then(|f| path_mtu.checked_sub(f));
        let Some(room) = room else {
            return 0;
        };
        let mask = u32::try_from(self.mask()).unwrap_or(3);
        (room & !mask).saturating_add(net_adj).saturating_sub(2)
    }
}

/// Decodes the trailer at the end of a decrypted payload (`plain_tail`
/// ends with padding | pad length | next header). Checks the default
/// padding RFC 4303 §2.4 lets the receiver verify; Linux only checks the
/// length. An empty payload is accepted: next header 59 marks a dummy
/// packet (§2.6) for the caller to drop.
pub fn parse_trailer(plain_tail: &[u8]) -> Result<Trailer, EspError> {
    let [rest @ .., pad_len, next_header] = plain_tail else {
        return Err(EspError::Truncated);
    };
    let pad_len = usize::from(*pad_len);
    let payload_len = rest.len().checked_sub(pad_len).ok_or(EspError::BadLength)?;
    let pad = rest.get(payload_len..).ok_or(EspError::BadLength)?;
    if !pad.iter().zip(1..=u8::MAX).all(|(&b, v)| b == v) {
        return Err(EspError::BadPadding);
    }
    Ok(Trailer {
        pad_len,
        next_header: *next_header,
        payload_len,
    })
}

#[cfg(test)]
mod tests;
