#!/usr/bin/env bash
# Builds (once) and prints the path of the rxfrm test kernel tree.
# The tree lives outside the repo, keyed by kernel version + config fragment
# hash, and is rebuilt only when one of them changes.
#   scripts/kernel.sh          build if needed, print KDIR on stdout
#   scripts/kernel.sh --path   print KDIR without building
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"

tarball=/usr/src/linux-source-6.12.tar.xz
frag="$here/kernel/rxfrm.config"
cache=${RXFRM_CACHE:-$HOME/.cache/rxfrm}
[ -f "$tarball" ] || { echo "kernel.sh: $tarball missing: run scripts/setup.sh" >&2; exit 1; }

# The Debian package version names the exact source (6.12.N).
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | tr -c "A-Za-z0-9.\n" _ || echo unknown)
hash=$( (cat "$frag"; echo "$ver") | sha256sum | cut -c1-12)
kdir="$cache/linux-6.12-$ver-$hash"
if [ "${1:-}" = --path ]; then echo "$kdir"; exit 0; fi
if [ -f "$kdir/.rxfrm-built" ]; then echo "$kdir"; exit 0; fi

log() { printf 'kernel.sh: %s\n' "$*" >&2; }
mkdir -p "$cache"
if [ ! -f "$kdir/Makefile" ]; then
  log "unpacking $tarball into $kdir"
  tmp="$kdir.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  tar -xf "$tarball" -C "$tmp" --strip-components=1
  mv "$tmp" "$kdir"
fi
cd "$kdir"
kmake() { make LLVM=1 RUSTC="$RXFRM_RUSTC" "$@"; }
kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig
# Kconfig silently drops options whose dependencies are unmet: insist.
bad=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue;; esac
  key=${line%%=*}; val=${line#*=}
  if [ "$val" = n ]; then
    grep -q "^$key=" .config && { log "config: $line did not stick"; bad=1; }
  else
    grep -qx "$line" .config || { log "config: $line did not stick"; bad=1; }
  fi
done < "$frag"
[ $bad = 0 ] || exit 1
kmake -s rustavailable >&2
log "building kernel in $kdir (log: $kdir/build.log)"
start=$(date +%s)
if ! kmake -j"$(nproc)" bzImage modules > build.log 2>&1; then
  tail -40 build.log >&2; exit 1
fi
echo "$(( $(date +%s) - start ))" > .rxfrm-build-seconds
log "kernel built in $(cat .rxfrm-build-seconds) s"
touch .rxfrm-built
echo "$kdir"
