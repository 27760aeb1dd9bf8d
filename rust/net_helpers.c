// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line forms of the `static inline` networking and crypto API the
 * datapath needs (declared in include/rxfrm_net.h), plus the dst_ops table
 * of bundle entries, whose callbacks only delegate to the next entry or to
 * Rust. No IPsec logic lives here.
 */
#include <crypto/aead.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/proc_fs.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/skbuff.h>
#include <net/dst.h>
#include <net/gso.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/route.h>
#include <net/addrconf.h>
#include <net/udp.h>
#include <net/xfrm.h>

#include "../include/rxfrm_net.h"

/* ---- bundle entries ---------------------------------------------------- */

static struct kmem_cache *rxfrm_dst_cache;
/* Every live entry: sockets and packets may hold entries after their
 * bundle left the policy caches, and each holds its device. */
static LIST_HEAD(rxfrm_dst_live);
static DEFINE_SPINLOCK(rxfrm_dst_live_lock);

static struct dst_entry *rxfrm_ops_check(struct dst_entry *dst, u32 cookie)
{
	return rxfrm_dst_check(dst);
}

static unsigned int rxfrm_ops_mtu(const struct dst_entry *dst)
{
	return rxfrm_dst_mtu(dst);
}

static unsigned int rxfrm_ops_advmss(const struct dst_entry *dst)
{
	const struct rxfrm_dst *d = container_of(dst, struct rxfrm_dst, dst);

	return dst_metric_advmss(d->next);
}

static void rxfrm_ops_destroy(struct dst_entry *dst)
{
	struct rxfrm_dst *d = container_of(dst, struct rxfrm_dst, dst);
	struct rt6_info *rt6 = (struct rt6_info *)dst;

	spin_lock_bh(&rxfrm_dst_live_lock);
	list_del(&d->live);
	spin_unlock_bh(&rxfrm_dst_live_lock);
	dst_release(d->next);
	if (d->sa)
		rxfrm_dst_release_sa(d->sa);
	if (d->head) {
		if (rt6->rt6i_idev)
			in6_dev_put(rt6->rt6i_idev);
		/* Called from an RCU callback: the module's exit waits for it
		 * (rcu_barrier) before its code and kmem cache go. */
		module_put(THIS_MODULE);
	}
}

static struct neighbour *rxfrm_ops_neigh_lookup(const struct dst_entry *dst,
						struct sk_buff *skb, const void *daddr)
{
	const struct rxfrm_dst *d = container_of(dst, struct rxfrm_dst, dst);

	return d->next->ops->neigh_lookup(d->next, skb, daddr);
}

static void rxfrm_ops_update_pmtu(struct dst_entry *dst, struct sock *sk,
				  struct sk_buff *skb, u32 mtu, bool confirm)
{
}

static void rxfrm_ops_redirect(struct dst_entry *dst, struct sock *sk, struct sk_buff *skb)
{
}

static void rxfrm_ops_link_failure(struct sk_buff *skb)
{
}

static struct dst_ops rxfrm_dst_ops = {
	.family = AF_UNSPEC,
	.check = rxfrm_ops_check,
	.mtu = rxfrm_ops_mtu,
	.default_advmss = rxfrm_ops_advmss,
	.cow_metrics = dst_cow_metrics_generic,
	.destroy = rxfrm_ops_destroy,
	.neigh_lookup = rxfrm_ops_neigh_lookup,
	.update_pmtu = rxfrm_ops_update_pmtu,
	.redirect = rxfrm_ops_redirect,
	.link_failure = rxfrm_ops_link_failure,
};

int rxfrm_dst_init(void)
{
	BUILD_BUG_ON(sizeof(struct rtable) - sizeof(struct dst_entry) > RXFRM_ROUTE_TAIL);
	BUILD_BUG_ON(sizeof(struct rt6_info) - sizeof(struct dst_entry) > RXFRM_ROUTE_TAIL);
	BUILD_BUG_ON(offsetof(struct rxfrm_dst, dst) != 0);
	rxfrm_dst_cache = kmem_cache_create("rxfrm_dst", sizeof(struct rxfrm_dst), 0,
					    SLAB_HWCACHE_ALIGN, NULL);
	if (!rxfrm_dst_cache)
		return -ENOMEM;
	rxfrm_dst_ops.kmem_cachep = rxfrm_dst_cache;
	return 0;
}

