//! The list-carrying extensions: proposals (`sadb_comb`s), supported
//! algorithms (`sadb_alg`s) and policies (`sadb_x_ipsecrequest`s). Emission
//! takes a slice; parsing gives a value whose iterator walks the wire.

use super::ext::*;
use super::repr::ext_body;
use super::sockaddr::parse_sockaddr_pair;
use super::Errno;
use crate::logic::addr::IpAddr;

/// `struct sadb_comb`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CombRepr {
    /// Auth algorithm id.
    pub auth: u8,
    /// Encryption algorithm id.
    pub encrypt: u8,
    /// `SADB_SAFLAGS_*`.
    pub flags: u16,
    /// Shortest auth key, bits.
    pub auth_minbits: u16,
    /// Longest auth key, bits.
    pub auth_maxbits: u16,
    /// Shortest encryption key, bits.
    pub encrypt_minbits: u16,
    /// Longest encryption key, bits.
    pub encrypt_maxbits: u16,
    /// Soft packet limit.
    pub soft_allocations: u32,
    /// Hard packet limit.
    pub hard_allocations: u32,
    /// Soft byte limit.
    pub soft_bytes: u64,
    /// Hard byte limit.
    pub hard_bytes: u64,
    /// Soft lifetime after creation, seconds.
    pub soft_addtime: u64,
    /// Hard lifetime after creation, seconds.
    pub hard_addtime: u64,
    /// Soft lifetime after first use, seconds.
    pub soft_usetime: u64,
    /// Hard lifetime after first use, seconds.
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
    /// The `addrs` sockaddrs' ports (source, destination), host order.
    /// Written only with `addrs`; `(0, 0)` when it is `None`. af_key
    /// ignores them, but `a[500]-b[4500]` puts them on the wire.
    pub ports: (u16, u16),
}

impl IpsecRequestRepr {
    /// Decodes one request (`rq` is exactly `sadb_x_ipsecrequest_len`
    /// bytes). Endpoints that do not decode are `None`; af_key's checks on
    /// them are `check_required`'s.
    pub fn parse(rq: &[u8]) -> Result<IpsecRequestRepr, Errno> {
        let v = SadbXIpsecrequest::new_checked(rq)?;
        let tail = v.payload();
        let pair = if tail.len() >= 2 {
            parse_sockaddr_pair(tail).ok()
        } else {
            None
        };
        let (addrs, ports) = match pair {
            Some(((src, sport), (dst, dport))) => (Some((src, dst)), (sport, dport)),
            None => (None, (0, 0)),
        };
        Ok(IpsecRequestRepr {
            proto: v.proto(),
            mode: v.mode(),
            level: v.level(),
            reqid: v.reqid(),
            addrs,
            ports,
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
