//! Building messages without allocating. A `MsgWriter` either counts
//! (no buffer) or writes into a caller's buffer; the same build closure
//! runs once of each, which is how the kernel sizes an skb (allocated with
//! GFP_ATOMIC) before filling it. `build_vec` does both for the host side.

use super::consts::*;
use super::ext::*;
use super::lists::*;
use super::repr::*;
use super::sockaddr::{pair_size, sockaddr_len, write_sockaddr, write_sockaddr_pair};
use super::Errno;
use crate::seam::Vec;

/// Largest message `sadb_msg_len` can describe.
pub const MAX_MSG_LEN: usize = u16::MAX as usize * 8;

/// Appends a message's header and extensions, each padded to 8 bytes.
#[derive(Debug)]
pub struct MsgWriter<'a> {
    buf: Option<&'a mut [u8]>,
    len: usize,
    /// Holds a message copied as it was sent (`verbatim`): `finish` leaves
    /// it alone.
    verbatim: bool,
}

impl MsgWriter<'static> {
    /// A writer that only counts bytes.
    pub fn counter() -> Self {
        MsgWriter {
            buf: None,
            len: 0,
            verbatim: false,
        }
    }
}

impl<'a> MsgWriter<'a> {
    /// A writer filling `buf` from its start (`ENOBUFS` once it is full).
    pub fn new(buf: &'a mut [u8]) -> Self {
        MsgWriter {
            buf: Some(buf),
            len: 0,
            verbatim: false,
        }
    }

    /// Bytes appended so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this writer only counts.
    pub fn is_counting(&self) -> bool {
        self.buf.is_none()
    }

    /// Appends `n` zeroed bytes; the slice when writing, `None` when counting.
    fn reserve(&mut self, n: usize) -> Result<Option<&mut [u8]>, Errno> {
        let start = self.len;
        let end = start.checked_add(n).ok_or(Errno::EMSGSIZE)?;
        if end > MAX_MSG_LEN {
            return Err(Errno::EMSGSIZE);
        }
        match self.buf.as_deref_mut() {
            None => {
                self.len = end;
                Ok(None)
            }
            Some(b) => {
                let s = b.get_mut(start..end).ok_or(Errno::ENOBUFS)?;
                s.fill(0);
                self.len = end;
                Ok(Some(s))
            }
        }
    }

    /// Writes the base header; it must come first. Version is `PF_KEY_V2`,
    /// the length is patched by `finish`.
    pub fn header(&mut self, h: &MsgHeader) -> Result<(), Errno> {
        if self.len != 0 {
            return Err(Errno::EINVAL);
        }
        if let Some(s) = self.reserve(16)? {
            let mut m = SadbMsg::new_unchecked(s);
            m.set_version(PF_KEY_V2);
            m.set_msg_type(h.msg_type);
            m.set_errno(h.errno);
            m.set_satype(h.satype);
            m.set_reserved(h.reserved);
            m.set_seq(h.seq);
            m.set_pid(h.pid);
        }
        Ok(())
    }

    /// Appends one extension of `ext_type` whose unpadded size is `size`;
    /// `fill` gets the zeroed, padded extension to write the rest into.
    fn ext(
        &mut self,
        ext_type: u16,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        if self.len < 16 {
            return Err(Errno::EINVAL);
        }
        let padded = super::sockaddr::align8(size).ok_or(Errno::EMSGSIZE)?;
        let words = u16::try_from(padded / 8).map_err(|_| Errno::EMSGSIZE)?;
        if let Some(s) = self.reserve(padded)? {
            let mut e = SadbExt::new_unchecked(&mut *s);
            e.set_len(words);
            e.set_ext_type(ext_type);
            fill(s)?;
        }
        Ok(())
    }

    /// `SADB_EXT_SA`.
    pub fn sa(&mut self, r: &SaRepr) -> Result<(), Errno> {
        self.ext(SADB_EXT_SA, 16, |s| {
            let mut v = SadbSa::new_unchecked(s);
            v.set_spi(r.spi);
            v.set_replay(r.replay);
            v.set_state(r.state);
            v.set_auth(r.auth);
            v.set_encrypt(r.encrypt);
            v.set_flags(r.flags);
            Ok(())
        })
    }

