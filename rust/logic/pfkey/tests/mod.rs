//! Host tests of the PF_KEY codec: round trips, malformed input with exact
//! errnos, af_key's handler checks, and byte-exact messages.

mod checks;
mod malformed;
mod roundtrip;
mod wire;

use super::consts::*;
use super::*;
use crate::logic::addr::IpAddr;
use std::vec::Vec as StdVec;

pub(super) fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4([a, b, c, d])
}

pub(super) fn v6(last: u8) -> IpAddr {
    let mut b = [0u8; 16];
    b[0] = 0x20;
    b[1] = 0x01;
    b[2] = 0x0d;
    b[3] = 0xb8;
    b[15] = last;
    IpAddr::V6(b)
}

pub(super) fn host(addr: IpAddr) -> AddressRepr {
    AddressRepr {
        proto: IPSEC_ULPROTO_ANY,
        prefixlen: addr.max_prefix(),
        addr,
        port: 0,
    }
}

/// Builds with `build_vec`, checking that the counting pass agrees.
pub(super) fn build<F>(mut f: F) -> StdVec<u8>
where
    F: FnMut(&mut MsgWriter<'_>) -> Result<(), Errno>,
{
    let n = build_len(&mut f).expect("count");
    let v = build_vec(&mut f).expect("build");
    assert_eq!(v.len(), n);
    assert_eq!(v.len() % 8, 0);
    v.to_vec()
}

pub(super) fn hdr(msg_type: u8, satype: u8) -> MsgHeader {
    MsgHeader {
        msg_type,
        satype,
        seq: 7,
        pid: 4242,
        ..MsgHeader::default()
    }
}

/// An SADB_ADD for ESP 3DES between two IPv4 hosts (valid).
pub(super) fn esp_add() -> StdVec<u8> {
    build(|w| {
        w.header(&hdr(SADB_ADD, SADB_SATYPE_ESP))?;
        w.sa(&SaRepr {
            spi: 0x1000,
            encrypt: SADB_EALG_3DESCBC,
            ..SaRepr::default()
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(v4(10, 0, 0, 1)))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(v4(10, 0, 0, 2)))?;
        w.key(
            SADB_EXT_KEY_ENCRYPT,
            &KeyRepr {
                bits: 192,
                key: &[0x11; 24],
            },
        )
    })
}

/// Decodes a hex string, ignoring whitespace.
pub(super) fn hex(s: &str) -> StdVec<u8> {
    let digits: StdVec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}
