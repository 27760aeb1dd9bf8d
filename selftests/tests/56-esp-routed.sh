# cost: 480 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# ESP between hosts that are not on the same link (issue 11 #3, #4): h1 and
# h2 talk through the plain router gw (topo_line), their routes have a
# gateway. 1. TCP over ESP transport, IPv4 and IPv6, and over an ESP
# tunnel h1 <-> h2. 2. The route to the peer changes while a transfer runs
# (a /32 route through gw added, then replaced, then deleted): cached
# bundles must notice their dead route (dst_check on obsolete entries)
# and the transfer completes. 3. gw's link to h2 gets MTU 1280 with DF set
# by TCP: gw's ICMP "fragmentation needed" / "packet too big" for the ESP
# packets must reach the SA's route (esp4_err/esp6_err) and the transfer
# completes with smaller segments; `ip route get` shows the lower MTU.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_line h1 gw h2
K1=0x000102030405060708090a0b0c0d0e0fcafebabe
K2=0x101112131415161718191a1b1c1d1e1fdecafbad
keyed() {  # keyed MODE: ESP between h1 and h2 in MODE, both families
  local ns me them me6 them6 m out4 in4 out6 in6
  for ns in h1 h2; do
    if [ $ns = h1 ]; then me=10.0.1.1 them=10.0.2.1 me6=fd01::1 them6=fd02::1
    else me=10.0.2.1 them=10.0.1.1 me6=fd02::1 them6=fd01::1; fi
    m=""; out4=transport/ in4=transport/ out6=transport/ in6=transport/
    if [ "$1" = tunnel ]; then
      # An inbound template names the tunnel as it arrives: peer -> me.
      m="-m tunnel"; out4="tunnel/$me-$them" in4="tunnel/$them-$me"
      out6="tunnel/$me6-$them6" in6="tunnel/$them6-$me6"
    fi
    setkey_ns $ns -c <<EOF || fail "keys in $ns ($1)"
flush;
spdflush;
add 10.0.1.1 10.0.2.1 esp 0x5201 $m -E aes-gcm-16 $K1;
add 10.0.2.1 10.0.1.1 esp 0x5202 $m -E aes-gcm-16 $K2;
add fd01::1 fd02::1 esp 0x5203 $m -E aes-gcm-16 $K1;
add fd02::1 fd01::1 esp 0x5204 $m -E aes-gcm-16 $K2;
spdadd $me $them any -P out ipsec esp/$out4/require;
spdadd $them $me any -P in ipsec esp/$in4/require;
spdadd $me6 $them6 any -P out ipsec esp/$out6/require;
spdadd $them6 $me6 any -P in ipsec esp/$in6/require;
EOF
  done
}
# wire_esp NAME SPI: ESP frames with SPI seen on gw's link to h2.
for mode in transport tunnel; do
  keyed $mode
  capture_start "$mode" gw eth1
  expect_ping h1 10.0.2.1
  expect_ping h1 fd02::1
  tcp_ok h2 10.0.2.1 h1 $((256 * 1024))
  tcp_ok h2 fd02::1 h1 $((128 * 1024))
  capture_stop "$mode"
  for spi in 0x5201 0x5202; do
    [ "$(wire "$mode" ipv4 esp $((spi)))" -gt 0 ] || fail "$mode: no ESP SPI $spi between gw and h2"
  done
  for spi in 0x5203 0x5204; do
    [ "$(wire "$mode" ipv6 esp $((spi)))" -gt 0 ] || fail "$mode: no ESP SPI $spi between gw and h2 (IPv6)"
  done
  for k in icmp tcp; do
    [ "$(wire "$mode" any $k)" = 0 ] || fail "$mode: clear $k between gw and h2"
  done
  echo "$mode: ping and TCP (IPv4, IPv6) through the router, only ESP on its far link"
done

# 2. Route changes under a running transfer (transport mode).
keyed transport
# The transfer runs until the test has made its changes (the stop file),
# however fast or slow the machine is.
stop=$CAP_DIR/routes.stop
$ESP tcp h2 10.0.2.1 h1 "until:$stop" 5202 > "$CAP_DIR/routes.out" 2>&1 &
tcp_pid=$!
at_exit "kill $tcp_pid 2>/dev/null"
# Readiness: the client connected (its marker), and ss in h1 lists it.
established() { [ -e "$stop.up" ] && in_ns h1 ss -Htn state established dst 10.0.2.1 | grep -q .; }
diag() {
  local ns
  for ns in h1 h2; do
    echo "--- $ns: sockets, routes, nonzero counters"
    in_ns $ns ss -tani
    in_ns $ns ip route
    $ESP stat $ns | awk '$2 != 0'
    setkey_ns $ns -D | grep -E '^[0-9a-f:.]+ |current:|allocated:'
  done
  cat "$CAP_DIR/routes.out"
}
poll_until 120 established || { diag; fail "the transfer's connection did not come up"; }
rx() { in_ns h2 cat /sys/class/net/eth0/statistics/rx_bytes; }
moved_since() { [ "$(rx)" -gt "$1" ]; }
for step in "route add 10.0.2.1/32 via 10.0.1.254 dev eth0" \
            "route replace 10.0.2.1/32 via 10.0.1.254 dev eth0 mtu 1400" \
            "route del 10.0.2.1/32"; do
  b=$(rx)
  in_ns h1 ip $step || fail "ip $step"
  # The flow keeps going after each change: h2 receives more.
  wait_until 120 "no traffic reached h2 after 'ip $step'" moved_since $((b + 100000))
done
touch "$stop"
wait $tcp_pid || { cat "$CAP_DIR/routes.out"; fail "the transfer did not survive the route changes"; }
tcp_pid=
cat "$CAP_DIR/routes.out"
echo "route add / replace / del under a TCP transfer over ESP: it completed intact"

# 3. PMTU: the far link gets MTU 1280.
for ns in gw h2; do
  dev=eth0; [ $ns = gw ] && dev=eth1
  ip -n $ns link set $dev mtu 1280 || fail "mtu 1280 on $ns $dev"
done
capture_start pmtu gw eth1
tcp_ok h2 10.0.2.1 h1 $((256 * 1024))
tcp_ok h2 fd02::1 h1 $((256 * 1024))
capture_stop pmtu
[ "$(wire pmtu any frag)" = 0 ] || fail "IP fragments on the 1280-byte link"
mtu4=$(in_ns h1 ip route get 10.0.2.1 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
mtu6=$(in_ns h1 ip -6 route get fd02::1 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
echo "route MTU after the transfers: IPv4 ${mtu4:-none}, IPv6 ${mtu6:-none}"
[ "${mtu4:-1500}" -le 1280 ] || fail "h1's route to 10.0.2.1 did not learn the 1280-byte PMTU"
[ "${mtu6:-1500}" -le 1280 ] || fail "h1's route to fd02::1 did not learn the 1280-byte PMTU"
echo "PMTU: ICMP errors for ESP reached the route; TCP completed with smaller segments (IPv4, IPv6)"
