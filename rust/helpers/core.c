// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line forms of `static inline` kernel functions for rxfrm's Rust
 * code (declared in include/rxfrm_helpers.h): namespaces, PF_KEY sockets and
 * their buffers, deferred work, RCU, /proc. Nothing here has logic.
 */
#include <linux/capability.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/wait_bit.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>

#include "../../include/rxfrm_helpers.h"

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

bool rxfrm_kick_delayed(struct delayed_work *dw) { return mod_delayed_work(system_wq, dw, 0); }

struct net *rxfrm_maybe_get_net(struct net *net) { return maybe_get_net(net); }
void rxfrm_get_net(struct net *net) { get_net(net); }
void rxfrm_put_net(struct net *net) { put_net(net); }

bool rxfrm_module_get(void) { return try_module_get(THIS_MODULE); }
void rxfrm_module_put(void) { module_put(THIS_MODULE); }

void rxfrm_rcu_read_lock(void) { rcu_read_lock(); }
void rxfrm_rcu_read_unlock(void) { rcu_read_unlock(); }
void rxfrm_spin_lock_init(spinlock_t *l) { spin_lock_init(l); }
void rxfrm_spin_lock_bh(spinlock_t *l) { spin_lock_bh(l); }
void rxfrm_spin_unlock_bh(spinlock_t *l) { spin_unlock_bh(l); }
bool rxfrm_in_task(void) { return in_task(); }
void rxfrm_cond_resched(void) { cond_resched(); }
unsigned long rxfrm_jiffies(void) { return jiffies; }

/* /proc/net files (rust/sys/procfs.rs). */
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

/* Waiting for a counter to reach zero (rust/sys/inflight.rs). */
void rxfrm_wait_var_zero(unsigned long *v) { wait_var_event(v, READ_ONCE(*v) == 0); }
void rxfrm_wake_up_var(void *v)
{
	/* wake_up_var() needs the store it reports ordered before it. */
	smp_mb();
	wake_up_var(v);
}

void rxfrm_dev_hold(struct net_device *dev) { dev_hold(dev); }
void rxfrm_dev_put(struct net_device *dev) { dev_put(dev); }
