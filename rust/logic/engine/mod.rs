//! PF_KEY message processing: what `net/key/af_key.c` does between parsing a
//! message and delivering the replies, against one namespace's SAD and SPD.
//! Pure logic: the kernel glue (rust/af_key) owns the sockets, the locks and
//! the clock, and delivers what the engine emits through an [`Outbox`].
//!
//! - [`Engine::handle`]: one message from a socket (this file dispatches;
//!   `sa_msgs`, `spd_msgs`, `register` hold the handlers).
//! - [`Engine::dump_next`]: DUMP / X_SPDDUMP, one message at a time (`dump`).
//! - [`Engine::tick`], [`Engine::acquire`]: kernel-originated EXPIRE,
//!   X_SPDEXPIRE and ACQUIRE (`expire`).
//! - `convert`: PF_KEY extensions to and from SAD/SPD values.

mod convert;
mod dump;
mod expire;
mod register;
mod sa_msgs;
mod spd_msgs;

#[cfg(test)]
mod tests;

use crate::logic::algs::AlgDesc;
use crate::logic::pfkey::consts::*;
use crate::logic::pfkey::ext::SadbMsg;
use crate::logic::pfkey::{check_required, parse, Errno, MsgHeader, MsgWriter, Parsed};
use crate::logic::sad::{Sa, Sad};
use crate::logic::spd::Spd;

pub use dump::Dump;

/// Who receives a message (RFC 2367 §3.1; af_key's `BROADCAST_*`).
/// Promiscuous sockets additionally receive a copy of everything; the glue
/// does that, as af_key's `pfkey_broadcast` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Only the socket that sent the request (GET, DUMP, errors).
    Sender,
    /// Every PF_KEY socket of the namespace (ADD, UPDATE, DELETE, FLUSH,
    /// SPD changes).
    All,
    /// Sockets registered (SADB_REGISTER) for this SA type, and the sender
    /// if given (REGISTER replies, ACQUIRE, EXPIRE).
    Registered(u8),
    /// Only promiscuous sockets (the copy of each request af_key makes).
    PromiscOnly,
}

/// A builder the outbox may run twice: once counting, once writing.
pub type Build<'b> = dyn FnMut(&mut MsgWriter<'_>) -> Result<(), Errno> + 'b;

/// Where the engine's messages go. The kernel's implementation sizes an skb
/// with a counting writer, fills it, and queues it for delivery once the
/// tables' lock is dropped.
pub trait Outbox {
    /// Emits one message to `to`.
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno>;

    /// Whether anybody would receive a message for `to`; lets the engine
    /// skip building copies nobody reads (most often: no promiscuous
    /// socket).
    fn wanted(&self, _to: Audience) -> bool {
        true
    }
}

/// Which algorithms this kernel can really run (crypto API probe), so that
/// REGISTER only advertises those and ADD refuses the others.
pub trait AlgProbe {
    /// Whether `alg` can be instantiated.
    fn available(&self, alg: &AlgDesc) -> bool;

    /// Builds the transform of `sa` (keys set, not yet in the SAD) before
    /// SADB_ADD, or SADB_UPDATE of a larval SA, commits it: as Linux's
    /// `xfrm_init_state`, a transform the crypto API refuses or has no
    /// memory for fails the message and leaves the SAD as it was.
    fn prepare(&self, _sa: &Sa) -> Result<(), Errno> {
        Ok(())
    }
}

/// Per-socket PF_KEY state the engine reads and changes.
#[derive(Debug, Default)]
pub struct SockCtl {
    /// Bit `n` set: registered for SA type `n` (SADB_REGISTER).
    pub registered: u32,
    /// SADB_X_PROMISC state.
    pub promisc: bool,
    /// A dump in progress on this socket, continued as the reader drains.
    pub dump: Option<Dump>,
}

/// Limits from the module parameters.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most SAs (ADD/GETSPI beyond: ENOBUFS).
    pub max_states: usize,
    /// Most policies (SPDADD beyond: ENOBUFS).
    pub max_policies: usize,
}

/// One namespace's key engine: SAD, SPD and the sequence state around them.
pub struct Engine {
    /// Security associations.
    pub sad: Sad,
    /// Security policies.
    pub spd: Spd,
    /// Limits in force.
    pub limits: Limits,
    /// Last reqid handed to a `unique` template without one (af_key's
    /// `gen_reqid` counter).
    reqid_next: u32,
}

/// Why [`Engine::handle`] refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The base header is unusable: sendmsg fails with this, no reply.
    Header(Errno),
    /// The message was read and refused: the sender gets
    /// [`Engine::error_reply`] with this errno.
    Message(Errno),
}

