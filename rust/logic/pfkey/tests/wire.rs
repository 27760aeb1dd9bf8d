//! Byte-exact messages: what ipsec-tools' setkey sends and what Linux's
//! af_key emits, written out by hand (x86 byte order: the host-order
//! fields are little-endian here).
#![cfg(target_endian = "little")]

use super::*;
use crate::logic::algs::{by_name, AlgKind};

const HOGE: &[u8; 24] = b"hogehogehogehogehogehoge";

/// `add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";`
/// as setkey's `setkeymsg_add` lays it out (pid 0x1234): key, SA (flags =
/// KAME's CYCSEQ, state LARVAL), SA2 (mode any), src, dst (proto any, /32).
const FAQ_ADD: &str = "
    02 03 00 03 10 00 00 00  00 00 00 00 34 12 00 00
    04 00 09 00 c0 00 00 00  68 6f 67 65 68 6f 67 65
    68 6f 67 65 68 6f 67 65  68 6f 67 65 68 6f 67 65
    02 00 01 00 00 00 26 94  00 00 00 03 40 00 00 00
    02 00 13 00 00 00 00 00  00 00 00 00 00 00 00 00
    03 00 05 00 ff 20 00 00  02 00 00 00 0a 01 01 01
    00 00 00 00 00 00 00 00
    03 00 06 00 ff 20 00 00  02 00 00 00 14 01 01 01
    00 00 00 00 00 00 00 00";

fn faq_header(msg_type: u8) -> MsgHeader {
    MsgHeader {
        msg_type,
        satype: SADB_SATYPE_ESP,
        pid: 0x1234,
        ..MsgHeader::default()
    }
}

#[test]
fn setkey_add_from_the_netbsd_faq() {
    let want = hex(FAQ_ADD);
    let got = build(|w| {
        w.header(&faq_header(SADB_ADD))?;
        w.key(
            SADB_EXT_KEY_ENCRYPT,
            &KeyRepr {
                bits: 192,
                key: HOGE,
            },
        )?;
        w.sa(&SaRepr {
            spi: 9876,
            encrypt: by_name(AlgKind::Encrypt, "3des-cbc").unwrap().id,
            flags: SADB_X_EXT_CYCSEQ,
            ..SaRepr::default()
        })?;
        w.sa2(&Sa2Repr::default())?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(v4(10, 1, 1, 1)))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(v4(20, 1, 1, 1)))
    });
    assert_eq!(got, want);
    let p = parse(&want).unwrap();
    assert_eq!(check_required(p.msg_type(), &p), Ok(()));
    assert_eq!(p.header(), faq_header(SADB_ADD));
    assert_eq!(p.sa().unwrap().spi, 9876);
    assert_eq!(p.sa().unwrap().state, SADB_SASTATE_LARVAL);
    assert_eq!(
        p.key_encrypt(),
        Some(KeyRepr {
            bits: 192,
            key: HOGE
        })
    );
    assert_eq!(p.address_dst().unwrap().addr, v4(20, 1, 1, 1));
    assert_eq!(p.address_src().unwrap().proto, IPSEC_ULPROTO_ANY);
    assert_eq!(p.sa2().unwrap().mode, IPSEC_MODE_ANY);
}

/// What af_key's `__pfkey_xfrm_state2msg` returns for `get 10.1.1.1
/// 20.1.1.1 esp 9876` on that SA: SA (MATURE), hard, soft, current
/// lifetimes, src, dst (proto 0), key, SA2 (mode ANY became TRANSPORT).
const LINUX_GET_REPLY: &str = "
    02 05 00 03 1c 00 00 00  00 00 00 00 34 12 00 00
    02 00 01 00 00 00 26 94  00 01 00 03 00 00 00 00
    04 00 03 00 00 00 00 00  00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
    04 00 04 00 00 00 00 00  00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
    04 00 02 00 00 00 00 00  00 00 00 00 00 00 00 00
    00 00 00 65 00 00 00 00  00 00 00 00 00 00 00 00
    03 00 05 00 00 20 00 00  02 00 00 00 0a 01 01 01
    00 00 00 00 00 00 00 00
    03 00 06 00 00 20 00 00  02 00 00 00 14 01 01 01
    00 00 00 00 00 00 00 00
    04 00 09 00 c0 00 00 00  68 6f 67 65 68 6f 67 65
    68 6f 67 65 68 6f 67 65  68 6f 67 65 68 6f 67 65
    02 00 13 00 01 00 00 00  00 00 00 00 00 00 00 00";

