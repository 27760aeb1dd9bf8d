//! The PF_KEY socket family: registration, the `proto_ops` callbacks, and
//! socket lists for delivery. What the family does with a message is its
//! `KeyFamily`'s (the PF_KEY semantics are above this layer); this file only
//! moves bytes and pointers.

use super::bindings;
use super::keymsg::{Gfp, KeyMsg};
use super::net::Net;
use super::sync_cell::{c_name, zeroed};
use super::util::{errno, neg, this_module};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_ATOMIC, flags::GFP_KERNEL, KBox, KVVec, KVec};
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::SpinLock;
use kernel::types::Opaque;

/// Protocol family 15 (`PF_KEY`), version `PF_KEY_V2`.
pub(crate) const PF_KEY: c_int = 15;
const PF_KEY_V2: c_int = 2;

/// A socket family's behaviour, implemented above this layer.
pub(crate) trait KeyFamily: Sized + 'static {
    /// Per-socket state, created with the socket and dropped with it.
    type Sock: Send + Sync;
    fn new_sock() -> impl PinInit<Self::Sock, Error>;
    /// The socket exists (listed by the caller for delivery, if it wants).
    fn created(sock: &KeySock<'_, Self>) -> Result;
    /// A message arrived from user space; `Err` is returned from send().
    fn sendmsg(sock: &KeySock<'_, Self>, msg: &[u8]) -> Result;
    /// The reader consumed a message.
    fn received(sock: &KeySock<'_, Self>);
    /// The socket is closing: unlist it.
    fn release(sock: &KeySock<'_, Self>);
}

/// Keeps PF_KEY registered. Fails with EEXIST when the kernel's own af_key
/// (or anything else) already owns family 15.
///
/// INVARIANT: the boxed tables stay registered (and are not moved or freed)
/// until drop; sockets hold a module reference, so none exist by then.
pub(crate) struct FamilyRegistration<F: KeyFamily> {
    proto: KBox<Opaque<bindings::proto>>,
    ops: KBox<Opaque<bindings::proto_ops>>,
    family: KBox<Opaque<bindings::net_proto_family>>,
    _f: PhantomData<F>,
}

// SAFETY: the tables are only read by the kernel once registered.
unsafe impl<F: KeyFamily> Send for FamilyRegistration<F> {}
// SAFETY: as above.
unsafe impl<F: KeyFamily> Sync for FamilyRegistration<F> {}

/// The `proto_ops` every PF_KEY socket points to (set by the registration;
/// a family is registered once per module).
static OPS: core::sync::atomic::AtomicPtr<bindings::proto_ops> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());
static PROTO: core::sync::atomic::AtomicPtr<bindings::proto> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

impl<F: KeyFamily> FamilyRegistration<F> {
    pub(crate) fn new() -> Result<Self> {
        let proto = KBox::new(
            Opaque::new(bindings::proto {
                name: c_name(b"RXFRM_KEY"),
                owner: this_module(),
                obj_size: core::mem::size_of::<bindings::rxfrm_sock>() as u32,
                ..zeroed()
            }),
            GFP_KERNEL,
        )?;
        let ops = KBox::new(
            Opaque::new(bindings::proto_ops {
                family: PF_KEY,
                owner: this_module(),
                release: Some(key_release::<F>),
                bind: Some(bindings::sock_no_bind),
                connect: Some(bindings::sock_no_connect),
                socketpair: Some(bindings::sock_no_socketpair),
                accept: Some(bindings::sock_no_accept),
                getname: Some(bindings::sock_no_getname),
                poll: Some(bindings::datagram_poll),
                ioctl: Some(bindings::sock_no_ioctl),
                listen: Some(bindings::sock_no_listen),
                shutdown: Some(bindings::sock_no_shutdown),
                sendmsg: Some(key_sendmsg::<F>),
                recvmsg: Some(key_recvmsg::<F>),
                mmap: Some(bindings::sock_no_mmap),
                ..zeroed()
            }),
            GFP_KERNEL,
        )?;
        let family = KBox::new(
            Opaque::new(bindings::net_proto_family {
                family: PF_KEY,
                create: Some(key_create::<F>),
                owner: this_module(),
            }),
            GFP_KERNEL,
        )?;
        OPS.store(ops.get(), core::sync::atomic::Ordering::Release);
        PROTO.store(proto.get(), core::sync::atomic::Ordering::Release);
        // SAFETY: the table lives in a box the registration owns.
        let err = unsafe { bindings::proto_register(proto.get(), 0) };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        // SAFETY: as above.
        let err = unsafe { bindings::sock_register(family.get()) };
        if err != 0 {
            // SAFETY: registered just above.
            unsafe { bindings::proto_unregister(proto.get()) };
            pr_err!("PF_KEY (family 15) is already registered: unload af_key first\n");
            return Err(Error::from_errno(err));
        }
        Ok(FamilyRegistration {
            proto,
            ops,
            family,
            _f: PhantomData,
        })
    }
}

impl<F: KeyFamily> Drop for FamilyRegistration<F> {
    fn drop(&mut self) {
        // SAFETY: both were registered in `new` (sock_unregister waits for
        // creators in flight). Open sockets hold a module reference
        // (`owner`), so none exist once exit runs.
        unsafe {
            bindings::sock_unregister(PF_KEY);
            bindings::proto_unregister(self.proto.get());
        }
        let _ = (&self.ops, &self.family);
    }
}

/// A PF_KEY socket, borrowed for the duration of a callback or while its
/// namespace's socket list is locked.
///
/// INVARIANT: `sk` is a live `rxfrm_sock` whose `state` is set.
pub(crate) struct KeySock<'a, F: KeyFamily> {
    sk: NonNull<bindings::rxfrm_sock>,
    _life: PhantomData<&'a F::Sock>,
}

impl<F: KeyFamily> Clone for KeySock<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F: KeyFamily> Copy for KeySock<'_, F> {}

impl<'a, F: KeyFamily> KeySock<'a, F> {
    /// # Safety
    /// `sk` is a live PF_KEY socket made by `key_create::<F>`, for `'a`.
    unsafe fn from_raw(sk: *mut bindings::sock) -> KeySock<'a, F> {
        KeySock {
            // SAFETY: the caller passes a non-NULL socket.
            sk: unsafe { NonNull::new_unchecked(sk.cast()) },
            _life: PhantomData,
        }
    }

    fn sk(&self) -> *mut bindings::sock {
        self.sk.as_ptr().cast()
    }

    /// The Rust state of this socket.
    pub(crate) fn state(&self) -> &'a F::Sock {
        // SAFETY: `state` was set from a `KBox<F::Sock>` in `key_create`
        // and is freed only in `key_destruct`, after the last reference.
        unsafe { &*((*self.sk.as_ptr()).state as *const F::Sock) }
    }

    /// The namespace the socket lives in.
    pub(crate) fn net(&self) -> Net {
        // SAFETY: a live socket pins its namespace, and a socket always has
        // one (`sk_alloc` sets it).
        unsafe { Net::from_nonnull(bindings::rxfrm_sock_net(self.sk())) }
    }

    /// Identity, for "to everybody but the sender" decisions.
    pub(crate) fn same(&self, other: &KeySock<'_, F>) -> bool {
        self.sk == other.sk
    }

    /// Bytes queued for reading and the receive buffer size.
    pub(crate) fn rmem(&self) -> (usize, usize) {
        // SAFETY: live socket.
        let (used, size) = unsafe {
            (bindings::rxfrm_sk_rmem_alloc(self.sk()), (*self.sk()).sk_rcvbuf)
        };
        (used.max(0) as usize, size.max(0) as usize)
    }

    fn has_room(&self) -> Result {
        let (used, size) = self.rmem();
        if used > size {
            return Err(errno(bindings::ENOBUFS));
        }
        Ok(())
    }

    /// Queues `skb` for the reader, unless its receive buffer is already
    /// full (then the message is dropped for this socket alone: ENOBUFS).
    pub(crate) fn deliver(&self, skb: KeyMsg) -> Result {
        self.has_room()?;
        let skb = skb.into_raw();
        // SAFETY: we own `skb`; the receive queue takes it over and the
        // socket is live. `skb_set_owner_r` charges it to the socket.
        unsafe {
            bindings::rxfrm_skb_set_owner_r(skb, self.sk());
            bindings::skb_queue_tail(&mut (*self.sk()).sk_receive_queue, skb);
            bindings::rxfrm_sk_data_ready(self.sk());
        }
        Ok(())
    }

    /// Delivers a copy of `skb`.
    pub(crate) fn deliver_clone(&self, skb: &KeyMsg, gfp: Gfp) -> Result {
        // Checked before cloning too: a full queue costs no allocation.
        self.has_room()?;
        let copy = skb.try_clone(gfp).ok_or(errno(bindings::ENOBUFS))?;
        self.deliver(copy)
    }
}

