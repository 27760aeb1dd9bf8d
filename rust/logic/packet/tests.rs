use super::*;
use std::vec::Vec;

const A4: [u8; 4] = [10, 0, 0, 1];
const B4: [u8; 4] = [10, 0, 0, 2];

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[15] = last;
    a
}

/// An IPv4 packet: 20-byte header (+ `opts` words of options), then `l4`.
fn ipv4(proto: u8, frag: u16, opts: usize, l4: &[u8]) -> Vec<u8> {
    let hlen = 20 + opts * 4;
    let total = (hlen + l4.len()) as u16;
    let mut p = std::vec![0u8; hlen];
    p[0] = 0x40 | (hlen / 4) as u8;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[6..8].copy_from_slice(&frag.to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&A4);
    p[16..20].copy_from_slice(&B4);
    p.extend_from_slice(l4);
    p
}

/// An IPv6 packet with next header `nh` and payload `rest`.
fn ipv6(nh: u8, rest: &[u8]) -> Vec<u8> {
    let mut p = std::vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    p[6] = nh;
    p[7] = 64;
    p[8..24].copy_from_slice(&v6(1));
    p[24..40].copy_from_slice(&v6(2));
    p.extend_from_slice(rest);
    p
}

const TCP: [u8; 20] = [
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 2, 0, 0, 0, 0, 0, 0,
];

fn key4(proto: u8, s: u16, d: u16) -> FlowKey {
    FlowKey::new(IpAddr::V4(A4), IpAddr::V4(B4), proto, s, d)
}

fn key6(proto: u8, s: u16, d: u16) -> FlowKey {
    FlowKey::new(IpAddr::V6(v6(1)), IpAddr::V6(v6(2)), proto, s, d)
}

#[test]
fn ipv4_ports_and_icmp() {
    let f = flow_of_ipv4(&ipv4(6, 0x4000, 0, &TCP)).unwrap();
    assert_eq!(f.key, key4(6, 1234, 80));
    assert_eq!((f.l4_offset, f.fragment), (20, false));
    for proto in [17, 136, 132, 33] {
        let f = flow_of_ipv4(&ipv4(proto, 0, 0, &[0, 53, 0x13, 0x88, 0, 8])).unwrap();
        assert_eq!(f.key, key4(proto, 53, 5000), "proto {proto}");
    }
    // Options move the L4 header.
    let f = flow_of_ipv4(&ipv4(17, 0, 2, &[0, 53, 0, 54])).unwrap();
    assert_eq!((f.key, f.l4_offset), (key4(17, 53, 54), 28));
    // ICMP echo request: type 8 code 0; dest unreachable 3/4.
    let f = flow_of_ipv4(&ipv4(1, 0, 0, &[8, 0, 0xf7, 0xff, 0, 0, 0, 0])).unwrap();
    assert_eq!(f.key, FlowKey::icmp(IpAddr::V4(A4), IpAddr::V4(B4), 8, 0));
    let f = flow_of_ipv4(&ipv4(1, 0, 0, &[3, 4])).unwrap();
    assert_eq!(f.key, key4(1, 3, 4));
    // Protocols without ports.
    let f = flow_of_ipv4(&ipv4(50, 0, 0, &[0, 0, 1, 0, 0, 0, 0, 1])).unwrap();
    assert_eq!(f.key, key4(50, 0, 0));
    // Link-layer padding past the total length is ignored.
    let mut p = ipv4(17, 0, 0, &[0, 1]);
    p.extend_from_slice(&[0xff; 10]);
    assert_eq!(flow_of_ipv4(&p).unwrap().key, key4(17, 0, 0));
}

#[test]
fn ipv4_gre_key() {
    // Version 0 with checksum and key 0x00010002.
    let gre = [0xa0, 0, 0x08, 0, 0, 0, 0, 0, 0, 1, 0, 2];
    assert_eq!(
        flow_of_ipv4(&ipv4(47, 0, 0, &gre)).unwrap().key,
        key4(47, 1, 2)
    );
    // PPTP: the call id is the key's low half.
    let pptp = [0x30, 0x01, 0x88, 0x0b, 0, 4, 0x12, 0x34];
    assert_eq!(
        flow_of_ipv4(&ipv4(47, 0, 0, &pptp)).unwrap().key,
        key4(47, 0, 0x1234)
    );
    // No key, or routing present: no "ports".
    let nokey = [0, 0, 0x08, 0, 0, 0, 0, 9];
    assert_eq!(
        flow_of_ipv4(&ipv4(47, 0, 0, &nokey)).unwrap().key,
        key4(47, 0, 0)
    );
    let routed = [0x60, 0, 0x08, 0, 0, 0, 0, 9];
    assert_eq!(
        flow_of_ipv4(&ipv4(47, 0, 0, &routed)).unwrap().key,
        key4(47, 0, 0)
    );
}

