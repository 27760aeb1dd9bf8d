# cost: 80 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Issue 11 #8: IPv6 SAs keyed before their address exists, the address
# then added with DAD on. rxfrm builds an SA's transform when one of its
# addresses is local; the address is announced once, when added, while
# it is still tentative, and no event follows when DAD ends. So an SA must
# count a tentative address as local, or it stays dormant for ever. The
# address is held tentative deterministically: b's end of the link is
# down (no carrier, DAD cannot start) until a has checked the flag.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_ns a b
ip link add eth0 netns a type veth peer name eth0 netns b || fail "veth a - b"
for ns in a b; do
  in_ns $ns sysctl -qw net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.dad_transmits=1 >/dev/null ||
    fail "DAD on in $ns"
done
key_transport a fd00::1 b fd00::2 0x5301 0x5302
# The addresses come after the SAs, with DAD (no nodad).
ip -n a link set eth0 up || fail "a eth0 up"
ip -n a -6 addr add fd00::1/64 dev eth0 || fail "fd00::1"
tentative() { ip -n "$1" -6 addr show dev eth0 tentative | grep -q "$2"; }
tentative a fd00::1 || fail "fd00::1 is not tentative without carrier: the test would show nothing"
echo "fd00::1 is tentative (no carrier yet)"
ip -n b link set eth0 up || fail "b eth0 up"
ip -n b -6 addr add fd00::2/64 dev eth0 || fail "fd00::2"
usable() { ! tentative a fd00::1 && ! tentative b fd00::2; }
wait_until 120 "DAD did not complete" usable
ip -n a -6 addr show dev eth0 | grep -q 'fd00::1.*dadfailed' && fail "DAD failed on fd00::1"
# Neighbour Discovery stays outside the policy's reach: pinned entries.
for ns in a b; do
  peer=b; addr=fd00::2; [ $ns = b ] && peer=a addr=fd00::1
  ip -n $ns -6 neigh replace $addr lladdr "$(topo_mac $peer eth0)" dev eth0 nud permanent ||
    fail "neighbour $addr in $ns"
done
capture_start wire b eth0
expect_ping a fd00::2
tcp_ok b fd00::2 a $((128 * 1024))
capture_stop wire
for spi in 0x5301 0x5302; do
  [ "$(wire wire ipv6 esp $((spi)))" -gt 0 ] || fail "no ESP SPI $spi on the wire"
done
[ "$(wire wire any tcp)" = 0 ] || fail "clear TCP on the wire"
expect_sa_used a $((0x5302))
echo "SAs keyed before their addresses (DAD on) carry ping and TCP once DAD is done"
