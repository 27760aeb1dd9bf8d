//! ESP (RFC 4303): one AEAD transform per SA, named and keyed as Linux's
//! esp does (`logic::suite`); the framing is `logic::esp`'s.

use super::super::input::{InPkt, Verified};
use super::super::output::OutPkt;
use super::super::sa::Unusable;
use super::{alloc_crypto, c_name};
use crate::logic::algs::AlgDesc;
use crate::logic::esp::{esn_frame, esn_unframe, parse_trailer, EspError, EspLayout, ESP_HDR_LEN};
use crate::logic::sad::Sa;
use crate::logic::stats::Stat;
use crate::logic::suite;
use crate::sys::aead::{self, Aead, Completion, Run};
use crate::sys::util::zeroize;
use kernel::ffi::c_int;
use kernel::prelude::*;

const EBADMSG: c_int = -(kernel::bindings::EBADMSG as c_int);
/// RFC 4303 §2.6: a dummy packet, dropped silently.
const NEXTHDR_NONE: u8 = 59;

/// An ESP SA's transform.
pub(crate) struct Esp {
    pub(crate) layout: EspLayout,
    aead: Aead,
}

impl Esp {
    pub(super) fn new(sa: &Sa, enc: &AlgDesc, auth: Option<&AlgDesc>) -> Result<Esp, Unusable> {
        let layout = EspLayout::from_algs(enc, auth).ok_or(Unusable::Unsupported)?;
        let mut s = suite::compose(
            enc,
            auth,
            sa.enc_key.as_bytes(),
            sa.auth_key.as_bytes(),
            sa.esn,
        )
        .map_err(|_| Unusable::Unsupported)?;
        let mut buf = [0u8; 160];
        let name = c_name(s.name(), &mut buf).ok_or(Unusable::Unsupported);
        let aead = name.and_then(|n| {
            alloc_crypto(n, |n, sync| Aead::new(n, sync, &s.key, layout.icv_len), Aead::driver_name)
                .map_err(Unusable::Crypto)
        });
        zeroize(&mut s.key);
        let aead = aead?;
        if aead.ivsize() != layout.iv_len {
            return Err(Unusable::Unsupported);
        }
        Ok(Esp { layout, aead })
    }

    /// The header (with its IV) and trailer (padding, pad length, next
    /// header, ICV) for a payload of `payload_len` bytes.
    pub(crate) fn sizes(&self, payload_len: usize) -> (usize, usize) {
        let l = &self.layout;
        (
            ESP_HDR_LEN + l.iv_len,
            l.pad_len(payload_len) + 2 + l.icv_len,
        )
    }
}

/// Bytes the AEAD authenticates before the IV: the ESP header, and for ESN
/// the high half of the sequence number.
fn assoclen(esn: bool) -> usize {
    ESP_HDR_LEN + if esn { 4 } else { 0 }
}

/// For ESN, puts `seq`'s high half into the associated data by lending it
/// the 4 bytes in front of the ESP header at `esp_off` (`esn_frame`);
/// returns what to give back (`esn_unframe`), `Ok(None)` without ESN.
fn frame(esn: bool, buf: &mut [u8], esp_off: usize, seq: u64) -> Result<Option<[u8; 4]>, ()> {
    if !esn {
        return Ok(None);
    }
    esn_frame(buf, esp_off, (seq >> 32) as u32)
        .map(Some)
        .ok_or(())
}

/// Output: a packet whose mode made room (`o.enc`): writes the ESP header
/// and trailer and encrypts; then on to the next entry.
pub(crate) fn output(mut o: OutPkt) -> c_int {
    let sa = o.sa.clone();
    let Some(e) = sa.esp() else {
        return o.failed(Stat::XfrmOutError);
    };
    let l = e.layout;
    let enc = o.enc;
    let esp_off = enc.hdr;
    let pad = enc.trailer_len - 2 - l.icv_len;
    let tr_off = enc.payload + enc.payload_len;
    let seq = o.seq;
    let spi = o.sa.ident.spi;
    let esn = o.sa.esn;
    {
        let b = o.pkt.bytes_mut();
        let ok = b
            .get_mut(tr_off..tr_off + pad + 2)
            .is_some_and(|t| l.write_trailer(t, pad, enc.split.next).is_ok());
        let Some(h) = b.get_mut(esp_off..esp_off + ESP_HDR_LEN) else {
            return o.failed(Stat::XfrmOutError);
        };
        h[..4].copy_from_slice(&spi.to_be_bytes());
        h[4..].copy_from_slice(&(seq as u32).to_be_bytes());
        if !ok {
            return o.failed(Stat::XfrmOutError);
        }
    }
    // After the IP checksum (mode::finish_output): the borrowed bytes are
    // back before the packet is sent.
    let Ok(esn_saved) = frame(esn, o.pkt.bytes_mut(), esp_off, seq) else {
        return o.failed(Stat::XfrmOutError);
    };
    let cryptlen = l.iv_len + enc.payload_len + pad + 2;
    let Ok(ctx) = KBox::new(EspOut { o, esn_saved }, GFP_ATOMIC) else {
        // The packet went with the failed allocation.
        return -(kernel::bindings::ENOMEM as c_int);
    };
    match aead::run(&e.aead, true, assoclen(esn), cryptlen, seq, ctx) {
        Run::Done(ctx, err) => encrypted(KBox::into_inner(ctx), err),
        Run::Pending => 0,
    }
}

