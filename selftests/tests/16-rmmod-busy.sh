# cost: 344 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# rmmod with open PF_KEY sockets and 10k SAs: refused while sockets are open
# (they pin the module, as af_key), clean once they close — no leak reported.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
$PFKEY flush || fail "flush"
refcnt() { cat /sys/module/rxfrm/refcnt; }
refcnt_is() { [ "$(refcnt)" = "$1" ]; }
base=$(refcnt) || fail "no /sys/module/rxfrm/refcnt"
tmp=$(mktemp -d /tmp/rxfrm-16.XXXXXX)
trap 'rm -rf "$tmp"; [ -n "${holder:-}" ] && kill $holder 2>/dev/null' EXIT
# The holder installs 10k SAs and 1k policies, checks them with DUMP and
# X_SPDDUMP, writes the counts to ready (atomically) and keeps its socket
# open until told to close it (the file release appears). Any error is a
# traceback and a non-zero exit.
python3 - "$tmp" <<'PY' &
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from pfkey import *
tmp = sys.argv[1]
k = PfKey()
for i in range(10000):
    k.send(msg(ADD, SATYPE_ESP, add_sa("10.1.%d.%d" % (i >> 8, i & 255), "20.1.1.1", 0x1000 + i)))
for i in range(1000):
    k.send(msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.2.%d.%d" % (i >> 8, i & 255)), ext_addr(EXT_ADDRESS_DST, "20.1.1.1"),
                             ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]))
k.drain(0.3)
sas, pols = len(k.dump()), len(k.dump(X_SPDDUMP))
print("SAs:", sas, "policies:", pols, flush=True)
with open(tmp + "/ready.tmp", "w") as f:
    f.write(f"{sas} {pols}\n")
os.rename(tmp + "/ready.tmp", tmp + "/ready")
deadline = time.time() + 600
while not os.path.exists(tmp + "/release"):
    if time.time() > deadline:
        sys.exit("holder: never told to close its socket")
    time.sleep(0.05)
k.close()
PY
holder=$!
holder_ready() {
  [ -f "$tmp/ready" ] && return 0
  kill -0 $holder 2>/dev/null || { wait $holder; fail "the holder exited (status $?) before installing the SAs"; }
  return 1
}
wait_until 600 "the holder did not install its SAs" holder_ready
[ "$(cat "$tmp/ready")" = "10000 1000" ] || fail "holder's DUMP/X_SPDDUMP counted '$(cat "$tmp/ready")', want '10000 1000'"
refs=$(refcnt)
[ "$refs" -gt "$base" ] || fail "an open PF_KEY socket does not pin the module (refcnt $refs, $base before)"
out=$(rmmod rxfrm 2>&1) && fail "rmmod succeeded while a PF_KEY socket is open"
echo "rmmod while a socket is open: $out"
echo "$out" | grep -q 'in use' || fail "rmmod refused for another reason than the module being in use: $out"
loaded || fail "module gone while in use"
touch "$tmp/release"
wait $holder || fail "the holder failed (exit $?)"
holder=
wait_until 60 "the closed socket still pins the module (refcnt back to $base)" refcnt_is "$base"
expect "rmmod once sockets are closed (10k SAs still installed)" rmmod rxfrm
! loaded || fail "rxfrm still in /proc/modules after rmmod"
expect "reload" insmod "$KO"
# The reloaded module starts empty: DUMP and X_SPDDUMP must both succeed
# and list nothing (a failing dump is an error, not an empty table).
counts=$(python3 -c "
import os, sys
sys.path.insert(0, os.path.join(os.environ['RXFRM_ROOT'], 'selftests/lib'))
from pfkey import *
k = PfKey()
print(len(k.dump()), len(k.dump(X_SPDDUMP)))") || fail "DUMP after the reload failed: $counts"
[ "$counts" = "0 0" ] || fail "SAs and policies survived a reload: DUMP/X_SPDDUMP count '$counts', want '0 0'"
echo "busy while open, clean unload with 10k SAs"
