# cost: 80 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Packet fuzzing against live ESP, AH and IPcomp SAs (issue 11's harness).

Namespace `rx` (10.0.0.1, fd00::1) holds inbound SAs from `sc` (10.0.0.2,
fd00::2), each guarding one UDP port with a `require` policy:
  7001 ESP transport (NULL + HMAC-SHA1)   7005 the same over IPv6
  7002 AH transport (HMAC-SHA1)           7006 the same over IPv6
  7003 ESP tunnel sc -> rx                7004 IPcomp transport (`use`)
  7000 no policy (the control: clear text goes through)
ESP uses NULL encryption so that the test can write any trailer (padding,
next header, inner packet) under a valid ICV. `sc` has no IPsec: every
packet is built here (xfrm.py, independent of the kernel) and injected on
sc's veth, in batches closed by a barrier datagram to port 7000.

A seeded generator (RXFRM_PKTFUZZ_SEED, RXFRM_PKTFUZZ_COUNT) sends
  valid      a fresh sequence number, to its SA's port: must arrive once;
  mutated    a valid packet changed from its ESP/AH header on (bytes
             flipped or overwritten, truncated, extended, SPI or sequence
             number replaced; the IP header's lengths and checksum then
             fixed, so the IP layer passes it): must never arrive and must
             be counted by an Xfrm* counter;
  replayed   an accepted packet again, or a sequence number below the
             window: never arrives, counted;
  cross      a valid packet of one SA to another SA's port (wrong SA,
             wrong mode, wrong protocol: the sec_path check): never
             arrives, counted;
  clear      clear text to a guarded port, with IPv4 options or IPv6
             extension headers or fragmented: never arrives, counted;
  malformed  a valid ICV over a bad inside (pad length past the data,
             next header 59, a broken inner IPv4 header in tunnel mode, a
             bad UDP checksum): never arrives;
  fragments  valid and mutated ESP split into outer IP fragments (in
             order or reversed): as valid / mutated;
  ipcomp     valid, mutated, random and "deflate bomb" IPcomp payloads:
             robustness only (IPcomp has no integrity; valid ones arrive).
Every injected frame is written to a pcap (RXFRM_FUZZ_OUT or the VM's run
directory), with its index and class in the failure message: a failure
is a reproducer. The kernel log must stay clean (the runner checks).
Runs against the kernel's own IPsec too (RXFRM_IMPL=native)."""
import os
import random
import select
import socket
import struct
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq, wait_until  # noqa: E402
import esp  # noqa: E402

SEED = int(os.environ.get("RXFRM_PKTFUZZ_SEED", "41"))
COUNT = int(os.environ.get("RXFRM_PKTFUZZ_COUNT", "1500"))
BATCH = 150
OUT = os.environ.get("RXFRM_FUZZ_OUT") or os.path.join(os.environ.get("RXFRM_RUN", "/tmp"), "fuzz-out")
RX, SC = "rx", "sc"
A4, B4, A6, B6 = "10.0.0.2", "10.0.0.1", "fd00::2", "fd00::1"  # sc -> rx
CTRL, P_ESP, P_AH, P_TUN, P_COMP, P_ESP6, P_AH6 = 7000, 7001, 7002, 7003, 7004, 7005, 7006
XFRM_ERRORS = ["XfrmInError", "XfrmInBufferError", "XfrmInHdrError", "XfrmInNoStates",
               "XfrmInStateProtoError", "XfrmInStateModeError", "XfrmInStateSeqError",
               "XfrmInStateExpired", "XfrmInStateMismatch", "XfrmInStateInvalid",
               "XfrmInTmplMismatch", "XfrmInNoPols", "XfrmInPolBlock", "XfrmInPolError",
               "XfrmInStateDirError", "RxfrmInPadError"]

xfrm.say(f"implementation: {xfrm.describe()}; seed {SEED}, {COUNT} packets")
esp.topology("pair", RX, SC)
ETH4 = esp.eth_header(SC, "eth0", RX, "eth0", esp.ETH_P_IP)
ETH6 = esp.eth_header(SC, "eth0", RX, "eth0", esp.ETH_P_IPV6)


