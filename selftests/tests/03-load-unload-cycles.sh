# 100 unload/load cycles, with a namespace and an open-then-closed PF_KEY
# socket each time; kmemleak (checked by vm-run) must stay silent.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
for i in $(seq 1 100); do
  rmmod rxfrm || fail "rmmod #$i"
  loaded && fail "still loaded after rmmod #$i"
  insmod "$ROOT/rxfrm.ko" || fail "insmod #$i"
  if [ $((i % 10)) = 0 ]; then
    $PFKEY open || fail "socket after cycle $i"
  fi
done
loaded || fail "not loaded at the end"
echo "100 cycles done"
