# cost: 40 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# What loading rxfrm.ko must produce, each its own assertion: the load
# banner "rxfrm VERSION loaded: ... PF_KEY v2 ..." (VERSION as modinfo
# says), the module live in /proc/modules, a PF_KEY (family 15) socket,
# /proc/net/rxfrm_stat; and its parameters. vm-run loaded the module
# before the runner emptied the kernel log, so the test loads it again.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
ver=$(modinfo -F version "$KO") || fail "modinfo -F version failed"
[ -n "$ver" ] || fail "rxfrm.ko has no version in modinfo"
loaded || fail "rxfrm is not loaded (vm-run loads it)"
rmmod rxfrm || fail "rmmod rxfrm before reloading it"
! loaded || fail "rxfrm still in /proc/modules after rmmod"
mark="rxfrm-selftest-01-$$-$RANDOM"
echo "$mark" >/dev/kmsg || fail "cannot write a marker to /dev/kmsg"
insmod "$KO" || fail "insmod rxfrm.ko"
# The kernel log since the marker: what this load printed.
log=$(dmesg | sed -n "/$mark/,\$p" | sed 1d)

# 1. The banner, once, with the module's version.
v=$(printf '%s' "$ver" | sed 's/[.[\*^$]/\\&/g')
n=$(printf '%s\n' "$log" | grep -cE "(^|\] )(rxfrm: )?rxfrm $v loaded: .*PF_KEY v2")
[ "$n" = 1 ] || { echo "kernel log since insmod:"; echo "$log"; fail "load banner 'rxfrm $ver loaded: ... PF_KEY v2 ...' printed $n times, want once"; }
echo "banner: $(printf '%s\n' "$log" | grep -E "rxfrm $v loaded")"

# 2. Live in /proc/modules.
grep -qE '^rxfrm [0-9]+ [0-9]+ .* Live 0x' /proc/modules ||
  fail "rxfrm not Live in /proc/modules: '$(grep '^rxfrm ' /proc/modules)'"
[ "$(cat /sys/module/rxfrm/initstate 2>/dev/null)" = live ] ||
  fail "/sys/module/rxfrm/initstate is '$(cat /sys/module/rxfrm/initstate 2>&1)', want live"

# 3. PF_KEY family 15 (SOCK_RAW, PF_KEY_V2) can be created.
out=$($PFKEY open 2>&1) || fail "socket(15, SOCK_RAW, PF_KEY_V2) after load: $out"

# 4. The namespace's counters.
[ -r /proc/net/rxfrm_stat ] || fail "/proc/net/rxfrm_stat missing after load"
grep -qE '^XfrmInNoStates[[:space:]]+[0-9]+$' /proc/net/rxfrm_stat ||
  fail "/proc/net/rxfrm_stat lacks an XfrmInNoStates counter: '$(head -3 /proc/net/rxfrm_stat)'"

# Parameters.
for p in max_states max_policies; do
  [ -r /sys/module/rxfrm/parameters/$p ] || fail "parameter $p missing"
done
[ "$(cat /sys/module/rxfrm/parameters/max_states)" = 1048576 ] || fail "max_states default"
echo 4096 > /sys/module/rxfrm/parameters/max_states || fail "max_states not writable"
[ "$(cat /sys/module/rxfrm/parameters/max_states)" = 4096 ] || fail "max_states write did not stick"
echo 1048576 > /sys/module/rxfrm/parameters/max_states || fail "max_states not restored"
echo "rxfrm $ver loaded: banner, Live, PF_KEY socket, rxfrm_stat, parameters"
