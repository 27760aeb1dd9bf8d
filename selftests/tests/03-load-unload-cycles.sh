# cost: 135 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Unload/load cycles (RXFRM_LOAD_CYCLES, 25 by default: each takes ~5 s
# under TCG on the debug kernel); kmemleak (checked by vm-run) must stay
# silent.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
n=${RXFRM_LOAD_CYCLES:-25}
for i in $(seq 1 "$n"); do
  rmmod rxfrm || fail "rmmod #$i"
  loaded && fail "still loaded after rmmod #$i"
  insmod "$KO" || fail "insmod #$i"
done
loaded || fail "not loaded at the end"
$PFKEY open || fail "PF_KEY socket after $n cycles"
echo "$n cycles done"
