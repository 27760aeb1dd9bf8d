# cost: 235 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""What the ESP input path refuses, and the counter of the receiver's
/proc/net/rxfrm_stat (Linux's xfrm_stat names) each refusal moves.
Namespaces: snd (10.0.0.1) sends, rcv (10.0.0.2) receives; ESP frames are
captured on snd's veth and re-injected there by hand.
1. ESP whose SPI has no SA in rcv: dropped, XfrmInNoStates.
2. Once rcv has the SA (replay window 32): the first captured packet with
   one ICV bit flipped is dropped (XfrmInStateProtoError) without using up
   its sequence number, so the genuine packet is then delivered; replayed,
   it is dropped (XfrmInStateSeqError); the second packet is still
   delivered, and dropped when replayed. The SA counts exactly 2 packets,
   and `setkey -D` shows its 2 replays and 1 integrity failure.
3. Clear traffic to rcv, whose policy requires ESP inbound: dropped.
   Linux counts XfrmInTmplMismatch; XfrmInPolBlock or XfrmInNoStates are
   accepted too (the test prints which moved).
4. A tunnel packet that decrypts with its SA, but whose SA endpoints are
   not the policy template's: dropped with XfrmInTmplMismatch (no SA or ICV
   error), and delivered once the template names the right endpoints.
5. `use` policies and no SA: ping and UDP get through in the clear."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
import esp  # noqa: E402

SND, RCV = "snd", "rcv"
S_IP, R_IP = "10.0.0.1", "10.0.0.2"
ALGS = ("-E aes-cbc 0x000102030405060708090a0b0c0d0e0f "
        "-A hmac-sha1 0x101112131415161718191a1b1c1d1e1f20212223")
PORT = 6000
esp.topology("pair", SND, RCV)
wire = esp.Sniffer(SND, "eth0")
rsock = esp.udp_socket(RCV, R_IP, PORT)


def send(data):
    s = esp.udp_socket(SND, S_IP)
    err = esp.send_udp(s, data, R_IP, PORT)
    s.close()
    return err


def delivered(timeout=30):
    """The next datagram rcv's socket gets, or None after `timeout` s."""
    return esp.recv_within(rsock, timeout)


def dropped(c, names, n, what):
    """Waits until rcv's counters `names` moved by `n` together (the
    packet was refused, not just slow), then checks nothing was delivered."""
    wait_until(lambda: c.delta(*names) >= n, f"{what}: {' + '.join(names)} did not move by {n}")
    eq(delivered(0.3), None, f"{what}: must not be delivered")


def replay(f):
    """Re-injects frame f: it must be dropped as a replay."""
    c = esp.Counters(RCV)
    esp.inject(SND, "eth0", f.raw)
    dropped(c, ["XfrmInStateSeqError"], 1, f"replayed packet {f.seq}")
    eq(c.delta("XfrmInStateSeqError"), 1, f"replay of {f.seq}: XfrmInStateSeqError (moved {c.moved()})")


# 1. Unknown SPI.
esp.configure(SND, f"add {S_IP} {R_IP} esp 0x2501 {ALGS};\n"
                   f"spdadd {S_IP} {R_IP} udp -P out ipsec esp/transport//require;\n")
esp.configure(RCV, "")
c = esp.Counters(RCV)
wire.frames(0.2)
for text in (b"first", b"second"):
    eq(send(text), None, f"sendto {text!r} with the SA in place")
frames = wire.wait_for(lambda f: f.kind == "esp" and f.spi == 0x2501 and f.outgoing(), count=2, timeout=30)
eq(len(frames), 2, "ESP packets snd sent")
first, second = sorted(frames, key=lambda f: f.seq)
eq((first.seq, second.seq), (1, 2), "sequence numbers of a new SA (RFC 4303: from 1)")
dropped(c, ["XfrmInNoStates"], 2, "ESP without an SA in rcv")
check(c.delta("XfrmInNoStates") >= 2, f"unknown SPI: XfrmInNoStates must count both; moved {c.moved()}")
print("unknown SPI dropped, XfrmInNoStates")

