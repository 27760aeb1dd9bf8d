# cost: 671 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Every ESP algorithm rxfrm offers carries traffic: the AEADs (AES-GCM with
# 8/12/16-byte ICVs and 128/192/256-bit keys, AES-CCM likewise, AES-GMAC
# with null encryption, ChaCha20-Poly1305) and each cipher (AES-CBC,
# AES-CTR, 3DES-CBC, DES-CBC, Blowfish-CBC, NULL) with each HMAC (MD5-96,
# SHA1-96, SHA256-128, SHA384-192, SHA512-256).
# Suite N gets its own address pair 10.7.N.1 <-> 10.7.N.2, transport SAs
# both ways (random keys) and `require` policies; all suites are keyed in
# one `setkey -c` per side. Each pair must answer a ping, and afterwards
# every SA must have counted bytes and packets in `setkey -D`.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_pair node peer

hex() { head -c "$(($1 / 8))" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

names=()
conf_node=$(mktemp) conf_peer=$(mktemp)
at_exit "rm -f $conf_node $conf_peer"
suite() { # suite NAME 'ALGORITHMS AND KEYS'
  local n=$((${#names[@]} + 1)) spi
  names+=("$1")
  spi=$((0x3000 + 2 * n))
  topo_addr node eth0 "10.7.$n.1/24"
  topo_addr peer eth0 "10.7.$n.2/24"
  local sas="add 10.7.$n.1 10.7.$n.2 esp $spi -m transport $2;
add 10.7.$n.2 10.7.$n.1 esp $((spi + 1)) -m transport $2;"
  cat >>"$conf_node" <<EOF
$sas
spdadd 10.7.$n.1 10.7.$n.2 any -P out ipsec esp/transport//require;
spdadd 10.7.$n.2 10.7.$n.1 any -P in ipsec esp/transport//require;
EOF
  cat >>"$conf_peer" <<EOF
$sas
spdadd 10.7.$n.2 10.7.$n.1 any -P out ipsec esp/transport//require;
spdadd 10.7.$n.1 10.7.$n.2 any -P in ipsec esp/transport//require;
EOF
}

for bits in 128 192 256; do
  for icv in 8 12 16; do
    suite "aes-gcm-$icv/$bits" "-E aes-gcm-$icv 0x$(hex $((bits + 32)))"
  done
  for icv in 8 12 16; do
    suite "aes-ccm-$icv/$bits" "-E aes-ccm-$icv 0x$(hex $((bits + 24)))"
  done
  suite "null-aes-gmac/$bits" "-E null-aes-gmac 0x$(hex $((bits + 32)))"
done
suite chacha20-poly1305 "-E chacha20-poly1305 0x$(hex 288)"
for enc in aes-cbc:128 aes-ctr:160 3des-cbc:192 des-cbc:64 blowfish-cbc:128 null:0; do
  for auth in hmac-md5:128 hmac-sha1:160 hmac-sha256:256 hmac-sha384:384 hmac-sha512:512; do
    if [ "${enc#*:}" = 0 ]; then ekey=; else ekey=0x$(hex "${enc#*:}"); fi
    suite "${enc%:*}+${auth%:*}" "-E ${enc%:*} $ekey -A ${auth%:*} 0x$(hex "${auth#*:}")"
  done
done
setkey_ns node -f "$conf_node" || fail "node refused the keys"
setkey_ns peer -f "$conf_peer" || fail "peer refused the keys"

bad=()
for ((n = 1; n <= ${#names[@]}; n++)); do
  in_ns node ping -q -c 1 -W 5 "10.7.$n.2" >/dev/null || bad+=("${names[n - 1]}: no answer")
done

# SPI -> "bytes packets" for one side, from a single `setkey -D`.
counts() {
  setkey_ns "$1" -D | awk '
    /^\tesp mode=/ { match($0, / spi=[0-9]+/); spi = substr($0, RSTART + 5, RLENGTH - 5) }
    match($0, /\tcurrent: [0-9]+[(]bytes[)]/) { b[spi] = substr($0, RSTART + 10, RLENGTH - 17) }
    /^\tallocated: / { split($0, a, /[ \t]+/); p[spi] = a[3] }
    END { for (s in b) print s, b[s], p[s] }'
}
declare -A used
while read -r spi b p; do used[node.$spi]="$b $p"; done < <(counts node)
while read -r spi b p; do used[peer.$spi]="$b $p"; done < <(counts peer)
for ((n = 1; n <= ${#names[@]}; n++)); do
  spi=$((0x3000 + 2 * n))
  for side in node.$spi peer.$((spi + 1)); do
    read -r b p <<<"${used[$side]:-0 0}"
    [ "$b" -gt 0 ] && [ "$p" -gt 0 ] || bad+=("${names[n - 1]}: SA $side counted $b bytes, $p packets")
  done
done
[ ${#bad[@]} = 0 ] || { printf '%s\n' "${bad[@]}"; fail "${#bad[@]} suite check(s) failed"; }
echo "all ${#names[@]} algorithm suites carried traffic, every SA counted it"
