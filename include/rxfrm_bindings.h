/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel headers rxfrm's Rust code binds to. bindgen reads this file with the
 * kernel's own C flags (see Kbuild); only the symbols the FFI layer uses are
 * allow-listed, to keep the generated file small.
 */
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

#include "rxfrm_helpers.h"

/* Macros bindgen can not evaluate, as constants it can. */
const gfp_t RXFRM_GFP_KERNEL = GFP_KERNEL;
const gfp_t RXFRM_GFP_ATOMIC = GFP_ATOMIC;
