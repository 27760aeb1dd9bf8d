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

/// `struct sadb_comb`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[allow(missing_docs)] // field names are the C ones less `sadb_comb_`
pub struct CombRepr {
    pub auth: u8,
    pub encrypt: u8,
    pub flags: u16,
    pub auth_minbits: u16,
    pub auth_maxbits: u16,
    pub encrypt_minbits: u16,
    pub encrypt_maxbits: u16,
    pub soft_allocations: u32,
    pub hard_allocations: u32,
    pub soft_bytes: u64,
    pub hard_bytes: u64,
    pub soft_addtime: u64,
    pub hard_addtime: u64,
    pub soft_usetime: u64,
    pub hard_usetime: u64,
}

impl CombRepr {
    /// Reads one 72-byte `sadb_comb`.
    pub fn parse<T: AsRef<[u8]>>(c: &SadbComb<T>) -> CombRepr {
        CombRepr {
            auth: c.auth(),
            encrypt: c.encrypt(),
            flags: c.flags(),
            auth_minbits: c.auth_minbits(),
            auth_maxbits: c.auth_maxbits(),
            encrypt_minbits: c.encrypt_minbits(),
            encrypt_maxbits: c.encrypt_maxbits(),
            soft_allocations: c.soft_allocations(),
            hard_allocations: c.hard_allocations(),
            soft_bytes: c.soft_bytes(),
            hard_bytes: c.hard_bytes(),
            soft_addtime: c.soft_addtime(),
            hard_addtime: c.hard_addtime(),
            soft_usetime: c.soft_usetime(),
            hard_usetime: c.hard_usetime(),
        }
    }
}

/// A proposal to emit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProposalRepr<'a> {
    /// Replay window.
    pub replay: u8,
    /// The combinations, most preferred first.
    pub combs: &'a [CombRepr],
}

/// A parsed proposal; `combs()` walks its combinations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Proposal<'a> {
    /// Replay window.
    pub replay: u8,
    raw: &'a [u8],
}

impl<'a> Proposal<'a> {
    /// Decodes a proposal extension (a partial trailing comb is ignored).
    pub fn parse(ext: &'a [u8]) -> Result<Proposal<'a>, Errno> {
        let v = SadbProp::new_checked(ext_body(ext, SadbProp::<&[u8]>::LEN)?)?;
        Ok(Proposal {
            replay: v.replay(),
            raw: v.rest(),
        })
    }

    /// The combinations.
    pub fn combs(&self) -> impl Iterator<Item = CombRepr> + 'a {
        self.raw
            .chunks_exact(SadbComb::<&[u8]>::LEN)
            .map(|c| CombRepr::parse(&SadbComb::new_unchecked(c)))
    }
}

/// `struct sadb_alg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AlgRepr {
    /// Algorithm id.
    pub id: u8,
    /// IV length as Linux advertises it (bytes).
    pub ivlen: u8,
    /// Shortest key, bits.
    pub min_bits: u16,
    /// Longest key, bits.
    pub max_bits: u16,
}

/// A supported-algorithms list to emit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SupportedRepr<'a> {
    /// The algorithms.
    pub algs: &'a [AlgRepr],
}

/// A parsed supported-algorithms extension; `algs()` walks it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Supported<'a> {
    raw: &'a [u8],
}

