//! AST → PF_KEY messages → decoded by the codec: every message setkey
//! builds must pass af_key's own checks and carry what the user wrote.

use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::{check_required, parse};
use setkey::ast::{flags, prio, AddrOpts, Command};
use setkey::msg::{build, MsgCtx};
use setkey::parser::parse_all;

fn no_dns(name: &str, _: AddrOpts) -> Result<Vec<IpAddr>, String> {
    match name {
        "A" => Ok(vec![IpAddr::V4([192, 0, 2, 1])]),
        "B" => Ok(vec![IpAddr::V4([192, 0, 2, 2])]),
        "dual" => Ok(vec![
            IpAddr::V4([192, 0, 2, 3]),
            IpAddr::V6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]),
        ]),
        _ => Err("Name or service not known".into()),
    }
}

fn cmd(src: &str) -> Command {
    parse_all(src).remove(0).unwrap().cmd
}

fn msgs_rfc(src: &str, rfc: bool) -> Vec<Vec<u8>> {
    let ctx = MsgCtx {
        pid: 4242,
        rfc,
        resolve: &no_dns,
    };
    let out = build(&cmd(src), &ctx).unwrap_or_else(|e| panic!("{src}: {e}"));
    for m in &out {
        let p = parse(m).unwrap_or_else(|e| panic!("{src}: codec rejects: {e}"));
        check_required(p.msg_type(), &p)
            .unwrap_or_else(|e| panic!("{src}: af_key checks reject: {e}"));
        assert_eq!((p.pid(), p.errno()), (4242, 0));
    }
    out
}

fn msgs(src: &str) -> Vec<Vec<u8>> {
    msgs_rfc(src, false)
}

fn err(src: &str) -> String {
    let ctx = MsgCtx {
        pid: 1,
        rfc: false,
        resolve: &no_dns,
    };
    build(&cmd(src), &ctx).unwrap_err().to_string()
}

#[test]
fn faq_3des_add_round_trips() {
    let m = msgs(r#"add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";"#);
    assert_eq!(m.len(), 1);
    let p = parse(&m[0]).unwrap();
    assert_eq!((p.msg_type(), p.satype()), (SADB_ADD, SADB_SATYPE_ESP));
    let sa = p.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.encrypt, sa.auth, sa.flags, sa.replay, sa.state),
        (9876, SADB_EALG_3DESCBC, 0, flags::CYCSEQ, 0, 0)
    );
    let k = p.key_encrypt().unwrap();
    assert_eq!((k.bits, k.key), (192, &b"hogehogehogehogehogehoge"[..]));
    assert!(p.key_auth().is_none());
    let sa2 = p.sa2().unwrap();
    assert_eq!((sa2.mode, sa2.reqid), (IPSEC_MODE_ANY, 0));
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!(
        (s.addr, s.prefixlen, s.proto, s.port),
        (IpAddr::V4([10, 1, 1, 1]), 32, IPSEC_ULPROTO_ANY, 0)
    );
    assert_eq!(d.addr, IpAddr::V4([20, 1, 1, 1]));
    assert!(p.lifetime_hard().is_none() && p.lifetime_soft().is_none());
}

#[test]
fn faq_every_sa_example_encodes() {
    let cases = [
        (
            r#"add 20.1.1.1 10.1.1.1 esp 10000 -E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef;"#,
            SADB_EALG_3DESCBC,
            0,
            192,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 9876 -E rijndael-cbc "hogehogehogehoge";"#,
            SADB_X_EALG_AESCBC,
            0,
            128,
        ),
        (
            r#"add 20.1.1.1 10.1.1.1 esp 10000 -E rijndael-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;"#,
            SADB_X_EALG_AESCBC,
            0,
            128,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 9877 -A hmac-md5 "hogehogehogehoge";"#,
            0,
            SADB_AALG_MD5HMAC,
            128,
        ),
        (
            r#"add 20.1.1.1 10.1.1.1 ah 10001 -A hmac-md5 "mogamogamogamoga";"#,
            0,
            SADB_AALG_MD5HMAC,
            128,
        ),
        (
            r#"add 20.0.0.1 20.0.0.2 esp 13245 -E blowfish-cbc "blowfishtest.001" ;"#,
            SADB_X_EALG_BLOWFISHCBC,
            0,
            128,
        ),
        (
            r#"add 20.0.0.2 20.0.0.1 esp 13246 -E blowfish-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;"#,
            SADB_X_EALG_BLOWFISHCBC,
            0,
            128,
        ),
        (
            r#"add 10.0.1.1 10.0.1.5 esp 1011 -E rijndael-cbc "rijndaeltest.001" ;"#,
            SADB_X_EALG_AESCBC,
            0,
            128,
        ),
        (
            r#"add 10.0.1.5 10.0.1.1 esp 1012 -E rijndael-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;"#,
            SADB_X_EALG_AESCBC,
            0,
            128,
        ),
    ];
    for (src, enc, auth, bits) in cases {
        let m = msgs(src);
        let p = parse(&m[0]).unwrap();
        let sa = p.sa().unwrap();
        assert_eq!((sa.encrypt, sa.auth), (enc, auth), "{src}");
        let key = if enc != 0 {
            p.key_encrypt()
        } else {
            p.key_auth()
        }
        .unwrap();
        assert_eq!(key.bits, bits, "{src}");
    }
}

