# cost: 150 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Keying on demand. With `require` policies and no SA, a packet makes
rxfrm send SADB_ACQUIRE to the PF_KEY sockets registered for ESP in that
namespace (with the flow's addresses, the policy and a proposal), and to
no other namespace. This test then is the key manager, as racoon would
be: GETSPI for each inbound SA, UPDATE to key it, ADD for each outbound SA
(the initiator's with the ACQUIRE's sequence number) — after which ping
and UDP flow as ESP with the SPIs GETSPI chose.
Namespaces: ini (10.0.0.1) sends first, rsp (10.0.0.2) answers."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403
import esp  # noqa: E402

INI, RSP = "ini", "rsp"
I_IP, R_IP = "10.0.0.1", "10.0.0.2"
esp.topology("pair", INI, RSP)
for ns, me, peer in ((INI, I_IP, R_IP), (RSP, R_IP, I_IP)):
    esp.configure(ns, f"spdadd {me} {peer} any -P out ipsec esp/transport//require;\n"
                      f"spdadd {peer} {me} any -P in ipsec esp/transport//require;\n")
with esp.netns(INI):
    km_i = PfKey()
with esp.netns(RSP):
    km_r = PfKey()
for k, ns in ((km_i, INI), (km_r, RSP)):
    eq(k.request(REGISTER, SATYPE_ESP).errno, 0, f"REGISTER ESP in {ns}")
    k.drain(0.2)


def next_of_type(k, mtype, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = k.recv(deadline - time.time())
        if m is not None and m.type == mtype:
            return m
    return None


# A packet hits the outbound policy: ACQUIRE.
s = esp.udp_socket(INI, I_IP)
esp.send_udp(s, b"no SA yet", R_IP, 7000)  # dropped or refused; either is fine
acq = next_of_type(km_i, ACQUIRE, 60)
check(acq is not None, "no SADB_ACQUIRE in ini after a packet met its require policy")
eq(acq.satype, SATYPE_ESP, "ACQUIRE satype")
eq(acq.address(EXT_ADDRESS_SRC)[0], I_IP, "ACQUIRE source address")
eq(acq.address(EXT_ADDRESS_DST)[0], R_IP, "ACQUIRE destination address")
check(EXT_X_POLICY in acq.exts, f"ACQUIRE carries the policy: {acq}")
eq(acq.policy()["dir"], DIR_OUT, "ACQUIRE's policy direction")
check(EXT_PROPOSAL in acq.exts, f"ACQUIRE carries a proposal: {acq}")
eq([m for m in km_r.drain(0.3) if m.type == ACQUIRE], [], "rsp sent nothing, so it gets no ACQUIRE")
print(f"ACQUIRE seq={acq.seq} {I_IP} -> {R_IP}")

# The key manager's work, on both sides.
K_IR = (bytes(range(0x10, 0x20)), bytes(range(0x30, 0x44)))  # AES-128, HMAC-SHA1
K_RI = (bytes(range(0x50, 0x60)), bytes(range(0x70, 0x84)))


def getspi(k, src, dst):
    r = k.request(GETSPI, SATYPE_ESP, [ext_sa2(MODE_TRANSPORT), ext_addr(EXT_ADDRESS_SRC, src),
                                       ext_addr(EXT_ADDRESS_DST, dst), ext_spirange(0x10000, 0x1FFFF)])
    eq(r.errno, 0, f"GETSPI {src} -> {dst}")
    return r.spi()


def keyed(src, dst, spi, keys):
    return add_sa(src, dst, spi, enc=EALG_AESCBC, ekey=keys[0], auth=AALG_SHA1HMAC, akey=keys[1],
                  mode=MODE_TRANSPORT)


spi_ri = getspi(km_i, R_IP, I_IP)  # ini's inbound SA
spi_ir = getspi(km_r, I_IP, R_IP)  # rsp's inbound SA
eq(km_i.request(UPDATE, SATYPE_ESP, keyed(R_IP, I_IP, spi_ri, K_RI)).errno, 0, "UPDATE in ini")
km_i.seq = max(acq.seq, 1) - 1  # request() sends the ADD with the ACQUIRE's seq, as racoon does
eq(km_i.request(ADD, SATYPE_ESP, keyed(I_IP, R_IP, spi_ir, K_IR)).errno, 0, "ADD in ini")
eq(km_r.request(UPDATE, SATYPE_ESP, keyed(I_IP, R_IP, spi_ir, K_IR)).errno, 0, "UPDATE in rsp")
eq(km_r.request(ADD, SATYPE_ESP, keyed(R_IP, I_IP, spi_ri, K_RI)).errno, 0, "ADD in rsp")
for ns in (INI, RSP):
    states = {x.get("spi"): x.get("state") for x in esp.sad(ns)}
    eq(states.get(spi_ir), "mature", f"{ns}: SA {spi_ir:#x}")
    eq(states.get(spi_ri), "mature", f"{ns}: SA {spi_ri:#x}")

# Traffic now flows, encrypted with the negotiated SAs.
wire = esp.Sniffer(RSP, "eth0")
check(esp.ping(INI, R_IP), "ping ini -> rsp after keying")
r = esp.udp_socket(RSP, R_IP, 7000)
eq(esp.send_udp(s, b"keyed", R_IP, 7000), None, "sendto after keying")
eq(esp.recv_within(r, 30), b"keyed", "UDP after keying")
seen = esp.summary(wire.frames())
check(seen[("ipv4", "esp", spi_ir)] > 0, f"ESP with rsp's inbound SPI {spi_ir:#x}: {dict(seen)}")
check(seen[("ipv4", "esp", spi_ri)] > 0, f"ESP with ini's inbound SPI {spi_ri:#x}: {dict(seen)}")
eq(seen[("ipv4", "icmp", None)] + seen[("ipv4", "udp", None)], 0, "clear ICMP/UDP on the wire")
done("ACQUIRE on demand; GETSPI/UPDATE/ADD key the flow")
