# cost: 120 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""A TCP socket whose traffic rxfrm protects caches the bundle as its route,
as Linux sockets cache xfrm bundles (that is how TCP sizes its segments to
the bundle's MTU; 20 and 23 check the wire). Between namespaces `a`
(10.0.0.1) and `b` (10.0.0.2), AES-GCM transport SAs, `require` policies:
- while a connection that sent data is open, rxfrm's module reference
  count is up (the socket's head entry holds one) and the count returns
  once it is closed;
- deleting the device under an idle connection finishes at once: the
  entries the socket still holds move to the blackhole device, as Linux
  does for its uncached routes and xfrm bundles (otherwise unregister
  would wait for the socket's next send, for ever if it is idle);
- after that the socket's data goes nowhere: its send is refused, or
  queued with no route to leave by; the kernel stays clean.
Datagram sockets keep their plain route: a 1450-byte UDP payload (fits
the route's 1500, not the bundle's MTU) is refused with EMSGSIZE when the
socket forbids fragmentation (IP_PMTUDISC_DO), as Linux's bundle MTU
would refuse it, and otherwise arrives, as outer IP fragments."""
import errno
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
import esp  # noqa: E402

A, B = "a", "b"
esp.topology("pair", A, B)
KEYS = ("add 10.0.0.1 10.0.0.2 esp 0x3001 -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f00010203;\n"
        "add 10.0.0.2 10.0.0.1 esp 0x3002 -E aes-gcm-16 0x101112131415161718191a1b1c1d1e1f10111213;\n")
esp.configure(A, KEYS + "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//require;\n"
              "spdadd 10.0.0.2 10.0.0.1 any -P in ipsec esp/transport//require;\n")
esp.configure(B, KEYS + "spdadd 10.0.0.2 10.0.0.1 any -P out ipsec esp/transport//require;\n"
              "spdadd 10.0.0.1 10.0.0.2 any -P in ipsec esp/transport//require;\n")


def refcnt():
    with open("/sys/module/rxfrm/refcnt") as f:
        return int(f.read())


def settle(want, what):
    """The reference count reaches `want` (entries are freed after an RCU
    grace period and the once-a-second tick)."""
    wait_until(lambda: refcnt() == want, f"{what} (module refcnt {want})", show=refcnt)


def connection():
    with esp.netns(B):
        lst = socket.create_server(("10.0.0.2", 5301))
    with esp.netns(A):
        cli = socket.create_connection(("10.0.0.2", 5301), timeout=30)
    srv, _ = lst.accept()
    lst.close()
    data = os.urandom(64 * 1024)
    cli.sendall(data)
    got = b""
    srv.settimeout(30)
    while len(got) < len(data):
        chunk = srv.recv(65536)
        check(chunk, "the connection closed early")
        got += chunk
    eq(got, data, "64 KB over ESP")
    return cli, srv


IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2  # linux/in.h (not in Python's socket module)
with esp.netns(B):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("10.0.0.2", 5302))
    rx.settimeout(10)
with esp.netns(A):
    dont = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dont.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    frag = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
big = os.urandom(1450)
c = esp.Counters(A)
try:
    dont.sendto(big, ("10.0.0.2", 5302))
    err = 0
except OSError as e:
    err = e.errno
eq(err, errno.EMSGSIZE, "IP_PMTUDISC_DO: a datagram too big for the bundle")
eq(c.delta("RxfrmOutMtuExceeded"), 1, f"counted as RxfrmOutMtuExceeded (moved {c.moved()})")
frag.sendto(big, ("10.0.0.2", 5302))
eq(rx.recv(2048), big, "the same datagram from a socket that allows fragmentation")
for s_ in (rx, dont, frag):
    s_.close()
print("UDP: EMSGSIZE under IP_PMTUDISC_DO, outer fragments otherwise")

base = refcnt()
cli, srv = connection()
check(refcnt() >= base + 1, f"the sending socket holds a bundle head: refcnt {refcnt()}, {base} before")
cli.close()
srv.close()
settle(base, "closing the sockets releases their heads")
print(f"an open TCP connection holds the module (refcnt {base} -> {base}+), released on close")

cli, srv = connection()
t0 = time.time()
r = esp.run(A, "timeout", "30", "ip", "link", "del", "eth0")
took = time.time() - t0
eq(r.returncode, 0, "ip link del eth0 under an idle connection")
check(took < 20, f"device deletion waited {took:.1f}s for references the socket held")
try:
    cli.settimeout(5)
    cli.sendall(b"after the device went")
    # TCP queues the data; the route lookup fails on transmission.
    err = None
except OSError as e:
    err = e.errno
check(err in (None, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPIPE, errno.ECONNRESET),
      f"send after the device went: unexpected error {err and errno.errorcode.get(err)}")
srv.settimeout(1)
try:
    got = srv.recv(100)
except socket.timeout:
    got = None
eq(got, None, "data sent after a's device went reached b")
cli.close()
srv.close()
settle(base, "the sockets' heads are released after the device went")
print(f"the device went in {took:.1f}s with the connection open; its entries were moved off it")
done("TCP sockets cache rxfrm bundles as their routes, and let their devices go")