class EspSA:
    def __init__(self, spi, src, dst, port, tunnel=False):
        self.spi, self.src, self.dst, self.port, self.tunnel = spi, src, dst, port, tunnel
        # seq: the last sequence number used; top: the highest one sure to
        # have passed the ICV and the replay check (so the window is there)
        self.key, self.seq, self.top = xfrm.key(20, spi & 0xFF), 0, 0

    def line(self):
        m = " -m tunnel" if self.tunnel else ""
        return f"add {self.src} {self.dst} esp {self.spi:#x}{m} -r 32 -E null -A hmac-sha1 0x{self.key.hex()};\n"

    def inner(self, data, port=None):
        """(next header, bytes) of what this SA carries for a datagram to
        `port` (its own by default)."""
        seg = xfrm.udp(self.src, self.dst, 40000, port or self.port, data)
        if self.tunnel:
            return 4, xfrm.ipv4(self.src, self.dst, 17, seg)
        return 17, seg

    def packet(self, seq, nh, inner, **kw):
        body = xfrm.esp_null_seal(self.spi, seq, nh, inner, self.key, **kw)
        return xfrm.ip_packet(self.src, self.dst, 50, body, **({"frag": 0} if ":" not in self.src else {}))

    def seal_raw(self, seq, body_wo_icv):
        """ESP with the caller's own trailer, and a valid ICV."""
        body = struct.pack("!II", self.spi, seq) + body_wo_icv
        return body + xfrm.hmac.new(self.key, body, xfrm.hashlib.sha1).digest()[:12]


class AhSA:
    def __init__(self, spi, src, dst, port):
        self.sa = xfrm.AhSA(spi, "hmac-sha1")
        self.spi, self.src, self.dst, self.port, self.tunnel = spi, src, dst, port, False
        self.seq = self.top = 0

    def line(self):
        return f"add {self.src} {self.dst} ah {self.spi:#x} -r 32 {self.sa.setkey_args()};\n"

    def inner(self, data, port=None):
        return 17, xfrm.udp(self.src, self.dst, 40000, port or self.port, data)

    def packet(self, seq, nh, inner):
        kw = {} if ":" in self.src else {"frag": 0}
        return xfrm.ah_packet(self.sa, seq, self.src, self.dst, nh, inner, **kw)


esp4, ah4 = EspSA(0x4101, A4, B4, P_ESP), AhSA(0x4102, A4, B4, P_AH)
tun4 = EspSA(0x4103, A4, B4, P_TUN, tunnel=True)
esp6, ah6 = EspSA(0x4105, A6, B6, P_ESP6), AhSA(0x4106, A6, B6, P_AH6)
SAS = [esp4, ah4, tun4, esp6, ah6]
CPI = 0x4104
conf = "".join(s.line() for s in SAS) + f"add {A4} {B4} ipcomp {CPI:#x} -C deflate;\n"
for s in SAS:
    kind = "ah" if isinstance(s, AhSA) else "esp"
    mode = f"tunnel/{s.src}-{s.dst}" if s.tunnel else "transport/"
    conf += f"spdadd {s.src} {s.dst}[{s.port}] udp -P in ipsec {kind}/{mode}/require;\n"
conf += f"spdadd {A4} {B4}[{P_COMP}] udp -P in ipsec ipcomp/transport//use;\n"
xfrm.configure(RX, conf)

socks = {}
for port in (CTRL, P_ESP, P_AH, P_TUN, P_COMP):
    socks[(4, port)] = esp.udp_socket(RX, B4, port)
for port in (CTRL, P_ESP6, P_AH6):
    socks[(6, port)] = esp.udp_socket(RX, B6, port)
for s in socks.values():
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.setblocking(False)
PORT_OF = {sock: key for key, sock in socks.items()}

with esp.netns(SC):
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    tx.bind(("eth0", 0))
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: the backlog keeps our order

