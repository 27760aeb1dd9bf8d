# cost: 708 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# ESP transport between two hosts keyed by hand, as in the NetBSD IPsec
# FAQ's host-to-host example: first the FAQ's own 3des-cbc configuration
# with its exact keys, then ESP 3des-cbc + hmac-md5 (the FAQ's AH keys as
# ESP authentication keys), AES-GCM-128, AES-GCM-256 and ChaCha20-Poly1305.
# For each: `ping -c 3` succeeds both ways, a TCP transfer arrives intact,
# the wire carries ESP with the configured SPIs in both directions, no
# clear ICMP or TCP and no IP fragments (TCP's segments fit the bundle's
# MTU), and `setkey -D` counts bytes and packets on all four SAs (each
# namespace's inbound and outbound copy).
#
# Addresses: the FAQ's node 10.1.1.1 is namespace `node` (10.0.0.1), its
# peer 20.1.1.1 is namespace `peer` (10.0.0.2); nothing else changes.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
topo_pair node peer

# check NAME SPI_NODE_TO_PEER SPI_PEER_TO_NODE: traffic, wire, counters.
check() {
  local name=$1 out=$2 in=$3 ns spi k
  capture_start "$name" peer eth0
  expect_ping node 10.0.0.2
  expect_ping peer 10.0.0.1
  tcp_ok peer 10.0.0.2 node $((256 * 1024))
  capture_stop "$name"
  [ "$(wire "$name" ipv4 esp "$out")" -gt 0 ] || fail "$name: no ESP with SPI $out (node -> peer) on the wire"
  [ "$(wire "$name" ipv4 esp "$in")" -gt 0 ] || fail "$name: no ESP with SPI $in (peer -> node) on the wire"
  for k in icmp tcp udp; do
    [ "$(wire "$name" any "$k")" = 0 ] || fail "$name: clear $k on the wire"
  done
  # TCP sized its segments by the bundle's MTU (the socket caches the
  # bundle as Linux's do): no ESP packet had to be fragmented.
  [ "$(wire "$name" any frag)" = 0 ] || fail "$name: $(wire "$name" any frag) outer IP fragments on the wire"
  for ns in node peer; do
    for spi in "$out" "$in"; do expect_sa_used "$ns" "$spi"; done
  done
  echo "$name: ping both ways, TCP intact in unfragmented ESP, only ESP on the wire, SA counters moved"
}

# 1. The FAQ, verbatim but for the addresses. The node also refuses clear
#    traffic from the peer, as the FAQ suggests; the peer's lines are the
#    FAQ's "other side".
setkey_ns node -c <<'EOF' || fail "FAQ node configuration"
add 10.0.0.1 10.0.0.2 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";
add 10.0.0.2 10.0.0.1 esp 10000 -E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//use;
spdadd 10.0.0.2 10.0.0.1 any -P in ipsec esp/transport//require;
EOF
setkey_ns peer -c <<'EOF' || fail "FAQ peer configuration"
add 10.0.0.1 10.0.0.2 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";
add 10.0.0.2 10.0.0.1 esp 10000 -E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.0.0.2 10.0.0.1 any -P out ipsec esp/transport//use;
EOF
check faq-3des 9876 10000

# 2.-5. Other algorithms, same shape, `require` both ways on both sides.
# keyed SPI_OUT SPI_IN 'ALGORITHMS node->peer' 'ALGORITHMS peer->node'
keyed() {
  local ns
  for ns in node peer; do
    setkey_ns "$ns" -F && setkey_ns "$ns" -FP || fail "flush $ns"
  done
  setkey_ns node -c <<EOF || fail "node: SAs $1/$2"
add 10.0.0.1 10.0.0.2 esp $1 $3;
add 10.0.0.2 10.0.0.1 esp $2 $4;
spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//require;
spdadd 10.0.0.2 10.0.0.1 any -P in ipsec esp/transport//require;
EOF
  setkey_ns peer -c <<EOF || fail "peer: SAs $1/$2"
add 10.0.0.1 10.0.0.2 esp $1 $3;
add 10.0.0.2 10.0.0.1 esp $2 $4;
spdadd 10.0.0.2 10.0.0.1 any -P out ipsec esp/transport//require;
spdadd 10.0.0.1 10.0.0.2 any -P in ipsec esp/transport//require;
EOF
}

keyed 9877 10001 \
  '-E 3des-cbc "hogehogehogehogehogehoge" -A hmac-md5 "hogehogehogehoge"' \
  '-E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef -A hmac-md5 "mogamogamogamoga"'
check 3des-md5 9877 10001

# AES-GCM with a 16-byte ICV (RFC 4106): key + 4-byte salt.
keyed 0x2001 0x2002 \
  '-E aes-gcm-16 0x000102030405060708090a0b0c0d0e0fcafebabe' \
  '-E aes-gcm-16 0x101112131415161718191a1b1c1d1e1fdecafbad'
check gcm128 $((0x2001)) $((0x2002))

keyed 0x2003 0x2004 \
  '-E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fcafebabe' \
  '-E aes-gcm-16 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3fdecafbad'
check gcm256 $((0x2003)) $((0x2004))

# ChaCha20-Poly1305 (RFC 7634): 256-bit key + 4-byte salt.
keyed 0x2005 0x2006 \
  '-E chacha20-poly1305 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f01020304' \
  '-E chacha20-poly1305 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f05060708'
check chacha20 $((0x2005)) $((0x2006))
echo "ESP transport: FAQ 3des, 3des+md5, AES-GCM-128/256, ChaCha20-Poly1305 carry ping and TCP"
