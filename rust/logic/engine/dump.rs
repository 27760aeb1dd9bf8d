//! DUMP and X_SPDDUMP, one message per `dump_next` call.
//!
//! As af_key's `pfkey_do_dump`, each message is held back until the next
//! entry is found, so that the last one can carry `sadb_msg_seq` 0 however
//! the tables change between calls. Sequence numbers count down: the
//! number of entries of the dump's start still to come (fewer may come if
//! some are deleted meanwhile; the last message is 0 all the same).

use super::convert::{copy_message, write_policy, write_sa, PolParts, SaParts};
use super::{Audience, Engine, Outbox};
use crate::logic::addr::{AF_INET, AF_INET6};
use crate::logic::dump_order::DumpCursor;
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::{build_vec, Errno, FilterRepr, MsgHeader, MsgWriter};
use crate::logic::sad::Sa;
use crate::logic::types::IpsecProto;
use crate::seam::Vec;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// SAs of `proto` (all for `None`) passing `filter`.
    Sa {
        proto: Option<IpsecProto>,
        filter: Option<FilterRepr>,
        /// rxfrm's per-SA counters were asked for.
        stats: bool,
    },
    /// Every policy.
    Spd,
}

/// A chunked, resumable DUMP or X_SPDDUMP (see [`Engine::dump_next`]).
#[derive(Debug)]
pub struct Dump {
    kind: Kind,
    cursor: DumpCursor,
    /// The request's SA type and pid, echoed in every message.
    satype: u8,
    pid: u32,
    /// Entries at the start, and messages sent since.
    total: usize,
    sent: usize,
    /// The next message to send, and the one after it.
    held: Option<Vec<u8>>,
    lookahead: Option<Vec<u8>>,
    /// The walk found no more entries.
    exhausted: bool,
    done: bool,
}

/// `xfrm_state_filter_match`: a filter of a known family needs the SA's;
/// both prefixes are compared on 16-byte addresses (IPv4 in the first 4).
fn filter_match(f: &FilterRepr, sa: &Sa) -> bool {
    let id = sa.ident();
    if (f.family == AF_INET || f.family == AF_INET6) && f.family != id.src.family() {
        return false;
    }
    prefix_match(id.src.as_bytes(), &f.saddr, f.splen)
        && prefix_match(id.dst.as_bytes(), &f.daddr, f.dplen)
}

fn prefix_match(a: &[u8], b: &[u8; 16], plen: u8) -> bool {
    let mut full = [0u8; 16];
    for (d, s) in full.iter_mut().zip(a) {
        *d = *s;
    }
    let bits = usize::from(plen).min(128);
    let (bytes, rem) = (bits / 8, bits % 8);
    if full.get(..bytes) != b.get(..bytes) {
        return false;
    }
    if rem == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    match (full.get(bytes), b.get(bytes)) {
        (Some(x), Some(y)) => (x ^ y) & mask == 0,
        _ => true,
    }
}

impl Dump {
    /// A dump of the SAs present now (DUMP).
    pub(super) fn sas(
        engine: &Engine,
        proto: Option<IpsecProto>,
        filter: Option<FilterRepr>,
        stats: bool,
        satype: u8,
        pid: u32,
    ) -> Dump {
        let cursor = engine.sad.dump_cursor();
        let total = match &filter {
            None => engine.sad.dump_remaining(&cursor, proto),
            Some(f) => {
                let mut c = cursor;
                let mut n = 0usize;
                while let Some(sa) = engine.sad.dump_next(&mut c, proto) {
                    n += usize::from(filter_match(f, sa));
                }
                n
            }
        };
        Dump::new(
            Kind::Sa {
                proto,
                filter,
                stats,
            },
            cursor,
            total,
            satype,
            pid,
        )
    }

    /// A dump of the policies present now (X_SPDDUMP).
    pub(super) fn policies(engine: &Engine, pid: u32) -> Dump {
        let cursor = engine.spd.dump_cursor();
        let total = engine.spd.dump_remaining(&cursor);
        Dump::new(Kind::Spd, cursor, total, SADB_SATYPE_UNSPEC, pid)
    }

    fn new(kind: Kind, cursor: DumpCursor, total: usize, satype: u8, pid: u32) -> Dump {
        Dump {
            kind,
            cursor,
            satype,
            pid,
            total,
            sent: 0,
            held: None,
            lookahead: None,
            exhausted: false,
            done: false,
        }
    }

