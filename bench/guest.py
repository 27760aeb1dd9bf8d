#!/usr/bin/env python3
"""The benchmark itself; runs inside the VM (selftests/vm-run --no-module).

One boot measures both implementations, interleaved: rxfrm, then the
kernel's own af_key/esp/ah/ipcomp/xfrm_user, then rxfrm again (the two
rxfrm passes bound the drift). Every sample, failure and note is printed
as a line `BENCH {json}`; bench/report.py turns them into the table. Other
lines are progress for the log.

    guest.py --module RXFRM_KO --udpflood BIN [--quick]

A measurement that cannot run is reported, never skipped: its record says
what happened (probe ping failed, which packets were on the wire, which
counters moved), and the exit status is 1 if any measurement failed.
"""
import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.environ["RXFRM_ROOT"]
KDIR = os.environ["RXFRM_KDIR"]
SETKEY = os.environ.get("RXFRM_SETKEY", ROOT + "/target/release/setkey")

A, B = "10.0.0.1", "10.0.0.2"  # node (sender) and peer (receiver) on the veth
A6, B6 = "fd00::1", "fd00::2"
TA, TB = "10.9.1.1", "10.9.2.1"  # tunnel-mode inner addresses (on lo)

# The native side: the modules rxfrm replaces, in dependency order.
NATIVE = ["xfrm_algo", "af_key", "esp4", "esp6", "ah4", "ah6", "xfrm_ipcomp",
          "tunnel4", "xfrm4_tunnel", "ipcomp", "tunnel6", "xfrm6_tunnel",
          "ipcomp6", "xfrm_user"]

# Each algorithm as setkey (PF_KEY) writes it and as `ip xfrm state` does,
# and whether Linux af_key can key it exactly like rxfrm. af_key adds no
# AEAD SA at all (SADB_ADD with AES-GCM or ChaCha20-Poly1305: ENOSYS), and
# its hmac-sha256 is 96-bit where rxfrm's is 128 (RFC 4868): native gets
# those SAs through netlink with the same parameters.
ALGS = {
    "gcm": dict(klen=20, pfkey=False, setkey="-E aes-gcm-16 0x{k}",
                xfrm="aead rfc4106(gcm(aes)) 0x{k} 128"),
    "cbc-sha256": dict(klen=48, pfkey=False, setkey="-E aes-cbc 0x{k16} -A hmac-sha256 0x{k32}",
                       xfrm="enc cbc(aes) 0x{k16} auth-trunc hmac(sha256) 0x{k32} 128"),
    "chacha": dict(klen=36, pfkey=False, setkey="-E chacha20-poly1305 0x{k}",
                   xfrm="aead rfc7539esp(chacha20,poly1305) 0x{k} 128"),
    "ah-sha256": dict(klen=32, pfkey=False, setkey="-A hmac-sha256 0x{k}",
                      xfrm="auth-trunc hmac(sha256) 0x{k} 128"),
    "deflate": dict(klen=0, pfkey=True, setkey="-C deflate", xfrm="comp deflate"),
}
NETLINK_NOTE = {
    "gcm": "native SAs keyed by `ip xfrm` (af_key refuses AEAD SAs: ENOSYS); policies by setkey",
    "cbc-sha256": "native SAs keyed by `ip xfrm` (af_key's hmac-sha256 truncates to 96 bits; "
                  "rxfrm's and this one to 128, RFC 4868); policies by setkey",
    "chacha": "native SAs keyed by `ip xfrm` (af_key refuses AEAD SAs: ENOSYS); "
              "policies by setkey",
    "ah-sha256": "native SAs keyed by `ip xfrm` with 128-bit truncation (af_key's is 96); "
                 "policies by setkey",
}
PROTO_NUM = {"esp": 50, "ah": 51, "ipcomp": 108}
XFRM_PROTO = {"esp": "esp", "ah": "ah", "ipcomp": "comp"}

