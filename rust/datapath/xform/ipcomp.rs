//! IPcomp (RFC 3173, deflate RFC 2394) through the kernel's compression
//! API (`sys::comp`, shared per-CPU transforms, as xfrm_ipcomp). A payload
//! is compressed only above the algorithm's threshold and kept only when
//! smaller (`logic::ipcomp`); otherwise the packet leaves without an IPcomp
//! header — not an error (RFC 3173 §2.2). No sequence numbers, no replay
//! window.

use super::super::input::{InPkt, Verified};
use super::super::output::OutPkt;
use super::super::sa::Unusable;
use crate::logic::algs::AlgDesc;
use crate::logic::ipcomp::{
    check_decompressed, check_input, keep_compressed, worth_compressing, write_header,
    IPCOMP_HDR_LEN,
};
use crate::logic::stats::Stat;
use crate::sys::comp::{CompRegistration, Compressor};
use crate::sys::packet::Pkt;
use kernel::ffi::c_int;
use kernel::str::CStr;
use kernel::sync::Arc;

/// An IPcomp SA's transform.
pub(crate) struct IpComp {
    comp: Arc<Compressor>,
    alg: &'static AlgDesc,
}

/// The compression algorithms the kernel has, by their crypto API names.
fn kernel_name(crypto: &str) -> Option<&'static CStr> {
    match crypto {
        "deflate" => Some(kernel::c_str!("deflate")),
        "lzs" => Some(kernel::c_str!("lzs")),
        "lzjh" => Some(kernel::c_str!("lzjh")),
        _ => None,
    }
}

impl IpComp {
    pub(super) fn new(alg: &'static AlgDesc) -> Result<IpComp, Unusable> {
        let name = alg.crypto.and_then(kernel_name).ok_or(Unusable::Unsupported)?;
        let comp = CompRegistration::get(name).map_err(Unusable::Crypto)?;
        Ok(IpComp { comp, alg })
    }

    /// Output, before the mode: compresses the payload (`off..` of the
    /// private packet `pkt`, data at its network header) in place when
    /// that is worth it. `Ok(true)`: compressed (the packet is shorter and
    /// needs the IPcomp header); `Ok(false)`: sent as it is.
    pub(crate) fn compress(&self, pkt: &mut Pkt, off: usize) -> Result<bool, c_int> {
        let len = pkt.len().saturating_sub(off);
        if !worth_compressing(len, self.alg) {
            return Ok(false);
        }
        let r = self.comp.run_on(true, pkt, off, len, |pkt, out| {
            if !keep_compressed(len, out.len()) {
                return Ok(false);
            }
            let b = pkt.bytes_mut();
            let Some(d) = b.get_mut(off..off + out.len()) else {
                return Ok(false);
            };
            d.copy_from_slice(out);
            pkt.trim(off + out.len());
            Ok(true)
        });
        match r {
            // Incompressible data may not fit the scratch: sent as is.
            Err(_) => Ok(false),
            ok => ok,
        }
    }
}

/// Output, after the mode: a compressed packet gets its IPcomp header
/// (naming what was compressed); an uncompressed one has none. On to the
/// next entry.
pub(crate) fn output(mut o: OutPkt) -> c_int {
    let enc = o.enc;
    if enc.hdr_len == IPCOMP_HDR_LEN {
        let cpi = o.sa.ident.spi as u16;
        let ok = o
            .pkt
            .bytes_mut()
            .get_mut(enc.hdr..enc.hdr + IPCOMP_HDR_LEN)
            .is_some_and(|h| write_header(h, enc.split.next, cpi).is_ok());
        if !ok {
            return o.failed(Stat::XfrmOutError);
        }
    }
    o.send()
}

/// Input: `i`'s data is at the IPcomp header. Checks it (the SA's CPI, no
/// nested IPcomp), inflates the payload in place (growing the packet) and
/// hands over to `Verified`.
pub(crate) fn input(mut i: InPkt) {
    let sa = i.sa.clone();
    let Some(c) = sa.ipcomp() else {
        return i.failed(Stat::XfrmInError);
    };
    let (next, clen) = {
        let b = i.pkt.bytes_mut();
        match check_input(b, sa.ident.spi) {
            Ok(h) => (h.next_header(), h.payload().len()),
            Err(_) => return i.failed(Stat::XfrmInStateProtoError),
        }
    };
    let r = c.comp.run_on(false, &mut i.pkt, IPCOMP_HDR_LEN, clen, |pkt, out| {
        let dlen = out.len();
        check_decompressed(clen, dlen).map_err(|_| -(kernel::bindings::EINVAL as c_int))?;
        let grow = dlen - clen;
        if pkt.make_private(0, grow).is_err() || !pkt.put(grow) {
            return Err(-(kernel::bindings::ENOMEM as c_int));
        }
        let d = pkt
            .bytes_mut()
            .get_mut(IPCOMP_HDR_LEN..IPCOMP_HDR_LEN + dlen)
            .ok_or(-(kernel::bindings::EINVAL as c_int))?;
        d.copy_from_slice(out);
        Ok(dlen)
    });
    match r {
        Ok(dlen) => Verified {
            strip: IPCOMP_HDR_LEN,
            payload_len: dlen,
            next,
        }
        .finish(i),
        // Data that does not inflate (or inflates too far) is a protocol
        // error of the SA's.
        Err(_) => i.failed(Stat::XfrmInStateProtoError),
    }
}
