#!/usr/bin/python3
"""AH test vectors from an independent implementation: scapy's
scapy.layers.ipsec (its own split_for_transport and zero_mutable_fields)
plus Python's hmac/hashlib over the zeroed bytes.

Regenerate (scapy 2.5.0 is Debian's python3-scapy; the repository venv's
python has no scapy, hence /usr/bin/python3):

    /usr/bin/python3 tools/vectors/ah_scapy.py > rust/logic/ah/vectors.rs

For every vector the script asserts, before printing anything:
  * scapy signed the packet: the ICV it wrote is HMAC(key, zeroed [+ ESN
    high half]) computed here with hmac/hashlib over `zeroed`;
  * scapy's receiver side (SecurityAssociation.decrypt, which zeroes with
    sending=False) accepts the packet as it arrives after the routers on
    the way changed its mutable fields (`arrived`) -- except for the
    option-type disagreement below, where it must refuse Linux's ICV;
  * `zeroed` is what scapy's zero_mutable_fields makes of the sent packet,
    except where scapy and Linux disagree, which is recorded in the
    vector's `scapy_zeroed` and `note` (rxfrm follows Linux):
      - LSRR/SSRR: Linux's sender (ah4.c ah_output, ip_clear_mutable_options)
        puts the route's last address in the destination field for the
        ICV, as RFC 4302 §3.3.3.1.1.1 asks; scapy's sender does not (its
        ICV would not verify at the final destination). The vector's
        sent packet carries the ICV Linux computes, and scapy's receiver
        accepts it on arrival, which confirms Linux's rule.
      - Option types: scapy keeps an option by its 5-bit number (so type
        0x14, number 20 without the copy flag, is kept like Router Alert
        0x94); Linux compares the whole type byte and zeroes 0x14.
"""

import hashlib
import hmac
import struct
import sys

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, Raw, raw, IPOption,
                       IPOption_RR, IPOption_Router_Alert, IPOption_NOP,
                       IPOption_EOL, IPOption_LSRR, IPOption_Timestamp,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, PadN, RouterAlert, HBHOptUnknown)
from scapy.layers.ipsec import AH, SecurityAssociation, zero_mutable_fields

ALGS = {
    'HMAC-MD5-96': (hashlib.md5, 12),
    'HMAC-SHA1-96': (hashlib.sha1, 12),
    'SHA2-256-128': (hashlib.sha256, 16),
    'SHA2-512-256': (hashlib.sha512, 32),
}
KEYS = {
    'HMAC-MD5-96': bytes(range(1, 17)),
    'HMAC-SHA1-96': bytes(range(0x20, 0x34)),
    'SHA2-256-128': bytes(range(0x40, 0x60)),
    'SHA2-512-256': bytes(range(0x60, 0xa0)),
}


def mac(alg, data):
    digest, n = ALGS[alg]
    return hmac.new(KEYS[alg], data, digest).digest()[:n]


def ah_offset(pkt):
    b = raw(pkt)
    return len(b) - len(raw(pkt[AH]))