    /// A lifetime; `ext_type` is current, hard or soft (else `EINVAL`).
    pub fn lifetime(&mut self, ext_type: u16, r: &LifetimeRepr) -> Result<(), Errno> {
        if !matches!(
            ext_type,
            SADB_EXT_LIFETIME_CURRENT | SADB_EXT_LIFETIME_HARD | SADB_EXT_LIFETIME_SOFT
        ) {
            return Err(Errno::EINVAL);
        }
        self.ext(ext_type, 32, |s| {
            let mut v = SadbLifetime::new_unchecked(s);
            v.set_allocations(r.allocations);
            v.set_bytes(r.bytes);
            v.set_addtime(r.addtime);
            v.set_usetime(r.usetime);
            Ok(())
        })
    }

    /// An address; `ext_type` is src, dst, proxy or NAT-T OA (else
    /// `EINVAL`), as is a prefix longer than the address.
    pub fn address(&mut self, ext_type: u16, r: &AddressRepr) -> Result<(), Errno> {
        if !matches!(
            ext_type,
            SADB_EXT_ADDRESS_SRC
                | SADB_EXT_ADDRESS_DST
                | SADB_EXT_ADDRESS_PROXY
                | SADB_X_EXT_NAT_T_OA
        ) || r.prefixlen > r.addr.max_prefix()
        {
            return Err(Errno::EINVAL);
        }
        self.ext(ext_type, 8 + sockaddr_len(r.addr.family()), |s| {
            let mut v = SadbAddress::new_unchecked(&mut *s);
            v.set_proto(r.proto);
            v.set_prefixlen(r.prefixlen);
            write_sockaddr(v.payload_mut(), &r.addr, r.port).map(drop)
        })
    }

    /// A key; `ext_type` is auth or encrypt. `EINVAL` if `key` is shorter
    /// than `bits`; any bits past `bits` in the last byte are sent as given.
    pub fn key(&mut self, ext_type: u16, r: &KeyRepr<'_>) -> Result<(), Errno> {
        let n = usize::from(r.bits).div_ceil(8);
        if !matches!(ext_type, SADB_EXT_KEY_AUTH | SADB_EXT_KEY_ENCRYPT) || r.key.len() < n {
            return Err(Errno::EINVAL);
        }
        self.ext(ext_type, 8 + n, |s| {
            let mut v = SadbKey::new_unchecked(&mut *s);
            v.set_bits(r.bits);
            copy(v.payload_mut(), r.key.get(..n).unwrap_or(&[]))
        })
    }

    /// An identity; `ext_type` is src or dst. The string is NUL-padded.
    pub fn identity(&mut self, ext_type: u16, r: &IdentityRepr<'_>) -> Result<(), Errno> {
        if !matches!(ext_type, SADB_EXT_IDENTITY_SRC | SADB_EXT_IDENTITY_DST) {
            return Err(Errno::EINVAL);
        }
        let size = 16usize.checked_add(r.data.len()).ok_or(Errno::EMSGSIZE)?;
        self.ext(ext_type, size, |s| {
            let mut v = SadbIdent::new_unchecked(&mut *s);
            v.set_ident_type(r.ident_type);
            v.set_id(r.id);
            copy(v.payload_mut(), r.data)
        })
    }

    /// `SADB_EXT_SENSITIVITY`; each bitmap a multiple of 8 bytes, at most
    /// 255 words (`EINVAL` otherwise).
    pub fn sensitivity(&mut self, r: &SensRepr<'_>) -> Result<(), Errno> {
        let words = |b: &[u8]| -> Result<u8, Errno> {
            if b.len() & 7 != 0 {
                return Err(Errno::EINVAL);
            }
            u8::try_from(b.len() / 8).map_err(|_| Errno::EINVAL)
        };
        let (sw, iw) = (words(r.sens_bitmap)?, words(r.integ_bitmap)?);
        let size = 16 + r.sens_bitmap.len() + r.integ_bitmap.len();
        self.ext(SADB_EXT_SENSITIVITY, size, |s| {
            let mut v = SadbSens::new_unchecked(&mut *s);
            v.set_dpd(r.dpd);
            v.set_sens_level(r.sens_level);
            v.set_sens_len(sw);
            v.set_integ_level(r.integ_level);
            v.set_integ_len(iw);
            let p = v.payload_mut();
            copy(p, r.sens_bitmap)?;
            copy(
                p.get_mut(r.sens_bitmap.len()..).unwrap_or(&mut []),
                r.integ_bitmap,
            )
        })
    }

