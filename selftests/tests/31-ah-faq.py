# cost: 270 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""The NetBSD IPsec FAQ seed's AH examples, between namespaces `node`
(10.0.0.1, the FAQ's 10.1.1.1 / A) and `peer` (10.0.0.2, 20.1.1.1 / B);
nothing else of the seed changes. Each side also refuses clear traffic
from the other (`-P in ... require`), so the receiver has to verify AH.
1. h2h-ah-md5.conf: ping both ways and TCP (intact) go as AH with the
   seed's SPIs 9877 / 10001, nothing in the clear; captured AH packets
   verify with the seed's HMAC-MD5 keys by this test's own ICV code; both
   SAs count packets and bytes in both namespaces (`setkey -D`).
2. h2h-esp-ah.conf: "IPv4 AH ESP payload" — every packet is AH (outermost)
   carrying ESP with the seed's ESP SPI; never bare ESP or clear text;
   the AH and the ESP SAs all count traffic in both namespaces.
3. The POP example (racoon-ports.conf, A's four port-110 policies; B's two
   from the FAQ text; the SAs keyed by hand): a TCP connection from B to
   A:110 carries data, every segment of it inside AH both ways; a
   connection to port 111 and a ping stay clear text, with no AH at all;
   A's own connection to A:110 works (the `none` policies, before the AH
   ones); once B drops its policies, its clear connection to A:110 is
   refused by A's `require` (and counted) while port 111 still works."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq  # noqa: E402
import esp  # noqa: E402

NODE, PEER = "node", "peer"
N_IP, P_IP = "10.0.0.1", "10.0.0.2"
SEED = os.path.join(os.environ["RXFRM_ROOT"], "selftests/seed")
xfrm.say(f"implementation: {xfrm.describe()}")
esp.topology("pair", NODE, PEER)
wire = esp.Sniffer(PEER, "eth0")


def seed(name):
    """The seed's statements with the FAQ's addresses mapped to ours."""
    with open(os.path.join(SEED, name)) as f:
        text = f.read()
    return text.replace("10.1.1.1", N_IP).replace("20.1.1.1", P_IP)


def swapped(line):
    return line.replace(N_IP, "@").replace(P_IP, N_IP).replace("@", P_IP)


def peer_side(conf):
    """The other host's configuration: the same SAs, the policies with
    source and destination swapped."""
    return "".join(ln + "\n" if ln.startswith("add ") else swapped(ln) + "\n"
                   for ln in conf.splitlines() if ln.strip())


def key_both(conf, inbound):
    xfrm.configure(NODE, conf + f"spdadd {P_IP} {N_IP} any -P in ipsec {inbound};\n")
    xfrm.configure(PEER, peer_side(conf) + f"spdadd {N_IP} {P_IP} any -P in ipsec {inbound};\n")


def traffic(what):
    """Ping both ways and 128 KiB of TCP; returns the frames seen."""
    wire.frames(0.2)
    check(esp.ping(NODE, P_IP), f"{what}: node -> peer ping")
    check(esp.ping(PEER, N_IP), f"{what}: peer -> node ping")
    sent, h1, got, h2, _ = esp.tcp_transfer(PEER, P_IP, NODE, 128 * 1024)
    eq((got, h2), (sent, h1), f"{what}: TCP node -> peer (bytes, sha256)")
    return wire.frames(0.5)


def ours(f):
    return {f.src, f.dst} == {N_IP, P_IP}


def counted(spis, what):
    xfrm.expect_used(check, (NODE, PEER), spis, what)


MD5 = {(N_IP, P_IP): xfrm.AhSA(9877, "hmac-md5", b"hogehogehogehoge"),
       (P_IP, N_IP): xfrm.AhSA(10001, "hmac-md5", b"mogamogamogamoga")}

# --- 1. h2h-ah-md5 --------------------------------------------------------------
key_both(seed("h2h-ah-md5.conf"), "ah/transport//require")
frames = [f for f in traffic("ah-md5") if ours(f)]
for (src, dst), sa in MD5.items():
    mine = [f for f in frames if f.kind == "ah" and f.src == src]
    check(mine, f"ah-md5: no AH from {src} on the wire")
    eq({f.spi for f in mine}, {sa.spi}, f"ah-md5: AH SPIs from {src}")
    check({"icmp", "tcp"} <= {f.inner for f in mine}, f"ah-md5: AH from {src} carries {({f.inner for f in mine})}")
    bad = [f for f in mine if not xfrm.ah_verify(sa, f.ip)]
    eq(bad, [], f"ah-md5: AH packets from {src} whose HMAC-MD5-96 ICV this test does not compute")
clear = [f for f in frames if f.kind in ("icmp", "tcp", "udp", "esp")]
eq(clear, [], "ah-md5: frames not inside AH")
counted([9877, 10001], "ah-md5")
xfrm.say(f"h2h-ah-md5: ping and TCP as AH only ({len(frames)} frames, every ICV verified), SAs counted")

