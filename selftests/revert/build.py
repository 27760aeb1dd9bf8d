#!/usr/bin/env python3
"""Builds rxfrm.ko variants, each with one issue-11 fix reverted, so that
its regression test can be watched failing (selftests/revert/README.md).
  selftests/revert/build.py WORKTREE OUTDIR rN...
WORKTREE: a git worktree of this checkout (built in, restored after each);
OUTDIR gets rN.ko."""
import os, shutil, subprocess, sys
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
W, OUT = sys.argv[1], sys.argv[2]
R = {
 "r1": [("rust/helpers/xfrm.c", [(".notify = rxfrm_km_notify_cb,", ""), (".acquire = rxfrm_km_acquire_cb,", ""),
        (".new_mapping = rxfrm_km_new_mapping_cb,", ""), (".notify_policy = rxfrm_km_notify_policy_cb,", ""),
        (".report = rxfrm_km_report_cb,", ""), (".migrate = rxfrm_km_migrate_cb,", ""), (".is_alive = rxfrm_km_is_alive_cb,", ""),
        ("static int rxfrm_km_", "static __maybe_unused int rxfrm_km_"), ("static bool rxfrm_km_", "static __maybe_unused bool rxfrm_km_")])],
 "r2": [("rust/sys/inflight.rs", [("unsafe { bindings::rxfrm_wait_var_zero(self.c.n.as_ptr().cast()) };\n        let _ = super::rcu::synchronize();",
                                   "if false { unsafe { bindings::rxfrm_wait_var_zero(self.c.n.as_ptr().cast()) }; }")]),
        ("rust/sys/packet.rs", [("unsafe { super::net::DevRef::hold(bindings::rxfrm_skb_dev(self.as_ptr())) }",
                                 "if false { unsafe { super::net::DevRef::hold(bindings::rxfrm_skb_dev(self.as_ptr())) } } else { None }")])],
 "r3": [("rust/sys/bundle.rs", [("n.obsolete() == 0\n", "n.obsolete() <= 0\n")]),
        ("rust/sys/dst.rs", [("self.obsolete() == 0 || self.ops_check()", "self.obsolete() <= 0 || self.ops_check()")])],
 "r4": [("rust/datapath/input.rs", [("fn icmp_err(pkt: &Pkt, v6: bool, e: IcmpError, proto: IpsecProto) {\n",
                                     "fn icmp_err(pkt: &Pkt, v6: bool, e: IcmpError, proto: IpsecProto) {\n    if e.offset != usize::MAX {\n        return;\n    }\n")])],
 "r5": [("rust/helpers/skb.c", [("{ nf_reset_ct(skb); }", "{ (void)skb; }")])],
 "r6": [("rust/helpers/skb.c", [("\tskb_mac_header_rebuild(skb);", "\tskb_reset_mac_header(skb);\n\tskb->mac_len = 0;")])],
 "r7": [("rust/sys/bundle.rs", [("if (*d).head != 0 && bindings::rxfrm_rt6_idev_dev(dst).cast_const() == dev {",
                                 "if (*d).head != 0 && bindings::rxfrm_rt6_idev_dev(dst).cast_const() == dev && bindings::rxfrm_dst_dev(dst).cast_const() == dev {")])],
 "r8": [("rust/helpers/net.c", [("ipv6_chk_addr_and_flags(net, (const struct in6_addr *)addr, NULL, 0, 0, 0)",
                                 "ipv6_chk_addr(net, (const struct in6_addr *)addr, NULL, 0)")])],
 # Issue 8's weak tests, each shown failing against what it checks broken:
 # the banner changed (01), X_SPDDUMP failing (16), no copy to promiscuous
 # sockets (17: setkey -x).
 "w01": [("rust/rxfrm_main.rs", [("loaded: PF_KEY v2, ESP, AH and IPcomp ready", "up: ESP, AH and IPcomp ready")])],
 "w16": [("rust/logic/engine/mod.rs", [("SADB_X_SPDDUMP => self.start_spddump(&p, sock),", "SADB_X_SPDDUMP if false => self.start_spddump(&p, sock),\n            SADB_X_SPDDUMP => Err(Errno::EINVAL),")])],
 "w17": [("rust/af_key/deliver.rs", [("                if st.is_promisc() {\n", "                if false && st.is_promisc() {\n")])],
 "rS": [("rust/datapath/mirror.rs", [("    fn prepare(&self, sa: &Sa) -> Result<(), Errno> {\n",
                                      "    fn prepare(&self, sa: &Sa) -> Result<(), Errno> {\n        if sa.spi() != 0 {\n            return Ok(());\n        }\n")])],
}
for name in sys.argv[3:]:
    for path, _ in R[name]:
        subprocess.run(["git", "-C", W, "checkout", "--", path], check=True)
        shutil.copy(f"{SRC}/{path}", f"{W}/{path}")
    for path, edits in R[name]:
        p = f"{W}/{path}"
        s = open(p).read()
        for old, new in edits:
            assert old in s, (name, path, old)
            s = s.replace(old, new)
        open(p, "w").write(s)
    r = subprocess.run(["make", "-C", W, "module"], capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        print(name, "BUILD FAILED\n", out[-3000:]); sys.exit(1)
    shutil.copy(f"{W}/rxfrm.ko", f"{OUT}/{name}.ko")
    for path, _ in R[name]:
        shutil.copy(f"{SRC}/{path}", f"{W}/{path}")
    print(name, "built", flush=True)