    /// `SADB_EXT_PROPOSAL`.
    pub fn proposal(&mut self, r: &ProposalRepr<'_>) -> Result<(), Errno> {
        let size = r
            .combs
            .len()
            .checked_mul(72)
            .and_then(|n| n.checked_add(8))
            .ok_or(Errno::EMSGSIZE)?;
        self.ext(SADB_EXT_PROPOSAL, size, |s| {
            SadbProp::new_unchecked(&mut *s).set_replay(r.replay);
            let area = s.get_mut(8..).unwrap_or(&mut []);
            for (c, out) in r.combs.iter().zip(area.chunks_exact_mut(72)) {
                write_comb(&mut SadbComb::new_unchecked(out), c);
            }
            Ok(())
        })
    }

    /// A supported-algorithms list; `ext_type` is auth or encrypt.
    pub fn supported(&mut self, ext_type: u16, r: &SupportedRepr<'_>) -> Result<(), Errno> {
        if !matches!(
            ext_type,
            SADB_EXT_SUPPORTED_AUTH | SADB_EXT_SUPPORTED_ENCRYPT
        ) {
            return Err(Errno::EINVAL);
        }
        let size = r
            .algs
            .len()
            .checked_mul(8)
            .and_then(|n| n.checked_add(8))
            .ok_or(Errno::EMSGSIZE)?;
        self.ext(ext_type, size, |s| {
            let area = s.get_mut(8..).unwrap_or(&mut []);
            for (a, out) in r.algs.iter().zip(area.chunks_exact_mut(8)) {
                let mut v = SadbAlg::new_unchecked(out);
                v.set_id(a.id);
                v.set_ivlen(a.ivlen);
                v.set_minbits(a.min_bits);
                v.set_maxbits(a.max_bits);
            }
            Ok(())
        })
    }

    /// `SADB_EXT_SPIRANGE`.
    pub fn spirange(&mut self, r: &SpiRangeRepr) -> Result<(), Errno> {
        self.ext(SADB_EXT_SPIRANGE, 16, |s| {
            let mut v = SadbSpirange::new_unchecked(s);
            v.set_min(r.min);
            v.set_max(r.max);
            Ok(())
        })
    }

    /// `SADB_X_EXT_KMPRIVATE` with opaque `data` (zero-padded).
    pub fn kmprivate(&mut self, data: &[u8]) -> Result<(), Errno> {
        let size = data.len().checked_add(8).ok_or(Errno::EMSGSIZE)?;
        self.ext(SADB_X_EXT_KMPRIVATE, size, |s| {
            copy(s.get_mut(8..).unwrap_or(&mut []), data)
        })
    }

    /// `SADB_X_EXT_POLICY` with its requests. `EINVAL` if a request's
    /// endpoints are of two families or one is too long for its `u16`.
    pub fn policy(&mut self, r: &PolicyRepr<'_>) -> Result<(), Errno> {
        let mut size = 16usize;
        for rq in r.requests {
            if u16::try_from(rq.wire_len()).is_err() {
                return Err(Errno::EINVAL);
            }
            size = size.checked_add(rq.wire_len()).ok_or(Errno::EMSGSIZE)?;
        }
        self.ext(SADB_X_EXT_POLICY, size, |s| {
            let mut v = SadbXPolicy::new_unchecked(&mut *s);
            v.set_policy_type(r.policy_type);
            v.set_dir(r.dir);
            v.set_id(r.id);
            v.set_priority(r.priority);
            let mut area = s.get_mut(16..).unwrap_or(&mut []);
            for rq in r.requests {
                let n = rq.wire_len();
                let (out, rest) = area.split_at_mut_checked(n).ok_or(Errno::ENOBUFS)?;
                write_request(out, rq)?;
                area = rest;
            }
            Ok(())
        })
    }

    /// `SADB_X_EXT_SA2`.
    pub fn sa2(&mut self, r: &Sa2Repr) -> Result<(), Errno> {
        self.ext(SADB_X_EXT_SA2, 16, |s| {
            let mut v = SadbXSa2::new_unchecked(s);
            v.set_mode(r.mode);
            v.set_sequence(r.sequence);
            v.set_reqid(r.reqid);
            Ok(())
        })
    }

