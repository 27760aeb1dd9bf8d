//! Plain values for the base header and each extension: what `parse`
//! hands out and what `MsgWriter` takes. Decoding works on one whole
//! extension (header included) and checks what af_key checks.

use super::consts::*;
use super::ext::*;
use super::sockaddr::{family_of, parse_sockaddr, parse_sockaddr_pair, sockaddr_len};
use super::Errno;
use crate::logic::addr::{IpAddr, AF_INET, AF_INET6};

/// The base header, less version and length (the writer fills those).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MsgHeader {
    /// `SADB_*` message type.
    pub msg_type: u8,
    /// `sadb_msg_errno` (0 in requests).
    pub errno: u8,
    /// `SADB_SATYPE_*`.
    pub satype: u8,
    /// `sadb_msg_reserved`: 0, except Linux's policy refcount in replies.
    pub reserved: u16,
    /// Sequence number.
    pub seq: u32,
    /// Sender's pid (0 from the kernel).
    pub pid: u32,
}

impl MsgHeader {
    /// Reads the header fields of `h`.
    pub fn parse<T: AsRef<[u8]>>(h: &SadbMsg<T>) -> MsgHeader {
        MsgHeader {
            msg_type: h.msg_type(),
            errno: h.errno(),
            satype: h.satype(),
            reserved: h.reserved(),
            seq: h.seq(),
            pid: h.pid(),
        }
    }
}

/// The extension `ext` trimmed to its own `sadb_ext_len`, checked to hold
/// at least `min` bytes (`EINVAL` otherwise).
pub(crate) fn ext_body(ext: &[u8], min: usize) -> Result<&[u8], Errno> {
    let words = SadbExt::new_checked(ext)?.len();
    let len = usize::from(words).checked_mul(8).ok_or(Errno::EINVAL)?;
    let body = ext.get(..len).ok_or(Errno::EINVAL)?;
    if len < min.max(8) {
        return Err(Errno::EINVAL);
    }
    Ok(body)
}

/// `struct sadb_sa`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SaRepr {
    /// SPI, host order.
    pub spi: u32,
    /// Replay window size (packets).
    pub replay: u8,
    /// `SADB_SASTATE_*`.
    pub state: u8,
    /// Auth algorithm id.
    pub auth: u8,
    /// Encryption (or, for IPComp, compression) algorithm id.
    pub encrypt: u8,
    /// `SADB_SAFLAGS_*`.
    pub flags: u32,
}

impl SaRepr {
    /// Decodes a `SADB_EXT_SA` extension.
    pub fn parse(ext: &[u8]) -> Result<SaRepr, Errno> {
        let v = SadbSa::new_checked(ext_body(ext, SadbSa::<&[u8]>::LEN)?)?;
        Ok(SaRepr {
            spi: v.spi(),
            replay: v.replay(),
            state: v.state(),
            auth: v.auth(),
            encrypt: v.encrypt(),
            flags: v.flags(),
        })
    }
}

/// `struct sadb_lifetime` (current, hard or soft by extension type).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct LifetimeRepr {
    /// Packets (Linux's `packet_limit`).
    pub allocations: u32,
    /// Bytes.
    pub bytes: u64,
    /// Seconds since (or at, for current) creation.
    pub addtime: u64,
    /// Seconds since (or at) first use.
    pub usetime: u64,
}

impl LifetimeRepr {
    /// Decodes a lifetime extension.
    pub fn parse(ext: &[u8]) -> Result<LifetimeRepr, Errno> {
        let v = SadbLifetime::new_checked(ext_body(ext, SadbLifetime::<&[u8]>::LEN)?)?;
        Ok(LifetimeRepr {
            allocations: v.allocations(),
            bytes: v.bytes(),
            addtime: v.addtime(),
            usetime: v.usetime(),
        })
    }
}

/// `struct sadb_address` and its sockaddr.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AddressRepr {
    /// Upper-layer protocol (`IPSEC_ULPROTO_ANY` for any).
    pub proto: u8,
    /// Prefix length (≤ 32 or 128).
    pub prefixlen: u8,
    /// The address.
    pub addr: IpAddr,
    /// Port, host order (0 for any).
    pub port: u16,
}

impl AddressRepr {
    /// Decodes an address extension, checking it as af_key's
    /// `verify_address_len` does: IPv4/IPv6 only, extension exactly the
    /// padded size of the sockaddr, prefix within the address.
    pub fn parse(ext: &[u8]) -> Result<AddressRepr, Errno> {
        let body = ext_body(ext, SadbAddress::<&[u8]>::LEN)?;
        let v = SadbAddress::new_checked(body)?;
        // At least the sockaddr's family must be there (len ≥ 2 words).
        if body.len() < 16 {
            return Err(Errno::EINVAL);
        }
        let family = family_of(v.payload()).ok_or(Errno::EINVAL)?;
        let (want_len, max_prefix) = match family {
            AF_INET => (24, 32),
            AF_INET6 => (40, 128),
            _ => return Err(Errno::EINVAL),
        };
        if body.len() != want_len || v.prefixlen() > max_prefix {
            return Err(Errno::EINVAL);
        }
        let (addr, port) = parse_sockaddr(v.payload())?;
        Ok(AddressRepr {
            proto: v.proto(),
            prefixlen: v.prefixlen(),
            addr,
            port,
        })
    }

