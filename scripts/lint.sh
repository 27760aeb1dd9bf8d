#!/usr/bin/env bash
# Checks the module's layering rules (README "Architecture") on the sources:
#  1. rust/sys/ (the FFI layer) imports nothing from the layers above it;
#  2. `unsafe` appears only under rust/sys/;
#  3. every `unsafe` block and impl under rust/sys/ has a `SAFETY:` comment
#     right above it (or on its line);
#  4. the layers above sys/ deny unsafe code, the logic forbids it, so the
#     compiler refuses a new `unsafe` there too.
# Prints each violation as FILE:LINE: message; exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
fail() { echo "lint: $*"; bad=1; }

# 1. No upward imports from the FFI layer.
while IFS= read -r hit; do
  fail "$hit: rust/sys must not use the layers above it (datapath, af_key, netns)"
done < <(grep -rnE 'crate::(datapath|af_key|netns)\b' rust/sys --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//')

# 2. `unsafe` only in the FFI layer (comments and doc text aside).
while IFS= read -r hit; do
  fail "$hit: \`unsafe\` outside rust/sys"
done < <(grep -rnwE 'unsafe' rust --include='*.rs' |
         grep -v '^rust/sys/' |
         grep -vE '^[^:]+:[0-9]+:\s*(//|\*)' |
         grep -vE 'unsafe_code|`unsafe`')

# 3. Every unsafe block / impl in sys has its SAFETY argument.
for f in $(find rust/sys -name '*.rs' ! -name 'bindings_generated.rs'); do
  awk -v f="$f" '
    { line[NR] = $0 }
    /unsafe[ ]*\{|unsafe impl/ && !/^[ \t]*\/\// {
      ok = ($0 ~ /SAFETY/)
      # Walk up over the comment block (and attribute/let lines that open
      # the statement) directly above.
      for (i = NR - 1; i > 0 && i >= NR - 12 && !ok; i--) {
        if (line[i] ~ /SAFETY/) { ok = 1; break }
        if (line[i] ~ /^[ \t]*$/) break
        if (line[i] ~ /;[ \t]*$/ && line[i] !~ /^[ \t]*\/\//) break
      }
      if (!ok) printf "lint: %s:%d: unsafe without a SAFETY comment\n", f, NR
    }' "$f"
done > /tmp/rxfrm-lint.$$
if [ -s /tmp/rxfrm-lint.$$ ]; then cat /tmp/rxfrm-lint.$$; bad=1; fi
rm -f /tmp/rxfrm-lint.$$

# 4. The compiler enforces it from here on.
for f in rust/datapath/mod.rs rust/af_key/mod.rs rust/netns.rs; do
  grep -q '^#!\[deny(unsafe_code)\]' "$f" || fail "$f: missing #![deny(unsafe_code)]"
done
for f in rust/logic/mod.rs rust/logic/lib.rs; do
  grep -q '^#!\[forbid(unsafe_code)\]' "$f" || fail "$f: missing #![forbid(unsafe_code)]"
done

[ $bad = 0 ] && echo "lint: layering rules hold"
exit $bad
