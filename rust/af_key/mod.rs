//! PF_KEY v2 (RFC 2367 + KAME extensions) on top of `sys::sock`.

use crate::sys::sock::KeySock;
use core::sync::atomic::{AtomicBool, AtomicU32};
use kernel::prelude::*;

/// State of one PF_KEY socket.
pub(crate) struct SockState {
    /// Bit `n` set: registered (SADB_REGISTER) for SA type `n`.
    pub(crate) registered: AtomicU32,
    /// SADB_X_PROMISC: sees every message.
    pub(crate) promisc: AtomicBool,
}

impl SockState {
    pub(crate) fn new() -> Self {
        SockState {
            registered: AtomicU32::new(0),
            promisc: AtomicBool::new(false),
        }
    }
}

/// A message arrived from user space.
pub(crate) fn on_sendmsg(_sock: &KeySock<'_>, _msg: &[u8]) -> Result {
    Err(crate::sys::util::errno(crate::sys::bindings::EOPNOTSUPP))
}

/// The reader consumed a message: a pending dump may continue.
pub(crate) fn on_recv(_sock: &KeySock<'_>) {}

/// The socket is closing (already unlisted).
pub(crate) fn on_release(_sock: &KeySock<'_>) {}