/// The PF_KEY sockets of one namespace. A spinlock, not a mutex, so that
/// delivery may run from atomic context.
///
/// INVARIANT: every pointer is a live socket of family `F`: the family adds
/// it in `created` and removes it in `release`, before its reference is
/// dropped.
#[pin_data]
pub(crate) struct SockList<F: KeyFamily> {
    #[pin]
    socks: SpinLock<KVec<NonNull<bindings::sock>>>,
    _f: PhantomData<F>,
}

// SAFETY: the pointers are only dereferenced under the lock, and sockets are
// safe to use from any CPU.
unsafe impl<F: KeyFamily> Send for SockList<F> {}
// SAFETY: as above.
unsafe impl<F: KeyFamily> Sync for SockList<F> {}

impl<F: KeyFamily> SockList<F> {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(SockList {
            socks <- kernel::new_spinlock!(KVec::new(), "rxfrm_socks"),
            _f: PhantomData,
        })
    }

    /// Lists `sock` (from `KeyFamily::created`).
    pub(crate) fn add(&self, sock: &KeySock<'_, F>) -> Result {
        self.socks.lock().push(sock.sk.cast(), GFP_ATOMIC)?;
        Ok(())
    }

    /// Unlists `sock` (from `KeyFamily::release`).
    pub(crate) fn remove(&self, sock: &KeySock<'_, F>) {
        let sk = sock.sk.cast::<bindings::sock>();
        let mut socks = self.socks.lock();
        if let Some(i) = socks.iter().position(|&s| s == sk) {
            let last = socks.len() - 1;
            socks.swap(i, last);
            // SAFETY: shrinking by one; the dropped element is a plain
            // pointer with no destructor.
            unsafe { socks.set_len(last) };
        }
    }

    /// Runs `f` on every socket of the namespace, under the list lock
    /// (so `f` must not sleep: allocate with `Gfp::Atomic`).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&KeySock<'_, F>)) {
        let socks = self.socks.lock();
        for &sk in socks.iter() {
            // SAFETY: listed sockets are live while the lock is held.
            let ks = unsafe { KeySock::from_raw(sk.as_ptr()) };
            f(&ks);
        }
    }
}

