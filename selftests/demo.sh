#!/bin/bash
# `make demo`, inside the VM: what rxfrm does so far.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "rxfrm.ko is loaded"
lsmod | grep -E '^(Module|rxfrm)'
modinfo "$ROOT/rxfrm.ko" | grep -E '^(version|description|parm):'
step "it owns the PF_KEY socket family (15)"
$PFKEY open && echo "socket(AF_KEY, SOCK_RAW, PF_KEY_V2): ok"
step "one PF_KEY socket list per network namespace"
ip netns add demo && ip netns exec demo $PFKEY open && echo "socket in netns demo: ok"
ip netns del demo
step "kernel log"
dmesg | grep -i rxfrm