impl<'a> Supported<'a> {
    /// Decodes a supported extension.
    pub fn parse(ext: &'a [u8]) -> Result<Supported<'a>, Errno> {
        let v = SadbSupported::new_checked(ext_body(ext, SadbSupported::<&[u8]>::LEN)?)?;
        Ok(Supported { raw: v.rest() })
    }

    /// The algorithms.
    pub fn algs(&self) -> impl Iterator<Item = AlgRepr> + 'a {
        self.raw.chunks_exact(SadbAlg::<&[u8]>::LEN).map(|c| {
            let a = SadbAlg::new_unchecked(c);
            AlgRepr {
                id: a.id(),
                ivlen: a.ivlen(),
                min_bits: a.minbits(),
                max_bits: a.maxbits(),
            }
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

/// One `sadb_x_ipsecrequest`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IpsecRequestRepr {
    /// IP protocol (50, 51, 108).
    pub proto: u16,
    /// `IPSEC_MODE_*`.
    pub mode: u8,
    /// `IPSEC_LEVEL_*`.
    pub level: u8,
    /// Request id.
    pub reqid: u32,
    /// Tunnel endpoints (source, destination), present in tunnel mode and
    /// in MIGRATE requests.
    pub addrs: Option<(IpAddr, IpAddr)>,
}

impl IpsecRequestRepr {
    /// Decodes one request (`rq` is exactly `sadb_x_ipsecrequest_len`
    /// bytes). Endpoints that do not decode are `None`; af_key's checks on
    /// them are `check_required`'s.
    pub fn parse(rq: &[u8]) -> Result<IpsecRequestRepr, Errno> {
        let v = SadbXIpsecrequest::new_checked(rq)?;
        let tail = v.payload();
        Ok(IpsecRequestRepr {
            proto: v.proto(),
            mode: v.mode(),
            level: v.level(),
            reqid: v.reqid(),
            addrs: if tail.len() >= 2 {
                parse_sockaddr_pair(tail).ok()
            } else {
                None
            },
        })
    }

    /// Bytes this request takes on the wire.
    pub fn wire_len(&self) -> usize {
        16 + self
            .addrs
            .map_or(0, |(s, _)| super::sockaddr::pair_size(s.family()))
    }
}

/// A policy to emit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PolicyRepr<'a> {
    /// `IPSEC_POLICY_*`.
    pub policy_type: u16,
    /// `IPSEC_DIR_*`.
    pub dir: u8,
    /// Policy index.
    pub id: u32,
    /// Priority.
    pub priority: u32,
    /// Templates, outermost last as in setkey's text.
    pub requests: &'a [IpsecRequestRepr],
}

/// A parsed policy extension; `requests()` walks its templates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Policy<'a> {
    /// `IPSEC_POLICY_*`.
    pub policy_type: u16,
    /// `IPSEC_DIR_*`.
    pub dir: u8,
    /// Policy index.
    pub id: u32,
    /// Priority.
    pub priority: u32,
    raw: &'a [u8],
}

impl<'a> Policy<'a> {
    /// Decodes a policy extension and checks its request framing as
    /// `parse_ipsecrequests` does: while 16 or more bytes remain, each
    /// request's byte length must be ≥ 16 and fit (`EINVAL`); a shorter
    /// remainder is ignored.
    pub fn parse(ext: &'a [u8]) -> Result<Policy<'a>, Errno> {
        let v = SadbXPolicy::new_checked(ext_body(ext, SadbXPolicy::<&[u8]>::LEN)?)?;
        let p = Policy {
            policy_type: v.policy_type(),
            dir: v.dir(),
            id: v.id(),
            priority: v.priority(),
            raw: v.rest(),
        };
        let mut rest = p.raw;
        while rest.len() >= 16 {
            let n = usize::from(SadbXIpsecrequest::new_unchecked(rest).len());
            if n < 16 || n > rest.len() {
                return Err(Errno::EINVAL);
            }
            rest = rest.get(n..).unwrap_or(&[]);
        }
        Ok(p)
    }

    /// The bytes after the policy header (the request list).
    pub fn request_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The raw requests, each exactly its own length.
    pub fn raw_requests(&self) -> RawRequests<'a> {
        RawRequests { rest: self.raw }
    }

    /// The decoded requests.
    pub fn requests(&self) -> impl Iterator<Item = IpsecRequestRepr> + 'a {
        self.raw_requests()
            .filter_map(|r| IpsecRequestRepr::parse(r.into_inner()).ok())
    }
}

/// Iterator over a policy's requests as views; stops at the first one that
/// is short or overruns (which `Policy::parse` has ruled out).
#[derive(Clone, Debug)]
pub struct RawRequests<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawRequests<'a> {
    type Item = SadbXIpsecrequest<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 16 {
            return None;
        }
        let n = usize::from(SadbXIpsecrequest::new_unchecked(self.rest).len());
        if n < 16 {
            self.rest = &[];
            return None;
        }
        let (rq, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(SadbXIpsecrequest::new_unchecked(rq))
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
        let (local, remote) = parse_sockaddr_pair(v.payload())?;
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
