# cost: 12 (seconds under TCG, one vCPU, debug kernel: selftests/run balances VMs by it)
"""SA messages end to end through the raw client: ADD, GET, DELETE, GETSPI,
UPDATE, FLUSH, DUMP, REGISTER, EXPIRE, ACQUIRE (error form), X_PROMISC."""
import errno
import os
import sys

sys.path.insert(0, os.path.join(os.environ["RXFRM_ROOT"], "selftests/lib"))
from ptest import check, done, eq  # noqa: E402
from pfkey import *  # noqa: E402,F403

k = PfKey()
KEY = b"hogehogehogehogehogehoge"

# ADD (the NetBSD FAQ's first SA): broadcast reply without key material.
r = k.request(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 9876, ekey=KEY))
eq(r.errno, 0, "ADD errno")
eq(r.spi(), 9876, "ADD reply SPI")
check(EXT_KEY_ENCRYPT not in r.exts, "ADD reply must not carry keys (RFC 2367 3.1.3)")
eq(r.address(EXT_ADDRESS_DST)[0], "20.1.1.1", "ADD reply dst")

# GET returns the SA with its key, mature.
r = k.request(GET, SATYPE_ESP, [ext_sa(9876), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, 0, "GET errno")
eq(r.sa_state(), SASTATE_MATURE, "GET state")
check(KEY in r.exts.get(EXT_KEY_ENCRYPT, b""), "GET carries the encryption key")

# A second ADD of the same SA: EEXIST, and nothing changes.
before = [m.raw for m in k.dump()]
r = k.request(ADD, SATYPE_ESP, add_sa("10.1.1.1", "20.1.1.1", 9876, ekey=KEY))
eq(r.errno, errno.EEXIST, "duplicate ADD")
eq(len(k.dump()), len(before), "SAD unchanged after EEXIST")

# GETSPI in a range makes a larval SA; UPDATE matures it.
r = k.request(GETSPI, SATYPE_ESP, [ext_sa2(MODE_TRANSPORT, 7), ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"),
                                   ext_addr(EXT_ADDRESS_DST, "10.1.1.1"), ext_spirange(0x1000, 0x1fff)])
eq(r.errno, 0, "GETSPI errno")
spi = r.spi()
check(0x1000 <= spi <= 0x1fff, f"GETSPI SPI {spi:#x} in range")
r = k.request(GET, SATYPE_ESP, [ext_sa(spi), ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"),
                                ext_addr(EXT_ADDRESS_DST, "10.1.1.1")])
eq(r.sa_state(), SASTATE_LARVAL, "GETSPI SA is larval")
r = k.request(UPDATE, SATYPE_ESP, add_sa("20.1.1.1", "10.1.1.1", spi, enc=EALG_AESCBC,
                                          ekey=b"k" * 16, auth=AALG_SHA1HMAC, akey=b"a" * 20,
                                          mode=MODE_TRANSPORT, reqid=7))
eq(r.errno, 0, "UPDATE errno")
r = k.request(GET, SATYPE_ESP, [ext_sa(spi), ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"),
                                ext_addr(EXT_ADDRESS_DST, "10.1.1.1")])
eq(r.sa_state(), SASTATE_MATURE, "UPDATE matured the SA")

# UPDATE of an SA that does not exist.
r = k.request(UPDATE, SATYPE_ESP, add_sa("20.1.1.1", "10.1.1.1", 0x4242, ekey=KEY))
check(r.errno in (errno.ENOENT, errno.ESRCH), f"UPDATE of a missing SA: errno {r.errno}")

# DUMP lists both; DELETE removes one; GET then fails with ENOENT.
eq(len(k.dump()), 2, "DUMP count")
r = k.request(DELETE, SATYPE_ESP, [ext_sa(9876), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                   ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, 0, "DELETE errno")
r = k.request(GET, SATYPE_ESP, [ext_sa(9876), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, errno.ESRCH, "GET after DELETE (af_key: ESRCH)")
r = k.request(DELETE, SATYPE_ESP, [ext_sa(9876), ext_addr(EXT_ADDRESS_SRC, "10.1.1.1"),
                                   ext_addr(EXT_ADDRESS_DST, "20.1.1.1")])
eq(r.errno, errno.ESRCH, "DELETE of a missing SA (af_key: ESRCH)")

# REGISTER lists algorithms the kernel really has.
r = k.request(REGISTER, SATYPE_ESP)
eq(r.errno, 0, "REGISTER errno")
enc = [a[0] for a in r.supported(EXT_SUPPORTED_ENCRYPT)]
auth = [a[0] for a in r.supported(EXT_SUPPORTED_AUTH)]
for a in (EALG_3DESCBC, EALG_AESCBC, EALG_BLOWFISHCBC):
    check(a in enc, f"REGISTER lists encryption {a}: {enc}")
for a in (AALG_MD5HMAC, AALG_SHA1HMAC, AALG_SHA256HMAC):
    check(a in auth, f"REGISTER lists auth {a}: {auth}")
r = k.request(REGISTER, 200)
eq(r.errno, errno.EINVAL, "REGISTER satype 200")
r = k.request(REGISTER, SATYPE_UNSPEC)
eq(r.errno, 0, "REGISTER satype 0 is answered, registers nothing (af_key)")

# EXPIRE is kernel-to-user only.
r = k.request(EXPIRE, SATYPE_ESP, [ext_sa(spi), ext_addr(EXT_ADDRESS_SRC, "20.1.1.1"),
                                   ext_addr(EXT_ADDRESS_DST, "10.1.1.1")])
check(r.errno != 0, "EXPIRE from user space is refused")

# X_PROMISC on and off.
r = k.request(X_PROMISC, 1)
eq(r.errno, 0, "X_PROMISC on")
r = k.request(X_PROMISC, 0)
eq(r.errno, 0, "X_PROMISC off")

# FLUSH empties the SAD.
r = k.request(FLUSH, SATYPE_UNSPEC)
eq(r.errno, 0, "FLUSH errno")
eq(k.dump(), [], "SAD empty after FLUSH")
done("SA messages behave as af_key")