#[test]
fn ipv4_fragments_and_truncation() {
    // First fragment (MF) and a later one: protocol only, as Linux.
    for frag in [0x2000u16, 0x00b9, 0x20b9] {
        let f = flow_of_ipv4(&ipv4(6, frag, 0, &TCP)).unwrap();
        assert_eq!((f.key, f.fragment), (key4(6, 0, 0), true), "{frag:#x}");
    }
    // DF alone is no fragment.
    assert!(!flow_of_ipv4(&ipv4(6, 0x4000, 0, &TCP)).unwrap().fragment);
    // L4 header cut short: ports 0, no error.
    let f = flow_of_ipv4(&ipv4(6, 0, 0, &TCP[..3])).unwrap();
    assert_eq!(f.key, key4(6, 0, 0));
    assert_eq!(
        flow_of_ipv4(&ipv4(1, 0, 0, &[8])).unwrap().key,
        key4(1, 0, 0)
    );
    // IP header problems are errors.
    let p = ipv4(6, 0, 0, &TCP);
    assert_eq!(flow_of_ipv4(&p[..19]), Err(PacketError::Truncated));
    // A prefix (a hook's copy of the headers) is read as the datagram.
    assert_eq!(
        flow_of_ipv4(&p[..30]).unwrap().key,
        flow_of_ipv4(&p).unwrap().key
    );
    assert_eq!(flow_of_ipv4(&[]), Err(PacketError::Truncated));
    let mut bad = p.clone();
    bad[0] = 0x65;
    assert_eq!(flow_of_ipv4(&bad), Err(PacketError::BadHeader));
    bad[0] = 0x44;
    assert_eq!(ipv4_header_len(&bad), Err(PacketError::BadHeader));
    let mut bad = p.clone();
    bad[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(flow_of_ipv4(&bad), Err(PacketError::BadHeader));
    assert_eq!(flow_of_ipv4(&ipv6(6, &TCP)), Err(PacketError::BadHeader));
    assert_eq!(ipv4_header_len(&p), Ok(20));
    assert_eq!(ipv4_header_len(&ipv4(6, 0, 10, &[])), Ok(60));
    assert_eq!(
        ipv4_header_len(&ipv4(6, 0, 10, &[])[..59]),
        Err(PacketError::Truncated)
    );
}

#[test]
fn ipv6_extension_headers() {
    let f = flow_of_ipv6(&ipv6(6, &TCP)).unwrap();
    assert_eq!(
        (f.key, f.l4_offset, f.fragment),
        (key6(6, 1234, 80), 40, false)
    );
    // Hop-by-hop (8) -> routing (24) -> destination options (16) -> UDP.
    let mut chain = std::vec![43, 0, 1, 4, 0, 0, 0, 0];
    chain.extend_from_slice(&[60, 2, 0, 0, 0, 0, 0, 0]);
    chain.extend_from_slice(&[0u8; 16]);
    chain.extend_from_slice(&[17, 1, 1, 2, 0, 0, 0, 0]);
    chain.extend_from_slice(&[0u8; 8]);
    chain.extend_from_slice(&[0x11, 0x94, 0x11, 0x94, 0, 8, 0, 0]);
    let f = flow_of_ipv6(&ipv6(0, &chain)).unwrap();
    assert_eq!((f.key, f.l4_offset), (key6(17, 4500, 4500), 40 + 48));
    // ICMPv6 echo request; MH binding update (type 5).
    let f = flow_of_ipv6(&ipv6(58, &[128, 0, 0, 0])).unwrap();
    assert_eq!(
        f.key,
        FlowKey::icmp(IpAddr::V6(v6(1)), IpAddr::V6(v6(2)), 128, 0)
    );
    assert_eq!(
        flow_of_ipv6(&ipv6(135, &[59, 1, 5, 0])).unwrap().key,
        key6(135, 5, 0)
    );
    // ESP, AH and no-next-header end the walk without ports.
    assert_eq!(flow_of_ipv6(&ipv6(50, &TCP)).unwrap().key, key6(50, 0, 0));
    let ah = [6, 4, 0, 0, 0, 0, 1, 0];
    assert_eq!(flow_of_ipv6(&ipv6(51, &ah)).unwrap().key, key6(51, 0, 0));
    assert_eq!(
        flow_of_ipv6(&ipv6(60, &[59, 0, 0, 0, 0, 0, 0, 0]))
            .unwrap()
            .key,
        key6(59, 0, 0)
    );
}

#[test]
fn ipv6_fragments_and_truncation() {
    // First and non-first fragments: protocol of the fragment header only.
    for off in [0x0001u16, 0x0100] {
        let mut p = std::vec![6, 0];
        p.extend_from_slice(&off.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 7]);
        p.extend_from_slice(&TCP);
        let f = flow_of_ipv6(&ipv6(44, &p)).unwrap();
        assert_eq!((f.key, f.l4_offset, f.fragment), (key6(6, 0, 0), 48, true));
    }
    // L4 cut short: ports 0.
    assert_eq!(
        flow_of_ipv6(&ipv6(17, &[0, 1])).unwrap().key,
        key6(17, 0, 0)
    );
    // Extension header cut short, or header shorter than 40: errors.
    assert_eq!(flow_of_ipv6(&ipv6(0, &[6])), Err(PacketError::Truncated));
    assert_eq!(
        flow_of_ipv6(&ipv6(0, &[6, 0, 0, 0])),
        Err(PacketError::Truncated)
    );
    assert_eq!(
        flow_of_ipv6(&ipv6(44, &[6, 0, 0, 0])),
        Err(PacketError::Truncated)
    );
    assert_eq!(
        flow_of_ipv6(&ipv6(6, &TCP)[..39]),
        Err(PacketError::Truncated)
    );
    // Payload length past the buffer: a prefix, read as the datagram.
    assert_eq!(
        flow_of_ipv6(&ipv6(6, &TCP)[..50]).unwrap().key,
        flow_of_ipv6(&ipv6(6, &TCP)).unwrap().key
    );
    let mut bad = ipv6(6, &TCP);
    bad[0] = 0x40;
    assert_eq!(flow_of_ipv6(&bad), Err(PacketError::BadHeader));
    // Payload length 0 (jumbogram / BIG TCP): the buffer is the datagram.
    let mut big = ipv6(6, &TCP);
    big[4..6].copy_from_slice(&[0, 0]);
    assert_eq!(flow_of_ipv6(&big).unwrap().key, key6(6, 1234, 80));
}

