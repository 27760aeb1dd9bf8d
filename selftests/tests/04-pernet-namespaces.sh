# Per-namespace state: 50 namespaces each get their own PF_KEY socket list;
# destroying them (with and without sockets open) is clean.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
for i in $(seq 1 50); do ip netns add rx$i || fail "netns add $i"; done
for i in $(seq 1 50); do
  ip netns exec rx$i $PFKEY open || fail "PF_KEY socket in rx$i"
done
# Hold sockets open in 10 namespaces while they are deleted: the socket
# keeps its namespace alive until it closes.
pids=()
for i in $(seq 1 10); do
  ip netns exec rx$i $PFKEY hold 3 & pids+=($!)
done
sleep 1
for i in $(seq 1 50); do ip netns del rx$i || fail "netns del $i"; done
for p in "${pids[@]}"; do wait "$p" || fail "holder $p"; done
sleep 2
echo "50 namespaces created and destroyed"
