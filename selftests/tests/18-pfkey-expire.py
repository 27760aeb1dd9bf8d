# cost: 14 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Lifetimes run in the kernel (a once-a-second timer per namespace): an SA
with soft/hard add-time limits produces SADB_EXPIRE soft once, then hard,
to sockets registered for its SA type, and disappears; a larval SA from
GETSPI answered by a failed negotiation (ACQUIRE with errno) goes away."""
import errno
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

km = PfKey()
eq(km.request(REGISTER, SATYPE_ESP).errno, 0, "REGISTER")
other = PfKey()  # not registered: must not see EXPIRE
exts = add_sa("10.1.1.1", "20.1.1.1", 0xE1) + [
    ext_lifetime(EXT_LIFETIME_SOFT, addtime=2), ext_lifetime(EXT_LIFETIME_HARD, addtime=4)]
eq(km.request(ADD, SATYPE_ESP, exts).errno, 0, "ADD with lifetimes")
km.drain(0.2)
other.drain(0.2)
expires = []
deadline = time.time() + 30
while time.time() < deadline and len(expires) < 2:
    m = km.recv(1)
    if m is not None and m.type == EXPIRE:
        expires.append(m)
eq(len(expires), 2, "soft then hard EXPIRE")
soft, hard = expires
check(EXT_LIFETIME_SOFT in soft.exts and EXT_LIFETIME_HARD not in soft.exts, f"first is soft: {soft}")
check(EXT_LIFETIME_HARD in hard.exts, f"second is hard: {hard}")
eq(soft.spi(), 0xE1, "EXPIRE names the SA")
eq([m for m in other.drain(0.2) if m.type == EXPIRE], [], "unregistered socket sees no EXPIRE")
r = km.request(GET, SATYPE_ESP, [ext_sa(0xE1), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                 ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, errno.ESRCH, "hard expiry removed the SA")

# A failed negotiation: ACQUIRE carrying an errno and the GETSPI's seq.
r = km.request(GETSPI, SATYPE_ESP, [ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"), ext_addr(EXT_ADDRESS_DST, "10.1.1.1"),
                                    ext_spirange(0x3000, 0x3fff)])
eq(r.errno, 0, "GETSPI")
spi = r.spi()
km.seq += 1
km.send(msg(ACQUIRE, SATYPE_ESP, seq=r.seq, errno_=errno.ETIMEDOUT))
km.drain(0.5)
r = km.request(GET, SATYPE_ESP, [ext_sa(spi), ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"),
                                 ext_addr(EXT_ADDRESS_DST, "10.1.1.1")])
eq(r.errno, errno.ESRCH, "failed negotiation dropped the larval SA")
done("lifetimes expire in the kernel; EXPIRE goes to the registered")
