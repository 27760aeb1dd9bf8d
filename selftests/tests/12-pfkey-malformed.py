# cost: 7 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""Malformed messages: each gets its errno — returned by send() when the
base header is unusable, else in an error reply — and changes nothing."""
import errno
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

k = PfKey()
good = add_sa("10.1.1.1", "20.1.1.1", 0x1234)
r = k.request(ADD, SATYPE_ESP, good)
eq(r.errno, 0, "baseline ADD")
r = k.request(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.2"),
                            ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])])
eq(r.errno, 0, "baseline SPDADD")


def snapshot():
    return ([m.raw[16:] for m in k.dump()], [m.raw[16:] for m in k.dump(X_SPDDUMP)])


base = snapshot()


def send_expect(data, want, what):
    """Either send() fails with `want` or the reply carries it."""
    k.seq += 1
    try:
        k.send(data)
    except OSError as e:
        eq(e.errno, want, f"{what}: send() errno")
        return
    while True:
        m = k.recv(30)
        check(m is not None, f"{what}: no reply")
        if m.pid == os.getpid():
            # Our reply: refused with `want` (errno 0 means it was accepted).
            eq(m.errno, want, f"{what}: reply errno")
            return


short = msg(ADD, SATYPE_ESP, good)[:12]
cases = [
    (short, errno.EMSGSIZE, "shorter than a header"),
    (msg(ADD, SATYPE_ESP, good, version=1), errno.EINVAL, "version 1"),
    (msg(ADD, SATYPE_ESP, good, reserved=1), errno.EINVAL, "reserved set"),
    (msg(0, SATYPE_ESP, good), errno.EINVAL, "message type 0"),
    (msg(200, SATYPE_ESP, good), errno.EINVAL, "message type 200"),
    (msg(ADD, SATYPE_ESP, good)[:-8], errno.EMSGSIZE, "sadb_msg_len longer than the data"),
    (msg(ADD, SATYPE_ESP, good + [struct.pack("=HH", 0, EXT_SA) + b"\0" * 4]), errno.EINVAL, "zero-length extension"),
    (msg(ADD, SATYPE_ESP, good + [struct.pack("=HH", 9, EXT_KMPRIVATE) + b"\0" * 4]), errno.EINVAL, "extension past the end"),
    (msg(ADD, SATYPE_ESP, good + [ext_sa(0x99)]), errno.EINVAL, "duplicate SA extension"),
    (msg(ADD, SATYPE_ESP, [ext_sa(0x55), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"), ext_addr(EXT_ADDRESS_DST, "2001:db8::1")]), errno.EINVAL, "src/dst family mismatch"),
    (msg(ADD, SATYPE_ESP, [ext_sa(0x55), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1", 33), ext_addr(EXT_ADDRESS_DST, "20.1.1.1")]), errno.EINVAL, "prefix 33 on IPv4"),
    (msg(ADD, SATYPE_ESP, [ext_sa(0x55), ext_addr(EXT_ADDRESS_DST, "20.1.1.1")]), errno.EINVAL, "ADD without source"),
    (msg(ADD, SATYPE_ESP, [ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"), ext_addr(EXT_ADDRESS_DST, "20.1.1.1")]), errno.EINVAL, "ADD without SA"),
    (msg(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0x56, ekey=b"short")), errno.EINVAL, "3DES key of 40 bits"),
    (msg(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0x57, enc=99)), errno.ENOSYS, "unknown encryption algorithm (af_key: ENOSYS)"),
    (msg(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 0)), errno.EINVAL, "SPI 0"),
    (msg(ADD, 77, good), errno.EINVAL, "unknown SA type"),
    (msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.3")]), errno.EINVAL, "SPDADD without policy"),
    (msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.3"),
                       ext_policy(POLICY_IPSEC, 9, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)])]), errno.EINVAL, "policy direction 9"),
    (msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.3"),
                       ext_policy(POLICY_IPSEC, DIR_OUT, [ipsecrequest(50, MODE_TRANSPORT, LEVEL_REQUIRE)] * 7)]), errno.ELOOP, "seven templates"),
    (msg(X_SPDADD, 0, [ext_addr(EXT_ADDRESS_SRC, "10.0.0.1"), ext_addr(EXT_ADDRESS_DST, "10.0.0.3"),
                       ext_policy(POLICY_IPSEC, DIR_OUT, [struct.pack("=HHBBHII", 8, 50, 1, 2, 0, 0, 0)])]), errno.EINVAL, "request length 8"),
]
for data, want, what in cases:
    send_expect(data, want, what)
    eq(snapshot(), base, f"{what}: tables unchanged")
check(len(cases) >= 20, "enough cases")
done(f"{len(cases)} malformed messages refused with af_key's errno, tables unchanged")
