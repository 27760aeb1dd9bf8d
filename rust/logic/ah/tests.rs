use super::vectors::VECTORS;
use super::*;
use crate::logic::bytes::testing::{cat, ipv6, opt_hdr, pad_hdr};
use crate::logic::ipv6ext::{nexthdr_pos_of, transport_insert_point};
use std::vec::Vec;

// --- lengths ---

#[test]
fn header_lengths() {
    use Align::{Eight, Four};
    // ICV length: (IPv4, IPv6) header length.
    for (icv, four, eight) in [
        (0usize, 12usize, 16usize),
        (12, 24, 24), // HMAC-MD5/SHA1-96, AES-XCBC/CMAC-96
        (16, 28, 32), // HMAC-SHA256-128
        (24, 36, 40), // HMAC-SHA384-192
        (32, 44, 48), // HMAC-SHA512-256
        (1, 16, 16),
        (1012, 1024, 1024),
    ] {
        assert_eq!(header_len(icv, Four), Some(four), "{icv}");
        assert_eq!(overhead(icv, Four), Some(four));
        assert_eq!(header_len(icv, Eight), Some(eight), "{icv}");
        assert_eq!(overhead(icv, Eight), Some(eight));
        assert_eq!(four % 4, 0);
        assert_eq!(eight % 8, 0);
    }
    // The length field's limit: 255 words + 2 = 1028 bytes, which 64-bit
    // alignment cannot reach.
    assert_eq!(header_len(1016, Four), Some(AH_MAX_LEN));
    assert_eq!(header_len(1016, Eight), None);
    assert_eq!(header_len(1017, Four), None);
    assert_eq!(header_len(1017, Eight), None);
    assert_eq!(header_len(usize::MAX, Four), None);
    assert_eq!(header_len(usize::MAX - 12, Eight), None);
    assert_eq!(Align::for_ipv6(true), Eight);
    assert_eq!(Align::for_ipv6(false), Four);
    for (len, field) in [
        (12usize, Some(1u8)),
        (24, Some(4)),
        (28, Some(5)),
        (1028, Some(255)),
    ] {
        assert_eq!(payload_len_field(len), field, "{len}");
    }
    for len in [0usize, 8, 11, 13, 26, 1032, usize::MAX] {
        assert_eq!(payload_len_field(len), None, "{len}");
    }
}

#[test]
fn inbound_lengths() {
    use Align::{Eight, Four};
    // HMAC-SHA256-128 (full digest 32) over IPv4: RFC 4302's 28 and 44,
    // and Linux's 64-bit padded 32 and 48.
    for len in [28, 32, 44, 48] {
        assert!(accepts_header_len(len, 16, 32, Four), "{len}");
    }
    for len in [0, 12, 24, 36, 40, 52] {
        assert!(!accepts_header_len(len, 16, 32, Four), "{len}");
    }
    // Over IPv6 only 64-bit padding.
    assert!(accepts_header_len(32, 16, 32, Eight));
    assert!(accepts_header_len(48, 16, 32, Eight));
    assert!(!accepts_header_len(28, 16, 32, Eight));
    assert!(!accepts_header_len(44, 16, 32, Eight));
    // 96-bit ICVs: 24 either way.
    assert!(accepts_header_len(24, 12, 20, Four) && accepts_header_len(24, 12, 20, Eight));
    assert!(accepts_header_len(32, 12, 20, Eight)); // full SHA-1 digest
    assert!(!accepts_header_len(28, 12, 20, Eight));
}

#[test]
fn esn_trailer_is_the_high_half() {
    assert_eq!(esn_trailer(0x0102_0304), [1, 2, 3, 4]);
    assert_eq!(esn_trailer(0), [0; 4]);
    assert_eq!(ESN_TRAILER_LEN, 4);
}

// --- header view and builder ---