#[test]
fn linux_get_reply() {
    let want = hex(LINUX_GET_REPLY);
    let addr = |a| AddressRepr {
        proto: 0,
        ..host(a)
    };
    let got = build(|w| {
        w.header(&faq_header(SADB_GET))?;
        w.sa(&SaRepr {
            spi: 9876,
            state: SADB_SASTATE_MATURE,
            encrypt: 3,
            ..SaRepr::default()
        })?;
        w.lifetime(SADB_EXT_LIFETIME_HARD, &LifetimeRepr::default())?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &LifetimeRepr::default())?;
        w.lifetime(
            SADB_EXT_LIFETIME_CURRENT,
            &LifetimeRepr {
                addtime: 0x6500_0000,
                ..LifetimeRepr::default()
            },
        )?;
        w.address(SADB_EXT_ADDRESS_SRC, &addr(v4(10, 1, 1, 1)))?;
        w.address(SADB_EXT_ADDRESS_DST, &addr(v4(20, 1, 1, 1)))?;
        w.key(
            SADB_EXT_KEY_ENCRYPT,
            &KeyRepr {
                bits: 192,
                key: HOGE,
            },
        )?;
        w.sa2(&Sa2Repr {
            mode: IPSEC_MODE_TRANSPORT,
            ..Sa2Repr::default()
        })
    });
    assert_eq!(got, want);
    let p = parse_reply(&want).unwrap();
    assert_eq!(p.lifetime_current().unwrap().addtime, 0x6500_0000);
    assert_eq!(p.sa().unwrap().state, SADB_SASTATE_MATURE);
    assert_eq!(
        p.ext_types().collect::<StdVec<_>>(),
        [1, 2, 3, 4, 5, 6, 9, 19]
    );
}

/// `spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec
/// esp/tunnel/192.168.0.1-192.168.0.2/require;` as setkey's
/// `setkeymsg_spdaddr` sends it: policy (one 48-byte tunnel request with
/// its endpoints), then the selector addresses.
const SETKEY_SPDADD: &str = "
    02 0e 00 00 10 00 00 00  00 00 00 00 34 12 00 00
    08 00 12 00 02 00 02 00  00 00 00 00 00 00 00 00
    30 00 32 00 02 02 00 00  00 00 00 00 00 00 00 00
    02 00 00 00 c0 a8 00 01  00 00 00 00 00 00 00 00
    02 00 00 00 c0 a8 00 02  00 00 00 00 00 00 00 00
    03 00 05 00 ff 18 00 00  02 00 00 00 0a 00 00 00
    00 00 00 00 00 00 00 00
    03 00 06 00 ff 18 00 00  02 00 00 00 0a 00 01 00
    00 00 00 00 00 00 00 00";

