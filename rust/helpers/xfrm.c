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

/* ---- sec_path: the record of what decapsulated a packet ----------------- */

/*
 * A "shadow" state: an xfrm_state never hashed into the kernel's tables,
 * which only names one rxfrm SA (applied in one mode) in a packet's
 * sec_path. It is born dead (so that its last put frees it quietly) and
 * always in transport mode, so that the kernel's own transport-layer
 * policy check (with no native policy) accepts what carries it.
 */
struct xfrm_state *rxfrm_shadow_new(struct net *net, u8 proto, __be32 spi, const u8 *daddr,
				    const u8 *saddr, bool v6, u32 reqid)
{
	struct xfrm_state *x = xfrm_state_alloc(net);

	if (!x)
		return NULL;
	x->km.state = XFRM_STATE_DEAD;
	x->id.proto = proto;
	x->id.spi = spi;
	memcpy(&x->id.daddr, daddr, v6 ? 16 : 4);
	memcpy(&x->props.saddr, saddr, v6 ? 16 : 4);
	x->props.family = v6 ? AF_INET6 : AF_INET;
	x->props.reqid = reqid;
	x->props.mode = XFRM_MODE_TRANSPORT;
	return x;
}

void rxfrm_shadow_put(struct xfrm_state *x) { xfrm_state_put(x); }

/* Appends `x` (a new reference) to the packet's sec_path: -ENOMEM, or
 * -E2BIG when it already holds XFRM_MAX_DEPTH entries. */
int rxfrm_secpath_push(struct sk_buff *skb, struct xfrm_state *x)
{
	struct sec_path *sp = secpath_set(skb);

	if (!sp)
		return -ENOMEM;
	if (sp->len >= XFRM_MAX_DEPTH)
		return -E2BIG;
	xfrm_state_hold(x);
	sp->xvec[sp->len++] = x;
	return 0;
}

int rxfrm_secpath_len(const struct sk_buff *skb)
{
	const struct sec_path *sp = skb_sec_path(skb);

	return sp ? sp->len : 0;
}

const struct xfrm_state *rxfrm_secpath_at(const struct sk_buff *skb, int i)
{
	const struct sec_path *sp = skb_sec_path(skb);

	return sp && i >= 0 && i < sp->len ? sp->xvec[i] : NULL;
}

/* What names the state in the kernel's tables (for finding rxfrm's SA). */
void rxfrm_xfrm_state_id(const struct xfrm_state *x, u8 *proto, __be32 *spi, u8 *daddr,
			 u16 *family)
{
	*proto = x->id.proto;
	*spi = x->id.spi;
	memcpy(daddr, &x->id.daddr, 16);
	*family = x->props.family;
}