#[test]
fn header_view() {
    let mut buf = std::vec![0u8; 40];
    let len = write_header(&mut buf, 6, 0x1234_5678, 0x9abc_def0, 16, Align::Four).unwrap();
    assert_eq!(len, 28);
    assert_eq!(
        buf[..12],
        [6, 5, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]
    );
    let mut h = AhHeader::new_checked(&mut buf[..]).unwrap();
    assert_eq!(
        (h.next_header(), h.payload_len(), h.header_len()),
        (6, 5, 28)
    );
    assert_eq!(
        (h.reserved(), h.spi(), h.seq()),
        (0, 0x1234_5678, 0x9abc_def0)
    );
    assert_eq!(h.icv_field(), &[0u8; 16][..]);
    assert_eq!(h.payload().len(), 12);
    h.set_icv(&[0xaa; 16]).unwrap();
    assert_eq!(h.set_icv(&[0xbb; 17]), Err(AhError::BadLength));
    h.set_next_header(17);
    h.set_spi(1);
    h.set_seq(2);
    assert_eq!(h.icv(16), Some(&[0xaa; 16][..]));
    assert_eq!(h.icv(17), None);
    assert_eq!((h.next_header(), h.spi(), h.seq()), (17, 1, 2));
    assert_eq!(h.into_inner().len(), 40);
    zero_icv(&mut buf, 16).unwrap();
    assert_eq!(buf[12..28], [0u8; 16]);
    assert_eq!(zero_icv(&mut buf[..27], 16), Err(AhError::Truncated));
    // The reserved field is read as sent.
    buf[2] = 0xff;
    buf[3] = 0x01;
    assert_eq!(AhHeader::new_checked(&buf[..]).unwrap().reserved(), 0xff01);
}

#[test]
fn header_view_refuses_short_and_bad_lengths() {
    let mut buf = std::vec![0u8; 1028];
    write_header(&mut buf, 59, 1, 1, 12, Align::Eight).unwrap();
    for n in 0..24 {
        assert_eq!(
            AhHeader::new_checked(&buf[..n]).err(),
            Some(AhError::Truncated),
            "{n}"
        );
    }
    assert!(AhHeader::new_checked(&buf[..24]).is_ok());
    buf[1] = 0; // 8 bytes: less than the fixed part
    assert_eq!(
        AhHeader::new_checked(&buf[..]).err(),
        Some(AhError::BadLength)
    );
    buf[1] = 255; // the largest
    let h = AhHeader::new_checked(&buf[..]).unwrap();
    assert_eq!(
        (h.header_len(), h.icv_field().len(), h.payload().len()),
        (1028, 1016, 0)
    );
    assert_eq!(
        AhHeader::new_checked(&buf[..1027]).err(),
        Some(AhError::Truncated)
    );
}

#[test]
fn builder_limits() {
    let mut buf = [0xffu8; 64];
    for (icv, align, len) in [
        (12, Align::Four, 24),
        (16, Align::Eight, 32),
        (0, Align::Four, 12),
    ] {
        buf.fill(0xff);
        assert_eq!(write_header(&mut buf, 4, 7, 8, icv, align), Ok(len));
        // ICV and padding zeroed, bytes after the header untouched.
        assert!(buf[12..len].iter().all(|&b| b == 0));
        assert!(buf[len..].iter().all(|&b| b == 0xff));
        assert_eq!(usize::from(buf[1]), len / 4 - 2);
        assert_eq!(
            write_header(&mut buf[..len - 1], 4, 7, 8, icv, align),
            Err(AhError::Truncated)
        );
    }
    assert_eq!(
        write_header(&mut buf, 4, 7, 8, 2000, Align::Four),
        Err(AhError::BadLength)
    );
}

// --- IPv4 mutable fields ---

/// An IPv4 header with `opts` (a multiple of 4 bytes) as options.
fn v4_hdr(opts: &[u8]) -> Vec<u8> {
    let hlen = 20 + opts.len();
    let mut h = std::vec![
        0x40 | (hlen / 4) as u8,
        0xb9, // DSCP 46, ECN 1
        0,
        100,
        0x12,
        0x34,
        0x60, // DF, MF
        0x05,
        64,
        51,
        0xab,
        0xcd,
        192,
        0,
        2,
        1,
        192,
        0,
        2,
        2
    ];
    h.extend_from_slice(opts);
    h
}

