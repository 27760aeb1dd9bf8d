use super::*;

const A4: IpAddr = IpAddr::V4([10, 0, 0, 1]);
const B4: IpAddr = IpAddr::V4([10, 0, 0, 2]);

fn a6(last: u8) -> IpAddr {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[15] = last;
    IpAddr::V6(a)
}

#[test]
fn ipv4_outer_copies_dscp_and_df_not_ecn() {
    // Inner IPv4: TOS 0xb9 (DSCP 46, ECN 1), DF set.
    let inner = [0x45, 0xb9, 0, 0, 0, 0, 0x40, 0];
    let mut b = [0xffu8; 20];
    write_outer(&mut b, &inner, false, 1400, 63, 51, &A4, &B4).unwrap();
    assert_eq!(b[0], 0x45);
    assert_eq!(b[1], 0xb8);
    assert_eq!(u16::from_be_bytes([b[2], b[3]]), 1400);
    assert_eq!(&b[4..6], &[0, 0], "id left to the caller");
    assert_eq!(b[6], 0x40);
    assert_eq!(b[7], 0);
    assert_eq!((b[8], b[9]), (63, 51));
    assert_eq!(&b[10..12], &[0, 0], "checksum left to the caller");
    assert_eq!(&b[12..16], &[10, 0, 0, 1]);
    assert_eq!(&b[16..20], &[10, 0, 0, 2]);
}

#[test]
fn ipv4_outer_of_ipv6_inner_has_no_df() {
    // Inner IPv6, traffic class 0xb9 (nibbles split over bytes 0 and 1).
    let inner = [0x6b, 0x90, 0, 0, 0, 0, 0x40, 0];
    let mut b = [0u8; 20];
    write_outer(&mut b, &inner, true, 100, 64, 50, &A4, &B4).unwrap();
    assert_eq!(b[1], 0xb8);
    assert_eq!(b[6], 0, "an IPv6 inner packet carries no DF to copy");
}

#[test]
fn ipv6_outer_layout() {
    let inner = [0x45, 0x28, 0, 0, 0, 0, 0, 0];
    let mut b = [0xffu8; 40];
    write_outer(&mut b, &inner, false, 1040, 7, 108, &a6(1), &a6(2)).unwrap();
    assert_eq!(b[0], 0x62);
    assert_eq!(b[1], 0x80);
    assert_eq!(&b[2..4], &[0, 0], "no flow label");
    assert_eq!(u16::from_be_bytes([b[4], b[5]]), 1000);
    assert_eq!((b[6], b[7]), (108, 7));
    assert_eq!(b[23], 1);
    assert_eq!(b[39], 2);
}

#[test]
fn outer_refuses_what_it_cannot_say() {
    let inner = [0x45, 0, 0, 0, 0, 0, 0, 0];
    let mut b = [0u8; 40];
    assert_eq!(
        write_outer(&mut b, &inner, false, 65536, 64, 50, &A4, &B4),
        Err(ModeError::TooBig)
    );
    assert_eq!(
        write_outer(&mut b, &inner, false, 65535 + 41, 64, 50, &a6(1), &a6(2)),
        Err(ModeError::TooBig)
    );
    assert_eq!(
        write_outer(&mut b, &inner, false, 39, 64, 50, &a6(1), &a6(2)),
        Err(ModeError::TooBig)
    );
    assert_eq!(
        write_outer(&mut b, &inner, false, 100, 64, 50, &A4, &a6(2)),
        Err(ModeError::Family)
    );
    assert_eq!(
        write_outer(&mut b[..19], &inner, false, 100, 64, 50, &A4, &B4),
        Err(ModeError::Truncated)
    );
    // Exactly the largest lengths are fine.
    assert!(write_outer(&mut b, &inner, false, 65535, 64, 50, &A4, &B4).is_ok());
    assert!(write_outer(&mut b, &inner, false, 65535 + 40, 64, 50, &a6(1), &a6(2)).is_ok());
}

#[test]
fn transport_fields() {
    let mut v4 = [0x45u8; 20];
    set_transport_fields(&mut v4, false, 9, 51, 1500).unwrap();
    assert_eq!(v4[9], 51);
    assert_eq!(u16::from_be_bytes([v4[2], v4[3]]), 1500);
    let mut v6 = [0u8; 48];
    // A destination options header at 40 whose next header is the byte at 40.
    set_transport_fields(&mut v6, true, 40, 50, 1048).unwrap();
    assert_eq!(v6[40], 50);
    assert_eq!(u16::from_be_bytes([v6[4], v6[5]]), 1008);
    assert_eq!(v6[6], 0, "only the byte at nh_pos changes");
    assert_eq!(set_length(&mut v4, false, 70000), Err(ModeError::TooBig));
    assert_eq!(set_length(&mut v6, true, 39), Err(ModeError::Truncated));
    assert_eq!(
        set_transport_fields(&mut v4, false, 20, 50, 100),
        Err(ModeError::Truncated)
    );
    assert_eq!((outer_len(false), outer_len(true)), (20, 40));
    assert_eq!((inner_proto(false), inner_proto(true)), (4, 41));
}