def vector(name, plain, alg, spi, seq, esn=None, arrive=None, fixup=None,
           note=None, tunnel=None, scapy_rx_agrees=True):
    """plain: the packet before AH; arrive(sent_bytes) -> bytes as the
    final destination receives them; fixup(zeroed_scapy, sent) -> Linux's
    zeroed bytes where scapy disagrees."""
    kw = dict(auth_algo=alg, auth_key=KEYS[alg])
    if esn is not None:
        kw.update(esn_en=True, esn=esn)
    if tunnel is not None:
        kw.update(tunnel_header=tunnel)
    sa = SecurityAssociation(AH, spi=spi, seq_num=seq, **kw)
    plain = plain.__class__(raw(plain))
    sent = sa.encrypt(plain)
    sent = sent.__class__(raw(sent))
    icv_len = ALGS[alg][1]
    off = ah_offset(sent)
    sent_b = bytearray(raw(sent))
    scapy_zeroed = raw(zero_mutable_fields(sent.copy(), sending=True))
    zeroed = scapy_zeroed if fixup is None else fixup(scapy_zeroed, sent_b)
    tail = b'' if esn is None else struct.pack('!L', esn)
    icv = mac(alg, zeroed + tail)
    if fixup is None:
        assert bytes(sent_b[off + 12:off + 12 + icv_len]) == icv, name
    else:
        # scapy's own ICV is over its zeroing; carry Linux's instead.
        assert bytes(sent_b[off + 12:off + 12 + icv_len]) == mac(alg, scapy_zeroed + tail)
        sent_b[off + 12:off + 12 + icv_len] = icv
    arrived = bytes(sent_b) if arrive is None else arrive(bytes(sent_b))
    cls = IPv6 if arrived[0] >> 4 == 6 else IP
    rx = SecurityAssociation(AH, spi=spi, **kw)
    if scapy_rx_agrees:
        rx.decrypt(cls(arrived))  # raises unless the ICV verifies
    else:
        try:
            rx.decrypt(cls(arrived))
        except Exception:
            pass
        else:
            raise AssertionError(name + ': scapy was expected to refuse Linux\'s ICV')
    hdr_len = (sent_b[off + 1] + 2) * 4
    return dict(name=name, v6=sent_b[0] >> 4 == 6, alg=alg, icv_len=icv_len,
                hdr_len=hdr_len, spi=spi, seq=seq, esn=esn, ah_offset=off,
                tunnel=tunnel is not None,
                plain=raw(plain), sent=bytes(sent_b), zeroed=zeroed,
                scapy_zeroed=scapy_zeroed, arrived=arrived, icv=icv,
                note=note)


def hop(pkt_bytes, change):
    """The packet after a router changed its mutable fields."""
    p = (IPv6 if pkt_bytes[0] >> 4 == 6 else IP)(pkt_bytes)
    change(p)
    if isinstance(p, IP):
        del p.chksum
    return raw(p)


def v4_router(p):
    p.ttl -= 1
    p.tos = 0x29  # DSCP rewritten, ECN set
    p.flags = 'DF'


def v6_router(p):
    p.hlim -= 1
    p.tc = 0x29
    p.fl = 0xbeef


PAYLOAD = TCP(sport=1234, dport=110, seq=1, flags='S', window=8192) / Raw(b'rxfrm AH')

VECTORS = []

# IPv4 with record route, router alert, NOP and end-of-list; TCP.
p = IP(src='192.0.2.1', dst='192.0.2.2', tos=0x10, id=0x1234, flags='DF', ttl=64,
       options=[IPOption_RR(routers=['0.0.0.0', '0.0.0.0']), IPOption_Router_Alert(),
                IPOption_NOP(), IPOption_EOL()]) / PAYLOAD


def rr_arrive(b):
    def change(p):
        v4_router(p)
        p.options[0].routers = ['198.51.100.7', '0.0.0.0']
        p.options[0].pointer = 8
    return hop(b, change)


VECTORS.append(vector('v4_rr_ra', p, 'HMAC-SHA1-96', 0x1000, 1, arrive=rr_arrive))

# IPv4 loose source route: first hop 198.51.100.1, then 198.51.100.2, then
# the destination 203.0.113.9.
R1, R2, D = '198.51.100.1', '198.51.100.2', '203.0.113.9'
p = IP(src='192.0.2.1', dst=R1, ttl=64, id=7,
       options=[IPOption_LSRR(routers=[R2, D]), IPOption_NOP()]) / UDP(sport=53, dport=53) / Raw(b'lsrr')


def lsrr_fixup(z, sent):
    # Linux's sender: destination = the route's last address.
    return z[:16] + bytes(map(int, D.split('.'))) + z[20:]


def lsrr_arrive(b):
    def change(p):
        v4_router(p)
        p.dst = D
        p.options[0].routers = ['198.51.100.101', '198.51.100.102']
        p.options[0].pointer = 12
    return hop(b, change)


VECTORS.append(vector('v4_lsrr', p, 'SHA2-256-128', 0x2000, 2, arrive=lsrr_arrive,
                      fixup=lsrr_fixup,
                      note='scapy does not substitute the final destination (Linux, RFC 4302 do)'))

