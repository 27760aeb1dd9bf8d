# cost: 270 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""IPcomp (RFC 3173) with deflate (RFC 2394) between namespaces `a`
(10.0.0.1, fd00::1) and `b` (10.0.0.2, fd00::2), both keyed
(`-C deflate`), outbound templates `require`, inbound `use` (IPcomp may
leave a packet uncompressed, which Linux's input check accepts only for
optional templates — the form racoon installs).
Transport, IPv4 and IPv6, both directions:
- a compressible 1200-byte datagram leaves as protocol 108 with the SA's
  CPI, smaller than it would be without IPcomp, and its payload inflates
  with Python's zlib (raw deflate) to exactly the original UDP datagram;
  it is delivered;
- a 40-byte datagram (below the compression threshold) and 1000 random
  bytes (which do not compress) travel uncompressed and are delivered;
- an IPcomp packet the test deflates itself (zlib) and injects is
  delivered; so are compressible pings (1000 bytes, both ways as IPcomp)
  and 256 KiB of compressible TCP (intact);
- the IPcomp SAs count the traffic; the sender's counts the bytes before
  compression (as Linux), at least the TCP payload.
Tunnel (host to host), 4in4 and 6in6: compressible datagrams travel as
IPcomp whose payload inflates to the inner IP packet; small ones as plain
IP-in-IP, accepted by the policy; the test's own IPcomp tunnel packet and
its own uncompressed IP-in-IP packet are both delivered."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

A, B = "a", "b"
ADDR = {4: ("10.0.0.1", "10.0.0.2"), 6: ("fd00::1", "fd00::2")}
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", A, B)
# One sniffer: on a veth it reads both ends and keeps each frame where it
# leaves (what a and b put on the wire; a receiver's own tap also shows
# what its tunnel mode decapsulated, which never was on the wire). A
# second sniffer on b's end would see every frame again.
SNIFF = {A: esp.Sniffer(A, "eth0")}
PORT = 7400


def drain():
    for sn in SNIFF.values():
        sn.frames(0.05)


def sent_frames(quiet=0.3):
    """The frames a and b sent since the last drain()."""
    return [f for sn in SNIFF.values() for f in sn.frames(quiet) if f.outgoing()]


def key(fam, cpi_ab, cpi_ba, mode="transport"):
    a, b = ADDR[fam]
    m = " -m tunnel" if mode == "tunnel" else ""
    sas = f"add {a} {b} ipcomp {cpi_ab:#x}{m} -C deflate;\nadd {b} {a} ipcomp {cpi_ba:#x}{m} -C deflate;\n"
    for ns, me, them in ((A, a, b), (B, b, a)):
        t_out = f"ipcomp/tunnel/{me}-{them}/require" if mode == "tunnel" else "ipcomp/transport//require"
        t_in = f"ipcomp/tunnel/{them}-{me}/use" if mode == "tunnel" else "ipcomp/transport//use"
        xfrm.configure(ns, sas + f"spdadd {me} {them} any -P out ipsec {t_out};\n"
                                f"spdadd {them} {me} any -P in ipsec {t_in};\n")


def send(fam, src_ns, data, port=PORT):
    """src_ns sends `data` to the other namespace; returns (what was
    delivered, the frames it made on b's link)."""
    a, b = ADDR[fam]
    src, dst, dst_ns = (a, b, B) if src_ns == A else (b, a, A)
    drain()
    rs = esp.udp_socket(dst_ns, dst, port)
    s = esp.udp_socket(src_ns, src)
    eq(esp.send_udp(s, data, dst, port), None, f"sendto {dst}")
    s.close()
    got = esp.recv_within(rs, 10)
    rs.close()
    return got, [f for f in sent_frames() if f.src == src and f.dst == dst]


def inject_from_a(pkt):
    esp.inject(A, "eth0", xfrm.frame(pkt, A, "eth0", B, "eth0"))


