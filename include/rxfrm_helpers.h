/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C helpers in rust/helpers/: out-of-line forms of `static inline`
 * kernel functions and of struct-tail accesses, which Rust can not call or
 * reach directly. Each one forwards; the decisions are in rust/sys/.
 */
#ifndef RXFRM_HELPERS_H
#define RXFRM_HELPERS_H

#include <linux/types.h>
#include <net/dst.h>
#include <net/sock.h>

#include "rxfrm_types.h"

struct aead_request;
struct crypto_aead;
struct delayed_work;
struct dst_ops;
struct in6_addr;
struct kmem_cache;
struct msghdr;
struct net;
struct net_device;
struct seq_file;
struct sk_buff;
struct sk_buff_head;
struct sock;
struct work_struct;
struct xfrm_policy;
struct xfrm_state;

/* ---- core.c: namespaces, PF_KEY sockets, deferred work, RCU, /proc ---- */
void *rxfrm_net_generic(const struct net *net, unsigned int id);
struct net *rxfrm_sock_net(const struct sock *sk);
bool rxfrm_net_admin_capable(const struct net *net);
struct net *rxfrm_maybe_get_net(struct net *net);
void rxfrm_get_net(struct net *net);
void rxfrm_put_net(struct net *net);
bool rxfrm_module_get(void);
void rxfrm_module_put(void);
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
void rxfrm_init_delayed_work(struct delayed_work *dw, void (*fn)(struct work_struct *));
bool rxfrm_schedule_delayed_ms(struct delayed_work *dw, unsigned int ms);
bool rxfrm_kick_delayed(struct delayed_work *dw);
void rxfrm_rcu_read_lock(void);
void rxfrm_rcu_read_unlock(void);
void rxfrm_spin_lock_init(spinlock_t *l);
void rxfrm_spin_lock_bh(spinlock_t *l);
void rxfrm_spin_unlock_bh(spinlock_t *l);
bool rxfrm_in_task(void);
void rxfrm_cond_resched(void);
unsigned long rxfrm_jiffies(void);
int rxfrm_proc_create(struct net *net, const char *name,
		      int (*show)(struct seq_file *, void *));
void rxfrm_proc_remove(struct net *net, const char *name);
void rxfrm_seq_puts(struct seq_file *m, const char *s, size_t len);
struct net *rxfrm_seq_net(struct seq_file *m);
void rxfrm_wait_var_zero(unsigned long *v);
void rxfrm_wake_up_var(void *v);
void rxfrm_dev_hold(struct net_device *dev);
void rxfrm_dev_put(struct net_device *dev);

/* ---- skb.c: packets ---------------------------------------------------- */
struct dst_entry *rxfrm_skb_dst(const struct sk_buff *skb);
void rxfrm_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst);
void rxfrm_skb_dst_drop(struct sk_buff *skb);
unsigned int rxfrm_skb_len(const struct sk_buff *skb);
unsigned int rxfrm_skb_headlen(const struct sk_buff *skb);
unsigned char *rxfrm_skb_data(const struct sk_buff *skb);
int rxfrm_skb_network_offset(const struct sk_buff *skb);
void rxfrm_skb_set_network_header(struct sk_buff *skb, int offset);
unsigned int rxfrm_skb_headroom(const struct sk_buff *skb);
unsigned int rxfrm_skb_tailroom(const struct sk_buff *skb);
bool rxfrm_skb_is_nonlinear(const struct sk_buff *skb);
int rxfrm_skb_linearize(struct sk_buff *skb);
bool rxfrm_skb_cloned(const struct sk_buff *skb);
int rxfrm_pskb_expand_head(struct sk_buff *skb, unsigned int head, unsigned int tail);
void *rxfrm_skb_push(struct sk_buff *skb, unsigned int len);
void *rxfrm_skb_pull(struct sk_buff *skb, unsigned int len);
void *rxfrm_skb_put(struct sk_buff *skb, unsigned int len);
void rxfrm_skb_trim(struct sk_buff *skb, unsigned int len);
bool rxfrm_skb_is_gso(const struct sk_buff *skb);
struct sk_buff *rxfrm_skb_gso_segment(struct sk_buff *skb);
struct sk_buff *rxfrm_skb_next(const struct sk_buff *skb);
void rxfrm_skb_mark_not_on_list(struct sk_buff *skb);
bool rxfrm_skb_csum_partial(const struct sk_buff *skb);
int rxfrm_skb_checksum_help(struct sk_buff *skb);
void rxfrm_skb_set_protocol(struct sk_buff *skb, u16 ethertype);
bool rxfrm_skb_ignore_df(const struct sk_buff *skb);
void rxfrm_skb_set_ignore_df(struct sk_buff *skb);
struct net_device *rxfrm_skb_dev(const struct sk_buff *skb);
void rxfrm_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
struct sock *rxfrm_skb_sk(const struct sk_buff *skb);
struct net *rxfrm_skb_net(const struct sk_buff *skb);
void rxfrm_skb_reset_for_reinject(struct sk_buff *skb);
void *rxfrm_skb_cb(struct sk_buff *skb);
void rxfrm_skb_consume_list(struct sk_buff *skb);
void rxfrm_ip_send_check(struct sk_buff *skb);
void rxfrm_ip_select_ident(struct net *net, struct sk_buff *skb);
int rxfrm_netif_rx(struct sk_buff *skb);
void rxfrm_icmp_frag_needed(struct sk_buff *skb, u32 mtu);
void rxfrm_icmp6_too_big(struct sk_buff *skb, u32 mtu);
void rxfrm_skb_nf_reset_ct(struct sk_buff *skb);
void rxfrm_skb_set_xfrm_transformed(struct sk_buff *skb, bool v6);
bool rxfrm_skb_xfrm_transformed(const struct sk_buff *skb, bool v6);
int rxfrm_ip_local_out(struct net *net, struct sock *sk, struct sk_buff *skb, bool v6);
u8 rxfrm_icmp_type(const struct sk_buff *skb);
u8 rxfrm_icmp_code(const struct sk_buff *skb);
void rxfrm_ipv4_update_pmtu(struct sk_buff *skb, struct net *net, u32 mtu, u8 proto);
void rxfrm_ipv4_redirect(struct sk_buff *skb, struct net *net, u8 proto);
void rxfrm_ip6_update_pmtu(struct sk_buff *skb, struct net *net, u32 mtu);
void rxfrm_ip6_redirect(struct sk_buff *skb, struct net *net);

