use super::*;
use crate::logic::algs::{by_name, ALGS};

fn comp(name: &str) -> &'static AlgDesc {
    by_name(AlgKind::Compress, name).unwrap()
}

#[test]
fn cpi_classes() {
    use CpiClass::*;
    for (cpi, class) in [
        (0u16, WellKnown),
        (2, WellKnown),
        (63, WellKnown),
        (64, Reserved),
        (255, Reserved),
        (256, Negotiated),
        (0x1234, Negotiated),
        (61439, Negotiated),
        (61440, Private),
        (65535, Private),
    ] {
        assert_eq!(cpi_class(cpi), class, "{cpi}");
    }
    assert_eq!(cpi_of_spi(0xffff), Some(0xffff));
    assert_eq!(cpi_of_spi(0x1_0000), None);
    assert_eq!(cpi_of_spi(0), Some(0));
    assert_eq!(spi_of_cpi(0x8a76), 0x8a76);
    for cpi in [0u16, 1, 0x100, 0xffff] {
        assert_eq!(cpi_of_spi(spi_of_cpi(cpi)), Some(cpi));
    }
}

#[test]
fn getspi_ranges() {
    // racoon's range for IPcomp.
    assert_eq!(getspi_cpi_range(0x100, 0xffff), Ok((0x100, 0xffff)));
    // af_key's default range (no SPIRANGE extension): refused, as Linux.
    assert_eq!(
        getspi_cpi_range(
            crate::logic::sad::SPI_MIN_DEFAULT,
            crate::logic::sad::SPI_MAX_DEFAULT
        ),
        Err(CpiRangeError::Invalid)
    );
    assert_eq!(getspi_cpi_range(0, 0x10000), Err(CpiRangeError::Invalid));
    assert_eq!(getspi_cpi_range(0x200, 0x100), Err(CpiRangeError::Invalid));
    // 0 is never handed out.
    assert_eq!(getspi_cpi_range(0, 0), Err(CpiRangeError::Empty));
    assert_eq!(getspi_cpi_range(0, 5), Ok((1, 5)));
    // One CPI asked for, well-known or not.
    assert_eq!(getspi_cpi_range(2, 2), Ok((2, 2)));
    assert_eq!(getspi_cpi_range(0xffff, 0xffff), Ok((0xffff, 0xffff)));
}

#[test]
fn header() {
    let mut buf = [0xeeu8; 10];
    write_header(&mut buf, 6, 0x8a76).unwrap();
    assert_eq!(buf[..4], [6, 0, 0x8a, 0x76]);
    let h = IpcompHeader::new_checked(&buf[..]).unwrap();
    assert_eq!((h.next_header(), h.flags(), h.cpi()), (6, 0, 0x8a76));
    assert_eq!(h.payload(), &[0xee; 6][..]);
    assert_eq!(h.into_inner().len(), 10);
    for n in 0..4 {
        assert_eq!(
            IpcompHeader::new_checked(&buf[..n]).err(),
            Some(IpcompError::Truncated)
        );
        assert_eq!(
            write_header(&mut buf[..n], 6, 1),
            Err(IpcompError::Truncated)
        );
    }
    let h = IpcompHeader::new_checked(&buf[..4]).unwrap();
    assert!(h.payload().is_empty());
    // Flags are reported as received (and ignored).
    buf[1] = 0x80;
    assert_eq!(IpcompHeader::new_checked(&buf[..]).unwrap().flags(), 0x80);
    assert!(check_input(&buf, 0x8a76).is_ok());
}

