#!/usr/bin/env python3
"""Helpers for the ESP datapath tests (stdlib only): act inside a network
namespace, sniff a veth with an AF_PACKET socket and classify what is on
the wire, inject raw frames, move data over TCP between namespaces, read
rxfrm's per-namespace counters (/proc/net/rxfrm_stat, with Linux's
xfrm_stat names) and parse `setkey -D`.

As a command, for the shell tests (see esp.sh):
  esp.py sniff NS IFACE OUT     count the frames on IFACE (both directions)
                                until SIGTERM; OUT gets "FAMILY KIND SPI COUNT"
                                lines (SPI decimal, "-" unless KIND is esp);
                                OUT.ready appears once the socket listens
  esp.py tcp SERVER_NS ADDR CLIENT_NS BYTES [PORT [random|text]]
                                send BYTES over TCP from CLIENT_NS to a
                                listener on ADDR in SERVER_NS; exit 0 iff all
                                arrived with the same sha256 (text: data
                                that compresses, for IPcomp)
  esp.py stat NS                print NS's datapath counters

Frame kinds: esp; ah; ipcomp; icmp (IPv4); icmp6 (echo and errors); nd
(other ICMPv6: ND, MLD, router messages); tcp; udp; ipip and ip6
(IPv4/IPv6 carried in the clear); frag (a non-first fragment); arp; protoN;
other. For ah and ipcomp, SPI is the AH SPI / the IPcomp CPI. AH hides
nothing, so sniff also writes, for each AH frame, a line of kind
"ah>INNER" (INNER the kind of what AH carries: esp, ipcomp, tcp, ...).
"""
import atexit
import ctypes
import hashlib
import json
import math
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager

ROOT = os.environ.get("RXFRM_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SETKEY = os.environ.get("RXFRM_SETKEY") or os.path.join(ROOT, "target/release/setkey")
STAT = os.environ.get("RXFRM_STAT", "/proc/net/rxfrm_stat")

ETH_P_ALL, ETH_P_IP, ETH_P_ARP, ETH_P_IPV6 = 0x0003, 0x0800, 0x0806, 0x86DD
PACKET_HOST, PACKET_OUTGOING = 0, 4
IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP = 50, 51, 108
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

# --- namespaces -------------------------------------------------------------


@contextmanager
def netns(name):
    """Runs the block in network namespace `name` (made by `ip netns add`).
    Sockets created inside stay in that namespace after the block."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({name}): {os.strerror(e)}")
        yield
    finally:
        _libc.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(target)


def topology(shape, *names):
    """Builds topo.sh's `topo_<shape> NAMES...` (e.g. topology("pair", "a",
    "b")); the namespaces are deleted when this process exits."""
    script = ('. "$RXFRM_ROOT/selftests/lib/ktest.sh"; . "$RXFRM_ROOT/selftests/lib/topo.sh"; '
              f'topo_{shape} "$@"')
    atexit.register(lambda: [subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
                             for n in names])
    r = subprocess.run(["bash", "-c", script, "topo", *names], env=dict(os.environ, TOPO_KEEP="1"))
    if r.returncode != 0:
        raise RuntimeError(f"topo_{shape} {' '.join(names)} failed")


def run(ns, *cmd, check=False, **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], check=check, **kw)


def ping(ns, addr, count=3, deadline=30):
    """True iff `count` echo replies came back within `deadline` seconds
    (ping keeps sending until then)."""
    return run(ns, "ping", "-q", "-c", str(count), "-i", "0.3", "-w", str(deadline), addr,
               stdout=subprocess.DEVNULL).returncode == 0


def ping_gets_no_reply(ns, addr, count=2):
    return run(ns, "ping", "-q", "-c", str(count), "-i", "0.3", "-W", "1", "-w", "3", addr,
               stdout=subprocess.DEVNULL).returncode != 0


def mac(ns, ifname):
    out = run(ns, "ip", "-o", "link", "show", ifname, capture_output=True, text=True, check=True).stdout
    m = re.search(r"link/ether ([0-9a-f:]{17})", out)
    if not m:
        raise RuntimeError(f"no MAC address for {ns}:{ifname}")
    return bytes.fromhex(m.group(1).replace(":", ""))


def eth_header(src_ns, src_if, dst_ns, dst_if, ethertype=ETH_P_IP):
    """The Ethernet header of a frame from src_ns:src_if to the veth peer
    dst_ns:dst_if."""
    return mac(dst_ns, dst_if) + mac(src_ns, src_if) + struct.pack("!H", ethertype)


# --- setkey ------------------------------------------------------------------


def setkey(ns, *args, stdin=None, check=True):
    r = run(ns, SETKEY, *args, input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"setkey {' '.join(args)} in {ns} exited {r.returncode}:\n"
                           f"{stdin or ''}{r.stdout}{r.stderr}")
    return r.stdout


def configure(ns, conf):
    """Empties NS's SAD and SPD, then runs `conf` through `setkey -c`."""
    setkey(ns, "-F")
    setkey(ns, "-FP")
    if conf:
        setkey(ns, "-c", stdin=conf)