void rxfrm_dst_exit(void)
{
	/* Entries are freed from RCU callbacks (dst_release). */
	rcu_barrier();
	kmem_cache_destroy(rxfrm_dst_cache);
}

struct rxfrm_dst *rxfrm_dst_alloc(struct dst_entry *next, u16 family)
{
	struct rxfrm_dst *d;

	d = dst_alloc(&rxfrm_dst_ops, next->dev, DST_OBSOLETE_FORCE_CHK, DST_NOCOUNT);
	if (!d)
		return NULL;
	memset(d->route_tail, 0, sizeof(d->route_tail));
	dst_hold(next);
	d->next = next;
	d->head = 0;
	d->sa = NULL;
	d->genid = 0;
	d->family = family;
	d->overhead = 0;
	d->tunnel = 0;
	d->next_cookie = (!rxfrm_is_rxfrm_dst(next) && next->ops->family == AF_INET6) ?
			 rt6_get_cookie((struct rt6_info *)next) : 0;
	d->dst.output = rxfrm_dst_output;
	spin_lock_bh(&rxfrm_dst_live_lock);
	list_add(&d->live, &rxfrm_dst_live);
	spin_unlock_bh(&rxfrm_dst_live_lock);
	return d;
}

/* `dev` is being unregistered: entries still on it (held by sockets or
 * packets) move to the blackhole device, fail their check and drop what
 * they are given, as rt_flush_dev() does for Linux's uncached routes and
 * xfrm bundles. Under RTNL. */
static void rxfrm_dst_flush_dev(struct net_device *dev)
{
	struct rxfrm_dst *d;

	spin_lock_bh(&rxfrm_dst_live_lock);
	list_for_each_entry(d, &rxfrm_dst_live, live) {
		struct rt6_info *rt6 = (struct rt6_info *)&d->dst;

		if (d->dst.dev != dev)
			continue;
		if (d->head && rt6->rt6i_idev && rt6->rt6i_idev->dev == dev) {
			struct inet6_dev *old = rt6->rt6i_idev;

			rt6->rt6i_idev = in6_dev_get(blackhole_netdev);
			in6_dev_put(old);
		}
		dst_dev_put(&d->dst);
	}
	spin_unlock_bh(&rxfrm_dst_live_lock);
}

/* A head entry only passes packets on to the bundle behind it. */
static int rxfrm_head_output(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	struct rxfrm_dst *h = container_of(skb_dst(skb), struct rxfrm_dst, dst);
	struct dst_entry *next = dst_clone(h->next);

	skb_dst_drop(skb);
	skb_dst_set(skb, next);
	return dst_output(net, sk, skb);
}

/*
 * Linux sockets cache the xfrm bundle as their route, so TCP sizes its
 * segments by the bundle's MTU and never needs the outer packet cut up. A
 * TCP socket whose cached route is the one `bundle` was built on gets a
 * head entry in front of `bundle` instead (its MTU and check are the
 * bundle's; a changed SPD/SAD or route fails the check and the socket
 * routes afresh). The head pins the module, as the socket may outlive
 * every rxfrm table. Other sockets keep their routes: UDP and raw code
 * reads more of an rtable than TCP does.
 */
void rxfrm_sk_cache_bundle(struct sk_buff *skb, struct dst_entry *route, struct dst_entry *bundle)
{
	struct rxfrm_dst *b = container_of(bundle, struct rxfrm_dst, dst);
	struct sock *sk = skb->sk;
	struct rxfrm_dst *h;

	if (!sk || !sk_fullsock(sk) || sk->sk_protocol != IPPROTO_TCP ||
	    rcu_access_pointer(sk->sk_dst_cache) != route || !rxfrm_is_rxfrm_dst(bundle))
		return;
	if (!try_module_get(THIS_MODULE))
		return;
	h = rxfrm_dst_alloc(bundle, b->family);
	if (!h) {
		module_put(THIS_MODULE);
		return;
	}
	h->head = 1;
	h->genid = b->genid;
	h->dst.output = rxfrm_head_output;
	if (route->ops->family == AF_INET6)
		((struct rt6_info *)&h->dst)->rt6i_idev = in6_dev_get(route->dev);
	sk_dst_set(sk, &h->dst);
}

