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
    out = subprocess.run(["nm", "-n", "-C", "--defined-only", ko],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] in "tT":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def main():
    syms = symbols(sys.argv[1])
    addrs = [a for a, _ in syms]
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
        i = bisect.bisect_right(addrs, int(m.group(2), 16)) - 1
        name = syms[i][1] if i >= 0 else "?"
        per_fn[name] = per_fn.get(name, 0.0) + float(m.group(1))
    if per_fn:
        report(per_fn)


def report(per_fn):
    total = sum(per_fn.values())
    print("  rxfrm.ko self time %.2f%% of all samples, by function:" % total)
    for name, pct in sorted(per_fn.items(), key=lambda kv: -kv[1])[:40]:
        print("  %6.2f%%  %s" % (pct, name[:160]))


if __name__ == "__main__":
    main()
