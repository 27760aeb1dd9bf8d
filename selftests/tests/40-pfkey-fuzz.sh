# cost: 375 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Structure-aware PF_KEY fuzzing of the real sockets (tools/pfkey-fuzz,
# `--target kernel`): a fixed seed sends valid messages of every type for
# ESP/AH/IPComp, IPv4/IPv6 and every algorithm, most of them mutated
# (lengths, truncation, duplicate/unknown extensions, families, prefixes,
# key bits, oversize, reserved fields, random bytes), from sockets
# REGISTERed for each SA type, a promiscuous one and a plain one, in a
# private network namespace. Everything that arrives is checked by the
# fuzzer's own RFC 2367 validator; a full DUMP and X_SPDDUMP every 250
# messages must parse and end with seq 0. Any malformed reply fails the
# test (so does anything in the kernel log: the runner checks).
#   RXFRM_FUZZ_SEED, RXFRM_FUZZ_COUNT, RXFRM_FUZZ_SECS (a duration instead
#   of a count), RXFRM_FUZZ_OUT (where the message log and crash inputs
#   go; by default the VM's run directory), RXFRM_FUZZ_ARGS (more flags).
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
bin=$ROOT/target/release/pfkey-fuzz
[ -x "$bin" ] || fail "no $bin (make fuzzer)"
out=${RXFRM_FUZZ_OUT:-${RXFRM_RUN:-/tmp}/fuzz-out}
mkdir -p "$out" || fail "cannot create $out"
seed=${RXFRM_FUZZ_SEED:-40}
if [ -n "${RXFRM_FUZZ_SECS:-}" ]; then
  budget=(--duration "$RXFRM_FUZZ_SECS")
else
  budget=(--count "${RXFRM_FUZZ_COUNT:-2500}")
fi
# shellcheck disable=SC2086
"$bin" --target kernel --seed "$seed" "${budget[@]}" --dump-every 250 \
  --out "$out" --progress 2000 ${RXFRM_FUZZ_ARGS:-} 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  # The reproducers, in the test's output (the run directory goes away).
  for f in "$out"/crash-*.txt; do [ -f "$f" ] && head -c 3000 "$f"; done
  log=$out/pfkey-fuzz-$seed.log
  [ -f "$log" ] && { echo "last messages sent ($log):"; tail -n 5 "$log" | cut -c1-600; }
  fail "pfkey-fuzz exit $rc (seed $seed)"
fi
