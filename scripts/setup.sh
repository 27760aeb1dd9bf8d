#!/usr/bin/env bash
# Installs everything rxfrm needs on a fresh Debian 12 machine. Idempotent:
# a second run checks and does nothing.
set -euo pipefail

RUSTC_WEB_VERSION="1.85.0+dfsg3-1~deb12u3"
BINDGEN_VERSION="0.69.5"
VNG_VERSION="1.42"

APT_PKGS=(
  linux-source-6.12
  libclang-dev clang lld llvm flex bison bc libelf-dev libssl-dev dwarves cpio
  kmod iproute2 iputils-ping iperf3 tcpdump busybox-static qemu-system-x86
  python3-scapy python3-venv make xz-utils rsync nftables
)

log() { printf 'setup: %s\n' "$*" >&2; }

need_apt=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
have_rustc_web=$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || true)
have_src=$(dpkg-query -W -f='${Version}' rust-web-src 2>/dev/null || true)
if [ "$have_rustc_web" != "$RUSTC_WEB_VERSION" ] || [ "$have_src" != "$RUSTC_WEB_VERSION" ]; then
  need_apt+=("rustc-web=$RUSTC_WEB_VERSION" "libstd-rust-web-dev=$RUSTC_WEB_VERSION"
             "libstd-rust-web-1.85" "rust-web-src=$RUSTC_WEB_VERSION")
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing apt packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  if ! apt-cache madison rustc-web | grep -qF "$RUSTC_WEB_VERSION"; then
    log "ERROR: rustc-web $RUSTC_WEB_VERSION is not offered by apt any more;"
    log "the kernel must be built with exactly that compiler (see shared/TOOLCHAIN.md)."
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  log "installing bindgen-cli $BINDGEN_VERSION"
  cargo install bindgen-cli --version "$BINDGEN_VERSION" --locked -q
fi

# virtme-ng lives in its own venv under the cache (Debian's python3 is
# externally managed; whatever python the machine has on PATH does not matter).
venv="${RXFRM_CACHE:-$HOME/.cache/rxfrm}/venv"
if ! "$venv/bin/vng" --version 2>/dev/null | grep -q "$VNG_VERSION"; then
  log "installing virtme-ng $VNG_VERSION into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "virtme-ng==$VNG_VERSION"
fi

for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >/dev/null 2>&1 || true
done
log "toolchain ready"
