//! Golden tests of `setkey -D`/`-DP` text, from replies made with the codec.

use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::*;
use setkey::dump::{hexdump, sadump, spdump, str_time, DumpCtx};

const NOW: u64 = 1_700_000_000; // Tue Nov 14 22:13:20 2023 UTC
const CTX: DumpCtx = DumpCtx {
    now: NOW,
    tz_offset: 0,
    withports: false,
};

fn hdr(msg_type: u8, satype: u8, seq: u32, reserved: u16) -> MsgHeader {
    MsgHeader {
        msg_type,
        errno: 0,
        satype,
        reserved,
        seq,
        pid: 123,
    }
}

fn addr(a: [u8; 4], prefixlen: u8, proto: u8, port: u16) -> AddressRepr {
    AddressRepr {
        proto,
        prefixlen,
        addr: IpAddr::V4(a),
        port,
    }
}

fn life(addtime: u64, usetime: u64, bytes: u64, allocations: u32) -> LifetimeRepr {
    LifetimeRepr {
        allocations,
        bytes,
        addtime,
        usetime,
    }
}

fn sa_msg(
    satype: u8,
    sa: SaRepr,
    mode: u8,
    enc: Option<&[u8]>,
    auth: Option<&[u8]>,
    lifetimes: bool,
) -> Vec<u8> {
    build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&hdr(SADB_DUMP, satype, 1, 0))?;
        w.sa(&sa)?;
        if lifetimes {
            w.lifetime(SADB_EXT_LIFETIME_CURRENT, &life(NOW - 10, 0, 0, 0))?;
        }
        w.address(SADB_EXT_ADDRESS_SRC, &addr([10, 1, 1, 1], 32, 255, 0))?;
        w.address(SADB_EXT_ADDRESS_DST, &addr([20, 1, 1, 1], 32, 255, 0))?;
        if let Some(k) = auth {
            w.key(
                SADB_EXT_KEY_AUTH,
                &KeyRepr {
                    bits: k.len() as u16 * 8,
                    key: k,
                },
            )?;
        }
        if let Some(k) = enc {
            w.key(
                SADB_EXT_KEY_ENCRYPT,
                &KeyRepr {
                    bits: k.len() as u16 * 8,
                    key: k,
                },
            )?;
        }
        w.sa2(&Sa2Repr {
            mode,
            sequence: 0,
            reqid: 0,
        })
    })
    .unwrap()
    .to_vec()
}

fn sa(spi: u32, auth: u8, encrypt: u8, flags: u32) -> SaRepr {
    SaRepr {
        spi,
        replay: 0,
        state: SADB_SASTATE_MATURE,
        auth,
        encrypt,
        flags,
    }
}

#[test]
fn esp_3des_transport_sa_like_ipsec_tools() {
    let m = sa_msg(
        SADB_SATYPE_ESP,
        sa(9876, 0, SADB_EALG_3DESCBC, 0x40),
        1,
        Some(b"hogehogehogehogehogehoge"),
        None,
        true,
    );
    let got = sadump(&parse_reply(&m).unwrap(), &CTX);
    let want = "10.1.1.1 20.1.1.1 \n\
\tesp mode=transport spi=9876(0x00002694) reqid=0(0x00000000)\n\
\tE: 3des-cbc  686f6765 686f6765 686f6765 686f6765 686f6765 686f6765\n\
\tseq=0x00000000 replay=0 flags=0x00000040 state=mature \n\
\tcreated: Nov 14 22:13:10 2023\tcurrent: Nov 14 22:13:20 2023\n\
\tdiff: 10(s)\thard: 0(s)\tsoft: 0(s)\n\
\tlast:                     \thard: 0(s)\tsoft: 0(s)\n\
\tcurrent: 0(bytes)\thard: 0(bytes)\tsoft: 0(bytes)\n\
\tallocated: 0\thard: 0\tsoft: 0\n\
\tsadb_seq=1 pid=123 refcnt=0\n";
    assert_eq!(got, want);
}

