//! IPcomp (RFC 3173; deflate, RFC 2394): the header, CPIs, and the rules
//! around the compressor. Compression itself is the kernel's (`crypto_comp`
//! "deflate", as `xfrm_ipcomp.c`); this module only decides when, and
//! what is refused.
//!
//! ```text
//! | next hdr | flags | CPI (16 bits) | compressed payload |
//! ```
//!
//! Output, as Linux's `ipcomp_output`: a payload shorter than the
//! algorithm's threshold is sent as it is, and so is one whose compressed
//! form, with the 4-byte header, is not smaller; neither is an error
//! (RFC 3173 §2.2). So IPcomp never makes a packet larger, which is why it
//! adds nothing to a bundle's MTU arithmetic, and why a policy's IPcomp
//! template must accept packets that arrive uncompressed (see `secpath`).
//! IPcomp has no sequence number, so no replay protection.
//!
//! Input refuses: a header cut short; IPcomp inside IPcomp (KAME and
//! FreeBSD/NetBSD refuse "recursive compression", RFC 3173 §2.2 forbids
//! it; Linux 6.12 has no explicit check and would look for a second SA); a
//! next header of 0 (hop-by-hop options may only follow the IPv6 header);
//! a CPI that is not the SA's (the datapath finds the SA by it: an unknown
//! CPI is a missing SA, `XfrmInNoStates`); output larger than Linux's
//! 65400-byte scratch buffer (`IPCOMP_SCRATCH_SIZE`) or than the datagram's
//! length field can carry; and output not larger than the input plus the
//! header, which no sender produces (Linux: `EINVAL`).

use crate::logic::algs::{AlgDesc, AlgKind};

/// Next header, flags, CPI.
pub const IPCOMP_HDR_LEN: usize = 4;
/// Linux's decompression (and compression) buffer: the most a payload
/// may decompress to.
pub const IPCOMP_SCRATCH_SIZE: usize = 65400;

/// Highest well-known CPI (RFC 3173 §3.3: the IPCOMP transform ids, used
/// without negotiation: 1 OUI, 2 DEFLATE, 3 LZS, 4 LZJH).
pub const CPI_WELL_KNOWN_MAX: u16 = 63;
/// Highest reserved CPI (64..=255, for future use).
pub const CPI_RESERVED_MAX: u16 = 255;
/// Highest negotiated CPI (256..=61439, what IKE hands out).
pub const CPI_NEGOTIATED_MAX: u16 = 61439;

/// Why IPcomp bytes were refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IpcompError {
    /// Fewer bytes than the header.
    Truncated,
    /// The header's CPI is not the SA's.
    CpiMismatch,
    /// IPcomp inside IPcomp.
    Nested,
    /// A next header that cannot follow IPcomp (0, hop-by-hop options).
    BadNextHeader,
    /// Decompressed beyond the scratch buffer or the datagram's length
    /// field.
    TooLarge,
    /// Decompressed to no more than the compressed payload plus the
    /// header: not what a sender produces.
    NotExpanded,
}

/// Where a CPI lies (RFC 3173 §3.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CpiClass {
    /// 0..=63: the transform ids.
    WellKnown,
    /// 64..=255.
    Reserved,
    /// 256..=61439.
    Negotiated,
    /// 61440..=65535: private use between consenting parties.
    Private,
}

/// The class of `cpi`.
pub fn cpi_class(cpi: u16) -> CpiClass {
    match cpi {
        0..=CPI_WELL_KNOWN_MAX => CpiClass::WellKnown,
        64..=CPI_RESERVED_MAX => CpiClass::Reserved,
        256..=CPI_NEGOTIATED_MAX => CpiClass::Negotiated,
        _ => CpiClass::Private,
    }
}

/// The CPI an IPcomp SA's 32-bit SPI field holds; `None` beyond 16 bits.
pub fn cpi_of_spi(spi: u32) -> Option<u16> {
    u16::try_from(spi).ok()
}

/// The SPI the SA of a packet carrying `cpi` is looked up by
/// (`xfrm_parse_spi`: the CPI widened).
pub fn spi_of_cpi(cpi: u16) -> u32 {
    u32::from(cpi)
}

/// Why a GETSPI range cannot give a CPI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CpiRangeError {
    /// The maximum does not fit 16 bits, or the minimum exceeds it
    /// (`verify_spi_info`: `EINVAL`).
    Invalid,
    /// The range holds only 0, which is never handed out
    /// (`xfrm_alloc_spi`: `ENOENT`).
    Empty,
}

/// The CPIs SADB_GETSPI may hand out for satype IPCOMP given the
/// request's SPI range `min..=max`, as Linux does: af_key's default range
/// when the request has none is 0x100..=0x0fffffff, which
/// `verify_spi_info` refuses for IPcomp (a maximum of 0x10000 or more), so
/// an IKE daemon must send a range (racoon sends 0x100..=0xffff for
/// IPcomp); any non-zero CPI in the range may be chosen, well-known and
/// reserved ones included if the range asks for them (Linux does not
/// restrict it further; KAME clamps the range to 0xffff instead of
/// refusing). The SAD's `getspi` applies the same rule.
pub fn getspi_cpi_range(min: u32, max: u32) -> Result<(u16, u16), CpiRangeError> {
    let hi = u16::try_from(max).map_err(|_| CpiRangeError::Invalid)?;
    if min > max {
        return Err(CpiRangeError::Invalid);
    }
    if hi == 0 {
        return Err(CpiRangeError::Empty);
    }
    let lo = u16::try_from(min).unwrap_or(hi).max(1);
    Ok((lo, hi))
}

