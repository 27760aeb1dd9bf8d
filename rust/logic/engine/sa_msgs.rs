//! The SA messages: GETSPI, UPDATE/ADD, DELETE, GET, ACQUIRE (from a key
//! manager), FLUSH and the start of DUMP (af_key's `pfkey_getspi`,
//! `pfkey_add`, `pfkey_delete`, `pfkey_get`, `pfkey_acquire`,
//! `pfkey_flush`, `pfkey_dump`).

use super::convert::{addresses, mode_reqid, proto_of, sa_from_msg, sad_errno, write_sa, SaParts};
use super::dump::Dump;
use super::{reply_header, AlgProbe, Audience, Engine, Outbox, SockCtl};
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::{Errno, MsgHeader, MsgWriter, Parsed};
use crate::logic::sad::{SpiRequest, SPI_MAX_DEFAULT, SPI_MIN_DEFAULT};
use crate::logic::types::{IpsecProto, SaState};

impl Engine {
    /// Undoes the insertion of SA `id` if it took the SAD past its limit.
    fn over_state_limit(&mut self, before: usize, id: u64) -> Result<(), Errno> {
        let now = self.sad.len();
        if now > before && now > self.limits.max_states {
            self.sad.delete_id(id);
            return Err(Errno::ENOBUFS);
        }
        Ok(())
    }

    /// SADB_GETSPI: an SPI on the larval SA of the request's ACQUIRE (by
    /// seq) or tuple, created if needed; the SA goes back to the sender.
    pub(super) fn getspi(
        &mut self,
        p: &Parsed<'_>,
        now: u64,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        let proto = proto_of(p.satype())?;
        let (mode, reqid) = mode_reqid(p)?;
        let (src, dst) = addresses(p)?;
        let (min, max) = p
            .spirange()
            .map_or((SPI_MIN_DEFAULT, SPI_MAX_DEFAULT), |r| (r.min, r.max));
        let req = SpiRequest {
            proto,
            mode,
            reqid,
            src: src.addr,
            dst: dst.addr,
            seq: p.seq(),
            min,
            max,
        };
        let before = self.sad.len();
        let (id, _) = self.sad.getspi(&req, now).map_err(sad_errno)?;
        self.over_state_limit(before, id)?;
        let hdr = reply_header(p, SADB_GETSPI, proto.satype());
        if let Some(sa) = self.sad.get(id) {
            // The SPI is reserved: a lost reply only leaves a larval SA to
            // time out, as in af_key.
            let _ = out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
                write_sa(w, &hdr, sa, SaParts::FULL)
            });
        }
        Ok(())
    }

    /// SADB_ADD / SADB_UPDATE; every socket hears of the result, without
    /// keys.
    pub(super) fn add(
        &mut self,
        p: &Parsed<'_>,
        now: u64,
        probe: &dyn AlgProbe,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        let sa = sa_from_msg(p, probe)?;
        // UPDATE of a mature SA keeps its transform (only lifetimes and
        // NAT-T ports change): nothing new to build.
        let keeps_transform = p.msg_type() == SADB_UPDATE
            && self
                .sad
                .lookup(&sa.ident().dst, sa.ident().spi, sa.ident().proto)
                .is_some_and(|old| old.state() != SaState::Larval);
        if !keeps_transform {
            probe.prepare(&sa)?;
        }
        let before = self.sad.len();
        let id = if p.msg_type() == SADB_UPDATE {
            self.sad.update(sa, now)
        } else {
            self.sad.add(sa, now)
        }
        .map_err(sad_errno)?;
        self.over_state_limit(before, id)?;
        let hdr = reply_header(p, p.msg_type(), p.satype());
        if let Some(sa) = self.sad.get(id) {
            let _ = out.send(Audience::All, &mut |w: &mut MsgWriter<'_>| {
                write_sa(w, &hdr, sa, SaParts::NO_KEYS)
            });
        }
        Ok(())
    }

    /// SADB_DELETE by (dst, spi, proto); `ESRCH` if there is none.
    pub(super) fn delete(&mut self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let (proto, spi, dst) = sa_key(p)?;
        let sa = self.sad.delete(&dst, spi, proto).map_err(sad_errno)?;
        let hdr = reply_header(p, SADB_DELETE, p.satype());
        let _ = out.send(Audience::All, &mut |w: &mut MsgWriter<'_>| {
            write_sa(w, &hdr, &sa, SaParts::NO_KEYS)
        });
        Ok(())
    }

    /// SADB_GET: the SA, keys included, to the sender only.
    pub(super) fn get(&self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let (proto, spi, dst) = sa_key(p)?;
        let sa = self.sad.lookup(&dst, spi, proto).ok_or(Errno::ESRCH)?;
        let hdr = reply_header(p, SADB_GET, p.satype());
        let parts = SaParts {
            stats: p.wants_rxfrm_stats(),
            ..SaParts::FULL
        };
        out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
            write_sa(w, &hdr, sa, parts)
        })
    }

    /// SADB_ACQUIRE from a key manager (`check_required` let only the
    /// header-only form through): with a seq and an errno, negotiation
    /// failed and the larval SA of that ACQUIRE goes. No reply, as af_key.
    pub(super) fn user_acquire(&mut self, p: &Parsed<'_>) -> Result<(), Errno> {
        if p.seq() == 0 || p.errno() == 0 {
            return Ok(());
        }
        // The SAD has no public by-seq lookup; this message is rare.
        let larval = self
            .sad
            .iter()
            .find(|s| s.state() == SaState::Larval && s.seq() == p.seq())
            .map(|s| s.id());
        if let Some(id) = larval {
            self.sad.delete_id(id);
        }
        Ok(())
    }

    /// SADB_FLUSH: the SAs of the type (all for UNSPEC) go. The sender gets
    /// its header back; if anything was removed every socket also hears.
    pub(super) fn flush(&mut self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let proto = satype_filter(p.satype())?;
        let removed = self.sad.flush(proto, |_| {});
        flush_replies(p, SADB_FLUSH, p.satype(), removed, out);
        Ok(())
    }

    /// SADB_DUMP: records the dump on the socket; the glue drains it with
    /// `dump_next`. An empty selection is `ENOENT`, as af_key's walk.
    pub(super) fn start_dump(&self, p: &Parsed<'_>, sock: &mut SockCtl) -> Result<(), Errno> {
        let proto = satype_filter(p.satype())?;
        let dump = Dump::sas(
            self,
            proto,
            p.filter(),
            p.wants_rxfrm_stats(),
            p.satype(),
            p.pid(),
        );
        if dump.is_empty() {
            return Err(Errno::ENOENT);
        }
        sock.dump = Some(dump);
        Ok(())
    }
}

