# cost: 170 (seconds under TCG; selftests/run balances VMs by it)
# 100 unload/load cycles; kmemleak (checked by vm-run) must stay silent.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
for i in $(seq 1 100); do
  rmmod rxfrm || fail "rmmod #$i"
  loaded && fail "still loaded after rmmod #$i"
  insmod "$ROOT/rxfrm.ko" || fail "insmod #$i"
done
loaded || fail "not loaded at the end"
$PFKEY open || fail "PF_KEY socket after 100 cycles"
echo "100 cycles done"
