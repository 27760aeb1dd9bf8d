/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the datapath's `static inline` kernel functions
 * (rust/net_helpers.c), and the two C structs the datapath shares with the
 * kernel: a bundle's dst entry and the verified-decapsulation mark.
 */
#ifndef RXFRM_NET_H
#define RXFRM_NET_H

#include <linux/types.h>
#include <net/dst.h>

struct aead_request;
struct crypto_aead;
struct net;
struct nf_hook_ops;
struct scatterlist;
struct seq_file;
struct sk_buff;
struct sock;

/*
 * One entry of an output bundle: a transform, then `next` (another
 * rxfrm_dst or the route). `dst` must stay first: the kernel frees the
 * entry through its dst_ops' kmem cache.
 */
/* Room after `dst` for the rest of an rtable or rt6_info: a TCP socket
 * caches a bundle's head as its route (see rxfrm_sk_cache_bundle), and
 * IPv4/IPv6 code reads a socket's route as its own type, as it does
 * xfrm_dst's union. Zeroed, except rt6i_idev for IPv6. */
#define RXFRM_ROUTE_TAIL 160

struct rxfrm_dst {
	struct dst_entry dst;
	u8 route_tail[RXFRM_ROUTE_TAIL];
	/* Held reference: the next transform, or the route. */
	struct dst_entry *next;
	/* Rust-owned reference on the SA (datapath::sa), released on destroy. */
	const void *sa;
	/* Per-namespace generation the bundle was built at. */
	u32 genid;
	/* Address family of the packets this entry emits. */
	u16 family;
	/* Bytes the transform adds in front and behind (PMTU). */
	u16 overhead;
	/* Tunnel (not transport) encapsulation: the template decides, so an
	 * SA of mode "any" serves both, as in KAME. */
	u8 tunnel;
	/* dst_check() cookie of `next` when it is an IPv6 route. */
	u32 next_cookie;
	/* A socket's head entry: no transform of its own, pins the module. */
	u8 head;
	/* On the list of live entries (their devices are swapped for the
	 * blackhole device when unregistered, as Linux does for xfrm_dst). */
	struct list_head live;
};

/* Rust callbacks (datapath::bundle). */
int rxfrm_dst_output(struct net *net, struct sock *sk, struct sk_buff *skb);
void rxfrm_dst_release_sa(const void *sa);
u32 rxfrm_net_genid(struct net *net);

/* Bundle entries. */
int rxfrm_dst_init(void);
void rxfrm_dst_exit(void);
struct rxfrm_dst *rxfrm_dst_alloc(struct dst_entry *next, u16 family);
bool rxfrm_is_rxfrm_dst(const struct dst_entry *dst);
struct rxfrm_dst *rxfrm_skb_rxfrm_dst(const struct sk_buff *skb);
struct dst_entry *rxfrm_dst_check(struct dst_entry *dst);
void rxfrm_dst_hold(struct dst_entry *dst);
u32 rxfrm_dst_mtu(const struct dst_entry *dst);
struct net_device *rxfrm_dst_dev(const struct dst_entry *dst);
bool rxfrm_dst_noxfrm(const struct dst_entry *dst);
bool rxfrm_skb_from_loopback(const struct sk_buff *skb);
bool rxfrm_skb_from_dgram_socket(const struct sk_buff *skb);
void rxfrm_sk_cache_bundle(struct sk_buff *skb, struct dst_entry *route, struct dst_entry *bundle);

/* skb fields and the inline sk_buff API. */
struct dst_entry *rxfrm_skb_dst(const struct sk_buff *skb);
void rxfrm_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst);
void rxfrm_skb_dst_drop(struct sk_buff *skb);
unsigned int rxfrm_skb_len(const struct sk_buff *skb);
unsigned char *rxfrm_skb_data(const struct sk_buff *skb);
unsigned char *rxfrm_skb_network_header(const struct sk_buff *skb);
int rxfrm_skb_network_offset(const struct sk_buff *skb);
void rxfrm_skb_set_network_header(struct sk_buff *skb, int offset);
void rxfrm_skb_set_transport_header(struct sk_buff *skb, int offset);
unsigned int rxfrm_skb_headroom(const struct sk_buff *skb);
unsigned int rxfrm_skb_tailroom(const struct sk_buff *skb);
int rxfrm_skb_make_private(struct sk_buff *skb, unsigned int head, unsigned int tail);
void *rxfrm_skb_push(struct sk_buff *skb, unsigned int len);
void *rxfrm_skb_pull(struct sk_buff *skb, unsigned int len);
void *rxfrm_skb_put(struct sk_buff *skb, unsigned int len);
void rxfrm_skb_trim(struct sk_buff *skb, unsigned int len);
bool rxfrm_skb_is_gso(const struct sk_buff *skb);
struct sk_buff *rxfrm_skb_gso_segment(struct sk_buff *skb);
struct sk_buff *rxfrm_skb_next(const struct sk_buff *skb);
void rxfrm_skb_mark_not_on_list(struct sk_buff *skb);
int rxfrm_skb_checksum_help(struct sk_buff *skb);
void rxfrm_skb_csum_none(struct sk_buff *skb);
void rxfrm_skb_set_protocol(struct sk_buff *skb, u16 ethertype);
bool rxfrm_skb_ignore_df(const struct sk_buff *skb);
void rxfrm_skb_set_ignore_df(struct sk_buff *skb);
struct net_device *rxfrm_skb_dev(const struct sk_buff *skb);
struct net *rxfrm_skb_net(const struct sk_buff *skb);
struct sock *rxfrm_skb_sk(const struct sk_buff *skb);
void rxfrm_skb_reset_for_reinject(struct sk_buff *skb);
u64 rxfrm_skb_mark_get(const struct sk_buff *skb);
void rxfrm_skb_mark_set(struct sk_buff *skb, u64 mark);
void rxfrm_skb_consume_list(struct sk_buff *skb);
void rxfrm_skb_clear_ipcb(struct sk_buff *skb);
void rxfrm_ip_send_check(struct sk_buff *skb);
void rxfrm_ip_select_ident(struct net *net, struct sk_buff *skb);
int rxfrm_ip4_hoplimit(const struct dst_entry *dst);
int rxfrm_ip6_hoplimit(const struct dst_entry *dst);
void rxfrm_ip6_set_nhoff(struct sk_buff *skb, u16 nhoff);