#[test]
fn ah_and_esp_auth_with_lifetimes_and_long_key() {
    let key: Vec<u8> = (0u8..40).collect();
    let m = build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&hdr(SADB_DUMP, SADB_SATYPE_ESP, 0, 2))?;
        w.sa(&SaRepr {
            spi: 0x1000,
            replay: 32,
            state: SADB_SASTATE_DYING,
            auth: SADB_AALG_SHA1HMAC,
            encrypt: SADB_X_EALG_AESCBC,
            flags: 0,
        })?;
        w.lifetime(
            SADB_EXT_LIFETIME_CURRENT,
            &life(NOW - 100, NOW - 5, 4096, 3),
        )?;
        w.lifetime(SADB_EXT_LIFETIME_HARD, &life(3600, 60, 1_000_000, 10))?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &life(3000, 50, 900_000, 9))?;
        w.address(SADB_EXT_ADDRESS_SRC, &addr([10, 0, 0, 1], 32, 255, 500))?;
        w.address(SADB_EXT_ADDRESS_DST, &addr([10, 0, 0, 2], 32, 255, 0))?;
        w.key(
            SADB_EXT_KEY_AUTH,
            &KeyRepr {
                bits: 160,
                key: &key[..20],
            },
        )?;
        w.key(
            SADB_EXT_KEY_ENCRYPT,
            &KeyRepr {
                bits: 320,
                key: &key,
            },
        )?;
        w.sa2(&Sa2Repr {
            mode: 2,
            sequence: 0x2a,
            reqid: 16385,
        })
    })
    .unwrap();
    let got = sadump(
        &parse_reply(&m).unwrap(),
        &DumpCtx {
            withports: true,
            ..CTX
        },
    );
    let want = "10.0.0.1[500] 10.0.0.2[0] \n\
\tesp mode=tunnel spi=4096(0x00001000) reqid=16385(0x00004001)\n\
\tE: aes-cbc  00010203 04050607 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f\n 20212223 24252627\n\
\tA: hmac-sha1  00010203 04050607 08090a0b 0c0d0e0f 10111213\n\
\tseq=0x0000002a replay=32 flags=0x00000000 state=dying \n\
\tcreated: Nov 14 22:11:40 2023\tcurrent: Nov 14 22:13:20 2023\n\
\tdiff: 100(s)\thard: 3600(s)\tsoft: 3000(s)\n\
\tlast: Nov 14 22:13:15 2023\thard: 60(s)\tsoft: 50(s)\n\
\tcurrent: 4096(bytes)\thard: 1000000(bytes)\tsoft: 900000(bytes)\n\
\tallocated: 3\thard: 10\tsoft: 9\n\
\tsadb_seq=0 pid=123 refcnt=2\n";
    assert_eq!(got, want);
}

#[test]
fn ah_only_and_ipcomp_quirk() {
    let m = sa_msg(
        SADB_SATYPE_AH,
        sa(9877, SADB_AALG_MD5HMAC, 0, 0x40),
        0,
        None,
        Some(b"hogehogehogehoge"),
        false,
    );
    let got = sadump(&parse_reply(&m).unwrap(), &CTX);
    assert_eq!(
        got,
        "10.1.1.1 20.1.1.1 \n\tah mode=any spi=9877(0x00002695) reqid=0(0x00000000)\n\
\tA: hmac-md5  686f6765 686f6765 686f6765 686f6765\n\
\tseq=0x00000000 replay=0 flags=0x00000040 state=mature \n\tsadb_seq=1 pid=123 refcnt=0\n"
    );
    // ipsec-tools prints no newline after IPComp's C: line.
    let m = sa_msg(
        SADB_X_SATYPE_IPCOMP,
        sa(0x4000, 0, SADB_X_CALG_DEFLATE, 0xc0),
        1,
        None,
        None,
        false,
    );
    let got = sadump(&parse_reply(&m).unwrap(), &CTX);
    assert_eq!(
        got,
        "10.1.1.1 20.1.1.1 \n\tipcomp mode=transport spi=16384(0x00004000) reqid=0(0x00000000)\n\
\tC: deflate \tseq=0x00000000 replay=0 flags=0x000000c0 state=mature \n\tsadb_seq=1 pid=123 refcnt=0\n"
    );
}

fn sp_msg(src: AddressRepr, dst: AddressRepr, pol: PolicyRepr<'_>, seq: u32) -> Vec<u8> {
    build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&hdr(SADB_X_SPDDUMP, 0, seq, 1))?;
        w.address(SADB_EXT_ADDRESS_SRC, &src)?;
        w.address(SADB_EXT_ADDRESS_DST, &dst)?;
        w.lifetime(SADB_EXT_LIFETIME_CURRENT, &life(NOW - 10, 0, 0, 0))?;
        w.lifetime(SADB_EXT_LIFETIME_HARD, &life(0, 0, 0, 0))?;
        w.policy(&pol)
    })
    .unwrap()
    .to_vec()
}

fn rq(
    proto: u16,
    mode: u8,
    level: u8,
    reqid: u32,
    addrs: Option<(IpAddr, IpAddr)>,
) -> IpsecRequestRepr {
    IpsecRequestRepr {
        proto,
        mode,
        level,
        reqid,
        addrs,
        ports: (0, 0),
    }
}

