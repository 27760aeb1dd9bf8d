#!/usr/bin/env python3
"""Helpers for the AH, IPcomp and nesting VM tests (31-39), on top of esp.py.

Which IPsec the tests drive (RXFRM_IMPL):
  rxfrm (default)  rxfrm.ko, loaded by vm-run; counters in /proc/net/rxfrm_stat
  native           the kernel's own af_key + xfrm (vm-run implies --no-module):
                   importing this module loads af_key, xfrm_user, esp4/esp6,
                   ah4/ah6, ipcomp/ipcomp6 and xfrm4/6_tunnel with modprobe,
                   and points esp.stat() at /proc/net/xfrm_stat.
  offline          nothing loaded: the packet code alone (`xfrm.py selfcheck`)
Import it before ptest (whose import flushes the PF_KEY tables, so PF_KEY
must exist by then).

Independent of both implementations (stdlib; python3-cryptography only for
AES-XCBC-MAC and AES-CMAC), so captured packets are checked against code
that shares nothing with the kernel's:
- IPv4/IPv6 packets with options and extension headers, UDP and ICMP echo
  with their checksums;
- AH (RFC 4302): the ICV over the packet with the mutable fields zeroed by
  this file's own reading of RFC 4302 §3.3.3.1 and Appendix A (IPv4 TOS,
  flags + fragment offset, TTL, checksum and mutable options; IPv6 traffic
  class, flow label, hop limit, the data of options whose type has the
  0x20 bit, a type-0 routing header rearranged as at the final
  destination), the ESN high half appended (§2.5.1); building and
  verifying AH packets, transport or tunnel;
- IPcomp (RFC 3173, deflate RFC 2394): raw deflate (zlib, wbits -15).

Per-SA error counters: rxfrm reports them in `setkey -D` (`stats:
replay=N integrity_failed=N`); af_key has no such extension, so for native
they come from xfrm_user (`ip -s xfrm state`), the same kernel counters.

As a command (for the shell tests, xfrm.sh): `xfrm.py setup` loads what the
implementation needs and prints the RXFRM_STAT=... line to export.
"""
import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esp  # noqa: E402
import pfkey  # noqa: E402

IMPL = os.environ.get("RXFRM_IMPL") or "rxfrm"
NATIVE = IMPL == "native"
NATIVE_STAT, RXFRM_STAT = "/proc/net/xfrm_stat", "/proc/net/rxfrm_stat"
# Everything the kernel's IPsec needs for these tests: guest-init disables
# request_module() (an empty /proc/sys/kernel/modprobe), so nothing may be
# left for the kernel to load on demand. xfrm4/6_tunnel receive the
# uncompressed packets of IPcomp tunnels (IPIP / IPv6-in-IPv6).
NATIVE_MODULES = ["af_key", "xfrm_user", "esp4", "esp6", "ah4", "ah6", "ipcomp", "ipcomp6",
                  "xfrm4_tunnel", "xfrm6_tunnel"]


def _die(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def setup():
    """Makes the chosen implementation available; returns the stat path."""
    if IMPL == "offline":
        return RXFRM_STAT
    with open("/proc/modules") as f:
        loaded = {line.split()[0] for line in f}
    if IMPL not in ("rxfrm", "native"):
        _die(f"RXFRM_IMPL={IMPL!r}: want rxfrm or native")
    if not NATIVE:
        if "rxfrm" not in loaded:
            _die("rxfrm.ko is not loaded (RXFRM_IMPL=rxfrm)")
        return RXFRM_STAT
    if "rxfrm" in loaded:
        _die("RXFRM_IMPL=native but rxfrm.ko is loaded (selftests/vm-run --no-module)")
    missing = [m for m in NATIVE_MODULES if m not in loaded]
    if missing:
        r = subprocess.run(["modprobe", "-a", *missing], capture_output=True, text=True)
        if r.returncode != 0:
            _die(f"modprobe {' '.join(missing)}: {r.stderr.strip()}")
    return NATIVE_STAT


STAT = setup()
esp.STAT = STAT

# --- fewer processes ------------------------------------------------------------
# Under TCG with the debug kernel every exec costs about a second, and
# `ip netns exec NS CMD` is two (plus a mount namespace). These replace
# esp.py's for the tests that import this module: commands enter the
# namespace with setns() in the forked child (one exec), counters are read
# in-process, pings are sent from a raw socket in the namespace.


def run(ns, *cmd, check=False, **kw):
    """esp.run() without `ip netns exec`."""
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)

    def enter():
        if esp._libc.setns(fd, esp.CLONE_NEWNET) != 0:
            raise OSError(esp.ctypes.get_errno(), f"setns({ns})")
    try:
        return subprocess.run(list(cmd), check=check, preexec_fn=enter, **kw)
    finally:
        os.close(fd)