    /// Whether nothing was selected at the start.
    pub(super) fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn msg_type(&self) -> u8 {
        match self.kind {
            Kind::Sa { .. } => SADB_DUMP,
            Kind::Spd => SADB_X_SPDDUMP,
        }
    }
}

impl Engine {
    /// The message for the next entry of `dump` (its seq to be set when it
    /// is sent), moving the cursor past it; `None` at the end.
    fn dump_build_next(&self, dump: &mut Dump) -> Result<Option<Vec<u8>>, Errno> {
        match dump.kind {
            Kind::Sa {
                proto,
                filter,
                stats,
            } => {
                let sa = loop {
                    let Some(sa) = self.sad.dump_next(&mut dump.cursor, proto) else {
                        return Ok(None);
                    };
                    if filter.as_ref().is_none_or(|f| filter_match(f, sa)) {
                        break sa;
                    }
                };
                let hdr = MsgHeader {
                    msg_type: SADB_DUMP,
                    satype: sa.proto().satype(),
                    pid: dump.pid,
                    ..MsgHeader::default()
                };
                let parts = SaParts {
                    stats,
                    ..SaParts::FULL
                };
                build_vec(|w| write_sa(w, &hdr, sa, parts)).map(Some)
            }
            Kind::Spd => {
                let Some(pol) = self.spd.dump_next(&mut dump.cursor) else {
                    return Ok(None);
                };
                let hdr = MsgHeader {
                    msg_type: SADB_X_SPDDUMP,
                    // Linux reports the policy's refcount here: the SPD's.
                    reserved: 1,
                    pid: dump.pid,
                    ..MsgHeader::default()
                };
                build_vec(|w| write_policy(w, &hdr, pol, PolParts::ALL)).map(Some)
            }
        }
    }

    /// Next message of the socket's DUMP/X_SPDDUMP (to `Audience::Sender`);
    /// `Ok(false)` once complete (the last message may go out in that same
    /// call). `sadb_msg_seq` counts down to 0 on the last message; entries
    /// deleted before the dump reaches them are skipped, none is repeated.
    pub fn dump_next(&self, dump: &mut Dump, out: &mut dyn Outbox) -> Result<bool, Errno> {
        if dump.done {
            return Ok(false);
        }
        // The message to send and the one after it (whose existence says
        // whether this one is the last, seq 0) are built before anything
        // is sent, and kept until sent: a reader whose queue was full gets
        // the same message on the next call, as af_key's walk resumes at
        // the entry it could not deliver.
        if dump.held.is_none() && !dump.exhausted {
            dump.held = self.build_or_end(dump)?;
        }
        if dump.lookahead.is_none() && !dump.exhausted {
            dump.lookahead = self.build_or_end(dump)?;
        }
        let Some(msg) = dump.held.as_ref() else {
            dump.done = true;
            if dump.sent == 0 {
                // Everything went before the first message: end the
                // reader's wait as af_key's empty walk would.
                let hdr = MsgHeader {
                    msg_type: dump.msg_type(),
                    errno: Errno::ENOENT.to_wire(),
                    satype: dump.satype,
                    pid: dump.pid,
                    ..MsgHeader::default()
                };
                if let Err(e) = out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
                    w.header(&hdr)
                }) {
                    dump.done = false;
                    return Err(e);
                }
            }
            return Ok(false);
        };
        let last = dump.lookahead.is_none();
        let seq = if last {
            0
        } else {
            // More follow: never 0 here, whatever was deleted.
            let left = dump.total.saturating_sub(dump.sent + 1).max(1);
            u32::try_from(left).unwrap_or(u32::MAX)
        };
        send_held(msg, seq, out)?;
        dump.sent += 1;
        dump.held = dump.lookahead.take();
        if last {
            dump.done = true;
            return Ok(false);
        }
        Ok(true)
    }

    /// The next entry's message; `None` (and the walk marked exhausted) at
    /// the end. A message that can not be built ends the dump.
    fn build_or_end(&self, dump: &mut Dump) -> Result<Option<Vec<u8>>, Errno> {
        match self.dump_build_next(dump) {
            Ok(Some(m)) => Ok(Some(m)),
            Ok(None) => {
                dump.exhausted = true;
                Ok(None)
            }
            Err(e) => {
                dump.done = true;
                Err(e)
            }
        }
    }
}

fn send_held(msg: &[u8], seq: u32, out: &mut dyn Outbox) -> Result<(), Errno> {
    out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
        copy_message(w, msg, |h| h.seq = seq)
    })
}
