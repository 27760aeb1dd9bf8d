# cost: 300 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Issue 11 #2: asynchronous crypto outlives the call that started it. With
# force_async=1 every SA's transform is wrapped in cryptd(...), so each
# packet's AEAD completes later, from a worker. Under ESP floods (IPv4
# AES-GCM, IPv6 AES-CBC + HMAC-SHA1, both directions), tear down what the
# requests in flight touch: the device (`ip link del`), the namespace
# (`ip netns del`), and the module (`rmmod`, retried under the flood until
# it goes). Each must complete, and KASAN and kmemleak stay silent (the
# runner and vm-run check the kernel log): the completions hold the
# device, the namespace and the module, and every exit path drains them.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
P=/sys/module/rxfrm/parameters/force_async
loaded() { grep -q '^rxfrm ' /proc/modules; }
at_exit "loaded || insmod $KO; [ -w $P ] && echo 0 > $P"
echo 1 > $P || fail "force_async=1"

# keyed A B: ESP between A (10.0.0.1, fd00::1) and B, both directions.
keyed() {
  local ns me them me6 them6
  for ns in "$1" "$2"; do
    if [ $ns = "$1" ]; then me=10.0.0.1 them=10.0.0.2 me6=fd00::1 them6=fd00::2
    else me=10.0.0.2 them=10.0.0.1 me6=fd00::2 them6=fd00::1; fi
    setkey_ns $ns -c <<EOF || fail "keys in $ns"
add 10.0.0.1 10.0.0.2 esp 0x5501 -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0fcafebabe;
add 10.0.0.2 10.0.0.1 esp 0x5502 -E aes-gcm-16 0x101112131415161718191a1b1c1d1e1fdecafbad;
add fd00::1 fd00::2 esp 0x5503 -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233;
add fd00::2 fd00::1 esp 0x5504 -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233;
spdadd $me $them any -P out ipsec esp/transport//require;
spdadd $them $me any -P in ipsec esp/transport//require;
spdadd $me6 $them6 any -P out ipsec esp/transport//require;
spdadd $them6 $me6 any -P in ipsec esp/transport//require;
EOF
  done
}
FLOODS=()
# flood A B: ping floods A -> B, both families, until killed: the replies
# keep B's output transforms busy too. Two floods, not four: on one TCG
# vCPU more only starve the test's own shell.
flood() {
  local dst
  for dst in 10.0.0.2 fd00::2; do
    in_ns_bg $1 ping -q -f -l 8 -w 900 $dst >/dev/null 2>&1
    FLOODS+=($!)
    at_exit "kill $! 2>/dev/null"
  done
}
unflood() { kill "${FLOODS[@]}" 2>/dev/null; wait "${FLOODS[@]}" 2>/dev/null; FLOODS=(); }
# Packets keep arriving through B's SA (the flood runs, through cryptd).
flowing() { local n; n=$(sa_packets "$1" "$(($2))"); [ "${n:-0}" -gt "$3" ]; }
through_cryptd() { grep -q '^driver *: cryptd(' /proc/crypto; }

# 1. The device goes while requests are in flight.
topo_pair a b
keyed a b
through_cryptd || fail "force_async=1 but no cryptd(...) transform in /proc/crypto"
expect_ping a 10.0.0.2
expect_ping a fd00::2
flood a b
wait_until 120 "the flood did not reach b's SA" flowing b 0x5501 200
wait_until 120 "the IPv6 flood did not reach b's SA" flowing b 0x5503 200
ip -n a link del eth0 &
del=$!
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 180 "'ip link del' under the async flood did not return" gone $del
wait $del || fail "ip link del eth0 failed"
unflood
echo "1. (${SECONDS}s) device deleted under async ESP floods"

# 2. The namespace goes while requests are in flight.
topo_pair c d
keyed c d
flood c d
wait_until 120 "the flood did not reach d's SA" flowing d 0x5501 200
ip netns del c || fail "ip netns del c"
ip netns del d || fail "ip netns del d"
unflood
# Namespace cleanup is asynchronous: a new namespace must still work.
echo "2. (${SECONDS}s) namespaces deleted under async ESP floods"

# 3. The module goes while requests are in flight: rmmod is retried until
#    it succeeds: module exit tears the namespaces' tables down and must
#    wait for every completion first.
topo_pair e f
keyed e f
flood e f
wait_until 120 "the flood did not reach f's SA" flowing f 0x5501 200
try_rmmod() { rmmod rxfrm 2>/dev/null; ! loaded; }
tries=0
while loaded && [ $tries -lt 50 ]; do try_rmmod || tries=$((tries + 1)); done
if loaded; then
  # Each packet in flight holds the module: under a flood rmmod may never
  # find it free. Stop sending and unload at once, requests still queued.
  echo "rmmod refused $tries times under the flood; flood stopped, rmmod right after"
  unflood
  wait_until 300 "rmmod rxfrm right after async ESP floods did not succeed" try_rmmod
else
  echo "rmmod succeeded under the flood after $tries refusals"
fi
unflood
insmod "$KO" || fail "insmod after the rmmod"
[ "$(cat $P)" = 0 ] || fail "a fresh load has force_async $(cat $P)"
# The module works again.
topo_pair g h
keyed g h
expect_ping g 10.0.0.2
expect_ping g fd00::2
echo "3. (${SECONDS}s) rmmod under async ESP floods completed; reloaded, traffic flows"
