//! `check_required`: af_key's per-handler checks with Linux's errnos.

use super::malformed::{addr_body, ext, msg, pol_body, req, sin};
use super::*;

struct Sa {
    satype: u8,
    sa: Option<SaRepr>,
    src: Option<AddressRepr>,
    dst: Option<AddressRepr>,
    key_a: Option<u16>,
    key_e: Option<u16>,
    hard: bool,
    soft: bool,
    sa2_mode: Option<u8>,
}

fn esp(encrypt: u8, key_e: u16) -> Sa {
    Sa {
        satype: SADB_SATYPE_ESP,
        sa: Some(SaRepr {
            spi: 9876,
            encrypt,
            ..SaRepr::default()
        }),
        src: Some(host(v4(10, 1, 1, 1))),
        dst: Some(host(v4(20, 1, 1, 1))),
        key_a: None,
        key_e: Some(key_e),
        hard: false,
        soft: false,
        sa2_mode: Some(IPSEC_MODE_ANY),
    }
}

fn sa_msg(t: u8, s: &Sa) -> StdVec<u8> {
    let key = [0x5a; 64];
    build(|w| {
        w.header(&hdr(t, s.satype))?;
        if let Some(sa) = &s.sa {
            w.sa(sa)?;
        }
        if let Some(a) = &s.src {
            w.address(SADB_EXT_ADDRESS_SRC, a)?;
        }
        if let Some(a) = &s.dst {
            w.address(SADB_EXT_ADDRESS_DST, a)?;
        }
        if let Some(bits) = s.key_a {
            w.key(SADB_EXT_KEY_AUTH, &KeyRepr { bits, key: &key })?;
        }
        if let Some(bits) = s.key_e {
            w.key(SADB_EXT_KEY_ENCRYPT, &KeyRepr { bits, key: &key })?;
        }
        if s.hard {
            w.lifetime(SADB_EXT_LIFETIME_HARD, &LifetimeRepr::default())?;
        }
        if s.soft {
            w.lifetime(SADB_EXT_LIFETIME_SOFT, &LifetimeRepr::default())?;
        }
        if let Some(mode) = s.sa2_mode {
            w.sa2(&Sa2Repr {
                mode,
                ..Sa2Repr::default()
            })?;
        }
        Ok(())
    })
}

fn check(m: &[u8]) -> Result<(), Errno> {
    let p = parse(m).expect("parses");
    check_required(p.msg_type(), &p)
}

fn with(f: impl FnOnce(&mut Sa)) -> Sa {
    let mut s = esp(SADB_EALG_3DESCBC, 192);
    f(&mut s);
    s
}