    /// rxfrm's per-SA counters; `None` writes the empty extension that
    /// asks for them.
    pub fn rxfrm_stats(&mut self, r: Option<&SaStatsRepr>) -> Result<(), Errno> {
        let Some(r) = r else {
            return self.ext(SADB_X_EXT_RXFRM_STATS, 8, |_| Ok(()));
        };
        self.ext(SADB_X_EXT_RXFRM_STATS, SadbXRxfrmStats::<&[u8]>::LEN, |s| {
            let mut v = SadbXRxfrmStats::new_unchecked(s);
            v.set_replay(r.replay);
            v.set_integrity_failed(r.integrity_failed);
            Ok(())
        })
    }

    /// `SADB_X_EXT_NAT_T_TYPE`.
    pub fn nat_t_type(&mut self, nat_type: u8) -> Result<(), Errno> {
        self.ext(SADB_X_EXT_NAT_T_TYPE, 8, |s| {
            SadbXNatTType::new_unchecked(s).set_nat_type(nat_type);
            Ok(())
        })
    }

    /// A NAT-T port (host order); `ext_type` is sport or dport.
    pub fn nat_t_port(&mut self, ext_type: u16, port: u16) -> Result<(), Errno> {
        if !matches!(ext_type, SADB_X_EXT_NAT_T_SPORT | SADB_X_EXT_NAT_T_DPORT) {
            return Err(Errno::EINVAL);
        }
        self.ext(ext_type, 8, |s| {
            SadbXNatTPort::new_unchecked(s).set_port(port);
            Ok(())
        })
    }

    /// `SADB_X_EXT_SEC_CTX` (`EINVAL` past `SEC_CTX_MAX` bytes).
    pub fn sec_ctx(&mut self, r: &SecCtxRepr<'_>) -> Result<(), Errno> {
        let n = u16::try_from(r.ctx.len()).map_err(|_| Errno::EINVAL)?;
        if r.ctx.len() > SEC_CTX_MAX {
            return Err(Errno::EINVAL);
        }
        self.ext(SADB_X_EXT_SEC_CTX, 8 + r.ctx.len(), |s| {
            let mut v = SadbXSecCtx::new_unchecked(&mut *s);
            v.set_ctx_alg(r.alg);
            v.set_ctx_doi(r.doi);
            v.set_ctx_len(n);
            copy(v.payload_mut(), r.ctx)
        })
    }

    /// `SADB_X_EXT_KMADDRESS` (`EINVAL` if the families differ).
    pub fn kmaddress(&mut self, r: &KmAddressRepr) -> Result<(), Errno> {
        if r.local.family() != r.remote.family() {
            return Err(Errno::EINVAL);
        }
        self.ext(SADB_X_EXT_KMADDRESS, 8 + pair_size(r.local.family()), |s| {
            let mut v = SadbXKmaddress::new_unchecked(&mut *s);
            v.set_reserved(r.reserved);
            write_sockaddr_pair(v.payload_mut(), (&r.local, 0), (&r.remote, 0)).map(drop)
        })
    }

    /// `SADB_X_EXT_FILTER`.
    pub fn filter(&mut self, r: &FilterRepr) -> Result<(), Errno> {
        self.ext(SADB_X_EXT_FILTER, 40, |s| {
            let mut v = SadbXFilter::new_unchecked(s);
            v.set_saddr(r.saddr);
            v.set_daddr(r.daddr);
            v.set_family(r.family);
            v.set_splen(r.splen);
            v.set_dplen(r.dplen);
            Ok(())
        })
    }

    /// An extension already in wire form (e.g. one taken from a parsed
    /// message). `EINVAL` unless its own length field covers it exactly and
    /// it is a non-empty multiple of 8 bytes.
    pub fn raw(&mut self, ext: &[u8]) -> Result<(), Errno> {
        let words = SadbExt::new_checked(ext)?.len();
        if ext.len() & 7 != 0 || usize::from(words) * 8 != ext.len() || words == 0 || self.len < 16
        {
            return Err(Errno::EINVAL);
        }
        if let Some(s) = self.reserve(ext.len())? {
            s.copy_from_slice(ext);
        }
        Ok(())
    }

