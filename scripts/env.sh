# Sourced by the scripts: the toolchain the kernel and module are built with.
# rustup's rustc (first on PATH) has no rust-src; the kernel needs Debian's 1.85.
export PATH="${RXFRM_CACHE:-$HOME/.cache/rxfrm}/venv/bin:$HOME/.cargo/bin:$PATH"
RXFRM_RUSTC=${RXFRM_RUSTC:-/usr/bin/rustc}
export RXFRM_RUSTC