/* ---- dst.c: routes, bundle entries, sockets' cached routes -------------- */
void rxfrm_dst_hold(struct dst_entry *dst);
u32 rxfrm_dst_mtu(const struct dst_entry *dst);
int rxfrm_dst_obsolete(const struct dst_entry *dst);
unsigned short rxfrm_dst_flags(const struct dst_entry *dst);
struct net_device *rxfrm_dst_dev(const struct dst_entry *dst);
u32 rxfrm_dst_metric_advmss(const struct dst_entry *dst);
struct dst_entry *rxfrm_dst_ops_check(struct dst_entry *dst, u32 cookie);
u32 rxfrm_rt6_get_cookie(const struct dst_entry *dst);
int rxfrm_ip4_hoplimit(const struct dst_entry *dst);
int rxfrm_ip6_hoplimit(const struct dst_entry *dst);
struct dst_entry *rxfrm_route4(struct net *net, __be32 daddr, __be32 saddr);
struct dst_entry *rxfrm_route6(struct net *net, const struct in6_addr *daddr,
			       const struct in6_addr *saddr);
int rxfrm_dst_output_skb(struct net *net, struct sock *sk, struct sk_buff *skb);
struct kmem_cache *rxfrm_dst_cache_create(void);
struct rxfrm_dst *rxfrm_dst_alloc(struct dst_ops *ops, struct dst_entry *next);
void rxfrm_dst_live_del(struct rxfrm_dst *d);
void rxfrm_dst_live_lock(void);
void rxfrm_dst_live_unlock(void);
struct rxfrm_dst *rxfrm_dst_live_next(struct rxfrm_dst *d);
void rxfrm_rt6_set_idev(struct dst_entry *dst, struct net_device *dev);
void rxfrm_rt6_put_idev(struct dst_entry *dst);
struct net_device *rxfrm_rt6_idev_dev(const struct dst_entry *dst);
void rxfrm_rt6_idev_to_blackhole(struct dst_entry *dst);
bool rxfrm_sk_is_full(const struct sock *sk);
bool rxfrm_sk_is_full_tcp(const struct sock *sk);
struct dst_entry *rxfrm_sk_dst_cache(const struct sock *sk);
void rxfrm_sk_dst_set(struct sock *sk, struct dst_entry *dst);

/* ---- net.c: devices, addresses, notifier payloads ----------------------- */
struct net *rxfrm_dev_net(const struct net_device *dev);
bool rxfrm_dev_is_loopback(const struct net_device *dev);
struct net_device *rxfrm_netdev_notifier_info_to_dev(void *ptr);
struct net *rxfrm_inetaddr_net(void *ptr);
struct net *rxfrm_inet6addr_net(void *ptr);
bool rxfrm_addr_is_local(struct net *net, const u8 *addr, bool v6);