    /// The family (`AF_INET`/`AF_INET6`).
    pub fn family(&self) -> u16 {
        self.addr.family()
    }
}

/// `struct sadb_key` and its bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyRepr<'a> {
    /// Key length in bits.
    pub bits: u16,
    /// The key: exactly `ceil(bits / 8)` bytes when parsed; at least that
    /// many when emitted.
    pub key: &'a [u8],
}

impl<'a> KeyRepr<'a> {
    /// Decodes a key extension; `EINVAL` if the bits overrun it
    /// (`verify_key_len`).
    pub fn parse(ext: &'a [u8]) -> Result<KeyRepr<'a>, Errno> {
        let v = SadbKey::new_checked(ext_body(ext, SadbKey::<&[u8]>::LEN)?)?;
        let bytes = usize::from(v.bits()).div_ceil(8);
        let key = v.rest().get(..bytes).ok_or(Errno::EINVAL)?;
        Ok(KeyRepr {
            bits: v.bits(),
            key,
        })
    }
}

/// `struct sadb_ident` and its string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IdentityRepr<'a> {
    /// `SADB_IDENTTYPE_*`.
    pub ident_type: u16,
    /// Numeric id.
    pub id: u64,
    /// The identity string, without the NUL padding (parse trims trailing
    /// NULs; emit pads with them).
    pub data: &'a [u8],
}

impl<'a> IdentityRepr<'a> {
    /// Decodes an identity extension.
    pub fn parse(ext: &'a [u8]) -> Result<IdentityRepr<'a>, Errno> {
        let v = SadbIdent::new_checked(ext_body(ext, SadbIdent::<&[u8]>::LEN)?)?;
        let mut data = v.rest();
        while let [head @ .., 0] = data {
            data = head;
        }
        Ok(IdentityRepr {
            ident_type: v.ident_type(),
            id: v.id(),
            data,
        })
    }
}

/// `struct sadb_sens` and its bitmaps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SensRepr<'a> {
    /// Domain of interpretation.
    pub dpd: u32,
    /// Sensitivity level.
    pub sens_level: u8,
    /// Integrity level.
    pub integ_level: u8,
    /// Sensitivity bitmap, a multiple of 8 bytes.
    pub sens_bitmap: &'a [u8],
    /// Integrity bitmap, a multiple of 8 bytes.
    pub integ_bitmap: &'a [u8],
}

impl<'a> SensRepr<'a> {
    /// Decodes a sensitivity extension; `EINVAL` if the bitmaps overrun it.
    /// (Linux never looks at this extension; rxfrm checks it all the same.)
    pub fn parse(ext: &'a [u8]) -> Result<SensRepr<'a>, Errno> {
        let v = SadbSens::new_checked(ext_body(ext, SadbSens::<&[u8]>::LEN)?)?;
        let s = usize::from(v.sens_len()) * 8;
        let i = usize::from(v.integ_len()) * 8;
        let rest = v.rest();
        let sens_bitmap = rest.get(..s).ok_or(Errno::EINVAL)?;
        let integ_bitmap = rest.get(s..s + i).ok_or(Errno::EINVAL)?;
        Ok(SensRepr {
            dpd: v.dpd(),
            sens_level: v.sens_level(),
            integ_level: v.integ_level(),
            sens_bitmap,
            integ_bitmap,
        })
    }
}

/// `struct sadb_spirange`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SpiRangeRepr {
    /// Lowest SPI, host order.
    pub min: u32,
    /// Highest SPI, host order.
    pub max: u32,
}

impl SpiRangeRepr {
    /// Decodes an SPI range extension.
    pub fn parse(ext: &[u8]) -> Result<SpiRangeRepr, Errno> {
        let v = SadbSpirange::new_checked(ext_body(ext, SadbSpirange::<&[u8]>::LEN)?)?;
        Ok(SpiRangeRepr {
            min: v.min(),
            max: v.max(),
        })
    }
}

/// `struct sadb_x_sa2`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Sa2Repr {
    /// `IPSEC_MODE_*`.
    pub mode: u8,
    /// Sequence number.
    pub sequence: u32,
    /// Request id binding SA and policy.
    pub reqid: u32,
}

impl Sa2Repr {
    /// Decodes an SA2 extension.
    pub fn parse(ext: &[u8]) -> Result<Sa2Repr, Errno> {
        let v = SadbXSa2::new_checked(ext_body(ext, SadbXSa2::<&[u8]>::LEN)?)?;
        Ok(Sa2Repr {
            mode: v.mode(),
            sequence: v.sequence(),
            reqid: v.reqid(),
        })
    }
}

