# cost: 300 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Bulk ESP: 50 MB over TCP through an AES-GCM-128 transport SA pair
# arrive with the same sha256, and both ends' SAs account at least that
# many bytes. Slow under TCG emulation, hence its own test;
# RXFRM_BULK_MB=5 shrinks it for a quick local run (the requirement is 50).
# Veth MTU 9000, as 38: under TCG the per-packet cost dominates; ESP at
# MTU 1500 (segments sized by the bundle, no fragments) is 20's.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
mb=${RXFRM_BULK_MB:-50}
topo_pair node peer
for ns in node peer; do ip -n $ns link set eth0 mtu 9000 || fail "mtu in $ns"; done
for ns in node peer; do
  if [ $ns = node ]; then me=10.0.0.1; them=10.0.0.2; else me=10.0.0.2; them=10.0.0.1; fi
  setkey_ns $ns -c <<EOF || fail "keys in $ns"
add 10.0.0.1 10.0.0.2 esp 0x2101 -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0fcafebabe;
add 10.0.0.2 10.0.0.1 esp 0x2102 -E aes-gcm-16 0x101112131415161718191a1b1c1d1e1fdecafbad;
spdadd $me $them any -P out ipsec esp/transport//require;
spdadd $them $me any -P in ipsec esp/transport//require;
EOF
done
expect_ping node 10.0.0.2 1
tcp_ok peer 10.0.0.2 node $((mb * 1024 * 1024))
for ns in node peer; do
  b=$(sa_bytes $ns $((0x2101)))
  echo "$ns: SA 0x2101 current $b bytes"
  [ "${b:-0}" -ge $((mb * 1024 * 1024)) ] || fail "$ns: SA 0x2101 counted ${b:-no} bytes for a $mb MB transfer"
done
echo "$mb MB over ESP AES-GCM-128 intact"