#[test]
fn spd_transport_policy_like_ipsec_tools() {
    let reqs = [rq(50, 1, IPSEC_LEVEL_USE, 0, None)];
    let pol = PolicyRepr {
        policy_type: IPSEC_POLICY_IPSEC,
        dir: IPSEC_DIR_OUTBOUND,
        id: 1,
        priority: 0x8000_0000,
        requests: &reqs,
    };
    let m = sp_msg(
        addr([10, 1, 1, 1], 32, 255, 0),
        addr([20, 1, 1, 1], 32, 255, 0),
        pol,
        0,
    );
    let got = spdump(&parse_reply(&m).unwrap(), &CTX);
    let want = "10.1.1.1[any] 20.1.1.1[any] any\n\
\tout prio def ipsec\n\
\tesp/transport//use\n\
\tcreated: Nov 14 22:13:10 2023  lastused:                     \n\
\tlifetime: 0(s) validtime: 0(s)\n\
\tspid=1 seq=0 pid=123\n\
\trefcnt=1\n";
    assert_eq!(got, want);
}

#[test]
fn spd_tunnel_ports_priorities_reqids() {
    let t = Some((IpAddr::V4([20, 0, 0, 1]), IpAddr::V4([20, 0, 0, 2])));
    let reqs = [
        rq(50, 2, IPSEC_LEVEL_REQUIRE, 0, t),
        rq(51, 1, IPSEC_LEVEL_UNIQUE, 7, None),
        rq(108, 1, IPSEC_LEVEL_UNIQUE, 16385, None),
    ];
    let pol = PolicyRepr {
        policy_type: IPSEC_POLICY_IPSEC,
        dir: IPSEC_DIR_INBOUND,
        id: 8,
        priority: 0x8000_0000 - 5,
        requests: &reqs,
    };
    let m = sp_msg(
        addr([10, 0, 1, 0], 24, 6, 110),
        addr([10, 0, 2, 0], 24, 6, 0),
        pol,
        3,
    );
    let got = spdump(&parse_reply(&m).unwrap(), &CTX);
    assert!(
        got.starts_with(
            "10.0.1.0/24[110] 10.0.2.0/24[any] tcp\n\tin prio def + 5 ipsec\n\
\tesp/tunnel/20.0.0.1-20.0.0.2/require\n\tah/transport//unique:7\n\tipcomp/transport//unique#16385\n"
        ),
        "{got}"
    );
    assert!(
        got.ends_with("\tspid=8 seq=3 pid=123\n\trefcnt=1\n"),
        "{got}"
    );

    let cases = [
        (0, "out none"),
        (0x8000_0000 + 3, "out prio def - 3 none"),
        (0x4000_0000, "out prio high none"),
        (0x4000_0000 - 2, "out prio high + 2 none"),
        (0xC000_0000 + 1, "out prio low - 1 none"),
    ];
    for (prio, want) in cases {
        let pol = PolicyRepr {
            policy_type: IPSEC_POLICY_NONE,
            dir: IPSEC_DIR_OUTBOUND,
            id: 1,
            priority: prio,
            requests: &[],
        };
        let m = sp_msg(
            addr([1, 1, 1, 1], 32, 255, 0),
            addr([2, 2, 2, 2], 32, 255, 0),
            pol,
            0,
        );
        let got = spdump(&parse_reply(&m).unwrap(), &CTX);
        assert!(got.contains(&format!("\n\t{want}\n")), "{prio:#x}: {got}");
    }
}