# --- 2. h2h-esp-ah ------------------------------------------------------------------
key_both(seed("h2h-esp-ah.conf"), "esp/transport//require ah/transport//require")
frames = [f for f in traffic("esp-ah") if ours(f)]
esp_spi = {N_IP: 9876, P_IP: 10000}
for (src, dst), sa in MD5.items():
    mine = [f for f in frames if f.kind == "ah" and f.src == src]
    check(len(mine) >= 3, f"esp-ah: AH from {src}: {len(mine)} frames")
    eq({(f.spi, f.inner) for f in mine}, {(sa.spi, "esp")}, f"esp-ah: (AH SPI, inside) from {src}")
    eq({int.from_bytes(f.inner_payload[:4], "big") for f in mine}, {esp_spi[src]},
       f"esp-ah: ESP SPIs inside AH from {src}")
    eq([f for f in mine if not xfrm.ah_verify(sa, f.ip)], [], f"esp-ah: AH ICVs from {src}")
eq([f for f in frames if f.kind != "ah" and f.kind != "arp"], [], "esp-ah: frames that are not AH outermost")
counted([9876, 10000, 9877, 10001], "esp-ah")
xfrm.say("h2h-esp-ah: AH(ESP(...)) both ways, all four SAs counted on both hosts")

# --- 3. POP: port 110 under AH, the rest clear ---------------------------------------------
A, A_IP, B, B_IP = NODE, N_IP, PEER, P_IP
sas = (f"add {A_IP} {B_IP} ah 0x1101 -A hmac-sha1 0x{xfrm.key(20, 1).hex()};\n"
       f"add {B_IP} {A_IP} ah 0x1102 -A hmac-sha1 0x{xfrm.key(20, 2).hex()};\n")
pop_a = "".join(ln + "\n" for ln in seed("racoon-ports.conf").splitlines() if "[110]" in ln)
eq(pop_a.count("\n"), 4, "the seed's four port-110 policies of A")
xfrm.configure(A, sas + pop_a)
# "B# setkey -c": B's two lines from the FAQ.
xfrm.configure(B, sas + f"spdadd {B_IP} {A_IP}[110] tcp -P out ipsec ah/transport//require;\n"
                       f"spdadd {A_IP}[110] {B_IP} tcp -P in ipsec ah/transport//require;\n")


def tcp_to(port, nbytes=32 * 1024, client=B, server=A, addr=A_IP):
    sent, h1, got, h2, _ = esp.tcp_transfer(server, addr, client, nbytes, port=port, timeout=60)
    return (got, h2) == (sent, h1) and sent == nbytes


wire.frames(0.2)
check(tcp_to(110), "POP: TCP B -> A:110 under AH")
frames = [f for f in wire.frames(0.5) if ours(f)]
pop = [f for f in frames if 110 in (f.sport, f.dport)]
check(len(pop) >= 6, f"POP: {len(pop)} segments of the port-110 connection seen")
eq({(f.kind, f.inner) for f in pop}, {("ah", "tcp")}, "POP: how the port-110 segments travel")
eq({f.spi for f in pop if f.src == B_IP}, {0x1102}, "POP: AH SPI B -> A")
eq({f.spi for f in pop if f.src == A_IP}, {0x1101}, "POP: AH SPI A -> B")

check(tcp_to(111), "POP: TCP B -> A:111 in the clear")
check(esp.ping(B, A_IP), "POP: ping B -> A in the clear")
frames = [f for f in wire.frames(0.5) if ours(f)]
eq([f for f in frames if f.kind == "ah"], [], "POP: AH outside port 110")
check(sum(1 for f in frames if f.kind == "tcp" and 111 in (f.sport, f.dport)) >= 6, "POP: clear port-111 TCP")
check(sum(1 for f in frames if f.kind == "icmp") >= 6, "POP: clear ICMP")
check(tcp_to(110, client=A, server=A), "POP: A's own connection to A:110 (the `none` policies)")
xfrm.say("POP: port 110 as AH both ways, port 111 and ping clear, A to itself clear")

# B without its policies: A's inbound `require` refuses the clear SYN.
xfrm.configure(B, sas)
c = esp.Counters(A)
with esp.netns(B):
    s = socket.socket()
s.settimeout(4)
try:
    s.connect((A_IP, 110))
    refused = False
except OSError:
    refused = True
s.close()
check(refused, "POP: a clear connection to A:110 was accepted")
n = c.delta("XfrmInTmplMismatch", "XfrmInPolBlock", "XfrmInNoStates")
check(n >= 1, f"POP: the clear SYNs to A:110 were dropped without a counter: moved {c.moved()}")
check(tcp_to(111), "POP: port 111 still works without B's policies")
xfrm.say(f"POP: clear connection to A:110 refused by A (counters moved: {c.moved()})")
done("the FAQ's AH examples: AH, ESP+AH and the POP port-110 policy carry ping and TCP")