#[test]
fn esp_with_auth_options_and_lifetimes() {
    let m = msgs(
        r#"add 10.0.0.1[500] 10.0.0.2 esp 0x1000 -m tunnel -r 32 -u 7 -f zero-pad -f nocyclic-seq -lh 3600 -bh 1000000 -ls 3000 -bs 900000 -E aes-cbc 0x000102030405060708090a0b0c0d0e0f -A hmac-sha1 "01234567890123456789";"#,
    );
    let p = parse(&m[0]).unwrap();
    let sa = p.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.replay, sa.auth, sa.flags),
        (0x1000, 32, SADB_AALG_SHA1HMAC, flags::PZERO)
    );
    assert_eq!(p.key_auth().unwrap().bits, 160);
    let sa2 = p.sa2().unwrap();
    assert_eq!((sa2.mode, sa2.reqid), (IPSEC_MODE_TUNNEL, 7));
    let h = p.lifetime_hard().unwrap();
    assert_eq!(
        (h.addtime, h.bytes, h.allocations, h.usetime),
        (3600, 1_000_000, 0, 0)
    );
    let s = p.lifetime_soft().unwrap();
    assert_eq!((s.addtime, s.bytes), (3000, 900_000));
    assert_eq!(p.address_src().unwrap().port, 500);
}

#[test]
fn null_ipcomp_getspi_get_delete_flush_dump() {
    let p = msgs("add 10.0.0.1 10.0.0.2 esp 1 -E null;");
    let p = parse(&p[0]).unwrap();
    assert_eq!(
        (p.sa().unwrap().encrypt, p.key_encrypt().unwrap().bits),
        (SADB_EALG_NULL, 0)
    );

    let m = msgs("add 10.0.0.1 10.0.0.2 ipcomp 0x4000 -C deflate -R;");
    let p = parse(&m[0]).unwrap();
    assert_eq!(
        (p.satype(), p.sa().unwrap().encrypt),
        (SADB_X_SATYPE_IPCOMP, SADB_X_CALG_DEFLATE)
    );
    assert_eq!(p.sa().unwrap().flags, flags::CYCSEQ | flags::RAWCPI);
    assert!(p.key_encrypt().is_none());

    let m = msgs("getspi 10.0.0.1 10.0.0.2 esp 0x100 -m tunnel -u 3;");
    let p = parse(&m[0]).unwrap();
    assert_eq!(p.msg_type(), SADB_GETSPI);
    let r = p.spirange().unwrap();
    assert_eq!((r.min, r.max), (0x100, 0x100));

    for (src, ty, satype) in [
        ("get 10.0.0.1 10.0.0.2 esp 5;", SADB_GET, SADB_SATYPE_ESP),
        (
            "delete 10.0.0.1 10.0.0.2 ah 5;",
            SADB_DELETE,
            SADB_SATYPE_AH,
        ),
    ] {
        let m = msgs(src);
        let p = parse(&m[0]).unwrap();
        assert_eq!(
            (p.msg_type(), p.satype(), p.sa().unwrap().spi),
            (ty, satype, 5)
        );
        assert!(p.key_encrypt().is_none() && p.key_auth().is_none());
    }
    for (src, ty, satype) in [
        ("flush;", SADB_FLUSH, SADB_SATYPE_UNSPEC),
        ("flush ah;", SADB_FLUSH, SADB_SATYPE_AH),
        ("dump esp;", SADB_DUMP, SADB_SATYPE_ESP),
        ("spdflush;", SADB_X_SPDFLUSH, 0),
        ("spddump;", SADB_X_SPDDUMP, 0),
    ] {
        let m = msgs(src);
        assert_eq!(m[0].len(), 16, "{src}");
        let p = parse(&m[0]).unwrap();
        assert_eq!((p.msg_type(), p.satype()), (ty, satype), "{src}");
    }
}