bool rxfrm_is_rxfrm_dst(const struct dst_entry *dst)
{
	return dst && dst->ops == &rxfrm_dst_ops;
}

struct rxfrm_dst *rxfrm_skb_rxfrm_dst(const struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);

	return rxfrm_is_rxfrm_dst(dst) ? container_of(dst, struct rxfrm_dst, dst) : NULL;
}

static struct dst_entry *rxfrm_route_check(struct dst_entry *dst, u32 cookie)
{
	return dst->obsolete > 0 ? dst->ops->check(dst, cookie) : dst;
}

struct dst_entry *rxfrm_dst_check(struct dst_entry *dst)
{
	struct rxfrm_dst *d;

	if (!rxfrm_is_rxfrm_dst(dst)) {
		u32 cookie = dst->ops->family == AF_INET6 ?
			     rt6_get_cookie((struct rt6_info *)dst) : 0;

		return rxfrm_route_check(dst, cookie);
	}
	d = container_of(dst, struct rxfrm_dst, dst);
	/* Its device went away (rxfrm_dst_flush_dev). */
	if (READ_ONCE(dst->obsolete) == DST_OBSOLETE_DEAD)
		return NULL;
	if (d->genid != rxfrm_net_genid(dev_net(dst->dev)))
		return NULL;
	if (rxfrm_is_rxfrm_dst(d->next))
		return rxfrm_dst_check(d->next) ? dst : NULL;
	return rxfrm_route_check(d->next, d->next_cookie) ? dst : NULL;
}

void rxfrm_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

u32 rxfrm_dst_mtu(const struct dst_entry *dst)
{
	const struct rxfrm_dst *d;
	u32 mtu;

	if (!rxfrm_is_rxfrm_dst(dst))
		return dst_mtu(dst);
	d = container_of(dst, struct rxfrm_dst, dst);
	mtu = rxfrm_dst_mtu(d->next);
	return mtu > d->overhead ? mtu - d->overhead : 0;
}

/* Linux never transforms what it routes over loopback (DST_NOXFRM, set
 * from the device's noxfrm setting, on for lo) ... */
bool rxfrm_dst_noxfrm(const struct dst_entry *dst)
{
	return (dst->flags & DST_NOXFRM) || (dst->dev && (dst->dev->flags & IFF_LOOPBACK));
}

/* ... nor checks policy on what arrives over it (nopolicy). */
bool rxfrm_skb_from_loopback(const struct sk_buff *skb)
{
	return skb->dev && (skb->dev->flags & IFF_LOOPBACK);
}

struct net_device *rxfrm_dst_dev(const struct dst_entry *dst)
{
	return dst->dev;
}

/* ---- sk_buff ------------------------------------------------------------ */

struct dst_entry *rxfrm_skb_dst(const struct sk_buff *skb) { return skb_dst(skb); }
void rxfrm_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst) { skb_dst_set(skb, dst); }
void rxfrm_skb_dst_drop(struct sk_buff *skb) { skb_dst_drop(skb); }
unsigned int rxfrm_skb_len(const struct sk_buff *skb) { return skb->len; }
unsigned char *rxfrm_skb_data(const struct sk_buff *skb) { return skb->data; }
unsigned char *rxfrm_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}
int rxfrm_skb_network_offset(const struct sk_buff *skb) { return skb_network_offset(skb); }
void rxfrm_skb_set_network_header(struct sk_buff *skb, int offset)
{
	skb_set_network_header(skb, offset);
}
void rxfrm_skb_set_transport_header(struct sk_buff *skb, int offset)
{
	skb_set_transport_header(skb, offset);
}
unsigned int rxfrm_skb_headroom(const struct sk_buff *skb) { return skb_headroom(skb); }
unsigned int rxfrm_skb_tailroom(const struct sk_buff *skb) { return skb_tailroom(skb); }

/* Linear, not shared, with at least `head`/`tail` bytes of room. */
int rxfrm_skb_make_private(struct sk_buff *skb, unsigned int head, unsigned int tail)
{
	int err;

	if (skb_is_nonlinear(skb) && __skb_linearize(skb))
		return -ENOMEM;
	if (skb_cloned(skb) || skb_headroom(skb) < head || skb_tailroom(skb) < tail) {
		unsigned int nh = skb_headroom(skb) < head ? head - skb_headroom(skb) + 32 : 0;
		unsigned int nt = skb_tailroom(skb) < tail ? tail - skb_tailroom(skb) + 32 : 0;

		err = pskb_expand_head(skb, nh, nt, GFP_ATOMIC);
		if (err)
			return err;
	}
	return 0;
}

