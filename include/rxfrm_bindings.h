/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel headers rxfrm's Rust code binds to. bindgen reads this file with the
 * kernel's own C flags (see Kbuild); only the symbols the FFI layer uses are
 * allow-listed, to keep the generated file small.
 */
#include <crypto/aead.h>
#include <linux/capability.h>
#include <linux/crypto.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/dst.h>

#include <linux/inetdevice.h>
#include <linux/notifier.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/protocol.h>
#include <net/xfrm.h>
#include <crypto/hash.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>

#include "rxfrm_helpers.h"
#include "rxfrm_types.h"

/* Macros bindgen can not evaluate, as constants it can. */
const gfp_t RXFRM_GFP_KERNEL = GFP_KERNEL;
const gfp_t RXFRM_GFP_ATOMIC = GFP_ATOMIC;
const int RXFRM_NF_PRI_LAST = NF_IP_PRI_LAST;
const int RXFRM_NF_PRI_FILTER = NF_IP_PRI_FILTER;
const unsigned int RXFRM_NF_ACCEPT = NF_ACCEPT;
const unsigned int RXFRM_NF_DROP = NF_DROP;
const unsigned int RXFRM_NF_STOLEN = NF_STOLEN;
const unsigned int RXFRM_NF_LOCAL_IN = NF_INET_LOCAL_IN;
const unsigned int RXFRM_NF_FORWARD = NF_INET_FORWARD;
const unsigned int RXFRM_NF_LOCAL_OUT = NF_INET_LOCAL_OUT;
const unsigned char RXFRM_NFPROTO_IPV4 = NFPROTO_IPV4;
const unsigned char RXFRM_NFPROTO_IPV6 = NFPROTO_IPV6;
const unsigned int RXFRM_INET6_PROTO_NOPOLICY = INET6_PROTO_NOPOLICY;
const unsigned short RXFRM_DST_NOXFRM = DST_NOXFRM;
const int RXFRM_DST_OBSOLETE_DEAD = DST_OBSOLETE_DEAD;
const unsigned int RXFRM_NETDEV_UP = NETDEV_UP;
const unsigned int RXFRM_NETDEV_DOWN = NETDEV_DOWN;
const unsigned int RXFRM_NETDEV_UNREGISTER = NETDEV_UNREGISTER;
const int RXFRM_XFRM_POLICY_ALLOW = XFRM_POLICY_ALLOW;
const int RXFRM_XFRM_POLICY_BLOCK = XFRM_POLICY_BLOCK;
/* skb->cb: its size, and what the IPv4/IPv6 layers use of it on input. */
const size_t RXFRM_SKB_CB_SIZE = sizeof_field(struct sk_buff, cb);
const size_t RXFRM_IPCB_SIZE = sizeof(struct inet_skb_parm) > sizeof(struct inet6_skb_parm) ?
			       sizeof(struct inet_skb_parm) : sizeof(struct inet6_skb_parm);
