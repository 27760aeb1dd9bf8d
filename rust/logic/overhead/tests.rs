use super::*;
use crate::logic::algs::{by_name, AlgKind};
use Family::{V4, V6};

fn esp(e: &str, a: Option<&str>) -> Transform {
    let enc = by_name(AlgKind::Encrypt, e).unwrap();
    let auth = a.map(|n| by_name(AlgKind::Auth, n).unwrap());
    Transform::Esp(EspLayout::from_algs(enc, auth).unwrap())
}

fn ah(icv_len: usize) -> Transform {
    Transform::Ah { icv_len }
}

fn tr(t: Transform) -> Step {
    Step {
        transform: t,
        tunnel: None,
    }
}

fn tun(t: Transform, outer: Family) -> Step {
    Step {
        transform: t,
        tunnel: Some(outer),
    }
}

/// The exact bytes `step` adds to a packet of `len` bytes (family
/// `input`), as the output path builds it.
fn added(step: &Step, input: Family, len: usize) -> usize {
    let hdr = step.header_len(input).unwrap();
    match step.transform {
        Transform::Esp(l) => {
            // Tunnel mode pads the whole inner packet, transport mode
            // its payload after the IP header.
            let padded = match step.tunnel {
                Some(_) => len,
                None => len - input.ip_header_len(),
            };
            hdr + l.trailer_len(padded) + l.icv_len
        }
        _ => hdr,
    }
}

#[test]
fn per_step_overheads() {
    let cbc = esp("aes-cbc", Some("hmac-sha1"));
    // 8 + 16 IV + 15 padding + 2 + 12 ICV, plus the outer header.
    assert_eq!(tr(cbc).max_overhead(V4), Some(53));
    assert_eq!(tr(cbc).max_overhead(V6), Some(53));
    assert_eq!(tun(cbc, V4).max_overhead(V4), Some(73));
    assert_eq!(tun(cbc, V6).max_overhead(V4), Some(93)); // 4in6
    assert_eq!(tun(cbc, V4).max_overhead(V6), Some(73)); // 6in4
    let gcm = esp("aes-gcm-16", None);
    assert_eq!(tr(gcm).max_overhead(V4), Some(8 + 8 + 3 + 2 + 16));
    assert_eq!(tr(gcm).header_len(V4), Some(16));
    // AH: RFC 4302 padding by the family AH sits in.
    assert_eq!(tr(ah(12)).max_overhead(V4), Some(24));
    assert_eq!(tr(ah(12)).max_overhead(V6), Some(24));
    assert_eq!(tr(ah(16)).max_overhead(V4), Some(28));
    assert_eq!(tr(ah(16)).max_overhead(V6), Some(32));
    assert_eq!(tr(ah(24)).max_overhead(V4), Some(36));
    assert_eq!(tr(ah(32)).max_overhead(V6), Some(48));
    // In tunnel mode the outer family decides: 6in4 pads to 32 bits.
    assert_eq!(tun(ah(16), V4).max_overhead(V6), Some(28 + 20));
    assert_eq!(tun(ah(16), V6).max_overhead(V4), Some(32 + 40));
    assert_eq!(tr(ah(2000)).max_overhead(V4), None);
    // IPcomp: nothing, or the outer header.
    assert_eq!(tr(Transform::IpComp).max_overhead(V4), Some(0));
    assert_eq!(tun(Transform::IpComp, V4).max_overhead(V6), Some(20));
    assert_eq!(tun(Transform::IpComp, V6).max_overhead(V4), Some(40));
    // Families.
    assert_eq!(tun(cbc, V6).output_family(V4), V6);
    assert_eq!(tr(cbc).output_family(V6), V6);
    assert_eq!(Family::of(&IpAddr::V6([0; 16])), V6);
    assert_eq!(Family::of(&IpAddr::V4([0; 4])).ip_header_len(), 20);
}

#[test]
fn max_overhead_bounds_every_packet() {
    let steps = [
        tr(esp("aes-cbc", Some("hmac-sha1"))),
        tr(esp("3des-cbc", Some("hmac-md5"))),
        tr(esp("aes-gcm-12", None)),
        tun(esp("aes-cbc", Some("hmac-sha256")), V4),
        tun(esp("null", Some("hmac-sha512")), V6),
        tr(ah(12)),
        tr(ah(16)),
        tun(ah(32), V6),
        tr(Transform::IpComp),
        tun(Transform::IpComp, V4),
    ];
    for s in &steps {
        for input in [V4, V6] {
            let max = s.max_overhead(input).unwrap();
            let worst = (40..400).map(|len| added(s, input, len)).max().unwrap();
            assert_eq!(max, worst, "{s:?} {input:?}");
        }
    }
}