#[test]
fn add_and_update() {
    use Errno as E;
    let auth = |id| {
        Some(SaRepr {
            spi: 1,
            auth: id,
            ..SaRepr::default()
        })
    };
    let cases: StdVec<(&str, Sa, Result<(), Errno>)> = std::vec![
        ("3des ok", with(|_| {}), Ok(())),
        ("no SA", with(|s| s.sa = None), Err(E::EINVAL)),
        ("no dst", with(|s| s.dst = None), Err(E::EINVAL)),
        ("no src", with(|s| s.src = None), Err(E::EINVAL)),
        (
            "v4/v6 mix",
            with(|s| s.dst = Some(host(v6(1)))),
            Err(E::EINVAL)
        ),
        (
            "ESP without enc key",
            with(|s| s.key_e = None),
            Err(E::EINVAL)
        ),
        (
            "AH without auth key",
            with(|s| {
                s.satype = SADB_SATYPE_AH;
                s.key_e = None;
                s.sa = auth(3);
            }),
            Err(E::EINVAL)
        ),
        (
            "AH hmac-sha1 ok",
            with(|s| {
                s.satype = SADB_SATYPE_AH;
                s.key_e = None;
                s.key_a = Some(160);
                s.sa = auth(3);
            }),
            Ok(())
        ),
        (
            "AH without algorithm",
            with(|s| {
                s.satype = SADB_SATYPE_AH;
                s.key_e = None;
                s.key_a = Some(160);
            }),
            Err(E::EINVAL)
        ),
        (
            "hard lifetime alone",
            with(|s| s.hard = true),
            Err(E::EINVAL)
        ),
        (
            "soft lifetime alone",
            with(|s| s.soft = true),
            Err(E::EINVAL)
        ),
        (
            "both lifetimes",
            with(|s| {
                s.hard = true;
                s.soft = true;
            }),
            Ok(())
        ),
        (
            "satype RSVP",
            with(|s| s.satype = SADB_SATYPE_RSVP),
            Err(E::EINVAL)
        ),
        (
            "satype UNSPEC",
            with(|s| s.satype = SADB_SATYPE_UNSPEC),
            Err(E::EPROTONOSUPPORT)
        ),
        (
            "auth id 252",
            with(|s| s.sa = Some(SaRepr {
                auth: 252,
                encrypt: 3,
                ..SaRepr::default()
            })),
            Err(E::EINVAL)
        ),
        ("encrypt id 254", esp(254, 192), Err(E::EINVAL)),
        (
            "IPComp calg 5",
            with(|s| {
                s.satype = SADB_X_SATYPE_IPCOMP;
                s.key_e = None;
                s.sa = Some(SaRepr {
                    encrypt: 5,
                    ..SaRepr::default()
                });
            }),
            Err(E::EINVAL)
        ),
        (
            "IPComp deflate",
            with(|s| {
                s.satype = SADB_X_SATYPE_IPCOMP;
                s.key_e = None;
                s.sa = Some(SaRepr {
                    encrypt: 2,
                    ..SaRepr::default()
                });
            }),
            Ok(())
        ),
        (
            "enc key of 0 bits",
            esp(SADB_EALG_3DESCBC, 0),
            Err(E::EINVAL)
        ),
        ("null enc, 0-bit key", esp(SADB_EALG_NULL, 0), Ok(())),
        ("unknown enc id 1", esp(1, 64), Err(E::ENOSYS)),
        (
            "keyed-md5",
            with(|s| {
                s.key_a = Some(128);
                s.sa = Some(SaRepr {
                    auth: SADB_X_AALG_MD5,
                    encrypt: 3,
                    ..SaRepr::default()
                });
            }),
            Err(E::ENOSYS)
        ),
        ("sa2 mode 4", with(|s| s.sa2_mode = Some(4)), Err(E::EINVAL)),
        ("no sa2", with(|s| s.sa2_mode = None), Ok(())),
        (
            "3des 128-bit key",
            esp(SADB_EALG_3DESCBC, 128),
            Err(E::EINVAL)
        ),
        ("aes-cbc 256", esp(SADB_X_EALG_AESCBC, 256), Ok(())),
        (
            "gcm-16 with salt",
            esp(SADB_X_EALG_AES_GCM_ICV16, 288),
            Ok(())
        ),
        (
            "gcm-16 without salt",
            esp(SADB_X_EALG_AES_GCM_ICV16, 256),
            Err(E::EINVAL)
        ),
        (
            "gcm + auth",
            with(|s| {
                s.key_e = Some(160);
                s.key_a = Some(160);
                s.sa = Some(SaRepr {
                    auth: 3,
                    encrypt: 20,
                    ..SaRepr::default()
                });
            }),
            Err(E::EINVAL)
        ),
        (
            "chacha20-poly1305",
            esp(SADB_X_EALG_CHACHA20_POLY1305, 288),
            Ok(())
        ),
        ("ESP without algorithm", esp(0, 64), Err(E::EINVAL)),
    ];
    for (name, s, want) in &cases {
        assert_eq!(check(&sa_msg(SADB_ADD, s)), *want, "ADD {name}");
        assert_eq!(check(&sa_msg(SADB_UPDATE, s)), *want, "UPDATE {name}");
    }
}

/// An AH SA message with `auth` (key of `bits`) and `encrypt`.
fn ah(auth: u8, bits: Option<u16>, encrypt: u8) -> Sa {
    with(|s| {
        s.satype = SADB_SATYPE_AH;
        s.key_e = None;
        s.key_a = bits;
        s.sa = Some(SaRepr {
            spi: 0x1000,
            auth,
            encrypt,
            ..SaRepr::default()
        });
    })
}

/// An IPComp SA message: CPI `spi`, compression `calg`, `auth`, `flags`.
fn ipcomp(spi: u32, calg: u8, auth: u8, flags: u32) -> Sa {
    with(|s| {
        s.satype = SADB_X_SATYPE_IPCOMP;
        s.key_e = None;
        s.sa = Some(SaRepr {
            spi,
            auth,
            encrypt: calg,
            flags,
            ..SaRepr::default()
        });
    })
}

