#!/bin/bash
# In the VM: run.sh DIR rN:TEST... runs each TEST against DIR/rN.ko (one fix
# reverted), printing the runner's TAP per pair; a test that reloads the
# module loads RXFRM_KO, the variant. From the host:
#   selftests/vm-run --no-module -- bash selftests/revert/run.sh DIR r6:$PWD/selftests/tests/51-esp-macvlan.sh
dir=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
for pair in "$@"; do
  r=${pair%%:*} t=${pair#*:}
  echo "=== proof $r with $(basename $t)"
  for i in $(seq 50); do grep -q '^rxfrm ' /proc/modules || break; rmmod rxfrm 2>/dev/null || sleep 0.2; done
  insmod "$dir/$r.ko" || { echo "insmod $r failed"; continue; }
  RXFRM_KO=$dir/$r.ko bash "$root/selftests/lib/runner.sh" "$t" | sed "s/^/[$r] /"
done
