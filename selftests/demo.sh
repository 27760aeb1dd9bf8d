#!/bin/bash
# `make demo`, inside the VM: what rxfrm does.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m# %s\033[0m\n' "$*"; "$@"; }

step "rxfrm.ko is loaded and owns the PF_KEY socket family (15)"
lsmod | grep -E '^(Module|rxfrm)'
modinfo "$ROOT/rxfrm.ko" | grep -E '^(version|description|parm):'

step "keying by hand: the NetBSD IPsec FAQ's host-to-host example, through setkey"
cat "$ROOT/selftests/seed/h2h-3des-a.conf"
show "$SETKEY" -f "$ROOT/selftests/seed/h2h-3des-a.conf"

step "the SAD (setkey -D) and the SPD (setkey -DP), in ipsec-tools' format"
show "$SETKEY" -D
show "$SETKEY" -DP

step "the kernel refuses what af_key refuses"
printf 'add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";\n' | "$SETKEY" -c
echo "(exit status $?)"

step "each network namespace has its own tables"
ip netns add demo
show ip netns exec demo "$SETKEY" -D
ip netns del demo

step "traffic: the same FAQ example between two namespaces on a veth pair"
ip netns add node; ip netns add peer
ip link add eth0 netns node type veth peer name eth0 netns peer
ip -n node addr add 10.1.1.1/32 dev eth0; ip -n peer addr add 20.1.1.1/32 dev eth0
for ns in node peer; do ip -n $ns link set lo up; ip -n $ns link set eth0 up; done
ip -n node route add 20.1.1.1/32 dev eth0; ip -n peer route add 10.1.1.1/32 dev eth0
show ip netns exec node "$SETKEY" -f "$ROOT/selftests/seed/h2h-3des-a.conf"
show ip netns exec peer "$SETKEY" -f "$ROOT/selftests/seed/h2h-3des-b.conf"
show ip netns exec node ping -c 3 20.1.1.1
step "the SAs counted the traffic (setkey -D in the node namespace)"
show ip netns exec node "$SETKEY" -D
step "datapath counters (/proc/net/rxfrm_stat, Linux xfrm_stat names; non-zero only)"
ip netns exec node awk '$2 != 0' /proc/net/rxfrm_stat; ip netns exec peer awk '$2 != 0' /proc/net/rxfrm_stat
echo "(counters not listed are 0)"

step "ESP and AH on one flow: the FAQ's h2h-esp-ah example (AH outermost), both directions"
cat "$ROOT/selftests/seed/h2h-esp-ah.conf"
for ns in node peer; do ip netns exec $ns "$SETKEY" -F; ip netns exec $ns "$SETKEY" -FP; done
show ip netns exec node "$SETKEY" -f "$ROOT/selftests/seed/h2h-esp-ah.conf"
# The peer: the same SAs, and the FAQ's policy for its own direction.
{ grep '^add' "$ROOT/selftests/seed/h2h-esp-ah.conf"
  echo 'spdadd 20.1.1.1 10.1.1.1 any -P out ipsec esp/transport//use ah/transport//use;'
} | ip netns exec peer "$SETKEY" -c
ip netns exec peer timeout 30 tcpdump -c 2 -ni eth0 2>/dev/null > /tmp/demo-wire.txt &
show ip netns exec node ping -c 3 20.1.1.1
wait
echo "# on the wire (tcpdump on the peer):"; cat /tmp/demo-wire.txt
step "both SAs of each direction counted the traffic: ESP and AH (setkey -D on the node)"
show ip netns exec node "$SETKEY" -D
ip netns del node; ip netns del peer

step "flush"
show "$SETKEY" -F
show "$SETKEY" -FP
show "$SETKEY" -D
