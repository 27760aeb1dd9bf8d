# cost: 300 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Nested bundles: several templates in one policy, applied in order (the
last one outermost, as in Linux and KAME), and on input a policy check
over the whole chain of SAs. Between namespaces `a` (10.0.0.1, fd00::1)
and `b` (10.0.0.2, fd00::2), both keyed, both directions:
1. [ESP][AH] transport: `esp/transport//require ah/transport//require`;
2. [IPcomp][ESP] transport: `ipcomp/transport//require esp/...` (inbound
   IPcomp `use`: small packets go uncompressed);
3. [IPcomp][ESP][AH] transport, IPv4 and IPv6;
4. ESP transport inside an ESP tunnel (`esp/transport//require
   esp/tunnel/A-B/require`), IPv4 and IPv6.
ESP uses NULL encryption with HMAC-SHA1 so the test can read every layer
off the wire: for each datagram it unwraps AH (its ICV verified by this
test's own code), ESP (its HMAC verified too), IPcomp (inflated with
zlib) and the inner IP header, and checks the chain of SPIs/CPIs and the
final UDP payload; a compressible 1200-byte datagram and a 40-byte one
each way, both delivered, a ping each way; every SA of the bundle
counted traffic on both sides; no input error counted. Case 3 runs once
more with AES-CBC, traffic only."""
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

A, B = "a", "b"
ADDR = {4: ("10.0.0.1", "10.0.0.2"), 6: ("fd00::1", "fd00::2")}
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", A, B)
# Each side's outgoing frames: what it put on the wire (a receiver's own
# veth also shows what its tunnel mode decapsulated).
SNIFF = {A: esp.Sniffer(A, "eth0"), B: esp.Sniffer(B, "eth0")}
PORT = 7500


def unwrap(f, known):
    """The layers of a captured packet: [("ah", spi), ("esp", spi),
    ("ipcomp", cpi), ("ip", src, dst), ..., ("udp", dport)], and the UDP
    payload. `known`: spi -> ("ah", AhSA) | ("esp", hmac key)."""
    layers, proto, p = [], f.proto, f.payload
    while True:
        if proto == 51:
            spi = struct.unpack_from("!I", p, 4)[0]
            layers.append(("ah", spi))
            sa = known.get(spi, (None, None))[1]
            check(isinstance(sa, xfrm.AhSA) and xfrm.ah_verify(sa, f.ip),
                  f"AH SPI {spi:#x}: ICV not the one computed here")
            proto, p = p[0], p[(p[1] + 2) * 4:]
        elif proto == 50:
            spi = struct.unpack_from("!I", p)[0]
            layers.append(("esp", spi))
            kind, akey = known.get(spi, (None, None))
            if kind != "esp-null":
                return layers, None
            _spi, _seq, proto, p = xfrm.esp_null_open(p, 12, akey, hashlib.sha1)
        elif proto == 108:
            nh, cpi, data = xfrm.ipcomp_fields(p)
            layers.append(("ipcomp", cpi))
            proto, p = nh, xfrm.inflate(data)
        elif proto == 4:
            ihl = (p[0] & 15) * 4
            layers.append(("ip", esp.socket.inet_ntop(esp.socket.AF_INET, p[12:16]),
                           esp.socket.inet_ntop(esp.socket.AF_INET, p[16:20])))
            proto, p = p[9], p[ihl:]
        elif proto == 41:
            layers.append(("ip", esp.socket.inet_ntop(esp.socket.AF_INET6, p[8:24]),
                           esp.socket.inet_ntop(esp.socket.AF_INET6, p[24:40])))
            proto, p = p[6], p[40:]
        elif proto == 17:
            layers.append(("udp", struct.unpack_from("!H", p, 2)[0]))
            return layers, p[8:]
        else:
            layers.append((f"proto{proto}",))
            return layers, None


def case(name, fam, templates, sas, cipher=None):
    """templates: the policy's templates for a -> b ("X-Y" stands for the
    tunnel endpoints, swapped for b -> a); sas: [(proto, spi_ab, spi_ba,
    mode, alg)] where alg is an AH algorithm or ignored."""
    a, b = ADDR[fam]
    lines, known = [], {}
    for proto, spi_ab, spi_ba, mode, alg in sas:
        m = " -m tunnel" if mode == "tunnel" else ""
        for spi, src, dst in ((spi_ab, a, b), (spi_ba, b, a)):
            if proto == "ah":
                sa = xfrm.AhSA(spi, alg)
                known[spi] = ("ah", sa)
                lines.append(f"add {src} {dst} ah {spi:#x}{m} {sa.setkey_args()};")
            elif proto == "esp":
                akey = xfrm.key(20, spi)
                enc = f"-E aes-cbc 0x{xfrm.key(16, spi + 1).hex()}" if cipher else "-E null"
                known[spi] = ("esp" if cipher else "esp-null", akey)
                lines.append(f"add {src} {dst} esp {spi:#x}{m} {enc} -A hmac-sha1 0x{akey.hex()};")
            else:
                lines.append(f"add {src} {dst} ipcomp {spi:#x}{m} -C deflate;")
    for ns, me, them in ((A, a, b), (B, b, a)):
        def tmpl(direction_src, direction_dst, inbound):
            out = []
            for t in templates:
                t = t.replace("X-Y", f"{direction_src}-{direction_dst}")
                if inbound and t.startswith("ipcomp/"):
                    t = t.replace("/require", "/use")
                out.append(t)
            return " ".join(out)
        xfrm.configure(ns, "\n".join(lines) + "\n"
                      f"spdadd {me} {them} any -P out ipsec {tmpl(me, them, False)};\n"
                      f"spdadd {them} {me} any -P in ipsec {tmpl(them, me, True)};\n")
    ca, cb = esp.Counters(A), esp.Counters(B)
    compresses = any(p == "ipcomp" for p, *_ in sas)
    for src_ns, src, dst, dst_ns, idx in ((A, a, b, B, 1), (B, b, a, A, 2)):
        for data in (esp.compressible(1200, seed=idx), b"n" * 40):
            SNIFF[src_ns].frames(0.05)
            rs = esp.udp_socket(dst_ns, dst, PORT)
            s = esp.udp_socket(src_ns, src)
            eq(esp.send_udp(s, data, dst, PORT), None, f"{name}: sendto {dst}")
            s.close()
            eq(esp.recv_within(rs, 10), data, f"{name}: {len(data)}-byte datagram {src} -> {dst} delivered")
            rs.close()
            frames = [f for f in SNIFF[src_ns].frames(0.3) if f.outgoing() and f.src == src and f.dst == dst]
            eq(len(frames), 1, f"{name}: frames for one datagram {src} -> {dst}: {frames}")
            layers, payload = unwrap(frames[0], known)
            want = []
            for proto, spi_ab, spi_ba, mode, _alg in reversed(sas):
                if proto == "ipcomp" and len(data) < 100:
                    continue  # below the threshold: sent without IPcomp
                want.append((proto, spi_ab if idx == 1 else spi_ba))
                if mode == "tunnel":
                    want.append(("ip", src, dst))
            if cipher:
                want = want[:[p for p, *_ in want].index("esp") + 1]
            else:
                want.append(("udp", PORT))
            eq(layers, want, f"{name}: layers of the {len(data)}-byte datagram {src} -> {dst}")
            if not cipher:
                eq(payload, data, f"{name}: the payload under all layers {src} -> {dst}")
    check(esp.ping(A, b, count=2), f"{name}: ping a -> b")
    check(esp.ping(B, a, count=2), f"{name}: ping b -> a")
    for c, ns in ((ca, A), (cb, B)):
        eq(c.delta("XfrmInStateProtoError", "XfrmInNoStates", "XfrmInTmplMismatch", "XfrmInStateSeqError"), 0,
           f"{name}: {ns} refused packets (moved {c.moved()})")
    xfrm.expect_used(check, (A, B), [spi for _p, ab, ba, _m, _a in sas for spi in (ab, ba)], name)
    xfrm.say(f"{name}: both ways, {'compressed and not, ' if compresses else ''}every layer as the policy says, "
          f"all {2 * len(sas)} SAs counted")


ESP_AH = ["esp/transport//require", "ah/transport//require"]
COMP_ESP = ["ipcomp/transport//require", "esp/transport//require"]
COMP_ESP_AH = COMP_ESP + ["ah/transport//require"]
ESP_IN_TUNNEL = ["esp/transport//require", "esp/tunnel/X-Y/require"]

case("[ESP][AH] IPv4", 4, ESP_AH, [("esp", 0x3501, 0x3502, "transport", None),
                                  ("ah", 0x3503, 0x3504, "transport", "hmac-sha256")])
case("[IPcomp][ESP] IPv4", 4, COMP_ESP, [("ipcomp", 0x3511, 0x3512, "transport", None),
                                        ("esp", 0x3513, 0x3514, "transport", None)])
for fam, base in ((4, 0x3520), (6, 0x3530)):
    case(f"[IPcomp][ESP][AH] IPv{fam}", fam, COMP_ESP_AH,
         [("ipcomp", base + 1, base + 2, "transport", None), ("esp", base + 3, base + 4, "transport", None),
          ("ah", base + 5, base + 6, "transport", "hmac-sha1")])
case("[IPcomp][ESP][AH] IPv4, AES-CBC", 4, COMP_ESP_AH,
     [("ipcomp", 0x3541, 0x3542, "transport", None), ("esp", 0x3543, 0x3544, "transport", None),
      ("ah", 0x3545, 0x3546, "transport", "hmac-md5")], cipher="aes-cbc")
for fam, base in ((4, 0x3550), (6, 0x3560)):
    case(f"ESP transport in ESP tunnel IPv{fam}", fam, ESP_IN_TUNNEL,
         [("esp", base + 1, base + 2, "transport", None), ("esp", base + 3, base + 4, "tunnel", None)])
done("nested bundles: [ESP][AH], [IPcomp][ESP], [IPcomp][ESP][AH], ESP in an ESP tunnel, both ways")