def sad(ns):
    """`setkey -D` of NS as a list of dicts: src, dst, proto, mode, spi,
    state, flags (sadb_sa_flags), bytes (current), packets (current
    `allocated`, which Linux af_key fills with the packet count), replay
    and integrity_failed (rxfrm's per-SA error counters)."""
    out, sas = setkey(ns, "-D"), []
    for line in out.splitlines():
        if line and not line[0].isspace() and len(line.split()) == 2:
            src, dst = line.split()
            sas.append({"src": src, "dst": dst})
            continue
        if not sas:
            continue
        cur = sas[-1]
        m = re.match(r"\t(esp|ah|ipcomp) mode=(\S+) spi=(\d+)\(", line)
        if m:
            cur.update(proto=m.group(1), mode=m.group(2), spi=int(m.group(3)))
        m = re.search(r"state=(\w+)", line)
        if m:
            cur["state"] = m.group(1)
        m = re.search(r"flags=0x([0-9a-f]+)", line)
        if m:
            cur["flags"] = int(m.group(1), 16)
        m = re.match(r"\tcurrent: (\d+)\(bytes\)", line)
        if m:
            cur["bytes"] = int(m.group(1))
        m = re.match(r"\tallocated: (\d+)", line)
        if m:
            cur["packets"] = int(m.group(1))
        m = re.match(r"\tstats: replay=(\d+) integrity_failed=(\d+)", line)
        if m:
            cur["replay"], cur["integrity_failed"] = int(m.group(1)), int(m.group(2))
    return sas


def sa(ns, spi):
    """The SA with this SPI in NS's `setkey -D`, or None."""
    return next((s for s in sad(ns) if s.get("spi") == spi), None)


# --- counters ----------------------------------------------------------------


def stat(ns):
    """NS's datapath counters {name: value} from /proc/net/rxfrm_stat
    (`RXFRM_STAT` overrides the path)."""
    r = run(ns, "cat", STAT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cannot read {STAT} in {ns}: {r.stderr.strip()}")
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) == 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


class Counters:
    """A snapshot of NS's counters, to ask what moved since."""

    def __init__(self, ns):
        self.ns = ns
        self.base = stat(ns)

    def delta(self, *names):
        """How much the named counters went up together since the snapshot."""
        now = stat(self.ns)
        missing = [n for n in names if n not in now]
        if missing:
            raise KeyError(f"{STAT} in {self.ns} has no {', '.join(missing)}")
        return sum(now[n] - self.base.get(n, 0) for n in names)

    def moved(self):
        """{name: increase} of every counter that changed (for messages)."""
        now = stat(self.ns)
        return {k: v - self.base.get(k, 0) for k, v in now.items() if v != self.base.get(k, 0)}


# --- the wire ----------------------------------------------------------------