#[test]
fn inner_mtu_is_tight() {
    let steps = [
        tr(esp("aes-cbc", Some("hmac-sha1"))),
        tun(esp("aes-cbc", Some("hmac-sha1")), V4),
        tun(esp("aes-gcm-16", None), V6),
        tr(esp("3des-cbc", Some("hmac-sha256"))),
        tr(ah(12)),
        tun(ah(16), V4),
        tr(Transform::IpComp),
        tun(Transform::IpComp, V6),
    ];
    for s in &steps {
        for input in [V4, V6] {
            for mtu in [1280u32, 1400, 1500, 9000] {
                let m = s.inner_mtu(input, mtu) as usize;
                assert!(m + added(s, input, m) <= mtu as usize, "{s:?} {mtu}");
                // One byte more no longer fits.
                assert!(m + 1 + added(s, input, m + 1) > mtu as usize, "{s:?} {mtu}");
            }
            // Nothing fits: 0, not a wrapped value.
            assert_eq!(s.inner_mtu(input, 0), 0);
        }
    }
    // The well-known figure: ESP tunnel, AES-CBC + HMAC-SHA1-96 over 1500.
    let t = tun(esp("aes-cbc", Some("hmac-sha1")), V4);
    assert_eq!(t.inner_mtu(V4, 1500), 1438);
    assert_eq!(tr(ah(12)).inner_mtu(V4, 1500), 1476);
    assert_eq!(tr(Transform::IpComp).inner_mtu(V4, 1500), 1500);
    assert_eq!(tun(Transform::IpComp, V6).inner_mtu(V4, 1500), 1460);
    assert_eq!(tr(ah(2000)).inner_mtu(V4, 1500), 0);
}

#[test]
fn bundles() {
    let cbc = esp("aes-cbc", Some("hmac-sha1"));
    // [ESP][AH] transport: ESP inside, AH outside.
    let b = [tr(cbc), tr(ah(12))];
    assert_eq!(bundle_max_overhead(V4, &b), Some(53 + 24));
    // [IPcomp][ESP][AH] transport.
    let b = [tr(Transform::IpComp), tr(cbc), tr(ah(16))];
    assert_eq!(bundle_max_overhead(V4, &b), Some(53 + 28));
    assert_eq!(bundle_max_overhead(V6, &b), Some(53 + 32));
    // ESP transport inside an ESP tunnel to an IPv6 gateway, AH after
    // the tunnel: AH is then in IPv6 and pads to 64 bits.
    let b = [tr(cbc), tun(cbc, V6), tr(ah(16))];
    assert_eq!(bundle_max_overhead(V4, &b), Some(53 + 93 + 32));
    // The MTU left, outermost first: 1500 -> tunnel 1438 -> transport.
    let b = [tr(cbc), tun(cbc, V4)];
    assert_eq!(bundle_inner_mtu(V4, &b, 1500), Some(1394));
    let inner = 1394usize;
    let through_first = inner + added(&b[0], V4, inner);
    assert!(through_first + added(&b[1], V4, through_first) <= 1500);
    // Empty: nothing added.
    assert_eq!(bundle_max_overhead(V6, &[]), Some(0));
    assert_eq!(bundle_inner_mtu(V6, &[], 1280), Some(1280));
    // Six steps are a bundle; seven are not.
    let six = [tr(cbc); 6];
    assert_eq!(bundle_max_overhead(V4, &six), Some(6 * 53));
    assert!(bundle_inner_mtu(V4, &six, 1500).unwrap() > 0);
    let seven = [tr(cbc); 7];
    assert_eq!(bundle_max_overhead(V4, &seven), None);
    assert_eq!(bundle_inner_mtu(V4, &seven, 1500), None);
    // A step that cannot exist spoils the bundle.
    assert_eq!(bundle_max_overhead(V4, &[tr(cbc), tr(ah(5000))]), None);
    assert_eq!(bundle_inner_mtu(V4, &[tr(ah(5000)), tr(cbc)], 1500), None);
    // A tiny route leaves nothing.
    assert_eq!(bundle_inner_mtu(V4, &[tr(cbc), tun(cbc, V4)], 60), Some(0));
}

#[test]
fn bundle_inner_mtu_fits_for_every_route() {
    let cbc = esp("aes-cbc", Some("hmac-sha1"));
    let gcm = esp("aes-gcm-16", None);
    let bundles: [&[Step]; 4] = [
        &[tr(Transform::IpComp), tr(cbc), tr(ah(12))],
        &[tr(gcm), tun(cbc, V6)],
        &[tun(ah(16), V4), tun(gcm, V6), tr(ah(32))],
        &[tr(cbc), tr(cbc), tr(cbc), tr(cbc), tr(cbc), tr(cbc)],
    ];
    for b in bundles {
        for input in [V4, V6] {
            for mtu in (576u32..=1500).step_by(37) {
                let m = bundle_inner_mtu(input, b, mtu).unwrap() as usize;
                if m == 0 {
                    continue;
                }
                let mut len = m;
                let mut fam = input;
                for s in b {
                    len += added(s, fam, len);
                    fam = s.output_family(fam);
                }
                assert!(len <= mtu as usize, "{b:?} {mtu}: {m} grows to {len}");
                // The worst-case sum bounds the real growth.
                assert!(
                    len - m <= bundle_max_overhead(input, b).unwrap(),
                    "{b:?} {mtu}"
                );
            }
        }
    }
}
