//! Malformed messages, each with the exact errno af_key gives.

use super::*;

/// One extension: header (length from the padded body unless `words` is
/// given) and body.
pub(super) fn ext_w(t: u16, words: Option<u16>, body: &[u8]) -> StdVec<u8> {
    let mut e = StdVec::new();
    let total = (4 + body.len()).div_ceil(8) * 8;
    e.extend_from_slice(&words.unwrap_or((total / 8) as u16).to_ne_bytes());
    e.extend_from_slice(&t.to_ne_bytes());
    e.extend_from_slice(body);
    e.resize(total, 0);
    e
}

pub(super) fn ext(t: u16, body: &[u8]) -> StdVec<u8> {
    ext_w(t, None, body)
}

/// A message of `exts` with a correct header.
pub(super) fn msg(t: u8, satype: u8, exts: &[StdVec<u8>]) -> StdVec<u8> {
    let len: usize = 16 + exts.iter().map(|e| e.len()).sum::<usize>();
    let mut m = std::vec![PF_KEY_V2, t, 0, satype];
    m.extend_from_slice(&((len / 8) as u16).to_ne_bytes());
    m.extend_from_slice(&[0, 0, 7, 0, 0, 0, 0x92, 0x10, 0, 0]);
    for e in exts {
        m.extend_from_slice(e);
    }
    m
}

pub(super) fn sin(family: u16, a: [u8; 4]) -> StdVec<u8> {
    let mut s = family.to_ne_bytes().to_vec();
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(&a);
    s.resize(16, 0);
    s
}

pub(super) fn sin6(last: u8) -> StdVec<u8> {
    let mut s = 10u16.to_ne_bytes().to_vec();
    s.resize(8, 0);
    let mut a = [0u8; 16];
    a[15] = last;
    s.extend_from_slice(&a);
    s.resize(28, 0);
    s
}

/// Body of an address extension.
pub(super) fn addr_body(prefix: u8, sa: &[u8]) -> StdVec<u8> {
    let mut b = std::vec![255, prefix, 0, 0];
    b.extend_from_slice(sa);
    b
}

