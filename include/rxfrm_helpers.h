/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for `static inline` kernel functions, which Rust can
 * not call directly. Each one only forwards its arguments (rust/helpers.c).
 */
#ifndef RXFRM_HELPERS_H
#define RXFRM_HELPERS_H

#include <linux/types.h>
#include <net/sock.h>

struct msghdr;
struct net;
struct sk_buff;
struct sk_buff_head;
struct sock;

/* The per-socket state of a PF_KEY socket: `sk` must stay first so that a
 * `struct sock *` of family PF_KEY is also a `struct rxfrm_sock *`. */
struct rxfrm_sock {
	struct sock sk;
	/* Rust-owned state (rust/af_key/sock.rs), set once in create. */
	void *state;
};

void *rxfrm_net_generic(const struct net *net, unsigned int id);
struct net *rxfrm_sock_net(const struct sock *sk);
bool rxfrm_net_admin_capable(const struct net *net);
struct sk_buff *rxfrm_alloc_skb(unsigned int size, gfp_t gfp);
void rxfrm_kfree_skb(struct sk_buff *skb);
void *rxfrm_skb_put_zero(struct sk_buff *skb, unsigned int len);
void rxfrm_skb_set_owner_r(struct sk_buff *skb, struct sock *sk);
int rxfrm_memcpy_from_msg(void *data, struct msghdr *msg, int len);
int rxfrm_skb_copy_datagram_msg(const struct sk_buff *from, int offset,
				struct msghdr *msg, int size);
int rxfrm_sk_rmem_alloc(const struct sock *sk);
void rxfrm_sock_hold(struct sock *sk);
void rxfrm_sock_put(struct sock *sk);
void rxfrm_sock_orphan(struct sock *sk);
void rxfrm_sk_data_ready(struct sock *sk);
void rxfrm_memzero_explicit(void *s, size_t count);
void rxfrm_skb_queue_purge(struct sk_buff_head *list);
struct delayed_work;
struct work_struct;
void rxfrm_init_delayed_work(struct delayed_work *dw, void (*fn)(struct work_struct *));
bool rxfrm_schedule_delayed_ms(struct delayed_work *dw, unsigned int ms);

#endif
