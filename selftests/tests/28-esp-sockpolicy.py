# cost: 101 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Per-socket policies (IP_IPSEC_POLICY / IPV6_IPSEC_POLICY with a KAME
sadb_x_policy, as ipsec_set_policy(3) builds it): both namespaces require
ESP for everything to and from the other and have no SA, so
- two UDP sockets that each carry a `bypass` policy for both directions
  talk to each other in the clear, both ways;
- a normal socket's datagrams to a bypass socket are dropped at the
  sender (its outbound require policy has no SA);
- a bypass socket's datagrams to a normal socket are dropped at the
  receiver (its inbound require policy);
for IPv4 and IPv6. Namespaces a (10.0.0.1, fd00::1) and b (10.0.0.2, fd00::2)."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

IP_IPSEC_POLICY, IPV6_IPSEC_POLICY = 16, 34
SADB_X_EXT_POLICY, IPSEC_POLICY_BYPASS = 18, 4
IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND = 1, 2
A, B = "a", "b"
esp.topology("pair", A, B)
for ns, me, peer in ((A, "10.0.0.1", "10.0.0.2"), (B, "10.0.0.2", "10.0.0.1"),
                     (A, "fd00::1", "fd00::2"), (B, "fd00::2", "fd00::1")):
    esp.setkey(ns, "-c", stdin=f"spdadd {me} {peer} any -P out ipsec esp/transport//require;\n"
                               f"spdadd {peer} {me} any -P in ipsec esp/transport//require;\n")


def bypass(s, family):
    """Both directions of socket s bypass IPsec: a bare sadb_x_policy
    (len 2 units of 8 bytes, ext type, policy type, direction, reserved, id,
    priority)."""
    level, opt = ((socket.IPPROTO_IP, IP_IPSEC_POLICY) if family == socket.AF_INET
                  else (socket.IPPROTO_IPV6, IPV6_IPSEC_POLICY))
    for d in (IPSEC_DIR_OUTBOUND, IPSEC_DIR_INBOUND):
        try:
            s.setsockopt(level, opt, struct.pack("=HHHBBII", 2, SADB_X_EXT_POLICY, IPSEC_POLICY_BYPASS, d, 0, 0, 0))
        except OSError as e:
            check(False, f"setsockopt({level}, {opt}) bypass, direction {d}: {e}")


def sock(ns, addr, port, with_bypass):
    s = esp.udp_socket(ns, addr, port)
    if with_bypass:
        bypass(s, s.family)
    return s


for fam, a_ip, b_ip in ((socket.AF_INET, "10.0.0.1", "10.0.0.2"), (socket.AF_INET6, "fd00::1", "fd00::2")):
    v = "IPv4" if fam == socket.AF_INET else "IPv6"
    a_byp, b_byp = sock(A, a_ip, 7001, True), sock(B, b_ip, 7001, True)
    a_std, b_std = sock(A, a_ip, 7002, False), sock(B, b_ip, 7002, False)

    eq(esp.send_udp(a_byp, b"hello", b_ip, 7001), None, f"{v}: sendto from a bypass socket")
    eq(esp.recv_within(b_byp, 30), b"hello", f"{v}: bypass -> bypass, a to b, in the clear")
    eq(esp.send_udp(b_byp, b"hello back", a_ip, 7001), None, f"{v}: sendto from a bypass socket")
    eq(esp.recv_within(a_byp, 30), b"hello back", f"{v}: bypass -> bypass, b to a")

    esp.send_udp(a_std, b"from a normal socket", b_ip, 7001)  # dropped, or refused at once
    eq(esp.recv_within(b_byp, 2), None, f"{v}: a normal socket's datagram must not get out without an SA")
    eq(esp.send_udp(a_byp, b"to a normal socket", b_ip, 7002), None, f"{v}: sendto from a bypass socket")
    eq(esp.recv_within(b_std, 2), None, f"{v}: a normal socket must not receive clear text under require")
    for s in (a_byp, b_byp, a_std, b_std):
        s.close()
    print(f"{v}: bypass sockets talk in the clear; normal sockets stay bound by the require policies")
check(esp.ping_gets_no_reply(A, "10.0.0.2"), "ping (no socket policy) must not pass the require policies")
done("per-socket bypass policies override the SPD, for that socket only")