class Frame:
    """One Ethernet frame, classified. `ip` is the IP packet (no Ethernet
    header); for ESP and AH, `spi` and `seq` come from its header, for
    IPcomp `spi` is the CPI. `payload` is what follows the IP headers
    (AH/ESP/IPcomp included), `proto` its protocol. Through AH (which
    hides nothing) `inner` is the kind it carries and `inner_payload` that
    payload; `sport`/`dport` are the TCP/UDP ports, AH's payload's too."""

    def __init__(self, raw, pkttype=None):
        self.raw, self.pkttype = raw, pkttype
        self.family, self.kind, self.spi, self.seq = "other", "other", None, None
        self.src = self.dst = None
        self.ip, self.payload, self.proto = b"", b"", None
        self.inner, self.inner_payload = None, b""
        self.sport = self.dport = None
        if len(raw) < 14:
            return
        etype = struct.unpack_from("!H", raw, 12)[0]
        if etype == ETH_P_ARP:
            self.family = self.kind = "arp"
        elif etype == ETH_P_IP and len(raw) >= 34:
            self._ipv4(raw[14:])
        elif etype == ETH_P_IPV6 and len(raw) >= 54:
            self._ipv6(raw[14:])

    def _ipv4(self, ip):
        self.family = "ipv4"
        ihl = (ip[0] & 15) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        self.ip = ip[:total]
        self.src, self.dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
        frag_off = struct.unpack_from("!H", ip, 6)[0] & 0x1FFF
        self._l4(ip[9], self.ip[ihl:], frag_off != 0)

    def _ipv6(self, ip):
        self.family = "ipv6"
        self.ip = ip[:40 + struct.unpack_from("!H", ip, 4)[0]]
        self.src, self.dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        nh, off, later_frag = ip[6], 40, False
        while nh in (0, 43, 44, 60) and off + 8 <= len(self.ip):
            if nh == 44:
                later_frag = (struct.unpack_from("!H", self.ip, off + 2)[0] >> 3) != 0
                nh, off = self.ip[off], off + 8
            else:
                nh, off = self.ip[off], off + (self.ip[off + 1] + 1) * 8
        self._l4(nh, self.ip[off:], later_frag)

    def _l4(self, proto, payload, later_fragment):
        self.proto, self.payload = proto, payload
        if later_fragment:
            self.kind = "frag"
        elif proto == IPPROTO_ESP and len(payload) >= 8:
            self.kind = "esp"
            self.spi, self.seq = struct.unpack_from("!II", payload)
        elif proto == IPPROTO_AH and len(payload) >= 12:
            self.kind = "ah"
            self.spi, self.seq = struct.unpack_from("!II", payload, 4)
            self.inner_payload = payload[(payload[1] + 2) * 4:]
            self.inner = self._kind(payload[0], self.inner_payload)
            self._ports(payload[0], self.inner_payload)
        elif proto == IPPROTO_COMP and len(payload) >= 4:
            self.kind = "ipcomp"
            self.spi = struct.unpack_from("!H", payload, 2)[0]
        else:
            self.kind = self._kind(proto, payload)
            self._ports(proto, payload)

    @staticmethod
    def _kind(proto, payload):
        if proto == 58:
            t = payload[0] if payload else 0
            return "icmp6" if t < 128 or t in (128, 129) else "nd"
        return {1: "icmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ip6", IPPROTO_ESP: "esp",
                IPPROTO_AH: "ah", IPPROTO_COMP: "ipcomp"}.get(proto, f"proto{proto}")

    def _ports(self, proto, payload):
        if proto in (6, 17) and len(payload) >= 4:
            self.sport, self.dport = struct.unpack_from("!HH", payload)

    def outgoing(self):
        return self.pkttype == PACKET_OUTGOING

    def __repr__(self):
        spi = f" spi={self.spi:#x} seq={self.seq}" if self.spi is not None else ""
        inner = f">{self.inner}" if self.inner else ""
        ports = f" {self.sport}->{self.dport}" if self.sport is not None else ""
        return f"<{self.family} {self.kind}{inner} {self.src}->{self.dst}{spi}{ports} len={len(self.raw)}>"


PACKET_OUTGOING = 4


def veth_peer(ns, ifname):
    """(namespace, ifindex) of the other end of veth NS:IFNAME, or None."""
    try:
        link = json.loads(subprocess.run(["ip", "-n", ns, "-j", "link", "show", ifname],
                                         capture_output=True, text=True, check=True).stdout)[0]
        if "link_index" not in link:
            return None
        nsid = link.get("link_netnsid")
        if nsid is None:
            return (ns, link["link_index"])
        ids = json.loads(subprocess.run(["ip", "-n", ns, "-j", "netns", "list-id"],
                                        capture_output=True, text=True, check=True).stdout or "[]")
        for e in ids:
            if e.get("nsid") == nsid and "name" in e:
                return (e["name"], link["link_index"])
    except (subprocess.CalledProcessError, ValueError, IndexError, KeyError):
        pass
    return None


