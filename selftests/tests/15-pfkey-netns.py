# cost: 26 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Each network namespace has its own SAD and SPD."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

if "--child" in sys.argv:
    k = PfKey()
    eq(k.dump(), [], "a new namespace starts with an empty SAD")
    eq(k.dump(X_SPDDUMP), [], "and an empty SPD")
    eq(k.request(ADD, SATYPE_ESP, add_sa("10.9.9.1", "10.9.9.2", 0x777)).errno, 0, "ADD in the namespace")
    eq(len(k.dump()), 1, "one SA in the namespace")
    sys.exit(0)

k = PfKey()
eq(k.request(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0x555)).errno, 0, "ADD in init_net")
eq(k.request(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.2"),
                           ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]).errno, 0, "SPDADD in init_net")
subprocess.run(["ip", "netns", "add", "rxa"], check=True)
try:
    rc = subprocess.run(["ip", "netns", "exec", "rxa", sys.executable, __file__, "--child"]).returncode
    eq(rc, 0, "child namespace checks")
finally:
    subprocess.run(["ip", "netns", "del", "rxa"], check=True)
spis = [m.spi() for m in k.dump()]
eq(spis, [0x555], "init_net still has only its own SA")
eq(len(k.dump(X_SPDDUMP)), 1, "init_net still has its policy")
k.request(FLUSH, 0)
k.request(X_SPDFLUSH, 0)
done("namespaces have separate tables")
