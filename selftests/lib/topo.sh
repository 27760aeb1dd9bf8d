# Network namespace topologies over veth for the datapath tests (sourced
# after ktest.sh). rxfrm's SAD and SPD are per network namespace, so each
# namespace is one IPsec host: key it with `setkey_ns NS ...`.
#
#   topo_pair A B
#       A eth0 10.0.0.1/24 fd00::1/64  <->  B eth0 10.0.0.2/24 fd00::2/64
#
#   topo_gateways H1 G1 G2 H2 [WAN1 WAN2]     (WAN defaults 192.168.0.1/.2)
#       H1 eth0 10.0.1.1/24   fd01::1/64          default via G1
#       G1 eth0 10.0.1.254/24 fd01::fe/64, eth1 WAN1/24 fdc0::1/64
#       G2 eth1 WAN2/24 fdc0::2/64,   eth0 10.0.2.254/24 fd02::fe/64
#       H2 eth0 10.0.2.1/24   fd02::1/64          default via G2
#       G1 routes 10.0.2.0/24 and fd02::/64 over the WAN to G2 and back;
#       both gateways forward.
#
#   topo_line H1 GW H2     (one forwarding gateway; fewer processes: one
#                          `ip -batch` per namespace, fixed MAC addresses)
#       H1 eth0 10.0.1.1/24 fd01::1/64   default via GW
#       GW eth0 10.0.1.254/24 fd01::fe/64, eth1 10.0.2.254/24 fd02::fe/64
#       H2 eth0 10.0.2.1/24 fd02::1/64   default via GW
#
#   in_ns NS CMD...        run CMD in NS
#   setkey_ns NS ARGS...   run setkey in NS (e.g. setkey_ns a -c <<EOF)
#   at_exit CMD            run CMD (eval'd) on exit, before the teardown
#
# The building blocks (topo_ns, topo_link, topo_addr, topo_route,
# topo_forward, topo_settle) make other shapes. Every namespace made here
# is deleted on exit; one of the same name left by a killed test is
# deleted first. IPv6 addresses are added `nodad`, and each link's IPv6
# neighbours are pinned (permanent entries), so no Neighbour Discovery
# runs between the addresses an IPsec policy covers: ND going through (or
# being refused by) a policy is not what these tests are about.
# TOPO_KEEP=1 installs no trap (the caller cleans up; esp.py does).

TOPO_NS=()
TOPO_EXIT=()
TOPO_TRAP=0

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# in_ns_bg NS CMD...: CMD in NS in the background, $! its own pid. Not
# `in_ns ... &`: that backgrounds a subshell, and killing $! would leave
# CMD running.
in_ns_bg() { local ns=$1; shift; ip netns exec "$ns" "$@" & }
setkey_ns() { local ns=$1; shift; ip netns exec "$ns" "$SETKEY" "$@"; }
at_exit() { TOPO_EXIT+=("$1"); topo_trap; }

topo_trap() {
  if [ "$TOPO_TRAP" = 0 ] && [ "${TOPO_KEEP:-0}" != 1 ]; then
    trap topo_cleanup EXIT
    TOPO_TRAP=1
  fi
}

topo_cleanup() {
  local c ns
  for c in "${TOPO_EXIT[@]}"; do eval "$c" 2>/dev/null; done
  TOPO_EXIT=()
  for ns in "${TOPO_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  TOPO_NS=()
}

# topo_ns NS...: fresh namespaces with lo up, no DAD.
topo_ns() {
  local ns
  topo_trap
  for ns; do
    [ -e "/var/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
    ip netns add "$ns" || fail "ip netns add $ns"
    TOPO_NS+=("$ns")
    ip -n "$ns" link set lo up || fail "lo up in $ns"
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.router_solicitations=0 >/dev/null || fail "sysctl in $ns"
  done
}

# topo_link NS1 IF1 NS2 IF2: a veth pair, both ends up.
topo_link() {
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || fail "veth $1:$2 - $3:$4"
  ip -n "$1" link set "$2" up || fail "link up $1:$2"
  ip -n "$3" link set "$4" up || fail "link up $3:$4"
}

# topo_addr NS IF ADDR/PLEN...: IPv4 or (nodad) IPv6 addresses.
topo_addr() {
  local ns=$1 dev=$2 a; shift 2
  for a; do
    case "$a" in
      *:*) ip -n "$ns" -6 addr add "$a" dev "$dev" nodad || fail "addr $a on $ns:$dev";;
      *) ip -n "$ns" addr add "$a" dev "$dev" || fail "addr $a on $ns:$dev";;
    esac
  done
}

# topo_route NS DEST VIA: DEST may be `default` (family taken from VIA).
topo_route() {
  local fam=-4
  case "$3" in *:*) fam=-6;; esac
  ip -n "$1" "$fam" route add "$2" via "$3" || fail "route $2 via $3 in $1"
}

topo_forward() {
  local ns
  for ns; do
    in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null ||
      fail "forwarding in $ns"
  done
}

topo_mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# topo_pin6 NS IF ADDR PEER_NS PEER_IF: ADDR (the peer's) is reachable at
# the peer interface's MAC, permanently.
topo_pin6() {
  local mac
  mac=$(topo_mac "$4" "$5")
  [ -n "$mac" ] || fail "no MAC for $4:$5"
  ip -n "$1" -6 neigh replace "$3" lladdr "$mac" dev "$2" nud permanent || fail "neigh $3 in $1"
}

