//! emit → parse returns what was emitted, for every extension and every
//! message type.

use super::*;
use crate::logic::pfkey::ext::SadbMsg;

struct All {
    sa: SaRepr,
    lifetimes: [LifetimeRepr; 3],
    addrs: [AddressRepr; 4],
    key_a: [u8; 20],
    key_e: [u8; 19],
    ident: (&'static [u8], &'static [u8]),
    sens: ([u8; 16], [u8; 8]),
    combs: [CombRepr; 2],
    algs: [AlgRepr; 3],
    spi: SpiRangeRepr,
    kmp: &'static [u8],
    reqs: [IpsecRequestRepr; 3],
    sa2: Sa2Repr,
    ctx: &'static [u8],
    kma: KmAddressRepr,
    filter: FilterRepr,
}

fn all(v6_addrs: bool) -> All {
    let (a, b, c, d) = if v6_addrs {
        (v6(1), v6(2), v6(3), v6(4))
    } else {
        (
            v4(10, 0, 0, 1),
            v4(10, 0, 0, 2),
            v4(192, 168, 1, 0),
            v4(172, 16, 0, 9),
        )
    };
    let comb = |n: u8| CombRepr {
        auth: n,
        encrypt: n + 1,
        flags: 0x0102,
        auth_minbits: 128,
        auth_maxbits: 160,
        encrypt_minbits: 192,
        encrypt_maxbits: 256,
        soft_allocations: 1,
        hard_allocations: 2,
        soft_bytes: 3,
        hard_bytes: 4,
        soft_addtime: 20 * 3600,
        hard_addtime: 24 * 3600,
        soft_usetime: 7 * 3600,
        hard_usetime: 8 * 3600,
    };
    All {
        sa: SaRepr {
            spi: 0xdead_beef,
            replay: 32,
            state: 1,
            auth: 2,
            encrypt: 12,
            flags: SADB_SAFLAGS_NOECN | 1,
        },
        lifetimes: [
            LifetimeRepr {
                allocations: 1,
                bytes: 2,
                addtime: 3,
                usetime: 4,
            },
            LifetimeRepr {
                allocations: 5,
                bytes: u64::MAX,
                addtime: 7,
                usetime: 8,
            },
            LifetimeRepr {
                allocations: u32::MAX,
                bytes: 10,
                addtime: 11,
                usetime: 12,
            },
        ],
        addrs: [
            AddressRepr {
                proto: 6,
                prefixlen: a.max_prefix(),
                addr: a,
                port: 500,
            },
            AddressRepr {
                proto: 17,
                prefixlen: b.max_prefix() - 8,
                addr: b,
                port: 4500,
            },
            AddressRepr {
                proto: 255,
                prefixlen: 0,
                addr: c,
                port: 0,
            },
            host(d),
        ],
        key_a: [0xab; 20],
        key_e: [0xcd; 19],
        ident: (b"alice@example.org", b"gw.example.org"),
        sens: ([1; 16], [2; 8]),
        combs: [comb(2), comb(3)],
        algs: [
            AlgRepr {
                id: 2,
                ivlen: 0,
                min_bits: 128,
                max_bits: 128,
            },
            AlgRepr {
                id: 12,
                ivlen: 8,
                min_bits: 128,
                max_bits: 256,
            },
            AlgRepr {
                id: 28,
                ivlen: 8,
                min_bits: 288,
                max_bits: 288,
            },
        ],
        spi: SpiRangeRepr {
            min: 0x100,
            max: 0x0fff_ffff,
        },
        kmp: b"opaque-km-data",
        reqs: [
            IpsecRequestRepr {
                proto: 50,
                mode: 1,
                level: 2,
                reqid: 0,
                addrs: None,
                ports: (0, 0),
            },
            IpsecRequestRepr {
                proto: 51,
                mode: 2,
                level: 3,
                reqid: 0x3fff,
                addrs: Some((c, d)),
                ports: (500, 4500),
            },
            IpsecRequestRepr {
                proto: 108,
                mode: 2,
                level: 1,
                reqid: 9,
                addrs: Some((a, b)),
                ports: (0, 0),
            },
        ],
        sa2: Sa2Repr {
            mode: 2,
            sequence: 77,
            reqid: 1234,
        },
        ctx: b"system_u:object_r:ipsec_spd_t:s0",
        kma: KmAddressRepr {
            reserved: 5,
            local: a,
            remote: b,
        },
        filter: FilterRepr {
            saddr: [1; 16],
            daddr: [2; 16],
            family: 10,
            splen: 64,
            dplen: 128,
        },
    }
}