/// Body of a policy extension (after the 4-byte ext header).
pub(super) fn pol_body(ptype: u16, dir: u8, id: u32, reqs: &[u8]) -> StdVec<u8> {
    let mut b = ptype.to_ne_bytes().to_vec();
    b.extend_from_slice(&[dir, 0]);
    b.extend_from_slice(&id.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(reqs);
    b
}

/// One raw request of byte length `len` (its tail zero or `tail`).
pub(super) fn req(len: u16, proto: u16, mode: u8, level: u8, tail: &[u8]) -> StdVec<u8> {
    let mut r = len.to_ne_bytes().to_vec();
    r.extend_from_slice(&proto.to_ne_bytes());
    r.extend_from_slice(&[mode, level, 0, 0]);
    r.resize(16, 0);
    r.extend_from_slice(tail);
    r
}

fn set(mut m: StdVec<u8>, at: usize, bytes: &[u8]) -> StdVec<u8> {
    m[at..at + bytes.len()].copy_from_slice(bytes);
    m
}

fn v4src(prefix: u8) -> StdVec<u8> {
    ext(
        SADB_EXT_ADDRESS_SRC,
        &addr_body(prefix, &sin(2, [10, 0, 0, 1])),
    )
}

#[test]
fn malformed_messages_get_afkeys_errno() {
    use Errno as E;
    let base = esp_add();
    assert!(parse(&base).is_ok());
    // Layout of `base`: header 0, SA 16, src 32, dst 56, key 80, end 112.
    let plus = |n: usize| {
        let mut m = base.clone();
        m.resize(112 + n, 0);
        m
    };
    let (p4, p3, p7) = (plus(4), plus(3), plus(7));
    let sa8 = ext_w(SADB_EXT_SA, Some(1), &[0; 4]);
    let ctx = |len: u16, body_extra: usize| {
        let mut b = std::vec![1, 1];
        b.extend_from_slice(&len.to_ne_bytes());
        b.resize(4 + body_extra, b'x');
        ext(SADB_X_EXT_SEC_CTX, &b)
    };
    let sens = |slen: u8, ilen: u8, bitmap_bytes: usize| {
        let mut b = std::vec![0, 0, 0, 0, 1, slen, 1, ilen, 0, 0, 0, 0];
        b.resize(12 + bitmap_bytes, 0);
        ext(SADB_EXT_SENSITIVITY, &b)
    };
    let mut pair46 = sin(2, [1, 1, 1, 1]);
    pair46.extend_from_slice(&sin6(2));
    let mut pair44 = sin(2, [1, 1, 1, 1]);
    pair44.extend_from_slice(&sin(2, [2, 2, 2, 2]));
    let kma = |tail: &[u8]| {
        let mut b = std::vec![0; 4];
        b.extend_from_slice(tail);
        ext(SADB_X_EXT_KMADDRESS, &b)
    };
    let cases: StdVec<(&str, StdVec<u8>, Errno)> = std::vec![
        ("empty", StdVec::new(), E::EMSGSIZE),
        ("15 bytes", base[..15].to_vec(), E::EMSGSIZE),
        ("version 1", set(base.clone(), 0, &[1]), E::EINVAL),
        ("version 3", set(base.clone(), 0, &[3]), E::EINVAL),
        ("reserved set", set(base.clone(), 6, &[0, 1]), E::EINVAL),
        ("type 0", set(base.clone(), 1, &[0]), E::EINVAL),
        ("type 25", set(base.clone(), 1, &[25]), E::EINVAL),
        ("type 255", set(base.clone(), 1, &[255]), E::EINVAL),
        (
            "len too big",
            set(base.clone(), 4, &15u16.to_ne_bytes()),
            E::EMSGSIZE
        ),
        (
            "len too small",
            set(base.clone(), 4, &13u16.to_ne_bytes()),
            E::EMSGSIZE
        ),
        (
            "len 0",
            set(base.clone(), 4, &0u16.to_ne_bytes()),
            E::EMSGSIZE
        ),
        (
            "len 1 header only",
            set(base[..16].to_vec(), 4, &1u16.to_ne_bytes()),
            E::EMSGSIZE
        ),
        (
            "len byte-swapped",
            set(base.clone(), 4, &14u16.to_be_bytes()),
            E::EMSGSIZE
        ),
        ("truncated by a word", base[..104].to_vec(), E::EMSGSIZE),
        ("3 trailing bytes", p3, E::EINVAL),
        ("4 trailing bytes", p4, E::EINVAL),
        ("7 trailing bytes", p7, E::EINVAL),
        (
            "ext len 0",
            set(base.clone(), 16, &0u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "ext overruns message",
            set(base.clone(), 80, &5u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "ext type 0",
            set(base.clone(), 18, &0u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "duplicate ext",
            set(base.clone(), 58, &SADB_EXT_ADDRESS_SRC.to_ne_bytes()),
            E::EINVAL
        ),
        ("SA ext below its size", msg(SADB_GET, 3, &[sa8]), E::EINVAL),
        (
            "lifetime of 16 bytes",
            msg(SADB_ADD, 3, &[ext(SADB_EXT_LIFETIME_HARD, &[0; 12])]),
            E::EINVAL
        ),
        (
            "filter of 32 bytes",
            msg(SADB_DUMP, 3, &[ext(SADB_X_EXT_FILTER, &[0; 28])]),
            E::EINVAL
        ),
        (
            "policy of 8 bytes",
            msg(SADB_X_SPDGET, 0, &[ext(SADB_X_EXT_POLICY, &[0; 4])]),
            E::EINVAL
        ),
        (
            "spirange of 8 bytes",
            msg(SADB_GETSPI, 3, &[ext(SADB_EXT_SPIRANGE, &[0; 4])]),
            E::EINVAL
        ),
        (
            "sockaddr family AF_UNIX",
            set(base.clone(), 40, &1u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "sockaddr family 0",
            set(base.clone(), 40, &0u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "v4 ext claims AF_INET6",
            set(base.clone(), 40, &10u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "sockaddr family big-endian",
            set(base.clone(), 40, &2u16.to_be_bytes()),
            E::EINVAL
        ),
        ("v4 prefixlen 33", set(base.clone(), 37, &[33]), E::EINVAL),
        (
            "dst prefixlen 255",
            set(base.clone(), 61, &[255]),
            E::EINVAL
        ),
        (
            "address without sockaddr",
            msg(SADB_GET, 3, &[ext(SADB_EXT_ADDRESS_SRC, &[255, 32, 0, 0])]),
            E::EINVAL
        ),
        (
            "v4 address ext of 32 bytes",
            msg(
                SADB_GET,
                3,
                &[ext(
                    SADB_EXT_ADDRESS_SRC,
                    &[addr_body(32, &sin(2, [1; 4])), std::vec![0; 8]].concat()
                )]
            ),
            E::EINVAL
        ),
        (
            "v6 address ext of 24 bytes",
            msg(
                SADB_GET,
                3,
                &[ext_w(
                    SADB_EXT_ADDRESS_DST,
                    Some(3),
                    &addr_body(128, &sin6(1))[..20]
                )]
            ),
            E::EINVAL
        ),
        (
            "v6 prefixlen 129",
            msg(
                SADB_GET,
                3,
                &[ext(SADB_EXT_ADDRESS_DST, &addr_body(129, &sin6(1)))]
            ),
            E::EINVAL
        ),
        (
            "proxy prefixlen 33",
            msg(
                SADB_ADD,
                3,
                &[ext(SADB_EXT_ADDRESS_PROXY, &addr_body(33, &sin(2, [1; 4])))]
            ),
            E::EINVAL
        ),
        (
            "NAT-T OA family 1",
            msg(
                SADB_ADD,
                3,
                &[ext(SADB_X_EXT_NAT_T_OA, &addr_body(32, &sin(1, [1; 4])))]
            ),
            E::EINVAL
        ),
        (
            "key bits beyond ext",
            set(base.clone(), 84, &193u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "key bits 256 in 24 bytes",
            set(base.clone(), 84, &256u16.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "key bits 65535",
            set(base.clone(), 84, &u16::MAX.to_ne_bytes()),
            E::EINVAL
        ),
        (
            "sec ctx len mismatch",
            msg(SADB_X_SPDADD, 0, &[ctx(10, 4)]),
            E::EINVAL
        ),
        (
            "sec ctx len over page",
            msg(SADB_X_SPDADD, 0, &[ctx(5000, 4)]),
            E::EINVAL
        ),
        (
            "sensitivity bitmaps overrun",
            msg(SADB_ADD, 3, &[sens(2, 0, 8)]),
            E::EINVAL
        ),
        (
            "integrity bitmap overruns",
            msg(SADB_ADD, 3, &[sens(1, 1, 8)]),
            E::EINVAL
        ),
        (
            "policy request len 8",
            msg(
                SADB_X_SPDADD,
                0,
                &[ext(
                    SADB_X_EXT_POLICY,
                    &pol_body(2, 2, 0, &req(8, 50, 1, 2, &[]))
                )]
            ),
            E::EINVAL
        ),
        (
            "policy request len 0",
            msg(
                SADB_X_SPDADD,
                0,
                &[ext(
                    SADB_X_EXT_POLICY,
                    &pol_body(2, 2, 0, &req(0, 50, 1, 2, &[]))
                )]
            ),
            E::EINVAL
        ),
        (
            "policy request overruns",
            msg(
                SADB_X_SPDADD,
                0,
                &[ext(
                    SADB_X_EXT_POLICY,
                    &pol_body(2, 2, 0, &req(40, 50, 2, 2, &[0; 16]))
                )]
            ),
            E::EINVAL
        ),
        (
            "second request overruns",
            msg(
                SADB_X_SPDADD,
                0,
                &[ext(
                    SADB_X_EXT_POLICY,
                    &pol_body(
                        2,
                        2,
                        0,
                        &[req(16, 50, 1, 2, &[]), req(24, 51, 1, 2, &[])].concat()
                    )
                )]
            ),
            E::EINVAL
        ),
        (
            "kmaddress mixed families",
            msg(SADB_X_MIGRATE, 0, &[kma(&pair46)]),
            E::EINVAL
        ),
        (
            "kmaddress truncated pair",
            msg(SADB_X_MIGRATE, 0, &[kma(&pair44[..20])]),
            E::EINVAL
        ),
        (
            "kmaddress without addresses",
            msg(SADB_X_MIGRATE, 0, &[kma(&[])]),
            E::EINVAL
        ),
    ];
    assert!(cases.len() >= 40, "{}", cases.len());
    for (name, bytes, want) in &cases {
        assert_eq!(parse(bytes).err(), Some(*want), "{name}");
        assert_eq!(
            parse_reply(bytes).err().is_some(),
            name != &"reserved set",
            "{name} (reply)"
        );
    }
}

#[test]
fn near_misses_that_af_key_accepts() {
    // Unknown extension types above SADB_EXT_MAX are skipped.
    let m = msg(SADB_FLUSH, 3, &[ext(27, &[1; 12]), ext(0xffff, &[])]);
    let p = parse(&m).unwrap();
    assert_eq!(p.ext_types().count(), 0);
    // Exact bounds: /32, /128, /0; a 0-bit key.
    assert!(parse(&msg(SADB_GET, 3, &[v4src(32)])).is_ok());
    assert!(parse(&msg(SADB_GET, 3, &[v4src(0)])).is_ok());
    assert!(parse(&msg(
        SADB_GET,
        3,
        &[ext(SADB_EXT_ADDRESS_DST, &addr_body(128, &sin6(1)))]
    ))
    .is_ok());
    assert!(parse(&msg(SADB_ADD, 3, &[ext(SADB_EXT_KEY_AUTH, &[0; 4])])).is_ok());
    // Up to 15 bytes after the last request are ignored, as in Linux.
    let pol = ext(
        SADB_X_EXT_POLICY,
        &pol_body(
            2,
            2,
            0,
            &[req(16, 50, 1, 2, &[]), std::vec![0xee; 8]].concat(),
        ),
    );
    let m = msg(SADB_X_SPDADD, 0, &[pol]);
    assert_eq!(parse(&m).unwrap().policy().unwrap().requests().count(), 1);
    // A sec ctx of exactly one page.
    let mut b = std::vec![1, 1];
    b.extend_from_slice(&4096u16.to_ne_bytes());
    b.resize(4 + 4096, b'a');
    let m = msg(SADB_X_SPDADD, 0, &[ext(SADB_X_EXT_SEC_CTX, &b)]);
    assert_eq!(parse(&m).unwrap().sec_ctx().unwrap().ctx.len(), 4096);
}

#[test]
fn every_prefix_and_single_byte_flip_is_panic_free() {
    // Bad input is normal input: nothing may panic whatever the bytes.
    let x = esp_add();
    for n in 0..=x.len() {
        let _ = parse(&x[..n]).map(|p| check_required(p.msg_type(), &p));
    }
    for i in 0..x.len() {
        for v in [0u8, 1, 7, 0x80, 0xff] {
            let mut m = x.clone();
            m[i] = v;
            if let Ok(p) = parse(&m) {
                for t in 0..=SADB_MAX {
                    let _ = check_required(t, &p);
                }
                let _ = (
                    p.sa(),
                    p.address_src(),
                    p.key_encrypt(),
                    p.policy().map(|p| p.requests().count()),
                );
            }
        }
    }
}