def transport(fam, cpi_ab, cpi_ba):
    a, b = ADDR[fam]
    name = f"transport IPv{fam}"
    key(fam, cpi_ab, cpi_ba)
    text = esp.compressible(1200, seed=fam)
    for src_ns, src, dst, cpi in ((A, a, b, cpi_ab), (B, b, a, cpi_ba)):
        got, frames = send(fam, src_ns, text)
        eq(got, text, f"{name}: compressible datagram {src} -> {dst} delivered")
        comp = [f for f in frames if f.kind == "ipcomp"]
        eq(len(comp), 1, f"{name}: IPcomp frames for one compressible datagram {src} -> {dst}: {frames}")
        f = comp[0]
        nh, got_cpi, data = xfrm.ipcomp_fields(f.payload)
        eq((got_cpi, nh), (cpi, 17), f"{name}: CPI and next header of {src}'s IPcomp")
        plain = (40 if fam == 6 else 20) + 8 + len(text)
        check(len(f.ip) < plain // 2, f"{name}: IPcomp packet of {len(f.ip)} bytes for a {plain}-byte one")
        udp = xfrm.inflate(data)
        eq(udp[8:], text, f"{name}: {src}'s IPcomp payload inflated (zlib, raw deflate)")
        eq(udp[2:4], PORT.to_bytes(2, "big"), f"{name}: the inflated UDP header's port")
    for what, data in (("40-byte", b"s" * 40), ("random 1000-byte", os.urandom(1000))):
        got, frames = send(fam, A, data)
        eq(got, data, f"{name}: {what} datagram delivered")
        eq([f.kind for f in frames], ["udp"], f"{name}: how the {what} datagram travels")
    # The test's own deflate, CPI a -> b, from a's side of the wire.
    rs = esp.udp_socket(B, b, PORT + 1)
    body = esp.compressible(900, seed=7)
    inject_from_a(xfrm.ip_packet(a, b, 108, xfrm.ipcomp_payload(17, cpi_ab, xfrm.udp(a, b, 4000, PORT + 1, body))))
    eq(esp.recv_within(rs, 5), body, f"{name}: the test's IPcomp packet delivered")
    rs.close()
    drain()
    for ns, dst in ((A, b), (B, a)):
        check(xfrm.ping(ns, dst, count=2, deadline=20, data=b"A" * 1000), f"{name}: 1000-byte ping to {dst}")
    kinds = esp.summary(sent_frames())
    check(kinds[(f"ipv{fam}", "ipcomp", cpi_ab)] >= 4 and kinds[(f"ipv{fam}", "ipcomp", cpi_ba)] >= 4,
          f"{name}: the big pings as IPcomp both ways: {dict(kinds)}")
    before = xfrm.sa_table(A).get(cpi_ab, {}).get("bytes", 0)
    sent, h1, got, h2, _ = esp.tcp_transfer(B, b, A, 256 * 1024, port=PORT + 2, pattern="text")
    eq((got, h2), (sent, h1), f"{name}: compressible TCP a -> b (bytes, sha256)")
    # The lifetime counts what was handed to the SA, before deflate (Linux's
    # xfrm_output_one charges before type->output): not the far fewer
    # compressed bytes, or a byte limit would be reached late.
    charged = xfrm.sa_table(A).get(cpi_ab, {}).get("bytes", 0) - before
    check(charged >= sent, f"{name}: a's IPcomp SA charged {charged} bytes for {sent} sent")
    kinds = esp.summary(sent_frames())
    check(kinds[(f"ipv{fam}", "ipcomp", cpi_ab)] >= 20, f"{name}: the TCP data as IPcomp: {dict(kinds)}")
    xfrm.expect_used(check, (A, B), (cpi_ab, cpi_ba), name)
    xfrm.say(f"{name}: compressed when it pays (inflates to the original), small and random datagrams "
          f"uncompressed and accepted, the test's IPcomp accepted, ping and TCP")


def tunnel(fam, cpi_ab, cpi_ba):
    a, b = ADDR[fam]
    name = f"tunnel {fam}in{fam}"
    key(fam, cpi_ab, cpi_ba, "tunnel")
    text = esp.compressible(1200, seed=11)
    got, frames = send(fam, A, text)
    eq(got, text, f"{name}: compressible datagram delivered")
    comp = [f for f in frames if f.kind == "ipcomp"]
    eq(len(comp), 1, f"{name}: IPcomp frames for one datagram: {frames}")
    nh, cpi, data = xfrm.ipcomp_fields(comp[0].payload)
    eq((cpi, nh), (cpi_ab, 41 if fam == 6 else 4), f"{name}: CPI and next header")
    inner = xfrm.inflate(data)
    eq((inner[0] >> 4, inner[-len(text):]), (fam, text), f"{name}: the inflated inner packet")
    got, frames = send(fam, A, b"small")
    eq(got, b"small", f"{name}: small datagram delivered")
    eq([f.kind for f in frames], ["ip6" if fam == 6 else "ipip"], f"{name}: how the small datagram travels")
    rs = esp.udp_socket(B, b, PORT + 3)
    body = esp.compressible(700, seed=3)
    pkt = xfrm.udp_packet(a, b, 4000, PORT + 3, body)
    proto = 41 if fam == 6 else 4
    inject_from_a(xfrm.ip_packet(a, b, 108, xfrm.ipcomp_payload(proto, cpi_ab, pkt)))
    eq(esp.recv_within(rs, 5), body, f"{name}: the test's IPcomp tunnel packet delivered")
    inject_from_a(xfrm.ip_packet(a, b, proto, xfrm.udp_packet(a, b, 4000, PORT + 3, b"uncompressed")))
    eq(esp.recv_within(rs, 5), b"uncompressed", f"{name}: the test's uncompressed IP-in-IP delivered")
    rs.close()
    got, _ = send(fam, B, text)
    eq(got, text, f"{name}: compressible datagram b -> a delivered")
    xfrm.say(f"{name}: IPcomp inflates to the inner packet, small ones as IP-in-IP, the test's both kinds accepted")


transport(4, 0x3401, 0x3402)
transport(6, 0x3403, 0x3404)
tunnel(4, 0x3411, 0x3412)
tunnel(6, 0x3413, 0x3414)
done("IPcomp transport and tunnel: deflate interoperates with zlib, uncompressed packets accepted")
