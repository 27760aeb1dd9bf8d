# cost: 750 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# ESP tunnel mode as in the NetBSD IPsec FAQ:
# 1. The VPN example: two gateways join 10.0.1.0/24 and 10.0.2.0/24 over
#    a blowfish-cbc tunnel 20.0.0.1 <-> 20.0.0.2 (the FAQ's addresses and
#    keys). host1 pings host2 and TCP goes through; the wire between the
#    gateways carries only ESP with the two SPIs, the LAN behind gw2 the
#    clear packets; the gateways' own traffic, outside the selectors,
#    stays clear.
# 2. The leaf-node example: a leaf 10.0.1.5 tunnels everything to its
#    router 10.0.1.1 (rijndael-cbc), which forwards to a server behind it.
#
# The one change to the FAQ's text: each SA says `-m tunnel`. Linux (af_key
# and so rxfrm) takes an SA without a mode as transport, which a tunnel
# template does not match; ipsec-tools on Linux needs the same.
. "$RXFRM_ROOT/selftests/lib/esp.sh"

# --- 1. VPN gateways (topo.sh: host1 - gw1 =WAN= gw2 - host2) ---
topo_gateways host1 gw1 gw2 host2 20.0.0.1 20.0.0.2
sas='add 20.0.0.1 20.0.0.2 esp 13245 -m tunnel -E blowfish-cbc "blowfishtest.001" ;
add 20.0.0.2 20.0.0.1 esp 13246 -m tunnel -E blowfish-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;'
setkey_ns gw1 -c <<EOF || fail "gw1 configuration"
$sas
spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/20.0.0.1-20.0.0.2/require ;
spdadd 10.0.2.0/24 10.0.1.0/24 any -P in ipsec esp/tunnel/20.0.0.2-20.0.0.1/require ;
EOF
# gw2: the FAQ's configuration with in and out swapped.
setkey_ns gw2 -c <<EOF || fail "gw2 configuration"
$sas
spdadd 10.0.2.0/24 10.0.1.0/24 any -P out ipsec esp/tunnel/20.0.0.2-20.0.0.1/require ;
spdadd 10.0.1.0/24 10.0.2.0/24 any -P in ipsec esp/tunnel/20.0.0.1-20.0.0.2/require ;
EOF
setkey_ns gw1 -DP | grep -q '^[[:space:]]*fwd ' || fail "gw1 has no fwd policy (setkey's RFC mode)"

capture_start wan gw2 eth1
capture_start lan2 gw2 eth0
expect_ping host1 10.0.2.1
expect_ping host2 10.0.1.1
tcp_ok host2 10.0.2.1 host1 $((256 * 1024))
capture_stop wan
capture_stop lan2
[ "$(wire wan ipv4 esp 13245)" -gt 0 ] || fail "no ESP SPI 13245 (gw1 -> gw2) between the gateways"
[ "$(wire wan ipv4 esp 13246)" -gt 0 ] || fail "no ESP SPI 13246 (gw2 -> gw1) between the gateways"
for k in icmp tcp udp ipip; do
  [ "$(wire wan any $k)" = 0 ] || fail "clear $k between the gateways"
done
[ "$(wire lan2 ipv4 icmp)" -ge 6 ] || fail "host2's LAN did not see the decapsulated pings"
[ "$(wire lan2 ipv4 tcp)" -gt 0 ] || fail "host2's LAN did not see the decapsulated TCP"
[ "$(wire lan2 any esp)" = 0 ] || fail "ESP leaked onto host2's LAN"
for gw in gw1 gw2; do
  for spi in 13245 13246; do expect_sa_used $gw $spi; done
done
# The gateways' own addresses are outside the selectors: clear ICMP.
capture_start wan2 gw2 eth1
expect_ping gw1 20.0.0.2
capture_stop wan2
[ "$(wire wan2 ipv4 icmp)" -ge 6 ] || fail "gw1 -> gw2 (no policy) was not clear ICMP"
[ "$(wire wan2 any esp)" = 0 ] || fail "gw1 -> gw2 (no policy) was encrypted"
echo "VPN gateways: blowfish-cbc tunnel carries host1 <-> host2, only ESP on the WAN"

# --- 2. Leaf node: leaf - router - server ---
topo_ns leaf router server
topo_link leaf eth0 router eth0
topo_link router eth1 server eth0
topo_addr leaf eth0 10.0.1.5/24
topo_addr router eth0 10.0.1.1/24
topo_addr router eth1 10.0.9.1/24
topo_addr server eth0 10.0.9.2/24
topo_route leaf default 10.0.1.1
topo_route server default 10.0.9.1
topo_forward router
topo_settle leaf router server
leaf_sas='add 10.0.1.1 10.0.1.5 esp 1011 -m tunnel -E rijndael-cbc "rijndaeltest.001" ;
add 10.0.1.5 10.0.1.1 esp 1012 -m tunnel -E rijndael-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;'
setkey_ns leaf -c <<EOF || fail "leaf configuration"
$leaf_sas
spdadd 10.0.1.5/32 0.0.0.0/0 any -P out ipsec esp/tunnel/10.0.1.5-10.0.1.1/require;
spdadd 0.0.0.0/0 10.0.1.5/32 any -P in ipsec esp/tunnel/10.0.1.1-10.0.1.5/require;
EOF
# "On the router, swap out and in of the spdadd lines."
setkey_ns router -c <<EOF || fail "router configuration"
$leaf_sas
spdadd 10.0.1.5/32 0.0.0.0/0 any -P in ipsec esp/tunnel/10.0.1.5-10.0.1.1/require;
spdadd 0.0.0.0/0 10.0.1.5/32 any -P out ipsec esp/tunnel/10.0.1.1-10.0.1.5/require;
EOF
capture_start air router eth0
capture_start back router eth1
expect_ping leaf 10.0.1.1
expect_ping leaf 10.0.9.2
tcp_ok server 10.0.9.2 leaf $((128 * 1024))
capture_stop air
capture_stop back
[ "$(wire air ipv4 esp 1012)" -gt 0 ] || fail "no ESP SPI 1012 (leaf -> router)"
[ "$(wire air ipv4 esp 1011)" -gt 0 ] || fail "no ESP SPI 1011 (router -> leaf)"
for k in icmp tcp udp ipip; do
  [ "$(wire air any $k)" = 0 ] || fail "clear $k between leaf and router"
done
[ "$(wire back ipv4 icmp)" -ge 6 ] || fail "the server did not get clear pings from the router"
[ "$(wire back ipv4 tcp)" -gt 0 ] || fail "the server did not get clear TCP"
echo "leaf node: everything from 10.0.1.5 tunnelled to its router, clear behind it"
