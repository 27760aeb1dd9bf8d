# cost: 450 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""AH (RFC 4302) transport and tunnel, IPv4 and IPv6, 4in6 and 6in4,
between h1 and h2 across a forwarding gateway (topo.sh's h1 - gw - h2,
the gateway not keyed): every TTL / hop limit is decremented on the way,
and AH must still verify.
- transport IPv4 (10.0.1.1 <-> 10.0.2.1, HMAC-SHA256): the sender's
  datagrams carry IP options (a Record Route the gateway fills in,
  and a Router Alert) and TOS 0x28; pings with a Record Route too (as
  `ping -R`), whose replies echo the option;
- transport IPv6 (fd01::1 <-> fd02::1, HMAC-SHA256): a hop-by-hop header
  before AH with an immutable (0x1e) and a mutable (0x3e) option, a
  destination options header after it, traffic class 0x28;
- tunnels (HMAC-SHA1, SHA-512, AES-XCBC-MAC, SHA-384) between h1's and
  h2's addresses for their inner addresses 10.91.0.1 / fd91::1 (h1) and
  10.92.0.1 / fd92::1 (h2): 4in4, 6in6, 4in6, 6in4 (for native the
  4in6/6in4 SAs through xfrm_user: Linux af_key SAs take only inner
  packets of their own family, see xfrm.configure_ah).
For each: ping both ways, a UDP datagram each way delivered, 32 KiB of TCP
intact; on both end links only AH with the configured SPIs, carrying
what it should (ICMP/UDP/TCP, IPv4 or IPv6); every captured AH packet
verifies by this test's own ICV code on both links; the same packet
(SPI, sequence number) has a hop limit 1 lower on the far link, and (IPv4)
its Record Route filled in by the gateway; no ICV failure counted; all SAs
counted traffic."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

H1, GW, H2 = "h1", "gw", "h2"
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("line", H1, GW, H2)
# Tunnel-inner addresses, chosen as source towards the other side's.
for ns, v4, v6, far4, far6, gw4, gw6 in ((H1, "10.91.0.1", "fd91::1", "10.92.0.0/16", "fd92::/64", "10.0.1.254", "fd01::fe"),
                                          (H2, "10.92.0.1", "fd92::1", "10.91.0.0/16", "fd91::/64", "10.0.2.254", "fd02::fe")):
    xfrm.run(ns, "ip", "-batch", "-", check=True, text=True,
             input=f"addr add {v4}/32 dev lo\naddr add {v6}/128 dev lo nodad\n"
                   f"route add {far4} via {gw4} src {v4}\nroute add {far6} via {gw6} src {v6}\n")
# Both links, seen from the gateway's side: what h1 and h2 put on the wire
# (a host's own veth would also show the packets its tunnel mode
# decapsulates, which the kernel hands back to it as received there).
link1, link2 = esp.Sniffer(GW, "eth0"), esp.Sniffer(GW, "eth1")

HBH = b"\0" + xfrm.opts_hdr([xfrm.tlv(0x1E, b"immutable"), xfrm.tlv(0x3E, b"mutable!")])
DST = b"\0" + xfrm.opts_hdr([xfrm.tlv(0x1E, b"after AH")])
V4_OPTS = xfrm.ipv4_opt_rr(3) + xfrm.ipv4_opt_ra()
PORT = 7300


def udp_exchange(name, ns, src, dst, opts):
    """A datagram src -> dst, sent with the given socket options, is
    delivered to a socket on dst."""
    peer = H2 if ns == H1 else H1
    rs = esp.udp_socket(peer, dst, PORT)
    s = esp.udp_socket(ns, src)
    for level, opt, val in opts:
        s.setsockopt(level, opt, val)
    data = f"{name}: {src} -> {dst}".encode()
    eq(esp.send_udp(s, data, dst, PORT), None, f"{name}: sendto {dst}")
    eq(esp.recv_within(rs, 10), data, f"{name}: the datagram {src} -> {dst} delivered")
    s.close()
    rs.close()