// --- fail-closed classification over the real packet ---

use crate::logic::bytes::testing::{cat, frag_hdr, opt_hdr, pad_hdr, Chunks};
use crate::logic::bytes::Prefix;

fn complete(c: Result<Classified, Unclassifiable>) -> FlowKey {
    match c {
        Ok(Classified::Complete(f)) => {
            assert!(!f.fragment);
            f.key
        }
        other => panic!("not complete: {other:?}"),
    }
}

/// Bytes of selector fields each protocol needs after the IP header.
const NEEDS: [(u8, usize); 8] = [
    (6, 4),
    (17, 4),
    (136, 4),
    (132, 4),
    (33, 4),
    (1, 2),
    (58, 2),
    (135, 3),
];

#[test]
fn classify_complete_flows() {
    let p = ipv4(6, 0x4000, 0, &TCP);
    assert_eq!(complete(classify_ipv4(&p[..])), key4(6, 1234, 80));
    assert_eq!(complete(classify(&p[..])), key4(6, 1234, 80));
    let p = ipv6(6, &TCP);
    assert_eq!(complete(classify_ipv6(&p[..])), key6(6, 1234, 80));
    assert_eq!(complete(classify(&p[..])), key6(6, 1234, 80));
    // Options and extension headers move the L4 header; the flow says where.
    let p = ipv4(17, 0, 3, &[0, 53, 0, 54]);
    let c = classify(&p[..]).unwrap();
    assert_eq!((c.flow().key, c.flow().l4_offset), (key4(17, 53, 54), 32));
    let p = ipv6(
        0,
        &cat(&[&pad_hdr(60, 16), &pad_hdr(17, 8), &[0x11, 0x94, 0, 7]]),
    );
    let c = classify(&p[..]).unwrap();
    assert_eq!((c.flow().key, c.flow().l4_offset), (key6(17, 4500, 7), 64));
    // ICMP type/code, MH type, GRE key: read as the old functions do.
    assert_eq!(
        complete(classify(&ipv4(1, 0, 0, &[3, 4])[..])),
        key4(1, 3, 4)
    );
    assert_eq!(
        complete(classify(&ipv6(135, &[59, 1, 5])[..])),
        key6(135, 5, 0)
    );
    let gre = [0xa0, 0, 0x08, 0, 0, 0, 0, 0, 0, 1, 0, 2];
    assert_eq!(
        complete(classify(&ipv4(47, 0, 0, &gre)[..])),
        key4(47, 1, 2)
    );
    // Protocols without selector fields need nothing past the IP headers.
    for proto in [50u8, 51, 108, 4, 41, 89, 255] {
        let p = ipv4(proto, 0, 0, &[]);
        assert_eq!(complete(classify(&p[..])), key4(proto, 0, 0));
        let p = ipv6(proto, &[]);
        assert_eq!(complete(classify(&p[..])), key6(proto, 0, 0));
    }
    assert_eq!(complete(classify(&ipv6(59, &[])[..])), key6(59, 0, 0));
    // AH ends the walk, as in the old functions: `proto 51` policies.
    let ah = [6, 4, 0, 0, 0, 0, 1, 0];
    assert_eq!(complete(classify(&ipv6(51, &ah)[..])), key6(51, 0, 0));
}

