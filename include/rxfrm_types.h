/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C structs rxfrm shares with the kernel, whose layout the kernel
 * dictates: a PF_KEY socket (a `struct sock` with Rust state behind it) and
 * a bundle entry (a `struct dst_entry` with rxfrm's fields behind it).
 * Their fields are set and read by the Rust FFI layer (rust/sys/sock.rs,
 * rust/sys/bundle.rs); C only allocates and lists them.
 */
#ifndef RXFRM_TYPES_H
#define RXFRM_TYPES_H

#include <linux/list.h>
#include <linux/types.h>
#include <net/dst.h>
#include <net/sock.h>

/* `sk` must stay first so that a `struct sock *` of family PF_KEY is also a
 * `struct rxfrm_sock *`. */
struct rxfrm_sock {
	struct sock sk;
	/* Rust-owned per-socket state, set once in create, freed in destruct. */
	void *state;
};

/* Room after `dst` for the rest of an rtable or rt6_info: a TCP socket
 * caches a bundle's head entry as its route, and IPv4/IPv6 code reads a
 * socket's route as its own type, as it does xfrm_dst's union. Zeroed,
 * except rt6i_idev of IPv6 heads. */
#define RXFRM_ROUTE_TAIL 160

/*
 * One entry of an output bundle. `dst` must stay first: the kernel frees
 * the entry through its dst_ops' kmem cache.
 */
struct rxfrm_dst {
	struct dst_entry dst;
	u8 route_tail[RXFRM_ROUTE_TAIL];
	/* Held reference: the next entry, or the route. */
	struct dst_entry *next;
	/* Rust-owned payload (what the entry does), freed on destroy; NULL
	 * for a socket's head entry. */
	void *data;
	/* dst_check() cookie of `next` when it is an IPv6 route. */
	u32 next_cookie;
	/* A socket's head entry: no transform of its own, pins the module. */
	u8 head;
	/* On the list of live entries (rust/helpers/dst.c). */
	struct list_head live;
};

#endif
