# cost: 70 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Issue 11 #1: rxfrm's key manager (`rxfrm_km`) beside the kernel's own.
rxfrm registers an xfrm key manager with every callback given a body.
The kernel calls a manager's `acquire` only when some manager is alive
(km_is_alive), i.e. when an XFRMNLGRP_ACQUIRE netlink listener exists: so
this test loads xfrm_user, runs `ip xfrm monitor acquire`, adds a *native*
(xfrm_user) ESP policy and sends one datagram into it. The native ACQUIRE
must reach the monitor (so the km_query path, rxfrm's acquire included,
really ran); rxfrm's acquire must not crash (the runner checks the kernel
log) nor leak anything to PF_KEY: a socket registered for ESP and a
promiscuous one, both opened before, receive nothing of it, and rxfrm's
SAD and SPD stay empty."""
import errno
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
from pfkey import *  # noqa: E402,F403
import esp  # noqa: E402

A, B = "km-a", "km-b"
A_IP, B_IP = "10.0.0.1", "10.0.0.2"
XFRM_NETLINK = 6  # NETLINK_XFRM
GRP_ACQUIRE = 1 << 0  # nl_mgrp(XFRMNLGRP_ACQUIRE)

with open("/proc/modules") as f:
    had_xfrm_user = any(line.split()[0] == "xfrm_user" for line in f)
if not had_xfrm_user:
    # Userspace modprobe (guest-init only disables the kernel's request_module).
    r = subprocess.run(["modprobe", "xfrm_user"], capture_output=True, text=True)
    eq(r.returncode, 0, f"modprobe xfrm_user: {r.stderr.strip()}")


def cleanup():
    subprocess.run(["ip", "-n", A, "xfrm", "policy", "flush"], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "-n", A, "xfrm", "state", "flush"], stderr=subprocess.DEVNULL)
    if not had_xfrm_user:
        subprocess.run(["rmmod", "xfrm_user"], stderr=subprocess.DEVNULL)


esp.topology("pair", A, B)

# PF_KEY sockets in A, opened before anything native happens: one
# registered for ESP (where an rxfrm ACQUIRE would go), one promiscuous
# (which would see any message at all).
with esp.netns(A):
    reg, prom = PfKey(), PfKey()
eq(reg.request(REGISTER, SATYPE_ESP).errno, 0, "REGISTER ESP")
eq(prom.request(X_PROMISC, 1).errno, 0, "X_PROMISC on (sadb_msg_satype 1, as af_key)")
# What X_PROMISC made the promiscuous socket see (its own request and
# reply) is read before the native traffic starts, up to a barrier.
BARRIER_SEQ = 0x5EED0000


def until_barrier(k, n):
    """Messages k receives before the reply to its own barrier DUMP (one
    with a fresh seq): the kernel queues in order, so anything rxfrm
    delivered earlier is in the list. The barrier's own messages (the
    promiscuous copy of the request, the reply) are not."""
    seq = BARRIER_SEQ + n
    k.send(msg(DUMP, SATYPE_UNSPEC, seq=seq))
    seen = []
    deadline = time.time() + 30
    while time.time() < deadline:
        m = k.recv(deadline - time.time())
        check(m is not None, f"no reply to the barrier DUMP (seq {seq:#x}); got {seen}")
        if m.type == DUMP and m.seq == seq and m.pid == os.getpid():
            if m.errno or m.len > 2:  # the reply (ENOENT: empty SAD), not our request's copy
                return seen, m
            continue
        if m.pid == os.getpid() and m.seq >= BARRIER_SEQ:
            continue  # a promiscuous copy of another barrier of ours
        seen.append(m)
    check(False, "barrier timed out")


for k in (reg, prom):
    until_barrier(k, 0)

mon = subprocess.Popen(["ip", "netns", "exec", A, "stdbuf", "-oL", "ip", "xfrm", "monitor", "acquire"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def monitor_listening():
    """A NETLINK_XFRM socket subscribed to XFRMNLGRP_ACQUIRE exists in A
    (its Groups column in /proc/net/netlink)."""
    # (The message is built only when it exited: reading its output
    # before would block for as long as it runs.)
    if mon.poll() is not None:
        check(False, f"ip xfrm monitor exited: {mon.stdout.read()}")
    with esp.netns(A):
        with open("/proc/thread-self/net/netlink") as f:
            rows = [line.split() for line in f.readlines()[1:]]
    return any(len(r) > 3 and r[1] == str(XFRM_NETLINK) and int(r[3], 16) & GRP_ACQUIRE for r in rows)


try:
    wait_until(monitor_listening, "ip xfrm monitor acquire is not listening", timeout=60)
    r = esp.run(A, "ip", "xfrm", "policy", "add", "src", A_IP, "dst", B_IP, "proto", "udp", "dir", "out",
                "tmpl", "proto", "esp", "mode", "transport", capture_output=True, text=True)
    eq(r.returncode, 0, f"native ip xfrm policy add: {r.stderr.strip()}")
    pol = esp.run(A, "ip", "xfrm", "policy", capture_output=True, text=True).stdout
    check("tmpl" in pol and "proto esp" in pol, f"the native policy is installed: {pol!r}")

    # One datagram into the native policy: xfrm_lookup finds no state,
    # km_is_alive (the monitor) lets km_query call every manager's acquire.
    s = esp.udp_socket(A, A_IP)
    esp.send_udp(s, b"native acquire", B_IP, 7000)  # dropped or refused: either is fine
    lines, deadline = [], time.time() + 60
    # "acquire proto esp", then its selector on the next line ("sel src ...").
    while time.time() < deadline and not any("sel src" in line for line in lines):
        ready, _, _ = select.select([mon.stdout], [], [], deadline - time.time())
        if ready:
            line = mon.stdout.readline()
            check(line != "", f"ip xfrm monitor ended: {lines}")
            lines.append(line.rstrip("\n"))
    text = "\n".join(lines)
    print("monitor:\n  " + text.replace("\n", "\n  "))
    check(any(line.startswith("acquire proto esp") for line in lines),
          f"the native ACQUIRE did not reach ip xfrm monitor within 60s: {text!r}")
    check(f"src {A_IP}/32 dst {B_IP}/32" in text, f"the ACQUIRE names the flow: {text!r}")
finally:
    mon.terminate()
    mon.wait()

# Nothing of it on PF_KEY: every manager's acquire ran in the sendto()
# itself (km_query is synchronous), so anything rxfrm sent is queued
# ahead of the barrier replies. The barrier DUMP also shows an empty SAD.
for name, k, n in (("registered", reg, 1), ("promiscuous", prom, 2)):
    seen, reply = until_barrier(k, n)
    eq(seen, [], f"the {name} PF_KEY socket got messages from the native ACQUIRE")
    eq(reply.errno, errno.ENOENT, f"rxfrm's SAD is empty (DUMP reply via the {name} socket)")
# The native policy's deletion goes through every manager's notify_policy.
r = esp.run(A, "ip", "xfrm", "policy", "flush", capture_output=True, text=True)
eq(r.returncode, 0, f"ip xfrm policy flush: {r.stderr.strip()}")
seen, _ = until_barrier(prom, 3)
eq(seen, [], "the promiscuous PF_KEY socket got messages from the native policy flush")
# Last: the promiscuous socket sees these dumps' requests and replies too.
eq(reg.dump(), [], "rxfrm's SAD is empty")
eq(reg.dump(X_SPDDUMP), [], "rxfrm's SPD is empty (the native policy is not rxfrm's)")
reg.close()
prom.close()
cleanup()
done("native ACQUIRE reached ip xfrm monitor; rxfrm's key manager sent nothing to PF_KEY, tables empty")