void *rxfrm_skb_push(struct sk_buff *skb, unsigned int len) { return skb_push(skb, len); }
void *rxfrm_skb_pull(struct sk_buff *skb, unsigned int len) { return skb_pull(skb, len); }
void *rxfrm_skb_put(struct sk_buff *skb, unsigned int len) { return skb_put(skb, len); }
void rxfrm_skb_trim(struct sk_buff *skb, unsigned int len) { skb_trim(skb, len); }
bool rxfrm_skb_is_gso(const struct sk_buff *skb) { return skb_is_gso(skb); }

struct sk_buff *rxfrm_skb_gso_segment(struct sk_buff *skb)
{
	struct sk_buff *segs = skb_gso_segment(skb, 0);

	return IS_ERR(segs) ? NULL : segs;
}

struct sk_buff *rxfrm_skb_next(const struct sk_buff *skb) { return skb->next; }
void rxfrm_skb_mark_not_on_list(struct sk_buff *skb) { skb_mark_not_on_list(skb); }
int rxfrm_skb_checksum_help(struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL ? skb_checksum_help(skb) : 0;
}
void rxfrm_skb_csum_none(struct sk_buff *skb) { skb->ip_summed = CHECKSUM_NONE; }
void rxfrm_skb_set_protocol(struct sk_buff *skb, u16 ethertype) { skb->protocol = htons(ethertype); }
bool rxfrm_skb_ignore_df(const struct sk_buff *skb) { return skb->ignore_df; }

/* Sent by a local socket other than TCP's (which caches the bundle). */
bool rxfrm_skb_from_dgram_socket(const struct sk_buff *skb)
{
	return skb->sk && sk_fullsock(skb->sk) && skb->sk->sk_protocol != IPPROTO_TCP;
}
void rxfrm_skb_set_ignore_df(struct sk_buff *skb) { skb->ignore_df = 1; }
struct net_device *rxfrm_skb_dev(const struct sk_buff *skb) { return skb->dev; }
struct net *rxfrm_skb_net(const struct sk_buff *skb)
{
	return skb->dev ? dev_net(skb->dev) : (skb_dst(skb) ? dev_net(skb_dst(skb)->dev) : NULL);
}
struct sock *rxfrm_skb_sk(const struct sk_buff *skb) { return skb->sk; }

/* As xfrm_input does before handing a decapsulated packet back to the stack. */
void rxfrm_skb_reset_for_reinject(struct sk_buff *skb)
{
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	secpath_reset(skb);
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	skb->mac_len = 0;
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_NONE;
}

/* The verified-decapsulation mark lives past the IPv4/IPv6 control blocks
 * (24 bytes each), which are all the stack writes before local delivery. */
#define RXFRM_MARK_OFF (sizeof_field(struct sk_buff, cb) - sizeof(u64))
static_assert(RXFRM_MARK_OFF >= sizeof(struct inet_skb_parm) + 16);
static_assert(RXFRM_MARK_OFF >= sizeof(struct inet6_skb_parm) + 16);

u64 rxfrm_skb_mark_get(const struct sk_buff *skb)
{
	u64 v;

	memcpy(&v, skb->cb + RXFRM_MARK_OFF, sizeof(v));
	return v;
}

void rxfrm_skb_mark_set(struct sk_buff *skb, u64 mark)
{
	memcpy(skb->cb + RXFRM_MARK_OFF, &mark, sizeof(mark));
}

void rxfrm_skb_consume_list(struct sk_buff *skb) { kfree_skb_list(skb); }
void rxfrm_skb_clear_ipcb(struct sk_buff *skb)
{
	memset(skb->cb, 0, max(sizeof(struct inet_skb_parm), sizeof(struct inet6_skb_parm)));
}
void rxfrm_ip_send_check(struct sk_buff *skb) { ip_send_check(ip_hdr(skb)); }
void rxfrm_ip_select_ident(struct net *net, struct sk_buff *skb)
{
	ip_select_ident(net, skb, NULL);
}
int rxfrm_ip4_hoplimit(const struct dst_entry *dst) { return ip4_dst_hoplimit(dst); }
int rxfrm_ip6_hoplimit(const struct dst_entry *dst) { return ip6_dst_hoplimit((struct dst_entry *)dst); }
void rxfrm_ip6_set_nhoff(struct sk_buff *skb, u16 nhoff) { IP6CB(skb)->nhoff = nhoff; }

