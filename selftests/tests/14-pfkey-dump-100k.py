# cost: 480 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""DUMP of 25,000 SAs (100,000 with RXFRM_DUMP_N): chunked across recv() calls as af_key does, every SA
exactly once, sadb_msg_seq counting down to 0 — with 1,000 SAs deleted by
another socket while the dump is under way. Then the same for the SPD."""
import errno
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

# 100,000 with RXFRM_DUMP_N=100000 (about 20 minutes under TCG on the debug
# kernel, too long for CI's budget); 25,000 still makes the dump resume
# across hundreds of full receive queues.
N = int(os.environ.get("RXFRM_DUMP_N", "25000"))
DELETED = 1000
k = PfKey()


def src_of(i):
    return "10.%d.%d.1" % (i >> 16, (i >> 8) & 255)


# One ADD, patched per SA (SPI and source address): the Python side must not
# be what this test measures.
MARK_SPI, MARK_SRC = 0x7E57AB1E, "10.254.253.252"
tmpl = bytearray(msg(ADD, SATYPE_ESP, add_sa(MARK_SRC, "20.1.1.1", MARK_SPI)))
spi_off = tmpl.index(struct.pack("!I", MARK_SPI))
src_off = tmpl.index(socket.inet_aton(MARK_SRC))
t0 = time.time()
for i in range(N):
    struct.pack_into("!I", tmpl, spi_off, 0x1000 + i)
    struct.pack_into("4B", tmpl, src_off, 10, i >> 16, (i >> 8) & 255, 1)
    # Replies overflow our queue and are dropped for us alone: fine here.
    k.send(tmpl)
k.drain(0.5)
t1 = time.time()

# Dump; after the first 10 messages another socket deletes the last 1,000
# SAs (not yet dumped, as the dump follows insertion order).
other = PfKey()
k.send(msg(DUMP, SATYPE_UNSPEC, seq=0))
spis, seqs = [], []
while True:
    data = k.recv_raw(10)
    check(data is not None, "dump stalled")
    if data[1] != DUMP:
        continue
    m = Msg(data)
    spis.append(m.spi())
    seqs.append(m.seq)
    if len(spis) == 10:
        for i in range(N - DELETED, N):
            other.send(msg(DELETE, SATYPE_ESP, [ext_sa(0x1000 + i), ext_addr(EXT_ADDRESS_SRC, src_of(i)),
                                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")]))
        other.drain(0.2)
    if m.seq == 0:
        break
t2 = time.time()
eq(len(spis), len(set(spis)), "no SA repeated")
survivors = set(range(0x1000, 0x1000 + N - DELETED))
check(survivors <= set(spis), "every surviving SA dumped")
# af_key holds one built message back; at most one deleted SA may slip in.
check(len(spis) - len(survivors) <= 1, f"deleted SAs not dumped ({len(spis) - len(survivors)} extra)")
eq(seqs[-1], 0, "last message has seq 0")
check(all(x >= y for x, y in zip(seqs, seqs[1:])), "seq never counts up")
print(f"added {N} SAs in {t1 - t0:.1f}s, dumped in {t2 - t1:.1f}s")
r = k.request(GET, SATYPE_ESP, [ext_sa(0x1000 + N - 1), ext_addr(EXT_ADDRESS_SRC, src_of(N - 1)),
                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, errno.ESRCH, "a deleted SA is gone")
eq(k.request(FLUSH, 0).errno, 0, "FLUSH")

M = min(N, 10000)
for i in range(M):
    k.send(msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)),
                             ext_addr(EXT_ADDRESS_DST, "10.255.0.1"),
                             ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]))
k.drain(0.5)
pols = k.dump(X_SPDDUMP)
eq(len(pols), M, "SPDDUMP count")
eq(len({m.policy()["id"] for m in pols}), M, "no policy repeated")
eq(k.request(X_SPDFLUSH, 0).errno, 0, "SPDFLUSH")
done(f"DUMP of {N} SAs (with deletes under way) and SPDDUMP of {M} policies complete")
