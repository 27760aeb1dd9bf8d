# cost: 47 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Per-namespace state: 50 network namespaces, each with its own PF_KEY
socket list and tables, created and destroyed (some with a socket still
open when their last process leaves, which keeps the namespace alive until
the socket closes)."""
import ctypes
import os
import select
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
from pfkey import *  # noqa: E402,F403

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def refcnt():
    with open("/sys/module/rxfrm/refcnt") as f:
        return int(f.read())


def child(i, hold):
    os.close(release_w)
    os.close(gone_r)
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
        # dies only when that socket closes. It holds it until the parent
        # closes the release pipe (EOF), then exits, closing `gone`.
        if os.fork() == 0:
            os.read(release_r, 1)
            k.close()
            os._exit(0)
    os._exit(0)


root = PfKey()
eq(root.request(ADD, SATYPE_ESP, add_sa("10.0.0.1", "10.0.0.2", 0x99)).errno, 0, "ADD in init_net")
base = refcnt()
probe = PfKey()
per_socket = refcnt() - base  # what one open PF_KEY socket pins
probe.close()
check(per_socket >= 1, f"an open PF_KEY socket does not pin the module (refcnt {base} -> {base + per_socket})")
wait_until(lambda: refcnt() == base, f"a closed socket releases the module (refcnt {base})", show=refcnt)
release_r, release_w = os.pipe()  # closed by us: the holders let go
gone_r, gone_w = os.pipe()  # EOF once every child and holder exited
pids = []
for i in range(50):
    pid = os.fork()
    if pid == 0:
        child(i, hold=(i % 5 == 0))
    pids.append(pid)
os.close(release_r)
os.close(gone_w)
for i, pid in enumerate(pids):
    _, status = os.waitpid(pid, 0)
    eq(os.waitstatus_to_exitcode(status), 0, f"namespace {i}")
# Every creator has exited; the 10 holders' sockets are still open (each
# pins the module, as af_key's do) in namespaces whose creator has left.
wait_until(lambda: refcnt() == base + 10 * per_socket,
           f"the 10 held sockets are open after their creators left (module refcnt {base} + 10 x {per_socket})",
           show=refcnt)
os.close(release_w)
r, _, _ = select.select([gone_r], [], [], 120)
check(r and os.read(gone_r, 1) == b"", "the holders did not exit within 120s of being released")
wait_until(lambda: refcnt() == base, f"the holders' sockets are released (module refcnt back to {base})",
           show=refcnt)
eq([m.spi() for m in root.dump()], [0x99], "init_net sees only its own SA")
eq(root.request(FLUSH, 0).errno, 0, "FLUSH")
done("50 namespaces created and destroyed, each with its own tables")
