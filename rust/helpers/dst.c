// SPDX-License-Identifier: GPL-2.0
/*
 * Routes and dst entries: out-of-line forms of the `static inline` dst and
 * route API, and the storage of bundle entries (their slab, allocation and
 * the list of live ones). Validity, MTU, what an entry does and when a
 * device's entries move are decided in rust/sys/bundle.rs.
 */
#include <net/addrconf.h>
#include <net/dst.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/route.h>

#include "../../include/rxfrm_helpers.h"

/* ---- any dst ------------------------------------------------------------ */

void rxfrm_dst_hold(struct dst_entry *dst) { dst_hold(dst); }
u32 rxfrm_dst_mtu(const struct dst_entry *dst) { return dst_mtu(dst); }
int rxfrm_dst_obsolete(const struct dst_entry *dst) { return READ_ONCE(dst->obsolete); }
unsigned short rxfrm_dst_flags(const struct dst_entry *dst) { return dst->flags; }
struct net_device *rxfrm_dst_dev(const struct dst_entry *dst) { return dst->dev; }
u32 rxfrm_dst_metric_advmss(const struct dst_entry *dst) { return dst_metric_advmss(dst); }

struct dst_entry *rxfrm_dst_ops_check(struct dst_entry *dst, u32 cookie)
{
	return dst->ops->check(dst, cookie);
}

u32 rxfrm_rt6_get_cookie(const struct dst_entry *dst)
{
	return rt6_get_cookie((const struct rt6_info *)dst);
}

int rxfrm_ip4_hoplimit(const struct dst_entry *dst) { return ip4_dst_hoplimit(dst); }
int rxfrm_ip6_hoplimit(const struct dst_entry *dst) { return ip6_dst_hoplimit((struct dst_entry *)dst); }

struct dst_entry *rxfrm_route4(struct net *net, __be32 daddr, __be32 saddr)
{
	struct flowi4 fl4 = { .daddr = daddr, .saddr = saddr };
	struct rtable *rt = ip_route_output_key(net, &fl4);

	return IS_ERR(rt) ? NULL : &rt->dst;
}

struct dst_entry *rxfrm_route6(struct net *net, const struct in6_addr *daddr,
			       const struct in6_addr *saddr)
{
	struct flowi6 fl6 = { .daddr = *daddr, .saddr = *saddr };
	struct dst_entry *dst = ip6_route_output(net, NULL, &fl6);

	if (dst->error) {
		dst_release(dst);
		return NULL;
	}
	return dst;
}

int rxfrm_dst_output_skb(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	return dst_output(net, sk, skb);
}

/* ---- bundle entries ----------------------------------------------------- */

static struct kmem_cache *rxfrm_dst_cache;
/* Every live entry: sockets and packets may hold entries after their
 * bundle left the policy caches, and each holds its device. */
static LIST_HEAD(rxfrm_dst_live);
static DEFINE_SPINLOCK(rxfrm_dst_live_spin);

struct kmem_cache *rxfrm_dst_cache_create(void)
{
	BUILD_BUG_ON(sizeof(struct rtable) - sizeof(struct dst_entry) > RXFRM_ROUTE_TAIL);
	BUILD_BUG_ON(sizeof(struct rt6_info) - sizeof(struct dst_entry) > RXFRM_ROUTE_TAIL);
	BUILD_BUG_ON(offsetof(struct rxfrm_dst, dst) != 0);
	rxfrm_dst_cache = kmem_cache_create("rxfrm_dst", sizeof(struct rxfrm_dst), 0,
					    SLAB_HWCACHE_ALIGN, NULL);
	return rxfrm_dst_cache;
}

/* A zeroed entry on `next`'s device, listed live; the caller fills it in. */
struct rxfrm_dst *rxfrm_dst_alloc(struct dst_ops *ops, struct dst_entry *next)
{
	struct rxfrm_dst *d;

	d = dst_alloc(ops, next->dev, DST_OBSOLETE_FORCE_CHK, DST_NOCOUNT);
	if (!d)
		return NULL;
	memset(d->route_tail, 0, sizeof(d->route_tail));
	d->next = NULL;
	d->data = NULL;
	d->next_cookie = 0;
	d->head = 0;
	spin_lock_bh(&rxfrm_dst_live_spin);
	list_add(&d->live, &rxfrm_dst_live);
	spin_unlock_bh(&rxfrm_dst_live_spin);
	return d;
}

void rxfrm_dst_live_del(struct rxfrm_dst *d)
{
	spin_lock_bh(&rxfrm_dst_live_spin);
	list_del(&d->live);
	spin_unlock_bh(&rxfrm_dst_live_spin);
}

void rxfrm_dst_live_lock(void) { spin_lock_bh(&rxfrm_dst_live_spin); }
void rxfrm_dst_live_unlock(void) { spin_unlock_bh(&rxfrm_dst_live_spin); }

/* The live entry after `d` (the first for NULL); NULL at the end. */
struct rxfrm_dst *rxfrm_dst_live_next(struct rxfrm_dst *d)
{
	struct list_head *n = d ? d->live.next : rxfrm_dst_live.next;

	return n == &rxfrm_dst_live ? NULL : list_entry(n, struct rxfrm_dst, live);
}

/* The IPv6 device of a head entry (its rt6_info tail). */
void rxfrm_rt6_set_idev(struct dst_entry *dst, struct net_device *dev)
{
	((struct rt6_info *)dst)->rt6i_idev = in6_dev_get(dev);
}

void rxfrm_rt6_put_idev(struct dst_entry *dst)
{
	struct rt6_info *rt6 = (struct rt6_info *)dst;

	if (rt6->rt6i_idev)
		in6_dev_put(rt6->rt6i_idev);
	rt6->rt6i_idev = NULL;
}

struct net_device *rxfrm_rt6_idev_dev(const struct dst_entry *dst)
{
	const struct rt6_info *rt6 = (const struct rt6_info *)dst;

	return rt6->rt6i_idev ? rt6->rt6i_idev->dev : NULL;
}

void rxfrm_rt6_idev_to_blackhole(struct dst_entry *dst)
{
	struct rt6_info *rt6 = (struct rt6_info *)dst;
	struct inet6_dev *old = rt6->rt6i_idev;

	rt6->rt6i_idev = in6_dev_get(blackhole_netdev);
	if (old)
		in6_dev_put(old);
}


/* ---- sockets' cached routes --------------------------------------------- */

bool rxfrm_sk_is_full(const struct sock *sk) { return sk && sk_fullsock(sk); }
bool rxfrm_sk_is_full_tcp(const struct sock *sk)
{
	return sk && sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP;
}
struct dst_entry *rxfrm_sk_dst_cache(const struct sock *sk)
{
	return sk ? rcu_access_pointer(sk->sk_dst_cache) : NULL;
}
void rxfrm_sk_dst_set(struct sock *sk, struct dst_entry *dst) { sk_dst_set(sk, dst); }