# 2. ICV and replay.
esp.setkey(RCV, "-c", stdin=f"add {S_IP} {R_IP} esp 0x2501 -r 32 {ALGS};\n")
tampered = bytearray(first.raw)
tampered[14 + len(first.ip) - 1] ^= 0x01  # last byte of the ICV
c = esp.Counters(RCV)
esp.inject(SND, "eth0", bytes(tampered))
dropped(c, ["XfrmInStateProtoError"], 1, "a packet with a bad ICV")
eq(c.delta("XfrmInStateProtoError"), 1, f"bad ICV: XfrmInStateProtoError (moved {c.moved()})")
esp.inject(SND, "eth0", first.raw)
eq(delivered(), b"first", "the genuine packet after the tampered one")
replay(first)
esp.inject(SND, "eth0", second.raw)
eq(delivered(), b"second", "the next sequence number after a replay")
replay(second)
st = esp.sa(RCV, 0x2501) or {}
eq(st.get("packets"), 2, "rcv's SA counts the two packets it accepted")
# setkey -D's per-SA error counters: one bad ICV, two replays.
eq((st.get("replay"), st.get("integrity_failed")), (2, 1), f"rcv's SA error counters in setkey -D: {st}")
print("bad ICV dropped (XfrmInStateProtoError), replays dropped (XfrmInStateSeqError), both counted on the SA")

# 3. Clear traffic where ESP is required.
esp.configure(SND, "")
esp.configure(RCV, f"spdadd {S_IP} {R_IP} any -P in ipsec esp/transport//require;\n")
c = esp.Counters(RCV)
eq(send(b"clear"), None, "sendto in the clear")
dropped(c, ["XfrmInTmplMismatch", "XfrmInPolBlock", "XfrmInNoStates"], 1,
        "clear UDP to a require policy")
check(esp.ping_gets_no_reply(SND, R_IP), "clear ping to a require policy was answered")
print(f"clear traffic to a require policy dropped; counters moved: {c.moved()}")

# 4. Tunnel endpoints differ from the template's.
tunnel_sa = f"add {S_IP} {R_IP} esp 0x2504 -m tunnel {ALGS};\n"
esp.configure(SND, tunnel_sa + f"spdadd {S_IP} {R_IP} udp -P out ipsec esp/tunnel/{S_IP}-{R_IP}/require;\n")
esp.configure(RCV, tunnel_sa + f"spdadd {S_IP} {R_IP} udp -P in ipsec esp/tunnel/10.0.0.9-{R_IP}/require;\n")
c = esp.Counters(RCV)
eq(send(b"tunnel"), None, "sendto through the tunnel SA")
dropped(c, ["XfrmInTmplMismatch"], 1, "a tunnel packet from the wrong endpoint")
eq(c.delta("XfrmInNoStates", "XfrmInStateProtoError"), 0, f"it decrypted fine (moved {c.moved()})")
esp.configure(RCV, tunnel_sa + f"spdadd {S_IP} {R_IP} udp -P in ipsec esp/tunnel/{S_IP}-{R_IP}/require;\n")
eq(send(b"tunnel, right endpoints"), None, "sendto through the tunnel SA")
eq(delivered(), b"tunnel, right endpoints", "delivered once the template matches the SA")
print("tunnel endpoint mismatch dropped (XfrmInTmplMismatch)")

# 5. `use` falls back to clear text when there is no SA.
for ns, me, peer in ((SND, S_IP, R_IP), (RCV, R_IP, S_IP)):
    esp.configure(ns, f"spdadd {me} {peer} any -P out ipsec esp/transport//use;\n"
                      f"spdadd {peer} {me} any -P in ipsec esp/transport//use;\n")
wire.frames(0.2)
check(esp.ping(SND, R_IP), "`use` without an SA: ping must work in the clear")
eq(send(b"use"), None, "sendto under a use policy")
eq(delivered(), b"use", "UDP under a use policy without an SA")
seen = esp.summary(wire.frames(0.3))
check(seen[("ipv4", "icmp", None)] >= 6, f"clear echo requests and replies on the wire: {dict(seen)}")
eq(sum(n for (fam, kind, spi), n in seen.items() if kind == "esp"), 0, "ESP without an SA")
done("ESP input refuses unknown SPIs, bad ICVs, replays, clear text and wrong tunnels")