# topo_settle NS...: wait (at most 60 s) until every link has carrier and
# no IPv6 address is tentative.
topo_settled() {
  local ns
  for ns; do
    ip -n "$ns" -o link show | grep -v ' lo:' | grep -qE 'NO-CARRIER|state DOWN|LOWERLAYERDOWN' && return 1
    [ -n "$(ip -n "$ns" -6 addr show tentative)" ] && return 1
  done
  return 0
}
topo_settle() {
  local ns
  poll_until 60 topo_settled "$@" && return 0
  for ns; do ip -n "$ns" addr; done
  fail "links in $* did not come up within 60s"
}

topo_pair() {
  local a=$1 b=$2
  topo_ns "$a" "$b"
  topo_link "$a" eth0 "$b" eth0
  topo_addr "$a" eth0 10.0.0.1/24 fd00::1/64
  topo_addr "$b" eth0 10.0.0.2/24 fd00::2/64
  topo_pin6 "$a" eth0 fd00::2 "$b" eth0
  topo_pin6 "$b" eth0 fd00::1 "$a" eth0
  topo_settle "$a" "$b"
}

topo_gateways() {
  local h1=$1 g1=$2 g2=$3 h2=$4 w1=${5:-192.168.0.1} w2=${6:-192.168.0.2}
  topo_ns "$h1" "$g1" "$g2" "$h2"
  topo_link "$h1" eth0 "$g1" eth0
  topo_link "$g1" eth1 "$g2" eth1
  topo_link "$g2" eth0 "$h2" eth0
  topo_addr "$h1" eth0 10.0.1.1/24 fd01::1/64
  topo_addr "$g1" eth0 10.0.1.254/24 fd01::fe/64
  topo_addr "$g1" eth1 "$w1/24" fdc0::1/64
  topo_addr "$g2" eth1 "$w2/24" fdc0::2/64
  topo_addr "$g2" eth0 10.0.2.254/24 fd02::fe/64
  topo_addr "$h2" eth0 10.0.2.1/24 fd02::1/64
  topo_pin6 "$h1" eth0 fd01::fe "$g1" eth0
  topo_pin6 "$g1" eth0 fd01::1 "$h1" eth0
  topo_pin6 "$g1" eth1 fdc0::2 "$g2" eth1
  topo_pin6 "$g2" eth1 fdc0::1 "$g1" eth1
  topo_pin6 "$g2" eth0 fd02::1 "$h2" eth0
  topo_pin6 "$h2" eth0 fd02::fe "$g2" eth0
  topo_route "$h1" default 10.0.1.254
  topo_route "$h1" default fd01::fe
  topo_route "$h2" default 10.0.2.254
  topo_route "$h2" default fd02::fe
  topo_route "$g1" 10.0.2.0/24 "$w2"
  topo_route "$g1" fd02::/64 fdc0::2
  topo_route "$g2" 10.0.1.0/24 "$w1"
  topo_route "$g2" fd01::/64 fdc0::1
  topo_forward "$g1" "$g2"
  topo_settle "$h1" "$g1" "$g2" "$h2"
}

# topo_batch NS: the `ip` commands on stdin, in NS, in one process.
topo_batch() { ip -n "$1" -batch - || fail "ip -batch in $1"; }

topo_line() {
  local h1=$1 gw=$2 h2=$3
  local m_h1=02:00:0a:00:01:01 m_g0=02:00:0a:00:01:fe m_g1=02:00:0a:00:02:fe m_h2=02:00:0a:00:02:01
  topo_ns "$h1" "$gw" "$h2"
  ip link add eth0 netns "$h1" address $m_h1 type veth peer name eth0 netns "$gw" address $m_g0 ||
    fail "veth $h1 - $gw"
  ip link add eth0 netns "$h2" address $m_h2 type veth peer name eth1 netns "$gw" address $m_g1 ||
    fail "veth $h2 - $gw"
  topo_batch "$h1" <<EOF
link set eth0 up
addr add 10.0.1.1/24 dev eth0
addr add fd01::1/64 dev eth0 nodad
route add default via 10.0.1.254
route add default via fd01::fe
neigh replace fd01::fe lladdr $m_g0 dev eth0 nud permanent
EOF
  topo_batch "$h2" <<EOF
link set eth0 up
addr add 10.0.2.1/24 dev eth0
addr add fd02::1/64 dev eth0 nodad
route add default via 10.0.2.254
route add default via fd02::fe
neigh replace fd02::fe lladdr $m_g1 dev eth0 nud permanent
EOF
  topo_batch "$gw" <<EOF
link set eth0 up
link set eth1 up
addr add 10.0.1.254/24 dev eth0
addr add fd01::fe/64 dev eth0 nodad
addr add 10.0.2.254/24 dev eth1
addr add fd02::fe/64 dev eth1 nodad
neigh replace fd01::1 lladdr $m_h1 dev eth0 nud permanent
neigh replace fd02::1 lladdr $m_h2 dev eth1 nud permanent
EOF
  topo_forward "$gw"
  topo_settle "$h1" "$gw" "$h2"
}