# --- pcap of everything injected ----------------------------------------------
os.makedirs(OUT, exist_ok=True)
pcap_path = os.path.join(OUT, f"pktfuzz-{xfrm.IMPL}-seed{SEED}.pcap")
pcap = open(pcap_path, "wb")
pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
sent = []  # (class, token or None, frame)


def inject(cls, frame, token=None):
    t = time.time()
    pcap.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    sent.append((cls, token, frame))
    tx.send(frame)


def eth(ip):
    return (ETH6 if ip[0] >> 4 == 6 else ETH4) + ip


# --- packet edits ---------------------------------------------------------------


def fix_lengths(ip):
    if ip[0] >> 4 == 4:
        ip[2:4] = struct.pack("!H", len(ip))
        xfrm.ipv4_fix_checksum(ip)
    else:
        ip[4:6] = struct.pack("!H", len(ip) - 40)
    return ip


def ipsec_offset(ip):
    """Where the ESP/AH/IPcomp header starts (no extension headers here)."""
    return (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40


def mutate(rng, ip, known_spis):
    """A copy of `ip` changed from its IPsec header on, surely different."""
    orig = bytes(ip)
    ip = bytearray(ip)
    off = ipsec_offset(ip)
    n = len(ip) - off
    op = rng.choice(["flip", "flip", "flips", "overwrite", "truncate", "extend", "spi", "seq"])
    if op == "flip":
        i = off + rng.randrange(n)
        ip[i] ^= rng.randrange(1, 256)
    elif op == "flips":
        for _ in range(rng.randrange(2, 9)):
            ip[off + rng.randrange(n)] ^= rng.randrange(1, 256)
    elif op == "overwrite":
        i = off + rng.randrange(n)
        j = min(len(ip), i + rng.randrange(1, 33))
        ip[i:j] = bytes(rng.randrange(256) for _ in range(j - i))
    elif op == "truncate":
        del ip[off + rng.randrange(n):]
    elif op == "extend":
        ip += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 65)))
    elif op in ("spi", "seq"):
        ah = orig[9 if orig[0] >> 4 == 4 else 6] == 51
        at = off + (4 if ah else 0) + (4 if op == "seq" else 0)  # AH: nh, len, reserved first
        new = rng.choice(known_spis + [rng.randrange(1 << 32)]) if op == "spi" else rng.randrange(1 << 32)
        ip[at:at + 4] = struct.pack("!I", new)
    fix_lengths(ip)
    if bytes(ip) == orig:  # a replaced field kept its value: flip one bit instead
        ip[off + 8 if n > 8 else off] ^= 1
        fix_lengths(ip)
    return op, bytes(ip)


_ident = [0x1000]


