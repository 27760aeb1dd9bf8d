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
  out=$(timeout "${RXFRM_TEST_TIMEOUT:-1800}" "${run[@]}" 2>&1)
  rc=$?
  secs=$(( $(date +%s) - start ))
  klog=$(dmesg -c 2>/dev/null | klog_bad)
  echo "$out" | sed 's/^/# /'
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
