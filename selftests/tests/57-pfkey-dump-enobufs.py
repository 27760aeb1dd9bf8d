# cost: 150 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Issue 11 #9: a DUMP survives a full receive queue. 4,000 ESP SAs and
1,000 policies; a socket with SO_RCVBUF 4 KiB dumps them, reading slowly,
while two other processes storm broadcasts (ADD and DELETE of AH SAs on
other addresses, which PF_KEY sends to every socket): the dumper's queue
is full again and again, so the dump's own messages meet ENOBUFS. Every
entry must still arrive exactly once, the last with sadb_msg_seq 0; the
same for X_SPDDUMP. The storm's broadcasts may be lost (af_key drops
them too); that some were is checked, or the queue never filled and the
test proved nothing."""
import multiprocessing as mp
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq, wait_until  # noqa: E402
from pfkey import *  # noqa: E402,F403

N_SA = int(os.environ.get("RXFRM_ENOBUFS_SAS", "4000"))
N_POL = int(os.environ.get("RXFRM_ENOBUFS_POLICIES", "1000"))
STORMERS = 2
SO_RCVBUF = 4096
DST = "20.1.1.1"

k = PfKey()
# One ADD, patched per SA (SPI and source address), as 14-pfkey-dump-100k.
MARK_SPI, MARK_SRC = 0x7E57AB1E, "10.254.253.252"
tmpl = bytearray(msg(ADD, SATYPE_ESP, add_sa(MARK_SRC, DST, MARK_SPI)))
spi_off = tmpl.index(struct.pack("!I", MARK_SPI))
src_off = tmpl.index(socket.inet_aton(MARK_SRC))
t0 = time.time()
for i in range(N_SA):
    struct.pack_into("!I", tmpl, spi_off, 0x1000 + i)
    struct.pack_into("4B", tmpl, src_off, 10, 1, i >> 8, i & 255)
    k.send(tmpl)  # replies overflow this socket's queue: dropped for it alone, fine
for i in range(N_POL):
    k.send(msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.2.%d.%d" % (i >> 8, i & 255)),
                             ext_addr(EXT_ADDRESS_DST, DST),
                             ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]))
k.drain(0.2)
last = N_SA - 1
r = k.request(GET, SATYPE_ESP, [ext_sa(0x1000 + last),
                                ext_addr(EXT_ADDRESS_SRC, "10.1.%d.%d" % (last >> 8, last & 255)),
                                ext_addr(EXT_ADDRESS_DST, DST)])
eq(r.errno, 0, "the last SA added is there")
print(f"added {N_SA} SAs and {N_POL} policies in {time.time() - t0:.1f}s")


def storm(n, stop, ops):
    """ADD then DELETE of an AH SA (30.n.x.y -> 30.255.0.1) in a loop until
    `stop`: two broadcasts to every PF_KEY socket per round. Its own
    replies are drained without waiting for them."""
    s = PfKey()
    s.sock.setblocking(False)
    i = 0
    while not stop.is_set():
        src = "30.%d.%d.%d" % (n, (i >> 8) & 255, i & 255)
        sa = [ext_sa(0x20000 + i % 65536, auth=AALG_SHA1HMAC), ext_addr(EXT_ADDRESS_SRC, src),
              ext_addr(EXT_ADDRESS_DST, "30.255.0.1")]
        s.send(msg(ADD, SATYPE_AH, sa + [ext_key(EXT_KEY_AUTH, b"k" * 20)]))
        s.send(msg(DELETE, SATYPE_AH, sa))
        i += 1
        with ops.get_lock():
            ops.value += 1
        try:
            while s.sock.recv(1 << 16):
                pass
        except BlockingIOError:
            pass
    s.close()


def slow_dump(mtype, satype, key_of, want, what):
    """Runs one dump on a 4 KiB-queue socket under the storm; returns the
    keys of its messages (checked: each once, `want` of them, seq 0 last)."""
    stop = mp.Event()
    ops = [mp.Value("l", 0) for _ in range(STORMERS)]
    procs = [mp.Process(target=storm, args=(n, stop, ops[n])) for n in range(STORMERS)]
    d = PfKey()
    d.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SO_RCVBUF)
    for p in procs:
        p.start()
    keys, seqs, bcasts = [], [], 0
    try:
        # The storm is under way (each stormer did 20 rounds) before the dump.
        wait_until(lambda: all(o.value >= 20 for o in ops) or any(not p.is_alive() for p in procs),
                   f"{what}: the stormers did not start")
        check(all(p.is_alive() for p in procs), f"{what}: a stormer died: {[p.exitcode for p in procs]}")
        before = sum(o.value for o in ops)
        d.send(msg(mtype, satype, seq=0))
        n = 0
        while True:
            data = d.recv_raw(60)
            check(data is not None, f"{what}: the dump stalled (no message for 60s) after {len(keys)} entries")
            n += 1
            if n % 8 == 0:
                time.sleep(0.002)  # a slow reader: the storm fills the queue meanwhile
            m = Msg(data)
            if m.type in (ADD, DELETE) and m.satype == SATYPE_AH:
                bcasts += 1
                continue
            if m.type != mtype or m.pid != os.getpid():
                continue
            check(m.errno == 0, f"{what}: the dump failed with errno {m.errno} after {len(keys)} entries")
            keys.append(key_of(m))
            seqs.append(m.seq)
            if m.seq == 0:
                break
        during = sum(o.value for o in ops) - before
    finally:
        stop.set()
        for p in procs:
            p.join(60)
        d.close()
    eq([p.exitcode for p in procs], [0] * STORMERS, f"{what}: the stormers' exit codes")
    print(f"{what}: {len(keys)} entries; {during} storm rounds during the dump, "
          f"{bcasts} of their broadcasts reached the dumper")
    check(during > 0, f"{what}: the storm did not run during the dump")
    # Two broadcasts per round reach every socket unless its queue is full.
    check(bcasts < 2 * during, f"{what}: the dumper's queue never overflowed ({bcasts} broadcasts of "
                               f"{2 * during} arrived): the test proved nothing")
    eq(len(keys), len(set(keys)), f"{what}: no entry repeated")
    eq(sorted(keys), sorted(want), f"{what}: every entry dumped")
    eq(seqs[-1], 0, f"{what}: the last message has seq 0")
    check(all(x > y for x, y in zip(seqs, seqs[1:])), f"{what}: seq counts down")
    return keys


slow_dump(DUMP, SATYPE_ESP, lambda m: m.spi(), [0x1000 + i for i in range(N_SA)], "DUMP")
# Policy ids as an unhindered dump lists them.
ids = [m.policy()["id"] for m in k.dump(X_SPDDUMP)]
eq(len(ids), N_POL, "X_SPDDUMP count without a storm")
slow_dump(X_SPDDUMP, 0, lambda m: m.policy()["id"], ids, "X_SPDDUMP")
# k's queue overflowed with the storm's broadcasts (it never read them):
# a fresh socket, so the replies have room.
k.close()
k = PfKey()
eq(k.request(FLUSH, 0).errno, 0, "FLUSH")
eq(k.request(X_SPDFLUSH, 0).errno, 0, "SPDFLUSH")
done(f"DUMP of {N_SA} SAs and X_SPDDUMP of {N_POL} policies complete on a 4 KiB queue under a broadcast storm")