/// A zero-copy view of the IPcomp header at the start of `buf`.
#[derive(Clone, Copy, Debug)]
pub struct IpcompHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> IpcompHeader<T> {
    /// Wraps `buf` after checking it holds the header.
    pub fn new_checked(buf: T) -> Result<Self, IpcompError> {
        if buf.as_ref().len() < IPCOMP_HDR_LEN {
            return Err(IpcompError::Truncated);
        }
        Ok(IpcompHeader { buf })
    }

    fn byte(&self, i: usize) -> u8 {
        self.buf.as_ref().get(i).copied().unwrap_or(0)
    }

    /// Protocol of the compressed payload.
    pub fn next_header(&self) -> u8 {
        self.byte(0)
    }

    /// Flags: zero when sent, ignored on receipt (RFC 3173 §2.2).
    pub fn flags(&self) -> u8 {
        self.byte(1)
    }

    /// Compression parameter index.
    pub fn cpi(&self) -> u16 {
        u16::from_be_bytes([self.byte(2), self.byte(3)])
    }

    /// The compressed payload.
    pub fn payload(&self) -> &[u8] {
        self.buf.as_ref().get(IPCOMP_HDR_LEN..).unwrap_or(&[])
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }
}

/// Writes an IPcomp header (flags 0) into the start of `buf`.
pub fn write_header(buf: &mut [u8], next_header: u8, cpi: u16) -> Result<(), IpcompError> {
    let [c0, c1] = cpi.to_be_bytes();
    let h = buf
        .get_mut(..IPCOMP_HDR_LEN)
        .and_then(|s| <&mut [u8; IPCOMP_HDR_LEN]>::try_from(s).ok())
        .ok_or(IpcompError::Truncated)?;
    *h = [next_header, 0, c0, c1];
    Ok(())
}

/// Whether a payload of `payload_len` bytes is worth compressing with
/// `alg`: at least its threshold (`AlgDesc::comp_threshold`; deflate 90,
/// as Linux's `xfrm_calg` table has it for IPv4 and IPv6 alike), as
/// `ipcomp_output` skips a payload shorter than that.
pub fn worth_compressing(payload_len: usize, alg: &AlgDesc) -> bool {
    alg.kind == AlgKind::Compress && payload_len >= usize::from(alg.comp_threshold)
}

/// The most compressed bytes worth keeping for a payload of `payload_len`:
/// one less than the payload minus the header, and at most the scratch
/// buffer. A compressor given an output buffer of this size that runs out
/// of room means "send it uncompressed". 0 when nothing can be kept.
pub fn compress_output_cap(payload_len: usize) -> usize {
    payload_len
        .saturating_sub(IPCOMP_HDR_LEN + 1)
        .min(IPCOMP_SCRATCH_SIZE)
}

/// Whether to send the compressed form: with its header it must be
/// smaller than the payload (`ipcomp_compress`: `EMSGSIZE` otherwise, and
/// the packet goes out as it was).
pub fn keep_compressed(payload_len: usize, compressed_len: usize) -> bool {
    compressed_len
        .checked_add(IPCOMP_HDR_LEN)
        .is_some_and(|n| n < payload_len)
}

/// Checks the IPcomp header at the start of an inbound payload `buf` of
/// the SA whose SPI is `sa_spi`, before decompressing.
pub fn check_input(buf: &[u8], sa_spi: u32) -> Result<IpcompHeader<&[u8]>, IpcompError> {
    let h = IpcompHeader::new_checked(buf)?;
    if spi_of_cpi(h.cpi()) != sa_spi {
        return Err(IpcompError::CpiMismatch);
    }
    match h.next_header() {
        108 => Err(IpcompError::Nested),
        0 => Err(IpcompError::BadNextHeader),
        _ => Ok(h),
    }
}

/// Checks what a payload of `compressed_len` bytes (after the header)
/// decompressed to (`ipcomp_decompress`): at most the scratch buffer, and
/// more than the compressed payload plus the header.
pub fn check_decompressed(
    compressed_len: usize,
    decompressed_len: usize,
) -> Result<(), IpcompError> {
    if decompressed_len > IPCOMP_SCRATCH_SIZE {
        return Err(IpcompError::TooLarge);
    }
    match compressed_len.checked_add(IPCOMP_HDR_LEN) {
        Some(min) if decompressed_len >= min => Ok(()),
        _ => Err(IpcompError::NotExpanded),
    }
}

/// The length field of a transport-mode packet once its IPcomp header and
/// payload are replaced by `decompressed_len` bytes after `kept_len` bytes
/// of IP headers: IPv4 total length (header included) or IPv6 payload
/// length (the 40-byte header excluded). `TooLarge` when it does not fit
/// 16 bits (with IPv6 extension headers 65400 bytes can overflow it).
pub fn transport_length_field(
    kept_len: usize,
    decompressed_len: usize,
    v6: bool,
) -> Result<u16, IpcompError> {
    let total = kept_len
        .checked_add(decompressed_len)
        .ok_or(IpcompError::TooLarge)?;
    let field = if v6 {
        total.checked_sub(40).ok_or(IpcompError::Truncated)?
    } else {
        total
    };
    u16::try_from(field).map_err(|_| IpcompError::TooLarge)
}

#[cfg(test)]
mod tests;