    /// The whole of `msg`, byte for byte, as the only content (what
    /// af_key's `skb_clone` gives promiscuous sockets: the request as it
    /// was sent, inconsistent lengths and all).
    pub fn verbatim(&mut self, msg: &[u8]) -> Result<(), Errno> {
        if self.len != 0 {
            return Err(Errno::EINVAL);
        }
        if let Some(s) = self.reserve(msg.len())? {
            s.copy_from_slice(msg);
        }
        self.verbatim = true;
        Ok(())
    }

    /// Patches `sadb_msg_len` and returns the message length.
    pub fn finish(&mut self) -> Result<usize, Errno> {
        if self.verbatim {
            return Ok(self.len);
        }
        if self.len < 16 || self.len & 7 != 0 {
            return Err(Errno::EINVAL);
        }
        let words = u16::try_from(self.len / 8).map_err(|_| Errno::EMSGSIZE)?;
        if let Some(b) = self.buf.as_deref_mut() {
            SadbMsg::new_unchecked(b).set_len(words);
        }
        Ok(self.len)
    }
}

fn copy(dst: &mut [u8], src: &[u8]) -> Result<(), Errno> {
    dst.get_mut(..src.len())
        .ok_or(Errno::ENOBUFS)?
        .copy_from_slice(src);
    Ok(())
}

fn write_comb(v: &mut SadbComb<&mut [u8]>, c: &CombRepr) {
    v.set_auth(c.auth);
    v.set_encrypt(c.encrypt);
    v.set_flags(c.flags);
    v.set_auth_minbits(c.auth_minbits);
    v.set_auth_maxbits(c.auth_maxbits);
    v.set_encrypt_minbits(c.encrypt_minbits);
    v.set_encrypt_maxbits(c.encrypt_maxbits);
    v.set_soft_allocations(c.soft_allocations);
    v.set_hard_allocations(c.hard_allocations);
    v.set_soft_bytes(c.soft_bytes);
    v.set_hard_bytes(c.hard_bytes);
    v.set_soft_addtime(c.soft_addtime);
    v.set_hard_addtime(c.hard_addtime);
    v.set_soft_usetime(c.soft_usetime);
    v.set_hard_usetime(c.hard_usetime);
}

fn write_request(out: &mut [u8], rq: &IpsecRequestRepr) -> Result<(), Errno> {
    let len = u16::try_from(out.len()).map_err(|_| Errno::EINVAL)?;
    let mut v = SadbXIpsecrequest::new_unchecked(&mut *out);
    v.set_len(len);
    v.set_proto(rq.proto);
    v.set_mode(rq.mode);
    v.set_level(rq.level);
    v.set_reqid(rq.reqid);
    if let Some((src, dst)) = &rq.addrs {
        let (sport, dport) = rq.ports;
        write_sockaddr_pair(v.payload_mut(), (src, sport), (dst, dport))?;
    }
    Ok(())
}

/// Runs `build` on a counting writer and returns the message length.
pub fn build_len<F>(build: &mut F) -> Result<usize, Errno>
where
    F: FnMut(&mut MsgWriter<'_>) -> Result<(), Errno>,
{
    let mut w = MsgWriter::counter();
    build(&mut w)?;
    w.finish()
}

/// Runs `build` writing into `buf`; returns the message length.
pub fn build_into<F>(buf: &mut [u8], build: &mut F) -> Result<usize, Errno>
where
    F: FnMut(&mut MsgWriter<'_>) -> Result<(), Errno>,
{
    let mut w = MsgWriter::new(buf);
    build(&mut w)?;
    w.finish()
}

/// Counts, allocates exactly, then writes: the message as a seam `Vec`.
pub fn build_vec<F>(mut build: F) -> Result<Vec<u8>, Errno>
where
    F: FnMut(&mut MsgWriter<'_>) -> Result<(), Errno>,
{
    let n = build_len(&mut build)?;
    let mut v = Vec::with_capacity(n)?;
    v.extend_with(n, 0)?;
    let written = build_into(&mut v, &mut build)?;
    if written != n {
        // The closure built a different message the second time.
        return Err(Errno::EINVAL);
    }
    Ok(v)
}
