#!/bin/bash
# Runs inside the VM (as root): loads rxfrm, runs the command, then checks the
# kernel log and kmemleak. Results go to files in the shared run directory,
# which is more robust than virtme's console ports (no udevd here).
#   guest-init.sh RUNDIR LOAD(0|1)     (the command is in RUNDIR/cmd, quoted)
run=$1; load=$2; shift 2
eval "set -- $(cat "$run/cmd")"
root=$(cd "$(dirname "$0")/../.." && pwd)
exec >"$run/out.log" 2>&1
# The host's RXFRM_* settings (vm-run writes them).
[ -f "$run/env" ] && . "$run/env"
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
export RXFRM_ROOT="$root" RXFRM_KDIR="$(cat "$run/kdir")" RXFRM_RUN="$run"
export RXFRM_SETKEY="$root/target/release/setkey"
. "$root/selftests/lib/klog.sh"

mount -t debugfs none /sys/kernel/debug 2>/dev/null
# Everything the tests use is built in; a request_module() for an algorithm
# this kernel lacks would exec modprobe, seconds under TCG. Fail it fast.
echo > /proc/sys/kernel/modprobe
# Objects leaked before the command (boot) are not ours to report.
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
dmesg -c >/dev/null 2>&1

rc=0
if [ "$load" = 1 ]; then
  insmod "$root/rxfrm.ko" || { echo "vm-run: insmod rxfrm.ko failed"; rc=1; }
fi
if [ $rc = 0 ]; then
  "$@"
  rc=$?
fi

# kmemleak reports an object only from a scan that starts 5 s after its
# allocation (MSECS_MIN_AGE), the scan before having seen it unchanged: so
# one scan now, and the second once 6 s have passed since the command
# ended (elapsed time, not readiness; under TCG the first scan takes that
# long by itself), or a leak in the command's last seconds goes unreported.
if [ -w /sys/kernel/debug/kmemleak ]; then
  ended=$SECONDS
  echo scan > /sys/kernel/debug/kmemleak
  while [ $((SECONDS - ended)) -lt 6 ]; do sleep 0.2; done
  echo scan > /sys/kernel/debug/kmemleak
  leaks=$(cat /sys/kernel/debug/kmemleak)
  if [ -n "$leaks" ]; then
    echo "vm-run: kmemleak reports:"; echo "$leaks" | head -60; [ $rc = 0 ] && rc=1
  fi
fi
dmesg > "$run/dmesg.log" 2>&1
if klog_bad < "$run/dmesg.log" >"$run/bad.log"; then
  echo "vm-run: kernel log shows a problem:"; cat "$run/bad.log"; head -80 "$run/dmesg.log"
  [ $rc = 0 ] && rc=1
fi
echo $rc > "$run/rc"
sync
