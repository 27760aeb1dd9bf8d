#!/bin/bash
# kselftest-style runner, inside the VM: runs each test script, prints TAP.
# A test passes with exit 0, is skipped with exit 4 (KSFT_SKIP), fails
# otherwise — and also fails when the kernel log shows a problem during it.
#   runner.sh TEST...
. "$(dirname "$0")/klog.sh"
n=0
echo "TAP version 13"
echo "1..$#"
for t in "$@"; do
  n=$((n + 1))
  name=$(basename "${t%.*}")
  dmesg -c >/dev/null 2>&1
  start=$(date +%s)
  case "$t" in *.py) run=(python3 "$t");; *) run=(bash "$t");; esac
  # Output to a file, not $(...): a test stuck in the kernel leaves a
  # child in D state that keeps a pipe open and would block the runner
  # for ever. The file is in the host-visible run directory, so a slow
  # test can be watched while it runs.
  out=${RXFRM_RUN:-/tmp}/test.out
  timeout -k 30 "${RXFRM_TEST_TIMEOUT:-1800}" "${run[@]}" >"$out" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    # What the test's processes were blocked on: sysrq-w dumps the tasks
    # in D state to the kernel log.
    echo "# $name: timed out after ${secs}s; blocked tasks and kernel log tail:"
    echo w > /proc/sysrq-trigger 2>/dev/null
    ps -eo pid,stat,wchan:32,args | awk '$2 ~ /D/' | sed 's/^/#   /'
    dmesg 2>/dev/null | tail -120 | sed 's/^/#   /'
  fi
  klog=$(dmesg -c 2>/dev/null | klog_bad)
  sed 's/^/# /' "$out"
  if [ -n "$klog" ]; then
    echo "# kernel log during $name:"; echo "$klog" | sed 's/^/# /'
    rc=1
  fi
  case $rc in
    0) echo "ok $n $name # ${secs}s";;
    4) echo "ok $n $name # SKIP";;
    *) echo "not ok $n $name # exit $rc, ${secs}s";;
  esac
done
exit 0
