//! Delivery of engine output to PF_KEY sockets.

use super::{wants, PfKey, Sock};
use crate::logic::engine::{Audience, Build, Outbox};
use crate::logic::pfkey::{build_into, build_len, Errno, MsgWriter};
use crate::sys::keymsg::{Gfp, KeyMsg};
use crate::sys::sock::SockList;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::prelude::*;

/// Sizes the message with a counting pass, then fills a fresh skb.
fn build_skb(build: &mut Build<'_>) -> Result<KeyMsg, Errno> {
    let mut sized = |w: &mut MsgWriter<'_>| build(w);
    let len = build_len(&mut sized)?;
    let mut skb = KeyMsg::alloc(len, Gfp::Kernel).ok_or(Errno::ENOBUFS)?;
    build_into(skb.data_mut(), &mut sized)?;
    Ok(skb)
}

/// Messages built while the engine lock is held, delivered after.
pub(crate) struct Outgoing {
    msgs: KVec<(Audience, KeyMsg)>,
    /// Some socket of the namespace is promiscuous (sampled at creation).
    promisc: bool,
}

impl Outgoing {
    pub(crate) fn new(socks: &SockList<PfKey>) -> Self {
        let mut promisc = false;
        socks.for_each(|s| promisc |= s.state().is_promisc());
        Outgoing {
            msgs: KVec::new(),
            promisc,
        }
    }

    /// Delivers everything. A full receive queue drops the message for
    /// that socket only; the result says whether every message meant for
    /// the sender reached it (af_key's `one_sk` result).
    pub(crate) fn deliver(&mut self, socks: &SockList<PfKey>, sender: Option<&Sock<'_>>) -> Result {
        let mut res = Ok(());
        for (to, skb) in core::mem::take(&mut self.msgs) {
            // Sender-directed messages reach the sender after the loop
            // (af_key's `one_sk`), everything else in it.
            let to_sender = matches!(to, Audience::Sender | Audience::Registered(_));
            socks.for_each(|s| {
                let st = s.state();
                // af_key: promiscuous sockets get a copy of everything, even
                // what they also receive as a target.
                if st.is_promisc() {
                    let _ = s.deliver_clone(&skb, Gfp::Atomic);
                }
                if to_sender && sender.is_some_and(|me| me.same(s)) {
                    return;
                }
                if wants(st, to) {
                    let _ = s.deliver_clone(&skb, Gfp::Atomic);
                }
            });
            if let (true, Some(me)) = (to_sender, sender) {
                if let Err(e) = me.deliver(skb) {
                    res = Err(e);
                }
            }
        }
        res
    }

    /// Delivers everything to whom it is for (no sender: the tick's).
    pub(crate) fn deliver_all(&mut self, socks: &SockList<PfKey>) {
        let _ = self.deliver(socks, None);
    }
}

impl Outbox for Outgoing {
    fn wanted(&self, to: Audience) -> bool {
        to != Audience::PromiscOnly || self.promisc
    }

    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        let skb = build_skb(build)?;
        self.msgs.push((to, skb), GFP_KERNEL).map_err(|_| Errno::ENOBUFS)
    }
}

/// Straight to one socket (dump replies), failing when its queue is full;
/// promiscuous sockets get a copy first, as af_key's BROADCAST_ONE does.
pub(super) struct SenderBox<'a, 'b> {
    sock: &'a Sock<'b>,
    socks: &'a SockList<PfKey>,
}

impl<'a, 'b> SenderBox<'a, 'b> {
    pub(super) fn new(sock: &'a Sock<'b>, socks: &'a SockList<PfKey>) -> Self {
        SenderBox { sock, socks }
    }
}

impl Outbox for SenderBox<'_, '_> {
    fn send(&mut self, _to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        let skb = build_skb(build)?;
        // The reader's queue decides first: a message it can not take now
        // is built again later, and promiscuous sockets must see it once.
        let (used, size) = self.sock.rmem();
        if used > size {
            return Err(Errno::ENOBUFS);
        }
        self.socks.for_each(|s| {
            if s.state().is_promisc() {
                let _ = s.deliver_clone(&skb, Gfp::Atomic);
            }
        });
        self.sock.deliver(skb).map_err(|_| Errno::ENOBUFS)
    }
}