unsafe extern "C" fn key_create<F: KeyFamily>(
    net: *mut bindings::net,
    sock: *mut bindings::socket,
    protocol: c_int,
    kern: c_int,
) -> c_int {
    // SAFETY: the kernel passes the namespace the socket is created in.
    let Some(netw) = (unsafe { Net::from_raw(net) }) else {
        return neg(bindings::EINVAL);
    };
    if !netw.admin_capable() {
        return neg(bindings::EPERM);
    }
    // SAFETY: `sock` is the socket being created, owned by the caller.
    if unsafe { (*sock).type_ } != bindings::sock_type_SOCK_RAW as _ {
        return neg(bindings::ESOCKTNOSUPPORT);
    }
    if protocol != PF_KEY_V2 {
        return neg(bindings::EPROTONOSUPPORT);
    }
    let (ops, proto) = (
        OPS.load(core::sync::atomic::Ordering::Acquire),
        PROTO.load(core::sync::atomic::Ordering::Acquire),
    );
    if ops.is_null() || proto.is_null() {
        return neg(bindings::EAFNOSUPPORT);
    }
    let state = match KBox::pin_init(F::new_sock(), GFP_KERNEL) {
        Ok(s) => s,
        Err(_) => return neg(bindings::ENOMEM),
    };
    // SAFETY: the state is only ever reached through this pointer and is
    // dropped in place by `key_destruct`; it never moves.
    let state = KBox::into_raw(unsafe { core::pin::Pin::into_inner_unchecked(state) });
    // SAFETY: arguments as the kernel gave them; NULL is handled.
    let sk = unsafe { bindings::sk_alloc(net, PF_KEY, bindings::RXFRM_GFP_KERNEL, proto, kern) };
    if sk.is_null() {
        // SAFETY: `state` came from `KBox::into_raw` above and was never shared.
        drop(unsafe { KBox::from_raw(state) });
        return neg(bindings::ENOMEM);
    }
    // SAFETY: `sk` is fresh and ours; `rxfrm_sock` embeds it first
    // (obj_size), so the cast is in bounds.
    unsafe {
        (*sock).ops = ops;
        bindings::sock_init_data(sock, sk);
        (*sk).sk_destruct = Some(key_destruct::<F>);
        (*sk.cast::<bindings::rxfrm_sock>()).state = state.cast();
    }
    // SAFETY: a live socket of ours, for the call.
    let ks = unsafe { KeySock::<F>::from_raw(sk) };
    if let Err(e) = F::created(&ks) {
        // SAFETY: the family did not list it; orphan and drop it.
        unsafe {
            bindings::rxfrm_sock_orphan(sk);
            (*sock).sk = core::ptr::null_mut();
            bindings::rxfrm_sock_put(sk);
        }
        return e.to_errno();
    }
    0
}

