# cost: 300 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""AH interoperates with code that shares nothing with the implementation:
this test's own RFC 4302 code (selftests/lib/xfrm.py: mutable fields
zeroed by its own rules, HMACs from Python's hmac/hashlib, AES-XCBC-MAC
and AES-CMAC over python3-cryptography's AES). Namespace `rx` (10.0.0.1,
fd00::1) is keyed; `sc` (10.0.0.2, fd00::2) has no IPsec: the test plays
its part on raw frames of its veth.
1. Every AH algorithm the implementation offers in its PF_KEY REGISTER
   reply (hmac-md5, hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512,
   aes-xcbc-mac, aes-cmac; Linux af_key has no SADB id for AES-CMAC, and
   truncates HMAC-SHA256 to 96 bits where rxfrm follows RFC 4868's 128),
   IPv4 transport: rx's AH datagram verifies here (and no longer does with
   one payload bit changed), AH padded to 32 bits (RFC 4302; native Linux
   pads IPv4 AH to 64 bits, and the test builds that for it); the test's
   AH datagram is delivered to a
   socket in rx; the test's AH echo request is answered with an AH echo
   reply that verifies here and matches the request.
2. Mutable fields: the test signs, then changes what a path may change —
   IPv4 TOS, TTL, DF and a Record Route slot (a Router Alert kept);
   IPv6 traffic class, flow label, hop limit and the data of 0x20-typed
   options in a hop-by-hop and a destination options header before AH,
   with a type 0 routing header as at its final destination — and rx
   still delivers. rx's own IPv6 AH with hop-by-hop and destination
   options (socket options) verifies here.