# IPv4 with a timestamp option and an option of type 0x14 (number 20, copy
# flag clear): scapy keeps 0x14 by its number, Linux zeroes it.
p = IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, id=9,
       options=[IPOption_Timestamp(flg=0, timestamp=[0]), IPOption(b'\x14\x04\x00\x00')]) / ICMP(id=1, seq=1)


def type14_fixup(z, sent):
    # Options start at 20: timestamp (8 bytes: type, len, ptr, flags, 4),
    # then 0x14 at 28..32, which Linux zeroes.
    assert z[28:32] == b'\x14\x04\x00\x00', z[20:32]
    return z[:28] + b'\x00' * 4 + z[32:]


VECTORS.append(vector('v4_ts_type14', p, 'HMAC-MD5-96', 0x3000, 3, fixup=type14_fixup,
                      scapy_rx_agrees=False, arrive=lambda b: hop(b, v4_router),
                      note='scapy keeps option type 0x14 (number 20 = Router Alert); Linux zeroes it'))

# IPv4, ESN: the high half is authenticated after the packet, not sent.
p = IP(src='192.0.2.1', dst='192.0.2.2', ttl=17) / PAYLOAD
VECTORS.append(vector('v4_esn', p, 'HMAC-SHA1-96', 0x4000, 0xfffffff0, esn=0x01020304,
                      arrive=lambda b: hop(b, v4_router)))

# IPv6 in IPv4, tunnel mode: the outer header's mutable fields.
inner = IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=64) / UDP(sport=9, dport=9) / Raw(b'in')
VECTORS.append(vector('v4_tunnel_6in4', inner, 'SHA2-512-256', 0x5000, 5,
                      tunnel=IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, tos=0x20),
                      arrive=lambda b: hop(b, v4_router)))

# IPv6: hop-by-hop (router alert, an option with the may-change bit, PadN)
# and destination options (may-change and fixed options), no routing
# header, so AH goes after the destination options.
MUT = 0x3e  # action 00, C=1
FIX = 0x1e  # action 00, C=0
p = (IPv6(src='2001:db8::1', dst='2001:db8::2', tc=0x2e, fl=0x12345, hlim=64)
     / IPv6ExtHdrHopByHop(options=[RouterAlert(), HBHOptUnknown(otype=MUT, optdata=b'\xaa\xbb\xcc\xdd'),
                                   PadN(optdata=b'\x00\x00')])
     / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=FIX, optdata=b'\x11\x22'),
                                  HBHOptUnknown(otype=MUT, optdata=b'\x33\x44\x55\x66\x77\x88\x99\x00')])
     / PAYLOAD)


def opts_arrive(b):
    def change(p):
        v6_router(p)
        p[IPv6ExtHdrHopByHop].options[1].optdata = b'\x01\x02\x03\x04'
    return hop(b, change)


VECTORS.append(vector('v6_hbh_dest', p, 'SHA2-256-128', 0x6000, 6, arrive=opts_arrive))

# IPv6 with a type 0 routing header (two addresses, two segments left)
# between destination options (before it, stepped over) and destination
# options after it (AH goes before those).
I1, I2, D6 = '2001:db8:1::1', '2001:db8:2::2', '2001:db8:9::9'
p = (IPv6(src='2001:db8::1', dst=I1, hlim=64, fl=1)
     / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=MUT, optdata=b'\xee' * 4)])
     / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=MUT, optdata=b'\xdd' * 4)])
     / IPv6ExtHdrRouting(type=0, segleft=2, addresses=[I2, D6])
     / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=MUT, optdata=b'\xcc' * 4)])
     / UDP(sport=5000, dport=5001) / Raw(b'rt0'))


def rt0_arrive(b):
    def change(p):
        v6_router(p)
        p.dst = D6
        rt = p[IPv6ExtHdrRouting]
        rt.addresses = [I1, I2]
        rt.segleft = 0
        p[IPv6ExtHdrHopByHop].options[0].optdata = b'\x77' * 4
    return hop(b, change)


VECTORS.append(vector('v6_rt0', p, 'HMAC-MD5-96', 0x7000, 7, arrive=rt0_arrive))

