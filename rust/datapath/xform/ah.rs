//! AH (RFC 4302): a keyed hash per SA (`crypto_ahash`: hmac(...),
//! xcbc(aes), cmac(aes)) over the whole packet with its mutable fields
//! zeroed (`logic::ah` has the rules), as Linux's ah4/ah6: the header bytes
//! in front of AH are saved, zeroed where mutable, hashed with everything
//! behind them (and, with ESN, the high sequence half), then restored.

use super::super::input::{InPkt, Verified};
use super::super::output::OutPkt;
use super::super::sa::Unusable;
use super::{alloc_crypto, c_name};
use crate::logic::ah::{
    accepts_header_len, esn_trailer, header_len, ipv4_zero_mutable, ipv6_zero_mutable,
    write_header, zero_icv, Align, AhHeader, Side, AH_FIXED_LEN,
};
use crate::logic::algs::AlgDesc;
use crate::logic::sad::Sa;
use crate::logic::stats::Stat;
use crate::sys::ahash::{self, icv_eq, Ahash, HashCompletion, HashParts, DIGEST_MAX};
use crate::sys::aead::Run;
use kernel::alloc::KVec;
use kernel::ffi::c_int;
use kernel::prelude::*;

/// An AH SA's transform.
pub(crate) struct Ah {
    hash: Ahash,
    /// The ICV as sent (truncated), and the full digest.
    pub(crate) icv_len: usize,
    icv_full: usize,
}

impl Ah {
    pub(super) fn new(sa: &Sa, auth: &AlgDesc) -> Result<Ah, Unusable> {
        let mut buf = [0u8; 160];
        let name = auth
            .crypto
            .and_then(|c| c_name(c, &mut buf))
            .ok_or(Unusable::Unsupported)?;
        let icv_len = usize::from(auth.icv_trunc_bits >> 3);
        let hash = alloc_crypto(
            name,
            |n, sync| Ahash::new(n, sync, sa.auth_key.as_bytes()),
            Ahash::driver_name,
        )
        .map_err(Unusable::Crypto)?;
        let icv_full = hash.digest_size();
        if icv_len == 0 || icv_len > icv_full {
            return Err(Unusable::Unsupported);
        }
        Ok(Ah {
            hash,
            icv_len,
            icv_full,
        })
    }

    /// The header an AH packet of this family carries (RFC 4302 §2.2: a
    /// multiple of 32 bits for IPv4, 64 bits for IPv6).
    pub(crate) fn header_len(&self, v6: bool) -> Option<usize> {
        header_len(self.icv_len, Align::for_ipv6(v6))
    }
}

/// Zeroes what the ICV must not cover in `hdrs`, the IP header(s) in
/// front of AH.
fn zero_mutable(hdrs: &mut [u8], v6: bool, side: Side) -> bool {
    if v6 {
        ipv6_zero_mutable(hdrs).is_ok()
    } else {
        ipv4_zero_mutable(hdrs, side).is_ok()
    }
}

/// A copy of `b[..n]` (the header bytes to restore after hashing).
fn save(b: &[u8], n: usize) -> Option<KVec<u8>> {
    let mut v = KVec::with_capacity(n, GFP_ATOMIC).ok()?;
    v.extend_from_slice(b.get(..n)?, GFP_ATOMIC).ok()?;
    Some(v)
}

fn restore(b: &mut [u8], saved: &[u8]) {
    if let Some(d) = b.get_mut(..saved.len()) {
        d.copy_from_slice(saved);
    }
}

/// Output: writes the AH header (ICV zero) where the mode made room,
/// hashes the packet with its mutable fields zeroed, fills in the ICV and
/// restores the header; then on to the next entry.
pub(crate) fn output(mut o: OutPkt) -> c_int {
    let sa = o.sa.clone();
    let Some(a) = sa.ah() else {
        return o.failed(Stat::XfrmOutError);
    };
    let enc = o.enc;
    let v6 = enc.split.outer_v6;
    let (spi, seq) = (sa.ident.spi, o.seq);
    let b = o.pkt.bytes_mut();
    let ok = b
        .get_mut(enc.hdr..enc.hdr + enc.hdr_len)
        .is_some_and(|h| {
            write_header(h, enc.split.next, spi, seq as u32, a.icv_len, Align::for_ipv6(v6)).is_ok()
        });
    let Some(saved) = save(b, enc.hdr) else {
        return o.failed(Stat::XfrmOutError);
    };
    if !ok || !b.get_mut(..enc.hdr).is_some_and(|h| zero_mutable(h, v6, Side::Sender)) {
        return o.failed(Stat::XfrmOutError);
    }
    let extra = esn_trailer((seq >> 32) as u32);
    let Ok(ctx) = KBox::new(
        AhOut {
            o,
            saved,
            esn: sa.esn,
            extra,
            digest: [0; DIGEST_MAX],
        },
        GFP_ATOMIC,
    ) else {
        return -(kernel::bindings::ENOMEM as c_int);
    };
    match ahash::digest(&a.hash, ctx) {
        Run::Done(ctx, err) => hashed_out(KBox::into_inner(ctx), err),
        Run::Pending => 0,
    }
}

struct AhOut {
    o: OutPkt,
    saved: KVec<u8>,
    esn: bool,
    extra: [u8; 4],
    digest: [u8; DIGEST_MAX],
}

