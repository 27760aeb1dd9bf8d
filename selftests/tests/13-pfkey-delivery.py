# cost: 13 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Delivery (RFC 2367 3.1, af_key): replies to the sender only, changes to
everybody, REGISTER replies to the registered, promiscuous sockets see all."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

a, b, c = PfKey(), PfKey(), PfKey()
eq(b.request(REGISTER, SATYPE_ESP).errno, 0, "b registers for ESP")
eq(c.request(X_PROMISC, 1).errno, 0, "c goes promiscuous")
for s in (a, b, c):
    s.drain()

# ADD from a: a, b and c get the notification; c also sees a's request.
r = a.request(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0x100))
eq(r.errno, 0, "ADD")
got_b = [m.type for m in b.drain()]
got_c = [m.type for m in c.drain()]
eq(got_b, [ADD], "b sees the ADD notification once")
check(got_c.count(ADD) >= 2, f"c sees a's request and the notification: {got_c}")

# GET is answered to the sender only (c, promiscuous, sees copies).
r = a.request(GET, SATYPE_ESP, [ext_sa(0x100), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, 0, "GET")
eq(b.drain(), [], "b does not see a's GET reply")
check(len([m for m in c.drain() if m.type == GET]) >= 2, "c sees the GET request and reply")

# REGISTER from a: a and b (registered for ESP) get the reply.
r = a.request(REGISTER, SATYPE_ESP)
eq(r.errno, 0, "a registers")
eq([m.type for m in b.drain()], [REGISTER], "registered b sees a's REGISTER reply")
a.drain()

# A socket whose queue is full loses messages; the others do not.
import socket as _s
full = PfKey()
full.sock.setsockopt(_s.SOL_SOCKET, _s.SO_RCVBUF, 1)
for i in range(50):
    eq(a.request(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0x200 + i)).errno, 0, f"ADD {i}")
got_full = len(full.drain())
got_b = len([m for m in b.drain() if m.type == ADD])
eq(got_b, 50, "b got every notification")
check(got_full < 50, f"the full socket dropped some ({got_full} of 50)")
eq(a.request(FLUSH, 0).errno, 0, "FLUSH")
done("delivery follows RFC 2367 / af_key")
