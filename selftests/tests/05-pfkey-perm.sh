# cost: 33 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# PF_KEY needs CAP_NET_ADMIN; wrong type or protocol is refused like af_key.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
expect "root may open" $PFKEY open
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
      python3 "$ROOT/selftests/lib/pfkey.py" open 2>&1) && fail "unprivileged open succeeded"
echo "$out" | grep -q 'errno=1\b' || fail "unprivileged: want EPERM, got: $out"
out=$($PFKEY open-type dgram 2>&1) && fail "SOCK_DGRAM accepted"
echo "$out" | grep -q 'errno=94\b' || fail "SOCK_DGRAM: want ESOCKTNOSUPPORT, got: $out"
out=$($PFKEY open-proto 1 2>&1) && fail "protocol 1 accepted"
echo "$out" | grep -q 'errno=93\b' || fail "protocol 1: want EPROTONOSUPPORT, got: $out"
echo "EPERM, ESOCKTNOSUPPORT, EPROTONOSUPPORT as af_key"
