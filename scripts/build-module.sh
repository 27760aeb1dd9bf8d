#!/usr/bin/env bash
# Builds rxfrm.ko against the cached kernel; any compiler warning fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
kdir=$("$here/scripts/kernel.sh" --path)
[ -f "$kdir/.rxfrm-built" ] || { echo "build-module: kernel not built (make kernel)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -C "$kdir" M="$here" LLVM=1 RUSTC="$RXFRM_RUSTC" -j"$(nproc)" modules >"$log" 2>&1; then
  cat "$log" >&2; echo "build-module: FAILED" >&2; exit 1
fi
if grep -E -i '(^|[^-])warning' "$log" >&2; then
  echo "build-module: warnings are errors here" >&2; exit 1
fi
echo "build-module: $here/rxfrm.ko"