/* ---- routing and delivery ---------------------------------------------- */

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

int rxfrm_netif_rx(struct sk_buff *skb) { return netif_rx(skb); }
void rxfrm_icmp_frag_needed(struct sk_buff *skb, u32 mtu)
{
	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
}
void rxfrm_icmp6_too_big(struct sk_buff *skb, u32 mtu)
{
	/* Locally generated packets have no device yet; icmp6_send needs one. */
	if (!skb->dev)
		skb->dev = skb_dst(skb)->dev;
	icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
}

/* ---- netfilter and protocol handlers ------------------------------------ */

void rxfrm_nf_fill(struct nf_hook_ops *ops, u8 pf, unsigned int hooknum, int priority,
		   unsigned int (*fn)(void *, struct sk_buff *, const void *))
{
	ops->hook = (nf_hookfn *)fn;
	ops->pf = pf;
	ops->hooknum = hooknum;
	ops->priority = priority;
}

struct net *rxfrm_nf_state_net(const void *state)
{
	return ((const struct nf_hook_state *)state)->net;
}

unsigned int rxfrm_nf_state_hook(const void *state)
{
	return ((const struct nf_hook_state *)state)->hook;
}

static int rxfrm_err4(struct sk_buff *skb, u32 info) { return 0; }
static int rxfrm_err6(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type, u8 code,
		      int offset, __be32 info)
{
	return 0;
}

/* One slot per protocol rxfrm handles: ESP, AH, IPcomp. */
static struct net_protocol rxfrm_proto4[3];
static struct inet6_protocol rxfrm_proto6[3];

static int rxfrm_proto_slot(u8 proto)
{
	switch (proto) {
	case IPPROTO_ESP: return 0;
	case IPPROTO_AH: return 1;
	case IPPROTO_COMP: return 2;
	default: return -1;
	}
}

int rxfrm_proto_add(int (*v4)(struct sk_buff *), int (*v6)(struct sk_buff *), u8 proto)
{
	int i = rxfrm_proto_slot(proto);
	int err;

	if (i < 0)
		return -EINVAL;
	rxfrm_proto4[i].handler = v4;
	rxfrm_proto4[i].err_handler = rxfrm_err4;
	rxfrm_proto4[i].no_policy = 1;
	rxfrm_proto6[i].handler = v6;
	rxfrm_proto6[i].err_handler = rxfrm_err6;
	rxfrm_proto6[i].flags = INET6_PROTO_NOPOLICY;
	err = inet_add_protocol(&rxfrm_proto4[i], proto);
	if (err)
		return -EBUSY;
	err = inet6_add_protocol(&rxfrm_proto6[i], proto);
	if (err) {
		inet_del_protocol(&rxfrm_proto4[i], proto);
		return -EBUSY;
	}
	return 0;
}

void rxfrm_proto_del(u8 proto)
{
	int i = rxfrm_proto_slot(proto);

	if (i < 0)
		return;
	inet6_del_protocol(&rxfrm_proto6[i], proto);
	inet_del_protocol(&rxfrm_proto4[i], proto);
	synchronize_net();
}

/* ---- per-socket policies ---------------------------------------------- */

static struct xfrm_policy *rxfrm_km_compile(struct sock *sk, int opt, u8 *data, int len,
					    int *dir)
{
	struct xfrm_policy *xp;
	int block, d;

	if (!((sk->sk_family == AF_INET && opt == IP_IPSEC_POLICY) ||
	      (sk->sk_family == AF_INET6 && opt == IPV6_IPSEC_POLICY))) {
		*dir = -EOPNOTSUPP;
		return NULL;
	}
	d = rxfrm_sockpolicy_parse(data, len, &block);
	if (d < 0) {
		*dir = d;
		return NULL;
	}
	xp = xfrm_policy_alloc(sock_net(sk), GFP_ATOMIC);
	if (!xp) {
		*dir = -ENOBUFS;
		return NULL;
	}
	xp->action = block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
	xp->lft.soft_byte_limit = XFRM_INF;
	xp->lft.hard_byte_limit = XFRM_INF;
	xp->lft.soft_packet_limit = XFRM_INF;
	xp->lft.hard_packet_limit = XFRM_INF;
	xp->family = sk->sk_family;
	xp->xfrm_nr = 0;
	*dir = d;
	return xp;
}

