// SPDX-License-Identifier: GPL-2.0
/*
 * Devices, addresses and notifier payloads: out-of-line forms of the
 * `static inline` accessors rust/sys/notify.rs and rust/sys/dst.rs use.
 */
#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <net/route.h>

#include "../../include/rxfrm_helpers.h"

struct net *rxfrm_dev_net(const struct net_device *dev) { return dev ? dev_net(dev) : NULL; }
bool rxfrm_dev_is_loopback(const struct net_device *dev) { return dev && (dev->flags & IFF_LOOPBACK); }

struct net_device *rxfrm_netdev_notifier_info_to_dev(void *ptr)
{
	return netdev_notifier_info_to_dev(ptr);
}

struct net *rxfrm_inetaddr_net(void *ptr)
{
	return dev_net(((struct in_ifaddr *)ptr)->ifa_dev->dev);
}

struct net *rxfrm_inet6addr_net(void *ptr)
{
	return dev_net(((struct inet6_ifaddr *)ptr)->idev->dev);
}

/* Tentative IPv6 addresses count (banned flags 0): one being checked by
 * DAD becomes usable with no further event the notifiers would see. */
bool rxfrm_addr_is_local(struct net *net, const u8 *addr, bool v6)
{
	if (v6)
		return ipv6_chk_addr_and_flags(net, (const struct in6_addr *)addr, NULL, 0, 0, 0);
	return inet_addr_type(net, *(const __be32 *)addr) == RTN_LOCAL;
}