class Sniffer:
    """The frames crossing NS:IFACE, both directions, from its creation on.
    Everything read is kept in `seen`.

    On a veth, a receiver's tap also sees what IPsec re-injects after
    decapsulation (as on Linux, the inner packet comes back through the
    device), which never was on the wire. So on a veth each frame is taken
    where it leaves: the outgoing frames of this end and of its peer."""

    def __init__(self, ns, ifname, keep=True):
        peer = veth_peer(ns, ifname)
        self.socks = [self._open(ns, ifname, None)]
        if peer is not None:
            self.socks.append(self._open(peer[0], None, peer[1]))
        self.outgoing_only = peer is not None
        self.sock = self.socks[0]
        self.keep, self.gone = keep, False
        self.seen = []
        # Frames of other interfaces may have queued before bind().
        self._read_queued()

    @staticmethod
    def _open(ns, ifname, ifindex):
        with netns(ns):
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            if ifindex is None:
                sock.bind((ifname, ETH_P_ALL))
            else:
                sock.bind((socket.if_indextoname(ifindex), ETH_P_ALL))
        try:
            sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        sock.setblocking(False)
        return sock

    def _read_queued(self):
        out = []
        for sock in self.socks:
            while not self.gone:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError as e:  # the interface went away (ENETDOWN)
                    print(f"sniffer: {e}", file=sys.stderr)
                    self.gone = True
                    break
                if self.outgoing_only and addr[2] != PACKET_OUTGOING:
                    continue
                out.append(Frame(data, addr[2]))
        return out

    def poll(self, timeout):
        """Waits up to `timeout` for a frame, then returns all queued ones."""
        r, _, _ = select.select(self.socks, [], [], timeout)
        got = self._read_queued() if r else []
        if self.keep:
            self.seen.extend(got)
        return got

    def frames(self, quiet=0.3):
        """Everything until the wire has been quiet for `quiet` seconds."""
        out = []
        while True:
            got = self.poll(quiet)
            if not got:
                return out
            out.extend(got)

    def wait_for(self, pred, timeout=5.0, count=1):
        """Reads until `count` frames matching `pred` arrived (or timeout);
        returns the matches."""
        found, deadline = [], time.time() + timeout
        while len(found) < count and time.time() < deadline:
            found.extend(f for f in self.poll(max(0.0, deadline - time.time())) if pred(f))
        return found

    def close(self):
        for sock in self.socks:
            sock.close()


def summary(frames):
    """{(family, kind, spi): count}."""
    return Counter((f.family, f.kind, f.spi) for f in frames)


def inject(ns, ifname, frame):
    """Sends a raw Ethernet frame out of NS:IFACE (to its veth peer),
    bypassing NS's IP stack, policies included."""
    with netns(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((ifname, 0))
    with s:
        s.send(frame)


# --- sockets -----------------------------------------------------------------


def udp_socket(ns, addr, port=0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with netns(ns):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, port))
    return s


