//! Packets on the datapath: an `sk_buff` with the operations the transforms
//! need (make it linear and private, push/pull/put headers, swap its dst,
//! hand it on to the stack). PF_KEY messages are `keymsg::KeyMsg`.

use super::bindings;
use super::dst::{Dst, DstRef};
use super::net::Net;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use kernel::ffi::c_int;

/// An owned packet: freed (as a drop) unless handed on.
///
/// INVARIANT: `ptr` is a live skb this value owns; `private` means its
/// data is linear and not shared with clones.
pub(crate) struct Pkt {
    ptr: NonNull<bindings::sk_buff>,
    private: bool,
}

// SAFETY: an owned skb may move between CPUs (the stack does so).
unsafe impl Send for Pkt {}

impl Pkt {
    /// # Safety
    /// `p` is a live skb whose ownership the caller gives up.
    pub(crate) unsafe fn from_raw(p: *mut bindings::sk_buff) -> Pkt {
        // SAFETY: non-null per the contract.
        Pkt {
            ptr: unsafe { NonNull::new_unchecked(p) },
            private: false,
        }
    }

    /// A view of a packet owned by the caller's caller (a netfilter hook's).
    ///
    /// # Safety
    /// `p` is live for as long as the view is used, and not freed through it.
    pub(crate) unsafe fn borrowed(p: *mut bindings::sk_buff) -> ManuallyDrop<Pkt> {
        // SAFETY: as `from_raw`; never dropped.
        ManuallyDrop::new(unsafe { Pkt::from_raw(p) })
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        p
    }

