# cost: 250 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# SA lifetimes on a live flow, watched with `setkey -x` in each namespace:
# 1. bytes: SA node -> peer carrying 1 KB pings, limited to 3000/6000
#    bytes (soft/hard, `-bs`/`-bh`) in node, which counts what it encrypts,
#    and to 2000/4000 in peer, which counts what it decrypts. Each end
#    sends one SADB_EXPIRE soft, then one hard, naming it, and drops it from
#    `setkey -D`; at most 4 pings were answered (peer's copy went first);
#    afterwards ping fails and nothing goes out in the clear. (A limit is
#    checked when a packet comes, as in Linux: the receiver's copy needs a
#    lower limit than the sender's to see a packet beyond it.)
# 2. time: SA node -> peer with `-ls 16 -lh 32` (seconds after its addition;
#    doubled until keying and a ping fit inside on this machine) on both
#    ends carries pings, then expires soft and hard the same way, never
#    before its hard lifetime.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
E='-E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233'
topo_pair node peer

# monitor NS: `setkey -x` in NS for the rest of the test; returns once it
# is promiscuous.
monitor() {
  monitor_start "$1" "$CAP_DIR/x.$1"
  at_exit "kill $MONITOR_PID 2>/dev/null"
}
# expiries NS SPI: one line per SADB_EXPIRE (type 8) for SPI that NS's
# monitor printed, "soft" or "hard" (a hard one has a HARD lifetime, ext 3).
expiries() {
  awk -v spi="$2" '
    function end() { if (expire && ours) print (hard ? "hard" : "soft"); expire = ours = hard = 0 }
    /^sadb_msg[{]/ { end(); expire = / type=8 / }
    /^sadb_sa[{]/ && index($0, "spi=" spi " ") { ours = 1 }
    /^sadb_ext[{] len=[0-9]+ type=3 [}]/ { hard = 1 }
    END { end() }' "$CAP_DIR/x.$1"
}
# expired NS SPI [SECS]: waits (SECS, 60 by default) for the hard EXPIRE,
# then checks the sequence was exactly soft, hard and the SA is gone.
hard_seen() { expiries "$1" "$2" | grep -q hard; }
expired() {
  poll_until "${3:-60}" hard_seen "$1" "$2" || fail "$1: no hard EXPIRE for SPI $2 within ${3:-60}s"
  [ "$(expiries "$1" "$2" | tr '\n' ' ')" = "soft hard " ] ||
    { cat "$CAP_DIR/x.$1"; fail "$1: EXPIRE for SPI $2: '$(expiries "$1" "$2" | tr '\n' ' ')', want soft then hard"; }
  setkey_ns "$1" -D | grep -q " spi=$2(" && fail "$1: SA $2 still in setkey -D after its hard expiry"
  return 0
}
# keyed SPI 'NODE LIFETIMES' 'PEER LIFETIMES': SA node -> peer with those
# limits in each namespace, the reverse SA without, require policies both
# ways.
keyed() {
  local ns me them lt
  for ns in node peer; do
    if [ $ns = node ]; then me=10.0.0.1; them=10.0.0.2; lt=$2; else me=10.0.0.2; them=10.0.0.1; lt=$3; fi
    setkey_ns $ns -F && setkey_ns $ns -FP || fail "flush $ns"
    setkey_ns $ns -c <<EOF || fail "keys in $ns"
add 10.0.0.1 10.0.0.2 esp $1 $lt $E;
add 10.0.0.2 10.0.0.1 esp $(($1 + 1)) $E;
spdadd $me $them any -P out ipsec esp/transport//require;
spdadd $them $me any -P in ipsec esp/transport//require;
EOF
  done
}
# no_leak SPI: with SPI expired, ping fails and the wire shows no clear
# ICMP and no ESP on that SPI.
no_leak() {
  capture_start "after$1" peer eth0
  expect_no_ping node 10.0.0.2
  capture_stop "after$1"
  [ "$(wire "after$1" any icmp)" = 0 ] || fail "clear ICMP after SA $1 expired"
  [ "$(wire "after$1" any esp "$1")" = 0 ] || fail "ESP on SA $1 after its hard expiry"
}

monitor node
monitor peer

# 1. Byte lifetimes.
spi=$((0x2701))
keyed $spi '-bs 3000 -bh 6000' '-bs 2000 -bh 4000'
out=$(in_ns node ping -c 10 -i 0.3 -s 1000 -W 1 10.0.0.2)
got=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
echo "1 KB pings answered: $got of 10"
[ "${got:-0}" -ge 2 ] || fail "the SA carried fewer than 2 pings before expiring"
[ "$got" -le 4 ] || fail "$got pings of ~1 KB passed peer's 4000-byte hard limit"
expired node $spi
expired peer $spi
no_leak $spi
echo "byte lifetime: soft, hard EXPIRE on both ends; the SA is gone and nothing leaks"

# 2. Time lifetimes, counted from the SA's addition. Keying and the first
#    ping must fit inside them: on a slow machine they may not, and then
#    the SA expires before it carried anything. That is the machine, not
#    rxfrm: the step starts again with lifetimes twice as long.
spi=$((0x2711))
carried=0
for soft in 16 32 64 128; do
  hard=$((soft * 2))
  t0=$(date +%s)
  keyed $spi "-ls $soft -lh $hard" "-ls $soft -lh $hard"
  # The SA counted the pings (checked now: it may expire any time after).
  if in_ns node ping -q -c 3 -i 0.3 -w 30 10.0.0.2 >/dev/null &&
     [ "$(sa_bytes node $spi)" -gt 0 ] 2>/dev/null; then
    carried=1
    break
  fi
  setkey_ns node -D | grep -q " spi=$spi(" &&
    fail "node -> peer: pings failed on SA $spi while it was still installed"
  echo "SA $spi expired before keying and a ping were done (lifetime $soft/$hard s): again, longer"
  spi=$((spi + 2))
done
[ $carried = 1 ] || fail "no time lifetime long enough for this machine (up to $soft/$hard s)"
expired node $spi $((hard + 60))
expired peer $spi $((hard + 60))
# Neither copy may go before its hard lifetime: both were added after t0.
[ $(($(date +%s) - t0)) -ge $((hard - 1)) ] || fail "a $hard s hard lifetime expired after $(($(date +%s) - t0)) s"
no_leak $spi
echo "time lifetime ($soft/$hard s): soft, hard EXPIRE on both ends after traffic; nothing leaks"
