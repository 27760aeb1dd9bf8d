// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's xfrm core as rxfrm meets it: the key manager rxfrm registers
 * (each callback forwards to rust/sys/sockpol.rs, which decides), the
 * construction of the socket policy it compiled, and reads of a socket's
 * policy and of the UDP socket a packet would reach.
 */
#include <net/sock.h>
#include <net/udp.h>
#include <net/xfrm.h>

#include "../../include/rxfrm_helpers.h"

static struct xfrm_policy *rxfrm_km_compile(struct sock *sk, int opt, u8 *data, int len,
					    int *dir)
{
	return rxfrm_km_compile_policy(sk, sk->sk_family, opt, data, len, dir);
}

static int rxfrm_km_acquire_cb(struct xfrm_state *x, struct xfrm_tmpl *t, struct xfrm_policy *xp)
{
	return rxfrm_km_acquire(x, t, xp);
}

static int rxfrm_km_notify_cb(struct xfrm_state *x, const struct km_event *c)
{
	return rxfrm_km_notify(x, c);
}

static int rxfrm_km_notify_policy_cb(struct xfrm_policy *xp, int dir, const struct km_event *c)
{
	return rxfrm_km_notify_policy(xp, dir, c);
}

static int rxfrm_km_new_mapping_cb(struct xfrm_state *x, xfrm_address_t *ipaddr, __be16 sport)
{
	return rxfrm_km_new_mapping(x, ipaddr, sport);
}

static int rxfrm_km_report_cb(struct net *net, u8 proto, struct xfrm_selector *sel,
			      xfrm_address_t *addr)
{
	return rxfrm_km_report(net, proto, sel, addr);
}

static int rxfrm_km_migrate_cb(const struct xfrm_selector *sel, u8 dir, u8 type,
			       const struct xfrm_migrate *m, int num_bundles,
			       const struct xfrm_kmaddress *k, struct net *net,
			       const struct xfrm_encap_tmpl *encap)
{
	return rxfrm_km_migrate();
}

static bool rxfrm_km_is_alive_cb(const struct km_event *c)
{
	return rxfrm_km_is_alive(c);
}

static struct xfrm_mgr rxfrm_km = {
	.notify = rxfrm_km_notify_cb,
	.acquire = rxfrm_km_acquire_cb,
	.compile_policy = rxfrm_km_compile,
	.new_mapping = rxfrm_km_new_mapping_cb,
	.notify_policy = rxfrm_km_notify_policy_cb,
	.report = rxfrm_km_report_cb,
	.migrate = rxfrm_km_migrate_cb,
	.is_alive = rxfrm_km_is_alive_cb,
};

void rxfrm_km_register(void) { xfrm_register_km(&rxfrm_km); }
void rxfrm_km_unregister(void) { xfrm_unregister_km(&rxfrm_km); }

/* A socket policy without templates: allow, or block. */
struct xfrm_policy *rxfrm_xfrm_policy_new(struct sock *sk, bool block)
{
	struct xfrm_policy *xp = xfrm_policy_alloc(sock_net(sk), GFP_ATOMIC);

	if (!xp)
		return NULL;
	xp->action = block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
	xp->lft.soft_byte_limit = XFRM_INF;
	xp->lft.hard_byte_limit = XFRM_INF;
	xp->lft.soft_packet_limit = XFRM_INF;
	xp->lft.hard_packet_limit = XFRM_INF;
	xp->family = sk->sk_family;
	xp->xfrm_nr = 0;
	return xp;
}

/* The action of `sk`'s policy in that direction; -1 without one. Under RCU. */
int rxfrm_sk_policy_action(const struct sock *sk, bool out)
{
	struct xfrm_policy *pol;

	if (!sk || !sk_fullsock(sk))
		return -1;
	pol = rcu_dereference(sk->sk_policy[out ? XFRM_POLICY_OUT : XFRM_POLICY_IN]);
	return pol ? pol->action : -1;
}

/* The UDP socket UDP delivery would pick for these addresses. Under RCU. */
struct sock *rxfrm_udp_lookup(struct net *net, const struct sk_buff *skb, bool v6,
			      const u8 *saddr, u16 sport, const u8 *daddr, u16 dport)
{
	int dif = skb->dev ? skb->dev->ifindex : 0;
	struct sock *sk;

	if (v6)
		sk = __udp6_lib_lookup(net, (const struct in6_addr *)saddr, htons(sport),
				       (const struct in6_addr *)daddr, htons(dport), dif, 0,
				       net->ipv4.udp_table, NULL);
	else
		sk = __udp4_lib_lookup(net, *(const __be32 *)saddr, htons(sport),
				       *(const __be32 *)daddr, htons(dport), dif, 0,
				       net->ipv4.udp_table, NULL);
	return IS_ERR_OR_NULL(sk) ? NULL : sk;
}