# Throughput rows: (metric, family, mode, [(proto, alg)...] innermost first, iperf extra).
TCP_ROWS = [
    ("tcp_plain", 4, None, [], []),
    ("tcp_esp_gcm", 4, "transport", [("esp", "gcm")], []),
    ("tcp_esp_cbc_sha256", 4, "transport", [("esp", "cbc-sha256")], []),
    ("tcp_esp_chacha", 4, "transport", [("esp", "chacha")], []),
    ("tcp_esp_gcm_tunnel", 4, "tunnel", [("esp", "gcm")], []),
    ("tcp_esp_gcm_v6", 6, "transport", [("esp", "gcm")], []),
    ("tcp_ah_sha256", 4, "transport", [("ah", "ah-sha256")], []),
    # IPcomp inside ESP (IP|ESP|IPcomp|TCP); iperf3's repeating payload is
    # compressible, its default random payload would never be compressed.
    ("tcp_ipcomp_esp", 4, "transport", [("ipcomp", "deflate"), ("esp", "gcm")],
     ["--repeating-payload"]),
]
GCM = ("tcp_esp_gcm", 4, "transport", [("esp", "gcm")], [])
# Control plane sizes (small, big): full run, --quick.
COUNTS = {False: (10000, 100000), True: (500, 2000)}


class Fail(Exception):
    pass


class Unavailable(Exception):
    """(protocol, what was seen): the implementation did not apply it."""


FAILED = False


def emit(kind, **kw):
    global FAILED
    if kind == "fail" and kw.get("status") == "failed":
        FAILED = True
    kw["type"] = kind
    print("BENCH " + json.dumps(kw, sort_keys=True), flush=True)


def log(msg):
    print("# %s %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def run(cmd, timeout=600, check=True, input=None):
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(cmd[:6]), p.returncode,
                                        (p.stderr or p.stdout).strip()[-400:]))
    return p


def ns(n, *cmd):
    return ["ip", "netns", "exec", n] + list(cmd)


