"""DUMP of 100,000 SAs: chunked across recv() calls as af_key does, every SA
exactly once, sadb_msg_seq counting down to 0. Then the same for the SPD."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

N = int(os.environ.get("RXFRM_DUMP_N", "100000"))
k = PfKey()
t0 = time.time()
for i in range(N):
    # Replies overflow our queue and are dropped for us alone: fine here.
    k.send(msg(ADD, SATYPE_ESP, add_sa("10.%d.%d.1" % (i >> 16, (i >> 8) & 255), "20.1.1.1", 0x1000 + i)))
k.drain(0.5)
t1 = time.time()
msgs = k.dump()
t2 = time.time()
eq(len(msgs), N, "DUMP message count")
spis = [m.spi() for m in msgs]
eq(len(set(spis)), N, "no SA repeated")
eq(set(spis), set(range(0x1000, 0x1000 + N)), "every SA present")
seqs = [m.seq for m in msgs]
eq(seqs[-1], 0, "last message has seq 0")
check(all(x > y for x, y in zip(seqs, seqs[1:])), "seq counts down")
print(f"added {N} SAs in {t1 - t0:.1f}s, dumped in {t2 - t1:.1f}s")

# Deleting while a dump is under way: nothing repeated, nothing invented.
other = PfKey()
k.send(msg(DUMP, SATYPE_ESP, seq=0))
seen = []
deleted = set()
while True:
    m = k.recv(10)
    check(m is not None, "dump stalled")
    if m.type != DUMP:
        continue
    seen.append(m.spi())
    if len(seen) == 10:
        for i in range(N - 1000, N):
            other.send(msg(DELETE, SATYPE_ESP, [ext_sa(0x1000 + i), ext_addr(EXT_ADDRESS_SRC, "10.%d.%d.1" % (i >> 16, (i >> 8) & 255)),
                                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")]))
            deleted.add(0x1000 + i)
    if m.seq == 0:
        break
eq(len(seen), len(set(seen)), "no SA repeated with deletes interleaved")
check(len(seen) <= N and len(seen) >= N - 1000, f"dump length {len(seen)} within bounds")
eq(k.request(FLUSH, 0).errno, 0, "FLUSH")

M = min(N, 20000)
for i in range(M):
    k.send(msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)),
                             ext_addr(EXT_ADDRESS_DST, "10.255.0.1"),
                             ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]))
k.drain(0.5)
pols = k.dump(X_SPDDUMP)
eq(len(pols), M, "SPDDUMP count")
eq(len({m.policy()["id"] for m in pols}), M, "no policy repeated")
eq(k.request(X_SPDFLUSH, 0).errno, 0, "SPDFLUSH")
done(f"DUMP of {N} SAs and SPDDUMP of {M} policies complete")