#[test]
fn output_decisions() {
    let deflate = comp("deflate");
    assert_eq!(deflate.comp_threshold, 90);
    // Below the threshold: sent as it is; at or above it: compressed.
    assert!(!worth_compressing(0, deflate));
    assert!(!worth_compressing(89, deflate));
    assert!(worth_compressing(90, deflate));
    assert!(worth_compressing(65535, deflate));
    assert!(!worth_compressing(49, comp("lzjh")));
    assert!(worth_compressing(50, comp("lzjh")));
    // Only compression algorithms.
    let not_comp = ALGS.iter().find(|a| a.kind != AlgKind::Compress).unwrap();
    assert!(!worth_compressing(1000, not_comp));
    // Kept only when smaller, header included.
    assert!(keep_compressed(100, 95));
    assert!(!keep_compressed(100, 96));
    assert!(!keep_compressed(100, 100));
    assert!(!keep_compressed(100, 200));
    assert!(!keep_compressed(0, 0));
    assert!(!keep_compressed(usize::MAX, usize::MAX));
    // The output buffer: anything longer would not be kept.
    for len in [0usize, 4, 5, 6, 90, 1500, 65400, 65405, 65406, 70000] {
        let cap = compress_output_cap(len);
        assert!(cap <= IPCOMP_SCRATCH_SIZE);
        if cap > 0 {
            assert!(keep_compressed(len, cap), "{len}");
            if cap < IPCOMP_SCRATCH_SIZE {
                assert!(!keep_compressed(len, cap + 1), "{len}");
            }
        }
    }
    assert_eq!(compress_output_cap(5), 0);
    assert_eq!(compress_output_cap(6), 1);
    assert_eq!(compress_output_cap(1500), 1495);
    assert_eq!(compress_output_cap(65535), IPCOMP_SCRATCH_SIZE);
}

#[test]
fn input_refusals() {
    let hdr = |nh: u8, cpi: u16| {
        let mut b = [0u8; 8];
        write_header(&mut b, nh, cpi).unwrap();
        b
    };
    let ok = hdr(6, 0x1234);
    let h = check_input(&ok, 0x1234).unwrap();
    assert_eq!((h.next_header(), h.payload().len()), (6, 4));
    for nh in [4u8, 41, 17, 50, 51, 58, 59] {
        assert!(check_input(&hdr(nh, 0x1234), 0x1234).is_ok(), "{nh}");
    }
    assert_eq!(
        check_input(&hdr(108, 0x1234), 0x1234).err(),
        Some(IpcompError::Nested)
    );
    assert_eq!(
        check_input(&hdr(0, 0x1234), 0x1234).err(),
        Some(IpcompError::BadNextHeader)
    );
    assert_eq!(
        check_input(&ok, 0x1235).err(),
        Some(IpcompError::CpiMismatch)
    );
    assert_eq!(
        check_input(&ok, 0x1_1234).err(),
        Some(IpcompError::CpiMismatch)
    );
    for n in 0..4 {
        assert_eq!(
            check_input(&ok[..n], 0x1234).err(),
            Some(IpcompError::Truncated)
        );
    }
}

#[test]
fn decompressed_sizes() {
    // Must grow past the compressed payload plus the header.
    assert_eq!(check_decompressed(100, 104), Ok(()));
    assert_eq!(check_decompressed(100, 103), Err(IpcompError::NotExpanded));
    assert_eq!(check_decompressed(100, 0), Err(IpcompError::NotExpanded));
    assert_eq!(check_decompressed(0, 4), Ok(()));
    // At most the scratch buffer.
    assert_eq!(check_decompressed(10, IPCOMP_SCRATCH_SIZE), Ok(()));
    assert_eq!(
        check_decompressed(10, IPCOMP_SCRATCH_SIZE + 1),
        Err(IpcompError::TooLarge)
    );
    assert_eq!(
        check_decompressed(usize::MAX, IPCOMP_SCRATCH_SIZE),
        Err(IpcompError::NotExpanded)
    );
    // The packet's length field afterwards.
    assert_eq!(transport_length_field(20, 1480, false), Ok(1500));
    assert_eq!(
        transport_length_field(60, IPCOMP_SCRATCH_SIZE, false),
        Ok(65460)
    );
    assert_eq!(transport_length_field(40, 1460, true), Ok(1460));
    assert_eq!(
        transport_length_field(40 + 96, IPCOMP_SCRATCH_SIZE, true),
        Ok(65496)
    );
    assert_eq!(
        transport_length_field(40 + 200, IPCOMP_SCRATCH_SIZE, true),
        Err(IpcompError::TooLarge)
    );
    assert_eq!(
        transport_length_field(136, 65400, false),
        Err(IpcompError::TooLarge)
    );
    assert_eq!(
        transport_length_field(39, 0, true),
        Err(IpcompError::Truncated)
    );
    assert_eq!(
        transport_length_field(usize::MAX, 1, false),
        Err(IpcompError::TooLarge)
    );
}