static struct xfrm_mgr rxfrm_km = {
	.compile_policy = rxfrm_km_compile,
};

void rxfrm_km_register(void) { xfrm_register_km(&rxfrm_km); }
void rxfrm_km_unregister(void) { xfrm_unregister_km(&rxfrm_km); }

int rxfrm_sk_policy(const struct sock *sk, bool out)
{
	struct xfrm_policy *pol;

	if (!sk || !sk_fullsock(sk))
		return -1;
	pol = rcu_dereference(sk->sk_policy[out ? XFRM_POLICY_OUT : XFRM_POLICY_IN]);
	if (!pol)
		return -1;
	return pol->action == XFRM_POLICY_BLOCK ? 1 : 0;
}

int rxfrm_udp_sk_policy_in(struct net *net, const struct sk_buff *skb, bool v6,
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
	return IS_ERR_OR_NULL(sk) ? -1 : rxfrm_sk_policy(sk, false);
}

/* ---- AEAD --------------------------------------------------------------- */

struct crypto_aead *rxfrm_aead_alloc(const char *name) { return crypto_alloc_aead(name, 0, 0); }
void rxfrm_aead_free(struct crypto_aead *tfm) { crypto_free_aead(tfm); }
bool rxfrm_aead_is_err(const struct crypto_aead *tfm) { return IS_ERR_OR_NULL(tfm); }
long rxfrm_aead_err(const struct crypto_aead *tfm) { return tfm ? PTR_ERR(tfm) : -ENOMEM; }
unsigned int rxfrm_aead_ivsize(struct crypto_aead *tfm) { return crypto_aead_ivsize(tfm); }
unsigned int rxfrm_aead_reqsize(struct crypto_aead *tfm) { return crypto_aead_reqsize(tfm); }
unsigned int rxfrm_aead_authsize(struct crypto_aead *tfm) { return crypto_aead_authsize(tfm); }

/*
 * A job: the caller's completion, the IV, the scatterlist and the request
 * (which must come last: its context follows it).
 */
struct rxfrm_aead_job {
	void (*done)(void *, int);
	void *data;
	struct scatterlist sg;
	u8 iv[32];
	struct aead_request req CRYPTO_MINALIGN_ATTR;
};

struct rxfrm_aead_job *rxfrm_aead_job_alloc(struct crypto_aead *tfm)
{
	return kmalloc(sizeof(struct rxfrm_aead_job) + crypto_aead_reqsize(tfm), GFP_ATOMIC);
}

void rxfrm_aead_job_free(struct rxfrm_aead_job *job)
{
	kfree_sensitive(job);
}

static void rxfrm_aead_complete(void *data, int err)
{
	struct rxfrm_aead_job *job = data;

	/* Only a backlogged request reports -EINPROGRESS; rxfrm never backlogs. */
	if (err == -EINPROGRESS)
		return;
	job->done(job->data, err);
	kfree_sensitive(job);
}

/*
 * `buf` holds assoclen bytes of associated data (the ESP header), then
 * cryptlen bytes (IV, payload; on decryption the ICV too), then on
 * encryption room for the ICV. The IV generator (seqiv/echainiv) derives the
 * IV from `iv_seed` (the 64-bit sequence number) as Linux's esp does.
 */
int rxfrm_aead_run(struct rxfrm_aead_job *job, struct crypto_aead *tfm, bool encrypt,
		   u8 *buf, unsigned int assoclen, unsigned int cryptlen,
		   const u8 *iv_seed, void (*done)(void *, int), void *data)
{
	unsigned int ivsize = crypto_aead_ivsize(tfm);
	unsigned int total = assoclen + cryptlen + (encrypt ? crypto_aead_authsize(tfm) : 0);

	if (ivsize > sizeof(job->iv))
		return -EINVAL;
	job->done = done;
	job->data = data;
	memset(job->iv, 0, ivsize);
	if (ivsize)
		memcpy(job->iv + ivsize - min(ivsize, 8u), iv_seed + 8 - min(ivsize, 8u),
		       min(ivsize, 8u));
	sg_init_one(&job->sg, buf, total);
	aead_request_set_tfm(&job->req, tfm);
	aead_request_set_callback(&job->req, 0, rxfrm_aead_complete, job);
	aead_request_set_crypt(&job->req, &job->sg, &job->sg, cryptlen, job->iv);
	aead_request_set_ad(&job->req, assoclen);
	return encrypt ? crypto_aead_encrypt(&job->req) : crypto_aead_decrypt(&job->req);
}