def stat(ns):
    """esp.stat() read in-process: {name: value} of NS's counters."""
    with esp.netns(ns):
        with open(os.path.join("/proc/thread-self/net", os.path.basename(STAT))) as f:
            text = f.read()
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def ping(ns, addr, count=3, deadline=30, opts=(), interval=0.3, data=None):
    """True iff `count` echo replies came back within `deadline` seconds
    (one request every `interval` until then), as esp.ping() but from a
    raw ICMP socket in NS; `opts`: (level, option, value) socket options
    (e.g. IP_OPTIONS); `data`: the echo payload."""
    v6 = ":" in addr
    fam, proto = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if v6 else (socket.AF_INET, socket.IPPROTO_ICMP)
    with esp.netns(ns):
        s = socket.socket(fam, socket.SOCK_RAW, proto)
    for o in opts:
        s.setsockopt(*o)
    ident, got, seq = os.getpid() & 0xFFFF ^ int(time.time() * 1000) & 0xFFFF, set(), 0
    end, next_send = time.time() + deadline, 0.0
    try:
        while len(got) < count and time.time() < end:
            now = time.time()
            if now >= next_send:
                seq += 1
                body = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq) + (data or b"rxfrm ping %d" % seq)
                if not v6:  # the kernel sums ICMPv6 itself (RFC 3542)
                    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
                try:
                    s.sendto(body, (addr, 0))
                except OSError:
                    pass  # e.g. no SA yet: try again next interval
                next_send = now + interval
            r, _, _ = esp.select.select([s], [], [], max(0.0, min(next_send, end) - time.time()))
            if not r:
                continue
            data = s.recv(65535)
            if not v6:
                data = data[(data[0] & 15) * 4:]
            if len(data) >= 8:
                t, _c, _sum, i, q = struct.unpack_from("!BBHHH", data)
                if t == (129 if v6 else 0) and i == ident:
                    got.add(q)
    finally:
        s.close()
    return len(got) >= count


def no_reply(ns, addr):
    """esp.ping_gets_no_reply(): two requests, none answered within 3 s."""
    return not ping(ns, addr, count=1, deadline=3, interval=1.5)


esp.run, esp.stat, esp.ping, esp.ping_gets_no_reply = run, stat, ping, no_reply


def wait_counted(counters, *names, want=1, timeout=15.0):
    """Polls an esp.Counters snapshot until the named counters moved by
    `want` together (the packet was processed: a drop was counted), at
    most `timeout` seconds; returns how much they moved."""
    end = time.time() + timeout
    while True:
        n = counters.delta(*names)
        if n >= want or time.time() >= end:
            return n
        time.sleep(0.05)


def describe():
    return f"{IMPL} ({STAT})"


T0 = time.time()


def say(msg):
    """A line of evidence, with the seconds since the test started."""
    print(f"[{time.time() - T0:5.1f}s] {msg}", flush=True)


def configure(ns, conf):
    """esp.configure() in one setkey run: flush; spdflush; then `conf`."""
    esp.setkey(ns, "-c", stdin="flush;\nspdflush;\n" + conf)


def sa_table(ns):
    """{spi: SA} of NS's `setkey -D` (one dump for many lookups)."""
    return {s["spi"]: s for s in esp.sad(ns) if "spi" in s}


def expect_used(check, nss, spis, what):
    """Every SA in `spis` counted packets in each namespace of `nss`."""
    for ns in nss:
        table = sa_table(ns)
        for spi in spis:
            st = table.get(spi, {})
            check(st.get("packets", 0) > 0 and st.get("bytes", 0) > 0,
                  f"{what}: {ns}'s SA {spi:#x} counted no traffic in setkey -D: {st}")


# --- algorithms ---------------------------------------------------------------


def _hmac(h):
    return lambda key, data: hmac.new(key, data, h).digest()