impl Engine {
    /// An empty engine.
    pub fn new(limits: Limits) -> Self {
        Engine {
            sad: Sad::new(),
            spd: Spd::new(),
            limits,
            reqid_next: IPSEC_MANUAL_REQID_MAX,
        }
    }

    /// One message from a socket, as af_key's `pfkey_sendmsg`: the base
    /// header is checked (`Rejected::Header`), a copy goes to promiscuous
    /// sockets, then the message is parsed, checked and handled
    /// (`Rejected::Message`; nothing changed).
    pub fn handle(
        &mut self,
        msg: &[u8],
        sock: &mut SockCtl,
        now: u64,
        probe: &dyn AlgProbe,
        out: &mut dyn Outbox,
    ) -> Result<(), Rejected> {
        check_base_header(msg).map_err(Rejected::Header)?;
        if out.wanted(Audience::PromiscOnly) {
            // The request as sent (af_key's skb_clone); af_key ignores a
            // failure of this copy and goes on.
            let _ = out.send(Audience::PromiscOnly, &mut |w: &mut MsgWriter<'_>| {
                w.verbatim(msg)
            });
        }
        self.process(msg, sock, now, probe, out)
            .map_err(Rejected::Message)
    }

    fn process(
        &mut self,
        msg: &[u8],
        sock: &mut SockCtl,
        now: u64,
        probe: &dyn AlgProbe,
        out: &mut dyn Outbox,
    ) -> Result<(), Errno> {
        let p = parse(msg)?;
        let t = p.msg_type();
        // pfkey_dump/pfkey_spddump test this before anything else.
        if matches!(t, SADB_DUMP | SADB_X_SPDDUMP) && sock.dump.is_some() {
            return Err(Errno::EBUSY);
        }
        check_required(t, &p)?;
        match t {
            SADB_GETSPI => self.getspi(&p, now, out),
            SADB_UPDATE | SADB_ADD => self.add(&p, now, probe, out),
            SADB_DELETE => self.delete(&p, out),
            SADB_GET => self.get(&p, out),
            SADB_ACQUIRE => self.user_acquire(&p),
            SADB_REGISTER => register::register(&p, sock, probe, out),
            SADB_FLUSH => self.flush(&p, out),
            SADB_DUMP => self.start_dump(&p, sock),
            SADB_X_PROMISC => register::promisc(&p, sock, out),
            SADB_X_SPDADD | SADB_X_SPDUPDATE | SADB_X_SPDSETIDX => self.spdadd(&p, now, out),
            SADB_X_SPDDELETE => self.spddelete(&p, out),
            SADB_X_SPDGET | SADB_X_SPDDELETE2 => self.spdget(&p, out),
            SADB_X_SPDDUMP => self.start_spddump(&p, sock),
            SADB_X_SPDFLUSH => self.spdflush(&p, out),
            // af_key built without CONFIG_NET_KEY_MIGRATE: rxfrm has no
            // MIGRATE yet.
            SADB_X_MIGRATE => Err(Errno::ENOPROTOOPT),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// af_key's `pfkey_error`: the request's header with `sadb_msg_errno`
    /// set, header only, to the sender.
    pub fn error_reply(msg: &[u8], e: Errno, out: &mut dyn Outbox) -> Result<(), Errno> {
        let h = SadbMsg::new_checked(msg).map_err(|_| Errno::EMSGSIZE)?;
        let hdr = MsgHeader {
            errno: e.to_wire(),
            ..MsgHeader::parse(&h)
        };
        out.send(Audience::Sender, &mut |w: &mut MsgWriter<'_>| {
            w.header(&hdr)
        })
    }
}

/// `pfkey_get_base_msg`: what makes sendmsg itself fail.
fn check_base_header(msg: &[u8]) -> Result<(), Errno> {
    let h = SadbMsg::new_checked(msg).map_err(|_| Errno::EMSGSIZE)?;
    if h.version() != PF_KEY_V2
        || h.reserved() != 0
        || h.msg_type() == SADB_RESERVED
        || h.msg_type() > SADB_MAX
    {
        return Err(Errno::EINVAL);
    }
    let words = usize::from(h.len());
    if words != msg.len() / 8 || words < 2 {
        return Err(Errno::EMSGSIZE);
    }
    Ok(())
}

/// A reply header echoing the request's sequence number and pid.
fn reply_header(p: &Parsed<'_>, msg_type: u8, satype: u8) -> MsgHeader {
    MsgHeader {
        msg_type,
        errno: 0,
        satype,
        reserved: 0,
        seq: p.seq(),
        pid: p.pid(),
    }
}
