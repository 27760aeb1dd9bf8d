use super::*;
use crate::logic::algs::{by_name, AlgKind};

fn enc(n: &str) -> &'static AlgDesc {
    by_name(AlgKind::Encrypt, n).unwrap()
}

fn auth(n: &str) -> &'static AlgDesc {
    by_name(AlgKind::Auth, n).unwrap()
}

fn layout(iv_len: usize, icv_len: usize, block: usize) -> EspLayout {
    EspLayout {
        iv_len,
        icv_len,
        block,
    }
}

#[test]
fn header_round_trip() {
    let mut buf = [0u8; 12];
    let mut h = EspHeader::new_checked(&mut buf[..]).unwrap();
    h.set_spi(0x1234_5678);
    h.set_seq(0xdead_beef);
    assert_eq!((h.spi(), h.seq()), (0x1234_5678, 0xdead_beef));
    assert_eq!(h.payload().len(), 4);
    assert_eq!(buf[..8], [0x12, 0x34, 0x56, 0x78, 0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(
        EspHeader::new_checked(&buf[..7]).unwrap_err(),
        EspError::Truncated
    );
    let h = EspHeader::new_checked(&buf[..8]).unwrap();
    assert!(h.payload().is_empty());
    assert_eq!(h.into_inner().len(), 8);
}

#[test]
fn pad_lengths() {
    for block in [4usize, 8, 16] {
        let l = layout(0, 0, block);
        for payload in 0..=64usize {
            let pad = l.pad_len(payload);
            assert!(pad < block, "block {block} payload {payload}");
            assert_eq!((payload + pad + 2) % block, 0);
            assert_eq!(l.trailer_len(payload), pad + 2);
            assert_eq!(l.overhead(payload), ESP_HDR_LEN + pad + 2);
        }
    }
    let l = layout(8, 16, 4);
    assert_eq!((l.pad_len(0), l.pad_len(1), l.pad_len(2)), (2, 1, 0));
    assert_eq!(l.overhead(100), 8 + 8 + 4 + 16);
    assert_eq!(layout(16, 12, 16).pad_len(100), 10);
    // A hand-built layout with a non-power-of-two block pads to 4.
    assert_eq!(layout(0, 0, 12).pad_len(1), 1);
    assert_eq!(layout(0, 0, 0).pad_len(0), 2);
    assert_eq!(layout(0, 0, 4).pad_len(usize::MAX), 3);
}

#[test]
fn trailer_round_trip() {
    let l = layout(16, 12, 16);
    for payload in 0..=40usize {
        let pad = l.pad_len(payload);
        let mut pkt = [0xaau8; 64];
        let end = payload + pad + 2;
        l.write_trailer(&mut pkt[payload..end], pad, 4).unwrap();
        assert_eq!(pkt[end - 2] as usize, pad);
        let t = parse_trailer(&pkt[..end]).unwrap();
        assert_eq!(
            t,
            Trailer {
                pad_len: pad,
                next_header: 4,
                payload_len: payload
            }
        );
    }
    let mut buf = [0u8; 5];
    l.write_trailer(&mut buf, 3, 41).unwrap();
    assert_eq!(buf, [1, 2, 3, 3, 41]);
    assert_eq!(l.write_trailer(&mut buf, 2, 41), Err(EspError::BadLength));
    let mut big = [0u8; 258];
    assert_eq!(l.write_trailer(&mut big, 256, 4), Err(EspError::BadLength));
    assert_eq!(l.write_trailer(&mut big[..257], 255, 4), Ok(()));
    assert_eq!(parse_trailer(&big[..257]).unwrap().payload_len, 0);
}

#[test]
fn bad_trailers_rejected() {
    assert_eq!(parse_trailer(&[]), Err(EspError::Truncated));
    assert_eq!(parse_trailer(&[4]), Err(EspError::Truncated));
    // pad_len + 2 > len.
    assert_eq!(parse_trailer(&[1, 2, 3, 6]), Err(EspError::BadLength));
    assert_eq!(parse_trailer(&[1, 6]), Err(EspError::BadLength));
    // Padding that is not 1, 2, 3, ...
    assert_eq!(
        parse_trailer(&[9, 1, 3, 3, 2, 4]),
        Err(EspError::BadPadding)
    );
    assert_eq!(parse_trailer(&[9, 0, 0, 2, 4]), Err(EspError::BadPadding));
    assert_eq!(
        parse_trailer(&[9, 1, 2, 2, 4]),
        Ok(Trailer {
            pad_len: 2,
            next_header: 4,
            payload_len: 1
        })
    );
    assert_eq!(
        parse_trailer(&[0, 59]),
        Ok(Trailer {
            pad_len: 0,
            next_header: 59,
            payload_len: 0
        })
    );
}

#[test]
fn from_algs() {
    let gcm = EspLayout::from_algs(enc("aes-gcm-16"), None).unwrap();
    assert_eq!(gcm, layout(8, 16, 4));
    assert_eq!(
        EspLayout::from_algs(enc("aes-gcm-8"), None).unwrap(),
        layout(8, 8, 4)
    );
    assert_eq!(
        EspLayout::from_algs(enc("aes-ccm-12"), None).unwrap(),
        layout(8, 12, 4)
    );
    assert_eq!(
        EspLayout::from_algs(enc("aes-gcm-16"), Some(auth("null"))).unwrap(),
        gcm
    );
    assert_eq!(
        EspLayout::from_algs(enc("aes-gcm-16"), Some(auth("hmac-sha1"))),
        None
    );
    assert_eq!(
        EspLayout::from_algs(enc("aes-cbc"), Some(auth("hmac-sha1"))).unwrap(),
        layout(16, 12, 16)
    );
    assert_eq!(
        EspLayout::from_algs(enc("3des-cbc"), Some(auth("hmac-md5"))).unwrap(),
        layout(8, 12, 8)
    );
    assert_eq!(
        EspLayout::from_algs(enc("null"), Some(auth("hmac-sha256"))).unwrap(),
        layout(0, 16, 4)
    );
    assert_eq!(
        EspLayout::from_algs(enc("aes-ctr"), Some(auth("hmac-sha512"))).unwrap(),
        layout(8, 32, 4)
    );
    assert_eq!(
        EspLayout::from_algs(enc("3des-cbc"), None).unwrap(),
        layout(8, 0, 8)
    );
    assert_eq!(EspLayout::from_algs(auth("hmac-md5"), None), None);
    assert_eq!(
        EspLayout::from_algs(enc("aes-cbc"), Some(enc("3des-cbc"))),
        None
    );
}

#[test]
fn payload_mtu_as_linux() {
    let gcm = layout(8, 16, 4);
    // Tunnel IPv4: header_len = 8 + 8 + 20; (1500-36-16) & ~3 = 1448, -2.
    assert_eq!(gcm.payload_mtu(1500, 36, 0), 1446);
    // Transport IPv4: (1500-16-16-20) & ~3 = 1448, + 20 - 2.
    assert_eq!(gcm.payload_mtu(1500, 16, 20), 1466);
    let cbc = layout(16, 12, 16);
    // (1500-44-12) & ~15 = 1440, -2.
    assert_eq!(cbc.payload_mtu(1500, 44, 0), 1438);
    // IPv6 tunnel: header_len = 8 + 16 + 40; (1500-64-12) & ~15 = 1424, -2.
    assert_eq!(cbc.payload_mtu(1500, 64, 0), 1422);
    // IPv6 transport, 3DES/MD5: (1500-16-12-40) & ~7 = 1432, + 40 - 2.
    assert_eq!(layout(8, 12, 8).payload_mtu(1500, 16, 40), 1470);
    // Nothing fits: no wrap-around.
    assert_eq!(gcm.payload_mtu(40, 36, 0), 0);
    assert_eq!(gcm.payload_mtu(52, 36, 0), 0);
    assert_eq!(gcm.payload_mtu(0, 36, 20), 0);
    assert_eq!(gcm.payload_mtu(u32::MAX, u32::MAX, u32::MAX), 0);
}

#[test]
fn payload_mtu_is_the_largest_fit() {
    for l in [layout(8, 16, 4), layout(16, 12, 16), layout(8, 12, 8)] {
        let header = (ESP_HDR_LEN + l.iv_len + 20) as u32;
        for mtu in 100..600u32 {
            let p = l.payload_mtu(mtu, header, 0) as usize;
            let total = |p: usize| 20 + l.overhead(p) + p;
            assert!(total(p) <= mtu as usize, "{l:?} mtu {mtu}");
            assert!(total(p + 1) > mtu as usize, "{l:?} mtu {mtu}");
        }
    }
}

#[test]
fn esn_framing_lends_the_four_bytes_before_esp_and_gives_them_back() {
    // ... end of an IPv4 header (destination 10.0.0.2), SPI 0x1001, seq 7.
    let orig = [0xaa, 10, 0, 0, 2, 0, 0, 0x10, 0x01, 0, 0, 0, 7, 0xee];
    let mut b = orig;
    let saved = esn_frame(&mut b, 5, 0x0102_0304).unwrap();
    assert_eq!(saved, [10, 0, 0, 2]);
    // What the AEAD authenticates: SPI, seq_hi, seq_lo.
    assert_eq!(&b[1..13], &[0, 0, 0x10, 0x01, 1, 2, 3, 4, 0, 0, 0, 7]);
    esn_unframe(&mut b, 5, saved);
    assert_eq!(b, orig);
    // No room in front of, or behind, the header: refused.
    assert!(esn_frame(&mut [0u8; 12], 3, 1).is_none());
    assert!(esn_frame(&mut [0u8; 8], 5, 1).is_none());
}

#[test]
fn max_overhead_bounds_every_payload() {
    for (e, a) in [
        ("aes-cbc", Some("hmac-sha1")),
        ("3des-cbc", Some("hmac-md5")),
        ("aes-gcm-16", None),
        ("null", Some("hmac-sha256")),
    ] {
        let l = EspLayout::from_algs(enc(e), a.map(auth)).unwrap();
        let max = (0..=300).map(|p| l.overhead(p)).max().unwrap();
        assert_eq!(l.max_overhead(), max, "{e}");
    }
    // AES-CBC + HMAC-SHA1-96: 8 + 16 + (15 + 2) + 12, the datapath's
    // `ESP_HDR_LEN + iv + block + 1 + icv`.
    assert_eq!(layout(16, 12, 16).max_overhead(), 8 + 16 + 16 + 1 + 12);
    assert_eq!(layout(8, 16, 4).max_overhead(), 8 + 8 + 5 + 16);
    // A hand-built bad block counts as 4, as in the padding.
    assert_eq!(layout(0, 0, 12).max_overhead(), 8 + 5);
}
