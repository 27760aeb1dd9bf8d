# rxfrm — developer entry points. `make demo` and `make check` do all set-up
# on a fresh Debian 12 machine (scripts/setup.sh is idempotent).
# (Kbuild, not this file, describes the module to the kernel build.)

SHELL := /bin/bash
ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
RUSTC_KERNEL ?= /usr/bin/rustc
KMAKE  = $(MAKE) -C $(KDIR) M=$(ROOT) LLVM=1 RUSTC=$(RUSTC_KERNEL)
ENV    = source $(ROOT)/scripts/env.sh &&

.PHONY: all setup kernel kdir module setkey host-test vm-test check demo shell bench clean

all: module setkey

setup:
	@$(ROOT)/scripts/setup.sh

# Builds the cached debug kernel once (keyed by version + config fragment).
kernel: setup
	@$(ROOT)/scripts/kernel.sh >/dev/null

kdir:
	@$(ROOT)/scripts/kernel.sh --path

module: kernel
	@$(ROOT)/scripts/build-module.sh

setkey: setup
	@$(ENV) cargo build --release -q -p setkey

host-test: setup
	@$(ENV) cargo fmt --all --check
	@$(ENV) cargo clippy -q --workspace --all-targets -- -D warnings
	@$(ENV) cargo test -q --workspace

vm-test: module setkey
	@$(ROOT)/selftests/run

check: host-test vm-test

demo: module setkey
	@$(ROOT)/selftests/vm-run -- $(ROOT)/selftests/demo.sh

shell: module setkey
	@$(ROOT)/selftests/vm-run --interactive

# rxfrm vs native xfrm on the release kernel (built once, cached); results
# in bench/. ARGS=--quick for a short smoke run. See bench/README.md.
bench: setup
	@$(ROOT)/scripts/bench $(ARGS)

clean:
	@KDIR=$$($(ROOT)/scripts/kernel.sh --path); [ -d "$$KDIR" ] && $(MAKE) -s -C $$KDIR M=$(ROOT) LLVM=1 clean || true
	@rm -f $(ROOT)/rust/sys/bindings_generated.rs
	@$(ENV) cargo clean -q
