// SPDX-License-Identifier: GPL-2.0
/*
 * Packets: out-of-line forms of the `static inline` sk_buff, IP and ICMP
 * API the datapath uses (rust/sys/packet.rs). Each only forwards.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/gso.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "../../include/rxfrm_helpers.h"

struct dst_entry *rxfrm_skb_dst(const struct sk_buff *skb) { return skb_dst(skb); }
void rxfrm_skb_dst_set(struct sk_buff *skb, struct dst_entry *dst) { skb_dst_set(skb, dst); }
void rxfrm_skb_dst_drop(struct sk_buff *skb) { skb_dst_drop(skb); }
unsigned int rxfrm_skb_len(const struct sk_buff *skb) { return skb->len; }
unsigned int rxfrm_skb_headlen(const struct sk_buff *skb) { return skb_headlen(skb); }
unsigned char *rxfrm_skb_data(const struct sk_buff *skb) { return skb->data; }
int rxfrm_skb_network_offset(const struct sk_buff *skb) { return skb_network_offset(skb); }
void rxfrm_skb_set_network_header(struct sk_buff *skb, int offset)
{
	skb_set_network_header(skb, offset);
}
unsigned int rxfrm_skb_headroom(const struct sk_buff *skb) { return skb_headroom(skb); }
unsigned int rxfrm_skb_tailroom(const struct sk_buff *skb) { return skb_tailroom(skb); }
bool rxfrm_skb_is_nonlinear(const struct sk_buff *skb) { return skb_is_nonlinear(skb); }
int rxfrm_skb_linearize(struct sk_buff *skb) { return __skb_linearize(skb); }
bool rxfrm_skb_cloned(const struct sk_buff *skb) { return skb_cloned(skb); }
int rxfrm_pskb_expand_head(struct sk_buff *skb, unsigned int head, unsigned int tail)
{
	return pskb_expand_head(skb, head, tail, GFP_ATOMIC);
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
bool rxfrm_skb_csum_partial(const struct sk_buff *skb) { return skb->ip_summed == CHECKSUM_PARTIAL; }
int rxfrm_skb_checksum_help(struct sk_buff *skb) { return skb_checksum_help(skb); }
void rxfrm_skb_set_protocol(struct sk_buff *skb, u16 ethertype) { skb->protocol = htons(ethertype); }
bool rxfrm_skb_ignore_df(const struct sk_buff *skb) { return skb->ignore_df; }
void rxfrm_skb_set_ignore_df(struct sk_buff *skb) { skb->ignore_df = 1; }
struct net_device *rxfrm_skb_dev(const struct sk_buff *skb) { return skb->dev; }
void rxfrm_skb_set_dev(struct sk_buff *skb, struct net_device *dev) { skb->dev = dev; }
struct sock *rxfrm_skb_sk(const struct sk_buff *skb) { return skb->sk; }

/* The namespace of the packet's device, or of its route's. */
struct net *rxfrm_skb_net(const struct sk_buff *skb)
{
	if (skb->dev)
		return dev_net(skb->dev);
	return skb_dst(skb) ? dev_net(skb_dst(skb)->dev) : NULL;
}

/* What xfrm_input resets before a decapsulated packet goes back to the
 * stack (the sec_path stays). The link-layer header moves up in front of
 * the new network header (xfrm's skb_mac_header_rebuild), so that what
 * reads it on the way in (a macvlan or bridge rx_handler) sees the frame's
 * own header, not IP bytes. */
void rxfrm_skb_reset_for_reinject(struct sk_buff *skb)
{
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	skb_reset_network_header(skb);
	skb_mac_header_rebuild(skb);
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_NONE;
}

void *rxfrm_skb_cb(struct sk_buff *skb) { return skb->cb; }
void rxfrm_skb_consume_list(struct sk_buff *skb) { kfree_skb_list(skb); }
void rxfrm_ip_send_check(struct sk_buff *skb) { ip_send_check(ip_hdr(skb)); }
void rxfrm_ip_select_ident(struct net *net, struct sk_buff *skb)
{
	ip_select_ident(net, skb, NULL);
}
int rxfrm_netif_rx(struct sk_buff *skb) { return netif_rx(skb); }

void rxfrm_icmp_frag_needed(struct sk_buff *skb, u32 mtu)
{
	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
}
void rxfrm_icmp6_too_big(struct sk_buff *skb, u32 mtu)
{
	icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
}
u8 rxfrm_icmp_type(const struct sk_buff *skb) { return icmp_hdr(skb)->type; }
u8 rxfrm_icmp_code(const struct sk_buff *skb) { return icmp_hdr(skb)->code; }

void rxfrm_ipv4_update_pmtu(struct sk_buff *skb, struct net *net, u32 mtu, u8 proto)
{
	ipv4_update_pmtu(skb, net, mtu, 0, proto);
}
void rxfrm_ipv4_redirect(struct sk_buff *skb, struct net *net, u8 proto)
{
	ipv4_redirect(skb, net, 0, proto);
}
void rxfrm_ip6_update_pmtu(struct sk_buff *skb, struct net *net, u32 mtu)
{
	ip6_update_pmtu(skb, net, htonl(mtu), 0, 0, sock_net_uid(net, NULL));
}
void rxfrm_ip6_redirect(struct sk_buff *skb, struct net *net)
{
	ip6_redirect(skb, net, 0, 0, sock_net_uid(net, NULL));
}

/* After a transform (xfrm_output_resume): the packet is a new datagram for
 * conntrack (the inner flow's entry must not NAT it), marked as Linux marks
 * it, and goes out through LOCAL_OUT like any locally sent packet. */
void rxfrm_skb_nf_reset_ct(struct sk_buff *skb) { nf_reset_ct(skb); }

void rxfrm_skb_set_xfrm_transformed(struct sk_buff *skb, bool v6)
{
	if (v6)
		IP6CB(skb)->flags |= IP6SKB_XFRM_TRANSFORMED;
	else
		IPCB(skb)->flags |= IPSKB_XFRM_TRANSFORMED;
}

bool rxfrm_skb_xfrm_transformed(const struct sk_buff *skb, bool v6)
{
	if (v6)
		return IP6CB(skb)->flags & IP6SKB_XFRM_TRANSFORMED;
	return IPCB(skb)->flags & IPSKB_XFRM_TRANSFORMED;
}

int rxfrm_ip_local_out(struct net *net, struct sock *sk, struct sk_buff *skb, bool v6)
{
	return v6 ? ip6_local_out(net, sk, skb) : ip_local_out(net, sk, skb);
}
