#!/usr/bin/env bash
# Builds (once) and prints the path of the rxfrm test kernel tree.
# The tree lives outside the repo, keyed by kernel version + config fragment
# hash, and is rebuilt only when one of them changes.
#   scripts/kernel.sh          build if needed, print KDIR on stdout
#   scripts/kernel.sh --path   print KDIR without building
#   --release (with or without --path): the benchmark kernel instead, the
#   same fragment with kernel/release.config applied on top (debug options
#   off, profiling on), in its own tree keyed by version + both fragments.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"

release=0; path_only=0
for a; do
  case "$a" in
    --release) release=1;;
    --path) path_only=1;;
    *) echo "kernel.sh: unknown argument $a" >&2; exit 2;;
  esac
done

tarball=/usr/src/linux-source-6.12.tar.xz
frags=("$here/kernel/rxfrm.config")
[ $release = 0 ] || frags+=("$here/kernel/release.config")
cache=${RXFRM_CACHE:-$HOME/.cache/rxfrm}
[ -f "$tarball" ] || { echo "kernel.sh: $tarball missing: run scripts/setup.sh" >&2; exit 1; }

# The Debian package version names the exact source (6.12.N).
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | tr -c "A-Za-z0-9.\n" _ || echo unknown)
hash=$( (cat "${frags[@]}"; echo "$ver") | sha256sum | cut -c1-12)
if [ $release = 0 ]; then
  kdir="$cache/linux-6.12-$ver-$hash"
else
  kdir="$cache/linux-6.12-$ver-release-$hash"
fi
if [ $path_only = 1 ]; then echo "$kdir"; exit 0; fi
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
# The effective fragment: every fragment in order, a later assignment of an
# option replacing an earlier one (for the debug kernel: rxfrm.config as is).
frag="$kdir/.rxfrm-fragment"
cat "${frags[@]}" | awk '
  /^CONFIG_[A-Za-z0-9_]+=/ { k = $0; sub(/=.*/, "", k)
                             if (!(k in v)) order[++n] = k; v[k] = $0; next }
  END { for (i = 1; i <= n; i++) print v[order[i]] }' > "$frag"
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