def _aes_ecb(key):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return lambda block: enc.update(block)


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def aes_xcbc_mac(key, msg):
    """AES-XCBC-MAC (RFC 3566 §4), untruncated."""
    e = _aes_ecb(key)
    k1, k2, k3 = e(b"\x01" * 16), e(b"\x02" * 16), e(b"\x03" * 16)
    e1 = _aes_ecb(k1)
    blocks = [msg[i:i + 16] for i in range(0, len(msg), 16)] or [b""]
    c = bytes(16)
    for b in blocks[:-1]:
        c = e1(_xor(b, c))
    last = blocks[-1]
    if len(last) == 16:
        last = _xor(last, k2)
    else:
        last = _xor(last + b"\x80" + bytes(15 - len(last)), k3)
    return e1(_xor(last, c))


def aes_cmac(key, msg):
    """AES-CMAC (RFC 4493), untruncated."""
    from cryptography.hazmat.primitives import cmac
    from cryptography.hazmat.primitives.ciphers import algorithms
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


class Auth:
    def __init__(self, name, sadb_id, key_len, icv_len, mac, xfrm_name, native_icv_len=None):
        self.name, self.sadb_id, self.key_len, self.mac, self.xfrm_name = name, sadb_id, key_len, mac, xfrm_name
        # Linux af_key keeps hmac(sha256) at a pre-RFC 96-bit ICV
        # (xfrm_algo.c); rxfrm truncates to 128 bits as RFC 4868 says.
        self.icv_len = native_icv_len if (NATIVE and native_icv_len) else icv_len

    def __repr__(self):
        return self.name


AUTH = {a.name: a for a in [
    Auth("hmac-md5", 2, 16, 12, _hmac(hashlib.md5), "hmac(md5)"),
    Auth("hmac-sha1", 3, 20, 12, _hmac(hashlib.sha1), "hmac(sha1)"),
    Auth("hmac-sha256", 5, 32, 16, _hmac(hashlib.sha256), "hmac(sha256)", native_icv_len=12),
    Auth("hmac-sha384", 6, 48, 24, _hmac(hashlib.sha384), "hmac(sha384)"),
    Auth("hmac-sha512", 7, 64, 32, _hmac(hashlib.sha512), "hmac(sha512)"),
    Auth("aes-xcbc-mac", 9, 16, 12, aes_xcbc_mac, "xcbc(aes)"),
    # rxfrm's SADB id for AES-CMAC-96 (RFC 4494); Linux af_key has none.
    Auth("aes-cmac", 253, 16, 12, aes_cmac, "cmac(aes)"),
]}


def supported_auth(ns, satype=pfkey.SATYPE_AH):
    """SADB ids of the authentication algorithms NS's PF_KEY REGISTER reply
    lists for `satype` — what the implementation can really instantiate."""
    with esp.netns(ns):
        k = pfkey.PfKey()
    try:
        m = k.request(pfkey.REGISTER, satype)
        if m.errno:
            raise OSError(m.errno, f"REGISTER satype {satype}: {os.strerror(m.errno)}")
        return {a for a, _lo, _hi in m.supported(pfkey.EXT_SUPPORTED_AUTH)}
    finally:
        k.close()


def key(n, seed):
    return bytes((seed * 7 + i * 13 + 1) & 0xFF for i in range(n))


class AhSA:
    """One AH SA as the test sees it: SPI, algorithm, key, ESN."""

    def __init__(self, spi, alg, akey=None, esn=False, seed=None):
        self.spi, self.auth, self.esn = spi, AUTH[alg], esn
        self.key = akey if akey is not None else key(self.auth.key_len, spi if seed is None else seed)
        self.icv_len = self.auth.icv_len

    def mac(self, data):
        return self.auth.mac(self.key, data)[:self.icv_len]

    def setkey_args(self):
        """The SA's `-A ...` (and flags) in an `add` line."""
        flags = "-r 64 -f esn " if self.esn else ""
        return f"{flags}-A {self.auth.name} 0x{self.key.hex()}"


# --- packets ------------------------------------------------------------------


def _inet(addr):
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_fix_checksum(pkt):
    """pkt (bytearray) with its IPv4 header checksum recomputed."""
    ihl = (pkt[0] & 15) * 4
    pkt[10:12] = b"\0\0"
    pkt[10:12] = struct.pack("!H", csum(bytes(pkt[:ihl])))
    return pkt