#[test]
fn ipv4_fixed_fields() {
    for side in [Side::Sender, Side::Receiver] {
        let mut h = v4_hdr(&[]);
        ipv4_zero_mutable(&mut h, side).unwrap();
        let mut want = v4_hdr(&[]);
        for i in [1, 6, 7, 8, 10, 11] {
            want[i] = 0;
        }
        assert_eq!(h, want);
    }
    // Only the header is touched, whatever follows it.
    let mut p = v4_hdr(&[]);
    p.extend_from_slice(&[0xee; 8]);
    ipv4_zero_mutable(&mut p, Side::Sender).unwrap();
    assert_eq!(p[20..], [0xee; 8]);
    // Not IPv4, or shorter than IHL says.
    let mut bad = v4_hdr(&[]);
    bad[0] = 0x65;
    assert_eq!(
        ipv4_zero_mutable(&mut bad, Side::Sender),
        Err(AhError::NotIpv4)
    );
    bad[0] = 0x44;
    assert_eq!(
        ipv4_zero_mutable(&mut bad, Side::Sender),
        Err(AhError::NotIpv4)
    );
    let mut h = v4_hdr(&[1, 1, 1, 1]);
    for n in 0..24 {
        assert_eq!(
            ipv4_zero_mutable(&mut h[..n], Side::Sender),
            Err(AhError::Truncated),
            "{n}"
        );
    }
    assert_eq!(
        ipv4_zero_mutable(&mut [][..], Side::Receiver),
        Err(AhError::Truncated)
    );
}

