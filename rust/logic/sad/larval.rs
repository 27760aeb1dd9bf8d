//! Larval SAs: ACQUIRE, GETSPI and SPI allocation (af_key's
//! `pfkey_getspi`, xfrm_state.c's `xfrm_alloc_spi` and `__find_acq_core`).

use super::{spi_key, tuple_key, Acquired, Sa, SaIdent, Sad, SadError, SpiRequest};
use crate::logic::addr::IpAddr;
use crate::logic::lifetime::LifetimeCurrent;
use crate::logic::types::{IpsecProto, SaState};
use crate::seam::random_u32;

impl Sad {
    /// The SA `id` if it is larval.
    pub(super) fn larval(&self, id: &u64) -> Option<&Sa> {
        self.sas.get(id).filter(|s| s.state == SaState::Larval)
    }

    /// The larval SA of `proto` of an ACQUIRE/GETSPI with message sequence
    /// `seq` for `dst` (`xfrm_find_acq_byseq` plus af_key's address check,
    /// and the protocol: see `getspi`).
    pub(super) fn larval_by_seq(&self, seq: u32, dst: &IpAddr, proto: IpsecProto) -> Option<u64> {
        if seq == 0 {
            return None;
        }
        self.by_seq.get_all(&seq).copied().find(|id| {
            self.larval(id)
                .is_some_and(|s| s.ident.dst == *dst && s.ident.proto == proto)
        })
    }

    /// A larval SA for this tuple still without SPI (`__find_acq_core`).
    pub(super) fn larval_by_tuple(&self, i: &SaIdent) -> Option<u64> {
        let key = tuple_key(i);
        self.larvals
            .get_all(&key)
            .copied()
            .find(|id| self.larval(id).is_some_and(|s| s.ident.spi == 0))
    }

    /// A free SPI in `[min, max]` for (dst, proto), chosen at random so that
    /// SPIs are not predictable; `None` if the range is full.
    pub fn alloc_spi(&self, proto: IpsecProto, dst: &IpAddr, min: u32, max: u32) -> Option<u32> {
        if min > max {
            return None;
        }
        let free = |spi: u32| spi != 0 && self.id_of(dst, spi, proto).is_none();
        let range = u64::from(max - min) + 1;
        let pick = |r: u64| min + r.checked_rem(range).unwrap_or(0) as u32;
        for _ in 0..16 {
            let spi = pick(u64::from(random_u32()));
            if free(spi) {
                return Some(spi);
            }
        }
        // Crowded range: walk from a random start. Each taken SPI belongs to
        // an SA, so len + 2 steps (one for SPI 0) meet a free one if any.
        let start = u64::from(random_u32());
        let steps = range.min(self.by_spi.len() as u64 + 2);
        (0..steps).map(|k| pick(start + k)).find(|&spi| free(spi))
    }

    /// `SADB_GETSPI`: reserves an SPI on the larval SA of the request's
    /// ACQUIRE (by seq) or tuple, creating one if needed, as af_key's
    /// `pfkey_getspi`. A larval SA that has an SPI already keeps it.
    /// Returns the larval SA's id and SPI.
    ///
    /// Unlike af_key (`xfrm_find_acq_byseq` ignores the protocol), the SA
    /// found by seq must be of the request's protocol too, as KAME finds
    /// SAs by their index: an IKE daemon asking for an IPComp CPI and an
    /// ESP SPI under one seq (racoon does, for `compression_algorithm`)
    /// gets two SAs, not the ESP SA's 32-bit SPI as a CPI.
    pub fn getspi(&mut self, req: &SpiRequest, now: u64) -> Result<(u64, u32), SadError> {
        let ident = SaIdent {
            spi: 0,
            proto: req.proto,
            mode: req.mode,
            reqid: req.reqid,
            src: req.src,
            dst: req.dst,
        };
        Self::check_ident(&ident)?;
        // verify_spi_info: IPComp CPIs are 16 bits.
        if req.min > req.max || (req.proto == IpsecProto::IpComp && req.max > 0xffff) {
            return Err(SadError::Invalid);
        }
        let found = self
            .larval_by_seq(req.seq, &req.dst, req.proto)
            .or_else(|| self.larval_by_tuple(&ident));
        if let Some(id) = found {
            let (spi, proto, dst) = match self.sas.get(&id) {
                Some(s) => (s.ident.spi, s.ident.proto, s.ident.dst),
                None => return Err(SadError::NotFound),
            };
            if spi != 0 {
                return Ok((id, spi));
            }
            let spi = self
                .alloc_spi(proto, &dst, req.min, req.max)
                .ok_or(SadError::NoSpi)?;
            self.by_spi.reserve(1)?;
            let s = self.sas.get_mut(&id).ok_or(SadError::NotFound)?;
            s.ident.spi = spi;
            let key = spi_key(&s.ident);
            self.by_spi.insert(key, id)?;
            return Ok((id, spi));
        }
        let spi = self
            .alloc_spi(req.proto, &req.dst, req.min, req.max)
            .ok_or(SadError::NoSpi)?;
        let id = self.link(self.new_larval(SaIdent { spi, ..ident }, req.seq, now))?;
        Ok((id, spi))
    }

    fn new_larval(&self, ident: SaIdent, seq: u32, now: u64) -> Sa {
        let mut sa = Sa::new(ident).with_seq(seq);
        sa.current = LifetimeCurrent::new(now);
        sa.lifetime_hard.addtime = self.larval_lifetime;
        sa
    }

    /// Records that outbound traffic needs an SA for this tuple (`spi` is
    /// ignored): creates a larval SA with a fresh ACQUIRE sequence number,
    /// unless one is pending already.
    pub fn acquire(&mut self, ident: &SaIdent, now: u64) -> Result<Acquired, SadError> {
        Self::check_ident(ident)?;
        let key = tuple_key(ident);
        let pending = self.larvals.get_all(&key).find_map(|id| self.larval(id));
        if let Some(l) = pending {
            return Ok(Acquired {
                id: l.id,
                seq: l.seq,
                created: false,
            });
        }
        self.acq_seq = self.acq_seq.wrapping_add(1).max(1);
        let seq = self.acq_seq;
        let sa = self.new_larval(SaIdent { spi: 0, ..*ident }, seq, now);
        let id = self.link(sa)?;
        Ok(Acquired {
            id,
            seq,
            created: true,
        })
    }
}
