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