#[test]
fn ah_ipcomp_and_old_format_rules() {
    use Errno as E;
    let with_flags = |flags| {
        with(|s| {
            if let Some(sa) = &mut s.sa {
                sa.flags = flags;
            }
        })
    };
    let cases: StdVec<(&str, Sa, Result<(), Errno>)> = std::vec![
        // Every AH MAC with its key length.
        ("AH hmac-md5", ah(SADB_AALG_MD5HMAC, Some(128), 0), Ok(())),
        ("AH hmac-sha1", ah(SADB_AALG_SHA1HMAC, Some(160), 0), Ok(())),
        (
            "AH hmac-sha256",
            ah(SADB_X_AALG_SHA2_256HMAC, Some(256), 0),
            Ok(())
        ),
        (
            "AH hmac-sha384",
            ah(SADB_X_AALG_SHA2_384HMAC, Some(384), 0),
            Ok(())
        ),
        (
            "AH hmac-sha512",
            ah(SADB_X_AALG_SHA2_512HMAC, Some(512), 0),
            Ok(())
        ),
        (
            "AH aes-xcbc-mac",
            ah(SADB_X_AALG_AES_XCBC_MAC, Some(128), 0),
            Ok(())
        ),
        (
            "AH aes-cmac",
            ah(SADB_X_AALG_AES_CMAC, Some(128), 0),
            Ok(())
        ),
        (
            "AH aes-cmac 256-bit key",
            ah(SADB_X_AALG_AES_CMAC, Some(256), 0),
            Err(E::EINVAL)
        ),
        (
            "AH aes-xcbc 160-bit key",
            ah(SADB_X_AALG_AES_XCBC_MAC, Some(160), 0),
            Err(E::EINVAL)
        ),
        // af_key would build these and ah4 ignore the cipher / digest_null.
        (
            "AH with a cipher",
            ah(SADB_AALG_SHA1HMAC, Some(160), SADB_EALG_3DESCBC),
            Err(E::EINVAL)
        ),
        (
            "AH with null cipher",
            ah(SADB_AALG_SHA1HMAC, Some(160), SADB_EALG_NULL),
            Err(E::EINVAL)
        ),
        (
            "AH null MAC, empty key",
            ah(SADB_X_AALG_NULL, Some(0), 0),
            Err(E::EINVAL)
        ),
        (
            "AH null MAC, no key (setkey -A null)",
            ah(SADB_X_AALG_NULL, None, 0),
            Err(E::EINVAL)
        ),
        (
            "AH keyed-md5",
            ah(SADB_X_AALG_MD5, Some(128), 0),
            Err(E::ENOSYS)
        ),
        (
            "AH tcp-md5",
            ah(SADB_X_AALG_TCP_MD5, Some(128), 0),
            Err(E::EINVAL)
        ),
        ("AH auth id 254", ah(254, Some(128), 0), Err(E::EINVAL)),
        (
            "AH with ESN",
            with(|s| {
                *s = ah(SADB_AALG_SHA1HMAC, Some(160), 0);
                if let Some(sa) = &mut s.sa {
                    sa.flags = SADB_X_SAFLAGS_ESN;
                }
            }),
            Ok(())
        ),
        // IPComp: a compression algorithm, a 16-bit CPI, no MAC.
        (
            "IPComp deflate -R",
            ipcomp(0x4000, SADB_X_CALG_DEFLATE, 0, SADB_X_EXT_RAWCPI),
            Ok(())
        ),
        (
            "IPComp CPI 0xffff",
            ipcomp(0xffff, SADB_X_CALG_DEFLATE, 0, 0),
            Ok(())
        ),
        (
            "IPComp CPI 0x10000",
            ipcomp(0x1_0000, SADB_X_CALG_DEFLATE, 0, 0),
            Err(E::EINVAL)
        ),
        (
            "IPComp CPI 0x10000 -R",
            ipcomp(0x1_0000, SADB_X_CALG_DEFLATE, 0, SADB_X_EXT_RAWCPI),
            Err(E::EINVAL)
        ),
        (
            "IPComp with a MAC",
            with(|s| {
                *s = ipcomp(0x4000, SADB_X_CALG_DEFLATE, SADB_AALG_SHA1HMAC, 0);
                s.key_a = Some(160);
            }),
            Err(E::EINVAL)
        ),
        (
            "IPComp without algorithm",
            ipcomp(0x4000, 0, 0, 0),
            Err(E::EINVAL)
        ),
        (
            "IPComp oui",
            ipcomp(0x4000, SADB_X_CALG_OUI, 0, 0),
            Err(E::ENOSYS)
        ),
        (
            "IPComp lzjh",
            ipcomp(0x4000, SADB_X_CALG_LZJH, 0, 0),
            Ok(())
        ),
        (
            "IPComp with an encryption key (ignored)",
            with(|s| {
                *s = ipcomp(0x4000, SADB_X_CALG_DEFLATE, 0, 0);
                s.key_e = Some(64);
            }),
            Ok(())
        ),
        // KAME's wire-format flags; its padding/sequence flags are ignored.
        (
            "esp-old (SADB_X_EXT_OLD = RFC 2367's PFS): ignored as af_key",
            with_flags(SADB_X_EXT_OLD),
            Ok(())
        ),
        (
            "des-32iv (IV4B)",
            with_flags(SADB_X_EXT_IV4B),
            Err(E::EINVAL)
        ),
        (
            "des-deriv (DERIV)",
            with_flags(SADB_X_EXT_DERIV | SADB_X_EXT_CYCSEQ),
            Err(E::EINVAL)
        ),
        (
            "ah-old: ignored as af_key",
            with(|s| {
                *s = ah(SADB_AALG_MD5HMAC, Some(128), 0);
                if let Some(sa) = &mut s.sa {
                    sa.flags = SADB_X_EXT_OLD;
                }
            }),
            Ok(())
        ),
        (
            "ah-old keyed-md5: ENOSYS first",
            with(|s| {
                *s = ah(SADB_X_AALG_MD5, Some(128), 0);
                if let Some(sa) = &mut s.sa {
                    sa.flags = SADB_X_EXT_OLD;
                }
            }),
            Err(E::ENOSYS)
        ),
        (
            "CYCSEQ, PRAND, PZERO ignored",
            with_flags(SADB_X_EXT_CYCSEQ | SADB_X_EXT_PRAND | SADB_X_EXT_PZERO),
            Ok(())
        ),
        ("rc5-cbc", esp(SADB_X_EALG_RC5CBC, 128), Err(E::ENOSYS)),
    ];
    for (name, s, want) in &cases {
        assert_eq!(check(&sa_msg(SADB_ADD, s)), *want, "ADD {name}");
        assert_eq!(check(&sa_msg(SADB_UPDATE, s)), *want, "UPDATE {name}");
    }
}