#[test]
fn faq_policies_round_trip() {
    let m = msgs(
        "spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/20.0.0.1-20.0.0.2/require ;",
    );
    let p = parse(&m[0]).unwrap();
    assert_eq!(
        (p.msg_type(), p.satype()),
        (SADB_X_SPDADD, SADB_SATYPE_UNSPEC)
    );
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!(
        (s.addr, s.prefixlen, s.proto, s.port),
        (IpAddr::V4([10, 0, 1, 0]), 24, 255, 0)
    );
    assert_eq!((d.addr, d.prefixlen), (IpAddr::V4([10, 0, 2, 0]), 24));
    let pol = p.policy().unwrap();
    assert_eq!(
        (pol.policy_type, pol.dir, pol.priority, pol.id),
        (IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, prio::DEFAULT, 0)
    );
    let r: Vec<_> = pol.requests().collect();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].proto, r[0].mode, r[0].level, r[0].reqid),
        (50, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 0)
    );
    assert_eq!(
        r[0].addrs,
        Some((IpAddr::V4([20, 0, 0, 1]), IpAddr::V4([20, 0, 0, 2])))
    );

    let m = msgs("spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//use ah/transport//use;");
    let pol_bytes = parse(&m[0]).unwrap();
    let reqs: Vec<_> = pol_bytes
        .policy()
        .unwrap()
        .requests()
        .map(|r| (r.proto, r.mode, r.level, r.addrs))
        .collect();
    assert_eq!(
        reqs,
        [
            (50, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_USE, None),
            (51, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_USE, None)
        ]
    );

    let m = msgs("spdadd 192.0.2.1[110] 0.0.0.0/0 tcp -P out ipsec ah/transport//require;");
    let p = parse(&m[0]).unwrap();
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!(
        (s.proto, s.port, s.prefixlen, d.proto, d.port, d.prefixlen),
        (6, 110, 32, 6, 0, 0)
    );

    let m = msgs("spdadd A B any -P in none;");
    let p = parse(&m[0]).unwrap();
    assert_eq!(p.address_src().unwrap().addr, IpAddr::V4([192, 0, 2, 1]));
    let pol = p.policy().unwrap();
    assert_eq!(
        (pol.policy_type, pol.dir, pol.requests().count()),
        (IPSEC_POLICY_NONE, IPSEC_DIR_INBOUND, 0)
    );
}

#[test]
fn tunnel_endpoint_ports_reach_the_sockaddrs() {
    let m = msgs(
        "spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/10.0.0.1[500]-10.0.0.2[4500]/require;",
    );
    let p = parse(&m[0]).unwrap();
    let pol = p.policy().unwrap();
    let r: Vec<_> = pol.requests().collect();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].proto, r[0].mode, r[0].level, r[0].reqid),
        (50, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 0)
    );
    assert_eq!(
        r[0].addrs,
        Some((IpAddr::V4([10, 0, 0, 1]), IpAddr::V4([10, 0, 0, 2])))
    );
    assert_eq!(r[0].ports, (500, 4500));
    // Two sockaddr_in after the 16-byte request header: family, then the
    // port in network order, then the address.
    let raw = pol.raw_requests().next().unwrap();
    let sa = raw.payload();
    assert_eq!(raw.as_bytes().len(), 48);
    assert_eq!(&sa[2..8], &[0x01, 0xf4, 10, 0, 0, 1]);
    assert_eq!(&sa[18..24], &[0x11, 0x94, 10, 0, 0, 2]);

    let m = msgs(
        "spdadd 2001:db8:1::/48 2001:db8:2::/48 any -P out ipsec esp/tunnel/2001:db8::1[500]-2001:db8::2/require;",
    );
    let r: Vec<_> = parse(&m[0]).unwrap().policy().unwrap().requests().collect();
    assert_eq!(r[0].ports, (500, 0));

    // No brackets: zero ports, as before.
    let m = msgs(
        "spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/10.0.0.1-10.0.0.2/require;",
    );
    let r: Vec<_> = parse(&m[0]).unwrap().policy().unwrap().requests().collect();
    assert_eq!(r[0].ports, (0, 0));
}