    pub(crate) fn len(&self) -> usize {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_len(self.as_ptr()) as usize }
    }

    /// Copies `buf.len()` bytes from `offset` (relative to `data`), linear
    /// or not; `None` if the packet is shorter.
    pub(crate) fn copy_out(&self, offset: usize, buf: &mut [u8]) -> Option<()> {
        // Most reads (headers) fall inside the linear head: copied from it
        // directly, without the call.
        let end = offset.checked_add(buf.len())?;
        // SAFETY: live skb.
        let head = unsafe { bindings::rxfrm_skb_headlen(self.as_ptr()) } as usize;
        if end <= head {
            // SAFETY: `data` holds `headlen` linear bytes of this live skb,
            // and `offset..end` lies within them; `buf` does not overlap
            // the skb.
            unsafe {
                let src = bindings::rxfrm_skb_data(self.as_ptr()).add(offset);
                core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len());
            }
            return Some(());
        }
        let off = c_int::try_from(offset).ok()?;
        let len = c_int::try_from(buf.len()).ok()?;
        // SAFETY: live skb; `buf` is writable for `len` bytes.
        let r =
            unsafe { bindings::skb_copy_bits(self.as_ptr(), off, buf.as_mut_ptr().cast(), len) };
        (r == 0).then_some(())
    }

    /// Makes the data linear and unshared with `head`/`tail` bytes of room
    /// (32 bytes more than asked, when it has to grow, for what follows).
    pub(crate) fn make_private(&mut self, head: usize, tail: usize) -> Result<(), ()> {
        let p = self.as_ptr();
        // SAFETY: live, owned skb.
        unsafe {
            if bindings::rxfrm_skb_is_nonlinear(p) && bindings::rxfrm_skb_linearize(p) != 0 {
                return Err(());
            }
        }
        let (h, t) = self.room();
        // SAFETY: live, owned skb.
        if unsafe { bindings::rxfrm_skb_cloned(p) } || h < head || t < tail {
            let grow = |have: usize, want: usize| {
                if have < want {
                    u32::try_from(want - have + 32).map_err(|_| ())
                } else {
                    Ok(0)
                }
            };
            let (nh, nt) = (grow(h, head)?, grow(t, tail)?);
            // SAFETY: live, owned skb; it may be reallocated, which is why
            // no borrow of its data outlives this call.
            if unsafe { bindings::rxfrm_pskb_expand_head(p, nh, nt) } != 0 {
                return Err(());
            }
        }
        self.private = true;
        Ok(())
    }

    /// The packet from `data` on; empty unless `make_private` succeeded.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        if !self.private {
            return &mut [];
        }
        // SAFETY: private means linear and unshared, so `data` holds `len`
        // bytes only this owner touches; `&mut self` makes the borrow unique.
        unsafe {
            core::slice::from_raw_parts_mut(bindings::rxfrm_skb_data(self.as_ptr()), self.len())
        }
    }

    /// Room in front of and behind the data.
    pub(crate) fn room(&self) -> (usize, usize) {
        // SAFETY: live skb.
        unsafe {
            (
                bindings::rxfrm_skb_headroom(self.as_ptr()) as usize,
                bindings::rxfrm_skb_tailroom(self.as_ptr()) as usize,
            )
        }
    }

    /// Grows the data by `n` bytes in front; false if there is no room.
    pub(crate) fn push(&mut self, n: usize) -> bool {
        if self.room().0 < n {
            return false;
        }
        // SAFETY: enough headroom was checked (skb_push would BUG otherwise).
        unsafe { bindings::rxfrm_skb_push(self.as_ptr(), n as u32) };
        true
    }

    /// Drops `n` bytes in front; false if the packet is shorter.
    pub(crate) fn pull(&mut self, n: usize) -> bool {
        if !self.private || self.len() < n {
            return false;
        }
        // SAFETY: linear with at least `n` bytes.
        unsafe { bindings::rxfrm_skb_pull(self.as_ptr(), n as u32) };
        true
    }

    /// Grows the data by `n` bytes at the end; false if there is no room.
    pub(crate) fn put(&mut self, n: usize) -> bool {
        if !self.private || self.room().1 < n {
            return false;
        }
        // SAFETY: linear with enough tailroom (skb_put would BUG otherwise).
        unsafe { bindings::rxfrm_skb_put(self.as_ptr(), n as u32) };
        true
    }

    /// Cuts the packet to `len` bytes.
    pub(crate) fn trim(&mut self, len: usize) {
        if len < self.len() {
            // SAFETY: live skb; a shorter length is always valid.
            unsafe { bindings::rxfrm_skb_trim(self.as_ptr(), len as u32) };
        }
    }

    /// Network header offset relative to `data` (negative when in front).
    pub(crate) fn network_offset(&self) -> isize {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_network_offset(self.as_ptr()) as isize }
    }

    /// Sets the network header `offset` bytes from `data` (may be < 0).
    pub(crate) fn set_network_header(&mut self, offset: isize) {
        // SAFETY: live skb; callers pass offsets inside the linear head.
        unsafe { bindings::rxfrm_skb_set_network_header(self.as_ptr(), offset as c_int) };
    }

    /// The packet from its network header to its end (private packets
    /// only; empty otherwise or if the header is not inside the head).
    pub(crate) fn l3_mut(&mut self) -> &mut [u8] {
        if !self.private {
            return &mut [];
        }
        let off = self.network_offset();
        let (head, _) = self.room();
        let Some(len) = (self.len() as isize).checked_sub(off) else {
            return &mut [];
        };
        if -off > head as isize || len < 0 {
            return &mut [];
        }
        // SAFETY: private means linear and unshared; the network header
        // lies between the buffer's head and `data + len` (checked above),
        // so the range is inside the skb's head buffer, which only this
        // owner touches.
        unsafe {
            let start = bindings::rxfrm_skb_data(self.as_ptr()).offset(off);
            core::slice::from_raw_parts_mut(start, len as usize)
        }
    }


    /// A new reference on the packet's dst.
    pub(crate) fn dst(&self) -> Option<DstRef> {
        // SAFETY: the skb's dst is live while the skb holds it.
        unsafe { Dst::from_borrowed(bindings::rxfrm_skb_dst(self.as_ptr())) }
    }

    /// Whether the sender is a full TCP socket (one that caches its route
    /// and sizes segments by its MTU).
    pub(crate) fn from_tcp_socket(&self) -> bool {
        // SAFETY: live skb; its socket (if any) is held by it.
        unsafe { bindings::rxfrm_sk_is_full_tcp(bindings::rxfrm_skb_sk(self.as_ptr())) }
    }

    /// Whether the sending socket's cached route is `route`.
    pub(crate) fn socket_route_is(&self, route: &Dst) -> bool {
        // SAFETY: live skb; only the pointer is compared.
        unsafe { bindings::rxfrm_sk_dst_cache(bindings::rxfrm_skb_sk(self.as_ptr())) == route.as_ptr() }
    }

    /// Makes `dst` the sending socket's cached route (`sk_dst_set`).
    pub(crate) fn set_socket_route(&self, dst: DstRef) {
        let sk = self.sk();
        if sk.is_null() {
            return;
        }
        // SAFETY: live skb and socket; the reference moves into the socket.
        unsafe { bindings::rxfrm_sk_dst_set(sk, DstRef::into_raw(dst).as_ptr().cast()) };
    }

    /// Replaces the packet's dst (the old reference is dropped).
    pub(crate) fn set_dst(&mut self, dst: DstRef) {
        // SAFETY: live skb; the reference moves into it.
        unsafe {
            bindings::rxfrm_skb_dst_drop(self.as_ptr());
            bindings::rxfrm_skb_dst_set(self.as_ptr(), DstRef::into_raw(dst).as_ptr().cast());
        }
    }

    pub(crate) fn is_gso(&self) -> bool {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_is_gso(self.as_ptr()) }
    }

    /// Splits a GSO packet into MTU-sized ones (checksums filled in).
    pub(crate) fn segment(self) -> Option<SegList> {
        // SAFETY: live skb; on success the segments are a new list we own
        // and the original is ours to free (dropping `self`).
        let segs = unsafe { bindings::rxfrm_skb_gso_segment(self.as_ptr()) };
        NonNull::new(segs).map(|p| SegList(Some(p)))
    }

    /// Resolves a checksum left to the device (`CHECKSUM_PARTIAL`).
    pub(crate) fn checksum_help(&mut self) -> bool {
        // SAFETY: live, owned skb.
        unsafe {
            !bindings::rxfrm_skb_csum_partial(self.as_ptr())
                || bindings::rxfrm_skb_checksum_help(self.as_ptr()) == 0
        }
    }

    pub(crate) fn set_protocol(&mut self, ethertype: u16) {
        // SAFETY: live, owned skb.
        unsafe { bindings::rxfrm_skb_set_protocol(self.as_ptr(), ethertype) };
    }

    pub(crate) fn ignore_df(&self) -> bool {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_ignore_df(self.as_ptr()) }
    }

    /// Lets IP fragment the packet whatever its DF bit says.
    pub(crate) fn set_ignore_df(&mut self) {
        // SAFETY: live, owned skb.
        unsafe { bindings::rxfrm_skb_set_ignore_df(self.as_ptr()) };
    }

    /// The namespace of the packet's device (or route).
    pub(crate) fn net(&self) -> Option<Net> {
        // SAFETY: live skb; its device pins its namespace.
        let n = unsafe { bindings::rxfrm_skb_net(self.as_ptr()) };
        // SAFETY: live while the packet is being processed.
        unsafe { Net::from_raw(n) }
    }

    /// A reference on the packet's device, for as long as work on it may
    /// outlive the current call.
    pub(crate) fn hold_dev(&self) -> Option<super::net::DevRef> {
        // SAFETY: live skb; its device (if any) is live while it is.
        unsafe { super::net::DevRef::hold(bindings::rxfrm_skb_dev(self.as_ptr())) }
    }

    /// Whether a local socket other than a TCP one sent it.
    pub(crate) fn from_dgram_socket(&self) -> bool {
        // SAFETY: live skb; its socket (if any) is held by it.
        unsafe { bindings::rxfrm_sk_is_full(self.sk()) && !bindings::rxfrm_sk_is_full_tcp(self.sk()) }
    }

    /// Arrived over loopback (policy is not checked there, as on Linux).
    pub(crate) fn from_loopback(&self) -> bool {
        // SAFETY: live skb; its device (if any) is live while it is.
        unsafe { bindings::rxfrm_dev_is_loopback(bindings::rxfrm_skb_dev(self.as_ptr())) }
    }

    pub(crate) fn sk(&self) -> *mut bindings::sock {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_sk(self.as_ptr()) }
    }

    /// As xfrm_input before a decapsulated packet goes back to the stack
    /// (its sec_path stays: it records what decapsulated it).
    pub(crate) fn reset_for_reinject(&mut self) {
        // SAFETY: live, owned skb.
        unsafe { bindings::rxfrm_skb_reset_for_reinject(self.as_ptr()) };
    }

    /// Clears the IPv4/IPv6 control block (the packet changes family or
    /// leaves through a new route).
    pub(crate) fn clear_ipcb(&mut self) {
        // SAFETY: live, owned skb; the IP control block is the first
        // `RXFRM_IPCB_SIZE` bytes of `cb`.
        unsafe {
            let cb = bindings::rxfrm_skb_cb(self.as_ptr()).cast::<u8>();
            core::ptr::write_bytes(cb, 0, bindings::RXFRM_IPCB_SIZE);
        }
    }

    /// Recomputes the IPv4 header checksum (network header).
    pub(crate) fn ip_send_check(&mut self) {
        // SAFETY: live skb whose network header is an IPv4 header.
        unsafe { bindings::rxfrm_ip_send_check(self.as_ptr()) };
    }

    /// Picks the IPv4 header's id (network header).
    pub(crate) fn ip_select_ident(&mut self, net: Net) {
        // SAFETY: as above, in a live namespace.
        unsafe { bindings::rxfrm_ip_select_ident(net.as_ptr(), self.as_ptr()) };
    }

    /// A transformed packet leaves as a new datagram, as Linux's
    /// `xfrm_output_resume` sends it: no conntrack entry of the inner flow,
    /// marked transformed (IPSKB/IP6SKB_XFRM_TRANSFORMED), through the
    /// LOCAL_OUT hooks, then down its dst.
    pub(crate) fn transformed_output(self, net: Net, v6: bool) -> c_int {
        let p = self.as_ptr();
        // SAFETY: live, owned skb; its control block is the IP layer's of
        // the family it now is.
        unsafe {
            bindings::rxfrm_skb_nf_reset_ct(p);
            bindings::rxfrm_skb_set_xfrm_transformed(p, v6);
        }
        let sk = self.sk();
        // SAFETY: the skb moves into the stack.
        unsafe { bindings::rxfrm_ip_local_out(net.as_ptr(), sk, self.into_raw(), v6) }
    }

    /// Whether rxfrm (or xfrm) already transformed it on its way out.
    pub(crate) fn is_transformed(&self, v6: bool) -> bool {
        // SAFETY: live skb.
        unsafe { bindings::rxfrm_skb_xfrm_transformed(self.as_ptr(), v6) }
    }

    /// Queues it for receive processing, as if it came from its device.
    pub(crate) fn netif_rx(self) {
        // SAFETY: the skb moves into the stack.
        unsafe { bindings::rxfrm_netif_rx(self.into_raw()) };
    }

    /// An ICMP error quoting one of our packets (this one) said the path
    /// MTU towards its destination is `mtu`: update the route's
    /// (`ipv4_update_pmtu`/`ip6_update_pmtu`, as esp4_err/esp6_err do).
    pub(crate) fn update_pmtu(&self, net: Net, v6: bool, mtu: u32, proto: u8) {
        // SAFETY: the ICMP layer's live skb, data at the quoted IP header.
        unsafe {
            if v6 {
                bindings::rxfrm_ip6_update_pmtu(self.as_ptr(), net.as_ptr(), mtu)
            } else {
                bindings::rxfrm_ipv4_update_pmtu(self.as_ptr(), net.as_ptr(), mtu, proto)
            }
        }
    }

    /// As `update_pmtu`, for a redirect.
    pub(crate) fn redirect(&self, net: Net, v6: bool, proto: u8) {
        // SAFETY: as `update_pmtu`.
        unsafe {
            if v6 {
                bindings::rxfrm_ip6_redirect(self.as_ptr(), net.as_ptr())
            } else {
                bindings::rxfrm_ipv4_redirect(self.as_ptr(), net.as_ptr(), proto)
            }
        }
    }

    /// Tells the sender the path MTU is `mtu` (ICMP/ICMPv6). The packet's
    /// route must be set (ICMP answers along it).
    pub(crate) fn too_big(&mut self, v6: bool, mtu: u32) {
        let p = self.as_ptr();
        // SAFETY: live, owned skb with its route set; ICMP reads it only. A
        // locally generated packet has no device yet, which icmpv6_send
        // needs: it gets its route's.
        unsafe {
            if v6 {
                if bindings::rxfrm_skb_dev(p).is_null() {
                    let d = bindings::rxfrm_skb_dst(p);
                    if d.is_null() {
                        return;
                    }
                    bindings::rxfrm_skb_set_dev(p, bindings::rxfrm_dst_dev(d));
                }
                bindings::rxfrm_icmp6_too_big(p, mtu)
            } else {
                bindings::rxfrm_icmp_frag_needed(p, mtu)
            }
        }
    }
}

