# cost: 180 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Issue 11 #6: a decapsulated packet is re-injected with a MAC header that
# is an Ethernet header, so receive handlers on the device read addresses,
# not IP bytes. b's eth0 carries a macvlan (bridge mode, allmulticast, in
# namespace mv, on another subnet). With the MAC header left at the IP
# header, an IPv4 packet's first byte (0x45) reads as a multicast
# destination and macvlan hands a copy of every decapsulated packet to mv0.
# So: ping and TCP over ESP a -> b arrive, and mv0 receives no more than
# the link's own broadcasts (ARP) meanwhile.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_pair a b
topo_ns mv
ip -n b link add mv0 link eth0 type macvlan mode bridge || fail "macvlan on b:eth0"
ip -n b link set mv0 netns mv || fail "mv0 into mv"
ip -n mv addr add 10.9.9.9/24 dev mv0 || fail "address on mv0"
ip -n mv link set mv0 allmulticast on up || fail "mv0 up"
key_transport a 10.0.0.1 b 10.0.0.2 0x5101 0x5102
mv_rx() { in_ns mv cat /sys/class/net/mv0/statistics/rx_packets; }
capture_start wire b eth0
before=$(mv_rx)
expect_ping a 10.0.0.2 20
tcp_ok b 10.0.0.2 a $((256 * 1024))
after=$(mv_rx)
capture_stop wire
esp_in=$(wire wire ipv4 esp $((0x5101)))
echo "b decapsulated $esp_in ESP packets; mv0 received $((after - before)) frames meanwhile"
[ "$esp_in" -ge 40 ] || fail "too few ESP packets a -> b ($esp_in) for the check to mean anything"
[ "$(wire wire any icmp)" = 0 ] && [ "$(wire wire any tcp)" = 0 ] || fail "clear traffic on a - b"
# A few ARP broadcasts may reach mv0; a copy of each decapsulated packet may not.
[ $((after - before)) -lt 10 ] || fail "mv0 received $((after - before)) frames: decapsulated packets reached the macvlan"
expect_sa_used b $((0x5101))
echo "ping and TCP over ESP delivered; the macvlan beside the endpoint saw none of them"
