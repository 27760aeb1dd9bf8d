# cost: 210 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""What AH, IPcomp and nested-policy input refuse, each refusal dropped
(a UDP socket in the receiver gets nothing) and counted in the receiver's
counters (/proc/net/rxfrm_stat, or the kernel's /proc/net/xfrm_stat for
native: Linux's names) and, for AH, on the SA (`setkey -D`'s `stats:`
line; xfrm_user's for native). Namespaces: snd (10.0.0.1, fd00::1) sends,
rcv (10.0.0.2, fd00::2) receives; packets captured on snd's veth are
changed and re-injected there.
1. AH, IPv4 (replay window 32): with no SA in rcv, XfrmInNoStates. With
   the SA: the first packet with its ICV changed, with its IP ID changed
   (immutable; header checksum fixed) or with a payload byte changed is
   dropped as XfrmInStateProtoError, each time the SA's integrity_failed
   going up; with TOS and TTL changed (mutable) it is delivered — the
   refusals did not use up its sequence number; replayed it is dropped
   (XfrmInStateSeqError, the SA's replay), the second packet is
   delivered, replayed dropped. The SA counts exactly 2 packets.
2. AH, IPv6: a changed hop limit, flow label or mutable (0x3e) option is
   accepted, a changed immutable (0x1e) option is XfrmInStateProtoError.
3. Policy `esp/transport//require ah/transport//require` inbound: ESP
   alone, AH alone, and AH inside ESP (the wrong order) are each dropped
   as XfrmInTmplMismatch although their SAs accepted them; AH outside ESP
   is delivered. (Native Linux cannot verify AH inside transport ESP — its
   AH input sees the outer protocol number — and drops that one as
   XfrmInStateProtoError; see below.)
4. IPcomp: an IPcomp packet with a CPI rcv has no SA for is
   XfrmInNoStates; one whose payload is not deflate, or a deflate stream
   cut short, is XfrmInStateProtoError; the same datagram properly
   deflated is delivered."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

SND, RCV = "snd", "rcv"
ADDR = {4: ("10.0.0.1", "10.0.0.2"), 6: ("fd00::1", "fd00::2")}
PORT = 6000
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", SND, RCV)
wire = esp.Sniffer(SND, "eth0")
rsock = {fam: esp.udp_socket(RCV, ADDR[fam][1], PORT) for fam in (4, 6)}


def send(fam, data, opts=()):
    s = esp.udp_socket(SND, ADDR[fam][0])
    for o in opts:
        s.setsockopt(*o)
    err = esp.send_udp(s, data, ADDR[fam][1], PORT)
    s.close()
    return err


def delivered(fam, timeout=2):
    return esp.recv_within(rsock[fam], timeout)


def refused(fam, raw, counter, what, sa=None, sa_field=None):
    """Injecting frame `raw` delivers nothing and moves `counter` by one
    (and the SA's error counter `sa_field`, if given)."""
    c = esp.Counters(RCV)
    before = xfrm.sa_errors(RCV, sa) if sa else None
    esp.inject(SND, "eth0", bytes(raw))
    xfrm.wait_counted(c, counter)  # the drop was counted: the packet is done with
    eq(delivered(fam, 0.2), None, f"{what}: must not be delivered")
    eq(c.delta(counter), 1, f"{what}: {counter} (moved {c.moved()})")
    if sa:
        after = xfrm.sa_errors(RCV, sa)
        eq(after[sa_field] - before[sa_field], 1, f"{what}: the SA's {sa_field} ({before} -> {after})")


def ah_frames(spi, n):
    got = wire.wait_for(lambda f: f.kind == "ah" and f.spi == spi and f.outgoing(), count=n)
    eq(len(got), n, f"AH frames with SPI {spi:#x} snd sent")
    return sorted(got, key=lambda f: f.seq)


def changed(f, edit, fix_v4=True):
    """Frame f's bytes with edit(ip bytearray) applied."""
    ip = bytearray(f.ip)
    edit(ip)
    if fix_v4 and ip[0] >> 4 == 4:
        xfrm.ipv4_fix_checksum(ip)
    return f.raw[:14] + bytes(ip)


# --- 1. AH, IPv4 --------------------------------------------------------------------------
s, r = ADDR[4]
sa = xfrm.AhSA(0x3601, "hmac-sha1")
xfrm.configure(SND, f"add {s} {r} ah {sa.spi:#x} {sa.setkey_args()};\n"
                   f"spdadd {s} {r} udp -P out ipsec ah/transport//require;\n")
xfrm.configure(RCV, "")
wire.frames(0.2)
for text in (b"first", b"second"):
    eq(send(4, text), None, f"sendto {text!r}")
first, second = ah_frames(sa.spi, 2)
eq((first.seq, second.seq), (1, 2), "AH sequence numbers of a new SA")
check(xfrm.ah_verify(sa, first.ip), "snd's AH verifies here")
eq(delivered(4, 1), None, "AH without an SA in rcv must not be delivered")
refused(4, first.raw, "XfrmInNoStates", "AH, unknown SPI")

xfrm.configure(RCV, f"add {s} {r} ah {sa.spi:#x} -r 32 {sa.setkey_args()};\n"
                   f"spdadd {s} {r} udp -P in ipsec ah/transport//require;\n")
off = xfrm.ah_offset(first.ip)


def icv(ip):
    ip[off + 12 + sa.icv_len - 1] ^= 0x01


def ident(ip):
    ip[4] ^= 0x80


def payload(ip):
    ip[-1] ^= 0x20


def path(ip):
    ip[1], ip[8] = 0x10, ip[8] - 5


for what, edit in (("AH, ICV changed", icv), ("AH, IP ID (immutable) changed", ident),
                   ("AH, payload changed", payload)):
    refused(4, changed(first, edit), "XfrmInStateProtoError", what, sa.spi, "integrity_failed")
c = esp.Counters(RCV)
esp.inject(SND, "eth0", changed(first, path))
eq(delivered(4, 5), b"first", "AH with TOS and TTL (mutable) changed, after the refusals: delivered")
refused(4, first.raw, "XfrmInStateSeqError", "AH replayed", sa.spi, "replay")
esp.inject(SND, "eth0", second.raw)
eq(delivered(4, 5), b"second", "the next AH sequence number after a replay")
refused(4, second.raw, "XfrmInStateSeqError", "AH replayed again", sa.spi, "replay")
eq((esp.sa(RCV, sa.spi) or {}).get("packets"), 2, "rcv's AH SA counts the two packets it accepted")
errs = xfrm.sa_errors(RCV, sa.spi)
eq(errs, {"replay": 2, "integrity_failed": 3}, "rcv's AH SA error counters")
xfrm.say(f"AH IPv4: unknown SPI, changed ICV / IP ID / payload, replays refused and counted; SA {errs}")

# --- 2. AH, IPv6 -------------------------------------------------------------------------------
s, r = ADDR[6]
sa6 = xfrm.AhSA(0x3602, "hmac-sha256")
xfrm.configure(SND, f"add {s} {r} ah {sa6.spi:#x} {sa6.setkey_args()};\n"
                   f"spdadd {s} {r} udp -P out ipsec ah/transport//require;\n")
xfrm.configure(RCV, f"add {s} {r} ah {sa6.spi:#x} -r 32 {sa6.setkey_args()};\n"
                   f"spdadd {s} {r} udp -P in ipsec ah/transport//require;\n")
hbh = b"\0" + xfrm.opts_hdr([xfrm.tlv(0x1E, b"fixed"), xfrm.tlv(0x3E, b"free")])
wire.frames(0.2)
for n in range(3):
    eq(send(6, b"v6 %d" % n, [(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, hbh)]), None, "sendto over IPv6")
v6 = ah_frames(sa6.spi, 3)
eq([delivered(6, 5) for _ in v6], [b"v6 0", b"v6 1", b"v6 2"], "snd's IPv6 AH delivered")
ip0 = v6[0].ip
imm, mut = ip0.index(b"fixed"), ip0.index(b"free")


def opt(at):
    def edit(ip):
        ip[at] ^= 0x01
    return edit


# The captured packets were delivered once already: a fresh SA (an empty
# replay window) lets them be judged by their ICV alone.
esp.setkey(RCV, "-c", stdin=f"delete {s} {r} ah {sa6.spi:#x};\nadd {s} {r} ah {sa6.spi:#x} -r 32 {sa6.setkey_args()};\n")
refused(6, changed(v6[0], opt(imm)), "XfrmInStateProtoError", "AH IPv6, immutable option changed",
        sa6.spi, "integrity_failed")


def hop(ip):
    ip[7] = 1


def flow(ip):
    ip[1:4] = bytes([ip[1] & 0xF0 | 0x0A, 0xBC, 0xDE])


for f, (what, edit) in zip(v6, (("hop limit", hop), ("flow label", flow), ("mutable option", opt(mut)))):
    esp.inject(SND, "eth0", changed(f, edit))
    eq(delivered(6, 5), f.ip[-4:], f"AH IPv6 with its {what} changed: delivered")
xfrm.say("AH IPv6: hop limit, flow label, mutable option changed accepted; immutable option refused")

# --- 3. ESP + AH required, anything less refused ------------------------------------------------
s, r = ADDR[4]
ESP_ALGS = f"-E aes-cbc 0x{xfrm.key(16, 5).hex()} -A hmac-sha1 0x{xfrm.key(20, 6).hex()}"
ah = xfrm.AhSA(0x3611, "hmac-md5")
both = f"add {s} {r} esp 0x3612 {ESP_ALGS};\nadd {s} {r} ah {ah.spi:#x} {ah.setkey_args()};\n"
xfrm.configure(RCV, both + f"spdadd {s} {r} udp -P in ipsec esp/transport//require ah/transport//require;\n")
for what, tmpl in (("ESP alone", "esp/transport//require"), ("AH alone", "ah/transport//require"),
                   ("AH inside ESP", "ah/transport//require esp/transport//require")):
    xfrm.configure(SND, both + f"spdadd {s} {r} udp -P out ipsec {tmpl};\n")
    c = esp.Counters(RCV)
    used = {spi: (esp.sa(RCV, spi) or {}).get("packets", 0) for spi in (0x3612, ah.spi)}
    eq(send(4, what.encode()), None, f"{what}: sendto")
    xfrm.wait_counted(c, "XfrmInTmplMismatch", "XfrmInStateProtoError")
    eq(delivered(4, 0.2), None, f"{what}: must not be delivered where ESP and AH are required")
    if xfrm.NATIVE and what == "AH inside ESP":
        # Linux processes chained transport SAs in one xfrm_input() pass and
        # rewrites the IP protocol field only after the last one: ah4_input
        # sees protocol 50 where the sender signed 51, so native refuses the
        # packet earlier, as an ICV failure. (RFC 4301 has AH verify here,
        # then the policy refuse the order: rxfrm must say XfrmInTmplMismatch.)
        eq(c.delta("XfrmInStateProtoError"), 1, f"{what}: native: XfrmInStateProtoError (moved {c.moved()})")
        xfrm.say(f"{what}: native Linux refuses it as an ICV failure (moved {c.moved()})")
        continue
    eq(c.delta("XfrmInTmplMismatch"), 1, f"{what}: XfrmInTmplMismatch (moved {c.moved()})")
    eq(c.delta("XfrmInStateProtoError", "XfrmInNoStates"), 0, f"{what}: its SAs accepted it (moved {c.moved()})")
    for spi in ([0x3612] if "ESP" in what else []) + ([ah.spi] if "AH" in what else []):
        eq((esp.sa(RCV, spi) or {}).get("packets", 0), used[spi] + 1, f"{what}: rcv's SA {spi:#x} processed it")
xfrm.configure(SND, both + f"spdadd {s} {r} udp -P out ipsec esp/transport//require ah/transport//require;\n")
eq(send(4, b"AH(ESP)"), None, "AH(ESP): sendto")
eq(delivered(4, 5), b"AH(ESP)", "ESP inside AH, as required: delivered")
xfrm.say("ESP+AH required: ESP alone, AH alone, the wrong order refused (XfrmInTmplMismatch)")

# --- 4. IPcomp ---------------------------------------------------------------------------------
xfrm.configure(SND, "")
xfrm.configure(RCV, f"add {s} {r} ipcomp 0x3621 -C deflate;\n"
                   f"spdadd {s} {r} udp -P in ipsec ipcomp/transport//use;\n")
text = esp.compressible(1000, seed=36)
dgram = xfrm.udp(s, r, 4000, PORT, text)
eth = esp.eth_header(SND, "eth0", RCV, "eth0")


def ipcomp(cpi, compressed):
    return eth + xfrm.ip_packet(s, r, 108, xfrm.ipcomp_payload(17, cpi, None, compressed))


good = xfrm.deflate(dgram)
refused(4, ipcomp(0x3622, good), "XfrmInNoStates", "IPcomp, CPI without an SA")
# 0x07: a final block of the reserved type 3 (RFC 1951 §3.2.3): never deflate.
refused(4, ipcomp(0x3621, b"\x07" + os.urandom(len(good))), "XfrmInStateProtoError", "IPcomp, not deflate")
# A stored block (RFC 1951 §3.2.4) announcing the whole datagram, cut in
# half. (Not a cut Huffman stream: Linux's inflate feeds one extra zero
# byte after the input, which ends a fixed-Huffman block — 7 zero bits are
# its end-of-block code — and "inflates" such a stream to a shorter packet
# that UDP then drops, uncounted by xfrm.)
cut = b"\x01" + struct.pack("<HH", len(dgram), len(dgram) ^ 0xFFFF) + dgram[:len(dgram) // 2]
refused(4, ipcomp(0x3621, cut), "XfrmInStateProtoError", "IPcomp, deflate stream cut short")
esp.inject(SND, "eth0", ipcomp(0x3621, good))
eq(delivered(4, 5), text, "the same datagram, properly deflated, with the right CPI: delivered")
xfrm.say("IPcomp: unknown CPI (XfrmInNoStates), payloads that do not inflate (XfrmInStateProtoError) refused")
done("AH, nesting and IPcomp input refuse what they must, and count it")