/// setkey's SPDADD for `esp/tunnel/192.168.0.1[p]-192.168.0.2[q]/require`
/// from 10.0.0.0/24 to 10.0.1.0/24, built with the writer; and its request.
fn tunnel_spdadd(ports: (u16, u16)) -> (StdVec<u8>, IpsecRequestRepr) {
    let rq = [IpsecRequestRepr {
        proto: u16::from(IPPROTO_ESP),
        mode: IPSEC_MODE_TUNNEL,
        level: IPSEC_LEVEL_REQUIRE,
        reqid: 0,
        addrs: Some((v4(192, 168, 0, 1), v4(192, 168, 0, 2))),
        ports,
    }];
    let sel = |a| AddressRepr {
        prefixlen: 24,
        ..host(a)
    };
    let h = MsgHeader {
        msg_type: SADB_X_SPDADD,
        pid: 0x1234,
        ..MsgHeader::default()
    };
    let got = build(|w| {
        w.header(&h)?;
        w.policy(&PolicyRepr {
            policy_type: IPSEC_POLICY_IPSEC,
            dir: IPSEC_DIR_OUTBOUND,
            id: 0,
            priority: 0,
            requests: &rq,
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &sel(v4(10, 0, 0, 0)))?;
        w.address(SADB_EXT_ADDRESS_DST, &sel(v4(10, 0, 1, 0)))
    });
    (got, rq[0])
}

#[test]
fn setkey_spdadd_tunnel() {
    let want = hex(SETKEY_SPDADD);
    let (got, rq) = tunnel_spdadd((0, 0));
    assert_eq!(got, want);
    let p = parse(&want).unwrap();
    assert_eq!(check_required(SADB_X_SPDADD, &p), Ok(()));
    let pol = p.policy().unwrap();
    assert_eq!(pol.requests().collect::<StdVec<_>>(), [rq]);
    assert_eq!(pol.raw_requests().next().unwrap().len(), 48);
}

#[test]
fn tunnel_endpoint_ports_round_trip() {
    // `esp/tunnel/192.168.0.1[500]-192.168.0.2[4500]/require`: the same
    // message with the ports in network order in each sockaddr_in.
    let mut want = hex(SETKEY_SPDADD);
    want[50..52].copy_from_slice(&[0x01, 0xf4]);
    want[66..68].copy_from_slice(&[0x11, 0x94]);
    let (got, rq) = tunnel_spdadd((500, 4500));
    assert_eq!(got, want);
    let p = parse(&want).unwrap();
    assert_eq!(check_required(SADB_X_SPDADD, &p), Ok(()));
    assert_eq!(p.policy().unwrap().requests().collect::<StdVec<_>>(), [rq]);

    // IPv6: sockaddr_in6 keeps the port at the same offset.
    let rq6 = IpsecRequestRepr {
        addrs: Some((v6(1), v6(2))),
        ports: (65535, 1),
        ..rq
    };
    let h = MsgHeader {
        msg_type: SADB_X_SPDADD,
        ..MsgHeader::default()
    };
    let b = build(|w| {
        w.header(&h)?;
        w.policy(&PolicyRepr {
            policy_type: IPSEC_POLICY_IPSEC,
            dir: IPSEC_DIR_OUTBOUND,
            id: 0,
            priority: 0,
            requests: &[rq6],
        })
    });
    // Request at 32, its sockaddr_in6s at 48 and 76 (ports 2 bytes in).
    assert_eq!(b.len(), 16 + 16 + 16 + 56);
    assert_eq!((&b[50..52], &b[78..80]), (&[0xff, 0xff][..], &[0, 1][..]));
    let p = parse(&b).unwrap();
    assert_eq!(p.policy().unwrap().requests().next(), Some(rq6));
}

#[test]
fn linux_error_and_register_replies() {
    // pfkey_error: the request's header, errno set, length 2.
    let err = hex("02 03 11 03 02 00 00 00 00 00 00 00 34 12 00 00");
    let h = MsgHeader {
        errno: Errno::EEXIST.to_wire(),
        ..faq_header(SADB_ADD)
    };
    assert_eq!(build(|w| w.header(&h)), err);
    assert_eq!(parse_reply(&err).unwrap().errno(), 17);
    assert_eq!(Errno(512).to_wire(), 4);
    assert_eq!(Errno(600).to_wire(), 22);
    assert_eq!(Errno::EINVAL.to_kernel(), -22);
    // compose_sadb_supported with hmac-sha1 and 3des-cbc available.
    let reg = hex("02 07 00 03 06 00 00 00 00 00 00 00 34 12 00 00
         02 00 0e 00 00 00 00 00 03 00 a0 00 a0 00 00 00
         02 00 0f 00 00 00 00 00 03 08 c0 00 c0 00 00 00");
    let a = [by_name(AlgKind::Auth, "hmac-sha1").unwrap().to_sadb_alg()];
    let e = [by_name(AlgKind::Encrypt, "3des-cbc").unwrap().to_sadb_alg()];
    let got = build(|w| {
        w.header(&faq_header(SADB_REGISTER))?;
        w.supported(SADB_EXT_SUPPORTED_AUTH, &SupportedRepr { algs: &a })?;
        w.supported(SADB_EXT_SUPPORTED_ENCRYPT, &SupportedRepr { algs: &e })
    });
    assert_eq!(got, reg);
    let p = parse_reply(&reg).unwrap();
    assert_eq!(
        p.supported_encrypt().unwrap().algs().collect::<StdVec<_>>(),
        e
    );
}

#[test]
fn sockaddr_in6_layout() {
    // sockaddr_in6: family, port (BE), flowinfo, address, scope id.
    let a = AddressRepr {
        proto: 6,
        prefixlen: 64,
        addr: v6(1),
        port: 443,
    };
    let got = build(|w| {
        w.header(&hdr(SADB_X_SPDDELETE, 0))?;
        w.address(SADB_EXT_ADDRESS_DST, &a)
    });
    let want = hex("05 00 06 00 06 40 00 00  0a 00 01 bb 00 00 00 00
         20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01
         00 00 00 00 00 00 00 00");
    assert_eq!(&got[16..], &want[..]);
    assert_eq!(parse(&got).unwrap().address_dst(), Some(a));
}