fn emit_all(w: &mut MsgWriter<'_>, h: &MsgHeader, x: &All) -> Result<(), Errno> {
    w.header(h)?;
    w.sa(&x.sa)?;
    for (t, l) in [
        SADB_EXT_LIFETIME_CURRENT,
        SADB_EXT_LIFETIME_HARD,
        SADB_EXT_LIFETIME_SOFT,
    ]
    .into_iter()
    .zip(&x.lifetimes)
    {
        w.lifetime(t, l)?;
    }
    for (t, a) in [
        SADB_EXT_ADDRESS_SRC,
        SADB_EXT_ADDRESS_DST,
        SADB_EXT_ADDRESS_PROXY,
        SADB_X_EXT_NAT_T_OA,
    ]
    .into_iter()
    .zip(&x.addrs)
    {
        w.address(t, a)?;
    }
    w.key(
        SADB_EXT_KEY_AUTH,
        &KeyRepr {
            bits: 160,
            key: &x.key_a,
        },
    )?;
    w.key(
        SADB_EXT_KEY_ENCRYPT,
        &KeyRepr {
            bits: 150,
            key: &x.key_e,
        },
    )?;
    w.identity(
        SADB_EXT_IDENTITY_SRC,
        &IdentityRepr {
            ident_type: SADB_IDENTTYPE_USERFQDN,
            id: 1,
            data: x.ident.0,
        },
    )?;
    w.identity(
        SADB_EXT_IDENTITY_DST,
        &IdentityRepr {
            ident_type: SADB_IDENTTYPE_FQDN,
            id: 2,
            data: x.ident.1,
        },
    )?;
    w.sensitivity(&SensRepr {
        dpd: 1,
        sens_level: 2,
        integ_level: 3,
        sens_bitmap: &x.sens.0,
        integ_bitmap: &x.sens.1,
    })?;
    w.proposal(&ProposalRepr {
        replay: 32,
        combs: &x.combs,
    })?;
    w.supported(
        SADB_EXT_SUPPORTED_AUTH,
        &SupportedRepr { algs: &x.algs[..1] },
    )?;
    w.supported(
        SADB_EXT_SUPPORTED_ENCRYPT,
        &SupportedRepr { algs: &x.algs[1..] },
    )?;
    w.spirange(&x.spi)?;
    w.kmprivate(x.kmp)?;
    w.policy(&PolicyRepr {
        policy_type: IPSEC_POLICY_IPSEC,
        dir: IPSEC_DIR_OUTBOUND,
        id: 0x41,
        priority: 0x8000_0000,
        requests: &x.reqs,
    })?;
    w.sa2(&x.sa2)?;
    w.nat_t_type(UDP_ENCAP_ESPINUDP)?;
    w.nat_t_port(SADB_X_EXT_NAT_T_SPORT, 4500)?;
    w.nat_t_port(SADB_X_EXT_NAT_T_DPORT, 65535)?;
    w.sec_ctx(&SecCtxRepr {
        alg: 1,
        doi: 1,
        ctx: x.ctx,
    })?;
    w.kmaddress(&x.kma)?;
    w.filter(&x.filter)
}