def wait_for(what, pred, timeout=30, step=0.05):
    """Readiness, never a bare sleep: poll PRED until true or fail."""
    end = time.monotonic() + timeout
    while True:
        if pred():
            return
        if time.monotonic() > end:
            raise Fail("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(step)


# ---------------------------------------------------------------- modules

def modpath():
    paths = {}
    with open(os.path.join(KDIR, "modules.order")) as f:
        for line in f:
            p = line.strip().replace(".o", ".ko")
            paths[os.path.basename(p)[:-3]] = os.path.join(KDIR, p)
    return paths


def loaded():
    with open("/proc/modules") as f:
        return {line.split()[0] for line in f}


def load(impl, module):
    if impl == "rxfrm":
        run(["insmod", module])
    else:
        paths = modpath()
        have = loaded()
        for m in NATIVE:
            if m not in have:
                run(["insmod", paths[m]])
    log("loaded %s: %s" % (impl, " ".join(sorted(loaded()))))


def unload(impl):
    mods = ["rxfrm"] if impl == "rxfrm" else list(reversed(NATIVE))
    for m in mods:
        # Namespaces die asynchronously (cleanup_net), and sockets hold
        # module references until they do: retry until the module goes.
        def gone(m=m):
            if m not in loaded():
                return True
            subprocess.run(["rmmod", m], stderr=subprocess.DEVNULL)
            return m not in loaded()
        wait_for("rmmod %s" % m, gone, timeout=120, step=0.5)


# ---------------------------------------------------------------- topology

def topo_up():
    for n in ("node", "peer"):
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        run(["ip", "netns", "add", n])
        run(["ip", "-n", n, "link", "set", "lo", "up"])
        run(ns(n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
               "net.ipv6.conf.default.accept_dad=0",
               "net.ipv6.conf.default.router_solicitations=0"))
    run(["ip", "link", "add", "eth0", "netns", "node", "type", "veth",
         "peer", "name", "eth0", "netns", "peer"])
    for n, me, me6, inner in (("node", A, A6, TA), ("peer", B, B6, TB)):
        run(["ip", "-n", n, "link", "set", "eth0", "up"])
        run(["ip", "-n", n, "addr", "add", me + "/24", "dev", "eth0"])
        run(["ip", "-n", n, "-6", "addr", "add", me6 + "/64", "dev", "eth0", "nodad"])
        run(["ip", "-n", n, "addr", "add", inner + "/32", "dev", "lo"])
    run(["ip", "-n", "node", "route", "add", TB, "via", B, "src", TA])
    run(["ip", "-n", "peer", "route", "add", TA, "via", A, "src", TB])

    def mac(n):
        out = run(["ip", "-n", n, "-o", "link", "show", "eth0"]).stdout
        return re.search(r"link/ether ([0-9a-f:]+)", out).group(1)
    # No Neighbour Discovery through (or refused by) a policy.
    run(["ip", "-n", "node", "-6", "neigh", "replace", B6, "lladdr", mac("peer"),
         "dev", "eth0", "nud", "permanent"])
    run(["ip", "-n", "peer", "-6", "neigh", "replace", A6, "lladdr", mac("node"),
         "dev", "eth0", "nud", "permanent"])

    def settled():
        for n in ("node", "peer"):
            if "state UP" not in run(["ip", "-n", n, "-o", "link", "show", "eth0"]).stdout:
                return False
            if run(["ip", "-n", n, "-6", "addr", "show", "tentative"]).stdout.strip():
                return False
        return True
    wait_for("veth carrier", settled, timeout=20)


def topo_down():
    for n in ("node", "peer"):
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- keying

def key_hex(spi, klen):
    return hashlib.sha256(str(spi).encode()).hexdigest() * 2


def alg_args(alg, spi, form):
    a = ALGS[alg]
    h = key_hex(spi, a["klen"])
    return a[form].format(k=h[:2 * a["klen"]], k16=h[:32], k32=h[32:96])


def row_keys(impl, fam, mode, stack):
    """setkey text and `ip xfrm` lines (per namespace) for a row, and the
    SAs to watch (node's outbound ones)."""
    if fam == 6:
        s, d, ps, pd = A6, B6, A6, B6
    elif mode == "tunnel":
        s, d, ps, pd = A, B, TA, TB
    else:
        s, d, ps, pd = A, B, A, B
    sas, xfrm, notes = [], [], []
    watch = []
    for i, (proto, alg) in enumerate(stack):
        for j, (src, dst) in enumerate(((s, d), (d, s))):
            spi = 0x1000 + 0x100 * i + j + 1 if proto != "ipcomp" else 0x4000 + j + 1
            m = "tunnel" if mode == "tunnel" else "transport"
            if impl == "native" and not ALGS[alg]["pfkey"]:
                xfrm.append("xfrm state add src %s dst %s proto %s spi 0x%x mode %s %s" % (
                    src, dst, XFRM_PROTO[proto], spi, m, alg_args(alg, spi, "xfrm")))
                notes.append(NETLINK_NOTE[alg])
            else:
                sas.append("add %s %s %s 0x%x -m %s %s;" % (
                    src, dst, proto, spi, m, alg_args(alg, spi, "setkey")))
            if j == 0:
                watch.append((src, dst, proto, spi))
    texts = {}
    for n, (me, them, pme, pthem) in (("node", (s, d, ps, pd)), ("peer", (d, s, pd, ps))):
        lines = list(sas)
        if stack:
            def tmpl(a, b):
                out = []
                for proto, _ in stack:
                    lvl = "use" if proto == "ipcomp" else "require"
                    ends = "%s-%s" % (a, b) if mode == "tunnel" else ""
                    out.append("%s/%s/%s/%s" % (proto, mode, ends, lvl))
                return " ".join(out)
            lines.append("spdadd %s %s any -P out ipsec %s;" % (pme, pthem, tmpl(me, them)))
            lines.append("spdadd %s %s any -P in ipsec %s;" % (pthem, pme, tmpl(them, me)))
        texts[n] = "\n".join(lines) + "\n"
    return texts, xfrm, watch, sorted(set(notes))


def flush_keys():
    for n in ("node", "peer"):
        run(ns(n, SETKEY, "-F"))
        run(ns(n, SETKEY, "-FP"))


def apply_keys(texts, xfrm):
    for n in ("node", "peer"):
        if xfrm:
            run(["ip", "-n", n, "-batch", "-"], input="\n".join(xfrm) + "\n")
        run(ns(n, SETKEY, "-c"), input=texts[n])


def sa_counts(impl, n, sa):
    """(bytes, packets) the SA has counted, as its implementation reports."""
    src, dst, proto, spi = sa
    if impl == "rxfrm":
        out = run(ns(n, SETKEY, "-c"), input="get %s %s %s 0x%x;\n" % sa).stdout
        b = re.search(r"\tcurrent: (\d+)\(bytes\)", out)
        p = re.search(r"\tallocated: (\d+)", out)
    else:
        out = run(["ip", "-n", n, "-s", "xfrm", "state", "get", "src", src, "dst", dst,
                   "proto", XFRM_PROTO[proto], "spi", "0x%x" % spi]).stdout
        b = p = re.search(r"(\d+)\(bytes\), (\d+)\(packets\)", out)
        if b:
            return int(b.group(1)), int(b.group(2))
    if not b or not p:
        raise Fail("no counters for SA %s in %s: %s" % (sa, n, out[-300:]))
    return int(b.group(1)), int(p.group(1))


def xfrm_stats(impl, n):
    path = "/proc/net/rxfrm_stat" if impl == "rxfrm" else "/proc/net/xfrm_stat"
    out = run(ns(n, "cat", path), check=False).stdout
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)", out, re.M)}


