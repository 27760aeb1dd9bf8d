// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line forms of `static inline` kernel functions for rxfrm's Rust
 * code (declared in include/rxfrm_helpers.h). Nothing here has logic.
 */
#include <linux/capability.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "../include/rxfrm_helpers.h"

void *rxfrm_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

struct net *rxfrm_sock_net(const struct sock *sk)
{
	return sock_net(sk);
}

bool rxfrm_net_admin_capable(const struct net *net)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN);
}

struct sk_buff *rxfrm_alloc_skb(unsigned int size, gfp_t gfp)
{
	return alloc_skb(size, gfp);
}

void rxfrm_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

void *rxfrm_skb_put_zero(struct sk_buff *skb, unsigned int len)
{
	return skb_put_zero(skb, len);
}

void rxfrm_skb_set_owner_r(struct sk_buff *skb, struct sock *sk)
{
	skb_set_owner_r(skb, sk);
}

int rxfrm_memcpy_from_msg(void *data, struct msghdr *msg, int len)
{
	return memcpy_from_msg(data, msg, len);
}

int rxfrm_skb_copy_datagram_msg(const struct sk_buff *from, int offset,
				struct msghdr *msg, int size)
{
	return skb_copy_datagram_msg(from, offset, msg, size);
}

int rxfrm_sk_rmem_alloc(const struct sock *sk)
{
	return sk_rmem_alloc_get(sk);
}

void rxfrm_sock_hold(struct sock *sk)
{
	sock_hold(sk);
}

void rxfrm_sock_put(struct sock *sk)
{
	sock_put(sk);
}

void rxfrm_sock_orphan(struct sock *sk)
{
	sock_orphan(sk);
}

void rxfrm_sk_data_ready(struct sock *sk)
{
	sk->sk_data_ready(sk);
}

void rxfrm_memzero_explicit(void *s, size_t count)
{
	memzero_explicit(s, count);
}

void rxfrm_skb_queue_purge(struct sk_buff_head *list)
{
	skb_queue_purge(list);
}

void rxfrm_init_delayed_work(struct delayed_work *dw, void (*fn)(struct work_struct *))
{
	INIT_DELAYED_WORK(dw, fn);
}

bool rxfrm_schedule_delayed_ms(struct delayed_work *dw, unsigned int ms)
{
	return schedule_delayed_work(dw, msecs_to_jiffies(ms));
}