fn check_all(p: &Parsed<'_>, h: &MsgHeader, x: &All) {
    assert_eq!(p.header(), *h);
    assert_eq!(p.ext_types().count(), SADB_EXT_MAX as usize);
    assert_eq!(p.sa(), Some(x.sa));
    assert_eq!(p.lifetime_current(), Some(x.lifetimes[0]));
    assert_eq!(p.lifetime_hard(), Some(x.lifetimes[1]));
    assert_eq!(p.lifetime_soft(), Some(x.lifetimes[2]));
    assert_eq!(p.address_src(), Some(x.addrs[0]));
    assert_eq!(p.address_dst(), Some(x.addrs[1]));
    assert_eq!(p.address_proxy(), Some(x.addrs[2]));
    assert_eq!(p.nat_t_oa(), Some(x.addrs[3]));
    assert_eq!(
        p.key_auth(),
        Some(KeyRepr {
            bits: 160,
            key: &x.key_a[..]
        })
    );
    assert_eq!(
        p.key_encrypt(),
        Some(KeyRepr {
            bits: 150,
            key: &x.key_e[..]
        })
    );
    assert_eq!(p.identity_src().unwrap().data, x.ident.0);
    assert_eq!(
        p.identity_src().unwrap().ident_type,
        SADB_IDENTTYPE_USERFQDN
    );
    assert_eq!(
        p.identity_dst(),
        Some(IdentityRepr {
            ident_type: SADB_IDENTTYPE_FQDN,
            id: 2,
            data: x.ident.1
        })
    );
    assert_eq!(
        p.sensitivity(),
        Some(SensRepr {
            dpd: 1,
            sens_level: 2,
            integ_level: 3,
            sens_bitmap: &x.sens.0,
            integ_bitmap: &x.sens.1
        })
    );
    let prop = p.proposal().unwrap();
    assert_eq!(prop.replay, 32);
    assert_eq!(prop.combs().collect::<StdVec<_>>(), x.combs);
    assert_eq!(
        p.supported_auth().unwrap().algs().collect::<StdVec<_>>(),
        x.algs[..1]
    );
    assert_eq!(
        p.supported_encrypt().unwrap().algs().collect::<StdVec<_>>(),
        x.algs[1..]
    );
    assert_eq!(p.spirange(), Some(x.spi));
    // kmprivate comes back padded to 8 bytes.
    assert_eq!(&p.kmprivate().unwrap()[..x.kmp.len()], x.kmp);
    let pol = p.policy().unwrap();
    assert_eq!(
        (pol.policy_type, pol.dir, pol.id, pol.priority),
        (IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, 0x41, 0x8000_0000)
    );
    assert_eq!(pol.requests().collect::<StdVec<_>>(), x.reqs);
    assert_eq!(p.sa2(), Some(x.sa2));
    assert_eq!(p.nat_t_type(), Some(UDP_ENCAP_ESPINUDP));
    assert_eq!(p.nat_t_sport(), Some(4500));
    assert_eq!(p.nat_t_dport(), Some(65535));
    assert_eq!(
        p.sec_ctx(),
        Some(SecCtxRepr {
            alg: 1,
            doi: 1,
            ctx: x.ctx
        })
    );
    assert_eq!(p.kmaddress(), Some(x.kma));
    assert_eq!(p.filter(), Some(x.filter));
}

#[test]
fn every_extension_every_message_type() {
    for fam6 in [false, true] {
        let x = all(fam6);
        for msg_type in 1..=SADB_MAX {
            let h = MsgHeader {
                msg_type,
                errno: 0,
                satype: SADB_SATYPE_ESP,
                reserved: 0,
                seq: 0x0102_0304,
                pid: 99,
            };
            let buf = build(|w| emit_all(w, &h, &x));
            let p = parse(&buf).unwrap_or_else(|e| panic!("type {msg_type}: {e:?}"));
            check_all(&p, &h, &x);
            assert_eq!(usize::from(p.len_words()) * 8, buf.len());
        }
    }
}

#[test]
fn raw_passthrough_rebuilds_identical_bytes() {
    let x = all(true);
    let h = hdr(SADB_DUMP, SADB_SATYPE_AH);
    let buf = build(|w| emit_all(w, &h, &x));
    let p = parse(&buf).unwrap();
    let again = build(|w| {
        w.header(&p.header())?;
        for (t, e) in p.raw_exts() {
            assert_eq!(p.ext(t), Some(e));
            w.raw(e)?;
        }
        Ok(())
    });
    assert_eq!(again, buf);
}

#[test]
fn header_only_messages_and_reply_reserved() {
    for msg_type in 1..=SADB_MAX {
        let h = MsgHeader {
            msg_type,
            errno: 22,
            satype: 9,
            reserved: 0,
            seq: u32::MAX,
            pid: 1,
        };
        let buf = build(|w| w.header(&h));
        assert_eq!(buf.len(), 16);
        assert_eq!(parse(&buf).unwrap().header(), h);
    }
    // Linux replies to SPDGET with the policy refcount in sadb_msg_reserved.
    let h = MsgHeader {
        reserved: 2,
        ..hdr(SADB_X_SPDGET, 0)
    };
    let buf = build(|w| w.header(&h));
    assert_eq!(parse(&buf).unwrap_err(), Errno::EINVAL);
    assert_eq!(parse_reply(&buf).unwrap().header(), h);
}

