# cost: 13 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# modinfo shows description, license, author, version and parameters.
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
info=$(modinfo "$KO") || fail "modinfo failed"
echo "$info"
for f in description license author version parm name; do
  echo "$info" | grep -q "^$f: " || fail "modinfo lacks $f"
done
echo "$info" | grep -q '^license: *GPL' || fail "license"
echo "$info" | grep -q '^parm: *max_states:.*(uint)' || fail "max_states parm"
echo "$info" | grep -q '^parm: *max_policies:.*(uint)' || fail "max_policies parm"
want=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml")
echo "$info" | grep -q "^version: *$want\$" || fail "version is not $want"