impl HashCompletion for AhOut {
    fn parts(&mut self) -> HashParts<'_> {
        let n = if self.esn { self.extra.len() } else { 0 };
        HashParts {
            data: self.o.pkt.bytes_mut(),
            extra: self.extra.get(..n).unwrap_or(&[]),
            out: &mut self.digest,
        }
    }

    fn complete(self: KBox<Self>, err: c_int) {
        let _ = hashed_out(KBox::into_inner(self), err);
    }
}

fn hashed_out(c: AhOut, err: c_int) -> c_int {
    let AhOut {
        mut o,
        saved,
        digest,
        ..
    } = c;
    if err != 0 {
        return o.failed_with(Stat::XfrmOutStateProtoError, err);
    }
    let Some(icv_len) = o.sa.ah().map(|a| a.icv_len) else {
        return o.failed(Stat::XfrmOutError);
    };
    let hdr = o.enc.hdr;
    let b = o.pkt.bytes_mut();
    restore(b, &saved);
    let ok = b.get_mut(hdr..).is_some_and(|ah| {
        AhHeader::new_checked(ah).is_ok_and(|mut h| digest.get(..icv_len).is_some_and(|d| h.set_icv(d).is_ok()))
    });
    if !ok {
        return o.failed(Stat::XfrmOutError);
    }
    o.send()
}

/// Input: `i`'s data is at the AH header. Checks its length, hashes the
/// packet with its mutable fields (and the ICV) zeroed, compares ICVs in
/// constant time, restores the header and hands over to `Verified`.
pub(crate) fn input(mut i: InPkt) {
    let sa = i.sa.clone();
    let Some(a) = sa.ah() else {
        return i.failed(Stat::XfrmInError);
    };
    let (v6, l3_len) = (i.v6, i.l3_len);
    let l3 = i.pkt.l3_mut();
    let Some(ah) = l3.get(l3_len..) else {
        return i.failed(Stat::XfrmInHdrError);
    };
    let (hlen, next, mut icv) = match AhHeader::new_checked(ah) {
        Ok(h) => {
            let mut icv = [0u8; DIGEST_MAX];
            let ok = h
                .icv(a.icv_len)
                .and_then(|v| icv.get_mut(..v.len()).map(|d| d.copy_from_slice(v)))
                .is_some();
            if !ok {
                return i.failed(Stat::XfrmInHdrError);
            }
            (h.header_len(), h.next_header(), icv)
        }
        Err(_) => return i.failed(Stat::XfrmInHdrError),
    };
    if hlen < AH_FIXED_LEN + a.icv_len
        || !accepts_header_len(hlen, a.icv_len, a.icv_full, Align::for_ipv6(v6))
    {
        return i.failed(Stat::XfrmInHdrError);
    }
    let Some(saved) = save(l3, l3_len) else {
        return i.failed(Stat::XfrmInBufferError);
    };
    let zeroed = l3
        .get_mut(l3_len..)
        .is_some_and(|ah| zero_icv(ah, a.icv_len).is_ok())
        && l3
            .get_mut(..l3_len)
            .is_some_and(|h| zero_mutable(h, v6, Side::Receiver));
    if !zeroed {
        return i.failed(Stat::XfrmInHdrError);
    }
    let extra = esn_trailer((i.seq >> 32) as u32);
    let icv_len = a.icv_len;
    // Only the ICV as sent is compared.
    if let Some(rest) = icv.get_mut(icv_len..) {
        rest.fill(0);
    }
    let Ok(ctx) = KBox::new(
        AhIn {
            i,
            saved,
            esn: sa.esn,
            extra,
            digest: [0; DIGEST_MAX],
            icv,
            icv_len,
            hlen,
            next,
        },
        GFP_ATOMIC,
    ) else {
        return;
    };
    match ahash::digest(&a.hash, ctx) {
        Run::Done(ctx, err) => hashed_in(KBox::into_inner(ctx), err),
        Run::Pending => {}
    }
}

struct AhIn {
    i: InPkt,
    saved: KVec<u8>,
    esn: bool,
    extra: [u8; 4],
    digest: [u8; DIGEST_MAX],
    icv: [u8; DIGEST_MAX],
    icv_len: usize,
    hlen: usize,
    next: u8,
}

impl HashCompletion for AhIn {
    fn parts(&mut self) -> HashParts<'_> {
        let n = if self.esn { self.extra.len() } else { 0 };
        HashParts {
            data: self.i.pkt.l3_mut(),
            extra: self.extra.get(..n).unwrap_or(&[]),
            out: &mut self.digest,
        }
    }

    fn complete(self: KBox<Self>, err: c_int) {
        hashed_in(KBox::into_inner(self), err);
    }
}

fn hashed_in(c: AhIn, err: c_int) {
    let AhIn {
        mut i,
        saved,
        digest,
        icv,
        icv_len,
        hlen,
        next,
        ..
    } = c;
    restore(i.pkt.l3_mut(), &saved);
    if err != 0 {
        return i.failed(Stat::XfrmInError);
    }
    let same = match (digest.get(..icv_len), icv.get(..icv_len)) {
        (Some(d), Some(v)) => icv_eq(d, v),
        _ => false,
    };
    if !same {
        return i.integrity_failed();
    }
    let payload_len = i.pkt.len().saturating_sub(hlen);
    Verified {
        strip: hlen,
        payload_len,
        next,
    }
    .finish(i);
}