struct EspOut {
    o: OutPkt,
    /// ESN: what `esn_frame` borrowed in front of the ESP header.
    esn_saved: Option<[u8; 4]>,
}

impl Completion for EspOut {
    fn buffer(&mut self) -> &mut [u8] {
        let off = self
            .o
            .enc
            .hdr
            .saturating_sub(if self.esn_saved.is_some() { 4 } else { 0 });
        self.o.pkt.bytes_mut().get_mut(off..).unwrap_or(&mut [])
    }

    fn complete(self: KBox<Self>, err: c_int) {
        let _ = encrypted(KBox::into_inner(self), err);
    }
}

fn encrypted(c: EspOut, err: c_int) -> c_int {
    let EspOut { mut o, esn_saved } = c;
    if err != 0 {
        return o.failed_with(Stat::XfrmOutStateProtoError, err);
    }
    if let Some(saved) = esn_saved {
        esn_unframe(o.pkt.bytes_mut(), o.enc.hdr, saved);
    }
    o.send()
}

/// Input: `i`'s data is at the ESP header. Decrypts (checking the ICV) and
/// the trailer, then hands over to `Verified`.
pub(crate) fn input(mut i: InPkt) {
    let sa = i.sa.clone();
    let Some(e) = sa.esp() else {
        return i.failed(Stat::XfrmInError);
    };
    let l = e.layout;
    let esp_len = i.pkt.len();
    let fixed = ESP_HDR_LEN + l.iv_len + l.icv_len;
    let ct = esp_len
        .checked_sub(fixed)
        .filter(|&c| c >= 2 && c & (l.block - 1) == 0);
    if ct.is_none() {
        return i.failed(Stat::XfrmInHdrError);
    }
    let Ok(esn_saved) = frame(i.sa.esn, i.pkt.l3_mut(), i.l3_len, i.seq) else {
        return i.failed(Stat::XfrmInHdrError);
    };
    let esn = sa.esn;
    let Ok(ctx) = KBox::new(EspIn { i, esn_saved }, GFP_ATOMIC) else {
        return;
    };
    match aead::run(&e.aead, false, assoclen(esn), esp_len - ESP_HDR_LEN, 0, ctx) {
        Run::Done(ctx, err) => decrypted(KBox::into_inner(ctx), err),
        Run::Pending => {}
    }
}

struct EspIn {
    i: InPkt,
    esn_saved: Option<[u8; 4]>,
}

impl Completion for EspIn {
    fn buffer(&mut self) -> &mut [u8] {
        let off = self
            .i
            .l3_len
            .saturating_sub(if self.esn_saved.is_some() { 4 } else { 0 });
        self.i.pkt.l3_mut().get_mut(off..).unwrap_or(&mut [])
    }

    fn complete(self: KBox<Self>, err: c_int) {
        decrypted(KBox::into_inner(self), err);
    }
}

fn decrypted(c: EspIn, err: c_int) {
    let EspIn { mut i, esn_saved } = c;
    if let Some(saved) = esn_saved {
        esn_unframe(i.pkt.l3_mut(), i.l3_len, saved);
    }
    if err != 0 {
        return if err == EBADMSG {
            i.integrity_failed()
        } else {
            i.failed(Stat::XfrmInError)
        };
    }
    let Some(l) = i.sa.esp().map(|e| e.layout) else {
        return i.failed(Stat::XfrmInError);
    };
    let esp_h = ESP_HDR_LEN + l.iv_len;
    let l3_len = i.l3_len;
    let l3 = i.pkt.l3_mut();
    let end = l3.len().saturating_sub(l.icv_len);
    let Some(plain) = l3.get(l3_len + esp_h..end) else {
        return i.failed(Stat::XfrmInHdrError);
    };
    let tr = match parse_trailer(plain) {
        Ok(t) => t,
        Err(EspError::BadPadding) => return i.failed(Stat::RxfrmInPadError),
        Err(_) => return i.failed(Stat::XfrmInStateProtoError),
    };
    if tr.next_header == NEXTHDR_NONE {
        // A dummy packet (RFC 4303 §2.6): discarded silently.
        return;
    }
    Verified {
        strip: esp_h,
        payload_len: tr.payload_len,
        next: tr.next_header,
    }
    .finish(i);
}
