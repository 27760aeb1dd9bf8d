//! Test helpers shared by the parsers' tests: a packet in pieces, as an
//! skb with fragments would be.

use super::PacketBytes;
use std::vec::Vec;

/// `bytes` cut into chunks of `size` (at least 1): reads that cross a
/// chunk boundary must be assembled, as `skb_copy_bits` does.
pub(crate) struct Chunks(pub(crate) Vec<Vec<u8>>);

impl Chunks {
    pub(crate) fn new(bytes: &[u8], size: usize) -> Self {
        Chunks(bytes.chunks(size.max(1)).map(|c| c.to_vec()).collect())
    }
}

impl PacketBytes for Chunks {
    fn len(&self) -> usize {
        self.0.iter().map(|c| c.len()).sum()
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Option<()> {
        if off.checked_add(out.len())? > self.len() {
            return None;
        }
        let mut pos = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let want = off + i;
            let mut base = 0;
            let mut found = None;
            for c in &self.0 {
                if want < base + c.len() {
                    found = Some(c[want - base]);
                    break;
                }
                base += c.len();
            }
            *o = found?;
            pos += 1;
        }
        (pos == out.len()).then_some(())
    }
}

/// An IPv6 packet from 2001::1 to 2001::2 with next header `nh`, payload
/// `rest` and the payload length to match.
pub(crate) fn ipv6(nh: u8, rest: &[u8]) -> Vec<u8> {
    let mut p = std::vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    p[6] = nh;
    p[7] = 64;
    p[8] = 0x20;
    p[9] = 0x01;
    p[23] = 1;
    p[24] = 0x20;
    p[25] = 0x01;
    p[39] = 2;
    p.extend_from_slice(rest);
    p
}

/// A hop-by-hop, routing or destination options header: next header,
/// length in 8-byte units past the first, then `body` (6 + 8k bytes).
pub(crate) fn opt_hdr(nh: u8, body: &[u8]) -> Vec<u8> {
    assert_eq!((body.len() + 2) % 8, 0, "body of {} bytes", body.len());
    let mut h = std::vec![nh, ((body.len() + 2) / 8 - 1) as u8];
    h.extend_from_slice(body);
    h
}

/// An empty options header of `len` bytes (a multiple of 8), its body
/// valid PadN (and Pad1) options.
pub(crate) fn pad_hdr(nh: u8, len: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut left = len - 2;
    while left > 0 {
        if left == 1 {
            body.push(0);
            break;
        }
        let mut n = left.min(257);
        if left - n == 1 {
            n -= 1;
        }
        body.push(1);
        body.push((n - 2) as u8);
        body.resize(body.len() + n - 2, 0);
        left -= n;
    }
    opt_hdr(nh, &body)
}

/// A fragment header.
pub(crate) fn frag_hdr(nh: u8, offset: u16, more: bool, ident: u32) -> Vec<u8> {
    let mut h = std::vec![nh, 0];
    h.extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h
}

/// An AH header of `len` bytes (a multiple of 4, at least 12), SPI
/// 0x100, sequence number 1, ICV zero.
pub(crate) fn ah_hdr(nh: u8, len: usize) -> Vec<u8> {
    let mut h = std::vec![nh, (len / 4 - 2) as u8, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    h.resize(len, 0);
    h
}

/// Concatenation.
pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
