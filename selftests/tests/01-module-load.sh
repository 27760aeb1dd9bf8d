# cost: 10 (seconds under TCG; selftests/run balances VMs by it)
# rxfrm.ko is loaded by vm-run, owns PF_KEY, and exposes its parameters.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
expect "rxfrm in lsmod" sh -c 'lsmod | grep -q "^rxfrm "'
expect "load message" sh -c 'dmesg | grep -q "rxfrm .* loaded: PF_KEY v2 ready" || grep -q rxfrm /proc/modules'
for p in max_states max_policies; do
  [ -r /sys/module/rxfrm/parameters/$p ] || fail "parameter $p missing"
done
[ "$(cat /sys/module/rxfrm/parameters/max_states)" = 1048576 ] || fail "max_states default"
echo 4096 > /sys/module/rxfrm/parameters/max_states || fail "max_states not writable"
[ "$(cat /sys/module/rxfrm/parameters/max_states)" = 4096 ] || fail "max_states write did not stick"
echo 1048576 > /sys/module/rxfrm/parameters/max_states
expect "PF_KEY socket opens" $PFKEY open
echo "rxfrm loaded, parameters present, PF_KEY socket opens"
