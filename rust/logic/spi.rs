//! Where each IPsec protocol's header names its SA: the SPI (IPcomp: the
//! 16-bit CPI) and the sequence number, as `xfrm_parse_spi` reads them, and
//! the destination address of the IP header in front (the other half of
//! the inbound SA's key).

use crate::logic::addr::IpAddr;
use crate::logic::types::IpsecProto;

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// The SPI (IPcomp: CPI) and sequence number (IPcomp: 0) in the header of
/// `proto` at the start of `hdr`; `None` if `hdr` is too short for them
/// (ESP 8 bytes, AH 12, IPcomp 4).
pub fn spi_seq(proto: IpsecProto, hdr: &[u8]) -> Option<(u32, u32)> {
    match proto {
        IpsecProto::Esp => Some((be32(hdr, 0)?, be32(hdr, 4)?)),
        IpsecProto::Ah => Some((be32(hdr, 4)?, be32(hdr, 8)?)),
        IpsecProto::IpComp => {
            let cpi = u16::from_be_bytes(hdr.get(2..4)?.try_into().ok()?);
            Some((u32::from(cpi), 0))
        }
    }
}

/// The destination address of the IPv4 or IPv6 header at the start of
/// `l3`.
pub fn ip_dst(l3: &[u8], v6: bool) -> Option<IpAddr> {
    if v6 {
        Some(IpAddr::V6(l3.get(24..40)?.try_into().ok()?))
    } else {
        Some(IpAddr::V4(l3.get(16..20)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_names_its_sa_where_its_rfc_puts_it() {
        let esp = [0, 0, 0x26, 0x94, 0, 0, 0, 7, 0xaa];
        assert_eq!(spi_seq(IpsecProto::Esp, &esp), Some((9876, 7)));
        // AH: next header, length, reserved, then SPI and sequence number.
        let ah = [50, 4, 0, 0, 0, 0, 0x26, 0x95, 0, 0, 1, 0];
        assert_eq!(spi_seq(IpsecProto::Ah, &ah), Some((9877, 256)));
        // IPcomp: next header, flags, 16-bit CPI.
        let comp = [6, 0, 0x0f, 0xa0];
        assert_eq!(spi_seq(IpsecProto::IpComp, &comp), Some((4000, 0)));
        // One byte short of each.
        assert_eq!(spi_seq(IpsecProto::Esp, &esp[..7]), None);
        assert_eq!(spi_seq(IpsecProto::Ah, &ah[..11]), None);
        assert_eq!(spi_seq(IpsecProto::IpComp, &comp[..3]), None);
    }

    #[test]
    fn destination_addresses() {
        let mut v4 = [0u8; 20];
        v4[16..20].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(ip_dst(&v4, false), Some(IpAddr::V4([10, 0, 0, 2])));
        assert_eq!(ip_dst(&v4[..19], false), None);
        let mut v6 = [0u8; 40];
        v6[39] = 9;
        let mut want = [0u8; 16];
        want[15] = 9;
        assert_eq!(ip_dst(&v6, true), Some(IpAddr::V6(want)));
        assert_eq!(ip_dst(&v6[..39], true), None);
    }
}
