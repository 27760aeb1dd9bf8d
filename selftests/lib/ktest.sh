# Sourced by the VM tests: helpers and the paths vm-run exports.
# Exit codes: 0 pass, 4 skip (kselftest KSFT_SKIP), anything else fails.
set -u
ROOT=${RXFRM_ROOT:?run through selftests/run or vm-run}
KDIR=${RXFRM_KDIR:?}
SETKEY=${RXFRM_SETKEY:-$ROOT/target/release/setkey}
# The module a test (re)loads: a revert proof points it at a variant.
KO=${RXFRM_KO:-$ROOT/rxfrm.ko}
PFKEY="python3 $ROOT/selftests/lib/pfkey.py"

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 4; }
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() { local d=$1; shift; "$@" || fail "$d (command: $*)"; }
# expect_fail DESCRIPTION COMMAND...: the command must fail.
expect_fail() { local d=$1; shift; if "$@"; then fail "$d (unexpectedly succeeded: $*)"; fi; }
loaded() { grep -q '^rxfrm ' /proc/modules; }

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.1 s
# until it succeeds. A readiness wait, not a sleep: it returns as soon as
# the state is there, and fails the test loudly (DESCRIPTION, the time
# waited, the command) if it is not after SECONDS. COMMAND may call fail
# itself (e.g. when the process it waits for died).
# poll_until SECONDS COMMAND... is the same, returning 1 instead.
poll_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
wait_until() {
  local secs=$1 what=$2; shift 2
  poll_until "$secs" "$@" || fail "$what: still not so after ${secs}s (waited for: $*)"
}

# monitor_start NS FILE: `setkey -x` in namespace NS ("" for this one),
# its output in FILE, in the background (pid in MONITOR_PID; the caller
# kills it). Returns once it is promiscuous: setkey -x first sends
# X_PROMISC, then prints each message it receives, the first being that
# X_PROMISC's echo, so its first line means the kernel has made it
# promiscuous.
MONITOR_PID=
monitor_start() {
  local ns=$1 out=$2
  : >"$out"
  if [ -n "$ns" ]; then
    ip netns exec "$ns" "$SETKEY" -x >"$out" 2>&1 &
  else
    "$SETKEY" -x >"$out" 2>&1 &
  fi
  MONITOR_PID=$!
  poll_until 60 monitor_ready "$out" "$MONITOR_PID" || {
    kill "$MONITOR_PID" 2>/dev/null
    fail "setkey -x in ${ns:-this namespace} printed nothing within 60s (not promiscuous)"
  }
}
monitor_ready() {
  kill -0 "$2" 2>/dev/null || fail "setkey -x (pid $2) exited before it was ready: $(cat "$1")"
  [ -s "$1" ]
}
