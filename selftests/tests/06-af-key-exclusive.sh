# cost: 8 (seconds under TCG; selftests/run balances VMs by it)
# rxfrm and the kernel's af_key exclude each other (both want family 15).
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
algo="$KDIR/net/xfrm/xfrm_algo.ko"; afkey="$KDIR/net/key/af_key.ko"
[ -f "$afkey" ] || skip "af_key.ko not built in $KDIR"
[ -f "$algo" ] && { insmod "$algo" 2>/dev/null || true; }
expect_fail "af_key loads while rxfrm holds PF_KEY" insmod "$afkey"
rmmod rxfrm || fail "rmmod rxfrm"
expect "af_key loads once rxfrm is gone" insmod "$afkey"
expect_fail "rxfrm loads while af_key holds PF_KEY" insmod "$ROOT/rxfrm.ko"
dmesg | grep -q "PF_KEY (family 15) is already registered" || fail "no clear message"
rmmod af_key || fail "rmmod af_key"
expect "rxfrm loads again" insmod "$ROOT/rxfrm.ko"
echo "mutual exclusion with af_key holds"