#[test]
fn ipv6_icmp6_priorities_unique_and_spd_variants() {
    let m = msgs("spdupdate 2001:db8::/32 ::/0 icmp6 135,0 -P fwd prio def + 5 ipsec esp/tunnel/2001:db8::1-2001:db8::2/unique:9;");
    let p = parse(&m[0]).unwrap();
    assert_eq!(p.msg_type(), SADB_X_SPDUPDATE);
    let s = p.address_src().unwrap();
    assert_eq!(
        (
            s.prefixlen,
            s.proto,
            s.port,
            p.address_dst().unwrap().prefixlen
        ),
        (32, 58, 135, 0)
    );
    let pol = p.policy().unwrap();
    assert_eq!((pol.dir, pol.priority), (IPSEC_DIR_FWD, prio::DEFAULT - 5));
    let r = pol.requests().next().unwrap();
    assert_eq!((r.level, r.reqid), (IPSEC_LEVEL_UNIQUE, 9));
    let m = msgs("spddelete 10.0.0.0/8 10.0.0.0/8 any -P out discard;");
    let p = parse(&m[0]).unwrap();
    assert_eq!(
        (p.msg_type(), p.policy().unwrap().policy_type),
        (SADB_X_SPDDELETE, IPSEC_POLICY_DISCARD)
    );
}

#[test]
fn rfc_mode_adds_a_fwd_twin_of_inbound_policies() {
    let src =
        "spdadd 10.0.2.0/24 10.0.1.0/24 any -P in ipsec esp/tunnel/20.0.0.2-20.0.0.1/unique:5;";
    assert_eq!(msgs(src).len(), 1);
    let m = msgs_rfc(src, true);
    assert_eq!(m.len(), 2);
    let (a, b) = (parse(&m[0]).unwrap(), parse(&m[1]).unwrap());
    assert_eq!(
        (a.policy().unwrap().dir, b.policy().unwrap().dir),
        (IPSEC_DIR_INBOUND, IPSEC_DIR_FWD)
    );
    let (ra, rb) = (
        a.policy().unwrap().requests().next().unwrap(),
        b.policy().unwrap().requests().next().unwrap(),
    );
    assert_eq!(
        (ra.level, ra.reqid, rb.level, rb.reqid),
        (IPSEC_LEVEL_UNIQUE, 5, IPSEC_LEVEL_REQUIRE, 0)
    );
    assert_eq!(
        msgs_rfc("spdadd 10.0.0.1 10.0.0.2 any -P out none;", true).len(),
        1
    );
}

#[test]
fn host_names_resolve_to_all_same_family_pairs_for_add() {
    let m = msgs("add dual B esp 1 -E null;");
    assert_eq!(m.len(), 1, "only the IPv4 of dual pairs with B");
    assert_eq!(
        err("spdadd dual B any -P out none;"),
        "1:8: multiple address specified"
    );
    assert_eq!(
        err("add nowhere B esp 1 -E null;"),
        "1:5: Name or service not known"
    );
    assert_eq!(
        err("add 10.0.0.1 2001:db8::1 esp 1 -E null;"),
        "1:14: address family mismatch"
    );
}

