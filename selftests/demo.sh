#!/bin/bash
# `make demo`, inside the VM: what rxfrm does so far.
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

step "flush"
show "$SETKEY" -F
show "$SETKEY" -FP
show "$SETKEY" -D