WIRE = [("esp", re.compile(r"\bESP\(")), ("ah", re.compile(r"\bAH\(")),
        ("ipcomp", re.compile(r"\bIPComp\("))]
ECHO = re.compile(r"ICMP echo request|ICMP6, echo request")


def probe(impl, fam, mode, stack):
    """A real check that the row's traffic flows as keyed: a few pings from
    node to peer must come back, and what node puts on the wire (tcpdump on
    its eth0, outgoing only: the peer's own taps would also see packets it
    re-injects after decapsulation) must be the outermost protocol, with no
    clear echo request when IPsec is keyed. Returns None if so, else what
    happened."""
    dst = B6 if fam == 6 else (TB if mode == "tunnel" else B)
    cap = subprocess.Popen(ns("node", "tcpdump", "-i", "eth0", "-Q", "out", "-n", "-l", "-vv"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = cap.stderr.readline()
        if "listening on" not in line:
            raise Fail("tcpdump did not start: %s" % line.strip())
        st0 = xfrm_stats(impl, "node")
        ping = run(ns("node", "ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", "15", dst),
                   timeout=60, check=False)
        st1 = xfrm_stats(impl, "node")
    finally:
        cap.send_signal(2)
        text, _ = cap.communicate(timeout=30)
    # tcpdump -vv prints the IP header on one line and what it carries on
    # the next; AH carries its payload in clear, so an echo request after
    # "AH(...)" on the same line is not a clear one.
    lines = text.splitlines()
    seen = {k: sum(1 for x in lines if rx.search(x)) for k, rx in WIRE}
    seen["clear echo"] = sum(1 for x in lines
                             if ECHO.search(x) and not any(rx.search(x) for _, rx in WIRE))
    moved = {k: st1[k] - st0.get(k, 0) for k in st1 if st1[k] != st0.get(k, 0)}
    outer = stack[-1][0] if stack else "clear echo"
    clear = seen["clear echo"]
    if ping.returncode == 0 and seen[outer] > 0 and (not stack or clear == 0):
        return None
    wire = ", ".join("%d %s" % (n, {"ipcomp": "IPcomp", "clear echo": "clear echo requests"}
                                .get(k, k.upper()))
                     for k, n in seen.items() if n or k == outer)
    ctr = ""
    if moved:
        ctr = "; %s: %s" % ("rxfrm_stat" if impl == "rxfrm" else "xfrm_stat",
                            ", ".join("%s +%d" % kv for kv in sorted(moved.items())))
    sample = next((x.strip() for x in lines if x.startswith("\t") or x.startswith(" ")), "")
    return "ping %s, node sent %s%s%s" % (
        "ok" if ping.returncode == 0 else "failed", wire or "nothing", ctr,
        "; e.g. `%s`" % sample[:120] if sample else "")


# ---------------------------------------------------------------- measurements

def listening(n, proto, port):
    flag = "-Hltn" if proto == "tcp" else "-Hlun"
    return lambda: bool(run(ns(n, "ss", flag, "sport = :%d" % port), check=False).stdout.strip())


def iperf(dst, secs, omit, extra):
    srv = subprocess.Popen(ns("peer", "iperf3", "-s", "-1", "-p", "5201"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for("iperf3 server", listening("peer", "tcp", 5201), timeout=30)
        p = run(ns("node", "iperf3", "-c", dst, "-p", "5201", "-t", str(secs), "-O", str(omit),
                   "-J", *extra), timeout=secs + omit + 120, check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise Fail("iperf3 printed no JSON (exit %d): %s" % (p.returncode, p.stderr[-300:]))
        if "error" in j:
            raise Fail("iperf3: %s" % j["error"])
        r = j["end"]["sum_received"]
        return r["bits_per_second"] / 1e6, r["bytes"]
    finally:
        try:
            srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


class Bench:
    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.runs = 1 if a.quick else 3
        self.secs, self.omit = (1, 0) if a.quick else (10, 2)
        self.small, self.big = COUNTS[a.quick]
        self.only = a.only.split(",") if a.only else None
        self.impl = None
        self.pass_no = 0
        self.files = {}

    def wanted(self, metric):
        """--only: a before/after check of some rows (a full run is the
        table); `ctl` selects the control plane and scale rows."""
        return self.only is None or metric in self.only

    def sample(self, metric, value, unit, **kw):
        emit("sample", metric=metric, impl=self.impl, pass_no=self.pass_no,
             value=value, unit=unit, **kw)

    def fail(self, metric, status, detail):
        emit("fail", metric=metric, impl=self.impl, pass_no=self.pass_no,
             status=status, detail=detail)
        log("%s %s: %s: %s" % (self.impl, metric, status, detail))

    def note(self, metric, text):
        emit("note", metric=metric, impl=self.impl, text=text)

    def key_row(self, row):
        metric, fam, mode, stack, extra = row
        flush_keys()
        texts, xfrm, watch, notes = row_keys(self.impl, fam, mode, stack)
        apply_keys(texts, xfrm)
        for t in notes:
            self.note(metric, t)
        return watch

    def unavailable(self, metric, why, watch=()):
        """A probe failed. Where rxfrm's SA of a protocol other than ESP
        counted nothing at all (its datapath never used it), the row is n/a
        for rxfrm, not a failure: AH and IPcomp until their datapaths land."""
        idle = []
        if self.impl == "rxfrm" and "ping failed" in why:
            for w in watch:
                try:
                    if w[2] != "esp" and sa_counts(self.impl, "node", w)[1] == 0:
                        idle.append(w)
                except Fail:
                    pass
        if idle:
            self.fail(metric, "n/a", "no %s datapath in rxfrm: its SA %s counted nothing "
                      "(probe: %s)" % ("/".join({"ah": "AH", "ipcomp": "IPcomp"}[w[2]]
                                                for w in idle),
                                       ", ".join("0x%x" % w[3] for w in idle), why))
        else:
            self.fail(metric, "failed", "probe: " + why)

    def tcp_row(self, row, metric=None, runs=None):
        m0, fam, mode, stack, extra = row
        metric = metric or m0
        dst = B6 if fam == 6 else (TB if mode == "tunnel" else B)
        try:
            watch = self.key_row(row) if metric == m0 else self.watch
            why = probe(self.impl, fam, mode, stack)
            if why:
                self.unavailable(metric, why, watch)
                return None
            vals = []
            for _ in range(runs or self.runs):
                c0 = [sa_counts(self.impl, "node", w) for w in watch]
                mbps, nbytes = iperf(dst, self.secs, self.omit, extra)
                c1 = [sa_counts(self.impl, "node", w) for w in watch]
                # Every SA of the bundle must have carried the flow, or
                # the figure is not what the row says: the innermost one
                # counts at least the payload, the outer ones (which see
                # it compressed, under IPcomp) at least a packet.
                for i, (w, a0, a1) in enumerate(zip(watch, c0, c1)):
                    if a1[1] - a0[1] <= 0 and w[2] != "esp":
                        raise Unavailable(
                            {"ah": "AH", "ipcomp": "IPcomp"}[w[2]],
                            "its SA 0x%x counted no packet while the flow's %d bytes went "
                            "through" % (w[3], nbytes))
                    if i == 0 and a1[0] - a0[0] < nbytes:
                        raise Fail("SA 0x%x counted %d bytes for %d received: traffic "
                                   "bypassed it" % (w[3], a1[0] - a0[0], nbytes))
                    if a1[1] - a0[1] <= 0:
                        raise Fail("SA 0x%x counted no packet: traffic bypassed it" % w[3])
                self.sample(metric, round(mbps, 2), "Mbit/s")
                vals.append(mbps)
            log("%s %s: %s Mbit/s" % (self.impl, metric, " ".join("%.1f" % v for v in vals)))
            return statistics.median(vals)
        except Unavailable as e:
            if self.impl == "rxfrm":
                self.fail(metric, "n/a", "no %s datapath in rxfrm: %s" % e.args)
            else:
                self.fail(metric, "failed", "%s: %s" % e.args)
        except (Fail, subprocess.TimeoutExpired) as e:
            self.fail(metric, "failed", str(e))
        return None

    def udp_row(self, metric, flows):
        try:
            watch = self.key_row(GCM)
            why = probe(self.impl, 4, "transport", GCM[3])
            if why:
                self.unavailable(metric, why)
                return
            secs = self.secs
            for _ in range(self.runs):
                c0 = sa_counts(self.impl, "node", watch[0])
                rcv = subprocess.Popen(ns("peer", self.a.udpflood, "recv", "4", "5202",
                                          str(self.omit), str(secs)),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                try:
                    line = rcv.stdout.readline().strip()
                    if line != "ready":
                        raise Fail("udpflood recv did not start: %r %s" % (line, rcv.stderr.read()))
                    snd = run(ns("node", self.a.udpflood, "send", B, "5202", str(flows), "64",
                                 str(self.omit + secs + 3)), timeout=secs + 120)
                    out, err = rcv.communicate(timeout=60)
                    if rcv.returncode != 0:
                        raise Fail("udpflood recv: %s" % err.strip())
                finally:
                    if rcv.poll() is None:
                        rcv.kill()
                        rcv.wait()
                r = json.loads(out)
                c1 = sa_counts(self.impl, "node", watch[0])
                if c1[1] - c0[1] < r["pps"] * r["window_s"]:
                    raise Fail("SA counted %d packets, receiver %d" % (
                        c1[1] - c0[1], r["pps"] * r["window_s"]))
                self.sample(metric, round(r["pps"]), "packets/s", sender=snd.stdout.strip(),
                            rcvbuf_errors=r["rcvbuf_errors"])
                log("%s %s: %.0f packets/s (%s)" % (self.impl, metric, r["pps"],
                                                    snd.stdout.strip()))
        except (Fail, subprocess.TimeoutExpired, ValueError) as e:
            self.fail(metric, "failed", str(e))

    def ping_row(self):
        try:
            self.key_row(GCM)
            why = probe(self.impl, 4, "transport", GCM[3])
            if why:
                self.unavailable("ping_rtt_median", why)
                self.fail("ping_rtt_p99", "failed", "probe: " + why)
                return
            n = 50 if self.quick else 200
            p = run(ns("node", "ping", "-c", str(n), "-i", "0.01", "-W", "2", B), timeout=120,
                    check=False)
            rtt = sorted(float(x) for x in re.findall(r"time=([\d.]+) ms", p.stdout))
            if len(rtt) != n:
                raise Fail("%d of %d echo replies came back" % (len(rtt), n))
            p99 = rtt[max(0, -(-99 * n // 100) - 1)]
            self.sample("ping_rtt_median", round(statistics.median(rtt) * 1000, 1), "us")
            self.sample("ping_rtt_p99", round(p99 * 1000, 1), "us")
            log("%s ping: median %.3f ms p99 %.3f ms" % (self.impl, statistics.median(rtt), p99))
        except (Fail, subprocess.TimeoutExpired) as e:
            self.fail("ping_rtt_median", "failed", str(e))
            self.fail("ping_rtt_p99", "failed", str(e))

    # ------------------------------------------------------------ control plane

    def gen(self, kind, count, verb):
        """Files of COUNT entries that match no traffic here, written once per boot."""
        key = (kind, count, verb)
        if key in self.files:
            return self.files[key]
        path = "/tmp/bench-%s-%d-%s" % (kind, count, verb)
        k = key_hex(0, 20)[:40]
        with open(path, "w") as f:
            for i in range(count):
                x, y = "10.%d.%d.%d" % (128 + (i >> 16), (i >> 8) & 255, i & 255), \
                       "10.%d.%d.%d" % (192 + (i >> 16), (i >> 8) & 255, i & 255)
                if kind == "spd":
                    f.write("spdadd %s %s any -P out ipsec esp/transport//require;\n" % (x, y)
                            if verb == "add" else "spddelete %s %s any -P out;\n" % (x, y))
                elif kind == "ipspd":
                    f.write("xfrm policy add src %s/32 dst %s/32 dir out tmpl proto esp mode "
                            "transport level required\n" % (x, y) if verb == "add" else
                            "xfrm policy delete src %s/32 dst %s/32 dir out\n" % (x, y))
                else:
                    # SAs with a local end (10.0.0.1), as a gateway's are:
                    # both implementations build their crypto for them.
                    # AES-128-CBC + HMAC-SHA1-96: what af_key can add too.
                    src, dst = (A, y) if i % 2 == 0 else (y, A)
                    spi = 0x100000 + i
                    if kind == "sad":
                        f.write("add %s %s esp 0x%x -m transport -E aes-cbc 0x%s "
                                "-A hmac-sha1 0x%s;\n" % (src, dst, spi, k[:32], k)
                                if verb == "add" else
                                "delete %s %s esp 0x%x;\n" % (src, dst, spi))
                    else:
                        f.write("xfrm state add src %s dst %s proto esp spi 0x%x mode transport "
                                "enc cbc(aes) 0x%s auth hmac(sha1) 0x%s\n" % (
                                    src, dst, spi, k[:32], k)
                                if verb == "add" else
                                "xfrm state delete src %s dst %s proto esp spi 0x%x\n" % (
                                    src, dst, spi))
        self.files[key] = path
        return path

    def timed(self, kind, count, verb):
        path = self.gen(kind, count, verb)
        cmd = (ns("node", SETKEY, "-f", path) if kind in ("spd", "sad")
               else ["ip", "-n", "node", "-batch", path])
        t0 = time.monotonic()
        run(cmd, timeout=3000)
        return time.monotonic() - t0

    def ctl(self, kind, count, reps, at_full=None):
        """Add COUNT entries (and time it), call AT_FULL while they are
        installed, delete them (and time it); REPS times."""
        via = "netlink" if kind.startswith("ip") else "pfkey"
        what = "policies" if kind.endswith("spd") else "sas"
        name = "ctl_%s_%s_%d" % (via, what, count)
        for r in range(reps):
            try:
                t = self.timed(kind, count, "add")
                self.sample(name + "_add", round(t, 3), "s", per_entry_us=round(t / count * 1e6, 1))
                if at_full and r == 0:
                    at_full()
                t2 = self.timed(kind, count, "del")
                self.sample(name + "_del", round(t2, 3), "s",
                            per_entry_us=round(t2 / count * 1e6, 1))
                log("%s %s: add %.2f s, delete %.2f s" % (self.impl, name, t, t2))
            except (Fail, subprocess.TimeoutExpired) as e:
                self.fail(name + "_add", "failed", str(e))
                self.fail(name + "_del", "failed", str(e))
                # Leave nothing behind for the next measurement.
                try:
                    flush_keys()
                    self.key_row(GCM)
                except Fail:
                    pass
                return

    def meminfo(self):
        run(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"])
        with open("/proc/meminfo") as f:
            return {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", f.read(), re.M)}

    def settled_meminfo(self):
        """Memory once retired objects are freed (rxfrm frees them from a
        once-a-second tick after a grace period): two readings 1 s apart
        that agree within 0.5% of Slab."""
        prev = self.meminfo()
        for _ in range(20):
            time.sleep(1)  # a measurement interval, not a readiness wait
            cur = self.meminfo()
            if abs(cur["Slab"] - prev["Slab"]) <= prev["Slab"] * 0.005:
                return cur
            prev = cur
        return cur

    def scale_point(self, kind, count):
        """While COUNT entries are installed: memory per entry, throughput."""
        def at_full():
            after = self.settled_meminfo()
            what = "policy" if kind == "spd" else "sa"
            d = {k: after[k] - self.mem0[k] for k in ("Slab", "SUnreclaim", "VmallocUsed",
                                                      "Percpu", "MemFree")}
            self.sample("mem_per_%s_slab" % what, round(d["Slab"] * 1024 / count), "bytes",
                        count=count, delta_kb=d)
            self.sample("mem_per_%s_all" % what, round(
                (d["Slab"] + d["VmallocUsed"] + d["Percpu"]) * 1024 / count), "bytes",
                count=count)
            runs = self.runs
            metric = "tcp_esp_gcm_%s_%d" % ("policies" if kind == "spd" else "sas", count)
            self.tcp_row(GCM, metric=metric, runs=runs)
        return at_full

    # ------------------------------------------------------------ a pass

    def run_pass(self, impl, pass_no, big):
        self.impl, self.pass_no = impl, pass_no
        log("=== pass %d: %s ===" % (pass_no, impl))
        load(impl, self.a.module)
        topo_up()
        try:
            # Warm-up, not measured: the first transfer after a module load
            # (or the boot) pays for page cache, TCG translation and caches.
            try:
                iperf(B, 1 if self.quick else 3, 0, [])
            except Fail as e:
                log("warm-up: %s" % e)
            for row in TCP_ROWS:
                if self.wanted(row[0]):
                    self.tcp_row(row)
            for metric, flows in (("udp64_pps_1flow", 1), ("udp64_pps_1000flows", 1000)):
                if self.wanted(metric):
                    self.udp_row(metric, flows)
            if self.wanted("ping"):
                self.ping_row()
            if self.wanted("ctl"):
                self.control_plane(big)
            flush_keys()
        finally:
            topo_down()
            unload(impl)

    def control_plane(self, with_big):
        small, big = self.small, self.big
        reps = 1 if self.quick else 3
        # The one policy pair and SA pair the measured flow uses.
        try:
            self.watch = self.key_row(GCM)
        except Fail as e:
            for kind in ("policies", "sas"):
                for n in (small, big):
                    for v in ("add", "del"):
                        self.fail("ctl_pfkey_%s_%d_%s" % (kind, n, v), "failed",
                                  "keying the measured flow: %s" % e)
            return
        # BIG first, from a clean baseline (memory per entry, throughput
        # while installed), then SMALL REPS times (throughput once).
        if with_big:
            self.mem0 = self.settled_meminfo()
            self.ctl("spd", big, 1, at_full=self.scale_point("spd", big))
        self.ctl("spd", small, reps, at_full=self.scale_tcp("spd", small))
        if with_big:
            self.mem0 = self.settled_meminfo()
            self.ctl("sad", big, 1, at_full=self.scale_point("sad", big))
        self.ctl("sad", small, reps)
        if self.impl == "native":
            if with_big:
                self.ctl("ipspd", big, 1)
            self.ctl("ipspd", small, reps)
            if with_big:
                self.ctl("ipsad", big, 1)
            self.ctl("ipsad", small, reps)

    def scale_tcp(self, kind, count):
        def at_full():
            self.tcp_row(GCM, metric="tcp_esp_gcm_policies_%d" % count, runs=1)
        return at_full


def host_stamp():
    """(host time, guest monotonic time): the host's clock as the mtime of
    a file written on the 9p run directory vm-run shares."""
    path = os.path.join(os.environ["RXFRM_RUN"], "clock")
    with open(path, "w") as f:
        f.write(str(time.monotonic()))
        f.flush()
        os.fsync(f.fileno())
    g = time.monotonic()
    return os.stat(path).st_mtime, g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--udpflood", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--passes")
    ap.add_argument("--only", help="comma-separated rows: tcp_esp_gcm, udp64_pps_1flow, ping, ctl")
    a = ap.parse_args()
    # --quick is a smoke test of the whole path: one rxfrm → native pair.
    a.passes = a.passes or ("rxfrm,native" if a.quick else "rxfrm,native,rxfrm")
    uname = os.uname()
    emit("meta", kernel=uname.release, kernel_build=uname.version, cpus=os.cpu_count(),
         quick=a.quick, passes=a.passes.split(","),
         counts=list(COUNTS[a.quick]),
         iperf3=run(["iperf3", "--version"]).stdout.splitlines()[0],
         date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    if "rxfrm" in loaded():
        raise SystemExit("bench: rxfrm is already loaded (vm-run must be given --no-module)")
    b = Bench(a)
    h0 = host_stamp()
    t0 = time.monotonic()
    done_big = set()
    for i, impl in enumerate(a.passes.split(","), 1):
        p0 = time.monotonic()
        # The BIG tables (100k entries: minutes each) once per
        # implementation, in its first pass; later passes repeat the rest.
        b.run_pass(impl, i, impl not in done_big)
        done_big.add(impl)
        emit("pass", impl=impl, pass_no=i, seconds=round(time.monotonic() - p0, 1))
    h1 = host_stamp()
    # Under TCG a guest whose TSC calibration went wrong keeps a clock that
    # runs fast or slow; every rate above would be scaled by it.
    rate = (h1[1] - h0[1]) / (h1[0] - h0[0]) if h1[0] > h0[0] else None
    emit("done", seconds=round(time.monotonic() - t0, 1),
         host_seconds=round(h1[0] - h0[0], 1),
         clock_rate=round(rate, 4) if rate else None)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
