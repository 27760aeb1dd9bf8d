//! The policy messages: X_SPDADD/X_SPDUPDATE/X_SPDSETIDX, X_SPDDELETE,
//! X_SPDGET/X_SPDDELETE2, the start of X_SPDDUMP, X_SPDFLUSH (af_key's
//! `pfkey_spdadd`, `pfkey_spddelete`, `pfkey_spdget`, `pfkey_spddump`,
//! `pfkey_spdflush`).

use super::convert::{
    dir_of, gen_reqid, policy_from_msg, selector_from, spd_errno, write_policy, PolParts,
};
use super::dump::Dump;
use super::sa_msgs::flush_replies;
use super::{Audience, Engine, Outbox, SockCtl};
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::{Errno, MsgHeader, MsgWriter, Parsed};
use crate::logic::spd::{dir_of_index, Policy};

/// Linux puts the policy's refcount in `sadb_msg_reserved`: the SPD's
/// reference plus the one the handler holds while it notifies.
const REFCNT_HELD: u16 = 2;
/// After a delete only the handler's reference is left.
const REFCNT_DELETED: u16 = 1;

/// The header of a policy reply echoing the request.
fn pol_header(p: &Parsed<'_>, msg_type: u8, reserved: u16) -> MsgHeader {
    MsgHeader {
        msg_type,
        errno: 0,
        satype: SADB_SATYPE_UNSPEC,
        reserved,
        seq: p.seq(),
        pid: p.pid(),
    }
}

fn notify(out: &mut dyn Outbox, to: Audience, hdr: &MsgHeader, pol: &Policy) -> Result<(), Errno> {
    out.send(to, &mut |w: &mut MsgWriter<'_>| {
        write_policy(w, hdr, pol, PolParts::ALL)
    })
}

impl Engine {
    /// X_SPDADD, X_SPDSETIDX (both notified as X_SPDADD) and X_SPDUPDATE
    /// (replaces the policy of the same direction and selector, or adds).
    pub(super) fn spdadd(
        &mut self,
        p: &Parsed<'_>,
        now: u64,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        // A refused message hands out no reqid either.
        let saved = self.reqid_next;
        let res = self.spdadd_inner(p, now, out);
        if res.is_err() {
            self.reqid_next = saved;
        }
        res
    }

    fn spdadd_inner(
        &mut self,
        p: &Parsed<'_>,
        now: u64,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        let update = p.msg_type() == SADB_X_SPDUPDATE;
        let spd = &self.spd;
        let next = &mut self.reqid_next;
        let pol = policy_from_msg(p, &mut || gen_reqid(spd, next))?;
        let exists = self.spd.get_by_selector(pol.dir, &pol.selector).is_some();
        if exists && !update {
            return Err(Errno::EEXIST);
        }
        if !exists && self.spd.len() >= self.limits.max_policies {
            return Err(Errno::ENOBUFS);
        }
        let index = if update {
            self.spd.update(pol, now).map(|(i, _)| i)
        } else {
            self.spd.add(pol, now)
        }
        .map_err(spd_errno)?;
        let t = if update {
            SADB_X_SPDUPDATE
        } else {
            SADB_X_SPDADD
        };
        if let Some(pol) = self.spd.get(index) {
            let _ = notify(out, Audience::All, &pol_header(p, t, REFCNT_HELD), pol);
        }
        Ok(())
    }

    /// X_SPDDELETE: the policy of that direction with exactly that
    /// selector (`ENOENT` if none).
    pub(super) fn spddelete(&mut self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let dir = dir_of(p.policy().ok_or(Errno::EINVAL)?.dir)?;
        let sel = selector_from(p)?;
        let pol = self.spd.delete(dir, &sel).map_err(spd_errno)?;
        let hdr = pol_header(p, SADB_X_SPDDELETE, REFCNT_DELETED);
        let _ = notify(out, Audience::All, &hdr, &pol);
        Ok(())
    }

    /// X_SPDGET (to the sender) and X_SPDDELETE2 (to every socket): the
    /// policy with the X_POLICY's id, which names its direction too.
    pub(super) fn spdget(&mut self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let id = p.policy().ok_or(Errno::EINVAL)?.id;
        let dir = dir_of_index(id).ok_or(Errno::EINVAL)?;
        match self.spd.get(id) {
            Some(pol) if pol.dir == dir => {}
            _ => return Err(Errno::ENOENT),
        }
        if p.msg_type() == SADB_X_SPDDELETE2 {
            let pol = self.spd.delete_by_index(id).map_err(spd_errno)?;
            let hdr = pol_header(p, SADB_X_SPDDELETE2, REFCNT_DELETED);
            let _ = notify(out, Audience::All, &hdr, &pol);
            return Ok(());
        }
        let pol = self.spd.get(id).ok_or(Errno::ENOENT)?;
        notify(
            out,
            Audience::Sender,
            &pol_header(p, SADB_X_SPDGET, REFCNT_HELD),
            pol,
        )
    }

    /// X_SPDDUMP: records the dump on the socket (`ENOENT` if the SPD is
    /// empty, as af_key's walk).
    pub(super) fn start_spddump(&self, p: &Parsed<'_>, sock: &mut SockCtl) -> Result<(), Errno> {
        let dump = Dump::policies(self, p.pid());
        if dump.is_empty() {
            return Err(Errno::ENOENT);
        }
        sock.dump = Some(dump);
        Ok(())
    }

    /// X_SPDFLUSH: every policy goes; replies as SADB_FLUSH's.
    pub(super) fn spdflush(&mut self, p: &Parsed<'_>, out: &mut dyn Outbox) -> Result<(), Errno> {
        let removed = self.spd.flush();
        flush_replies(p, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, removed, out);
        Ok(())
    }
}
