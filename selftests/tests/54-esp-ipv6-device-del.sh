# cost: 150 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Issue 11 #7: an IPv6 tunnel whose inner route leaves by another device
# than the tunnel's. a reaches fd0b::2 (on b) by a route through eth1 (to
# c), but the policy tunnels it in ESP fd00::1 -> fd00::2 out of eth0. A
# TCP connection caches the bundle's head entry, which holds the inner
# route's device (its rt6i_idev). `ip link del eth1` while the connection
# is open must complete: the entry lets eth1 go as the unregister flush
# moves entries off a dying device, wherever the entry itself sends.
# Before, the flush compared the entry's own device (eth0) and the
# unregister waited for ever ("waiting for eth1 to become free").
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_ns a b c
topo_link a eth0 b eth0
topo_link a eth1 c eth0
topo_addr a eth0 fd00::1/64
topo_addr b eth0 fd00::2/64
topo_addr a eth1 fd09::1/64
topo_addr c eth0 fd09::2/64
ip -n b -6 addr add fd0b::2/128 dev lo || fail "fd0b::2 on b"
ip -n a -6 route add fd0b::/64 via fd09::2 dev eth1 || fail "a's inner route"
ip -n b -6 route add fd09::/64 via fd00::1 dev eth0 || fail "b's route back"
ip -n a -6 neigh replace fd00::2 lladdr "$(topo_mac b eth0)" dev eth0 nud permanent || fail "neigh a"
ip -n a -6 neigh replace fd09::2 lladdr "$(topo_mac c eth0)" dev eth1 nud permanent || fail "neigh a"
ip -n b -6 neigh replace fd00::1 lladdr "$(topo_mac a eth0)" dev eth0 nud permanent || fail "neigh b"
E='-E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233'
setkey_ns a -c <<EOF || fail "keys in a"
add fd00::1 fd00::2 esp 0x5401 -m tunnel $E;
add fd00::2 fd00::1 esp 0x5402 -m tunnel $E;
spdadd fd09::1 fd0b::2 any -P out ipsec esp/tunnel/fd00::1-fd00::2/require;
spdadd fd0b::2 fd09::1 any -P in ipsec esp/tunnel/fd00::2-fd00::1/require;
EOF
setkey_ns b -c <<EOF || fail "keys in b"
add fd00::1 fd00::2 esp 0x5401 -m tunnel $E;
add fd00::2 fd00::1 esp 0x5402 -m tunnel $E;
spdadd fd0b::2 fd09::1 any -P out ipsec esp/tunnel/fd00::2-fd00::1/require;
spdadd fd09::1 fd0b::2 any -P in ipsec esp/tunnel/fd00::1-fd00::2/require;
EOF
capture_start wire b eth0
capture_start inner c eth0
expect_ping a fd0b::2
tcp_ok b fd0b::2 a $((64 * 1024))
capture_stop wire
capture_stop inner
[ "$(wire wire ipv6 esp $((0x5401)))" -gt 0 ] || fail "no ESP a -> b"
[ "$(wire inner any icmp6)" = 0 ] && [ "$(wire inner any tcp)" = 0 ] || fail "clear traffic left by eth1"

# A connection that stays open (its socket caches the bundle), idle.
in_ns_bg b python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd0b::2", 5400)); s.listen(1); c, _ = s.accept()
while c.recv(65536): pass'
srv=$!
at_exit "kill $srv 2>/dev/null"
listening() { in_ns b ss -Htln 'sport = :5400' | grep -q .; }
wait_until 60 "the server did not listen" listening
in_ns_bg a python3 -c '
import socket
s = socket.create_connection(("fd0b::2", 5400)); s.sendall(b"x" * 65536); s.recv(1)'
cli=$!
at_exit "kill $cli 2>/dev/null"
sent() { in_ns a ss -Htn state established dst '[fd0b::2]' | awk '$2 == 0 { ok = 1 } END { exit !ok }'; }
wait_until 120 "the connection did not come up and drain" sent

log0=$(dmesg | wc -l)  # the runner checks the whole log: read past it, not clear it
ip -n a link del eth1 &
del=$!
gone() { ! kill -0 $del 2>/dev/null; }
wait_until 180 "'ip link del eth1' did not return (the device is held)" gone
wait $del || fail "ip link del eth1 failed"
held=$(dmesg | tail -n +$((log0 + 1)) | grep 'to become free')
[ -z "$held" ] || fail "$held"
echo "eth1 (the inner route's device) deleted while a TCP connection cached the tunnel's bundle"