#[test]
fn spd_tunnel_endpoint_ports() {
    // `spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec
    // esp/tunnel/10.0.0.1[500]-10.0.0.2[4500]/require ah/tunnel/...`: the
    // first request's sockaddrs carry ports, the second's are zero.
    let reqs = [
        IpsecRequestRepr {
            ports: (500, 4500),
            ..rq(
                50,
                2,
                IPSEC_LEVEL_REQUIRE,
                0,
                Some((IpAddr::V4([10, 0, 0, 1]), IpAddr::V4([10, 0, 0, 2]))),
            )
        },
        rq(
            51,
            2,
            IPSEC_LEVEL_USE,
            0,
            Some((IpAddr::V4([10, 0, 0, 3]), IpAddr::V4([10, 0, 0, 4]))),
        ),
    ];
    let pol = PolicyRepr {
        policy_type: IPSEC_POLICY_IPSEC,
        dir: IPSEC_DIR_OUTBOUND,
        id: 9,
        priority: 0x8000_0000,
        requests: &reqs,
    };
    let m = sp_msg(
        addr([10, 0, 1, 0], 24, 255, 0),
        addr([10, 0, 2, 0], 24, 255, 0),
        pol,
        0,
    );
    let p = parse_reply(&m).unwrap();
    let tail = "\tcreated: Nov 14 22:13:10 2023  lastused:                     \n\
\tlifetime: 0(s) validtime: 0(s)\n\
\tspid=9 seq=0 pid=123\n\
\trefcnt=1\n";
    // Without -p: addresses only (ipsec_dump_policy).
    let want = format!(
        "10.0.1.0/24[any] 10.0.2.0/24[any] any\n\
\tout prio def ipsec\n\
\tesp/tunnel/10.0.0.1-10.0.0.2/require\n\
\tah/tunnel/10.0.0.3-10.0.0.4/use\n{tail}"
    );
    assert_eq!(spdump(&p, &CTX), want);
    // With -p: set_address() prints every end point as addr[port], a zero
    // port included (ipsec_dump_policy_withports).
    let withports = DumpCtx {
        withports: true,
        ..CTX
    };
    let want = format!(
        "10.0.1.0/24[any] 10.0.2.0/24[any] any\n\
\tout prio def ipsec\n\
\tesp/tunnel/10.0.0.1[500]-10.0.0.2[4500]/require\n\
\tah/tunnel/10.0.0.3[0]-10.0.0.4[0]/use\n{tail}"
    );
    assert_eq!(spdump(&p, &withports), want);
}

#[test]
fn spd_icmp_type_code_and_per_socket() {
    let pol = PolicyRepr {
        policy_type: IPSEC_POLICY_DISCARD,
        dir: IPSEC_DIR_OUTBOUND,
        id: 1,
        priority: 0x8000_0000,
        requests: &[],
    };
    let m = sp_msg(
        addr([0, 0, 0, 0], 0, 1, 8),
        addr([0, 0, 0, 0], 0, 1, 0),
        pol,
        0,
    );
    let got = spdump(&parse_reply(&m).unwrap(), &CTX);
    assert!(
        got.starts_with("0.0.0.0/0 0.0.0.0/0 icmp 8,0\n\tout prio def discard\n"),
        "{got}"
    );
    let pol = PolicyRepr { id: 4, ..pol };
    let m = sp_msg(
        addr([0, 0, 0, 0], 0, 255, 0),
        addr([0, 0, 0, 0], 0, 255, 0),
        pol,
        0,
    );
    assert!(spdump(&parse_reply(&m).unwrap(), &CTX)
        .starts_with("(per-socket policy) \n\tout prio def discard\n"));
}

#[test]
fn helpers() {
    assert_eq!(hexdump(&[]), "");
    assert_eq!(hexdump(&[1, 2, 3, 4, 5]), " 01020304 05");
    assert_eq!(str_time(0, 0), " ".repeat(20));
    assert_eq!(str_time(NOW, 0), "Nov 14 22:13:20 2023");
    assert_eq!(str_time(NOW, 9 * 3600), "Nov 15 07:13:20 2023");
    assert_eq!(str_time(951_782_400, 0), "Feb 29 00:00:00 2000");
    assert_eq!(str_time(86_400 * 3, 0), "Jan  4 00:00:00 1970");
}

#[test]
fn rxfrm_error_counters_print_before_sadb_seq() {
    let sa = SaRepr {
        spi: 0x1234,
        replay: 32,
        state: SADB_SASTATE_MATURE,
        auth: 0,
        encrypt: SADB_X_EALG_AES_GCM_ICV16,
        flags: 0x400,
    };
    let mut m = sa_msg(SADB_SATYPE_ESP, sa, 0, Some(&[1; 20]), None, true);
    let plain = sadump(&parse_reply(&m).unwrap(), &CTX);
    assert!(!plain.contains("stats:"));
    // Append the counters extension and fix the message length.
    let ext = build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&hdr(SADB_DUMP, SADB_SATYPE_ESP, 1, 0))?;
        w.rxfrm_stats(Some(&SaStatsRepr {
            replay: 5,
            integrity_failed: 2,
        }))
    })
    .unwrap();
    m.extend_from_slice(&ext[16..]);
    let words = (m.len() / 8) as u16;
    m[4..6].copy_from_slice(&words.to_ne_bytes());
    let text = sadump(&parse_reply(&m).unwrap(), &CTX);
    assert!(text.contains("flags=0x00000400 state=mature"), "{text}");
    assert!(
        text.contains("\tstats: replay=5 integrity_failed=2\n\tsadb_seq=1 "),
        "{text}"
    );
}
