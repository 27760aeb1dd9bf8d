# cost: 160 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Stress (issue 11's harness): TCP through ESP (AES-GCM-128, transport)
from `node` to `peer` for RXFRM_STRESS_SECS (60) seconds, in transfers of
1 MiB each checked by SHA-256, while in `node`
  - a churner adds, reads back and deletes other SAs and adds and
    deletes other policies in a loop (every reply checked);
  - a dumper runs DUMP and X_SPDDUMP in a loop: each must end with seq 0
    and list the flow's SAs and policies;
  - `rmmod rxfrm` is tried: refused, the PF_KEY sockets pin the module.
Nothing may be lost: every transfer arrives whole. Then an idle TCP
connection (its socket caching the bundle) also pins the module; once it
closes, `rmmod` succeeds with the namespaces and their SAs still there,
and `insmod` restores the module. The kernel log must stay clean (the runner checks)."""
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
import xfrm  # noqa: E402  (first: makes the implementation available)
from ptest import check, done, eq, wait_until  # noqa: E402
from pfkey import *  # noqa: E402,F403
import esp  # noqa: E402

SECS = float(os.environ.get("RXFRM_STRESS_SECS", "60"))
NODE, PEER = "node", "peer"
N_IP, P_IP = "10.0.0.1", "10.0.0.2"
K_OUT = bytes(range(16)) + b"\xca\xfe\xba\xbe"
K_IN = bytes(range(16, 32)) + b"\xde\xca\xfb\xad"
SPI_OUT, SPI_IN = 0x5901, 0x5902



def refcnt():
    with open("/sys/module/rxfrm/refcnt") as f:
        return int(f.read())


BASE_REFS = None if xfrm.NATIVE else refcnt()  # no PF_KEY socket open, no bundle cached
esp.topology("pair", NODE, PEER)
for ns, me, them in ((NODE, N_IP, P_IP), (PEER, P_IP, N_IP)):
    xfrm.configure(ns, f"add {N_IP} {P_IP} esp {SPI_OUT:#x} -E aes-gcm-16 0x{K_OUT.hex()};\n"
                       f"add {P_IP} {N_IP} esp {SPI_IN:#x} -E aes-gcm-16 0x{K_IN.hex()};\n"
                       f"spdadd {me} {them} any -P out ipsec esp/transport//require;\n"
                       f"spdadd {them} {me} any -P in ipsec esp/transport//require;\n")
check(esp.ping(NODE, P_IP), "ping through ESP before the stress")
with esp.netns(NODE):
    k0 = PfKey()
POLICIES = len(k0.dump(X_SPDDUMP))  # out, in and setkey's fwd twin of in
k0.close()


def in_node(fn):
    """fn() run in namespace node (its PF_KEY sockets belong there)."""
    with esp.netns(NODE):
        return fn()


def churner(stop, rounds):
    k = in_node(PfKey)
    i = 0
    while not stop.is_set():
        src, spi = "10.59.%d.%d" % ((i >> 8) & 255, i & 255), 0x590000 + (i % 50000)
        sa = add_sa(src, "20.59.0.1", spi, enc=EALG_AESCBC, ekey=b"k" * 16, auth=AALG_SHA1HMAC, akey=b"a" * 20)
        r = k.request(ADD, SATYPE_ESP, sa)
        assert r.errno == 0, f"ADD {spi:#x}: errno {r.errno}"
        # UPDATE of the mature SA: new lifetimes (af_key wants the keys
        # again, as in ADD; only the lifetimes change).
        lt = [ext_lifetime(EXT_LIFETIME_HARD, addtime=3600 + i % 60), ext_lifetime(EXT_LIFETIME_SOFT, addtime=3000)]
        r = k.request(UPDATE, SATYPE_ESP, sa + lt)
        assert r.errno == 0, f"UPDATE {spi:#x}: errno {r.errno}"
        r = k.request(GET, SATYPE_ESP, [ext_sa(spi), ext_addr(EXT_ADDRESS_SRC, src), ext_addr(EXT_ADDRESS_DST, "20.59.0.1")])
        assert r.errno == 0, f"GET {spi:#x}: errno {r.errno}"
        sel = [ext_addr(EXT_ADDRESS_SRC, src), ext_addr(EXT_ADDRESS_DST, "20.59.0.1")]
        pol = ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])
        r = k.request(X_SPDADD, 0, sel + [pol])
        assert r.errno == 0, f"SPDADD {src}: errno {r.errno}"
        r = k.request(DELETE, SATYPE_ESP, [ext_sa(spi)] + sel)
        assert r.errno == 0, f"DELETE {spi:#x}: errno {r.errno}"
        r = k.request(X_SPDDELETE, 0, sel + [ext_policy(POLICY_IPSEC, DIR_OUT)])
        assert r.errno == 0, f"SPDDELETE {src}: errno {r.errno}"
        i += 1
        with rounds.get_lock():
            rounds.value += 1
    k.close()


def dumper(stop, dumps):
    k = in_node(PfKey)
    while not stop.is_set():
        spis = {m.spi() for m in k.dump()}
        assert {SPI_OUT, SPI_IN} <= spis, f"DUMP lost the flow's SAs: {sorted(spis)[:8]}"
        pols = k.dump(X_SPDDUMP)
        assert len(pols) >= 2, f"X_SPDDUMP lost the flow's policies ({len(pols)})"
        with dumps.get_lock():
            dumps.value += 1
    k.close()


stop = mp.Event()
rounds, dumps = mp.Value("l", 0), mp.Value("l", 0)
procs = [mp.Process(target=churner, args=(stop, rounds)), mp.Process(target=dumper, args=(stop, dumps))]
for p in procs:
    p.start()
transfers = total = refused = 0
try:
    wait_until(lambda: rounds.value > 0 and dumps.value > 0 or not all(p.is_alive() for p in procs),
               "the churner and the dumper did not start", timeout=120)
    t0 = time.time()
    while time.time() - t0 < SECS:
        check(all(p.is_alive() for p in procs), f"a stress process died: {[p.exitcode for p in procs]}")
        sent, h1, got, h2, secs = esp.tcp_transfer(PEER, P_IP, NODE, 1 << 20, port=5900 + transfers % 50)
        eq((got, h2), (sent, h1), f"transfer {transfers}: bytes and SHA-256 at the receiver")
        eq(sent, 1 << 20, f"transfer {transfers}: all sent")
        transfers += 1
        total += sent
        if not xfrm.NATIVE and transfers % 3 == 1:
            r = subprocess.run(["rmmod", "rxfrm"], capture_output=True, text=True)
            check(r.returncode != 0, "rmmod succeeded while PF_KEY sockets were open")
            check("in use" in r.stderr, f"rmmod refused for another reason: {r.stderr.strip()}")
            refused += 1
finally:
    stop.set()
    for p in procs:
        p.join(120)
eq([p.exitcode for p in procs], [0, 0], "the churner's and the dumper's exit codes (an assertion above fails them)")
took = time.time() - t0
xfrm.say(f"{transfers} transfers, {total >> 20} MiB intact in {took:.0f}s; {rounds.value} churn rounds "
         f"(6 PF_KEY messages each: ADD, UPDATE, GET, X_SPDADD, DELETE, X_SPDDELETE), {dumps.value} DUMP+X_SPDDUMP pairs, rmmod refused {refused} times")
check(rounds.value >= 10 and dumps.value >= 2, "the churn and the dumps ran during the transfers")

k = in_node(PfKey)
left = {m.spi() for m in k.dump()}
eq(left, {SPI_OUT, SPI_IN}, "only the flow's SAs remain after the churn")
eq(len(k.dump(X_SPDDUMP)), POLICIES, "only the flow's policies remain after the churn")
k.close()

if xfrm.NATIVE:
    done(f"stress on native xfrm: {transfers} transfers intact under churn and dumps")

# A connection caching a bundle pins the module (its head entry holds a
# module reference, README): rmmod is refused while it is open, and
# succeeds, namespaces and SAs still there, once it is closed.
with esp.netns(PEER):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((P_IP, 5999))
    srv.listen(1)
with esp.netns(NODE):
    cli = socket.create_connection((P_IP, 5999), timeout=60)
conn, _ = srv.accept()
cli.sendall(b"before rmmod")
conn.settimeout(60)
eq(conn.recv(64), b"before rmmod", "the idle connection works through ESP")
r = subprocess.run(["rmmod", "rxfrm"], capture_output=True, text=True, timeout=300)
check(r.returncode != 0 and "in use" in r.stderr,
      f"rmmod while a connection caches a bundle must be refused as in use: {r.returncode} {r.stderr.strip()}")
cli.close()
conn.close()
srv.close()
wait_until(lambda: refcnt() == BASE_REFS, "the closed connection's bundle still pins the module", timeout=120,
           show=refcnt)
r = subprocess.run(["rmmod", "rxfrm"], capture_output=True, text=True, timeout=300)
eq(r.returncode, 0, f"rmmod with live namespaces and SAs, connections closed: {r.stderr.strip()}")
r = subprocess.run(["insmod", os.environ.get("RXFRM_KO") or os.path.join(os.environ["RXFRM_ROOT"], "rxfrm.ko")], capture_output=True, text=True)
eq(r.returncode, 0, f"insmod after the stress: {r.stderr.strip()}")
done(f"stress: {transfers} transfers ({total >> 20} MiB) intact over {took:.0f}s of SA/policy churn "
     f"({rounds.value} rounds) and {dumps.value} dumps; rmmod refused while open, clean after")
