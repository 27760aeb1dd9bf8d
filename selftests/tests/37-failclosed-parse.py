# cost: 240 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Fail closed where the headers are hard to parse. Namespace `rx`
(fd00::1) requires ESP for UDP to its port 7777 (`-P in ... require`),
port 7778 has no policy; `sc` (fd00::2) has no IPsec: scapy builds its
packets and the test injects them on its veth. For each shape,
  - clear text to port 7778 is delivered (the packet itself is fine),
  - clear text to port 7777 is not delivered to the listening socket,
    and a counter says why (Linux: XfrmInTmplMismatch; XfrmInHdrError,
    XfrmInPolBlock or XfrmInNoStates accepted too — printed),
  - the same datagram protected by ESP (scapy's, AES-CBC + HMAC-SHA1) is
    delivered:
1. a 200-byte hop-by-hop header (extension headers past 128 bytes);
2. hop-by-hop 200 + destination options 64 bytes before UDP;
3. a 3000-byte datagram in three fragments, the later two without ports;
4. the same fragments last first (the first to arrive has no ports);
5. hop-by-hop 200 bytes, then fragments;
6. a first fragment without the ports (it ends inside a destination
   options header): to 7777 never delivered. (Linux's IPv6 reassembly
   itself discards such a first fragment, RFC 8200 §4.5, so there is no
   deliverable control: the test prints what port 7778 got.)
Outbound, a socket in rx with a 200-byte hop-by-hop option: datagrams to
sc:7777 (`require`, no SA) and sc:7779 (`discard`) never leave in the
clear, small or fragmented, while the same to sc:7778 go out."""
import os
import random
import socket
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

try:
    from scapy.config import conf
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import (HBHOptUnknown, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                    IPv6ExtHdrHopByHop, fragment6)
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.packet import Raw
except ImportError as e:
    xfrm.say(f"SKIP: scapy is not importable by {sys.executable} ({e}); Debian: python3-scapy")
    sys.exit(4)
if not conf.crypto_valid:
    xfrm.say("SKIP: scapy's IPsec needs python3-cryptography")
    sys.exit(4)

RX, SC = "rx", "sc"
RX_IP, SC_IP = "fd00::1", "fd00::2"
REQ, FREE, DISCARD = 7777, 7778, 7779
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", RX, SC)
to_rx = esp.eth_header(SC, "eth0", RX, "eth0", esp.ETH_P_IPV6)
sniff = esp.Sniffer(SC, "eth0")
EKEY, AKEY = xfrm.key(16, 37), xfrm.key(20, 38)
sa = SecurityAssociation(ESP, spi=0x3701, crypt_algo="AES-CBC", crypt_key=EKEY,
                         auth_algo="HMAC-SHA1-96", auth_key=AKEY)
xfrm.configure(RX, f"add {SC_IP} {RX_IP} esp 0x3701 -E aes-cbc 0x{EKEY.hex()} -A hmac-sha1 0x{AKEY.hex()};\n"
                  f"spdadd {SC_IP} {RX_IP}[{REQ}] udp -P in ipsec esp/transport//require;\n"
                  f"spdadd {RX_IP} {SC_IP}[{REQ}] udp -P out ipsec esp/transport//require;\n"
                  f"spdadd {RX_IP} {SC_IP}[{DISCARD}] udp -P out discard;\n")
socks = {p: esp.udp_socket(RX, RX_IP, p) for p in (REQ, FREE)}
seq = [0]


def hbh(n):
    return IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1E, optdata=b"h" * n)])


def dstopt(n):
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"d" * n)])


def unfragmented(pre, port, data, protect):
    p = IPv6(src=SC_IP, dst=RX_IP)
    for h in pre:
        p = p / h
    p = p / UDP(sport=40000, dport=port) / Raw(data)
    if protect:
        seq[0] += 1
        p = sa.encrypt(p, seq_num=seq[0])
    return [bytes(p)]


def fragmented(pre, port, data, protect, reverse=False):
    inner = IPv6(src=SC_IP, dst=RX_IP) / UDP(sport=40000, dport=port) / Raw(data)
    if protect:
        seq[0] += 1
        inner = sa.encrypt(inner, seq_num=seq[0])
    inner = IPv6(bytes(inner))
    nh, body = inner.nh, bytes(inner.payload)
    p = IPv6(src=SC_IP, dst=RX_IP)
    for h in pre:
        p = p / h
    p = p / IPv6ExtHdrFragment(nh=nh, id=random.getrandbits(32)) / Raw(body)
    frags = [bytes(f) for f in fragment6(p, 1280)]
    check(len(frags) >= 3, f"fragment6 made {len(frags)} fragments")
    return frags[::-1] if reverse else frags


def headless_first(_pre, port, data, protect):
    """Fragment header, then a 256-byte destination options header and the
    UDP datagram; the first fragment carries 128 bytes of the options."""
    assert not protect
    body = bytes(IPv6ExtHdrDestOpt(nh=17, options=[HBHOptUnknown(otype=0x1E, optdata=b"o" * 252)]))
    body += bytes(IPv6(src=SC_IP, dst=RX_IP, nh=17) / UDP(sport=40000, dport=port) / Raw(data))[40:]
    ident = random.getrandbits(32)
    out = []
    for off, chunk, more in ((0, body[:128], 1), (128, body[128:], 0)):
        out.append(bytes(IPv6(src=SC_IP, dst=RX_IP) / IPv6ExtHdrFragment(nh=60, offset=off // 8, m=more, id=ident)
                         / Raw(chunk)))
    eq(len(body) > 128 + 8, True, "the first fragment ends before the UDP header")
    return out


def inject(pkts):
    for p in pkts:
        esp.inject(SC, "eth0", to_rx + p)


SHAPES = [
    ("hop-by-hop 200", lambda *a: unfragmented([hbh(200)], *a), 100),
    ("hop-by-hop 200 + destination options 64", lambda *a: unfragmented([hbh(200), dstopt(64)], *a), 100),
    ("3 fragments", lambda *a: fragmented([], *a), 3000),
    ("3 fragments, last first", lambda *a: fragmented([], *a, reverse=True), 3000),
    ("hop-by-hop 200 + fragments", lambda *a: fragmented([hbh(200)], *a), 3000),
]
for name, build, size in SHAPES:
    data = bytes(random.getrandbits(8) for _ in range(size))
    inject(build(FREE, data, False))
    eq(esp.recv_within(socks[FREE], 5), data, f"{name}: clear text to port {FREE} (no policy) delivered")
    c = esp.Counters(RX)
    inject(build(REQ, data, False))
    n = xfrm.wait_counted(c, "XfrmInTmplMismatch", "XfrmInHdrError", "XfrmInPolBlock", "XfrmInNoStates")
    eq(esp.recv_within(socks[REQ], 0.2), None, f"{name}: clear text to port {REQ} (require) must not be delivered")
    check(n >= 1, f"{name}: clear text to {REQ} refused without a counter: moved {c.moved()}")
    moved = c.moved()
    inject(build(REQ, data, True))
    eq(esp.recv_within(socks[REQ], 5), data, f"{name}: the same ESP-protected to port {REQ} delivered")
    xfrm.say(f"{name}: clear to {FREE} delivered, clear to {REQ} dropped ({moved}), ESP to {REQ} delivered")

data = b"no ports in the first fragment"
c = esp.Counters(RX)
inject(headless_first(None, REQ, data, False))
eq(esp.recv_within(socks[REQ], 3), None, f"first fragment without ports: clear text to {REQ} must not be delivered")
inject(headless_first(None, FREE, data, False))
got = esp.recv_within(socks[FREE], 2)
xfrm.say(f"first fragment without ports: to {REQ} not delivered; to {FREE} {'delivered' if got else 'not delivered'} "
      f"(counters moved {c.moved()})")

# --- outbound ----------------------------------------------------------------------------
s = esp.udp_socket(RX, RX_IP)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, b"\0" + xfrm.opts_hdr([xfrm.tlv(0x1E, b"o" * 200)]))
c = esp.Counters(RX)
for port, size, allowed in ((FREE, 100, True), (FREE, 3000, True), (REQ, 100, False), (REQ, 3000, False),
                            (DISCARD, 100, False), (DISCARD, 3000, False)):
    sniff.frames(0.1)
    err = esp.send_udp(s, b"x" * size, SC_IP, port)
    frames = [f for f in sniff.frames(0.5) if f.src == RX_IP and f.kind in ("udp", "frag", "esp")]
    if allowed:
        eq(err, None, f"out: sendto {port}")
        want = 1 if size < 1000 else 3
        check(len(frames) >= want and frames[0].ip[6] == 0,
              f"out: {size} bytes to {port} (no policy) should leave with the hop-by-hop header: {frames}")
    else:
        eq(frames, [], f"out: {size} bytes to {port} left rx (sendto: {err})")
s.close()
xfrm.say(f"outbound: nothing clear to {REQ} (require, no SA) or {DISCARD} (discard); counters moved {c.moved()}")
done("long IPv6 header chains and fragments cannot carry clear text past a require policy")
