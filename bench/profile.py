#!/usr/bin/env python3
"""Where the time goes (issue 10's "profile it"): runs inside the bench VM
(scripts/bench --profile), keys one row the way guest.py does, runs its
load, and samples every CPU with `perf record -a -g` meanwhile; prints
`perf report` (symbols, children off) per implementation.

    profile.py --module RXFRM_KO --udpflood BIN [--impl rxfrm,native] [--load udp|tcp]
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
from guest import B, GCM, Bench, load, log, ns, topo_down, topo_up, unload  # noqa: E402

SECS = 8


def profile(b, impl, what):
    b.impl, b.pass_no = impl, 1
    load(impl, b.a.module)
    topo_up()
    try:
        b.key_row(GCM)
        why = guest.probe(impl, 4, "transport", GCM[3])
        if why:
            log("%s: probe failed: %s" % (impl, why))
            return
        data = "/tmp/perf-%s.data" % impl
        if what == "udp":
            rcv = subprocess.Popen(ns("peer", b.a.udpflood, "recv", "4", "5202", "0", str(SECS + 2)),
                                   stdout=subprocess.PIPE, text=True)
            assert rcv.stdout.readline().strip() == "ready"
            snd = subprocess.Popen(ns("node", b.a.udpflood, "send", B, "5202", "1", "64", str(SECS + 4)),
                                   stdout=subprocess.PIPE, text=True)
        else:
            srv = subprocess.Popen(ns("peer", "iperf3", "-s", "-1"), stdout=subprocess.DEVNULL)
            guest.wait_for("iperf3 listening", lambda: guest.listening("peer", "tcp", 5201))
            snd = subprocess.Popen(ns("node", "iperf3", "-c", B, "-t", str(SECS + 4)),
                                   stdout=subprocess.PIPE, text=True)
            rcv = srv
        subprocess.run(["perf", "record", "-q", "-a", "-g", "-o", data, "--", "sleep", str(SECS)],
                       check=True, stdout=subprocess.DEVNULL)
        print("=== %s %s: sender %s" % (impl, what, snd.communicate(timeout=120)[0].strip()[-200:]))
        rcv.wait(timeout=120)
        # Where (comm, dso), then which functions (idle left out); then
        # rxfrm's own functions by address, self time (perf finds
        # no symbols for an out-of-tree module: scripts/bench names them
        # with bench/modsyms.py against `nm rxfrm.ko`).
        for title, sort, limit, extra in (
                ("where", "comm,dso", "1", []),
                ("self", "sym", "0.3", ["--no-children"]),
                ("module self", "sym", "0", ["--no-children", "--dsos", "[rxfrm]"]),
                ("inclusive", "sym", "4", ["--children"])):
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", sort,
                                  "-g", "none", "--percent-limit", limit] + extra,
                                 capture_output=True, text=True)
            print("=== %s %s: %s" % (impl, what, title))
            print("\n".join(line for line in rep.stdout.splitlines()
                            if line and not line.startswith("#") and "safe_halt" not in line))
        guest.flush_keys()
    finally:
        topo_down()
        unload(impl)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--udpflood", required=True)
    ap.add_argument("--impl", default="rxfrm,native")
    ap.add_argument("--load", default="udp", choices=("udp", "tcp"))
    a = ap.parse_args()
    a.quick = True
    b = Bench(a)
    for impl in a.impl.split(","):
        profile(b, impl, a.load)


if __name__ == "__main__":
    main()
