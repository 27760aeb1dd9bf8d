# cost: 15 (seconds under TCG; selftests/run balances VMs by it)
"""Per-namespace state: 50 network namespaces, each with its own PF_KEY
socket list and tables, created and destroyed (some with a socket still
open when their last process leaves, which keeps the namespace alive until
the socket closes)."""
import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def child(i, hold):
    if libc.unshare(CLONE_NEWNET) != 0:
        os._exit(10)
    k = PfKey()
    if k.dump() != []:
        os._exit(11)  # a fresh namespace must start empty
    if k.request(ADD, SATYPE_ESP, add_sa("10.0.0.1", "10.0.0.2", 0x100 + i)).errno != 0:
        os._exit(12)
    if [m.spi() for m in k.dump()] != [0x100 + i]:
        os._exit(13)  # and see only its own SA
    if hold:
        # Pass the socket to a grandchild that outlives us: the namespace
        # dies only when that socket closes.
        if os.fork() == 0:
            time.sleep(2)
            k.close()
            os._exit(0)
    os._exit(0)


root = PfKey()
eq(root.request(ADD, SATYPE_ESP, add_sa("10.0.0.1", "10.0.0.2", 0x99)).errno, 0, "ADD in init_net")
pids = []
for i in range(50):
    pid = os.fork()
    if pid == 0:
        child(i, hold=(i % 5 == 0))
    pids.append(pid)
for i, pid in enumerate(pids):
    _, status = os.waitpid(pid, 0)
    eq(os.waitstatus_to_exitcode(status), 0, f"namespace {i}")
time.sleep(3)
eq([m.spi() for m in root.dump()], [0x99], "init_net sees only its own SA")
eq(root.request(FLUSH, 0).errno, 0, "FLUSH")
done("50 namespaces created and destroyed, each with its own tables")
