use super::*;
use crate::logic::bytes::testing::{ah_hdr, cat, frag_hdr, ipv6, opt_hdr, pad_hdr, Chunks};
use crate::logic::bytes::Prefix;
use std::vec::Vec;

const TCP: [u8; 20] = [
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 2, 0, 0, 0, 0, 0, 0,
];

fn pos(proto: u8, offset: usize, nexthdr_pos: usize) -> Position {
    Position {
        proto,
        offset,
        nexthdr_pos,
    }
}

/// Every extension header of `p`, then where the walk ended.
fn walk(p: &[u8]) -> Result<(Vec<ExtHeader>, Position), ExtError> {
    let mut w = Ipv6Walker::new(p)?;
    let mut v = Vec::new();
    while let Some(h) = w.next_ext()? {
        v.push(h);
    }
    Ok((v, w.position()))
}

fn ext(proto: u8, offset: usize, nexthdr_pos: usize, len: usize, next: u8) -> ExtHeader {
    ExtHeader {
        at: pos(proto, offset, nexthdr_pos),
        len,
        next,
    }
}

/// Hop-by-hop (8) -> routing (24) -> destination options (16) -> TCP.
fn chain() -> Vec<u8> {
    let rt = opt_hdr(
        60,
        &[
            0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
    ipv6(0, &cat(&[&pad_hdr(43, 8), &rt, &pad_hdr(6, 16), &TCP]))
}

#[test]
fn plain_packet() {
    let p = ipv6(6, &TCP);
    assert_eq!(walk(&p), Ok((Vec::new(), pos(6, 40, 6))));
    let u = upper_layer(&p[..]).unwrap();
    assert_eq!(
        (u.proto, u.offset, u.nexthdr_pos, u.fragment),
        (6, 40, 6, None)
    );
    assert_eq!(
        transport_insert_point(&p[..]),
        Ok(InsertPoint {
            offset: 40,
            nexthdr_pos: 6,
            next_header: 6
        })
    );
    assert_eq!(nexthdr_pos_of(&p[..], 40), Ok(6));
    assert_eq!(nexthdr_pos_of(&p[..], 41), Err(ExtError::NotFound));
    assert_eq!(nexthdr_pos_of(&p[..], 0), Err(ExtError::NotFound));
    let w = Ipv6Walker::new(&p[..]).unwrap();
    assert_eq!((w.end(), w.count(), w.fragment()), (60, 0, None));
    assert!(w.at_header() && !w.at_extension());
}

#[test]
fn chain_positions() {
    let p = chain();
    let (hdrs, end) = walk(&p).unwrap();
    assert_eq!(
        hdrs,
        [
            ext(0, 40, 6, 8, 43),
            ext(43, 48, 40, 24, 60),
            ext(60, 72, 48, 16, 6)
        ]
    );
    assert_eq!(hdrs[2].end(), 88);
    assert_eq!(end, pos(6, 88, 72));
    // Insertion: after hop-by-hop and routing, before the destination
    // options that follow the routing header.
    assert_eq!(
        transport_insert_point(&p[..]),
        Ok(InsertPoint {
            offset: 72,
            nexthdr_pos: 48,
            next_header: 60
        })
    );
    for (off, want) in [(40, Ok(6)), (48, Ok(40)), (72, Ok(48)), (88, Ok(72))] {
        assert_eq!(nexthdr_pos_of(&p[..], off), want, "{off}");
    }
    for off in [44, 80, 89, 1000] {
        assert_eq!(
            nexthdr_pos_of(&p[..], off),
            Err(ExtError::NotFound),
            "{off}"
        );
    }
}

#[test]
fn insertion_point_rules() {
    let ins =
        |p: &[u8]| transport_insert_point(p).map(|i| (i.offset, i.nexthdr_pos, i.next_header));
    // Destination options without a routing header: stepped over.
    let p = ipv6(0, &cat(&[&pad_hdr(60, 8), &pad_hdr(17, 8), &TCP]));
    assert_eq!(ins(&p), Ok((56, 48, 17)));
    // Before a routing header they are stepped over, after it not:
    // HBH 40, DEST 48, RT 56, DEST 80.
    let rt = opt_hdr(60, &[0u8; 22]);
    let p = ipv6(
        0,
        &cat(&[&pad_hdr(60, 8), &pad_hdr(43, 8), &rt, &pad_hdr(17, 8)]),
    );
    assert_eq!(ins(&p), Ok((80, 56, 60)));
    // A routing header first, then destination options.
    let p = ipv6(43, &cat(&[&rt, &pad_hdr(6, 8), &TCP]));
    assert_eq!(ins(&p), Ok((64, 40, 60)));
    // Existing transforms, fragments and the end of the chain: before them.
    for nh in [50u8, 51, 108, 44, 59, 6, 17, 58, 135, 4, 41] {
        let p = ipv6(0, &cat(&[&pad_hdr(nh, 8), &[0u8; 24]]));
        assert_eq!(ins(&p), Ok((48, 40, nh)), "next header {nh}");
    }
    let rt_ah = opt_hdr(51, &[0u8; 22]);
    let p = ipv6(43, &cat(&[&rt_ah, &ah_hdr(50, 24), &[0u8; 16]]));
    assert_eq!(ins(&p), Ok((64, 40, 51)));
    // Hop-by-hop wherever it appears is stepped over, as Linux does.
    let p = ipv6(60, &cat(&[&pad_hdr(0, 8), &pad_hdr(6, 8), &TCP]));
    assert_eq!(ins(&p), Ok((56, 48, 6)));
}

#[test]
fn ah_is_walked() {
    // AH of 24 bytes (length field 4), then TCP.
    let p = ipv6(51, &cat(&[&ah_hdr(6, 24), &TCP]));
    assert_eq!(
        walk(&p),
        Ok((std::vec![ext(51, 40, 6, 24, 6)], pos(6, 64, 40)))
    );
    assert_eq!(nexthdr_pos_of(&p[..], 64), Ok(40));
    // ESP after AH: the walk stops at ESP.
    let p = ipv6(51, &cat(&[&ah_hdr(50, 12), &[0u8; 16]]));
    assert_eq!(upper_layer(&p[..]).unwrap().proto, 50);
    assert_eq!(upper_layer(&p[..]).unwrap().offset, 52);
    // Largest AH: (255 + 2) * 4 bytes.
    let p = ipv6(51, &cat(&[&ah_hdr(17, 1028), &[0u8; 8]]));
    assert_eq!(upper_layer(&p[..]).unwrap().offset, 40 + 1028);
    // Length field 0 is 8 bytes, less than AH's fixed part.
    let mut short = ah_hdr(6, 12);
    short[1] = 0;
    let p = ipv6(51, &cat(&[&short, &TCP]));
    assert_eq!(upper_layer(&p[..]), Err(ExtError::Malformed));
}

#[test]
fn fragments() {
    // First fragment: the walk goes on into the headers it carries.
    let p = ipv6(44, &cat(&[&frag_hdr(60, 0, true, 7), &pad_hdr(6, 8), &TCP]));
    let u = upper_layer(&p[..]).unwrap();
    let f = u.fragment.unwrap();
    assert_eq!((u.proto, u.offset, u.nexthdr_pos), (6, 56, 48));
    assert_eq!((f.offset, f.more, f.ident), (0, true, 7));
    assert!(f.is_first() && !f.is_atomic());
    // A later fragment: the walk stops after the fragment header, where
    // no header starts.
    let p = ipv6(44, &cat(&[&frag_hdr(6, 185, true, 0xdead_beef), &TCP]));
    let u = upper_layer(&p[..]).unwrap();
    let f = u.fragment.unwrap();
    assert_eq!((u.proto, u.offset, u.nexthdr_pos), (6, 48, 40));
    assert_eq!((f.offset, f.more, f.ident), (185, true, 0xdead_beef));
    assert!(!f.is_first());
    let mut w = Ipv6Walker::new(&p[..]).unwrap();
    w.next_ext().unwrap().unwrap();
    assert!(!w.at_header() && !w.at_extension());
    assert_eq!(w.next_ext(), Ok(None));
    assert_eq!(nexthdr_pos_of(&p[..], 48), Err(ExtError::NotFound));
    assert_eq!(nexthdr_pos_of(&p[..], 40), Ok(6));
    // A later fragment whose next header looks like an extension header
    // is not walked into.
    let p = ipv6(44, &cat(&[&frag_hdr(60, 1, false, 1), &[0xff; 16]]));
    let u = upper_layer(&p[..]).unwrap();
    assert_eq!((u.proto, u.offset), (60, 48));
    // The last fragment, and an atomic one (offset 0, M clear).
    let p = ipv6(44, &cat(&[&frag_hdr(17, 0x1fff, false, 1), &[0u8; 8]]));
    let f = upper_layer(&p[..]).unwrap().fragment.unwrap();
    assert_eq!((f.offset, f.more), (0x1fff, false));
    let p = ipv6(44, &cat(&[&frag_hdr(17, 0, false, 1), &[0u8; 8]]));
    let u = upper_layer(&p[..]).unwrap();
    assert!(u.fragment.unwrap().is_atomic());
    assert_eq!((u.proto, u.offset), (17, 48));
    // The reserved bits do not count.
    let mut h = frag_hdr(17, 3, false, 1);
    h[1] = 0xff;
    h[3] |= 0x06;
    let f = upper_layer(&ipv6(44, &cat(&[&h, &[0u8; 8]]))[..])
        .unwrap()
        .fragment
        .unwrap();
    assert_eq!((f.offset, f.more), (3, false));
}

#[test]
fn walk_ends() {
    for nh in [50u8, 108, 59, 6, 17, 58, 132, 135, 4, 41, 255] {
        let p = ipv6(60, &cat(&[&pad_hdr(nh, 8), &[0u8; 8]]));
        let u = upper_layer(&p[..]).unwrap();
        assert_eq!((u.proto, u.offset, u.nexthdr_pos), (nh, 48, 40), "{nh}");
    }
    // No next header right after the IPv6 header, with nothing after it.
    let p = ipv6(59, &[]);
    assert_eq!(upper_layer(&p[..]).unwrap().offset, 40);
}

#[test]
fn truncation_at_every_byte() {
    for p in [
        chain(),
        ipv6(
            44,
            &cat(&[
                &frag_hdr(60, 0, true, 7),
                &pad_hdr(51, 8),
                &ah_hdr(6, 24),
                &TCP,
            ]),
        ),
    ] {
        // Where the last extension header ends.
        let hdr_end = upper_layer(&p[..]).unwrap().offset;
        for n in 0..p.len() {
            let got = upper_layer(&p[..n]);
            if n < hdr_end {
                assert_eq!(got, Err(ExtError::Truncated), "{n} bytes");
            } else {
                assert_eq!(got.unwrap().offset, hdr_end, "{n} bytes");
            }
            // The payload length cuts as the buffer does: link padding
            // after a short datagram is not read as headers.
            let mut q = p.clone();
            let plen = n.saturating_sub(40) as u16;
            q[4..6].copy_from_slice(&plen.to_be_bytes());
            if n > 40 {
                let got = upper_layer(&q[..]);
                if n < hdr_end {
                    assert_eq!(got, Err(ExtError::Truncated), "payload length {plen}");
                } else {
                    assert_eq!(got.unwrap().offset, hdr_end, "payload length {plen}");
                }
            }
            assert_eq!(
                transport_insert_point(&p[..n]).is_ok(),
                n >= 40 + 8 + 24 || (n >= 40 && p[6] == 44),
                "{n} bytes"
            );
        }
    }
    assert_eq!(
        Ipv6Walker::new(&[0x60u8; 39][..]).err(),
        Some(ExtError::Truncated)
    );
    assert_eq!(upper_layer(&[][..]), Err(ExtError::Truncated));
}

#[test]
fn version_and_jumbo() {
    let mut p = ipv6(6, &TCP);
    p[0] = 0x45;
    assert_eq!(upper_layer(&p[..]), Err(ExtError::NotIpv6));
    assert_eq!(transport_insert_point(&p[..]), Err(ExtError::NotIpv6));
    assert_eq!(nexthdr_pos_of(&p[..], 40), Err(ExtError::NotIpv6));
    // Payload length 0: the datagram is the whole source.
    let mut p = chain();
    p[4..6].copy_from_slice(&[0, 0]);
    assert_eq!(upper_layer(&p[..]).unwrap().offset, 88);
    assert_eq!(Ipv6Walker::new(&p[..]).unwrap().end(), p.len());
    // Link padding after the datagram is not part of it.
    let mut p = ipv6(6, &TCP);
    p.extend_from_slice(&[0xee; 30]);
    assert_eq!(Ipv6Walker::new(&p[..]).unwrap().end(), 60);
}

#[test]
fn header_count_is_bounded() {
    for n in [0usize, 1, 15, 16, 17, 40] {
        let mut body = Vec::new();
        for _ in 0..n {
            body.extend_from_slice(&pad_hdr(60, 8));
        }
        body.extend_from_slice(&TCP);
        let p = ipv6(60, &body);
        // The last header names TCP (6): fix up the last next header.
        let mut p = p;
        if n > 0 {
            p[40 + (n - 1) * 8] = 6;
        } else {
            p[6] = 6;
        }
        let got = upper_layer(&p[..]);
        if n <= MAX_EXT_HEADERS {
            let u = got.unwrap();
            assert_eq!((u.proto, u.offset), (6, 40 + 8 * n), "{n} headers");
        } else {
            assert_eq!(got, Err(ExtError::TooMany), "{n} headers");
        }
        // The insertion-point walk steps over destination options
        // without a routing header, so it is bounded the same way.
        assert_eq!(
            transport_insert_point(&p[..]).is_ok(),
            n <= MAX_EXT_HEADERS,
            "{n} headers"
        );
    }
    // Largest headers: 16 of 2048 bytes fit a 65535-byte payload.
    let mut body = Vec::new();
    for i in 0..16 {
        let nh = if i == 15 { 17 } else { 60 };
        body.extend_from_slice(&pad_hdr(nh, 2048));
    }
    body.extend_from_slice(&[0u8; 8]);
    let p = ipv6(60, &body);
    let u = upper_layer(&p[..]).unwrap();
    assert_eq!(
        (u.proto, u.offset, u.nexthdr_pos),
        (17, 40 + 16 * 2048, 40 + 15 * 2048)
    );
}

#[test]
fn non_linear_source() {
    let packets = [
        chain(),
        ipv6(
            44,
            &cat(&[
                &frag_hdr(60, 0, true, 7),
                &pad_hdr(51, 8),
                &ah_hdr(6, 24),
                &TCP,
            ]),
        ),
        ipv6(44, &cat(&[&frag_hdr(6, 9, true, 7), &TCP])),
        ipv6(51, &cat(&[&ah_hdr(50, 16), &[1u8; 20]])),
    ];
    for p in &packets {
        for size in [1usize, 2, 3, 7, 8, 13, 40, 1000] {
            let c = Chunks::new(p, size);
            assert_eq!(upper_layer(&c), upper_layer(&p[..]), "chunks of {size}");
            assert_eq!(transport_insert_point(&c), transport_insert_point(&p[..]));
            for off in 0..p.len() {
                assert_eq!(nexthdr_pos_of(&c, off), nexthdr_pos_of(&p[..], off));
            }
            // And cut short.
            for n in [39usize, 41, 50, 60] {
                let cut = Prefix::new(&c, n);
                assert_eq!(upper_layer(&cut), upper_layer(&p[..n.min(p.len())]));
            }
        }
    }
}

#[test]
fn walker_is_a_copyable_cursor() {
    // A caller can look ahead from a copy and resume from the original.
    let p = chain();
    let mut w = Ipv6Walker::new(&p[..]).unwrap();
    w.next_ext().unwrap();
    let mut ahead = w;
    while ahead.next_ext().unwrap().is_some() {}
    assert_eq!((ahead.proto(), ahead.count()), (6, 3));
    assert_eq!((w.proto(), w.offset(), w.count()), (43, 48, 1));
    let cut = Prefix::new(&p[..], 50);
    let copy = cut;
    assert_eq!(copy.len(), cut.len());
}