/// The SA type of FLUSH/DUMP as a protocol filter (`None`: all).
fn satype_filter(satype: u8) -> Result<Option<IpsecProto>, Errno> {
    match satype {
        SADB_SATYPE_UNSPEC => Ok(None),
        s => proto_of(s).map(Some),
    }
}

/// What DELETE and GET look an SA up by (`pfkey_xfrm_state_lookup`: the
/// source address plays no part).
fn sa_key(p: &Parsed<'_>) -> Result<(IpsecProto, u32, crate::logic::addr::IpAddr), Errno> {
    let proto = proto_of(p.satype()).map_err(|_| Errno::ESRCH)?;
    let spi = p.sa().ok_or(Errno::EINVAL)?.spi;
    let (_, dst) = addresses(p)?;
    Ok((proto, spi, dst.addr))
}

/// af_key's `unicast_flush_resp` then, if the table was not empty,
/// `key_notify_*_flush` to every socket (the sender included).
pub(super) fn flush_replies(
    p: &Parsed<'_>,
    msg_type: u8,
    satype: u8,
    removed: usize,
    out: &mut dyn Outbox,
) {
    let echo = MsgHeader {
        errno: 0,
        ..p.header()
    };
    let _ = out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
        w.header(&echo)
    });
    if removed > 0 {
        let hdr = reply_header(p, msg_type, satype);
        let _ = out.send(Audience::All, &mut |w: &mut MsgWriter<'_>| w.header(&hdr));
    }
}
