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

#include "rxfrm_helpers.h"
#include "rxfrm_net.h"

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