def fragments(ip, reverse=False):
    """IPv4 or IPv6 fragments of `ip` (two or three), as IP packets."""
    _ident[0] += 1
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        hdr, data = bytearray(ip[:ihl]), ip[ihl:]
        step = max(8, (len(data) // 3) // 8 * 8)
        out = []
        for at in range(0, len(data), step):
            chunk = data[at:at + step]
            h = bytearray(hdr)
            if hdr[9] != 51:  # AH covers the IPv4 ID (immutable): it keeps its own
                h[4:6] = struct.pack("!H", _ident[0] & 0xFFFF)
            more = 0x2000 if at + step < len(data) else 0
            h[6:8] = struct.pack("!H", more | (at // 8))
            out.append(bytes(fix_lengths(h + chunk)))
    else:
        proto, src, dst = ip[6], socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        data = ip[40:]
        step = max(8, (len(data) // 3) // 8 * 8)
        out = []
        for at in range(0, len(data), step):
            more = 1 if at + step < len(data) else 0
            body = struct.pack("!BHI", 0, (at // 8) << 3 | more, _ident[0])
            out.append(xfrm.ipv6(src, dst, [(44, body)], proto, data[at:at + step]))
    return out[::-1] if reverse else out


# --- the generator --------------------------------------------------------------
rng = random.Random(SEED)
known_spis = [s.spi for s in SAS] + [CPI]
expect = {}  # token -> (class, index): must arrive exactly once
forbidden = {}  # token -> (class, index, detail): must never arrive
allowed = set()  # tokens that may arrive (IPcomp robustness, control)
counted = 0  # packets an Xfrm* counter must account for
accepted = {s.spi: [] for s in SAS}  # accepted packets per SA (for replays)
classes = Counter()
n_tok = [0]


def token(tag):
    n_tok[0] += 1
    return b"%s%07d" % (tag, n_tok[0])


def valid(sa, tag=b"V", pad=0):
    """A fresh valid packet of `sa`, its token and the packet."""
    tok = token(tag)
    sa.seq += 1
    sa.top = sa.seq
    nh, inner = sa.inner(tok + bytes(pad))
    return tok, sa.packet(sa.seq, nh, inner)


def gen_one():
    global counted
    kind = rng.choices(["valid", "mutated", "replay", "cross", "clear", "malformed", "frag", "ipcomp"],
                       weights=[18, 34, 8, 8, 8, 10, 8, 6])[0]
    sa = rng.choice(SAS)
    if kind == "valid":
        tok, ip = valid(sa)
        expect[tok] = ("valid", len(sent))
        accepted[sa.spi].append(ip)
        inject("valid", eth(ip), tok)
    elif kind == "mutated":
        tok = token(b"M")
        nh, inner = sa.inner(tok)
        ip = sa.packet(sa.seq + 1 + rng.randrange(3), nh, inner)  # a sequence number still ahead
        op, bad = mutate(rng, ip, known_spis)
        forbidden[tok] = ("mutated", len(sent), op)
        classes["mutated." + op] += 1
        counted += 1
        inject("mutated", eth(bytearray(bad)), tok)
        return
    elif kind == "replay":
        if accepted[sa.spi] and rng.random() < 0.6:
            ip = rng.choice(accepted[sa.spi])
            tok = None  # its token was expected once; a second arrival shows up as a repeat
        elif sa.top > 40:
            tok = token(b"R")
            nh, inner = sa.inner(tok)
            ip = sa.packet(sa.top - 33 - rng.randrange(sa.top - 33), nh, inner)  # below the window
            forbidden[tok] = ("replay", len(sent), "below the window")
        else:
            return gen_one()
        counted += 1
        inject("replay", eth(ip), tok)
    elif kind == "cross":
        other = rng.choice([s for s in SAS if s is not sa and (":" in s.src) == (":" in sa.src)])
        tok = token(b"X")
        sa.seq += 1
        sa.top = sa.seq
        nh, inner = sa.inner(tok, port=other.port)  # sa's packet to other's port
        forbidden[tok] = ("cross", len(sent), f"SA {sa.spi:#x} to port {other.port}")
        counted += 1
        inject("cross", eth(sa.packet(sa.seq, nh, inner)), tok)
    elif kind == "clear":
        v6 = rng.random() < 0.5
        tok = token(b"C")
        port = rng.choice([P_ESP6, P_AH6] if v6 else [P_ESP, P_AH, P_TUN])
        src, dst = (A6, B6) if v6 else (A4, B4)
        seg = xfrm.udp(src, dst, 40000, port, tok + bytes(rng.randrange(0, 1000 if v6 else 1400)))
        if v6:
            # Hop-by-hop only first (RFC 8200; anywhere else the IP layer drops it).
            ext = [(rng.choice([0, 60]) if i == 0 else 60, xfrm.opts_hdr([xfrm.tlv(0x1e, bytes(rng.randrange(0, 250)))]))
                   for i in range(rng.randrange(0, 3))]
            ip = xfrm.ipv6(src, dst, ext, 17, seg)
        else:
            opts = rng.choice([b"", xfrm.ipv4_opt_ra(), xfrm.ipv4_opt_rr(rng.randrange(1, 9)), b"\x01" * 4])
            ip = xfrm.ipv4(src, dst, 17, seg, options=opts, frag=0)
        forbidden[tok] = ("clear", len(sent), f"to port {port}")
        counted += 1
        # Fragments (IPv6 only without extension headers: they would land
        # in the fragmentable part, which the IP layer refuses).
        frag = len(ip) > 1500 or (len(ip) > 600 and rng.random() < 0.5 and not (v6 and ext))
        pieces = fragments(ip, reverse=rng.random() < 0.5) if frag else [ip]
        for p in pieces:
            inject("clear", eth(p), tok)
    elif kind == "malformed":
        if isinstance(sa, AhSA):
            sa = rng.choice([esp4, tun4, esp6])
        tok = token(b"S")
        nh, inner = sa.inner(tok)
        sa.seq += 1
        what = rng.choice(["padlen", "nh59", "udpsum"] + (["inner-ihl", "inner-version", "inner-len"] if sa.tunnel else []))
        if what == "padlen":
            body = inner + bytes([min(255, len(inner) + 2 + rng.randrange(40)), nh])
            ip = xfrm.ip_packet(sa.src, sa.dst, 50, sa.seal_raw(sa.seq, body),
                                **({} if ":" in sa.src else {"frag": 0}))
        elif what == "nh59":
            ip = sa.packet(sa.seq, 59, inner)
        elif what == "udpsum":
            bad = bytearray(inner)
            at = 20 + 6 if sa.tunnel else 6
            old = struct.unpack_from("!H", bad, at)[0]
            new = old ^ 0x5555 if old ^ 0x5555 else old ^ 0x00FF  # never 0 ("no checksum" in IPv4)
            struct.pack_into("!H", bad, at, new)
            ip = sa.packet(sa.seq, nh, bytes(bad))
        else:
            bad = bytearray(inner)
            if what == "inner-ihl":
                bad[0] = 0x40 | rng.choice([0, 3, 4, 15])
            elif what == "inner-version":
                bad[0] = 0x65
            else:
                bad[2:4] = struct.pack("!H", len(bad) + rng.randrange(1, 200))
            if what == "inner-len":
                xfrm.ipv4_fix_checksum(bad)
            ip = sa.packet(sa.seq, nh, bytes(bad))
        forbidden[tok] = ("malformed", len(sent), what)
        classes["malformed." + what] += 1
        inject("malformed", eth(ip), tok)
        return
    elif kind == "frag":
        sa = rng.choice([esp4, tun4, esp6, ah4, ah6])
        if rng.random() < 0.5:
            tok, ip = valid(sa, pad=700)
            expect[tok] = ("frag-valid", len(sent))
            accepted[sa.spi].append(ip)
        else:
            tok = token(b"M")
            nh, inner = sa.inner(tok + bytes(700))
            op, ip = mutate(rng, sa.packet(sa.seq + 1, nh, inner), known_spis)
            forbidden[tok] = ("frag-mutated", len(sent), op)
            counted += 1
        for p in fragments(bytearray(ip), reverse=rng.random() < 0.5):
            inject("frag", eth(p), tok)
    elif kind == "ipcomp":
        tok = token(b"P")
        seg = xfrm.udp(A4, B4, 40000, P_COMP, tok + esp.compressible(rng.randrange(100, 1400), n_tok[0]))
        what = rng.choice(["valid", "valid", "mutated", "random", "bomb", "nested"])
        if what == "valid":
            payload = xfrm.ipcomp_payload(17, CPI, seg)
            expect[tok] = ("ipcomp", len(sent))
        elif what == "mutated":
            payload = bytearray(xfrm.ipcomp_payload(17, CPI, seg))
            for _ in range(rng.randrange(1, 6)):
                payload[4 + rng.randrange(len(payload) - 4)] ^= rng.randrange(1, 256)
            allowed.add(tok)
        elif what == "random":
            payload = struct.pack("!BBH", 17, 0, CPI) + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        elif what == "bomb":
            payload = xfrm.ipcomp_payload(17, CPI, b"\0" * (1 << 20))
        else:  # IPcomp inside IPcomp: Linux refuses a second decompression of the same kind
            payload = xfrm.ipcomp_payload(108, CPI, xfrm.ipcomp_payload(17, CPI, seg))
            allowed.add(tok)
        classes["ipcomp." + what] += 1
        inject("ipcomp", eth(xfrm.ipv4(A4, B4, 108, bytes(payload), frag=0)), tok)
        return
    classes[kind] += 1


# --- run ---------------------------------------------------------------------------
arrived = Counter()
stray = []


def drain():
    while True:
        r, _, _ = select.select(list(socks.values()), [], [], 0)
        if not r:
            return
        for s in r:
            try:
                data = s.recv(65535)
            except BlockingIOError:
                continue
            arrived[data[:8]] += 1
            if data[:1] not in b"VMRXCSPB" or len(data) < 8:
                stray.append((PORT_OF[s], data[:32]))


def barrier(n):
    """Clear datagrams to port 7000 (both families) behind the batch: once
    both are read, everything before them has been processed."""
    toks = []
    for src, dst in ((A4, B4), (A6, B6)):
        tok = b"B%07d" % (n * 2 + len(toks))
        toks.append(tok)
        tx.send(eth(xfrm.udp_packet(src, dst, 40000, CTRL, tok, **({} if ":" in src else {"frag": 0}))))
    wait_until(lambda: (drain(), all(arrived[t] for t in toks))[1], f"barrier {n}: the batch was not processed",
               timeout=120)


c = esp.Counters(RX)
t0 = time.time()
# The control: clear text to port 7000 arrives, so the injection path works.
barrier(0)
batch = 0
while len(sent) < COUNT:
    start = len(sent)
    while len(sent) - start < BATCH and len(sent) < COUNT:
        gen_one()
    batch += 1
    barrier(batch)
pcap.close()
took = time.time() - t0
moved = c.moved()
xfrm_errors = sum(moved.get(n, 0) for n in XFRM_ERRORS)
by_class = Counter(cls for cls, _, _ in sent)
xfrm.say(f"{len(sent)} frames in {took:.0f}s ({batch} batches): {dict(sorted(by_class.items()))}")
xfrm.say(f"kinds: {dict(sorted(classes.items()))}")
xfrm.say(f"counters moved: {dict(sorted(moved.items()))}")
xfrm.say(f"pcap: {pcap_path}")


def where(tok, info):
    idx = info[1]
    return f"token {tok!r} ({info[0]} {' '.join(map(str, info[2:]))}, frame #{idx}: {sent[idx][2][:96].hex()}...)"


bad_in = [where(t, forbidden[t]) for t in forbidden if arrived[t]]
check(not bad_in, f"{len(bad_in)} packets rxfrm had to refuse were delivered (fail open), e.g. {bad_in[:3]}")
missing = [where(t, expect[t]) for t in expect if not arrived[t]]
check(not missing, f"{len(missing)} valid packets were not delivered, e.g. {missing[:3]}")
repeated = [t for t in arrived if arrived[t] > 1 and t[:1] != b"B"]
check(not repeated, f"tokens delivered more than once (a replay accepted): {repeated[:5]}")
check(not stray, f"datagrams nobody sent: {stray[:3]}")
unknown = [t for t in arrived if t[:1] != b"B" and t not in expect and t not in forbidden and t not in allowed]
check(not unknown, f"delivered tokens that should not exist: {unknown[:5]}")
check(xfrm_errors >= counted, f"{counted} refused IPsec packets, but the Xfrm* error counters moved by "
                              f"{xfrm_errors} only (a drop not counted): {moved}")
eq(sum(1 for t in expect if arrived[t]), len(expect), "valid packets delivered")
done(f"packet fuzz (seed {SEED}): {len(sent)} frames, {len(expect)} valid delivered once, "
     f"{len(forbidden)} refused (never delivered), {xfrm_errors} counted drops >= {counted} expected; "
     f"the kernel log is the runner's check")