/// `struct sadb_x_sec_ctx` and its context string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SecCtxRepr<'a> {
    /// LSM (1 = SELinux).
    pub alg: u8,
    /// Domain of interpretation.
    pub doi: u8,
    /// The context, `ctx_len` bytes.
    pub ctx: &'a [u8],
}

impl<'a> SecCtxRepr<'a> {
    /// Decodes a security context, checked as `verify_sec_ctx_len`: at most
    /// `SEC_CTX_MAX` bytes and the extension exactly their padded size.
    pub fn parse(ext: &'a [u8]) -> Result<SecCtxRepr<'a>, Errno> {
        let body = ext_body(ext, SadbXSecCtx::<&[u8]>::LEN)?;
        let v = SadbXSecCtx::new_checked(body)?;
        let n = usize::from(v.ctx_len());
        if n > SEC_CTX_MAX || body.len() != (8 + n).div_ceil(8) * 8 {
            return Err(Errno::EINVAL);
        }
        Ok(SecCtxRepr {
            alg: v.ctx_alg(),
            doi: v.ctx_doi(),
            ctx: v.rest().get(..n).ok_or(Errno::EINVAL)?,
        })
    }
}

/// `struct sadb_x_kmaddress` and its two sockaddrs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KmAddressRepr {
    /// `sadb_x_kmaddress_reserved` (Linux passes it through).
    pub reserved: u32,
    /// Local IKE endpoint.
    pub local: IpAddr,
    /// Remote IKE endpoint.
    pub remote: IpAddr,
}

impl KmAddressRepr {
    /// Decodes a KM address extension (`parse_sockaddr_pair` rules).
    pub fn parse(ext: &[u8]) -> Result<KmAddressRepr, Errno> {
        let v = SadbXKmaddress::new_checked(ext_body(ext, SadbXKmaddress::<&[u8]>::LEN)?)?;
        let ((local, _), (remote, _)) = parse_sockaddr_pair(v.payload())?;
        Ok(KmAddressRepr {
            reserved: v.reserved(),
            local,
            remote,
        })
    }
}

/// `struct sadb_x_filter`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct FilterRepr {
    /// Source address bytes (IPv4 in the first four).
    pub saddr: [u8; 16],
    /// Destination address bytes.
    pub daddr: [u8; 16],
    /// `AF_INET`/`AF_INET6`.
    pub family: u16,
    /// Source prefix length.
    pub splen: u8,
    /// Destination prefix length.
    pub dplen: u8,
}

impl FilterRepr {
    /// Decodes a filter extension.
    pub fn parse(ext: &[u8]) -> Result<FilterRepr, Errno> {
        let v = SadbXFilter::new_checked(ext_body(ext, SadbXFilter::<&[u8]>::LEN)?)?;
        Ok(FilterRepr {
            saddr: v.saddr(),
            daddr: v.daddr(),
            family: v.family(),
            splen: v.splen(),
            dplen: v.dplen(),
        })
    }
}

/// The port of an `SADB_X_EXT_NAT_T_SPORT`/`DPORT` extension.
pub fn parse_nat_t_port(ext: &[u8]) -> Result<u16, Errno> {
    Ok(SadbXNatTPort::new_checked(ext_body(ext, 8)?)?.port())
}

/// An SA's error counters (`SADB_X_EXT_RXFRM_STATS`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct SaStatsRepr {
    /// Packets refused by the replay window.
    pub replay: u64,
    /// Packets whose ICV did not verify.
    pub integrity_failed: u64,
}

impl SaStatsRepr {
    /// Decodes the counters (an empty extension, a request, has none).
    pub fn parse(ext: &[u8]) -> Result<SaStatsRepr, Errno> {
        let v = SadbXRxfrmStats::new_checked(ext_body(ext, SadbXRxfrmStats::<&[u8]>::LEN)?)?;
        Ok(SaStatsRepr {
            replay: v.replay(),
            integrity_failed: v.integrity_failed(),
        })
    }
}

/// The type of an `SADB_X_EXT_NAT_T_TYPE` extension.
pub fn parse_nat_t_type(ext: &[u8]) -> Result<u8, Errno> {
    Ok(SadbXNatTType::new_checked(ext_body(ext, 8)?)?.nat_type())
}

/// The opaque payload of an `SADB_X_EXT_KMPRIVATE` extension.
pub fn parse_kmprivate(ext: &[u8]) -> Result<&[u8], Errno> {
    Ok(SadbXKmprivate::new_checked(ext_body(ext, 8)?)?.rest())
}

/// Whether `family` is one PF_KEY addresses can carry.
pub fn family_supported(family: u16) -> bool {
    sockaddr_len(family) != 0
}