#[test]
fn sa_lookups_and_misc() {
    use Errno as E;
    let ok = with(|_| {});
    assert_eq!(check(&sa_msg(SADB_DELETE, &ok)), Ok(()));
    assert_eq!(
        check(&sa_msg(SADB_GET, &with(|s| s.sa = None))),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&sa_msg(SADB_DELETE, &with(|s| s.dst = Some(host(v6(9)))))),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&sa_msg(SADB_GET, &with(|s| s.satype = 0))),
        Err(E::ESRCH)
    );
    // GETSPI: default SPI range is too wide for IPComp's 16-bit CPIs.
    let getspi = |satype, range: Option<(u32, u32)>, dst: bool| {
        build(|w| {
            w.header(&hdr(SADB_GETSPI, satype))?;
            w.address(SADB_EXT_ADDRESS_SRC, &host(v4(1, 1, 1, 1)))?;
            if dst {
                w.address(SADB_EXT_ADDRESS_DST, &host(v4(2, 2, 2, 2)))?;
            }
            if let Some((min, max)) = range {
                w.spirange(&SpiRangeRepr { min, max })?;
            }
            Ok(())
        })
    };
    assert_eq!(check(&getspi(3, None, true)), Ok(()));
    assert_eq!(check(&getspi(3, None, false)), Err(E::EINVAL));
    assert_eq!(check(&getspi(3, Some((500, 400)), true)), Err(E::EINVAL));
    assert_eq!(check(&getspi(9, None, true)), Err(E::EINVAL));
    assert_eq!(check(&getspi(9, Some((0x100, 0xffff)), true)), Ok(()));
    assert_eq!(check(&getspi(0, None, true)), Err(E::EINVAL));
    assert_eq!(check(&getspi(7, None, true)), Err(E::EINVAL));
    let bare = |t, satype| msg(t, satype, &[]);
    assert_eq!(check(&bare(SADB_ACQUIRE, 3)), Ok(()));
    let acq = msg(SADB_ACQUIRE, 3, &[ext(SADB_EXT_SPIRANGE, &[0; 12])]);
    assert_eq!(check(&acq), Err(E::EOPNOTSUPP));
    assert_eq!(check(&bare(SADB_REGISTER, 9)), Ok(()));
    assert_eq!(check(&bare(SADB_REGISTER, 10)), Err(E::EINVAL));
    assert_eq!(check(&bare(SADB_FLUSH, 0)), Ok(()));
    assert_eq!(check(&bare(SADB_FLUSH, 5)), Err(E::EINVAL));
    assert_eq!(check(&bare(SADB_DUMP, 2)), Ok(()));
    assert_eq!(check(&bare(SADB_DUMP, 8)), Err(E::EINVAL));
    let dump = |splen: u8| {
        build(|w| {
            w.header(&hdr(SADB_DUMP, 3))?;
            w.filter(&FilterRepr {
                family: 2,
                splen,
                dplen: 0,
                ..FilterRepr::default()
            })
        })
    };
    assert_eq!(check(&dump(128)), Ok(()));
    assert_eq!(check(&dump(129)), Err(E::EINVAL));
    assert_eq!(check(&bare(SADB_X_PROMISC, 1)), Ok(()));
    assert_eq!(check(&bare(SADB_X_PROMISC, 2)), Err(E::EINVAL));
    for t in [
        SADB_EXPIRE,
        SADB_X_PCHANGE,
        SADB_X_SPDACQUIRE,
        SADB_X_SPDEXPIRE,
        SADB_X_NAT_T_NEW_MAPPING,
    ] {
        assert_eq!(check(&bare(t, 0)), Err(E::EOPNOTSUPP), "type {t}");
    }
    assert_eq!(
        check_required(SADB_RESERVED, &parse(&bare(SADB_FLUSH, 0)).unwrap()),
        Err(E::EOPNOTSUPP)
    );
    assert_eq!(check(&bare(SADB_X_SPDDUMP, 0)), Ok(()));
    assert_eq!(check(&bare(SADB_X_SPDFLUSH, 0)), Ok(()));
}

