# rxfrm — developer entry points. `make demo` and `make check` do all set-up
# on a fresh Debian 12 machine (scripts/setup.sh is idempotent).
# (Kbuild, not this file, describes the module to the kernel build.)

SHELL := /bin/bash
ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
RUSTC_KERNEL ?= /usr/bin/rustc
KMAKE  = $(MAKE) -C $(KDIR) M=$(ROOT) LLVM=1 RUSTC=$(RUSTC_KERNEL)
ENV    = source $(ROOT)/scripts/env.sh &&

.PHONY: all setup kernel kdir module setkey fuzzer lint host-test vm-test check fuzz demo shell bench clean

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

fuzzer: setup
	@$(ENV) cargo build --release -q -p pfkey-fuzz

# The layering rules of README "Architecture" (imports, where unsafe lives).
lint:
	@$(ROOT)/scripts/lint.sh

host-test: setup lint
	@$(ENV) cargo fmt --all --check
	@$(ENV) cargo clippy -q --workspace --all-targets -- -D warnings
	@$(ENV) cargo test -q --workspace

vm-test: module setkey fuzzer
	@$(ROOT)/selftests/run

check: host-test vm-test

# Fuzzing, long: PF_KEY against the engine in-process, then the real sockets
# in a VM (selftests/tests/40-pfkey-fuzz.sh with a duration), then packets
# against live ESP/AH/IPcomp SAs (41-packet-fuzz.py, FUZZ_PACKETS frames).
# A fresh seed each time unless FUZZ_SEED is given; the message log, the
# packet pcap and crash inputs go to fuzz-out/
# (shared with the VM, so the log's tail survives a dying guest).
ifeq ($(origin FUZZ_SEED),undefined)
FUZZ_SEED := $(shell date +%s)
endif
FUZZ_HOST_SECS ?= 600
FUZZ_KERNEL_SECS ?= 1200
FUZZ_PACKETS ?= 50000
fuzz: module setkey fuzzer
	@echo "fuzz: seed $(FUZZ_SEED) (make fuzz FUZZ_SEED=$(FUZZ_SEED) repeats it)"
	@mkdir -p $(ROOT)/fuzz-out
	@$(ROOT)/target/release/pfkey-fuzz --target host --seed $(FUZZ_SEED) \
	  --duration $(FUZZ_HOST_SECS) --out $(ROOT)/fuzz-out --progress 5000000
	@RXFRM_VM_RWDIR=$(ROOT)/fuzz-out RXFRM_VM_TIMEOUT=$$(( $(FUZZ_KERNEL_SECS) + 900 )) \
	  $(ROOT)/selftests/vm-run -- env RXFRM_FUZZ_SEED=$(FUZZ_SEED) RXFRM_FUZZ_SECS=$(FUZZ_KERNEL_SECS) \
	  RXFRM_FUZZ_OUT=$(ROOT)/fuzz-out RXFRM_FUZZ_ARGS="--poke-every 100" \
	  bash $(ROOT)/selftests/tests/40-pfkey-fuzz.sh
	@RXFRM_VM_RWDIR=$(ROOT)/fuzz-out RXFRM_VM_TIMEOUT=$$(( $(FUZZ_PACKETS) / 10 + 900 )) \
	  $(ROOT)/selftests/vm-run -- env RXFRM_PKTFUZZ_SEED=$(FUZZ_SEED) RXFRM_PKTFUZZ_COUNT=$(FUZZ_PACKETS) \
	  RXFRM_FUZZ_OUT=$(ROOT)/fuzz-out python3 $(ROOT)/selftests/tests/41-packet-fuzz.py

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
