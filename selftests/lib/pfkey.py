#!/usr/bin/env python3
"""A small, independent PF_KEY v2 client for the VM tests (stdlib only).

It builds and parses messages with `struct` straight from RFC 2367 and
linux/pfkeyv2.h, sharing no code with rxfrm's own codec, so the tests check
rxfrm against the wire format rather than against itself.

As a command:
  pfkey.py open                 open and close a socket
  pfkey.py hold SECONDS         keep a socket open for a while
  pfkey.py open-type dgram      socket of the wrong type
  pfkey.py open-proto N         socket with protocol N
  pfkey.py flush                empty the SAD and SPD
Errors print "errno=N" and exit 1.
"""
import errno
import os
import socket
import struct
import sys
import time

AF_KEY = 15
PF_KEY_V2 = 2

# message types
(GETSPI, UPDATE, ADD, DELETE, GET, ACQUIRE, REGISTER, EXPIRE, FLUSH, DUMP,
 X_PROMISC, X_PCHANGE, X_SPDUPDATE, X_SPDADD, X_SPDDELETE, X_SPDGET,
 X_SPDACQUIRE, X_SPDDUMP, X_SPDFLUSH, X_SPDSETIDX, X_SPDEXPIRE,
 X_SPDDELETE2) = range(1, 23)
# SA types
SATYPE_UNSPEC, SATYPE_AH, SATYPE_ESP, SATYPE_IPCOMP = 0, 2, 3, 9
# extension types
(EXT_SA, EXT_LIFETIME_CURRENT, EXT_LIFETIME_HARD, EXT_LIFETIME_SOFT,
 EXT_ADDRESS_SRC, EXT_ADDRESS_DST, EXT_ADDRESS_PROXY, EXT_KEY_AUTH,
 EXT_KEY_ENCRYPT, EXT_IDENTITY_SRC, EXT_IDENTITY_DST, EXT_SENSITIVITY,
 EXT_PROPOSAL, EXT_SUPPORTED_AUTH, EXT_SUPPORTED_ENCRYPT, EXT_SPIRANGE,
 EXT_KMPRIVATE, EXT_X_POLICY, EXT_X_SA2) = range(1, 20)
# algorithms
AALG_NONE, AALG_MD5HMAC, AALG_SHA1HMAC, AALG_SHA256HMAC = 0, 2, 3, 5
EALG_NONE, EALG_DESCBC, EALG_3DESCBC, EALG_BLOWFISHCBC, EALG_NULL, EALG_AESCBC = 0, 2, 3, 7, 11, 12
EALG_AES_GCM_ICV16 = 20
# policy
POLICY_DISCARD, POLICY_NONE, POLICY_IPSEC = 0, 1, 2
DIR_IN, DIR_OUT, DIR_FWD = 1, 2, 3
MODE_ANY, MODE_TRANSPORT, MODE_TUNNEL = 0, 1, 2
LEVEL_DEFAULT, LEVEL_USE, LEVEL_REQUIRE, LEVEL_UNIQUE = 0, 1, 2, 3
PROTO_ANY = 255
SASTATE_LARVAL, SASTATE_MATURE = 0, 1


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def sockaddr(addr, port=0):
    """Linux sockaddr_in / sockaddr_in6 (native-endian family, no sa_len)."""
    if ":" in addr:
        return struct.pack("=HHI16sI", socket.AF_INET6, socket.htons(port), 0,
                           socket.inet_pton(socket.AF_INET6, addr), 0)
    return struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port),
                       socket.inet_pton(socket.AF_INET, addr))


