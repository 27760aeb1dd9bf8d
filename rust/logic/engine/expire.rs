//! What the kernel says unasked: SADB_EXPIRE and SADB_X_SPDEXPIRE from the
//! lifetime timers (`xfrm_timer_handler`, `key_notify_sa_expire`) and
//! SADB_ACQUIRE for a policy with no SA (`pfkey_send_acquire`).

use super::convert::{sad_errno, write_policy, write_sa, PolParts, SaParts};
use super::register::proposal;
use super::{AlgProbe, Audience, Engine, Outbox};
use crate::logic::addr::IpAddr;
use crate::logic::lifetime::Expiry;
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::{AddressRepr, Errno, MsgHeader, MsgWriter, PolicyRepr, ProposalRepr};
use crate::logic::sad::SaIdent;
use crate::logic::selector::FlowKey;
use crate::seam::Vec;

impl Engine {
    /// Timers, about once a second: SA soft/hard lifetimes (bytes,
    /// addtime, usetime) give SADB_EXPIRE to the sockets registered for
    /// the SA type (soft once; on hard the SA is then removed), larval SAs
    /// time out the same way, and policy lifetimes give SADB_X_SPDEXPIRE
    /// to every socket (hard ones remove the policy). Returns how many
    /// events fired.
    pub fn tick(&mut self, now: u64, out: &mut dyn Outbox) -> usize {
        let mut fired = 0;
        let mut sas: Vec<(u64, Expiry)> = Vec::new();
        // On allocation failure the SAs not yet polled fire next tick.
        let _ = self.sad.expire_check(now, &mut sas);
        for &(id, e) in sas.iter() {
            fired += usize::from(self.expire_sa(id, e, out));
        }
        let mut pols: Vec<(u32, Expiry)> = Vec::new();
        let _ = self.spd.expire_check(now, &mut pols);
        for &(index, e) in pols.iter() {
            let hard = e == Expiry::Hard;
            if let Some(pol) = self.spd.get(index) {
                let hdr = MsgHeader {
                    msg_type: SADB_X_SPDEXPIRE,
                    reserved: 1,
                    ..MsgHeader::default()
                };
                let parts = PolParts { hard, soft: !hard };
                let _ = out.send(Audience::All, &mut |w: &mut MsgWriter<'_>| {
                    write_policy(w, &hdr, pol, parts)
                });
                fired += 1;
            }
            if hard {
                let _ = self.spd.delete_by_index(index);
            }
        }
        fired
    }

    /// SADB_EXPIRE for SA `id` whose limit was crossed (by `tick`, or by
    /// the datapath when `Sa::charge` says so), to the sockets registered
    /// for its type: soft carries the soft lifetime, hard the hard one,
    /// neither any key. A hard expiry then removes the SA. Returns whether
    /// the SA existed.
    pub fn expire_sa(&mut self, id: u64, expiry: Expiry, out: &mut dyn Outbox) -> bool {
        let hard = expiry == Expiry::Hard;
        let Some(sa) = self.sad.get(id) else {
            return false;
        };
        let hdr = MsgHeader {
            msg_type: SADB_EXPIRE,
            satype: sa.proto().satype(),
            ..MsgHeader::default()
        };
        let parts = SaParts {
            keys: false,
            hard,
            soft: !hard,
            dead: hard,
            stats: false,
        };
        // A full queue loses the event for that socket only.
        let _ = out.send(
            Audience::Registered(hdr.satype),
            &mut |w: &mut MsgWriter<'_>| write_sa(w, &hdr, sa, parts),
        );
        if hard {
            self.sad.delete_id(id);
        }
        true
    }

    /// Kernel-originated ACQUIRE for template `template` of policy
    /// `policy_index`, which has no SA for `flow`: creates the larval SA
    /// (`Sad::acquire`) and sends SADB_ACQUIRE (addresses, X_POLICY with
    /// the policy's id, a proposal of what can run) to the sockets
    /// registered for the SA type. Nothing is sent while an earlier
    /// ACQUIRE for the same SA is pending. Rate limiting is the caller's.
    pub fn acquire(
        &mut self,
        policy_index: u32,
        template: usize,
        flow: &FlowKey,
        now: u64,
        probe: &dyn AlgProbe,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        let pol = self.spd.get(policy_index).ok_or(Errno::ENOENT)?;
        let t = *pol.templates.get(template).ok_or(Errno::EINVAL)?;
        let (pol_id, priority) = (pol.index(), pol.priority);
        // xfrm_tmpl_resolve_one: a template's wildcard endpoints (all of
        // them in transport mode) are the flow's.
        let pick = |tmpl: IpAddr, flow: IpAddr| {
            if tmpl.is_unspecified() {
                flow
            } else {
                tmpl
            }
        };
        let ident = SaIdent {
            spi: 0,
            proto: t.proto,
            mode: t.mode,
            reqid: t.reqid,
            src: pick(t.src, flow.src),
            dst: pick(t.dst, flow.dst),
        };
        let before = self.sad.len();
        let acq = self.sad.acquire(&ident, now).map_err(sad_errno)?;
        if !acq.created {
            return Ok(());
        }
        if self.sad.len() > before && self.sad.len() > self.limits.max_states {
            self.sad.delete_id(acq.id);
            return Err(Errno::ENOBUFS);
        }
        let combs = match proposal(t.proto, probe) {
            Ok(c) => c,
            Err(e) => {
                self.sad.delete_id(acq.id);
                return Err(e);
            }
        };
        let satype = t.proto.satype();
        let hdr = MsgHeader {
            msg_type: SADB_ACQUIRE,
            satype,
            seq: acq.seq,
            ..MsgHeader::default()
        };
        let addr = |a: IpAddr| AddressRepr {
            proto: 0,
            prefixlen: a.max_prefix(),
            addr: a,
            port: 0,
        };
        let res = out.send(Audience::Registered(satype), &mut |w: &mut MsgWriter<
            '_,
        >| {
            w.header(&hdr)?;
            w.address(SADB_EXT_ADDRESS_SRC, &addr(ident.src))?;
            w.address(SADB_EXT_ADDRESS_DST, &addr(ident.dst))?;
            // af_key always names the outbound direction here.
            w.policy(&PolicyRepr {
                policy_type: IPSEC_POLICY_IPSEC,
                dir: IPSEC_DIR_OUTBOUND,
                id: pol_id,
                priority,
                requests: &[],
            })?;
            if !combs.is_empty() {
                w.proposal(&ProposalRepr {
                    replay: IPSEC_REPLAYWSIZE,
                    combs: &combs,
                })?;
            }
            Ok(())
        });
        if let Err(e) = res {
            // As xfrm_state_find when km_query fails: no larval SA stays.
            self.sad.delete_id(acq.id);
            return Err(e);
        }
        Ok(())
    }
}