3. Tunnel mode, 4in4 and 6in6: both ways as in 1.
4. ESN (`setkey -f esn`; for native through xfrm_user, as af_key has no
   ESN): rx's ICV covers the high half (0) — it does not verify without
   it —, the test's packet signed with high half 0 is delivered, one
   signed with high half 1 is dropped and counted (XfrmInStateProtoError
   and the SA's integrity_failed)."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

RX, SC = "rx", "sc"
ADDR = {4: ("10.0.0.1", "10.0.0.2"), 6: ("fd00::1", "fd00::2")}
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", RX, SC)
sniff = esp.Sniffer(SC, "eth0")
offered = xfrm.supported_auth(RX)
xfrm.say(f"REGISTER (AH) offers SADB auth ids {sorted(offered)}")


def inject(pkt):
    esp.inject(SC, "eth0", xfrm.frame(pkt, SC, "eth0", RX, "eth0"))


def from_rx(sa, what, pred=lambda f: True):
    got = sniff.wait_for(lambda f: f.kind == "ah" and f.spi == sa.spi and pred(f), timeout=10)
    check(got, f"{what}: no AH with SPI {sa.spi:#x} from rx on the wire")
    return got[0]


def key_rx(fam, out, inb, mode="transport"):
    rx, sc = ADDR[fam]
    t_out = f"ah/tunnel/{rx}-{sc}/require" if mode == "tunnel" else "ah/transport//require"
    t_in = f"ah/tunnel/{sc}-{rx}/require" if mode == "tunnel" else "ah/transport//require"
    xfrm.configure_ah(RX, [(rx, sc, out, mode), (sc, rx, inb, mode)],
                      f"spdadd {rx} {sc} any -P out ipsec {t_out};\n"
                      f"spdadd {sc} {rx} any -P in ipsec {t_in};\n")


def rx_sends(fam, out, what, port=5555, opts=()):
    """A datagram rx sends leaves as AH that verifies here; returns it."""
    rx, sc = ADDR[fam]
    sniff.frames(0.1)
    s = esp.udp_socket(RX, rx)
    for o in opts:
        s.setsockopt(*o)
    data = f"rx -> sc, {what}".encode()
    eq(esp.send_udp(s, data, sc, port), None, f"{what}: sendto from rx")
    s.close()
    f = from_rx(out, what)
    check(xfrm.ah_verify(out, f.ip), f"{what}: rx's AH ICV is not the one computed here: {f.ip.hex()}")
    eq(len(xfrm.ah_fields(f.ip)[4]), xfrm.ah_field_len(fam == 6, out.icv_len),
       f"{what}: rx's ICV field (AH padded to {8 if fam == 6 or xfrm.NATIVE else 4} bytes)")
    flipped = bytearray(f.ip)
    flipped[-1] ^= 1
    check(not xfrm.ah_verify(out, bytes(flipped)), f"{what}: the check also passes a changed packet")
    return f, data


def inner_udp(f, what):
    """(dport, data) of the UDP datagram AH (transport) carries, past any
    destination options header."""
    nh, p = f.inner, f.inner_payload
    if nh == "proto60":
        nh, p = esp.Frame._kind(p[0], b""), p[(p[1] + 1) * 8:]
    eq(nh, "udp", f"{what}: what AH carries")
    return struct.unpack_from("!H", p, 2)[0], p[8:]


def sc_sends(fam, inb, seq, what, port=5556, mutate=None, pre=(), esn_hi=None, want=True, **kw):
    """The test's AH datagram (optionally changed after signing) is
    delivered in rx (or, want=False, is not)."""
    rx, sc = ADDR[fam]
    rs = esp.udp_socket(RX, rx, port)
    data = f"sc -> rx, {what}".encode()
    pkt = xfrm.ah_packet(inb, seq, sc, rx, 17, xfrm.udp(sc, rx, 40000, port, data),
                         pre=pre, esn_hi=esn_hi, **kw)
    if mutate:
        pkt = mutate(bytearray(pkt))
    inject(bytes(pkt))
    got = esp.recv_within(rs, 5 if want else 2)
    rs.close()
    eq(got, data if want else None, f"{what}: the test's AH datagram {'delivered' if want else 'dropped'} in rx")


def echo(fam, out, inb, seq, what):
    rx, sc = ADDR[fam]
    sniff.frames(0.1)
    text = f"echo, {what}".encode()
    req = xfrm.echo_request(sc, rx, 0x3300 + seq, seq, text)
    inject(xfrm.ah_packet(inb, seq, sc, rx, 58 if fam == 6 else 1, req))
    want = (129 if fam == 6 else 0)
    f = from_rx(out, f"{what}: echo reply", lambda f: f.inner in ("icmp", "icmp6"))
    check(xfrm.ah_verify(out, f.ip), f"{what}: rx's echo reply ICV")
    t, _code, _sum, ident, s = struct.unpack_from("!BBHHH", f.inner_payload)
    eq((t, ident, s, f.inner_payload[8:]), (want, 0x3300 + seq, seq, text), f"{what}: the echo reply")


# --- 1. every algorithm, IPv4 transport ---------------------------------------------
tested = []
for n, auth in enumerate(xfrm.AUTH.values()):
    if auth.sadb_id not in offered:
        xfrm.say(f"{auth.name}: not offered by {xfrm.IMPL} (REGISTER has no SADB id {auth.sadb_id}), skipped")
        continue
    out, inb = xfrm.AhSA(0x3300 + 2 * n, auth.name), xfrm.AhSA(0x3301 + 2 * n, auth.name)
    key_rx(4, out, inb)
    f, data = rx_sends(4, out, auth.name)
    eq(inner_udp(f, auth.name), (5555, data), f"{auth.name}: the datagram inside rx's AH")
    sc_sends(4, inb, 1, auth.name)
    echo(4, out, inb, 2, auth.name)
    eq((esp.sa(RX, inb.spi) or {}).get("packets"), 2, f"{auth.name}: rx's inbound SA counts the test's 2 packets")
    tested.append(auth.name)
    xfrm.say(f"{auth.name} ({auth.icv_len * 8}-bit ICV): rx's AH verifies here, the test's AH is accepted")
check(len(tested) >= 6, f"algorithms tested: {tested}")
if not xfrm.NATIVE:
    check("aes-cmac" in tested, "rxfrm offers AES-CMAC-96 (SADB id 253)")


# --- 2. mutable fields ------------------------------------------------------------------
def v4_path(p):
    """What routers may do to an IPv4 packet: TOS, TTL, DF, Record Route."""
    p[1], p[8] = 0xB8, 3
    p[6:8] = b"\0\0"
    p[22:27] = bytes([8]) + socket.inet_aton("10.9.9.9")  # RR pointer + first slot
    return xfrm.ipv4_fix_checksum(p)


def v4_tos(p):
    p[1] = 0x04
    return xfrm.ipv4_fix_checksum(p)


def v6_path(p):
    """Traffic class, flow label, hop limit, and the mutable options' data."""
    p[0:4] = struct.pack("!I", (6 << 28) | (0xB8 << 20) | 0xABCDE)
    p[7] = 1
    for off in range(40, xfrm.ah_offset(p)):
        if p[off] == 0x3E and p[off + 1] == 4 and p[off + 2:off + 6] == b"mut!":
            p[off + 2:off + 6] = b"MUT?"
    return p


out, inb = xfrm.AhSA(0x3320, "hmac-sha1"), xfrm.AhSA(0x3321, "hmac-sha1")
key_rx(4, out, inb)
sc_sends(4, inb, 1, "IPv4 options, mutable fields changed", mutate=v4_path,
         options=xfrm.ipv4_opt_rr(2) + xfrm.ipv4_opt_ra(0))
sc_sends(4, inb, 2, "IPv4 TOS changed", mutate=v4_tos)
f, _ = rx_sends(4, out, "rx's IPv4 options", opts=[(socket.IPPROTO_IP, socket.IP_OPTIONS,
                                                       xfrm.ipv4_opt_rr(3) + xfrm.ipv4_opt_ra()),
                                                      (socket.IPPROTO_IP, socket.IP_TOS, 0x28)])
eq((f.ip[0] & 15, f.ip[1]), (10, 0x28), "rx's datagram carries the options and the TOS")
xfrm.say("IPv4: mutable fields changed after signing accepted; rx's options and TOS verify")

out, inb = xfrm.AhSA(0x3322, "hmac-sha1"), xfrm.AhSA(0x3323, "hmac-sha1")
key_rx(6, out, inb)
pre = [(0, xfrm.opts_hdr([xfrm.tlv(0x1E, b"same"), xfrm.tlv(0x3E, b"mut!")])),
       (60, xfrm.opts_hdr([xfrm.tlv(0x3E, b"mut!"), xfrm.tlv(0x1E, b"kept")])),
       (43, xfrm.rh0_hdr(["fd00::77"], 0))]
sc_sends(6, inb, 1, "IPv6 extension headers, mutable fields changed", pre=pre, mutate=v6_path,
         hlim=64, tclass=0, flow=0x11111)
hbh = b"\0" + xfrm.opts_hdr([xfrm.tlv(0x1E, b"immutable"), xfrm.tlv(0x3E, b"mutable")])
dst = b"\0" + xfrm.opts_hdr([xfrm.tlv(0x3E, b"after AH")])
IP6 = socket.IPPROTO_IPV6
f, data = rx_sends(6, out, "rx's IPv6 options", opts=[(IP6, socket.IPV6_HOPOPTS, hbh), (IP6, socket.IPV6_DSTOPTS, dst),
                                                      (IP6, socket.IPV6_TCLASS, 0x28)])
eq((f.ip[6], f.ip[40 + (f.ip[41] + 1) * 8]), (0, 51), "rx's IPv6 AH follows its hop-by-hop header")
eq(inner_udp(f, "rx's IPv6 options"), (5555, data), "the datagram inside rx's IPv6 AH")
echo(6, out, inb, 2, "IPv6")
xfrm.say("IPv6: extension headers' mutable options, TC, flow label and hop limit changed after signing accepted")

# --- 3. tunnel mode ---------------------------------------------------------------------
for fam, alg, base in ((4, "hmac-sha256", 0x3330), (6, "aes-xcbc-mac", 0x3332)):
    if xfrm.AUTH[alg].sadb_id not in offered:
        continue
    rx, sc = ADDR[fam]
    out, inb = xfrm.AhSA(base, alg), xfrm.AhSA(base + 1, alg)
    key_rx(fam, out, inb, "tunnel")
    sniff.frames(0.1)
    s = esp.udp_socket(RX, rx)
    eq(esp.send_udp(s, b"tunnel from rx", sc, 5555), None, f"{fam}: sendto through the tunnel")
    s.close()
    f = from_rx(out, f"tunnel IPv{fam}")
    eq(f.inner, "ip6" if fam == 6 else "ipip", f"tunnel IPv{fam}: what AH carries")
    check(xfrm.ah_verify(out, f.ip), f"tunnel IPv{fam}: rx's AH ICV")
    inner = esp.Frame(b"\0" * 12 + struct.pack("!H", esp.ETH_P_IPV6 if fam == 6 else esp.ETH_P_IP) + f.inner_payload)
    eq((inner.src, inner.dst, inner.kind, inner.payload[8:]), (rx, sc, "udp", b"tunnel from rx"),
       f"tunnel IPv{fam}: the inner packet")
    rs = esp.udp_socket(RX, rx, 5557)
    inner_pkt = xfrm.udp_packet(sc, rx, 40000, 5557, b"tunnel from sc")
    inject(xfrm.ah_packet(inb, 1, sc, rx, 41 if fam == 6 else 4, inner_pkt))
    eq(esp.recv_within(rs, 5), b"tunnel from sc", f"tunnel IPv{fam}: the test's AH tunnel packet delivered")
    rs.close()
    xfrm.say(f"tunnel IPv{fam} ({alg}): both ways")

# --- 4. ESN ------------------------------------------------------------------------------
out = xfrm.AhSA(0x3340, "hmac-sha1", esn=True)
inb = xfrm.AhSA(0x3341, "hmac-sha1", esn=True)
key_rx(4, out, inb)
f, _ = rx_sends(4, out, "ESN")  # verified with the high half (0) appended
plain = xfrm.AhSA(out.spi, "hmac-sha1", out.key)
check(not xfrm.ah_verify(plain, f.ip), "ESN: rx's ICV verifies without the high half: ESN not in effect")
sc_sends(4, inb, 1, "ESN, high half 0", esn_hi=0)
c = esp.Counters(RX)
err0 = xfrm.sa_errors(RX, inb.spi)
sc_sends(4, inb, 100, "ESN, signed with high half 1", esn_hi=1, want=False)
eq(c.delta("XfrmInStateProtoError"), 1, f"ESN: wrong high half counted (moved {c.moved()})")
eq(xfrm.sa_errors(RX, inb.spi)["integrity_failed"], err0["integrity_failed"] + 1, "ESN: the SA's integrity_failed")
sc_sends(4, inb, 101, "ESN, high half 0 after the refusal", esn_hi=0)
if not xfrm.NATIVE:
    eq((esp.sa(RX, inb.spi) or {}).get("flags", 0) & 0x400, 0x400, "ESN: setkey -D shows the ESN flag")
xfrm.say("ESN: high half authenticated both ways, a wrong one refused")
done(f"AH interoperates with the test's own RFC 4302 code ({', '.join(tested)})")
