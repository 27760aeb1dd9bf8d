#!/usr/bin/env python3
"""Names rxfrm's samples in a `scripts/bench --profile` report: perf in the
guest finds no symbol table for an out-of-tree module and prints
.text-relative addresses (`0.35%  [k] 0x...40f10`); this maps them onto
`nm rxfrm.ko` and sums them per function (demangled), largest first.

    modsyms.py RXFRM_KO < report
"""
import bisect
import re
import subprocess
import sys


def symbols(ko):
    out = subprocess.run(["nm", "-n", "-S", "-C", "--defined-only", ko],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tT":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return syms


def main():
    syms = symbols(sys.argv[1])
    addrs = [a for a, _, _ in syms]
    sample = re.compile(r"^\s*([0-9.]+)%\s+(?:[0-9.]+%\s+)?\[k\]\s+0x([0-9a-f]+)\s*$")
    per_fn = {}
    for line in sys.stdin:
        if line.startswith("=== "):
            if per_fn:
                report(per_fn)
            per_fn = {}
            print(line.rstrip())
            continue
        m = sample.match(line)
        if not m:
            continue
        # Inclusive reports also list unresolved kernel addresses: only
        # those inside one of the module's functions are its.
        addr = int(m.group(2), 16)
        i = bisect.bisect_right(addrs, addr) - 1
        if i < 0 or addr >= syms[i][0] + syms[i][1]:
            continue
        name = syms[i][2]
        per_fn[name] = per_fn.get(name, 0.0) + float(m.group(1))
    if per_fn:
        report(per_fn)


def report(per_fn):
    total = sum(per_fn.values())
    print("  rxfrm.ko: %.2f%% of all samples, by function:" % total)
    for name, pct in sorted(per_fn.items(), key=lambda kv: -kv[1])[:40]:
        print("  %6.2f%%  %s" % (pct, name[:160]))


if __name__ == "__main__":
    main()
