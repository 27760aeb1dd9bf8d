#!/usr/bin/env bash
# Builds rxfrm.ko against the cached kernel; any compiler warning fails.
#   scripts/build-module.sh            the debug test kernel; ./rxfrm.ko
#   scripts/build-module.sh --release  the benchmark kernel (kernel.sh
#       --release). 6.12 Kbuild has no MO=, so the sources are copied
#       (rsync, build products kept for incremental builds) into
#       KDIR/.rxfrm-module and built there: the repo's debug rxfrm.ko and
#       its objects are never touched. Prints the .ko path last.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
release=0
[ "${1:-}" = --release ] && release=1
if [ $release = 1 ]; then
  kdir=$("$here/scripts/kernel.sh" --release --path)
  src="$kdir/.rxfrm-module"
else
  kdir=$("$here/scripts/kernel.sh" --path)
  src="$here"
fi
[ -f "$kdir/.rxfrm-built" ] || { echo "build-module: kernel not built in $kdir (make kernel / make bench)" >&2; exit 1; }
if [ $release = 1 ]; then
  mkdir -p "$src"
  # Only what the module build reads; generated and built files are
  # excluded, so --delete leaves the build dir's own products alone.
  rsync -a --delete \
    --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
    --exclude='.*.cmd' --exclude='modules.order' --exclude='Module.symvers' \
    --exclude='/rust/sys/bindings_generated.rs' --exclude='*.d' --exclude='.*.d' \
    --include='/Kbuild' --include='/Kconfig' --include='/Cargo.toml' \
    --include='/include/***' --include='/rust/***' --exclude='*' \
    "$here/" "$src/"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -C "$kdir" M="$src" LLVM=1 RUSTC="$RXFRM_RUSTC" -j"$(nproc)" modules >"$log" 2>&1; then
  cat "$log" >&2; echo "build-module: FAILED" >&2; exit 1
fi
if grep -E -i '(^|[^-])warning' "$log" >&2; then
  echo "build-module: warnings are errors here" >&2; exit 1
fi
echo "build-module: $src/rxfrm.ko"
