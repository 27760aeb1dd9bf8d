# cost: 150 (seconds under TCG; selftests/run balances VMs by it)
# Every ESP algorithm rxfrm offers carries traffic: the AEADs (AES-GCM with
# 8/12/16-byte ICVs and 128/192/256-bit keys, AES-CCM, AES-GMAC with null
# encryption, ChaCha20-Poly1305) and each cipher (AES-CBC, AES-CTR,
# 3DES-CBC, DES-CBC, Blowfish-CBC, NULL) with each HMAC (MD5-96, SHA1-96,
# SHA256-128, SHA384-192, SHA512-256). For each: transport SAs both ways, a
# `require` policy, a ping answered, and both SAs count packets.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_pair node peer

hex() { head -c "$(($1 / 8))" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

n=0
try() { # try NAME 'ALGORITHMS AND KEYS'
  local name=$1 algs=$2 ns dir_a dir_b
  n=$((n + 1))
  local spi=$((0x3000 + 2 * n))
  for ns in node peer; do
    if [ $ns = node ]; then dir_a=out dir_b=in; else dir_a=in dir_b=out; fi
    setkey_ns $ns -F && setkey_ns $ns -FP || fail "flush $ns"
    setkey_ns $ns -c <<EOF || fail "$name: keys refused in $ns"
add 10.0.0.1 10.0.0.2 esp $spi -m transport $algs;
add 10.0.0.2 10.0.0.1 esp $((spi + 1)) -m transport $algs;
spdadd 10.0.0.1 10.0.0.2 any -P $dir_a ipsec esp/transport//require;
spdadd 10.0.0.2 10.0.0.1 any -P $dir_b ipsec esp/transport//require;
EOF
  done
  in_ns node ping -q -c 1 -W 5 10.0.0.2 >/dev/null || fail "$name: no answer"
  expect_sa_used node $spi
  expect_sa_used peer $((spi + 1))
  echo "$name: ok"
}

for bits in 128 192 256; do
  for icv in 8 12 16; do
    try "aes-gcm-$icv/$bits" "-E aes-gcm-$icv 0x$(hex $((bits + 32)))"
  done
  for icv in 8 12 16; do
    try "aes-ccm-$icv/$bits" "-E aes-ccm-$icv 0x$(hex $((bits + 24)))"
  done
  try "null-aes-gmac/$bits" "-E null-aes-gmac 0x$(hex $((bits + 32)))"
done
try chacha20-poly1305 "-E chacha20-poly1305 0x$(hex 288)"

for enc in aes-cbc:128 aes-ctr:160 3des-cbc:192 des-cbc:64 blowfish-cbc:128 null:0; do
  for auth in hmac-md5:128 hmac-sha1:160 hmac-sha256:256 hmac-sha384:384 hmac-sha512:512; do
    if [ "${enc#*:}" = 0 ]; then ekey=; else ekey=0x$(hex "${enc#*:}"); fi
    try "${enc%:*}+${auth%:*}" "-E ${enc%:*} $ekey -A ${auth%:*} 0x$(hex "${auth#*:}")"
  done
done
echo "all $n algorithm suites carried traffic"
