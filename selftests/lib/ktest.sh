# Sourced by the VM tests: helpers and the paths vm-run exports.
# Exit codes: 0 pass, 4 skip (kselftest KSFT_SKIP), anything else fails.
set -u
ROOT=${RXFRM_ROOT:?run through selftests/run or vm-run}
KDIR=${RXFRM_KDIR:?}
SETKEY=${RXFRM_SETKEY:-$ROOT/target/release/setkey}
PFKEY="python3 $ROOT/selftests/lib/pfkey.py"

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 4; }
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() { local d=$1; shift; "$@" || fail "$d (command: $*)"; }
# expect_fail DESCRIPTION COMMAND...: the command must fail.
expect_fail() { local d=$1; shift; if "$@"; then fail "$d (unexpectedly succeeded: $*)"; fi; }
loaded() { grep -q '^rxfrm ' /proc/modules; }