/* ---- /proc/net ---------------------------------------------------------- */

int rxfrm_proc_create(struct net *net, const char *name,
		      int (*show)(struct seq_file *, void *))
{
	return proc_create_net_single(name, 0444, net->proc_net, show, NULL) ? 0 : -ENOMEM;
}

void rxfrm_proc_remove(struct net *net, const char *name)
{
	remove_proc_entry(name, net->proc_net);
}

void rxfrm_seq_puts(struct seq_file *m, const char *s, size_t len) { seq_write(m, s, len); }
struct net *rxfrm_seq_net(struct seq_file *m) { return seq_file_single_net(m); }

/* ---- device events ------------------------------------------------------ */

static int rxfrm_netdev_cb(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_UNREGISTER || event == NETDEV_DOWN)
		rxfrm_netdev_event(dev_net(dev), event);
	if (event == NETDEV_UNREGISTER)
		rxfrm_dst_flush_dev(dev);
	return NOTIFY_DONE;
}

static struct notifier_block rxfrm_netdev_nb = {
	.notifier_call = rxfrm_netdev_cb,
};

int rxfrm_netdev_notifier_register(void) { return register_netdevice_notifier(&rxfrm_netdev_nb); }
void rxfrm_netdev_notifier_unregister(void) { unregister_netdevice_notifier(&rxfrm_netdev_nb); }

/* ---- local addresses ---------------------------------------------------- */

bool rxfrm_addr_is_local(struct net *net, const u8 *addr, bool v6)
{
	if (v6)
		return ipv6_chk_addr(net, (const struct in6_addr *)addr, NULL, 0);
	return inet_addr_type(net, *(const __be32 *)addr) == RTN_LOCAL;
}

static int rxfrm_inetaddr_cb(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct in_ifaddr *ifa = ptr;

	if (event == NETDEV_UP)
		rxfrm_addr_event(dev_net(ifa->ifa_dev->dev));
	return NOTIFY_DONE;
}

static int rxfrm_inet6addr_cb(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct inet6_ifaddr *ifa = ptr;

	if (event == NETDEV_UP)
		rxfrm_addr_event(dev_net(ifa->idev->dev));
	return NOTIFY_DONE;
}

static struct notifier_block rxfrm_inetaddr_nb = { .notifier_call = rxfrm_inetaddr_cb };
static struct notifier_block rxfrm_inet6addr_nb = { .notifier_call = rxfrm_inet6addr_cb };

int rxfrm_addr_notifiers_register(void)
{
	int err = register_inetaddr_notifier(&rxfrm_inetaddr_nb);

	if (err)
		return err;
	err = register_inet6addr_notifier(&rxfrm_inet6addr_nb);
	if (err)
		unregister_inetaddr_notifier(&rxfrm_inetaddr_nb);
	return err;
}

void rxfrm_addr_notifiers_unregister(void)
{
	unregister_inet6addr_notifier(&rxfrm_inet6addr_nb);
	unregister_inetaddr_notifier(&rxfrm_inetaddr_nb);
}

/* ---- deferral and locking ----------------------------------------------- */

void rxfrm_rcu_read_lock(void) { rcu_read_lock(); }
void rxfrm_rcu_read_unlock(void) { rcu_read_unlock(); }
void rxfrm_kick_delayed(struct delayed_work *dw) { mod_delayed_work(system_wq, dw, 0); }
void rxfrm_spin_lock_init(spinlock_t *l) { spin_lock_init(l); }
void rxfrm_spin_lock_bh(spinlock_t *l) { spin_lock_bh(l); }
void rxfrm_spin_unlock_bh(spinlock_t *l) { spin_unlock_bh(l); }
bool rxfrm_in_task(void) { return in_task(); }
unsigned long rxfrm_jiffies(void) { return jiffies; }
