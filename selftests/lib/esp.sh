# Sourced by the shell ESP datapath tests: ktest.sh, topo.sh, and
#   capture_start NAME NS IFACE   count frames on NS:IFACE (esp.py sniff)
#   capture_stop NAME             stop and print the counts
#   wire NAME FAMILY KIND [SPI]   frames of that kind seen (FAMILY ipv4,
#                                 ipv6 or any; KIND as in esp.py; SPI decimal)
#   sa_bytes NS SPI, sa_packets NS SPI
#                                 the SA's current byte / packet count
#                                 from `setkey -D` (empty if no such SA)
#   expect_sa_used NS SPI         both are > 0
#   expect_ping NS ADDR [COUNT]   COUNT (3) echo replies must come back
#   expect_no_ping NS ADDR        no reply may come back
#   tcp_ok SERVER_NS ADDR CLIENT_NS BYTES
#                                 a TCP transfer arrives whole (sha256)
#   key_transport NS_A ADDR_A NS_B ADDR_B SPI_AB SPI_BA
#                                 both ends keyed for ESP transport between
#                                 the two addresses (AES-CBC + HMAC-SHA1,
#                                 SPIs hex as setkey takes them), required
#                                 both ways
. "$RXFRM_ROOT/selftests/lib/ktest.sh"
. "$ROOT/selftests/lib/topo.sh"
ESP="python3 $ROOT/selftests/lib/esp.py"
[ -x "$SETKEY" ] || fail "setkey not built ($SETKEY)"
CAP_DIR=$(mktemp -d /tmp/rxfrm-cap.XXXXXX)
at_exit 'rm -rf "$CAP_DIR"'
declare -gA CAP_PID

capture_start() {
  local name=$1
  rm -f "$CAP_DIR/$name" "$CAP_DIR/$name.ready"
  $ESP sniff "$2" "$3" "$CAP_DIR/$name" &
  CAP_PID[$name]=$!
  at_exit "kill $! 2>/dev/null"
  wait_until 300 "sniffer on $2:$3 did not start" capture_ready "$name"
}
capture_ready() {
  [ -e "$CAP_DIR/$1.ready" ] && return 0
  kill -0 "${CAP_PID[$1]}" 2>/dev/null || fail "sniffer $1 exited before it was ready"
  return 1
}

capture_stop() {
  local pid=${CAP_PID[$1]:?capture_stop $1: no such capture}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" || fail "sniffer $1 failed"
  [ -f "$CAP_DIR/$1" ] || fail "sniffer $1 wrote nothing"
  sed "s/^/  $1: /" "$CAP_DIR/$1"
}

wire() {
  awk -v fam="$2" -v kind="$3" -v spi="${4:--}" \
    '(fam == "any" || $1 == fam) && $2 == kind && (spi == "-" || $3 == spi) { n += $4 }
     END { print n + 0 }' "$CAP_DIR/$1"
}

# The SA's block in `setkey -D` starts at its "esp mode=... spi=N(" line.
sa_field() {
  setkey_ns "$1" -D | awk -v spi="$2" -v f="$3" '
    /^\t(esp|ah|ipcomp) mode=/ { here = index($0, " spi=" spi "(") > 0 }
    here && f == "bytes" && match($0, /\tcurrent: [0-9]+[(]bytes[)]/) {
      v = substr($0, RSTART + 10, RLENGTH - 17); print v; exit }
    here && f == "packets" && /^\tallocated: / { split($0, a, /[ \t]+/); print a[3]; exit }'
}
sa_bytes() { sa_field "$1" "$2" bytes; }
sa_packets() { sa_field "$1" "$2" packets; }
# expect_sa_used NS SPI: the SA exists in NS and counted bytes and packets.
expect_sa_used() {
  local b p
  b=$(sa_bytes "$1" "$2")
  p=$(sa_packets "$1" "$2")
  [ "${b:-0}" -gt 0 ] && [ "${p:-0}" -gt 0 ] ||
    fail "$1: SA $2 in setkey -D: current '${b}' bytes, allocated '${p}' (want both > 0)"
}

expect_ping() {
  local n=${3:-3}
  in_ns "$1" ping -q -c "$n" -i 0.3 -w 30 "$2" >/dev/null ||
    fail "$1 -> $2: $n echo replies did not come back"
}

expect_no_ping() {
  if in_ns "$1" ping -q -c 2 -i 0.3 -W 1 -w 3 "$2" >/dev/null; then
    fail "$1 -> $2: an echo reply came back"
  fi
}

tcp_ok() { $ESP tcp "$@" || fail "TCP $3 -> $1 ($2): data lost or changed"; }

ESP_CBC_SHA1='-E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233'
key_transport() {
  local na=$1 a=$2 nb=$3 b=$4 ab=$5 ba=$6 ns me them
  for ns in "$na" "$nb"; do
    if [ "$ns" = "$na" ]; then me=$a them=$b; else me=$b them=$a; fi
    setkey_ns "$ns" -c <<EOF || fail "keys in $ns"
add $a $b esp $ab $ESP_CBC_SHA1;
add $b $a esp $ba $ESP_CBC_SHA1;
spdadd $me $them any -P out ipsec esp/transport//require;
spdadd $them $me any -P in ipsec esp/transport//require;
EOF
  done
}