unsafe extern "C" fn key_destruct<F: KeyFamily>(sk: *mut bindings::sock) {
    // SAFETY: last reference gone; nobody else touches the socket.
    unsafe {
        bindings::rxfrm_skb_queue_purge(&mut (*sk).sk_receive_queue);
        let rs = sk.cast::<bindings::rxfrm_sock>();
        let state = (*rs).state as *mut F::Sock;
        if !state.is_null() {
            (*rs).state = core::ptr::null_mut();
            drop(KBox::from_raw(state));
        }
    }
}

unsafe extern "C" fn key_release<F: KeyFamily>(sock: *mut bindings::socket) -> c_int {
    // SAFETY: `sock` is being released by its owner.
    let sk = unsafe { (*sock).sk };
    if sk.is_null() {
        return 0;
    }
    // SAFETY: still live: we hold the socket's own reference.
    let ks = unsafe { KeySock::<F>::from_raw(sk) };
    F::release(&ks);
    // SAFETY: unlisted, so no other path reaches it; drop our reference.
    unsafe {
        bindings::rxfrm_sock_orphan(sk);
        (*sock).sk = core::ptr::null_mut();
        bindings::rxfrm_skb_queue_purge(&mut (*sk).sk_write_queue);
        bindings::rxfrm_sock_put(sk);
    }
    0
}

unsafe extern "C" fn key_sendmsg<F: KeyFamily>(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
) -> c_int {
    // SAFETY: the socket is live during the call.
    let sk = unsafe { (*sock).sk };
    // SAFETY: `msg` is the caller's message header.
    if unsafe { (*msg).msg_flags } & bindings::MSG_OOB as u32 != 0 {
        return neg(bindings::EOPNOTSUPP);
    }
    // SAFETY: live socket.
    let sndbuf = unsafe { (*sk).sk_sndbuf }.max(32) as usize;
    if len > sndbuf - 32 || len > i32::MAX as usize {
        return neg(bindings::EMSGSIZE);
    }
    let mut buf = match KVVec::from_elem(0u8, len, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => return neg(bindings::ENOBUFS),
    };
    // SAFETY: `buf` has `len` writable bytes.
    if unsafe { bindings::rxfrm_memcpy_from_msg(buf.as_mut_ptr().cast(), msg, len as c_int) } != 0
    {
        return neg(bindings::EFAULT);
    }
    // SAFETY: live socket made by `key_create`.
    let ks = unsafe { KeySock::<F>::from_raw(sk) };
    match F::sendmsg(&ks, &buf) {
        Ok(()) => len as c_int,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn key_recvmsg<F: KeyFamily>(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
) -> c_int {
    let allowed = bindings::MSG_PEEK | bindings::MSG_DONTWAIT | bindings::MSG_TRUNC;
    if flags as u32 & !(allowed | bindings::MSG_CMSG_COMPAT) != 0 {
        return neg(bindings::EINVAL);
    }
    // SAFETY: the socket is live during the call.
    let sk = unsafe { (*sock).sk };
    let mut err: c_int = 0;
    // SAFETY: live socket; NULL return carries the error in `err`.
    let skb = unsafe { bindings::skb_recv_datagram(sk, flags as u32, &mut err) };
    if skb.is_null() {
        return err;
    }
    // SAFETY: we hold the datagram until `skb_free_datagram`.
    let skb_len = unsafe { (*skb).len } as usize;
    let mut copied = skb_len;
    if copied > len {
        // SAFETY: caller's message header.
        unsafe { (*msg).msg_flags |= bindings::MSG_TRUNC as u32 };
        copied = len;
    }
    // SAFETY: `copied` ≤ skb length; `msg` is the caller's.
    let e = unsafe { bindings::rxfrm_skb_copy_datagram_msg(skb, 0, msg, copied as c_int) };
    // SAFETY: return the datagram to the socket layer.
    unsafe { bindings::skb_free_datagram(sk, skb) };
    if e != 0 {
        return e;
    }
    // SAFETY: live socket made by `key_create`.
    let ks = unsafe { KeySock::<F>::from_raw(sk) };
    F::received(&ks);
    if flags as u32 & bindings::MSG_TRUNC != 0 {
        skb_len as c_int
    } else {
        copied as c_int
    }
}