/* Routing and delivery. */
struct dst_entry *rxfrm_route4(struct net *net, __be32 daddr, __be32 saddr);
struct dst_entry *rxfrm_route6(struct net *net, const struct in6_addr *daddr,
			       const struct in6_addr *saddr);
int rxfrm_dst_output_skb(struct net *net, struct sock *sk, struct sk_buff *skb);
int rxfrm_netif_rx(struct sk_buff *skb);
void rxfrm_icmp_frag_needed(struct sk_buff *skb, u32 mtu);
void rxfrm_icmp6_too_big(struct sk_buff *skb, u32 mtu);

/* Netfilter hooks and protocol handlers. */
void rxfrm_nf_fill(struct nf_hook_ops *ops, u8 pf, unsigned int hooknum, int priority,
		   unsigned int (*fn)(void *, struct sk_buff *, const void *));
struct net *rxfrm_nf_state_net(const void *state);
unsigned int rxfrm_nf_state_hook(const void *state);
int rxfrm_proto_add(int (*v4)(struct sk_buff *), int (*v6)(struct sk_buff *), u8 proto);
void rxfrm_proto_del(u8 proto);

/* Per-socket policies: a key manager whose compile_policy reads
 * IP_IPSEC_POLICY / IPV6_IPSEC_POLICY (the policy then lives in
 * sk->sk_policy, which the kernel's xfrm core enforces for block/allow). */
int rxfrm_sockpolicy_parse(const u8 *data, int len, int *block);
void rxfrm_km_register(void);
void rxfrm_km_unregister(void);
/* -1: none; 0: allow (bypass); 1: block. Under RCU. */
int rxfrm_sk_policy(const struct sock *sk, bool out);
int rxfrm_udp_sk_policy_in(struct net *net, const struct sk_buff *skb, bool v6,
			   const u8 *saddr, u16 sport, const u8 *daddr, u16 dport);

/* AEAD through the crypto API. */
struct crypto_aead *rxfrm_aead_alloc(const char *name);
void rxfrm_aead_free(struct crypto_aead *tfm);
bool rxfrm_aead_is_err(const struct crypto_aead *tfm);
long rxfrm_aead_err(const struct crypto_aead *tfm);
unsigned int rxfrm_aead_ivsize(struct crypto_aead *tfm);
unsigned int rxfrm_aead_reqsize(struct crypto_aead *tfm);
unsigned int rxfrm_aead_authsize(struct crypto_aead *tfm);
/* One request over one linear buffer; the layout is described in net_helpers.c. */
struct rxfrm_aead_job;
struct rxfrm_aead_job *rxfrm_aead_job_alloc(struct crypto_aead *tfm);
void rxfrm_aead_job_free(struct rxfrm_aead_job *job);
int rxfrm_aead_run(struct rxfrm_aead_job *job, struct crypto_aead *tfm, bool encrypt,
		   u8 *buf, unsigned int assoclen, unsigned int cryptlen,
		   const u8 *iv_seed, void (*done)(void *, int), void *data);

/* /proc/net */
int rxfrm_proc_create(struct net *net, const char *name,
		      int (*show)(struct seq_file *, void *));
void rxfrm_proc_remove(struct net *net, const char *name);
void rxfrm_seq_puts(struct seq_file *m, const char *s, size_t len);
struct net *rxfrm_seq_net(struct seq_file *m);

/* Device events: bundles hold device references, dropped on unregister. */
void rxfrm_netdev_event(struct net *net, unsigned long event);
int rxfrm_netdev_notifier_register(void);
void rxfrm_netdev_notifier_unregister(void);

/* Local addresses: SAs get their crypto transform only once one of their
 * endpoints is an address of the namespace; address events re-check. */
bool rxfrm_addr_is_local(struct net *net, const u8 *addr, bool v6);
void rxfrm_addr_event(struct net *net);
int rxfrm_addr_notifiers_register(void);
void rxfrm_addr_notifiers_unregister(void);

/* Deferred work and RCU. */
void rxfrm_rcu_read_lock(void);
void rxfrm_rcu_read_unlock(void);
void rxfrm_kick_delayed(struct delayed_work *dw);
void rxfrm_spin_lock_init(spinlock_t *l);
void rxfrm_spin_lock_bh(spinlock_t *l);
void rxfrm_spin_unlock_bh(spinlock_t *l);
bool rxfrm_in_task(void);
unsigned long rxfrm_jiffies(void);

#endif