def ext_raw(etype, payload):
    """An extension: 4-byte (len, type) header + payload, padded to 8."""
    data = struct.pack("=HH", 0, etype) + payload
    data = pad8(data)
    return struct.pack("=HH", len(data) // 8, etype) + data[4:]


def ext_sa(spi, auth=0, enc=0, replay=0, state=0, flags=0):
    return ext_raw(EXT_SA, struct.pack("!I", spi) + struct.pack("=BBBBI", replay, state, auth, enc, flags))


def ext_sa2(mode=MODE_ANY, reqid=0):
    return ext_raw(EXT_X_SA2, struct.pack("=BBHII", mode, 0, 0, 0, reqid))


def ext_addr(etype, addr, plen=None, proto=PROTO_ANY, port=0):
    if plen is None:
        plen = 128 if ":" in addr else 32
    return ext_raw(etype, struct.pack("=BBH", proto, plen, 0) + sockaddr(addr, port))


def ext_key(etype, key):
    return ext_raw(etype, struct.pack("=HH", len(key) * 8, 0) + key)


def ext_spirange(lo, hi):
    return ext_raw(EXT_SPIRANGE, struct.pack("=III", lo, hi, 0))


def ext_lifetime(etype, allocations=0, nbytes=0, addtime=0, usetime=0):
    return ext_raw(etype, struct.pack("=IQQQ", allocations, nbytes, addtime, usetime))


def ipsecrequest(proto, mode, level, reqid=0, src=None, dst=None):
    addrs = sockaddr(src) + sockaddr(dst) if src else b""
    body = struct.pack("=HHBBHII", 16 + len(addrs), proto, mode, level, 0, reqid, 0) + addrs
    return body


def ext_policy(ptype, direction, requests=(), pid=0, priority=0):
    reqs = b"".join(requests)
    return ext_raw(EXT_X_POLICY, struct.pack("=HBBII", ptype, direction, 0, pid, priority) + reqs)


def msg(mtype, satype=0, exts=(), seq=0, pid=None, errno_=0, reserved=0, version=PF_KEY_V2):
    body = b"".join(exts)
    if pid is None:
        pid = os.getpid()
    return struct.pack("=BBBBHHII", version, mtype, errno_, satype, (16 + len(body)) // 8,
                       reserved, seq, pid) + body


class Msg:
    """A received message: header fields and a dict of raw extensions."""

    def __init__(self, data):
        self.raw = data
        (self.version, self.type, self.errno, self.satype, self.len, self.reserved,
         self.seq, self.pid) = struct.unpack_from("=BBBBHHII", data)
        self.exts = {}
        off = 16
        while off + 4 <= len(data):
            elen, etype = struct.unpack_from("=HH", data, off)
            if elen == 0:
                break
            self.exts[etype] = data[off:off + elen * 8]
            off += elen * 8

    def spi(self):
        return struct.unpack_from("!I", self.exts[EXT_SA], 4)[0]

    def sa_state(self):
        return self.exts[EXT_SA][9]

    def address(self, etype):
        e = self.exts[etype]
        proto, plen = e[4], e[5]
        fam = struct.unpack_from("=H", e, 8)[0]
        port = socket.ntohs(struct.unpack_from("=H", e, 10)[0])
        if fam == socket.AF_INET:
            a = socket.inet_ntop(socket.AF_INET, e[12:16])
        else:
            a = socket.inet_ntop(socket.AF_INET6, e[16:32])
        return a, plen, proto, port

    def policy(self):
        e = self.exts[EXT_X_POLICY]
        ptype, direction, _r, pid, prio = struct.unpack_from("=HBBII", e, 4)
        return {"type": ptype, "dir": direction, "id": pid, "priority": prio}

    def supported(self, etype):
        """[(alg id, min bits, max bits)] of a SUPPORTED extension."""
        e = self.exts.get(etype, b"")
        return [struct.unpack_from("=BBHH", e, o)[:1] + struct.unpack_from("=BBHH", e, o)[2:]
                for o in range(8, len(e), 8)]

    def __repr__(self):
        return f"<msg type={self.type} errno={self.errno} satype={self.satype} seq={self.seq} exts={sorted(self.exts)}>"


class PfKey:
    def __init__(self):
        self.sock = socket.socket(AF_KEY, socket.SOCK_RAW, PF_KEY_V2)
        self.seq = 0
        self._timeout = None

    def close(self):
        self.sock.close()

    def send(self, data):
        return self.sock.send(data)

    def recv_raw(self, timeout=2.0):
        """The next message's bytes, or None after `timeout` seconds (one
        system call: this is the hot loop of the big dump tests)."""
        if self._timeout != timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout
        try:
            return self.sock.recv(1 << 16)
        except socket.timeout:
            return None

    def recv(self, timeout=2.0):
        """The next message, or None after `timeout` seconds."""
        data = self.recv_raw(max(timeout, 0.001))
        return None if data is None else Msg(data)

    def drain(self, timeout=0.3):
        out = []
        while True:
            m = self.recv(timeout)
            if m is None:
                return out
            out.append(m)

    def request(self, mtype, satype=0, exts=(), **kw):
        """Sends a message and returns the reply addressed to us (same seq)."""
        self.seq += 1
        self.send(msg(mtype, satype, exts, seq=self.seq, **kw))
        deadline = time.time() + 10
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if m is None:
                break
            if m.type == mtype and m.seq == self.seq and m.pid == os.getpid():
                return m
        raise TimeoutError(f"no reply to message type {mtype}")

    def dump(self, mtype=DUMP, satype=0):
        """All messages of a DUMP/X_SPDDUMP (ends at seq 0); ENOENT gives []."""
        self.send(msg(mtype, satype, seq=0))
        out = []
        while True:
            m = self.recv(10)
            if m is None:
                raise TimeoutError("dump stalled")
            if m.type != mtype or m.pid != os.getpid():
                continue
            if m.errno:
                if m.errno == errno.ENOENT:
                    return out
                raise OSError(m.errno, os.strerror(m.errno))
            out.append(m)
            if m.seq == 0:
                return out


def add_sa(src, dst, spi, satype=SATYPE_ESP, enc=EALG_3DESCBC, ekey=b"hoge" * 6,
           auth=AALG_NONE, akey=None, mode=MODE_ANY, reqid=0, replay=0):
    exts = [ext_sa(spi, auth, enc, replay), ext_sa2(mode, reqid),
            ext_addr(EXT_ADDRESS_SRC, src), ext_addr(EXT_ADDRESS_DST, dst)]
    if akey is not None:
        exts.append(ext_key(EXT_KEY_AUTH, akey))
    if ekey is not None and enc not in (EALG_NONE, EALG_NULL):
        exts.append(ext_key(EXT_KEY_ENCRYPT, ekey))
    return exts


def flush_all():
    """Empties the SAD and SPD of this namespace (test isolation)."""
    k = PfKey()
    k.request(FLUSH, SATYPE_UNSPEC)
    k.request(X_SPDFLUSH, 0)
    k.close()


def open_socket(stype=socket.SOCK_RAW, proto=PF_KEY_V2):
    return socket.socket(AF_KEY, stype, proto)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "open"
    try:
        if cmd == "open":
            open_socket().close()
        elif cmd == "hold":
            s = open_socket()
            time.sleep(float(argv[2]))
            s.close()
        elif cmd == "open-type":
            open_socket(stype={"dgram": socket.SOCK_DGRAM, "stream": socket.SOCK_STREAM}[argv[2]]).close()
        elif cmd == "open-proto":
            open_socket(proto=int(argv[2])).close()
        elif cmd == "flush":
            flush_all()
        else:
            print("unknown command", cmd, file=sys.stderr)
            return 2
    except OSError as e:
        print(f"errno={e.errno} ({errno.errorcode.get(e.errno, '?')})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