#[test]
fn writer_rejects_misuse() {
    let mut w = MsgWriter::counter();
    assert_eq!(w.sa(&SaRepr::default()), Err(Errno::EINVAL)); // no header yet
    w.header(&hdr(SADB_ADD, 3)).unwrap();
    assert_eq!(w.header(&hdr(SADB_ADD, 3)), Err(Errno::EINVAL));
    assert_eq!(
        w.lifetime(SADB_EXT_SA, &LifetimeRepr::default()),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.address(SADB_EXT_KEY_AUTH, &host(v4(1, 2, 3, 4))),
        Err(Errno::EINVAL)
    );
    let bad = AddressRepr {
        prefixlen: 33,
        ..host(v4(1, 2, 3, 4))
    };
    assert_eq!(w.address(SADB_EXT_ADDRESS_SRC, &bad), Err(Errno::EINVAL));
    assert_eq!(
        w.key(
            SADB_EXT_KEY_AUTH,
            &KeyRepr {
                bits: 129,
                key: &[0; 16]
            }
        ),
        Err(Errno::EINVAL)
    );
    assert_eq!(w.nat_t_port(SADB_X_EXT_NAT_T_OA, 1), Err(Errno::EINVAL));
    let mixed = KmAddressRepr {
        reserved: 0,
        local: v4(1, 1, 1, 1),
        remote: v6(1),
    };
    assert_eq!(w.kmaddress(&mixed), Err(Errno::EINVAL));
    let rq = [IpsecRequestRepr {
        proto: 50,
        mode: 2,
        level: 2,
        reqid: 0,
        addrs: Some((v4(1, 1, 1, 1), v6(2))),
        ports: (0, 0),
    }];
    let pol = PolicyRepr {
        policy_type: 2,
        dir: 2,
        id: 0,
        priority: 0,
        requests: &rq,
    };
    // Counting cannot see the mixed pair; writing does.
    let mut buf = [0u8; 128];
    let mut w2 = MsgWriter::new(&mut buf);
    w2.header(&hdr(SADB_X_SPDADD, 0)).unwrap();
    assert_eq!(w2.policy(&pol), Err(Errno::EINVAL));
    assert_eq!(
        w.sensitivity(&SensRepr {
            dpd: 0,
            sens_level: 0,
            integ_level: 0,
            sens_bitmap: &[0; 7],
            integ_bitmap: &[]
        }),
        Err(Errno::EINVAL)
    );
    assert_eq!(w.raw(&[1, 0, 1, 0, 0, 0, 0]), Err(Errno::EINVAL));
    assert_eq!(w.raw(&[2, 0, 1, 0, 0, 0, 0, 0]), Err(Errno::EINVAL));
}

#[test]
fn writer_reports_full_buffer_and_huge_messages() {
    let mut small = [0u8; 24];
    let mut w = MsgWriter::new(&mut small);
    w.header(&hdr(SADB_GET, 3)).unwrap();
    assert_eq!(w.sa(&SaRepr::default()), Err(Errno::ENOBUFS));
    assert_eq!(w.len(), 16);
    let mut c = MsgWriter::counter();
    c.header(&hdr(SADB_GET, 3)).unwrap();
    let big = std::vec![0u8; 300_000];
    c.kmprivate(&big).unwrap();
    // Past what sadb_msg_len (or one sadb_ext_len) can describe.
    assert_eq!(c.kmprivate(&big), Err(Errno::EMSGSIZE));
    assert_eq!(c.kmprivate(&std::vec![0u8; 600_000]), Err(Errno::EMSGSIZE));
    // Into a buffer with stale bytes: every byte of the message is written.
    let mut dirty = [0xffu8; 64];
    let n = build_into(&mut dirty, &mut |w: &mut MsgWriter<'_>| {
        w.header(&hdr(SADB_GET, 3))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(v4(1, 2, 3, 4)))
    })
    .unwrap();
    assert_eq!(n, 40);
    assert_eq!(SadbMsg::new_checked(&dirty[..]).unwrap().len(), 5);
    assert_eq!(&dirty[24 + 8..40], &[0; 8]); // sin_zero
    assert_eq!(&dirty[40..], &[0xff; 24]);
    assert!(parse(&dirty[..n]).is_ok());
}
