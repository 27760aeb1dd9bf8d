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

# name: (label, unit, higher_is_better)
METRICS = [
    ("TCP throughput (iperf3, Mbit/s at the receiver)", [
        ("tcp_plain", "plaintext over the same veth (ceiling)", "Mbit/s", True),
        ("tcp_esp_gcm", "ESP transport AES-GCM-128", "Mbit/s", True),
        ("tcp_esp_cbc_sha256", "ESP transport AES-128-CBC + HMAC-SHA256-128", "Mbit/s", True),
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
        ("ping_rtt_median", "RTT median of 200", "us", False),
        ("ping_rtt_p99", "RTT p99 of 200", "us", False),
    ]),
    ("Scale (ESP AES-GCM-128 transport TCP, entries in the sender's namespace)", [
        ("tcp_esp_gcm", "throughput with 1 policy pair, 2 SAs", "Mbit/s", True),
        ("tcp_esp_gcm_policies_10000", "throughput with 10k non-matching policies", "Mbit/s",
         True),
        ("tcp_esp_gcm_policies_100000", "throughput with 100k non-matching policies",
         "Mbit/s", True),
        ("tcp_esp_gcm_sas_100000", "throughput with 100k more SAs", "Mbit/s", True),
        ("mem_per_policy_slab", "kernel memory per policy at 100k (slab delta / count)",
         "bytes", False),
        ("mem_per_policy_all", "… (slab + vmalloc + percpu delta / count)", "bytes", False),
        ("mem_per_sa_slab", "kernel memory per SA at 100k (slab delta / count)", "bytes", False),
        ("mem_per_sa_all", "… (slab + vmalloc + percpu delta / count)", "bytes", False),
    ]),
    ("Control plane (wall time of one `setkey -f` / `ip -batch` of N lines)", [
        (("ctl_pfkey_%s_%d_%s" % (w, n, v)),
         "%s %s %s, PF_KEY (setkey -f)" % (v.replace("del", "delete"),
                                             "%dk" % (n // 1000), w.replace("sas", "SAs")),
         "s", False)
        for w in ("policies", "sas") for n in (10000, 100000) for v in ("add", "del")
    ] + [
        (("ctl_netlink_%s_%d_%s" % (w, n, v)),
         "%s %s %s: rxfrm PF_KEY vs native netlink (ip -batch)" % (
             v.replace("del", "delete"), "%dk" % (n // 1000), w.replace("sas", "SAs")),
         "s", False)
        for w in ("policies", "sas") for n in (10000, 100000) for v in ("add", "del")
    ]),
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--accel", default="TCG")
    ap.add_argument("--wall", type=float)
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

    out = {"meta": dict(meta, accel=a.accel, wall_seconds=a.wall,
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
    seen = set()
    footnotes = []
    for group, rows in METRICS:
        lines.append("| %s | rxfrm | native | ratio | | drift |" % group)
        lines.append("| --- | ---: | ---: | ---: | :-: | ---: |")
        for name, label, unit, higher in rows:
            if name.startswith("ctl_netlink_"):
                r = cell(name.replace("netlink", "pfkey"), "rxfrm")
                nat = cell(name, "native")
            else:
                r, nat = cell(name, "rxfrm"), cell(name, "native")
            rm, nm = r["median"], nat["median"]
            ratio = rm / nm if rm is not None and nm else None
            good = None
            if ratio is not None:
                good = ratio >= 1.0 if higher else ratio <= 1.0
            pp = [v for k, v in sorted(r["per_pass"].items())]
            drift = None
            if len(pp) >= 2 and pp[0]:
                drift = (pp[-1] - pp[0]) / pp[0]

            def show(c, impl, m=name):
                txt = fmt(c["median"], unit)
                if c["median"] is not None:
                    if "per_entry_us" in c:
                        txt += " (%.0f µs each)" % c["per_entry_us"]
                    txt += " n=%d" % c["n"]
                for f in c["fail"]:
                    nonlocal_fail(f)
                    footnotes.append("%s, %s, pass %d: **%s**: %s" % (
                        m, impl, f["pass_no"], f["status"], f["detail"]))
                    tag = "[%d]" % len(footnotes)
                    txt = (txt + " " if c["median"] is not None else "") + "%s %s" % (
                        f["status"], tag)
                return txt

            failed_here = []

            def nonlocal_fail(f):
                if f["status"] == "failed":
                    failed_here.append(f)
            rtxt = show(r, "rxfrm", name.replace("netlink", "pfkey")) if not (
                name.startswith("ctl_netlink_") and name in seen) else "—"
            ntxt = show(nat, "native")
            if failed_here:
                failed = True
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                label, rtxt, ntxt, "%.2f" % ratio if ratio is not None else "—",
                {True: "✓", False: "✗", None: ""}[good],
                "%+.1f%%" % (drift * 100) if drift is not None else ""))
            for t in sorted(notes.get(name, ())):
                if t not in footnotes:
                    footnotes.append(t)
                    lines[-1] = lines[-1].replace(" | %s |" % ntxt, " | %s [%d] |" % (
                        ntxt, len(footnotes)), 1)
            if name not in out["metrics"]:
                out["metrics"][name] = {"label": label, "unit": unit,
                                        "higher_is_better": higher,
                                        "rxfrm": r, "native": nat, "ratio": ratio,
                                        "rxfrm_at_least_native": good, "drift": drift}
            seen.add(name)
        lines.append("")
    for i, t in enumerate(footnotes, 1):
        lines.append("[%d] %s  " % (i, t))
    if not done:
        lines.append("")
        lines.append("**The run did not finish**: figures above are partial.")
    g = out["meta"]
    if g.get("guest_seconds"):
        lines.append("")
        lines.append("Guest time %.0f s (passes: %s)%s." % (
            g["guest_seconds"], ", ".join("%.0f s" % s for s in g["passes_seconds"]),
            "; `make bench` wall time %.0f s" % a.wall if a.wall else ""))
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
    xs = [(1, "tcp_esp_gcm"), (10000, "tcp_esp_gcm_policies_10000"),
          (100000, "tcp_esp_gcm_policies_100000")]
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
