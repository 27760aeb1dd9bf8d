# cost: 457 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# ESP over IPv6 and across families, ping through each:
#   transport between two IPv6 hosts (fd00::1 <-> fd00::2);
#   6in6: fd01::/64 <-> fd02::/64 tunnelled between gateways fdc0::1 - fdc0::2;
#   4in6: 10.0.1.0/24 <-> 10.0.2.0/24 tunnelled over fdc0::1 - fdc0::2;
#   6in4: fd01::/64 <-> fd02::/64 tunnelled over 192.168.0.1 - 192.168.0.2.
# Each time the wire carries ESP of the outer family with the configured
# SPIs, and no clear echo of the inner one. AES-CBC + HMAC-SHA1; the 6in6
# SAs with extended sequence numbers (setkey -f esn).
. "$RXFRM_ROOT/selftests/lib/esp.sh"
E=$ESP_CBC_SHA1

# --- transport ---
topo_pair v6a v6b
key_transport v6a fd00::1 v6b fd00::2 0x2301 0x2302
capture_start t6 v6b eth0
expect_ping v6a fd00::2
expect_ping v6b fd00::1
tcp_ok v6b fd00::2 v6a $((64 * 1024))
capture_stop t6
[ "$(wire t6 ipv6 esp $((0x2301)))" -gt 0 ] || fail "transport: no ESP SPI 0x2301"
[ "$(wire t6 ipv6 esp $((0x2302)))" -gt 0 ] || fail "transport: no ESP SPI 0x2302"
[ "$(wire t6 any icmp6)" = 0 ] || fail "transport: clear ICMPv6 echo on the wire"
[ "$(wire t6 any tcp)" = 0 ] || fail "transport: clear TCP on the wire"
# TCP's segments fit the bundle's MTU (its socket caches the bundle).
[ "$(wire t6 any frag)" = 0 ] || fail "transport: $(wire t6 any frag) IPv6 fragments of ESP on the wire"
echo "IPv6 transport: ping both ways and TCP over ESP"

# --- tunnels between gateways ---
topo_gateways h1 g1 g2 h2
# tunnel NAME INNER1 INNER2 OUTER1 OUTER2 SPI12 SPI21 [SA FLAGS]: key both
# gateways (g1 owns INNER1 and OUTER1) after emptying their tables.
tunnel() {
  local g me them a b
  for g in g1 g2; do
    if [ $g = g1 ]; then me=$2; them=$3; a=$4; b=$5; else me=$3; them=$2; a=$5; b=$4; fi
    setkey_ns $g -F && setkey_ns $g -FP || fail "flush $g"
    setkey_ns $g -c <<EOF || fail "$1: keys in $g"
add $4 $5 esp $6 -m tunnel ${8:-} $E;
add $5 $4 esp $7 -m tunnel ${8:-} $E;
spdadd $me $them any -P out ipsec esp/tunnel/$a-$b/require;
spdadd $them $me any -P in ipsec esp/tunnel/$b-$a/require;
EOF
  done
}
# through NAME OUTER_FAMILY INNER_KIND SPI12 SPI21 DST1 DST2: h1 pings DST2,
# h2 pings DST1; the WAN shows only ESP.
through() {
  capture_start "$1" g2 eth1
  expect_ping h1 "$7"
  expect_ping h2 "$6"
  capture_stop "$1"
  [ "$(wire "$1" "$2" esp "$4")" -gt 0 ] || fail "$1: no $2 ESP SPI $4 (g1 -> g2)"
  [ "$(wire "$1" "$2" esp "$5")" -gt 0 ] || fail "$1: no $2 ESP SPI $5 (g2 -> g1)"
  [ "$(wire "$1" any "$3")" = 0 ] || fail "$1: clear $3 on the WAN"
  echo "$1: ping both ways through the tunnel, only ESP on the WAN"
}
# With extended sequence numbers: authencesn borrows 4 bytes of the outer
# IPv6 header on both ends.
tunnel 6in6 fd01::/64 fd02::/64 fdc0::1 fdc0::2 0x2311 0x2312 "-f esn"
[ "$(setkey_ns g1 -D | grep -c 'flags=0x00000400')" = 2 ] || fail "6in6: g1's SAs do not show the ESN flag"
through 6in6 ipv6 icmp6 $((0x2311)) $((0x2312)) fd01::1 fd02::1
tunnel 4in6 10.0.1.0/24 10.0.2.0/24 fdc0::1 fdc0::2 0x2321 0x2322
through 4in6 ipv6 icmp $((0x2321)) $((0x2322)) 10.0.1.1 10.0.2.1
tunnel 6in4 fd01::/64 fd02::/64 192.168.0.1 192.168.0.2 0x2331 0x2332
through 6in4 ipv4 icmp6 $((0x2331)) $((0x2332)) fd01::1 fd02::1
echo "IPv6: transport, 6in6, 4in6 and 6in4 ESP all carry ping"