#[test]
fn key_length_and_algorithm_errors_come_before_sending() {
    let cases = [
        (
            r#"add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehoge";"#,
            "1:35: invalid key length 64 bits for 3des-cbc (needs 192)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 9876 -E rijndael-cbc 0x0011;"#,
            "1:35: invalid key length 16 bits for rijndael-cbc (needs 128, 192 or 256)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 9876 -E blowfish-cbc "abc";"#,
            "1:35: invalid key length 24 bits for blowfish-cbc (needs 40..448)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 9877 -A hmac-md5 "short";"#,
            "1:34: invalid key length 40 bits for hmac-md5 (needs 128)",
        ),
        // Those without a kernel implementation have setkey(8)'s lengths.
        (
            r#"add 10.1.1.1 20.1.1.1 ah 1 -A keyed-md5 "0123456789";"#,
            "1:31: invalid key length 80 bits for keyed-md5 (needs 128)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 tcp 1 -A tcp-md5 "";"#,
            "1:32: invalid key length 0 bits for tcp-md5 (needs 8..640)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 1 -E rc5-cbc "abc";"#,
            "1:32: invalid key length 24 bits for rc5-cbc (needs 40..2040)",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 1 -A aes-cmac 0x00112233445566778899aabbccddeeff00112233;"#,
            "1:31: invalid key length 160 bits for aes-cmac (needs 128)",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(err(src), want, "{src}");
    }
}

/// Names ipsec-tools knows and no Linux kernel implements go out with the
/// SADB ids ipsec-tools sends (token.l, include-glibc/net/pfkeyv2.h, KAME's
/// pfkeyv2.h); af_key's checks then refuse them with these errnos.
#[test]
fn names_the_kernel_lacks_are_sent_with_ipsec_tools_ids() {
    use rxfrm_logic::pfkey::Errno;
    let ctx = MsgCtx {
        pid: 7,
        rfc: false,
        resolve: &no_dns,
    };
    let cases: [(&str, u8, u8, u8, u32, Errno); 9] = [
        (
            r#"add 10.1.1.1 20.1.1.1 ah 0x100 -A keyed-md5 "0123456789abcdef";"#,
            SADB_SATYPE_AH,
            SADB_X_AALG_MD5,
            0,
            flags::CYCSEQ,
            Errno::ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 0x100 -A keyed-sha1 "0123456789abcdefghij";"#,
            SADB_SATYPE_AH,
            SADB_X_AALG_SHA,
            0,
            flags::CYCSEQ,
            Errno::ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 0x100 -E rc5-cbc "0123456789abcdef";"#,
            SADB_SATYPE_ESP,
            0,
            SADB_X_EALG_RC5CBC,
            flags::CYCSEQ,
            Errno::ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 0x100 -E null -A tcp-md5 "secret";"#,
            SADB_SATYPE_ESP,
            SADB_X_AALG_TCP_MD5,
            SADB_EALG_NULL,
            flags::CYCSEQ,
            Errno::EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 tcp 0x100 -A tcp-md5 "secret";"#,
            11,
            SADB_X_AALG_TCP_MD5,
            0,
            flags::CYCSEQ,
            Errno::EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 0x100 -E des-deriv 0x0001020304050607;",
            SADB_SATYPE_ESP,
            0,
            SADB_EALG_DESCBC,
            flags::CYCSEQ | flags::DERIV,
            Errno::EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 0x100 -E 3des-deriv "hogehogehogehogehogehoge";"#,
            SADB_SATYPE_ESP,
            0,
            SADB_EALG_3DESCBC,
            flags::CYCSEQ | flags::DERIV,
            Errno::EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp-old 0x100 -E des-32iv 0x0001020304050607;",
            SADB_SATYPE_ESP,
            0,
            SADB_EALG_DESCBC,
            flags::CYCSEQ | flags::OLD | flags::IV4B,
            Errno::EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 0x100 -C oui;",
            SADB_X_SATYPE_IPCOMP,
            0,
            SADB_X_CALG_OUI,
            flags::CYCSEQ,
            Errno::ENOSYS,
        ),
    ];
    for (src, satype, auth, encrypt, fl, errno) in cases {
        let m = build(&cmd(src), &ctx).unwrap_or_else(|e| panic!("{src}: {e}"));
        let p = parse(&m[0]).unwrap();
        let sa = p.sa().unwrap();
        assert_eq!(
            (p.satype(), sa.auth, sa.encrypt, sa.flags),
            (satype, auth, encrypt, fl),
            "{src}"
        );
        assert_eq!(check_required(p.msg_type(), &p), Err(errno), "{src}");
    }
}

#[test]
fn unique_reqid_above_the_manual_range_is_sent_as_written() {
    let m = msgs("spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//unique:20000 ah/transport//unique:5;");
    let p = parse(&m[0]).unwrap();
    let r: Vec<(u8, u32)> = p
        .policy()
        .unwrap()
        .requests()
        .map(|r| (r.level, r.reqid))
        .collect();
    assert_eq!(r, [(IPSEC_LEVEL_UNIQUE, 20000), (IPSEC_LEVEL_UNIQUE, 5)]);
}
