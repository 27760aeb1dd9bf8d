# cost: 360 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""rxfrm's ESP is RFC 4303 as scapy implements it (scapy.layers.ipsec,
same keys), in transport mode between namespace `rx` (10.0.0.1, keyed
with setkey) and `sc` (10.0.0.2, no IPsec: scapy does its part on raw
frames of its veth). For AES-GCM-128, AES-CBC + HMAC-SHA1-96 and
ChaCha20-Poly1305, and the first two again with extended sequence numbers
(`setkey -f esn`; scapy's esn_en):
- rxfrm -> scapy: a UDP datagram and an echo request sent in rx leave as
  ESP that scapy decrypts to the original (UDP checksum valid);
- scapy -> rxfrm: a datagram scapy encrypts and injects is delivered to a
  UDP socket in rx; an echo request it encrypts is answered with ESP that
  scapy decrypts to the matching echo reply.
With ESN, a packet whose ICV covers the wrong high half (1 where rx is
still in the first 2^32) is dropped as an integrity failure. (scapy 2.5
puts the high half into AEAD associated data, but leaves it out of ESP's
HMAC; RFC 4303 §3.3.2.1 appends it to the HMAC input, so the test signs
and checks HMAC ICVs of ESN SAs itself.)
Known answer: two ESP packets made from fixed keys, IVs and sequence
numbers (AES-CBC + HMAC-SHA1-96, AES-GCM-128; scapy must rebuild them
byte for byte, and they were checked once against a plain AES/HMAC
computation) are delivered by rx and counted on their SAs."""
import copy
import hashlib
import hmac
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
import esp  # noqa: E402

try:
    from scapy.config import conf
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.packet import Raw
except ImportError as e:
    print(f"SKIP: scapy is not importable by {sys.executable} ({e}); Debian: python3-scapy")
    sys.exit(4)
if not conf.crypto_valid:
    print("SKIP: scapy's IPsec needs python3-cryptography")
    sys.exit(4)

RX, SC = "rx", "sc"
RX_IP, SC_IP = "10.0.0.1", "10.0.0.2"
esp.topology("pair", RX, SC)
to_rx = esp.eth_header(SC, "eth0", RX, "eth0")  # frames injected by sc
sniff = esp.Sniffer(SC, "eth0")


def key(n, seed):
    return bytes((seed + i) & 0xFF for i in range(n))


# name, setkey -E name, scapy name, key bytes (salt included), setkey -A
# name, scapy name, key bytes, ESN
ALGS = [
    ("AES-GCM-128", "aes-gcm-16", "AES-GCM", 20, None, None, 0, False),
    ("AES-CBC/HMAC-SHA1", "aes-cbc", "AES-CBC", 16, "hmac-sha1", "HMAC-SHA1-96", 20, False),
    ("ChaCha20-Poly1305", "chacha20-poly1305", "CHACHA20-POLY1305", 36, None, None, 0, False),
    ("AES-GCM-128 ESN", "aes-gcm-16", "AES-GCM", 20, None, None, 0, True),
    ("AES-CBC/HMAC-SHA1 ESN", "aes-cbc", "AES-CBC", 16, "hmac-sha1", "HMAC-SHA1-96", 20, True),
]


def sa_pair(i, alg):
    """Keys rx with SAs rx->sc and sc->rx and require policies both ways;
    returns scapy's view of the two SAs."""
    name, sk_e, sc_e, elen, sk_a, sc_a, alen, esn_en = alg
    sas, conf_lines = [], []
    for d, (src, dst) in enumerate([(RX_IP, SC_IP), (SC_IP, RX_IP)]):
        spi = 0x2400 + 0x10 * i + d + 1
        ekey, akey = key(elen, 0x40 * d + i), key(alen, 0x80 + 0x40 * d + i)
        algs = f"-E {sk_e} 0x{ekey.hex()}" + (f" -A {sk_a} 0x{akey.hex()}" if sk_a else "")
        flags = " -r 64 -f esn" if esn_en else ""
        conf_lines.append(f"add {src} {dst} esp {spi:#x}{flags} {algs};")
        sas.append(SecurityAssociation(ESP, spi=spi, crypt_algo=sc_e, crypt_key=ekey,
                                       auth_algo=sc_a, auth_key=akey if sc_a else None,
                                       esn_en=esn_en, esn=0))
    conf_lines += [f"spdadd {RX_IP} {SC_IP} any -P out ipsec esp/transport//require;",
                   f"spdadd {SC_IP} {RX_IP} any -P in ipsec esp/transport//require;"]
    esp.configure(RX, "\n".join(conf_lines) + "\n")
    return sas


def esn_hmac(sa, esp_wo_icv, hi):
    """RFC 4303 §3.3.2.1: the high half is appended for the ICV only."""
    h = hmac.new(sa.auth_key, esp_wo_icv + struct.pack("!L", hi), hashlib.sha1)
    return h.digest()[:sa.auth_algo.icv_size]


def hmac_esn(sa):
    return sa.esn_en and sa.auth_algo.name != "NULL"


def sc_decrypt(sa, ip):
    """scapy's decryption, the HMAC of an ESN SA checked here."""
    if not hmac_esn(sa):
        return sa.decrypt(ip)
    raw, n = bytes(ip[ESP]), sa.auth_algo.icv_size
    eq(raw[-n:].hex(), esn_hmac(sa, raw[:-n], sa.esn).hex(), f"SPI {sa.spi:#x}: ESN ICV (high half {sa.esn})")
    return sa.decrypt(ip, verify=False)


def sc_encrypt(sa, pkt, **kw):
    """scapy's encryption, the HMAC of an ESN SA computed here."""
    out = bytes(sa.encrypt(pkt, **kw))
    if not hmac_esn(sa):
        return out
    n = sa.auth_algo.icv_size
    esp_start = len(out) - len(bytes(IP(out)[ESP]))
    return out[:-n] + esn_hmac(sa, out[esp_start:-n], sa.esn)


def esp_from_rx(spi, what):
    got = sniff.wait_for(lambda f: f.kind == "esp" and f.spi == spi and f.src == RX_IP, timeout=30)
    check(got, f"{what}: no ESP with SPI {spi:#x} from rx on the wire")
    return IP(got[0].ip)


def udp_checksum_ok(p):
    if p[UDP].chksum == 0:
        return True
    q = IP(bytes(p))
    del q[UDP].chksum
    return IP(bytes(q))[UDP].chksum == p[UDP].chksum


def from_rxfrm(name, out):
    sniff.frames(0.2)
    data = f"rxfrm -> scapy, {name}".encode()
    s = esp.udp_socket(RX, RX_IP)
    eq(esp.send_udp(s, data, SC_IP, 5555), None, f"{name}: sendto from rx")
    s.close()
    p = sc_decrypt(out, esp_from_rx(out.spi, f"{name} UDP"))
    check(UDP in p, f"{name}: scapy's decryption of rx's ESP is not UDP: {p!r}")
    eq((p[IP].src, p[IP].dst, p[UDP].dport, bytes(p[UDP].payload)), (RX_IP, SC_IP, 5555, data),
       f"{name}: the datagram scapy decrypted")
    check(udp_checksum_ok(p), f"{name}: the decrypted UDP checksum is wrong")

    esp.run(RX, "ping", "-q", "-c", "1", "-W", "1", "-p", "c0ffee", SC_IP, stdout=subprocess.DEVNULL)
    p = sc_decrypt(out, esp_from_rx(out.spi, f"{name} ping"))
    check(ICMP in p and p[ICMP].type == 8, f"{name}: rx's ping decrypts to {p!r}")
    check(b"\xc0\xff\xee" * 3 in bytes(p[ICMP].payload), f"{name}: the echo request lost ping's pattern")


def to_rxfrm(name, out, inb):
    data = f"scapy -> rxfrm, {name}".encode()
    s = esp.udp_socket(RX, RX_IP, 5556)
    pkt = IP(src=SC_IP, dst=RX_IP) / UDP(sport=40000, dport=5556) / Raw(data)
    esp.inject(SC, "eth0", to_rx + sc_encrypt(inb, pkt))
    eq(esp.recv_within(s, 30), data, f"{name}: the datagram scapy encrypted, delivered in rx")
    s.close()

    sniff.frames(0.2)
    text = f"scapy echo, {name}".encode()
    echo = IP(src=SC_IP, dst=RX_IP) / ICMP(type=8, id=0x2424, seq=7) / Raw(text)
    esp.inject(SC, "eth0", to_rx + sc_encrypt(inb, echo))
    r = sc_decrypt(out, esp_from_rx(out.spi, f"{name} echo reply"))
    check(ICMP in r, f"{name}: rx's answer decrypts to {r!r}")
    eq((r[IP].dst, r[ICMP].type, r[ICMP].id, r[ICMP].seq, bytes(r[ICMP].payload)),
       (SC_IP, 0, 0x2424, 7, text), f"{name}: the echo reply to scapy's request")
    st = esp.sa(RX, inb.spi)
    check(st and st.get("packets", 0) >= 2, f"{name}: rx's inbound SA counted {st}")


def wrong_esn_dropped(name, inb):
    """The high half is authenticated though never sent: scapy's esn=1
    makes an ICV rx (still at 0) cannot verify."""
    wrong = copy.copy(inb)
    wrong.esn = 1
    data = f"wrong ESN, {name}".encode()
    s = esp.udp_socket(RX, RX_IP, 5558)
    before = esp.stat(RX).get("XfrmInStateProtoError", 0)
    pkt = IP(src=SC_IP, dst=RX_IP) / UDP(sport=40000, dport=5558) / Raw(data)
    esp.inject(SC, "eth0", to_rx + sc_encrypt(wrong, pkt, seq_num=100))
    wait_until(lambda: esp.stat(RX).get("XfrmInStateProtoError", 0) > before,
               f"{name}: a packet for ESN high half 1 did not move XfrmInStateProtoError")
    eq(esp.recv_within(s, 0.3), None, f"{name}: a packet for ESN high half 1 is not delivered")
    s.close()
    eq(esp.stat(RX).get("XfrmInStateProtoError", 0), before + 1, f"{name}: counted as an ICV failure")


for i, alg in enumerate(ALGS):
    out, inb = sa_pair(i, alg)
    from_rxfrm(alg[0], out)
    to_rxfrm(alg[0], out, inb)
    if alg[7]:
        wrong_esn_dropped(alg[0], inb)
        eq((esp.sa(RX, inb.spi) or {}).get("flags"), 0x400, f"{alg[0]}: setkey -D shows the ESN flag")
    print(f"{alg[0]}: rxfrm and scapy read each other's ESP")

# --- known answer -----------------------------------------------------------
# Inner packet: IP(src=10.0.0.2, dst=10.0.0.1, id=0x4b41, ttl=64) /
# UDP(sport=4242, dport=5557) / TEXT, ESP sequence number 1.
KAT = [
    (0x4B415401, b"rxfrm known answer: AES-CBC+HMAC-SHA1",
     "-E aes-cbc 0x000102030405060708090a0b0c0d0e0f -A hmac-sha1 0x202122232425262728292a2b2c2d2e2f30313233",
     dict(crypt_algo="AES-CBC", crypt_key=bytes(range(16)),
          auth_algo="HMAC-SHA1-96", auth_key=bytes(range(0x20, 0x34))),
     bytes(range(0xA0, 0xB0)),
     "450000684b41000040321b210a0000020a0000014b41540100000001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
     "41b673380413885802ca62b786cb8c7b7b53c07f1daef9c2bec4f15e4e939ca9fc35895323f252f3cb0a35ca"
     "68a739e9ce76876b297b28393dea1efa"),
    (0x4B415402, b"rxfrm known answer: AES-GCM-128",
     "-E aes-gcm-16 0x000102030405060708090a0b0c0d0e0fcafebabe",
     dict(crypt_algo="AES-GCM", crypt_key=bytes(range(16)) + bytes.fromhex("cafebabe")),
     bytes.fromhex("0102030405060708"),
     "450000604b41000040321b290a0000020a0000014b4154020000000101020304050607080570d9d0833e5568"
     "3e55888709bdb5288c2ddecf3a46890a02ed348a505a6ebb508e6c243a5713294ed893e4c61331758810f7de"
     "71c458340f7e3a89"),
]
esp.configure(RX, "".join(f"add {SC_IP} {RX_IP} esp {spi:#x} {algs};\n" for spi, _, algs, *_ in KAT)
              + f"spdadd {SC_IP} {RX_IP} any -P in ipsec esp/transport//require;\n")
for spi, text, _, kw, iv, want in KAT:
    inner = IP(src=SC_IP, dst=RX_IP, id=0x4B41, ttl=64) / UDP(sport=4242, dport=5557) / Raw(text)
    built = bytes(SecurityAssociation(ESP, spi=spi, **kw).encrypt(inner, seq_num=1, iv=iv))
    eq(built.hex(), want, f"KAT {spi:#x}: scapy rebuilds the known packet")
    eq((esp.sa(RX, spi) or {}).get("packets"), 0, f"KAT {spi:#x}: the SA starts unused")
    s = esp.udp_socket(RX, RX_IP, 5557)
    esp.inject(SC, "eth0", to_rx + bytes.fromhex(want))
    eq(esp.recv_within(s, 30), text, f"KAT {spi:#x}: rx delivers the known packet's payload")
    s.close()
    st = esp.sa(RX, spi) or {}
    eq(st.get("packets"), 1, f"KAT {spi:#x}: packets on the SA")
    check(st.get("bytes", 0) > 0, f"KAT {spi:#x}: bytes on the SA: {st}")
done("ESP interoperates with scapy both ways; known answers accepted")