def case(name, mode, h1_in, h2_in, h1_out, h2_out, alg, spis, carried, opts=(), ping_opts=(), rr_option=False):
    sa12, sa21 = xfrm.AhSA(spis[0], alg), xfrm.AhSA(spis[1], alg)
    sas = [(h1_out, h2_out, sa12, mode), (h2_out, h1_out, sa21, mode)]
    for ns, me, them, a, b in ((H1, h1_in, h2_in, h1_out, h2_out), (H2, h2_in, h1_in, h2_out, h1_out)):
        t_out = f"ah/tunnel/{a}-{b}/require" if mode == "tunnel" else "ah/transport//require"
        t_in = f"ah/tunnel/{b}-{a}/require" if mode == "tunnel" else "ah/transport//require"
        xfrm.configure_ah(ns, sas, f"spdadd {me} {them} any -P out ipsec {t_out};\n"
                                   f"spdadd {them} {me} any -P in ipsec {t_in};\n",
                          cross_family=(":" in h1_in) != (":" in h1_out))
    c1, c2 = esp.Counters(H1), esp.Counters(H2)
    link1.frames(0.2)
    link2.frames(0.1)
    check(xfrm.ping(H1, h2_in, opts=ping_opts), f"{name}: h1 -> h2 ping")
    check(esp.ping(H2, h1_in), f"{name}: h2 -> h1 ping")
    udp_exchange(name, H1, h1_in, h2_in, opts)
    udp_exchange(name, H2, h2_in, h1_in, opts)
    sent, s1, got, s2, _ = esp.tcp_transfer(H2, h2_in, H1, 32 * 1024, port=PORT + 1, timeout=120)
    eq((got, s2), (sent, s1), f"{name}: TCP h1 -> h2 (bytes, sha256)")
    f1, f2 = link1.frames(0.5), link2.frames(0.3)
    for link, frames in (("h1's link", f1), ("h2's link", f2)):
        ah = [f for f in frames if f.kind == "ah"]
        for sa, src in ((sa12, h1_out), (sa21, h2_out)):
            mine = [f for f in ah if f.spi == sa.spi]
            check(len(mine) >= 5, f"{name}: {len(mine)} AH frames SPI {sa.spi:#x} on {link}")
            eq({f.src for f in mine}, {src}, f"{name}: source of AH SPI {sa.spi:#x} on {link}")
            check({f.inner for f in mine} <= carried, f"{name}: AH on {link} carries {({f.inner for f in mine})}")
            bad = [f for f in mine if not xfrm.ah_verify(sa, f.ip)]
            eq(bad, [], f"{name}: AH frames on {link} whose ICV this test computes otherwise")
        eq({f.spi for f in ah}, {sa12.spi, sa21.spi}, f"{name}: AH SPIs on {link}")
        leaked = [f for f in frames if f.kind in ("icmp", "icmp6", "udp", "tcp", "ipip", "ip6", "esp")]
        eq(leaked, [], f"{name}: frames on {link} not inside AH")
    # The same packets on both links: changed in flight, still verified.
    by_id = {(f.spi, f.seq): f for f in f1 if f.kind == "ah"}
    pairs = [(by_id[(f.spi, f.seq)], f) for f in f2 if f.kind == "ah" and (f.spi, f.seq) in by_id]
    check(len(pairs) >= 10, f"{name}: {len(pairs)} AH packets seen on both links")
    hop = (lambda ip: ip[7]) if ":" in h1_out else (lambda ip: ip[8])
    for a, b in pairs:
        near, far = (a, b) if a.src == h1_out else (b, a)
        eq(hop(near.ip) - hop(far.ip), 1, f"{name}: hop limit of AH {a.spi:#x}/{a.seq} lost on the way")
    if rr_option:
        rr = [(a.ip[20:35], b.ip[20:35]) for a, b in pairs if (a.ip[0] & 15) > 5]
        check(rr and all(x != y for x, y in rr), f"{name}: the gateway did not fill in the Record Route")
        check(all(near.ip[0] & 15 == 10 for near, _ in pairs if near.inner == "udp"),
              f"{name}: the datagrams' AH packets lack the IP options")
    for c, ns in ((c1, H1), (c2, H2)):
        eq(c.delta("XfrmInStateProtoError", "XfrmInNoStates", "XfrmInTmplMismatch"), 0,
           f"{name}: {ns} refused packets (moved {c.moved()})")
    xfrm.expect_used(check, (H1, H2), spis, name)
    xfrm.say(f"{name}: ping, UDP and TCP as AH ({alg}); {len(pairs)} packets verified on both links, "
          f"hop limit -1")


IP, IPV6 = socket.IPPROTO_IP, socket.IPPROTO_IPV6
case("transport IPv4", "transport", "10.0.1.1", "10.0.2.1", "10.0.1.1", "10.0.2.1", "hmac-sha256",
     (0x3201, 0x3202), {"icmp", "udp", "tcp"},
     opts=[(IP, socket.IP_OPTIONS, V4_OPTS), (IP, socket.IP_TOS, 0x28)],
     ping_opts=[(IP, socket.IP_OPTIONS, xfrm.ipv4_opt_rr(9))], rr_option=True)
case("transport IPv6", "transport", "fd01::1", "fd02::1", "fd01::1", "fd02::1", "hmac-sha256",
     (0x3203, 0x3204), {"icmp6", "udp", "tcp", "proto60"},
     opts=[(IPV6, socket.IPV6_HOPOPTS, HBH), (IPV6, socket.IPV6_DSTOPTS, DST), (IPV6, socket.IPV6_TCLASS, 0x28)])
case("tunnel 4in4", "tunnel", "10.91.0.1", "10.92.0.1", "10.0.1.1", "10.0.2.1", "hmac-sha1",
     (0x3211, 0x3212), {"ipip"}, opts=[(IP, socket.IP_TOS, 0x28)])
case("tunnel 6in6", "tunnel", "fd91::1", "fd92::1", "fd01::1", "fd02::1", "hmac-sha512",
     (0x3213, 0x3214), {"ip6"}, opts=[(IPV6, socket.IPV6_HOPOPTS, HBH)])
case("tunnel 4in6", "tunnel", "10.91.0.1", "10.92.0.1", "fd01::1", "fd02::1", "aes-xcbc-mac",
     (0x3215, 0x3216), {"ipip"})
case("tunnel 6in4", "tunnel", "fd91::1", "fd92::1", "10.0.1.1", "10.0.2.1", "hmac-sha384",
     (0x3217, 0x3218), {"ip6"})
done("AH transport and tunnel (4in4, 6in6, 4in6, 6in4) verify across a forwarding gateway")
