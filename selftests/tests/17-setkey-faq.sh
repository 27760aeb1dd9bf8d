# cost: 268 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# setkey end to end: every setkey example of the NetBSD IPsec FAQ seed is
# accepted by rxfrm (each in its own namespace, as on its own host), -D/-DP
# print the ipsec-tools format, -F/-FP flush, and failures exit non-zero.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
[ -x "$SETKEY" ] || fail "setkey not built ($SETKEY)"
for conf in "$ROOT"/selftests/seed/*.conf; do
  name=$(basename "$conf" .conf)
  ip netns add "sk-$name" || fail "netns $name"
  out=$(ip netns exec "sk-$name" "$SETKEY" -f "$conf" 2>&1) || { echo "$out"; fail "setkey -f $name.conf"; }
  # setkey runs in RFC mode by default, as ipsec-tools on Linux: every
  # inbound policy also gets a fwd twin.
  adds=$(grep -c '^add ' "$conf")
  spds=$(( $(grep -c '^spdadd ' "$conf") + $(grep -c '^spdadd .* -P in ' "$conf") ))
  got_sa=$(ip netns exec "sk-$name" "$SETKEY" -D | grep -cE '^\s+(esp|ah|ipcomp) mode=')
  got_sp=$(ip netns exec "sk-$name" "$SETKEY" -DP | grep -cE '^\s+(in|out|fwd) ')
  [ "$got_sa" = "$adds" ] || fail "$name: $got_sa SAs listed, want $adds"
  [ "$got_sp" = "$spds" ] || fail "$name: $got_sp policies listed, want $spds"
  echo "$name: $adds SAs, $spds policies"
done

ns=sk-h2h-3des-a
d=$(ip netns exec $ns "$SETKEY" -D)
echo "$d" | head -20
echo "$d" | grep -qE '^10\.1\.1\.1 20\.1\.1\.1 ?$' || fail "-D address line"
echo "$d" | grep -qE '^\s+esp mode=transport spi=9876\(0x00002694\) reqid=0\(0x00000000\)$' || fail "-D esp line"
echo "$d" | grep -qE '^\s+E: 3des-cbc  686f6765 686f6765 686f6765 686f6765 686f6765 686f6765$' || fail "-D key line"
echo "$d" | grep -qE 'state=mature' || fail "-D state"
p=$(ip netns exec $ns "$SETKEY" -DP)
echo "$p"
echo "$p" | grep -q '^10\.1\.1\.1\[any\] 20\.1\.1\.1\[any\] 255$\|^10\.1\.1\.1\[any\] 20\.1\.1\.1\[any\] any$' || fail "-DP selector line"
echo "$p" | grep -qE '^\s+esp/transport//use$' || fail "-DP request line"
echo "$p" | grep -qE '^\s+in prio def ipsec$' || fail "-DP inbound policy"
echo "$p" | grep -qE '^\s+fwd prio def ipsec$' || fail "-DP fwd twin of the inbound policy"

# Errors: a duplicate add fails (EEXIST) and the exit status says so; a
# bad key length is caught before anything is sent.
out=$(printf 'add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";\n' | ip netns exec $ns "$SETKEY" -c 2>&1) && fail "duplicate add exited 0"
echo "$out" | grep -q 'File exists' || fail "duplicate add message: $out"
out=$(printf 'add 10.1.1.1 20.1.1.1 esp 1 -E 3des-cbc "short";\n' | ip netns exec $ns "$SETKEY" -c 2>&1) && fail "short key exited 0"
echo "$out" | grep -q '1:' || fail "short key message lacks a position: $out"
out=$(printf 'delete 10.1.1.1 20.1.1.1 esp 4242;\n' | ip netns exec $ns "$SETKEY" -c 2>&1) && fail "delete of a missing SA exited 0"
echo "$out" | grep -q 'No such process' || fail "missing SA message (af_key: ESRCH): $out"

# get, delete, deleteall, -F, -FP.
ip netns exec $ns "$SETKEY" -c <<<'get 10.1.1.1 20.1.1.1 esp 9876;' | grep -q 'spi=9876' || fail "get"
ip netns exec $ns "$SETKEY" -c <<<'delete 10.1.1.1 20.1.1.1 esp 9876;' || fail "delete"
ip netns exec $ns "$SETKEY" -D | grep -q 'spi=9876' && fail "SA still there after delete"
ip netns exec $ns "$SETKEY" -F || fail "-F"
ip netns exec $ns "$SETKEY" -D | grep -q 'No SAD entries.' || fail "SAD not empty after -F"
ip netns exec $ns "$SETKEY" -FP || fail "-FP"
ip netns exec $ns "$SETKEY" -DP | grep -q 'No SPD entries.' || fail "SPD not empty after -FP"

# -x sees another process's messages (X_PROMISC), as kdebug_sadb prints
# them (a sadb_msg line, then its sadb_sa): the ADD (type 3) of SPI 333,
# which af_key broadcasts to every socket, and the GET (type 5) reply,
# which goes to its sender only, so -x sees it only by being promiscuous.
xlog=$(mktemp /tmp/sk-x.XXXXXX)
monitor_start $ns "$xlog"
trap 'kill $MONITOR_PID 2>/dev/null; rm -f "$xlog"' EXIT
ip netns exec $ns "$SETKEY" -c <<<'add 1.1.1.1 2.2.2.2 esp 333 -E null;' || fail "add for -x"
ip netns exec $ns "$SETKEY" -c <<<'get 1.1.1.1 2.2.2.2 esp 333;' >/dev/null || fail "get for -x"
# saw TYPE: the log holds a message of TYPE, errno 0, for SPI 333.
saw() {
  awk -v t="$1" '/^sadb_msg[{]/ { m = ($0 ~ (" type=" t " errno=0 satype=3$")) }
       m && /^sadb_sa[{]/ && / spi=333 / { found = 1 }
       END { exit !found }' "$xlog"
}
poll_until 60 saw 3 || { cat "$xlog"; fail "-x did not show the ADD of SPI 333 within 60s"; }
poll_until 60 saw 5 || { cat "$xlog"; fail "-x did not show the GET reply for SPI 333 (sent to its sender only) within 60s"; }
kill $MONITOR_PID; wait $MONITOR_PID 2>/dev/null
for conf in "$ROOT"/selftests/seed/*.conf; do ip netns del "sk-$(basename "$conf" .conf)"; done
echo "setkey: FAQ examples accepted; dumps, errors, flushes and monitor work"