def ipv4(src, dst, proto, payload, ttl=64, tos=0, ident=0x4242, frag=0x4000, options=b""):
    """An IPv4 packet (frag: flags + offset, DF by default)."""
    opts = options + b"\0" * (-len(options) % 4)
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | (5 + len(opts) // 4), tos,
                                20 + len(opts) + len(payload), ident, frag, ttl, proto, 0,
                                _inet(src), _inet(dst)) + opts)
    return bytes(ipv4_fix_checksum(hdr)) + payload


def ipv4_opt_rr(slots=3, filled=()):
    """Record Route (type 7) with room for `slots` addresses."""
    data = b"".join(_inet(a) for a in filled) + bytes(4 * (slots - len(filled)))
    return struct.pack("!BBB", 7, 3 + 4 * slots, 4 + 4 * len(filled)) + data


def ipv4_opt_ra(value=0):
    """Router Alert (type 148, RFC 2113): immutable for AH."""
    return struct.pack("!BBH", 148, 4, value)


def tlv(otype, data):
    return struct.pack("!BB", otype, len(data)) + data


def opts_hdr(options):
    """The body (after the next-header byte) of a hop-by-hop or
    destination options header holding `options` (TLV bytes), padded to a
    multiple of 8 with Pad1/PadN (never more than 5 bytes of PadN, as
    Linux refuses longer padding)."""
    body = b"".join(options)
    pad = -(2 + len(body)) % 8
    if pad == 1:
        body += b"\0"
    elif pad:
        body += tlv(1, bytes(pad - 2))
    return bytes([(2 + len(body)) // 8 - 1]) + body


def rh0_hdr(addrs, segleft):
    """The body of a type 0 routing header (RFC 2460) listing `addrs`."""
    return struct.pack("!BBBI", 2 * len(addrs), 0, segleft, 0) + b"".join(_inet(a) for a in addrs)


def ipv6(src, dst, exthdrs, proto, payload, hlim=64, tclass=0, flow=0):
    """An IPv6 packet: extension headers [(type, body)] (body: the header
    without its next-header byte, as opts_hdr() makes), then `proto`."""
    chain, types = b"", [t for t, _ in exthdrs] + [proto]
    for i, (_t, body) in enumerate(exthdrs):
        chain += bytes([types[i + 1]]) + body
    first = types[0]
    return struct.pack("!IHBB16s16s", (6 << 28) | (tclass << 20) | flow, len(chain) + len(payload),
                       first, hlim, _inet(src), _inet(dst)) + chain + payload


def _pseudo(src, dst, proto, length):
    if ":" in src:
        return _inet(src) + _inet(dst) + struct.pack("!IxxxB", length, proto)
    return _inet(src) + _inet(dst) + struct.pack("!xBH", proto, length)


def udp(src, dst, sport, dport, data):
    n = 8 + len(data)
    c = csum(_pseudo(src, dst, 17, n) + struct.pack("!HHHH", sport, dport, n, 0) + data) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, n, c) + data


def echo_request(src, dst, ident, seq, data):
    """ICMP (IPv4) or ICMPv6 echo request."""
    if ":" in src:
        body = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
        c = csum(_pseudo(src, dst, 58, len(body)) + body)
    else:
        body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
        c = csum(body)
    return body[:2] + struct.pack("!H", c) + body[4:]


def ip_packet(src, dst, proto, payload, **kw):
    """IPv4 or IPv6 by address family (kw as ipv4()/ipv6())."""
    if ":" in src:
        return ipv6(src, dst, kw.pop("exthdrs", []), proto, payload, **kw)
    return ipv4(src, dst, proto, payload, **kw)


def udp_packet(src, dst, sport, dport, data, **kw):
    return ip_packet(src, dst, 17, udp(src, dst, sport, dport, data), **kw)


def frame(ip_bytes, src_ns, src_if, dst_ns, dst_if):
    et = esp.ETH_P_IPV6 if (ip_bytes[0] >> 4) == 6 else esp.ETH_P_IP
    return esp.eth_header(src_ns, src_if, dst_ns, dst_if, et) + ip_bytes


# --- AH -----------------------------------------------------------------------

IPV4_IMMUTABLE_OPTIONS = {130, 133, 134, 148, 149}  # RFC 4302 A.1 (0 and 1 apart)


def _zero_ipv4(b):
    """RFC 4302 §3.3.3.1.1: TOS, flags + fragment offset, TTL, checksum and
    every mutable option (entirely) zeroed; with a source route the final
    destination stands in the destination field."""
    b[1] = 0
    b[6:8] = b"\0\0"
    b[8] = 0
    b[10:12] = b"\0\0"
    i, ihl = 20, (b[0] & 15) * 4
    while i < ihl:
        t = b[i]
        if t == 0:
            break
        if t == 1:
            i += 1
            continue
        n = b[i + 1] if i + 1 < ihl else 0
        if n < 2 or i + n > ihl:
            raise ValueError(f"bad IPv4 option {t} at {i}")
        if t not in IPV4_IMMUTABLE_OPTIONS:
            if t in (131, 137) and n >= 7:  # LSRR, SSRR
                b[16:20] = b[i + n - 4:i + n]
            b[i:i + n] = bytes(n)
        i += n


def _zero_tlvs(b, start, end):
    i = start
    while i < end:
        if b[i] == 0:
            i += 1
            continue
        n = b[i + 1]
        if i + 2 + n > end:
            raise ValueError(f"option overruns its header at {i}")
        if b[i] & 0x20:  # RFC 8200 §4.2: the option data may change en route
            b[i + 2:i + 2 + n] = bytes(n)
        i += 2 + n


def _final_rthdr(b, off):
    """A type 0 routing header as it arrives at the final destination
    (RFC 4302 A.2): segments left 0, the addresses in their final order,
    the last one as the IPv6 destination."""
    segleft = b[off + 3]
    if segleft == 0:
        return
    n = b[off + 1] // 2
    addrs = [bytes(b[off + 8 + 16 * k:off + 24 + 16 * k]) for k in range(n)]
    final = addrs[-1]
    visited = n - segleft
    addrs = addrs[:visited] + [bytes(b[24:40])] + addrs[visited:-1]
    b[24:40] = final
    b[off + 3] = 0
    for k, a in enumerate(addrs):
        b[off + 8 + 16 * k:off + 24 + 16 * k] = a


def ah_offset(pkt):
    """Offset of the AH header in an IPv4/IPv6 packet (after any IPv6
    hop-by-hop, routing and destination options headers), or None."""
    if pkt[0] >> 4 == 4:
        return (pkt[0] & 15) * 4 if pkt[9] == 51 else None
    nh, off = pkt[6], 40
    while nh in (0, 43, 60) and off + 8 <= len(pkt):
        nh, off = pkt[off], off + (pkt[off + 1] + 1) * 8
    return off if nh == 51 else None


def ah_fields(pkt):
    """(offset, next header, SPI, sequence number, ICV field) of pkt's AH."""
    off = ah_offset(pkt)
    if off is None:
        raise ValueError("no AH header")
    nh, plen = pkt[off], (pkt[off + 1] + 2) * 4
    spi, seq = struct.unpack_from("!II", pkt, off + 4)
    return off, nh, spi, seq, bytes(pkt[off + 12:off + plen])


def ah_icv_input(pkt, icv_len, esn_hi=None):
    """The bytes AH's ICV covers (RFC 4302 §3.3.3): the packet with the
    mutable fields and the ICV zeroed, then the ESN high half."""
    b = bytearray(pkt)
    off = ah_offset(b)
    if b[0] >> 4 == 4:
        _zero_ipv4(b)
    else:
        b[0] &= 0xF0
        b[1:4] = b"\0\0\0"
        b[7] = 0
        nh, o = b[6], 40
        while o < off:
            n = (b[o + 1] + 1) * 8
            if nh in (0, 60):
                _zero_tlvs(b, o + 2, o + n)
            elif nh == 43:
                _final_rthdr(b, o)
            nh, o = b[o], o + n
    b[off + 12:off + 12 + icv_len] = bytes(icv_len)
    if esn_hi is not None:
        b += struct.pack("!I", esn_hi)
    return bytes(b)


def ah_icv(sa, pkt, esn_hi=None):
    if esn_hi is None and sa.esn:
        esn_hi = 0
    return sa.mac(ah_icv_input(pkt, sa.icv_len, esn_hi))


def ah_verify(sa, pkt, esn_hi=None):
    """True iff pkt's AH ICV is the one this file computes for sa."""
    off, _nh, spi, _seq, field = ah_fields(pkt)
    return spi == sa.spi and field[:sa.icv_len] == ah_icv(sa, pkt, esn_hi)


def ah_field_len(v6, icv_len):
    """The ICV field: AH padded to 32 bits over IPv4 and 64 bits over IPv6
    (RFC 4302 §2.6, what rxfrm does). Linux pads IPv4 AH to 64 bits too
    unless the SA has XFRM_STATE_ALIGN4, which af_key cannot set (ah4.c),
    and accepts nothing else: for native the test builds that."""
    align = 8 if (v6 or NATIVE) else 4
    return (12 + icv_len + (-(12 + icv_len) % align)) - 12


def ah_packet(sa, seq, src, dst, proto, payload, esn_hi=None, pre=(), **kw):
    """An AH-protected packet src -> dst carrying `proto`/`payload` (for a
    tunnel, proto 4 or 41 and the inner packet). `pre`: IPv6 extension
    headers before AH ([(type, body)]); kw: header fields as ipv4()/ipv6()
    (ttl, tos, frag, options / hlim, tclass, flow). The ICV covers the
    packet as built: change mutable fields afterwards to mimic a path."""
    v6 = ":" in src
    field = ah_field_len(v6, sa.icv_len)
    body = struct.pack("!BHII", (12 + field) // 4 - 2, 0, sa.spi, seq & 0xFFFFFFFF) + bytes(field)
    if v6:
        pkt = bytearray(ipv6(src, dst, list(pre) + [(51, body)], proto, payload, **kw))
    else:
        pkt = bytearray(ipv4(src, dst, 51, bytes([proto]) + body + payload, **kw))
    off = ah_offset(pkt)
    pkt[off + 12:off + 12 + sa.icv_len] = ah_icv(sa, pkt, esn_hi)
    return bytes(pkt)


# --- IPcomp -------------------------------------------------------------------


def deflate(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def inflate(data):
    """Raw deflate (RFC 2394 as RFC 1951); ValueError unless the stream is
    complete and nothing follows it."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data)
    except zlib.error as e:
        raise ValueError(f"does not inflate: {e}")
    if not d.eof or d.unused_data:
        raise ValueError("incomplete deflate stream, or bytes after it")
    return out


def ipcomp_fields(payload):
    """(next header, CPI, compressed data) of an IPcomp header + payload."""
    nh, _flags, cpi = struct.unpack_from("!BBH", payload)
    return nh, cpi, payload[4:]


def ipcomp_payload(nh, cpi, data, compressed=None):
    """IPcomp header + the deflated `data` (or `compressed` as given)."""
    return struct.pack("!BBH", nh, 0, cpi) + (deflate(data) if compressed is None else compressed)


# --- ESP with NULL encryption (RFC 4303 + RFC 2410), readable by the test ------


def esp_null_open(payload, icv_len, akey=None, hashf=hashlib.sha1):
    """(SPI, seq, next header, inner bytes) of an ESP payload with NULL
    encryption: no IV, the trailer in the clear. With `akey`, the HMAC ICV
    is checked first (ValueError if it is wrong)."""
    spi, seq = struct.unpack_from("!II", payload)
    if akey is not None:
        want = hmac.new(akey, payload[:-icv_len], hashf).digest()[:icv_len]
        if want != payload[-icv_len:]:
            raise ValueError(f"ESP SPI {spi:#x} seq {seq}: ICV mismatch")
    body = payload[8:len(payload) - icv_len]
    padlen, nh = body[-2], body[-1]
    return spi, seq, nh, body[:len(body) - 2 - padlen]


def esp_null_seal(spi, seq, nh, inner, akey, hashf=hashlib.sha1, icv_len=12):
    """ESP with NULL encryption and an HMAC ICV (RFC 4303 §2; pads to 4)."""
    pad = -(len(inner) + 2) % 4
    body = struct.pack("!II", spi, seq) + inner + bytes(range(1, pad + 1)) + bytes([pad, nh])
    return body + hmac.new(akey, body, hashf).digest()[:icv_len]


# --- the SAD: per-SA error counters, ESN SAs ------------------------------------


def _ip_xfrm_states(ns):
    out = esp.run(ns, "ip", "-s", "xfrm", "state", capture_output=True, text=True, check=True).stdout
    states, cur = [], None
    for line in out.splitlines():
        if line.startswith("src "):
            cur = {}
            states.append(cur)
        elif cur is not None:
            m = re.search(r"proto (\w+) spi 0x([0-9a-f]+)", line)
            if m:
                cur["proto"], cur["spi"] = m.group(1), int(m.group(2), 16)
            m = re.search(r"replay-window (\d+) replay (\d+) failed (\d+)", line)
            if m:
                cur["replay"], cur["integrity_failed"] = int(m.group(2)), int(m.group(3))
    return states


def sa_errors(ns, spi, proto=None):
    """{"replay": N, "integrity_failed": N} of NS's SA with this SPI: from
    `setkey -D` for rxfrm, from xfrm_user's `ip -s xfrm state` for native
    (af_key has no way to report them)."""
    if NATIVE:
        st = next((s for s in _ip_xfrm_states(ns) if s.get("spi") == spi
                   and (proto is None or s.get("proto") == proto)), None)
    else:
        st = next((s for s in esp.sad(ns) if s.get("spi") == spi
                   and (proto is None or s.get("proto") == proto)), None)
    if st is None or "replay" not in st:
        raise KeyError(f"{ns}: no error counters for SA {spi:#x} ({st})")
    return {"replay": st["replay"], "integrity_failed": st["integrity_failed"]}


def configure_ah(ns, sas, conf="", cross_family=False):
    """Empties NS's SAD and SPD, adds the AH SAs [(src, dst, AhSA, mode)]
    and runs `conf` (one setkey run).
    For native, two kinds of SA go through xfrm_user (`ip xfrm state`),
    the kernel's other key interface — the datapath under test is the same:
    - extended sequence numbers, asked of rxfrm with `setkey -f esn`
      (FreeBSD's flag): Linux af_key has no ESN at all;
    - tunnels whose inner packets are of the other family (4in6, 6in4,
      `cross_family`): af_key gives every SA a selector of its own address
      family (pfkey_msg2xfrm_state: sel.family = props.family), with which
      Linux's tunnel mode takes only inner packets of that family; an SA
      added without a selector takes both."""
    lines, later = [], []
    for src, dst, sa, mode in sas:
        if NATIVE and (sa.esn or (cross_family and mode == "tunnel")):
            cmd = ["ip", "xfrm", "state", "add", "src", src, "dst", dst, "proto", "ah",
                   "spi", f"{sa.spi:#x}", "mode", mode]
            if sa.esn:
                cmd += ["replay-window", "64", "flag", "esn"]
            later.append(cmd + ["auth-trunc", sa.auth.xfrm_name, f"0x{sa.key.hex()}", str(sa.icv_len * 8)])
        else:
            m = " -m tunnel" if mode == "tunnel" else ""
            lines.append(f"add {src} {dst} ah {sa.spi:#x}{m} {sa.setkey_args()};\n")
    configure(ns, "".join(lines) + conf)
    for cmd in later:
        run(ns, *cmd, check=True, capture_output=True)


# --- the wire -----------------------------------------------------------------


def wait_frames(sniffer, pred, count=1, timeout=10.0):
    return sniffer.wait_for(pred, timeout=timeout, count=count)


def selfcheck():
    """The packet code against published vectors and scapy's AH (another
    independent implementation), without a kernel: RXFRM_IMPL=offline
    python3 xfrm.py selfcheck."""
    k = bytes(range(16))
    for msg, want in [(b"", "75f0251d528ac01c4573dfd584d79f29"), (bytes(range(3)), "5b376580ae2f19afe7219ceef172756f"),
                      (bytes(range(16)), "d2a246fa349b68a79998a4394ff7a263"),
                      (bytes(range(20)), "47f51b4564966215b8985c63055ed308"),
                      (bytes(range(32)), "f54f0ec8d2b9f3d36807734bd5283fd4")]:
        assert aes_xcbc_mac(k, msg).hex() == want, f"RFC 3566 vector {len(msg)}"
    k = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    assert aes_cmac(k, b"").hex() == "bb1d6929e95937287fa37d129b756746", "RFC 4493 vector 1"
    assert aes_cmac(k, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")).hex() == \
        "070a16b46b4d4144f79bdd9dd04a287c", "RFC 4493 vector 2"
    data = esp.compressible(1200)
    assert inflate(deflate(data)) == data and len(deflate(data)) < len(data) // 3
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting
    from scapy.layers.ipsec import AH, SecurityAssociation
    n = 0
    for alg, sc_alg in [("hmac-md5", "HMAC-MD5-96"), ("hmac-sha1", "HMAC-SHA1-96"),
                        ("hmac-sha384", "SHA2-384-192"), ("hmac-sha512", "SHA2-512-256"),
                        ("aes-cmac", "AES-CMAC-96")] + ([] if NATIVE else [("hmac-sha256", "SHA2-256-128")]):
        sa = AhSA(0x1234, alg)
        ssa = SecurityAssociation(AH, spi=sa.spi, auth_algo=sc_alg, auth_key=sa.key)
        v4 = IP(src="10.0.0.1", dst="10.0.0.2", tos=0x10, ttl=9, flags="DF",
                options=ipv4_opt_ra() + ipv4_opt_rr(2, ["10.0.0.1"])) / UDP(sport=1, dport=2) / (b"x" * 33)
        rh = IPv6ExtHdrRouting(addresses=["fd00::7", "fd00::8"], segleft=2)
        v6 = (IPv6(src="fd00::1", dst="fd00::9", tc=0x28, fl=0x12345, hlim=3)
              / IPv6ExtHdrHopByHop(options=[]) / IPv6ExtHdrDestOpt(options=[]) / rh / UDP(sport=1, dport=2) / (b"y" * 7))
        for pkt in (v4, v6):
            raw = bytes(pkt)
            if IPv6 in pkt:  # options with and without the 0x20 bit, as raw bytes
                raw = ipv6("fd00::1", "fd00::9", [(0, opts_hdr([tlv(0x1E, b"keep"), tlv(0x3E, b"mutable")])),
                                                  (60, opts_hdr([tlv(0x3E, b"\x01\x02"), tlv(0x1E, b"\x03")])),
                                                  (43, rh0_hdr(["fd00::7", "fd00::8"], 2))],
                           17, bytes(UDP(sport=1, dport=2) / (b"y" * 7)), hlim=3, tclass=0x28, flow=0x12345)
                pkt = IPv6(raw)
            theirs = bytes(ssa.encrypt(pkt, seq_num=77))
            assert ah_verify(sa, theirs), f"{alg}: scapy's AH fails this file's check: {theirs.hex()}"
            fields = ah_fields(theirs)
            mine = bytearray(theirs)
            mine[fields[0] + 12:fields[0] + 12 + sa.icv_len] = ah_icv(sa, theirs)
            assert bytes(mine) == theirs, f"{alg}: ICVs differ"
            bad = bytearray(theirs)
            bad[-1] ^= 1
            assert not ah_verify(sa, bytes(bad)), f"{alg}: a changed payload still verifies"
            n += 1
    # This file's own builder, checked by scapy: mutable fields changed
    # after the ICV, immutable ones not.
    sa = AhSA(0x99, "hmac-sha1")
    ssa = SecurityAssociation(AH, spi=sa.spi, auth_algo="HMAC-SHA1-96", auth_key=sa.key)
    p = bytearray(ah_packet(sa, 5, "10.0.0.1", "10.0.0.2", 17, udp("10.0.0.1", "10.0.0.2", 1, 2, b"z" * 9),
                            options=ipv4_opt_rr(2) + ipv4_opt_ra()))
    p[1], p[8] = 0xB8, 1
    p[24:28] = _inet("10.9.9.9")  # the first RR slot, filled en route
    ipv4_fix_checksum(p)
    ssa.decrypt(IP(bytes(p)))  # raises on an ICV mismatch
    assert ah_verify(sa, bytes(p))
    p6 = bytearray(ah_packet(sa, 6, "fd00::1", "fd00::2", 17, udp("fd00::1", "fd00::2", 1, 2, b"q"),
                             pre=[(0, opts_hdr([tlv(0x3E, b"abcd")]))], hlim=1, tclass=3, flow=7))
    p6[1:4], p6[7], p6[44:48] = b"\x0f\xff\xff", 200, b"ABCD"
    ssa.decrypt(IPv6(bytes(p6)))
    assert ah_verify(sa, bytes(p6))
    p6[42] ^= 0x20  # the option's type: no longer mutable
    assert not ah_verify(sa, bytes(p6))
    print(f"xfrm.py selfcheck: XCBC/CMAC vectors, deflate, {n} scapy AH packets, builder ok")


def main(argv):
    if argv[1:] == ["setup"]:
        print(f"RXFRM_STAT={STAT}")
        return 0
    if argv[1:] == ["selfcheck"]:
        selfcheck()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
