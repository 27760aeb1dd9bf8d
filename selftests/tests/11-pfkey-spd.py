# cost: 21 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""SPD messages end to end: X_SPDADD, X_SPDUPDATE, X_SPDGET, X_SPDDUMP,
X_SPDDELETE, X_SPDDELETE2, X_SPDFLUSH."""
import errno
import os
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

k = PfKey()


def sel(src, dst, proto=PROTO_ANY):
    return [ext_addr(EXT_ADDRESS_SRC, src[0], src[1], proto), ext_addr(EXT_ADDRESS_DST, dst[0], dst[1], proto)]


tunnel = ext_policy(POLICY_IPSEC, DIR_OUT,
                    [ipsecrequest(50, MODE_TUNNEL, LEVEL_REQUIRE, 0, "20.0.0.1", "20.0.0.2")])
r = k.request(X_SPDADD, 0, sel(("10.0.1.0", 24), ("10.0.2.0", 24)) + [tunnel])
eq(r.errno, 0, "SPDADD errno")
pid = r.policy()["id"]
eq(pid & 7, 1, "outbound index carries xfrm dir 1 in its low bits, as Linux")

r = k.request(X_SPDADD, 0, sel(("10.0.1.0", 24), ("10.0.2.0", 24)) + [tunnel])
eq(r.errno, errno.EEXIST, "duplicate SPDADD")

inbound = ext_policy(POLICY_IPSEC, DIR_IN,
                     [ipsecrequest(50, MODE_TUNNEL, LEVEL_REQUIRE, 0, "20.0.0.2", "20.0.0.1")])
r = k.request(X_SPDADD, 0, sel(("10.0.2.0", 24), ("10.0.1.0", 24)) + [inbound])
eq(r.errno, 0, "SPDADD in")
in_id = r.policy()["id"]
eq(in_id & 7, 0, "inbound index carries xfrm dir 0")

r = k.request(X_SPDGET, 0, [ext_policy(POLICY_IPSEC, DIR_OUT, pid=pid)])
eq(r.errno, 0, "SPDGET errno")
eq(r.policy()["id"], pid, "SPDGET returns that policy")
eq(r.address(EXT_ADDRESS_DST)[:2], ("10.0.2.0", 24), "SPDGET selector")

pols = k.dump(X_SPDDUMP)
eq(len(pols), 2, "SPDDUMP count")

# SPDUPDATE replaces the action in place.
r = k.request(X_SPDUPDATE, 0, sel(("10.0.1.0", 24), ("10.0.2.0", 24)) + [ext_policy(POLICY_DISCARD, DIR_OUT)])
eq(r.errno, 0, "SPDUPDATE errno")
r = k.request(X_SPDGET, 0, [ext_policy(POLICY_IPSEC, DIR_OUT, pid=r.policy()["id"])])
eq(r.policy()["type"], POLICY_DISCARD, "SPDUPDATE changed the action")
eq(len(k.dump(X_SPDDUMP)), 2, "SPDUPDATE did not add")

# SPDDELETE by selector, SPDDELETE2 by index, then ENOENT.
r = k.request(X_SPDDELETE, 0, sel(("10.0.1.0", 24), ("10.0.2.0", 24)) + [ext_policy(POLICY_IPSEC, DIR_OUT)])
eq(r.errno, 0, "SPDDELETE errno")
r = k.request(X_SPDDELETE, 0, sel(("10.0.1.0", 24), ("10.0.2.0", 24)) + [ext_policy(POLICY_IPSEC, DIR_OUT)])
eq(r.errno, errno.ENOENT, "SPDDELETE of a missing policy")
r = k.request(X_SPDDELETE2, 0, [ext_policy(POLICY_IPSEC, DIR_IN, pid=in_id)])
eq(r.errno, 0, "SPDDELETE2 errno")
r = k.request(X_SPDGET, 0, [ext_policy(POLICY_IPSEC, DIR_IN, pid=in_id)])
eq(r.errno, errno.ENOENT, "SPDGET after SPDDELETE2")

# Port/proto selectors and IPv6, then SPDFLUSH.
r = k.request(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.1.1.1", 32, 6, 110),
                            ext_addr(EXT_ADDRESS_DST, "0.0.0.0", 0, 6),
                            ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(51, MODE_TRANSPORT, LEVEL_REQUIRE)])])
eq(r.errno, 0, "SPDADD with a port selector")
eq(r.address(EXT_ADDRESS_SRC)[3], 110, "port kept")
r = k.request(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "2001:db8::1"), ext_addr(EXT_ADDRESS_DST, "2001:db8::2"),
                            ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_USE)])])
eq(r.errno, 0, "SPDADD IPv6")
r = k.request(X_SPDFLUSH, 0)
eq(r.errno, 0, "SPDFLUSH errno")
eq(k.dump(X_SPDDUMP), [], "SPD empty after SPDFLUSH")
done("SPD messages behave as af_key")