fn spd(t: u8, ptype: u16, dir: u8, reqs: &[IpsecRequestRepr], fam6_dst: bool) -> StdVec<u8> {
    build(|w| {
        w.header(&hdr(t, 0))?;
        w.policy(&PolicyRepr {
            policy_type: ptype,
            dir,
            id: 0,
            priority: 0,
            requests: reqs,
        })?;
        w.address(
            SADB_EXT_ADDRESS_SRC,
            &AddressRepr {
                prefixlen: 24,
                ..host(v4(10, 0, 0, 0))
            },
        )?;
        let d = if fam6_dst {
            host(v6(1))
        } else {
            AddressRepr {
                prefixlen: 24,
                ..host(v4(10, 0, 1, 0))
            }
        };
        w.address(SADB_EXT_ADDRESS_DST, &d)
    })
}

fn rq(proto: u16, mode: u8, level: u8, addrs: Option<(IpAddr, IpAddr)>) -> IpsecRequestRepr {
    IpsecRequestRepr {
        proto,
        mode,
        level,
        reqid: 0,
        addrs,
        ports: (0, 0),
    }
}

#[test]
fn policies() {
    use Errno as E;
    let gw = Some((v4(192, 168, 0, 1), v4(192, 168, 0, 2)));
    let tun = rq(50, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, gw);
    let tr = rq(51, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_USE, None);
    let out = IPSEC_DIR_OUTBOUND;
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[tr, tun], false)),
        Ok(())
    );
    assert_eq!(
        check(&spd(SADB_X_SPDUPDATE, 0, IPSEC_DIR_FWD, &[], false)),
        Ok(())
    );
    assert_eq!(
        check(&spd(SADB_X_SPDSETIDX, 1, IPSEC_DIR_INBOUND, &[], false)),
        Ok(())
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[tun], true)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 3, out, &[], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, 0, &[tun], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, 4, &[tun], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[rq(50, 0, 2, None)], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[rq(50, 4, 2, None)], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[rq(6, 1, 2, None)], false)),
        Err(E::EINVAL)
    );
    // Linux truncates the u16 proto to u8 before checking it.
    assert_eq!(
        check(&spd(
            SADB_X_SPDADD,
            2,
            out,
            &[rq(0x0132, 1, 2, None)],
            false
        )),
        Ok(())
    );
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[rq(50, 2, 2, None)], false)),
        Err(E::EINVAL)
    );
    let use_tunnel = rq(50, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_USE, gw);
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[use_tunnel], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&spd(
            SADB_X_SPDADD,
            2,
            IPSEC_DIR_INBOUND,
            &[use_tunnel],
            false
        )),
        Ok(())
    );
    assert_eq!(check(&spd(SADB_X_SPDADD, 2, out, &[tr; 6], false)), Ok(()));
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 2, out, &[tr; 7], false)),
        Err(E::ELOOP)
    );
    // Discard/none policies' requests are not looked at.
    assert_eq!(
        check(&spd(SADB_X_SPDADD, 0, out, &[rq(6, 0, 0, None)], false)),
        Ok(())
    );
    // Tunnel endpoints of two families.
    let mut m = spd(SADB_X_SPDADD, 2, out, &[tun], false);
    let fam_at = 16 + 16 + 16 + 16; // header, policy, request, first sockaddr
    m[fam_at..fam_at + 2].copy_from_slice(&10u16.to_ne_bytes());
    assert_eq!(check(&m), Err(E::EINVAL));
    // SPDDELETE needs the selector and a direction; SPDGET an id whose low bits are a direction.
    assert_eq!(check(&spd(SADB_X_SPDDELETE, 2, out, &[], false)), Ok(()));
    assert_eq!(
        check(&spd(SADB_X_SPDDELETE, 2, 0, &[], false)),
        Err(E::EINVAL)
    );
    assert_eq!(
        check(&msg(
            SADB_X_SPDDELETE,
            0,
            &[ext(SADB_X_EXT_POLICY, &pol_body(2, 2, 0, &[]))]
        )),
        Err(E::EINVAL)
    );
    let get = |t, id| msg(t, 0, &[ext(SADB_X_EXT_POLICY, &pol_body(0, 0, id, &[]))]);
    assert_eq!(check(&get(SADB_X_SPDGET, 0x12)), Ok(()));
    assert_eq!(check(&get(SADB_X_SPDDELETE2, 0x13)), Err(E::EINVAL));
    assert_eq!(check(&msg(SADB_X_SPDGET, 0, &[])), Err(E::EINVAL));
}

