#!/usr/bin/env python3
"""Turns the `BENCH {json}` lines of a bench VM run into the results.

    report.py RAW_LOG OUT_DIR [--accel TCG|KVM] [--wall SECONDS]

Writes OUT_DIR/results.md (the Markdown table, also printed on stdout),
OUT_DIR/results.json and OUT_DIR/policies.png (throughput vs installed
policies). Exit status 1 if a measurement failed, or if the run did not
finish.
"""
import argparse
import json
import os
import statistics
import sys

def k(n):
    return "%dk" % (n // 1000) if n >= 1000 else str(n)


def metrics(small, big):
    """The table: groups of (name, label, unit, higher_is_better)."""
    ctl = []
    for via in ("pfkey", "netlink"):
        for w in ("policies", "sas"):
            for n in (small, big):
                for v in ("add", "del"):
                    what = "%s %s %s" % ("add" if v == "add" else "delete", k(n),
                                         "policies" if w == "policies" else "SAs")
                    ctl.append(("ctl_%s_%s_%d_%s" % (via, w, n, v),
                                what + (", PF_KEY (setkey -f)" if via == "pfkey" else
                                        ": rxfrm PF_KEY vs native netlink (ip -batch)"),
                                "s", False))
    return [
        ("TCP throughput (iperf3, Mbit/s at the receiver)", [
            ("tcp_plain", "plaintext over the same veth (ceiling)", "Mbit/s", True),
            ("tcp_esp_gcm", "ESP transport AES-GCM-128", "Mbit/s", True),
            ("tcp_esp_cbc_sha256", "ESP transport AES-128-CBC + HMAC-SHA256-128", "Mbit/s",
             True),
            ("tcp_esp_chacha", "ESP transport ChaCha20-Poly1305", "Mbit/s", True),
            ("tcp_esp_gcm_tunnel", "ESP tunnel AES-GCM-128", "Mbit/s", True),
            ("tcp_esp_gcm_v6", "ESP transport AES-GCM-128, IPv6", "Mbit/s", True),
            ("tcp_ah_sha256", "AH transport HMAC-SHA256-128", "Mbit/s", True),
            ("tcp_ipcomp_esp", "[IPcomp deflate][ESP AES-GCM-128], compressible payload",
             "Mbit/s", True),
        ]),
        ("Small packets (UDP 64-byte payload, ESP AES-GCM-128 transport)", [
            ("udp64_pps_1flow", "packets/s at the receiver, 1 flow", "packets/s", True),
            ("udp64_pps_1000flows", "packets/s at the receiver, 1000 flows (5-tuples)",
             "packets/s", True),
        ]),
        ("Latency (ping through ESP AES-GCM-128 transport)", [
            ("ping_rtt_median", "RTT median", "us", False),
            ("ping_rtt_p99", "RTT p99", "us", False),
        ]),
        ("Scale (TCP over ESP AES-GCM-128 transport; entries added in the sender's namespace)", [
            ("tcp_esp_gcm", "throughput with 1 policy pair, 2 SAs", "Mbit/s", True),
            ("tcp_esp_gcm_policies_%d" % small,
             "throughput with %s non-matching policies" % k(small), "Mbit/s", True),
            ("tcp_esp_gcm_policies_%d" % big,
             "throughput with %s non-matching policies" % k(big), "Mbit/s", True),
            ("tcp_esp_gcm_sas_%d" % big, "throughput with %s more SAs" % k(big), "Mbit/s",
             True),
            ("mem_per_policy_slab", "kernel memory per policy at %s (slab delta / count)" % k(big),
             "bytes", False),
            ("mem_per_policy_all", "… (slab + vmalloc + percpu delta / count)", "bytes", False),
            ("mem_per_sa_slab", "kernel memory per SA at %s (slab delta / count)" % k(big),
             "bytes", False),
            ("mem_per_sa_all", "… (slab + vmalloc + percpu delta / count)", "bytes", False),
        ]),
        ("Control plane (wall time of one `setkey -f` / `ip -batch` of N lines)", ctl),
    ]


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "s":
        return "%.2f s" % v
    if unit == "us":
        return "%.0f µs" % v
    if unit == "bytes":
        return "%d B" % v
    if unit == "packets/s":
        return "%.0f" % v
    return "%.1f" % v


def c_missing(r, nat):
    """A row with neither a figure nor a reason for one is a failure too."""
    return any(c["median"] is None and not c["fail"] for c in (r, nat))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--accel", default="TCG")
    ap.add_argument("--wall", type=float)
    ap.add_argument("--waited", type=float, default=0)
    a = ap.parse_args()
    recs = []
    with open(a.raw, errors="replace") as f:
        for line in f:
            if line.startswith("BENCH "):
                try:
                    recs.append(json.loads(line[6:]))
                except ValueError:
                    pass
    meta = next((r for r in recs if r["type"] == "meta"), {})
    done = next((r for r in recs if r["type"] == "done"), None)
    samples, fails, notes = {}, {}, {}
    for r in recs:
        if r["type"] == "sample":
            samples.setdefault((r["metric"], r["impl"]), []).append(r)
        elif r["type"] == "fail":
            fails.setdefault((r["metric"], r["impl"]), []).append(r)
        elif r["type"] == "note":
            notes.setdefault(r["metric"], set()).add(r["text"])

    def cell(metric, impl):
        s = samples.get((metric, impl), [])
        vals = [x["value"] for x in s]
        per_pass = {}
        for x in s:
            per_pass.setdefault(x["pass_no"], []).append(x["value"])
        d = {"samples": vals, "n": len(vals),
             "median": statistics.median(vals) if vals else None,
             "per_pass": {str(k): statistics.median(v) for k, v in sorted(per_pass.items())},
             "fail": [{"pass_no": x["pass_no"], "status": x["status"], "detail": x["detail"]}
                      for x in fails.get((metric, impl), [])]}
        if s and "per_entry_us" in s[0]:
            d["per_entry_us"] = statistics.median(x["per_entry_us"] for x in s)
        return d

    out = {"meta": dict(meta, accel=a.accel, wall_seconds=a.wall, slot_wait_seconds=a.waited,
                        clock_rate=done.get("clock_rate") if done else None,
                        finished=done is not None,
                        guest_seconds=done["seconds"] if done else None,
                        passes_seconds=[r["seconds"] for r in recs if r["type"] == "pass"]),
           "metrics": {}}
    failed = done is None
    lines = []
    quick = meta.get("quick")
    lines.append("rxfrm vs native Linux xfrm, %s, kernel %s (release config), %s, %s vCPUs%s" % (
        meta.get("date", "?"), meta.get("kernel", "?"), a.accel, meta.get("cpus", "?"),
        " — QUICK smoke run, not a measurement" if quick else ""))
    lines.append("")
    lines.append("One VM boot, passes %s; each cell is the median of every run of that "
                 "implementation (n runs); *drift* compares the two rxfrm passes. "
                 "Ratio is rxfrm/native; ✓ where rxfrm is at least as good as native. "
                 "Under TCG only ratios measured in one boot mean anything: absolute "
                 "numbers are emulation speed." % " → ".join(meta.get("passes", [])))
    lines.append("")
    footnotes = []

    def foot(text):
        if text not in footnotes:
            footnotes.append(text)
        return "[%d]" % (footnotes.index(text) + 1)

    def show(c, impl, metric, unit):
        nonlocal failed
        txt = fmt(c["median"], unit)
        if c["median"] is not None:
            if "per_entry_us" in c:
                txt += " (%.0f µs each)" % c["per_entry_us"]
            txt += " n=%d" % c["n"]
        groups = {}
        for f in c["fail"]:
            if f["status"] == "failed":
                failed = True
            detail = " / ".join(x.strip() for x in f["detail"].splitlines() if x.strip())
            groups.setdefault((f["status"], detail), []).append(str(f["pass_no"]))
        tags = []
        for (status, detail), passes in groups.items():
            tags.append("%s %s" % (status, foot("%s, %s, pass %s: **%s**: %s" % (
                metric, impl, ", ".join(passes), status, detail))))
        if tags:
            txt = (txt + " " if c["median"] is not None else "") + ", ".join(tags)
        return txt

    small, big = meta.get("counts", [10000, 100000])
    for group, rows in metrics(small, big):
        lines.append("| %s | rxfrm | native | ratio | | drift |" % group)
        lines.append("| --- | ---: | ---: | ---: | :-: | ---: |")
        for name, label, unit, higher in rows:
            rname = name.replace("netlink", "pfkey")  # rxfrm has no netlink
            r, nat = cell(rname, "rxfrm"), cell(name, "native")
            rm, nm = r["median"], nat["median"]
            ratio = rm / nm if rm is not None and nm else None
            good = None
            if ratio is not None:
                good = ratio >= 1.0 if higher else ratio <= 1.0
            pp = [v for k, v in sorted(r["per_pass"].items())]
            drift = (pp[-1] - pp[0]) / pp[0] if len(pp) >= 2 and pp[0] else None
            rtxt = show(r, "rxfrm", rname, unit)
            ntxt = show(nat, "native", name, unit)
            for t in sorted(notes.get(name, ())):
                ntxt += " " + foot(t)
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                label, rtxt, ntxt, "%.2f" % ratio if ratio is not None else "—",
                {True: "✓", False: "✗", None: ""}[good],
                "%+.1f%%" % (drift * 100) if drift is not None else ""))
            if name not in out["metrics"]:
                out["metrics"][name] = {"label": label, "unit": unit,
                                        "higher_is_better": higher,
                                        "rxfrm": r, "native": nat, "ratio": ratio,
                                        "rxfrm_at_least_native": good, "drift": drift}
            if c_missing(r, nat):
                failed = True
                lines[-1] = lines[-1].replace("| %s |" % label, "| %s (no result) |" % label, 1)
        lines.append("")
    for i, t in enumerate(footnotes, 1):
        lines.append("[%d] %s  " % (i, t))
    if not done:
        lines.append("")
        lines.append("**The run did not finish**: figures above are partial.")
    g = out["meta"]
    if g.get("guest_seconds"):
        lines.append("")
        lines.append("Guest time %.0f s (passes: %s)%s; guest clock rate vs host %s." % (
            g["guest_seconds"], ", ".join("%.0f s" % s for s in g["passes_seconds"]),
            "; `make bench` wall time %.0f s, of which %.0f s waiting for the VM slots" % (
                a.wall, a.waited) if a.wall else "",
            g.get("clock_rate")))
    md = "\n".join(lines) + "\n"
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    out["failed"] = failed
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    sys.stdout.write(md)
    plot(out, os.path.join(a.out, "policies.png"), meta, a.accel)
    sys.exit(1 if failed else 0)


def plot(out, path, meta, accel):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: python3-matplotlib missing, no plot", file=sys.stderr)
        return
    m = out["metrics"]
    small, big = meta.get("counts", [10000, 100000])
    xs = [(1, "tcp_esp_gcm"), (small, "tcp_esp_gcm_policies_%d" % small),
          (big, "tcp_esp_gcm_policies_%d" % big)]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for impl, style in (("rxfrm", "o-"), ("native", "s--")):
        pts = [(x, m[k][impl]["median"]) for x, k in xs
               if k in m and m[k][impl]["median"] is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=impl)
    ax.set_xscale("log")
    ax.set_xlabel("installed non-matching policies (sender)")
    ax.set_ylabel("TCP throughput, ESP AES-GCM-128 (Mbit/s)")
    ax.set_ylim(bottom=0)
    ax.set_title("rxfrm vs native xfrm, %s, %s %s" % (meta.get("kernel", "?"), accel,
                                                    meta.get("date", "")[:10]), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
