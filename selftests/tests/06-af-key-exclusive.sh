# cost: 23 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# rxfrm and the kernel's af_key exclude each other (both want family 15).
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
algo="$KDIR/net/xfrm/xfrm_algo.ko"; afkey="$KDIR/net/key/af_key.ko"
[ -f "$afkey" ] || skip "af_key.ko not built in $KDIR"
! grep -q '^af_key ' /proc/modules || fail "af_key is loaded before the test"
# af_key needs xfrm_algo's symbols: without them its insmod fails for
# that reason, whoever holds family 15.
if [ ! -d /sys/module/xfrm_algo ]; then
  [ -f "$algo" ] || skip "xfrm_algo.ko (af_key needs it) not built in $KDIR"
  insmod "$algo" || fail "insmod xfrm_algo.ko (af_key depends on it)"
fi
# sock_register() refuses a taken family with EEXIST.
out=$(insmod "$afkey" 2>&1) && fail "af_key loaded while rxfrm holds PF_KEY"
echo "af_key while rxfrm is loaded: $out"
echo "$out" | grep -q 'File exists' || fail "af_key refused for another reason than family 15 being taken: $out"
rmmod rxfrm || fail "rmmod rxfrm"
expect "af_key loads once rxfrm is gone" insmod "$afkey"
out=$(insmod "$KO" 2>&1) && fail "rxfrm loaded while af_key holds PF_KEY"
echo "rxfrm while af_key is loaded: $out"
! loaded || fail "rxfrm in /proc/modules though its insmod failed"
dmesg | grep -q "PF_KEY (family 15) is already registered" || fail "no clear message"
rmmod af_key || fail "rmmod af_key"
expect "rxfrm loads again" insmod "$KO"
loaded || fail "rxfrm not in /proc/modules after its reload"
echo "mutual exclusion with af_key holds"