# IPv6 with a type 2 routing header (Mobile IPv6: one address, the home
# address; the packet is sent to the care-of address).
CoA, HoA = '2001:db8:c::a', '2001:db8:4::a'
p = (IPv6(src='2001:db8::1', dst=CoA, hlim=64)
     / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HoA])
     / PAYLOAD)


def rt2_arrive(b):
    def change(p):
        v6_router(p)
        p.dst = HoA
        p[IPv6ExtHdrRouting].addresses = [CoA]
        p[IPv6ExtHdrRouting].segleft = 0
    return hop(b, change)


VECTORS.append(vector('v6_rt2', p, 'HMAC-SHA1-96', 0x8000, 8, esn=7, arrive=rt2_arrive))


def rs(b):
    out = []
    for i in range(0, len(b), 14):
        out.append('        ' + ' '.join('0x%02x,' % x for x in b[i:i + 14]))
    return '&[\n' + '\n'.join(out) + '\n    ]'


print('//! Generated by tools/vectors/ah_scapy.py with scapy %s: AH packets and'
      % __import__('scapy').VERSION)
print('//! the bytes their ICV is computed over. Do not edit; regenerate with')
print('//! `/usr/bin/python3 tools/vectors/ah_scapy.py > rust/logic/ah/vectors.rs`.')
print('//! The script documents what it asserts about each vector.')
print()
print('/// One AH packet: as sent, as received, and its ICV input.')
print('pub(super) struct Vector {')
for f, t, d in [
        ('name', "&'static str", 'Which case.'),
        ('v6', 'bool', 'IPv6 (else IPv4) outer header.'),
        ('tunnel', 'bool', 'Tunnel mode (`plain` is the inner packet).'),
        ('alg', "&'static str", 'scapy\'s name of the HMAC.'),
        ('key', "&'static [u8]", 'The HMAC key.'),
        ('icv_len', 'usize', 'Truncated ICV length.'),
        ('hdr_len', 'usize', 'AH header length, padding included.'),
        ('spi', 'u32', 'SPI.'),
        ('seq', 'u32', 'Sequence number (low half).'),
        ('esn', 'Option<u32>', 'ESN high half, if the SA uses ESN.'),
        ('ah_offset', 'usize', 'Offset of AH in `sent`.'),
        ('plain', "&'static [u8]", 'The packet before AH was applied.'),
        ('sent', "&'static [u8]", 'As the sender sends it, ICV in place.'),
        ('arrived', "&'static [u8]", 'As the final destination receives it.'),
        ('zeroed', "&'static [u8]", 'The ICV input (without the ESN high half): sent, mutable fields and ICV zeroed, as Linux does.'),
        ('scapy_zeroed', "&'static [u8]", 'What scapy\'s sender zeroes `sent` to (equals `zeroed` unless `note`).'),
        ('icv', "&'static [u8]", 'HMAC(key, zeroed [+ ESN high half]), truncated.'),
        ('note', "Option<&'static str>", 'Where scapy disagrees with Linux.')]:
    print('    /// %s' % d)
    print('    pub(super) %s: %s,' % (f, t))
print('}')
print()
print('pub(super) const VECTORS: &[Vector] = &[')
for v in VECTORS:
    print('    Vector {')
    print('        name: "%s",' % v['name'])
    print('        v6: %s,' % str(v['v6']).lower())
    print('        tunnel: %s,' % str(v['tunnel']).lower())
    print('        alg: "%s",' % v['alg'])
    for f in ('icv_len', 'hdr_len', 'ah_offset'):
        print('        %s: %d,' % (f, v[f]))
    print('        spi: 0x%x,' % v['spi'])
    print('        seq: 0x%x,' % v['seq'])
    print('        esn: %s,' % ('None' if v['esn'] is None else 'Some(0x%x)' % v['esn']))
    print('        key: %s,' % rs(KEYS[v['alg']]).replace('\n', '\n    '))
    for f in ('plain', 'sent', 'arrived', 'zeroed', 'scapy_zeroed', 'icv'):
        print('        %s: %s,' % (f, rs(v[f]).replace('\n', '\n    ')))
    print('        note: %s,' % ('None' if v['note'] is None else 'Some("%s")' % v['note']))
    print('    },')
print('];')
