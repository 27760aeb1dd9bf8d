use super::*;

#[test]
fn slice_reads() {
    let b: &[u8] = &[1, 2, 3, 4, 5];
    assert_eq!((b.len(), PacketBytes::is_empty(b)), (5, false));
    assert!(PacketBytes::is_empty(&[][..]));
    assert_eq!(b.byte(0), Some(1));
    assert_eq!(b.byte(4), Some(5));
    assert_eq!(b.byte(5), None);
    assert_eq!(b.be16(3), Some(0x0405));
    assert_eq!(b.be16(4), None);
    assert_eq!(b.be32(1), Some(0x0203_0405));
    assert_eq!(b.be32(2), None);
    assert_eq!(b.array::<5>(0), Some([1, 2, 3, 4, 5]));
    assert_eq!(b.array::<0>(5), Some([]));
    assert_eq!(b.array::<0>(6), None);
    let mut out = [9u8; 2];
    assert_eq!(b.read(usize::MAX, &mut out), None);
    assert_eq!(b.read(3, &mut out), Some(()));
    assert_eq!(out, [4, 5]);
}

#[test]
fn prefix_cuts() {
    let b: &[u8] = &[1, 2, 3, 4, 5];
    let p = Prefix::new(b, 3);
    assert_eq!(p.len(), 3);
    assert_eq!(p.byte(2), Some(3));
    assert_eq!(p.byte(3), None);
    assert_eq!(p.be16(2), None);
    assert_eq!(p.be16(1), Some(0x0203));
    let mut out = [0u8; 1];
    assert_eq!(p.read(usize::MAX, &mut out), None);
    // Longer than the source: the source's end.
    let p = Prefix::new(b, 100);
    assert_eq!((p.len(), p.byte(4), p.byte(5)), (5, Some(5), None));
    // Prefixes nest.
    let pp = Prefix::new(&p, 2);
    assert_eq!((pp.len(), pp.byte(1), pp.byte(2)), (2, Some(2), None));
}
