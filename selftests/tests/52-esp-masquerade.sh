# cost: 170 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
# Issue 11 #5: the ESP packet is a new datagram. It must not carry the
# inner flow's conntrack entry into the netfilter hooks after the
# transform, or a NAT rule on egress rewrites its bytes as if they were the
# inner TCP header: with `masquerade to :40000-40999` on a's egress, every
# TCP source port is remapped (the rule asks the conntrack entry for the
# protocol, not the packet), and an outer packet still holding the inner
# connection's entry gets its first two bytes (the SPI's upper half)
# rewritten, so b finds no SA. Transport ESP a <-> b with that rule: TCP
# completes, the wire carries only the two configured SPIs and no clear
# TCP, the rule matched (its counter moved), and b's SA was used.
. "$RXFRM_ROOT/selftests/lib/esp.sh"
command -v nft >/dev/null || fail "nft not installed (make setup installs nftables)"
topo_pair a b
key_transport a 10.0.0.1 b 10.0.0.2 0x5201 0x5202
in_ns a nft -f - <<'EOF' || fail "nft rules in a"
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "eth0" ct original protocol tcp counter masquerade to :40000-40999
    oifname "eth0" counter masquerade
  }
}
EOF
capture_start wire b eth0
tcp_ok b 10.0.0.2 a $((256 * 1024))
expect_ping a 10.0.0.2
capture_stop wire
for spi in 0x5201 0x5202; do
  [ "$(wire wire ipv4 esp $((spi)))" -gt 0 ] || fail "no ESP SPI $spi on the wire"
done
other=$(awk '$2 == "esp" && $3 != 20993 && $3 != 20994 { n += $4 } END { print n + 0 }' "$CAP_DIR/wire")
[ "$other" = 0 ] || fail "$other ESP packets with an SPI nobody configured (rewritten by NAT)"
[ "$(wire wire any tcp)" = 0 ] || fail "clear TCP on the wire"
in_ns a nft list chain ip nat post
matched=$(in_ns a nft list chain ip nat post | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
[ "$matched" -gt 0 ] || fail "the masquerade rules never matched: the test shows nothing"
expect_sa_used b $((0x5201))
echo "TCP over ESP through an egress masquerade: only the configured SPIs on the wire ($matched NAT matches)"