#[test]
fn classify_short_l4_at_every_byte() {
    for (proto, need) in NEEDS {
        let l4 = [0x12u8, 0x34, 0x56, 0x78, 0x9a];
        for (v6, p, hlen) in [
            (false, ipv4(proto, 0, 0, &l4), 20),
            (false, ipv4(proto, 0, 1, &l4), 24),
            (true, ipv6(proto, &l4), 40),
            (true, ipv6(60, &cat(&[&pad_hdr(proto, 8), &l4])), 48),
        ] {
            for n in hlen..p.len() {
                // Cut by the source (the packet has no more bytes) ...
                let by_src = classify(&p[..n]);
                // ... or by the datagram's length (link padding after it).
                let mut q = p.clone();
                if v6 {
                    q[4..6].copy_from_slice(&((n - 40) as u16).to_be_bytes());
                } else {
                    q[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                }
                // (Payload length 0 would be a jumbogram: the buffer.)
                let by_len = if v6 && n == 40 {
                    by_src
                } else {
                    classify(&q[..])
                };
                if n < hlen + need {
                    assert_eq!(by_src, Err(Unclassifiable::L4Truncated), "{proto} {n}");
                    assert_eq!(by_len, Err(Unclassifiable::L4Truncated), "{proto} {n}");
                    // The old reading gives ports 0 instead.
                    let old = if v6 {
                        flow_of_ipv6(&p[..n])
                    } else {
                        flow_of_ipv4(&p[..n])
                    };
                    assert_eq!((old.unwrap().key.sport, old.unwrap().key.dport), (0, 0));
                } else {
                    assert!(matches!(by_src, Ok(Classified::Complete(_))), "{proto} {n}");
                    assert_eq!(by_src, by_len, "{proto} {n}");
                }
            }
        }
    }
}

#[test]
fn classify_gre_needs_only_what_its_flags_announce() {
    let c = |l4: &[u8]| classify(&ipv4(47, 0, 0, l4)[..]);
    assert_eq!(c(&[]), Err(Unclassifiable::L4Truncated));
    assert_eq!(c(&[0x20]), Err(Unclassifiable::L4Truncated));
    // No key announced: flags suffice.
    assert_eq!(complete(c(&[0, 0])), key4(47, 0, 0));
    assert_eq!(complete(c(&[0x60, 0])), key4(47, 0, 0));
    assert_eq!(complete(c(&[0x20, 2])), key4(47, 0, 0)); // version 2
                                                         // Key announced (with and without checksum): every key byte counts.
    for (flags, key_at) in [(0x20u8, 4usize), (0xa0, 8)] {
        let mut l4 = std::vec![flags, 0, 0x08, 0, 0, 0, 0, 0];
        l4.truncate(key_at);
        l4.extend_from_slice(&[0, 9, 0, 10]);
        for n in 0..l4.len() {
            assert_eq!(
                c(&l4[..n]),
                Err(Unclassifiable::L4Truncated),
                "{flags:#x} {n}"
            );
        }
        assert_eq!(complete(c(&l4)), key4(47, 9, 10));
    }
    // PPTP: the protocol field decides; a short one is unclassifiable.
    assert_eq!(c(&[0x30, 1, 0x88]), Err(Unclassifiable::L4Truncated));
    assert_eq!(
        c(&[0x30, 1, 0x88, 0x0b, 0, 4]),
        Err(Unclassifiable::L4Truncated)
    );
    assert_eq!(
        complete(c(&[0x30, 1, 0x88, 0x0b, 0, 4, 0x12, 0x34])),
        key4(47, 0, 0x1234)
    );
    assert_eq!(complete(c(&[0x30, 1, 0x08, 0x00])), key4(47, 0, 0));
}

#[test]
fn classify_fragments() {
    // IPv4: MF, or an offset; a cut L4 header does not matter.
    for (frag, first) in [
        (0x2000u16, true),
        (0x00b9, false),
        (0x20b9, false),
        (0x3fff, false),
    ] {
        for l4 in [&TCP[..], &TCP[..1], &[][..]] {
            let p = ipv4(6, frag, 0, l4);
            match classify(&p[..]) {
                Ok(Classified::Fragment { flow, first: f }) => {
                    assert_eq!((flow.key, flow.fragment, f), (key4(6, 0, 0), true, first));
                }
                other => panic!("{frag:#x}: {other:?}"),
            }
        }
    }
    // DF alone is no fragment.
    assert!(matches!(
        classify(&ipv4(6, 0x4000, 0, &TCP)[..]),
        Ok(Classified::Complete(_))
    ));
    // IPv6: first, later and atomic fragments, behind other headers too.
    for (off, more, first) in [
        (0u16, true, true),
        (100, true, false),
        (7, false, false),
        (0, false, true),
    ] {
        for before in [&[][..], &pad_hdr(44, 8)[..]] {
            let nh = if before.is_empty() { 44 } else { 0 };
            let p = ipv6(nh, &cat(&[before, &frag_hdr(6, off, more, 1), &TCP[..2]]));
            match classify(&p[..]) {
                Ok(Classified::Fragment { flow, first: f }) => {
                    assert_eq!((flow.key, f), (key6(6, 0, 0), first));
                    assert_eq!(flow.l4_offset, 48 + before.len());
                }
                other => panic!("{off} {more}: {other:?}"),
            }
        }
    }
    // A fragment header cut short is no fragment: unclassifiable.
    let p = ipv6(44, &frag_hdr(6, 0, true, 1));
    for n in 40..48 {
        assert_eq!(classify(&p[..n]), Err(Unclassifiable::Truncated), "{n}");
    }
}

#[test]
fn classify_long_extension_headers() {
    // The review's case: 600 bytes of hop-by-hop options before TCP. The
    // old reading of a 128-byte copy fails (and the hooks let the packet
    // through); over the whole packet the ports are found ...
    let p = ipv6(0, &cat(&[&pad_hdr(6, 600), &TCP]));
    assert_eq!(flow_of_ipv6(&p[..128]), Err(PacketError::Truncated));
    let c = classify(&p[..]).unwrap();
    assert_eq!((c.flow().key, c.flow().l4_offset), (key6(6, 1234, 80), 640));
    // ... and where the bytes really are missing it is unclassifiable,
    // never a flow without ports.
    for n in [40usize, 41, 128, 639] {
        assert_eq!(classify(&p[..n]), Err(Unclassifiable::Truncated), "{n}");
    }
    for n in 640..644 {
        assert_eq!(classify(&p[..n]), Err(Unclassifiable::L4Truncated), "{n}");
    }
    // The datagram's payload length bounds the walk, not the buffer.
    let mut q = p.clone();
    q[4..6].copy_from_slice(&500u16.to_be_bytes());
    assert_eq!(classify(&q[..]), Err(Unclassifiable::Truncated));
    // A packet in pieces reads the same.
    for size in [1usize, 7, 64, 1500] {
        assert_eq!(classify(&Chunks::new(&p, size)), classify(&p[..]));
        let cut = Chunks::new(&p[..642], size);
        assert_eq!(classify(&cut), Err(Unclassifiable::L4Truncated));
    }
    // Routing header with destination options around it, then UDP.
    let rt = opt_hdr(
        60,
        &[
            0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    let p = ipv6(
        60,
        &cat(&[&pad_hdr(43, 8), &rt, &pad_hdr(17, 24), &[0, 1, 0, 2]]),
    );
    assert_eq!(complete(classify(&p[..])), key6(17, 1, 2));
}

#[test]
fn classify_too_many_extension_headers() {
    for n in [16usize, 17] {
        let mut body = std::vec::Vec::new();
        for i in 0..n {
            body.extend_from_slice(&pad_hdr(if i + 1 == n { 17 } else { 60 }, 8));
        }
        body.extend_from_slice(&[0, 1, 0, 2]);
        let p = ipv6(60, &body);
        if n == 16 {
            assert_eq!(complete(classify(&p[..])), key6(17, 1, 2));
        } else {
            assert_eq!(classify(&p[..]), Err(Unclassifiable::TooManyExtHeaders));
            assert_eq!(flow_of_ipv6(&p), Err(PacketError::BadHeader));
        }
    }
}

#[test]
fn classify_bad_ip_headers() {
    let p = ipv4(6, 0, 0, &TCP);
    for n in 0..20 {
        assert_eq!(classify(&p[..n]), Err(Unclassifiable::Truncated), "{n}");
    }
    let p = ipv4(6, 0, 2, &TCP);
    for n in 20..28 {
        assert_eq!(
            classify_ipv4(&p[..n]),
            Err(Unclassifiable::Truncated),
            "{n}"
        );
    }
    let p6 = ipv6(6, &TCP);
    for n in 1..40 {
        assert_eq!(classify(&p6[..n]), Err(Unclassifiable::Truncated), "{n}");
    }
    assert_eq!(classify(&[][..]), Err(Unclassifiable::Truncated));
    // Versions: 5 is neither; each family refuses the other.
    let mut bad = ipv4(6, 0, 0, &TCP);
    bad[0] = 0x55;
    assert_eq!(classify(&bad[..]), Err(Unclassifiable::BadHeader));
    assert_eq!(classify_ipv4(&p6[..]), Err(Unclassifiable::BadHeader));
    assert_eq!(
        classify_ipv6(&ipv4(6, 0, 0, &TCP)[..]),
        Err(Unclassifiable::BadHeader)
    );
    // IHL below 5, total length below the header.
    let mut bad = ipv4(6, 0, 0, &TCP);
    bad[0] = 0x44;
    assert_eq!(classify(&bad[..]), Err(Unclassifiable::BadHeader));
    let mut bad = ipv4(6, 0, 0, &TCP);
    bad[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(classify(&bad[..]), Err(Unclassifiable::BadHeader));
    // A total length past the buffer is fine when what is needed is there.
    let mut long = ipv4(6, 0, 0, &TCP);
    long[2..4].copy_from_slice(&1500u16.to_be_bytes());
    assert_eq!(complete(classify(&long[..])), key4(6, 1234, 80));
    // Largest IPv4 header: 60 bytes, L4 right after it.
    let p = ipv4(17, 0, 10, &[0, 1, 0, 2]);
    let c = classify(&p[..]).unwrap();
    assert_eq!((c.flow().key, c.flow().l4_offset), (key4(17, 1, 2), 60));
    assert_eq!(classify(&p[..63]), Err(Unclassifiable::L4Truncated));
}

/// The old prefix readings are the new one with short L4 headers read as
/// ports 0, for every cut of a range of packets.
#[test]
fn old_functions_are_the_lenient_reading() {
    let rt = opt_hdr(6, &[0u8; 22]);
    let packets = [
        ipv4(6, 0, 0, &TCP),
        ipv4(17, 0, 2, &[0, 53, 0, 54]),
        ipv4(6, 0x2000, 0, &TCP),
        ipv4(47, 0, 0, &[0xa0, 0, 0x08, 0, 0, 0, 0, 0, 0, 1, 0, 2]),
        ipv6(0, &cat(&[&pad_hdr(43, 8), &rt, &TCP])),
        ipv6(44, &cat(&[&frag_hdr(17, 3, false, 1), &[0u8; 8]])),
        ipv6(58, &[128, 0, 0, 0]),
    ];
    for p in &packets {
        for n in 0..=p.len() {
            let cut = &p[..n];
            let old = if p[0] >> 4 == 6 {
                flow_of_ipv6(cut)
            } else {
                flow_of_ipv4(cut)
            };
            let new = match classify(cut) {
                Ok(c) => Ok(*c.flow()),
                Err(Unclassifiable::L4Truncated) => {
                    let f = old.expect("old reading of a short L4 header");
                    assert_eq!((f.key.sport, f.key.dport), (0, 0));
                    Ok(f)
                }
                Err(e) => Err(PacketError::from(e)),
            };
            assert_eq!(old, new, "{n} bytes of {p:02x?}");
        }
    }
    // Prefix sources read as slices do.
    let p = ipv6(6, &TCP);
    assert_eq!(classify(&Prefix::new(&p[..], 43)), classify(&p[..43]));
}