#[test]
fn ipv4_option_rules() {
    // Kept whole (type, length, data): the immutable options.
    for t in [130u8, 133, 134, 148, 149] {
        let opts = [t, 4, 0x11, 0x22];
        let mut h = v4_hdr(&opts);
        assert_eq!(ipv4_clear_mutable_options(&mut h), Ok(None));
        assert_eq!(h[20..], opts, "type {t}");
    }
    // Zeroed whole: record route, timestamp, unknown types, and types
    // that share an immutable option's number but not its type byte.
    for t in [7u8, 68, 0x14, 0x02, 0x06, 0x96, 0x99, 0xff, 25, 82] {
        let mut h = v4_hdr(&[t, 4, 0x11, 0x22]);
        assert_eq!(ipv4_clear_mutable_options(&mut h), Ok(None));
        assert_eq!(h[20..], [0; 4], "type {t}");
    }
    // NOPs stay; END ends the walk and what follows it stays as it is.
    let mut h = v4_hdr(&[1, 7, 3, 4, 0, 7, 0xaa, 0xbb]);
    assert_eq!(ipv4_clear_mutable_options(&mut h), Ok(None));
    assert_eq!(h[20..], [1, 0, 0, 0, 0, 7, 0xaa, 0xbb]);
    // A mix filling the largest header (40 bytes of options).
    let mut opts = std::vec![148, 4, 0, 0, 7, 11, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1];
    opts.extend_from_slice(&[130, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
    opts.extend_from_slice(&[68, 12, 5, 0, 9, 9, 9, 9, 8, 8, 8, 8]);
    assert_eq!(opts.len(), 40);
    let mut h = v4_hdr(&opts);
    assert_eq!(h.len(), 60);
    ipv4_zero_mutable(&mut h, Side::Sender).unwrap();
    let mut want = std::vec![148u8, 4, 0, 0];
    want.extend_from_slice(&[0; 11]);
    want.push(1);
    want.extend_from_slice(&[130, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
    want.extend_from_slice(&[0; 12]);
    assert_eq!(h[20..], want[..]);
}

#[test]
fn ipv4_source_routes() {
    // LSRR with two addresses; the last is the final destination.
    let lsrr = [131u8, 11, 4, 10, 0, 0, 1, 203, 0, 113, 9, 1];
    for t in [131u8, 137] {
        let mut opts = lsrr;
        opts[0] = t;
        let mut h = v4_hdr(&opts);
        assert_eq!(
            ipv4_clear_mutable_options(&mut h),
            Ok(Some([203, 0, 113, 9]))
        );
        assert_eq!(h[20..], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        // The sender substitutes it; the receiver has it already.
        let mut s = v4_hdr(&opts);
        ipv4_zero_mutable(&mut s, Side::Sender).unwrap();
        assert_eq!(s[16..20], [203, 0, 113, 9]);
        let mut r = v4_hdr(&opts);
        ipv4_zero_mutable(&mut r, Side::Receiver).unwrap();
        assert_eq!(r[16..20], [192, 0, 2, 2]);
        assert_eq!(s[20..], r[20..]);
    }
    // Linux takes the option's last 4 bytes, whatever the pointer says,
    // and the last source route wins.
    let mut h = v4_hdr(&[131, 7, 8, 1, 2, 3, 4, 137, 7, 4, 5, 6, 7, 8, 0, 0]);
    assert_eq!(ipv4_clear_mutable_options(&mut h), Ok(Some([5, 6, 7, 8])));
    // A source route too short for an address.
    let mut h = v4_hdr(&[131, 5, 4, 1, 2, 0, 0, 0]);
    assert_eq!(ipv4_clear_mutable_options(&mut h), Err(AhError::BadOption));
}

#[test]
fn ipv4_malformed_options() {
    for opts in [
        &[7u8, 0, 0, 0][..],          // length 0
        &[7, 1, 0, 0],                // length 1
        &[7, 5, 0, 0],                // past the header
        &[1, 1, 1, 7],                // type in the last byte, no length
        &[148, 4, 0, 0, 68, 9, 0, 0], // second option past the header
    ] {
        let mut h = v4_hdr(opts);
        assert_eq!(
            ipv4_clear_mutable_options(&mut h),
            Err(AhError::BadOption),
            "{opts:?}"
        );
        assert_eq!(
            ipv4_zero_mutable(&mut h, Side::Receiver),
            Err(AhError::BadOption)
        );
    }
    // Exactly reaching the header's end is fine.
    let mut h = v4_hdr(&[1, 7, 3, 4]);
    assert_eq!(ipv4_clear_mutable_options(&mut h), Ok(None));
    assert_eq!(h[20..], [1, 0, 0, 0]);
}

// --- IPv6 mutable fields ---

/// Option type with the may-change bit, and one without.
const MUT: u8 = 0x3e;
const FIX: u8 = 0x1e;

#[test]
fn ipv6_fixed_fields() {
    let mut p = ipv6(6, &[0u8; 20]);
    // Traffic class 0xbc, flow label 0xdef12.
    p[0] = 0x6b;
    p[1] = 0xcd;
    p[2] = 0xef;
    p[3] = 0x12;
    let mut h = p[..40].to_vec();
    ipv6_zero_mutable(&mut h).unwrap();
    let mut want = p[..40].to_vec();
    want[0] = 0x60;
    want[1] = 0;
    want[2] = 0;
    want[3] = 0;
    want[7] = 0;
    assert_eq!(h, want);
    // Version checked, header needed.
    let mut bad = p[..40].to_vec();
    bad[0] = 0x45;
    assert_eq!(ipv6_zero_mutable(&mut bad), Err(AhError::NotIpv6));
    for n in 0..40 {
        assert_eq!(
            ipv6_zero_mutable(&mut p.clone()[..n]),
            Err(AhError::Truncated),
            "{n}"
        );
    }
}

#[test]
fn ipv6_option_rules() {
    // Pad1, PadN, a may-change option, a fixed one, another may-change.
    let body = [0u8, 1, 1, 0, MUT, 2, 0xaa, 0xbb, FIX, 2, 0xcc, 0xdd, MUT, 0];
    let hbh = opt_hdr(60, &body);
    let dst = opt_hdr(51, &[MUT | 0xc0, 4, 1, 2, 3, 4]);
    let p = ipv6(0, &cat(&[&hbh, &dst]));
    let mut h = p.clone();
    ipv6_zero_mutable(&mut h).unwrap();
    let mut want = p.clone();
    for i in [0usize, 1, 2, 3, 7] {
        want[i] &= if i == 0 { 0xf0 } else { 0 };
    }
    // hop-by-hop at 40: data of the may-change option at 40+2+4+2.
    want[48] = 0;
    want[49] = 0;
    // destination options at 56: data at 56+4.
    want[60..64].fill(0);
    assert_eq!(h, want);
    // The function on one header.
    let mut one = opt_hdr(59, &[MUT, 4, 9, 9, 9, 9]);
    ipv6_zero_mutable_options(&mut one).unwrap();
    assert_eq!(one, [59, 0, MUT, 4, 0, 0, 0, 0]);
    let mut one = opt_hdr(59, &[FIX, 4, 9, 9, 9, 9]);
    ipv6_zero_mutable_options(&mut one).unwrap();
    assert_eq!(one[4..], [9; 4]);
    // PadN's type has the bit clear; Jumbo (0xc2) too; 0x20 alone set.
    let mut one = opt_hdr(59, &[0x20, 4, 9, 9, 9, 9]);
    ipv6_zero_mutable_options(&mut one).unwrap();
    assert_eq!(one[4..], [0; 4]);
}

#[test]
fn ipv6_options_that_overrun() {
    for body in [
        &[MUT, 5, 0, 0, 0, 0][..], // data past the header
        &[0, 0, 0, 0, 0, MUT],     // type in the last byte, no length
        &[1, 5, 0, 0, 0, 0],       // PadN past the header
    ] {
        let p = ipv6(0, &opt_hdr(59, body));
        assert_eq!(
            ipv6_zero_mutable(&mut p.clone()),
            Err(AhError::BadExtHeader),
            "{body:?}"
        );
        let mut one = opt_hdr(59, body);
        assert_eq!(
            ipv6_zero_mutable_options(&mut one),
            Err(AhError::BadExtHeader)
        );
    }
    // A header cut short, and more headers than the walk takes.
    let p = ipv6(0, &pad_hdr(51, 16));
    for n in 41..56 {
        assert_eq!(
            ipv6_zero_mutable(&mut p.clone()[..n]),
            Err(AhError::BadExtHeader),
            "{n}"
        );
    }
    let mut body = Vec::new();
    for _ in 0..17 {
        body.extend_from_slice(&pad_hdr(60, 8));
    }
    let p = ipv6(60, &body);
    assert_eq!(
        ipv6_zero_mutable(&mut p.clone()),
        Err(AhError::BadExtHeader)
    );
    assert_eq!(ipv6_zero_mutable(&mut p.clone()[..40 + 16 * 8]), Ok(()));
}

fn a6(n: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[15] = n;
    a
}

/// A type `t` routing header with `addrs` and `left` segments left.
fn rt_hdr(nh: u8, t: u8, left: u8, addrs: &[[u8; 16]]) -> Vec<u8> {
    let mut h = std::vec![nh, (addrs.len() * 2) as u8, t, left, 0, 0, 0, 0];
    for a in addrs {
        h.extend_from_slice(a);
    }
    h
}

fn dst_of(p: &[u8]) -> [u8; 16] {
    p[24..40].try_into().unwrap()
}

fn rt_addrs(p: &[u8], off: usize, n: usize) -> Vec<[u8; 16]> {
    (0..n)
        .map(|i| p[off + 8 + 16 * i..off + 24 + 16 * i].try_into().unwrap())
        .collect()
}

#[test]
fn ipv6_routing_rearranged() {
    // Sent to I1 through [I2, I3, D], all three segments left: on arrival
    // the destination is D and the list [I1, I2, I3].
    for t in [0u8, 2, 3, 4, 253] {
        let mut p = ipv6(43, &rt_hdr(51, t, 3, &[a6(2), a6(3), a6(9)]));
        p[24..40].copy_from_slice(&a6(1));
        ipv6_zero_mutable(&mut p).unwrap();
        assert_eq!(dst_of(&p), a6(9), "type {t}");
        assert_eq!(rt_addrs(&p, 40, 3), [a6(1), a6(2), a6(3)]);
        assert_eq!((p[42], p[43]), (t, 0));
    }
    // Partway: one segment left means I1 and I2 were visited; the packet
    // is now addressed to I3 with [I1, I2, D].
    let mut p = ipv6(43, &rt_hdr(51, 0, 1, &[a6(1), a6(2), a6(9)]));
    p[24..40].copy_from_slice(&a6(3));
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(dst_of(&p), a6(9));
    assert_eq!(rt_addrs(&p, 40, 3), [a6(1), a6(2), a6(3)]);
    // Two left.
    let mut p = ipv6(43, &rt_hdr(51, 0, 2, &[a6(1), a6(3), a6(9)]));
    p[24..40].copy_from_slice(&a6(2));
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(
        (dst_of(&p), rt_addrs(&p, 40, 3)),
        (a6(9), std::vec![a6(1), a6(2), a6(3)])
    );
    // No segments left: as it is (the receiver's case).
    let q = ipv6(43, &rt_hdr(51, 0, 0, &[a6(1), a6(2)]));
    let mut p = q.clone();
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(p[8..], q[8..]);
    // Type 2: one address, the home address.
    let mut p = ipv6(43, &rt_hdr(51, 2, 1, &[a6(0x44)]));
    p[24..40].copy_from_slice(&a6(0xcc));
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(
        (dst_of(&p), rt_addrs(&p, 40, 1)),
        (a6(0x44), std::vec![a6(0xcc)])
    );
    // More segments left than addresses.
    let mut p = ipv6(43, &rt_hdr(51, 0, 3, &[a6(1), a6(2)]));
    let before = p.clone();
    assert_eq!(ipv6_zero_mutable(&mut p), Err(AhError::BadRoutingHeader));
    assert_eq!(p[8..], before[8..]);
    let mut p = ipv6(43, &rt_hdr(51, 0, 1, &[]));
    assert_eq!(ipv6_zero_mutable(&mut p), Err(AhError::BadRoutingHeader));
    // An odd length: the addresses are hdrlen >> 1 (one here, 8 spare bytes).
    let mut h = rt_hdr(51, 0, 1, &[a6(5)]);
    h[1] = 3;
    h.extend_from_slice(&[0xee; 8]);
    let mut p = ipv6(43, &h);
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(dst_of(&p), a6(5));
    assert_eq!(p[64..72], [0xee; 8]);
    // The largest routing header: 127 addresses.
    let addrs: Vec<[u8; 16]> = (0..127).map(|i| a6(i as u8)).collect();
    let mut h = rt_hdr(51, 0, 127, &addrs);
    h[1] = 254;
    let mut p = ipv6(43, &h);
    p[24..40].copy_from_slice(&a6(200));
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(dst_of(&p), a6(126));
    let got = rt_addrs(&p, 40, 127);
    assert_eq!(got[0], a6(200));
    assert_eq!(got[1..], addrs[..126]);
}

#[test]
fn ipv6_walk_stops_where_linux_stops() {
    // A fragment header in front of AH: not walked into; what follows it
    // stays as it is.
    let tail = opt_hdr(51, &[MUT, 4, 1, 2, 3, 4]);
    let frag = crate::logic::bytes::testing::frag_hdr(60, 0, false, 1);
    let q = ipv6(44, &cat(&[&frag, &tail]));
    let mut p = q.clone();
    ipv6_zero_mutable(&mut p).unwrap();
    assert_eq!(p[8..], q[8..]);
    // Exactly at the end of the bytes in front of AH.
    let q = ipv6(0, &cat(&[&opt_hdr(51, &[MUT, 4, 1, 2, 3, 4]), &[0xaa; 24]]));
    let mut p = q.clone();
    ipv6_zero_mutable(&mut p[..48]).unwrap();
    assert_eq!(p[44..48], [0; 4]);
    assert_eq!(p[48..], q[48..]);
    // With the payload length field 0 (jumbo), the buffer bounds the walk.
    let mut p = q[..48].to_vec();
    p[4] = 0;
    p[5] = 0;
    assert_eq!(ipv6_zero_mutable(&mut p), Ok(()));
}

// --- cross-check against scapy ---

/// Offset of AH in a vector's packet, found as rxfrm finds it.
fn find_ah(v: &super::vectors::Vector) -> usize {
    if !v.v6 {
        return usize::from(v.sent[0] & 0x0f) * 4;
    }
    let mut w = Ipv6Walker::new(v.sent).unwrap();
    while w.proto() != 51 {
        w.next_ext().unwrap().unwrap();
    }
    w.offset()
}

#[test]
fn scapy_vectors_zeroing() {
    assert_eq!(VECTORS.len(), 8);
    for v in VECTORS {
        let off = find_ah(v);
        assert_eq!(off, v.ah_offset, "{}", v.name);
        // The sender's view of the sent packet ...
        let mut z = v.sent.to_vec();
        zero_icv(&mut z[off..], v.icv_len).unwrap();
        if v.v6 {
            ipv6_zero_mutable(&mut z[..off]).unwrap();
        } else {
            ipv4_zero_mutable(&mut z[..off], Side::Sender).unwrap();
        }
        assert_eq!(z, v.zeroed, "{} (sender)", v.name);
        // ... is the receiver's view of the packet as it arrived, after
        // routers changed hop limits, traffic classes, recorded routes and
        // followed source routes.
        assert_ne!(v.arrived, v.sent, "{}", v.name);
        let mut r = v.arrived.to_vec();
        zero_icv(&mut r[off..], v.icv_len).unwrap();
        if v.v6 {
            ipv6_zero_mutable(&mut r[..off]).unwrap();
        } else {
            ipv4_zero_mutable(&mut r[..off], Side::Receiver).unwrap();
        }
        assert_eq!(r, v.zeroed, "{} (receiver)", v.name);
        // Where scapy's sender disagrees with Linux, it does on purpose.
        assert_eq!(v.note.is_some(), v.scapy_zeroed != v.zeroed, "{}", v.name);
    }
}

#[test]
fn scapy_disagreements_are_where_documented() {
    let lsrr = VECTORS.iter().find(|v| v.name == "v4_lsrr").unwrap();
    // Only the destination address differs: scapy leaves the first hop.
    let diff: Vec<usize> = (0..lsrr.zeroed.len())
        .filter(|&i| lsrr.zeroed[i] != lsrr.scapy_zeroed[i])
        .collect();
    assert!(
        !diff.is_empty() && diff.iter().all(|i| (16..20).contains(i)),
        "{diff:?}"
    );
    assert_eq!(lsrr.zeroed[16..20], [203, 0, 113, 9]);
    assert_eq!(lsrr.arrived[16..20], [203, 0, 113, 9]);
    let t14 = VECTORS.iter().find(|v| v.name == "v4_ts_type14").unwrap();
    let diff: Vec<usize> = (0..t14.zeroed.len())
        .filter(|&i| t14.zeroed[i] != t14.scapy_zeroed[i])
        .collect();
    assert_eq!(diff, [28, 29]);
    assert_eq!(t14.scapy_zeroed[28..32], [0x14, 4, 0, 0]);
}

#[test]
fn scapy_vectors_headers() {
    for v in VECTORS {
        let off = v.ah_offset;
        let h = AhHeader::new_checked(&v.sent[off..]).unwrap();
        assert_eq!(
            (h.spi(), h.seq(), h.header_len()),
            (v.spi, v.seq, v.hdr_len),
            "{}",
            v.name
        );
        assert_eq!(h.icv(v.icv_len), Some(v.icv), "{}", v.name);
        assert_eq!(h.reserved(), 0);
        // The padding scapy sends is zero, and rxfrm's length rules give
        // scapy's header length (RFC 4302: 32-bit IPv4, 64-bit IPv6).
        assert!(h.icv_field()[v.icv_len..].iter().all(|&b| b == 0));
        let align = Align::for_ipv6(v.v6);
        assert_eq!(header_len(v.icv_len, align), Some(v.hdr_len), "{}", v.name);
        assert!(accepts_header_len(v.hdr_len, v.icv_len, v.icv_len, align));
        // rxfrm's builder writes scapy's header, ICV zeroed.
        let mut built = std::vec![0u8; v.hdr_len];
        let len =
            write_header(&mut built, h.next_header(), v.spi, v.seq, v.icv_len, align).unwrap();
        assert_eq!(len, v.hdr_len);
        assert_eq!(built[..], v.zeroed[off..off + len], "{}", v.name);
        // The insertion point is scapy's (which follows Linux); the
        // payload after AH is the original packet's.
        if v.tunnel {
            assert_eq!(h.next_header(), if v.plain[0] >> 4 == 6 { 41 } else { 4 });
            assert_eq!(h.payload(), v.plain);
        } else if v.v6 {
            let ins = transport_insert_point(v.plain).unwrap();
            assert_eq!(
                (ins.offset, ins.next_header),
                (off, h.next_header()),
                "{}",
                v.name
            );
            assert_eq!(v.sent[ins.nexthdr_pos], 51);
            assert_eq!(nexthdr_pos_of(v.sent, off), Ok(ins.nexthdr_pos));
            assert_eq!(h.payload(), &v.plain[ins.offset..]);
        } else {
            assert_eq!(usize::from(v.plain[0] & 0x0f) * 4, off);
            assert_eq!((v.sent[9], h.next_header()), (51, v.plain[9]));
            assert_eq!(h.payload(), &v.plain[off..]);
        }
    }
}

/// SHA-1 (FIPS 180-4), for checking the HMAC-SHA1-96 vectors end to end.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut m = data.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in m.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6u32),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (o, x) in out.chunks_mut(4).zip(h) {
        o.copy_from_slice(&x.to_be_bytes());
    }
    out
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    assert!(key.len() <= 64);
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x36)
        .chain(data.iter().copied())
        .collect();
    let ih = sha1(&inner);
    let outer: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(ih.iter().copied())
        .collect();
    sha1(&outer)
}

#[test]
fn sha1_known_answers() {
    assert_eq!(
        sha1(b"abc"),
        [
            0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
            0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
        ]
    );
    // RFC 2202 test case 1.
    assert_eq!(
        hmac_sha1(&[0x0b; 20], b"Hi There"),
        [
            0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37,
            0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00
        ]
    );
}

/// The HMAC-SHA1-96 vectors verify end to end over rxfrm's own zeroing of
/// the packet as it arrived, ESN high half appended when the SA has ESN.
#[test]
fn scapy_sha1_vectors_verify_end_to_end() {
    let mut checked = 0;
    for v in VECTORS.iter().filter(|v| v.alg == "HMAC-SHA1-96") {
        let off = v.ah_offset;
        let mut r = v.arrived.to_vec();
        zero_icv(&mut r[off..], v.icv_len).unwrap();
        if v.v6 {
            ipv6_zero_mutable(&mut r[..off]).unwrap();
        } else {
            ipv4_zero_mutable(&mut r[..off], Side::Receiver).unwrap();
        }
        if let Some(hi) = v.esn {
            r.extend_from_slice(&esn_trailer(hi));
        }
        let icv = hmac_sha1(v.key, &r);
        assert_eq!(&icv[..12], v.icv, "{}", v.name);
        // One changed immutable byte (the sequence number) breaks it.
        r[off + 11] ^= 1;
        assert_ne!(&hmac_sha1(v.key, &r)[..12], v.icv);
        checked += 1;
    }
    assert_eq!(checked, 3);
}
