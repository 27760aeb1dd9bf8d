# cost: 3 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Deliberately fails: `selftests/run --canary` proves a failing test turns
# the whole run red. Not in the default set.
echo "canary: failing on purpose"
exit 1