/// The packet's bytes from `data` on, linear or not (`skb_copy_bits`),
/// for the pure header parsers.
impl crate::logic::bytes::PacketBytes for Pkt {
    fn len(&self) -> usize {
        Pkt::len(self)
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Option<()> {
        self.copy_out(off, out)
    }
}

impl Drop for Pkt {
    fn drop(&mut self) {
        // SAFETY: owned (invariant).
        unsafe { bindings::rxfrm_kfree_skb(self.as_ptr()) };
    }
}

/// Segments of a GSO packet, each handed out as its own `Pkt`.
pub(crate) struct SegList(Option<NonNull<bindings::sk_buff>>);

// SAFETY: owned skbs.
unsafe impl Send for SegList {}

impl Iterator for SegList {
    type Item = Pkt;
    fn next(&mut self) -> Option<Pkt> {
        let p = self.0?;
        // SAFETY: `p` heads the list we own; unlinking makes it standalone.
        unsafe {
            self.0 = NonNull::new(bindings::rxfrm_skb_next(p.as_ptr()));
            bindings::rxfrm_skb_mark_not_on_list(p.as_ptr());
            Some(Pkt::from_raw(p.as_ptr()))
        }
    }
}

impl Drop for SegList {
    fn drop(&mut self) {
        for p in self.by_ref() {
            drop(p);
        }
    }
}
