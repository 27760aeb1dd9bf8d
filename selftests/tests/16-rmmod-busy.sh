# cost: 55 (seconds under TCG; selftests/run balances VMs by it)
# rmmod with open PF_KEY sockets and 10k SAs: refused while sockets are open
# (they pin the module, as af_key), clean once they close — no leak reported.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
$PFKEY flush || fail "flush"
rm -f /tmp/rxfrm-ready
python3 - <<'PY' &
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from pfkey import *
k = PfKey()
for i in range(10000):
    k.send(msg(ADD, SATYPE_ESP, add_sa("10.1.%d.%d" % (i >> 8, i & 255), "20.1.1.1", 0x1000 + i)))
for i in range(1000):
    k.send(msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.2.%d.%d" % (i >> 8, i & 255)), ext_addr(EXT_ADDRESS_DST, "20.1.1.1"),
                             ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]))
k.drain(0.3)
n = len(k.dump())
print("SAs:", n, flush=True)
open("/tmp/rxfrm-ready", "w").write(str(n))
time.sleep(float(os.environ.get("HOLD", "8")))
PY
holder=$!
for i in $(seq 1 600); do [ -f /tmp/rxfrm-ready ] && break; sleep 0.5; done
[ "$(cat /tmp/rxfrm-ready 2>/dev/null)" = 10000 ] || fail "10k SAs not installed"
expect_fail "rmmod while a PF_KEY socket is open" rmmod rxfrm
loaded || fail "module gone while in use"
wait $holder || fail "holder"
rm -f /tmp/rxfrm-ready
expect "rmmod once sockets are closed (10k SAs still installed)" rmmod rxfrm
expect "reload" insmod "$ROOT/rxfrm.ko"
[ -z "$(python3 -c "
import os, sys
sys.path.insert(0, os.path.join(os.environ['RXFRM_ROOT'], 'selftests/lib'))
from pfkey import *
print(len(PfKey().dump()) or '')")" ] || fail "SAs survived a reload"
echo "busy while open, clean unload with 10k SAs"