#[test]
fn migrate() {
    use Errno as E;
    let (o, n) = (
        (v4(1, 1, 1, 1), v4(2, 2, 2, 2)),
        (v4(3, 3, 3, 3), v4(4, 4, 4, 4)),
    );
    let pair = |a, reqid| IpsecRequestRepr {
        proto: 50,
        mode: 2,
        level: 3,
        reqid,
        addrs: Some(a),
        ports: (0, 0),
    };
    let mig = |reqs: &[IpsecRequestRepr], dir: u8| {
        build(|w| {
            w.header(&hdr(SADB_X_MIGRATE, 3))?;
            w.kmaddress(&KmAddressRepr {
                reserved: 0,
                local: v6(1),
                remote: v6(2),
            })?;
            w.address(SADB_EXT_ADDRESS_SRC, &host(v4(10, 0, 0, 1)))?;
            w.address(SADB_EXT_ADDRESS_DST, &host(v4(10, 0, 0, 2)))?;
            w.policy(&PolicyRepr {
                policy_type: 2,
                dir,
                id: 0,
                priority: 0,
                requests: reqs,
            })
        })
    };
    assert_eq!(check(&mig(&[pair(o, 5), pair(n, 5)], 2)), Ok(()));
    assert_eq!(
        check(&mig(&[pair(o, 5), pair(n, 5), pair(o, 6), pair(n, 6)], 0)),
        Ok(())
    );
    assert_eq!(check(&mig(&[pair(o, 5)], 2)), Err(E::EINVAL));
    assert_eq!(check(&mig(&[], 2)), Err(E::EINVAL));
    assert_eq!(check(&mig(&[pair(o, 5), pair(n, 6)], 2)), Err(E::EINVAL));
    assert_eq!(check(&mig(&[pair(o, 5), pair(n, 5)], 4)), Err(E::EINVAL));
    let bare = IpsecRequestRepr {
        addrs: None,
        ports: (0, 0),
        ..pair(n, 5)
    };
    assert_eq!(check(&mig(&[pair(o, 5), bare], 2)), Err(E::EINVAL));
    // Raw: a request without endpoints at the very end.
    let r = [
        req(48, 50, 2, 3, &[sin(2, [1; 4]), sin(2, [2; 4])].concat()),
        req(16, 50, 2, 3, &[]),
    ]
    .concat();
    let m = msg(
        SADB_X_MIGRATE,
        3,
        &[
            ext(SADB_X_EXT_POLICY, &pol_body(2, 2, 0, &r)),
            ext(SADB_EXT_ADDRESS_SRC, &addr_body(32, &sin(2, [9; 4]))),
            ext(SADB_EXT_ADDRESS_DST, &addr_body(32, &sin(2, [8; 4]))),
        ],
    );
    assert_eq!(check(&m), Err(E::EINVAL));
}