/* ---- xfrm.c: the key manager and socket policies ------------------------ */
void rxfrm_km_register(void);
void rxfrm_km_unregister(void);
struct xfrm_policy *rxfrm_xfrm_policy_new(struct sock *sk, bool block);
int rxfrm_sk_policy_action(const struct sock *sk, bool out);
struct sock *rxfrm_udp_lookup(struct net *net, const struct sk_buff *skb, bool v6,
			      const u8 *saddr, u16 sport, const u8 *daddr, u16 dport);
/* Rust: the key manager's callbacks (rust/sys/sockpol.rs). */
struct xfrm_policy *rxfrm_km_compile_policy(struct sock *sk, u16 family, int opt,
					    const u8 *data, int len, int *dir);
int rxfrm_km_acquire(void *x, void *t, void *xp);
int rxfrm_km_notify(void *x, const void *c);
int rxfrm_km_notify_policy(void *xp, int dir, const void *c);
int rxfrm_km_new_mapping(void *x, void *addr, u16 sport);
int rxfrm_km_report(void *net, u8 proto, void *sel, void *addr);
int rxfrm_km_migrate(void);
bool rxfrm_km_is_alive(const void *c);

struct xfrm_state *rxfrm_shadow_new(struct net *net, u8 proto, __be32 spi, const u8 *daddr,
				    const u8 *saddr, bool v6, u32 reqid);
void rxfrm_shadow_put(struct xfrm_state *x);
int rxfrm_secpath_push(struct sk_buff *skb, struct xfrm_state *x);
int rxfrm_secpath_len(const struct sk_buff *skb);
const struct xfrm_state *rxfrm_secpath_at(const struct sk_buff *skb, int i);
void rxfrm_xfrm_state_id(const struct xfrm_state *x, u8 *proto, __be32 *spi, u8 *daddr,
			 u16 *family);

/* ---- crypto.c: AEAD, hash and compression requests ---------------------- */
#define RXFRM_AEAD_IV_MAX 32
struct rxfrm_aead_job;
struct crypto_aead *rxfrm_aead_alloc(const char *name, bool sync_only);
void rxfrm_aead_free(struct crypto_aead *tfm);
bool rxfrm_aead_is_err(const struct crypto_aead *tfm);
long rxfrm_aead_err(const struct crypto_aead *tfm);
unsigned int rxfrm_aead_ivsize(struct crypto_aead *tfm);
const char *rxfrm_aead_driver_name(struct crypto_aead *tfm);
unsigned int rxfrm_aead_authsize(struct crypto_aead *tfm);
struct rxfrm_aead_job *rxfrm_aead_job_alloc(struct crypto_aead *tfm);
void rxfrm_aead_job_free(struct rxfrm_aead_job *job);
int rxfrm_aead_run(struct rxfrm_aead_job *job, struct crypto_aead *tfm, bool encrypt,
		   u8 *buf, unsigned int assoclen, unsigned int cryptlen,
		   const u8 *iv, void (*done)(void *, int), void *data);
struct crypto_ahash;
struct rxfrm_ahash_job;
struct crypto_ahash *rxfrm_ahash_alloc(const char *name, bool sync_only);
void rxfrm_ahash_free(struct crypto_ahash *tfm);
bool rxfrm_ahash_is_err(const struct crypto_ahash *tfm);
long rxfrm_ahash_err(const struct crypto_ahash *tfm);
unsigned int rxfrm_ahash_digestsize(struct crypto_ahash *tfm);
const char *rxfrm_ahash_driver_name(struct crypto_ahash *tfm);
struct rxfrm_ahash_job *rxfrm_ahash_job_alloc(struct crypto_ahash *tfm);
void rxfrm_ahash_job_free(struct rxfrm_ahash_job *job);
int rxfrm_ahash_run(struct rxfrm_ahash_job *job, struct crypto_ahash *tfm, const u8 *buf,
		    unsigned int len, const u8 *extra, unsigned int extra_len, u8 *out,
		    void (*done)(void *, int), void *data);
int rxfrm_crypto_memneq(const void *a, const void *b, size_t n);
/* IPcomp's scratch: Linux's IPCOMP_SCRATCH_SIZE. */
#define RXFRM_COMP_SCRATCH 65400
struct crypto_comp;
int rxfrm_comp_scratch_alloc(void);
void rxfrm_comp_scratch_free(void);
struct crypto_comp * __percpu *rxfrm_comp_tfms_new(const char *alg);
void rxfrm_comp_tfms_free(struct crypto_comp * __percpu *tfms);
int rxfrm_comp_run(struct crypto_comp * __percpu *tfms, bool compress, const u8 *src,
		   unsigned int slen, int (*take)(void *, const u8 *, unsigned int), void *data);

#endif