def recv_within(sock, timeout):
    """The next datagram, or None after `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(65535)
    except socket.timeout:
        return None


def send_udp(sock, data, addr, port):
    """sendto(); an error (a policy may refuse) is returned, not raised."""
    try:
        sock.sendto(data, (addr, port))
        return None
    except OSError as e:
        return e


def compressible(n, seed=0):
    """`n` bytes of text that deflate shrinks several times (numbered lines),
    for the IPcomp tests."""
    out, i = [], seed
    while sum(map(len, out)) < n:
        out.append(b"%08d the quick brown fox jumps over the lazy dog; rxfrm IPcomp\n" % i)
        i += 1
    return b"".join(out)[:n]


def tcp_transfer(server_ns, addr, client_ns, nbytes, port=5001, timeout=900, pattern="random",
                 until=None):
    """Sends `nbytes` of data (each 64 KiB chunk numbered, so lost, repeated
    or reordered chunks change the hash) from client_ns to a listener on
    addr in server_ns: pseudo-random, or with pattern="text" compressible
    (see compressible()). With `until` (a path), sends until that file
    exists instead, and creates `until`.up once connected: a test paces
    the transfer by what it waits for, not by its length. Returns (sent,
    sent_sha256, received, received_sha256, seconds)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with netns(server_ns):
        srv = socket.socket(fam, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, port))
        srv.listen(1)
    with netns(client_ns):
        cli = socket.socket(fam, socket.SOCK_STREAM)
    srv.settimeout(timeout)
    cli.settimeout(timeout)
    got = {"n": 0, "sha": hashlib.sha256(), "err": None}

    def serve():
        try:
            conn, _ = srv.accept()
            conn.settimeout(timeout)
            with conn:
                while True:
                    b = conn.recv(1 << 16)
                    if not b:
                        break
                    got["n"] += len(b)
                    got["sha"].update(b)
        except OSError as e:
            got["err"] = e

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    start = time.time()
    block = compressible(1 << 16) if pattern == "text" else os.urandom(1 << 16)
    sent, sha, i = 0, hashlib.sha256(), 0
    try:
        cli.connect((addr, port))
        if until:
            open(until + ".up", "w").close()
        limit = math.inf if until else nbytes
        while sent < limit and not (until and os.path.exists(until)):
            chunk = (struct.pack("!Q", i) + block)[:min(1 << 16, limit - sent)]
            cli.sendall(chunk)
            sha.update(chunk)
            sent += len(chunk)
            i += 1
        cli.shutdown(socket.SHUT_WR)
    except OSError as e:
        print(f"tcp: client error after {sent} bytes: {e}")
    t.join(timeout)
    cli.close()
    srv.close()
    if got["err"]:
        print(f"tcp: server error after {got['n']} bytes: {got['err']}")
    return sent, sha.hexdigest(), got["n"], got["sha"].hexdigest(), time.time() - start


# --- command line ------------------------------------------------------------


def sniff_counts(frames):
    """summary() plus one ("FAMILY", "ah>INNER", SPI) entry per AH frame."""
    c = summary(frames)
    c.update((f.family, f"ah>{f.inner}", f.spi) for f in frames if f.kind == "ah")
    return c


def cmd_sniff(ns, ifname, out):
    sn = Sniffer(ns, ifname, keep=False)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    counts = Counter()
    open(out + ".ready", "w").close()
    while not stop and not sn.gone:
        counts.update(sniff_counts(sn.poll(0.2)))
    counts.update(sniff_counts(sn.poll(0.05)))
    with open(out + ".tmp", "w") as f:
        for (fam, kind, spi), n in sorted(counts.items(), key=str):
            f.write(f"{fam} {kind} {'-' if spi is None else spi} {n}\n")
    os.rename(out + ".tmp", out)
    return 0


def cmd_tcp(server_ns, addr, client_ns, nbytes, port=5001, pattern="random"):
    """NBYTES, or until:PATH (see tcp_transfer)."""
    until = nbytes[len("until:"):] if nbytes.startswith("until:") else None
    sent, h1, got, h2, secs = tcp_transfer(server_ns, addr, client_ns, 0 if until else int(nbytes),
                                           int(port), pattern=pattern, until=until)
    print(f"tcp {client_ns} -> {server_ns} {addr}: sent {sent} bytes sha256 {h1[:16]}, "
          f"received {got} bytes sha256 {h2[:16]}, {secs:.1f}s ({got / max(secs, 1e-3) / 1e6:.2f} MB/s)")
    return 0 if (sent, h1) == (got, h2) and (sent > 0 if until else sent == int(nbytes)) else 1


def main(argv):
    if len(argv) >= 5 and argv[1] == "sniff":
        return cmd_sniff(*argv[2:5])
    if len(argv) in (6, 7, 8) and argv[1] == "tcp":
        return cmd_tcp(*argv[2:])
    if len(argv) == 3 and argv[1] == "stat":
        for k, v in stat(argv[2]).items():
            print(k, v)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
