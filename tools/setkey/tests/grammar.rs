//! Grammar tests: every setkey example of the NetBSD IPsec FAQ (seed
//! document) plus the rest of the ipsec-tools grammar.

use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::types::{Action, Dir, IpsecProto, Level, Mode};
use setkey::ast::*;
use setkey::parser::parse_all;

fn ok(src: &str) -> Vec<Command> {
    parse_all(src)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{src}: {e}")).cmd)
        .collect()
}

fn one(src: &str) -> Command {
    let mut v = ok(src);
    assert_eq!(v.len(), 1, "{src}");
    v.pop().unwrap()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Host {
    Host::Ip(IpAddr::V4([a, b, c, d]))
}

fn sa(c: Command) -> Sa {
    match c {
        Command::Add(s) | Command::Get(s) | Command::Delete(s) | Command::GetSpi(s) => s,
        c => panic!("not an SA command: {c:?}"),
    }
}

fn spd(c: Command) -> Spd {
    match c {
        Command::SpdAdd(s) | Command::SpdUpdate(s) | Command::SpdDelete(s) => s,
        c => panic!("not an SPD command: {c:?}"),
    }
}

/// Host-to-host encryption, 3des-cbc, both key forms.
const FAQ_3DES: &str = r#"
add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";
add 20.1.1.1 10.1.1.1 esp 10000 -E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//use;
spdadd 20.1.1.1 10.1.1.1 any -P in ipsec esp/transport//require;
"#;

#[test]
fn faq_host_to_host_3des() {
    let c = ok(FAQ_3DES);
    assert_eq!(c.len(), 4);
    let a = sa(c[0].clone());
    assert_eq!(
        (a.src.host.clone(), a.dst.host.clone()),
        (v4(10, 1, 1, 1), v4(20, 1, 1, 1))
    );
    assert_eq!((a.proto, a.spi), (SaProto::Esp, 9876));
    let e = a.algs.enc.as_ref().unwrap();
    assert_eq!(e.name, "3des-cbc");
    assert_eq!(e.key.as_deref(), Some(&b"hogehogehogehogehogehoge"[..]));
    assert_eq!(a.flags(), flags::CYCSEQ);
    assert_eq!(a.ext, SaExt::default());
    let b = sa(c[1].clone());
    assert_eq!(b.spi, 10000);
    assert_eq!(
        b.algs.enc.unwrap().key.unwrap(),
        [0xde, 0xad, 0xbe, 0xef].repeat(6)
    );
    let p = spd(c[2].clone());
    assert_eq!(
        (p.src.prefix, p.src.port, p.upper),
        (None, None, ULPROTO_ANY)
    );
    assert_eq!(
        p.policy,
        Policy {
            dir: Dir::Outbound,
            priority: prio::DEFAULT,
            action: Action::Ipsec,
            requests: vec![Request {
                proto: IpsecProto::Esp,
                mode: Mode::Transport,
                endpoints: None,
                level: Level::Use,
                reqid: 0
            }]
        }
    );
    let p = spd(c[3].clone());
    assert_eq!(p.policy.dir, Dir::Inbound);
    assert_eq!(p.policy.requests[0].level, Level::Require);
}

#[test]
fn faq_rijndael_and_ah_hmac_md5_and_combined() {
    let c = ok(r#"
add 10.1.1.1 20.1.1.1 esp 9876 -E rijndael-cbc "hogehogehogehoge";
add 20.1.1.1 10.1.1.1 esp 10000 -E rijndael-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;
add 10.1.1.1 20.1.1.1 ah 9877 -A hmac-md5 "hogehogehogehoge";
add 20.1.1.1 10.1.1.1 ah 10001 -A hmac-md5 "mogamogamogamoga";
spdadd 10.1.1.1 20.1.1.1 any -P out ipsec ah/transport//use;
spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//use ah/transport//use;
"#);
    assert_eq!(c.len(), 6);
    assert_eq!(sa(c[1].clone()).algs.enc.unwrap().key.unwrap().len(), 16);
    let ah = sa(c[2].clone());
    assert_eq!((ah.proto, ah.spi), (SaProto::Ah, 9877));
    assert!(ah.algs.enc.is_none());
    assert_eq!(ah.algs.auth.unwrap().name, "hmac-md5");
    let both = spd(c[5].clone());
    let protos: Vec<_> = both
        .policy
        .requests
        .iter()
        .map(|r| (r.proto, r.level))
        .collect();
    assert_eq!(
        protos,
        [(IpsecProto::Esp, Level::Use), (IpsecProto::Ah, Level::Use)]
    );
}

#[test]
fn faq_vpn_gateway_blowfish_tunnel() {
    let c = ok(r#"
add 20.0.0.1 20.0.0.2 esp 13245 -E blowfish-cbc "blowfishtest.001" ;
add 20.0.0.2 20.0.0.1 esp 13246 -E blowfish-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/20.0.0.1-20.0.0.2/require ;
spdadd 10.0.2.0/24 10.0.1.0/24 any -P in ipsec esp/tunnel/20.0.0.2-20.0.0.1/require ;
"#);
    assert_eq!(sa(c[0].clone()).algs.enc.unwrap().name, "blowfish-cbc");
    let p = spd(c[2].clone());
    assert_eq!(
        (p.src.host.clone(), p.src.prefix),
        (v4(10, 0, 1, 0), Some(24))
    );
    assert_eq!(
        (p.dst.host.clone(), p.dst.prefix),
        (v4(10, 0, 2, 0), Some(24))
    );
    let r = &p.policy.requests[0];
    assert_eq!(r.mode, Mode::Tunnel);
    assert_eq!(
        r.endpoints,
        Some((
            (IpAddr::V4([20, 0, 0, 1]), 0),
            (IpAddr::V4([20, 0, 0, 2]), 0)
        ))
    );
    assert_eq!(r.level, Level::Require);
    assert_eq!(spd(c[3].clone()).policy.dir, Dir::Inbound);
}

#[test]
fn faq_leaf_node_rijndael_tunnel() {
    let c = ok(r#"
add 10.0.1.1 10.0.1.5 esp 1011 -E rijndael-cbc "rijndaeltest.001" ;
add 10.0.1.5 10.0.1.1 esp 1012 -E rijndael-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.0.1.5/32 0.0.0.0/0 any -P out ipsec esp/tunnel/10.0.1.5-10.0.1.1/require;
spdadd 0.0.0.0/0 10.0.1.5/32 any -P in ipsec esp/tunnel/10.0.1.1-10.0.1.5/require;
"#);
    let p = spd(c[2].clone());
    assert_eq!(
        (p.src.prefix, p.dst.host.clone(), p.dst.prefix),
        (Some(32), v4(0, 0, 0, 0), Some(0))
    );
    assert_eq!(
        p.policy.requests[0].endpoints,
        Some((
            (IpAddr::V4([10, 0, 1, 5]), 0),
            (IpAddr::V4([10, 0, 1, 1]), 0)
        ))
    );
}

#[test]
fn faq_racoon_policies_with_symbolic_hosts() {
    // The FAQ writes A and B for "numeric addresses"; they parse as host
    // names, resolved only when the statement runs.
    let c = ok("spdadd A B any -P out ipsec esp/transport//require;\nspdadd B A any -P in ipsec esp/transport//require;\n");
    let p = spd(c[0].clone());
    assert_eq!(
        (p.src.host.clone(), p.dst.host.clone()),
        (Host::Name("A".into()), Host::Name("B".into()))
    );
}

#[test]
fn faq_port_selector_ah_policies() {
    let src = "spdadd 10.0.0.1[110] 10.0.0.1 tcp -P out none;
spdadd 10.0.0.1 10.0.0.1[110] tcp -P in none;
spdadd 10.0.0.1[110] 0.0.0.0/0 tcp -P out ipsec ah/transport//require;
spdadd 0.0.0.0/0 10.0.0.1[110] tcp -P in ipsec ah/transport//require;
spdadd A[110] A tcp -P out none;
";
    let c = ok(src);
    let p = spd(c[0].clone());
    assert_eq!((p.src.port, p.dst.port, p.upper), (Some(110), None, 6));
    assert_eq!(
        (p.policy.action, p.policy.requests.len()),
        (Action::None, 0)
    );
    let p = spd(c[3].clone());
    assert_eq!((p.src.prefix, p.dst.port), (Some(0), Some(110)));
    assert_eq!(p.policy.requests[0].proto, IpsecProto::Ah);
    assert_eq!(spd(c[4].clone()).src.port, Some(110));
}

#[test]
fn ipv6_addresses_prefixes_and_icmp6_type_code() {
    let c = ok(
        "add fe80::1 2001:db8::2 esp 0x100 -m tunnel -E aes-cbc 0x00112233445566778899aabbccddeeff;
spdadd 2001:db8::/32[any] ::/0[443] tcp -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/unique:7;
spdadd ::/0 ::/0 icmp6 135,0 -P out none;
spdadd ::/0 ::/0 ipv6-icmp 128 -P in none;
",
    );
    let a = sa(c[0].clone());
    assert_eq!(a.spi, 0x100);
    assert_eq!(a.ext.mode, Some(Mode::Tunnel));
    let p = spd(c[1].clone());
    assert_eq!(
        (p.src.prefix, p.src.port, p.dst.port),
        (Some(32), None, Some(443))
    );
    let r = &p.policy.requests[0];
    assert_eq!((r.level, r.reqid), (Level::Unique, 7));
    let p = spd(c[2].clone());
    assert_eq!((p.upper, p.src.port, p.dst.port), (58, Some(135), None));
    let p = spd(c[3].clone());
    assert_eq!((p.upper, p.src.port), (58, Some(128)));
}

#[test]
fn all_sa_options() {
    let a = sa(one(
        r#"add -4n 10.0.0.1[500] 10.0.0.2 esp 0xffffffff -m transport -r 64 -u 1234
        -f random-pad -f nocyclic-seq -lh 3600 -ls 3000 -bh 100000 -bs 90000
        -E aes-cbc "0123456789abcdef" -A hmac-sha256 "0123456789abcdef0123456789abcdef";"#,
    ));
    assert_eq!(
        a.opts,
        AddrOpts {
            family: 4,
            numeric_only: true
        }
    );
    assert_eq!((a.src.port, a.spi), (Some(500), 0xffff_ffff));
    let e = &a.ext;
    assert_eq!(
        (e.mode, e.replay, e.reqid),
        (Some(Mode::Transport), 64, 1234)
    );
    assert_eq!(
        (
            e.lifetime_hard,
            e.lifetime_soft,
            e.lifebyte_hard,
            e.lifebyte_soft
        ),
        (3600, 3000, 100000, 90000)
    );
    assert_eq!(a.flags(), flags::PRAND);
    assert_eq!(a.algs.auth.unwrap().name, "hmac-sha256");
}

#[test]
fn ipcomp_tcp_md5_null_and_old_protocols() {
    let a = sa(one("add 10.0.0.1 10.0.0.2 ipcomp 4096 -C deflate -R;"));
    assert_eq!(
        (a.algs.comp.as_ref().unwrap().name.as_str(), a.algs.raw_cpi),
        ("deflate", true)
    );
    assert_eq!(a.flags(), flags::CYCSEQ | flags::RAWCPI);
    let a = sa(one(
        "add 10.0.0.1 10.0.0.2 tcp 0x1000 -A tcp-md5 \"secret\";",
    ));
    assert_eq!(
        (a.proto, a.proto.satype()),
        (SaProto::Tcp, SATYPE_TCPSIGNATURE)
    );
    let a = sa(one("add 10.0.0.1 10.0.0.2 esp 1 -E null -A null;"));
    assert_eq!(a.algs.enc.unwrap().key, None);
    assert_eq!(a.algs.auth.unwrap().key, None);
    let a = sa(one(
        "add 10.0.0.1 10.0.0.2 esp-old 1 -E des-32iv 0x0102030405060708;",
    ));
    assert_eq!(a.flags(), flags::CYCSEQ | flags::OLD | flags::IV4B);
    assert_eq!(a.algs.enc.unwrap().name, "des-cbc");
    let a = sa(one("add 10.0.0.1 10.0.0.2 ah-old 1 -A keyed-md5 0x0102;"));
    assert_eq!(a.flags(), flags::CYCSEQ | flags::OLD);
    // An odd number of hex digits puts a lone nibble first, like ipsec-tools.
    let a = sa(one("add 10.0.0.1 10.0.0.2 ah 1 -A hmac-md5 0xabc;"));
    assert_eq!(a.algs.auth.unwrap().key.unwrap(), [0x0a, 0xbc]);
}

/// Every algorithm name of ipsec-tools' token.l and pfkey_dump.c tables
/// (plus setkey(8)'s 3des-deriv and rc5-cbc) parses, those no Linux kernel
/// has included: the kernel is the one to refuse them.
#[test]
fn every_ipsec_tools_algorithm_name_parses() {
    let k = |bits: usize| format!("0x{}", "ab".repeat(bits / 8));
    for (name, bits) in [
        ("hmac-md5", 128),
        ("hmac-sha1", 160),
        ("keyed-md5", 128),
        ("keyed-sha1", 160),
        ("hmac-sha2-256", 256),
        ("hmac-sha256", 256),
        ("hmac-sha2-384", 384),
        ("hmac-sha384", 384),
        ("hmac-sha2-512", 512),
        ("hmac-sha512", 512),
        ("hmac-ripemd160", 160),
        ("aes-xcbc-mac", 128),
        ("aes-cmac", 128),
        ("tcp-md5", 64),
    ] {
        let src = format!("add 10.0.0.1 10.0.0.2 ah 0x100 -A {name} {};", k(bits));
        let a = sa(one(&src));
        assert_eq!(a.algs.auth.unwrap().name, name);
    }
    let a = sa(one("add 10.0.0.1 10.0.0.2 ah 0x100 -A null;"));
    assert_eq!(a.algs.auth.unwrap().key, None);
    for (name, bits, sent_as, extra) in [
        ("des-cbc", 64, "des-cbc", 0),
        ("3des-cbc", 192, "3des-cbc", 0),
        ("blowfish-cbc", 128, "blowfish-cbc", 0),
        ("cast128-cbc", 128, "cast128-cbc", 0),
        ("rc5-cbc", 128, "rc5-cbc", 0),
        ("des-deriv", 64, "des-cbc", flags::DERIV),
        ("3des-deriv", 192, "3des-cbc", flags::DERIV),
        ("twofish-cbc", 256, "twofish-cbc", 0),
        ("aes-cbc", 128, "aes-cbc", 0),
        ("rijndael-cbc", 128, "rijndael-cbc", 0),
        ("aes-ctr", 160, "aes-ctr", 0),
        ("camellia-cbc", 128, "camellia-cbc", 0),
    ] {
        let src = format!("add 10.0.0.1 10.0.0.2 esp 0x100 -E {name} {};", k(bits));
        let a = sa(one(&src));
        assert_eq!(a.flags(), flags::CYCSEQ | extra, "{name}");
        assert_eq!(a.algs.enc.unwrap().name, sent_as);
    }
    for name in ["null", "simple"] {
        let src = format!("add 10.0.0.1 10.0.0.2 esp 0x100 -E {name};");
        let a = sa(one(&src));
        let e = a.algs.enc.unwrap();
        assert_eq!((e.name.as_str(), e.key), ("null", None));
    }
    let a = sa(one(
        "add 10.0.0.1 10.0.0.2 esp-old 0x100 -E des-32iv 0x0001020304050607;",
    ));
    assert_eq!(a.flags(), flags::CYCSEQ | flags::OLD | flags::IV4B);
    for name in ["oui", "deflate", "lzs"] {
        let src = format!("add 10.0.0.1 10.0.0.2 ipcomp 0x100 -C {name};");
        assert_eq!(sa(one(&src)).algs.comp.unwrap().name, name);
    }
}

#[test]
fn unique_reqids_are_taken_as_written() {
    for (level, reqid) in [
        ("unique:1", 1),
        ("unique:16383", 16383),
        ("unique:16384", 16384),
        ("unique:20000", 20000),
        ("unique:32767", 32767),
        ("unique:4294967295", u32::MAX),
        ("unique:0", 0),
        ("unique", 0),
    ] {
        let src = format!("spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//{level};");
        let r = spd(one(&src)).policy.requests[0].clone();
        assert_eq!((r.level, r.reqid), (Level::Unique, reqid), "{level}");
    }
}

#[test]
fn other_commands() {
    let c = ok("get 10.0.0.1 10.0.0.2 esp 5; delete 10.0.0.1 10.0.0.2 ah 0x10;
deleteall 10.0.0.1 10.0.0.2 esp; deleteall 10.0.0.1 10.0.0.2;
flush; flush esp; dump; dump ah; spdflush; spddump; getspi 10.0.0.1 10.0.0.2 esp 0 -m tunnel; exit;");
    assert!(matches!(&c[0], Command::Get(s) if s.spi == 5));
    assert!(matches!(&c[1], Command::Delete(s) if s.spi == 16 && s.proto == SaProto::Ah));
    assert!(matches!(
        &c[2],
        Command::DeleteAll {
            proto: Some(SaProto::Esp),
            ..
        }
    ));
    assert!(matches!(&c[3], Command::DeleteAll { proto: None, .. }));
    assert_eq!(
        c[4..10],
        [
            Command::Flush(None),
            Command::Flush(Some(SaProto::Esp)),
            Command::Dump(None),
            Command::Dump(Some(SaProto::Ah)),
            Command::SpdFlush,
            Command::SpdDump
        ]
    );
    assert!(matches!(&c[10], Command::GetSpi(s) if s.ext.mode == Some(Mode::Tunnel)));
    assert_eq!(c[11], Command::Exit);
}

#[test]
fn spdupdate_spddelete_and_policy_forms() {
    let p = spd(one(
        "spdupdate 10.0.0.0/8 10.1.0.0/16 udp -P fwd prio 10 ipsec esp/tunnel/1.1.1.1-2.2.2.2;",
    ));
    assert_eq!(p.policy.dir, Dir::Forward);
    assert_eq!(p.policy.priority, prio::DEFAULT - 10);
    assert_eq!(p.policy.requests[0].level, Level::Default);
    let p = spd(one(
        "spddelete 10.0.0.0/8 10.1.0.0/16 17 -P out prio -10 discard;",
    ));
    assert_eq!(
        (p.upper, p.policy.priority, p.policy.action),
        (17, prio::DEFAULT + 10, Action::Discard)
    );
    let prios = [
        ("prio def + 5", prio::DEFAULT - 5),
        ("prio default - 5", prio::DEFAULT + 5),
        ("priority low", prio::LOW),
        ("prio high + 1", prio::HIGH - 1),
    ];
    for (text, want) in prios {
        let p = spd(one(&format!(
            "spdadd 1.1.1.1 2.2.2.2 any -P out {text} none;"
        )));
        assert_eq!(p.policy.priority, want, "{text}");
    }
    let p = spd(one("spdadd 1.1.1.1 2.2.2.2 any -P out;"));
    assert_eq!((p.policy.priority, p.policy.action), (0, Action::Discard));
    let p = spd(one("spdadd 1.1.1.1 2.2.2.2 any -P out ipsec esp/transport ah/transport/ ipcomp/transport/me-any/use esp/tunnel/1.1.1.1[500]-2.2.2.2[4500]/unique;"));
    let r = &p.policy.requests;
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0].level, r[1].level, r[2].level, r[2].endpoints),
        (Level::Default, Level::Default, Level::Use, None)
    );
    assert_eq!(
        r[3].endpoints,
        Some((
            (IpAddr::V4([1, 1, 1, 1]), 500),
            (IpAddr::V4([2, 2, 2, 2]), 4500)
        ))
    );
    let p = spd(one("spdadd 10.0.0.0/8 10.0.0.0/8 gre 1.2.3.4 -P in none;"));
    assert_eq!((p.src.port, p.dst.port), (Some(0x0102), Some(0x0304)));
}

#[test]
fn comments_multiple_per_line_and_multi_line_statements() {
    let c = ok("# leading comment\nflush; spdflush; # trailing ; comment\nadd 10.0.0.1\n  10.0.0.2 # mid-statement comment\n esp 1\n -E null\n;\nspdadd 10.0.0.1 10.0.0.2 any -P out ipsec\n  esp/transport//require\n  ah/transport//require;");
    assert_eq!(c.len(), 4);
    assert!(matches!(&c[2], Command::Add(_)));
    assert_eq!(spd(c[3].clone()).policy.requests.len(), 2);
}

fn err(src: &str) -> String {
    let r = parse_all(src);
    let e = r
        .into_iter()
        .find_map(|r| r.err())
        .unwrap_or_else(|| panic!("no error in {src}"));
    e.to_string()
}

#[test]
fn error_forms_with_line_and_column() {
    let cases = [
        ("bogus 1.2.3.4;", "1:1: unknown command \"bogus\""),
        (
            "add 10.0.0.1 10.0.0.2 foo 1 -E null;",
            "1:23: expected a protocol (esp, esp-old, ah, ah-old, ipcomp, tcp), got \"foo\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp zz -E null;",
            "1:27: invalid SPI \"zz\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 0x100000000 -E null;",
            "1:27: SPI too big \"0x100000000\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -E 3des-cbc;",
            "1:40: expected a key (\"string\" or 0x hex), got \";\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -E 3des-cbc 0xzz;",
            "1:41: invalid hex key \"0xzz\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -E 3des-cbc zz;",
            "1:41: expected a key (\"string\" or 0x hex), got \"zz\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -Q x;",
            "1:29: unknown option \"-Q\"",
        ),
        ("add 10.0.0.1 10.0.0.2 esp 1;", "1:27: -E or -A is required"),
        ("add 10.0.0.1 10.0.0.2 ah 1;", "1:26: -A is required"),
        (
            "add 10.0.0.1 10.0.0.2 ipcomp 1 -m tunnel;",
            "1:30: ipcomp needs -C",
        ),
        (
            "add 10.0.0.1 10.0.0.2 ah 1 -E null;",
            "1:31: only -A is allowed here",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -C deflate;",
            "1:32: -C is only allowed with ipcomp",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp-old 1 -r 4 -E null;",
            "1:33: replay prevention cannot be used with ah/esp-old",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -m sideways -E null;",
            "1:32: invalid mode \"sideways\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -E null",
            "1:36: expected \";\", got end of input",
        ),
        (
            "get 10.0.0.1 10.0.0.2 esp 1 -E null;",
            "1:29: -E is only allowed with add",
        ),
        (
            "add -n host 10.0.0.2 esp 1 -E null;",
            "1:8: invalid address \"host\"",
        ),
        (
            "add 10.0.0.256 10.0.0.2 esp 1 -E null;",
            "1:5: invalid address \"10.0.0.256\"",
        ),
        (
            "spdadd 10.0.0.0/33 10.0.0.0 any -P out none;",
            "1:17: invalid prefix length \"33\"",
        ),
        (
            "spdadd 10.0.0.1[http] 10.0.0.2 any -P out none;",
            "1:17: invalid port \"http\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 bogus -P out none;",
            "1:26: invalid upper layer protocol \"bogus\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 tcp 8,0 -P out none;",
            "1:30: expected \"-P\", got \"8,0\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 icmp 8,x -P out none;",
            "1:31: invalid an upper layer protocol spec \"8,x\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any out none;",
            "1:30: expected \"-P\", got \"out\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P sideways none;",
            "1:33: invalid direction \"sideways\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out allow;",
            "1:37: invalid action \"allow\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp;",
            "1:43: too few arguments in request (need proto/mode)",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/tunnel//use;",
            "1:43: tunnel mode needs src-dst addresses",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//often;",
            "1:58: invalid level \"often\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//unique:4294967296;",
            "1:58: invalid reqid in \"unique:4294967296\" (0..4294967295)",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//unique:x;",
            "1:58: invalid reqid in \"unique:x\" (0..4294967295)",
        ),
        // Names neither ipsec-tools nor rxfrm knows: syntax errors.
        (
            r#"add 10.1.1.1 20.1.1.1 esp 1 -E rot13 "x";"#,
            "1:32: unknown encryption algorithm \"rot13\"",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 1 -A crc32 "x";"#,
            "1:31: unknown authentication algorithm \"crc32\"",
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ipcomp 1 -C zip;"#,
            "1:35: unknown compression algorithm \"zip\"",
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 1 -E 4des-deriv 0x00;",
            "1:32: unknown encryption algorithm \"4des-deriv\"",
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 1 -E hmac-md5 0x00;",
            "1:32: unknown encryption algorithm \"hmac-md5\"",
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 1 -E null -A 3des-cbc 0x00;",
            "1:40: unknown authentication algorithm \"3des-cbc\"",
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 1 -C lzo;",
            "1:35: unknown compression algorithm \"lzo\"",
        ),
        // ipsec-tools' own mismatches (parse.y).
        (
            "add 10.1.1.1 20.1.1.1 esp-old 1 -E 3des-deriv 0x00;",
            "1:36: algorithm mismatched",
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 1 -E des-32iv 0x00;",
            "1:32: algorithm mismatched",
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 1 -R -C deflate;",
            "1:32: -R must follow -C",
        ),
        // AH never encrypts: -E with ah is refused before anything is sent.
        (
            r#"add 10.1.1.1 20.1.1.1 ah 1 -E 3des-cbc "hogehogehogehogehogehoge" -A hmac-md5 "hogehogehogehoge";"#,
            "1:31: only -A is allowed here",
        ),
        (
            "add 10.1.1.1 20.1.1.1 ah 1 -A hmac-md5 0x00 -C deflate;",
            "1:48: only -A is allowed here",
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 1 -C deflate -A hmac-md5 0x00;",
            "1:46: ipcomp takes only -C",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/tunnel/1.1.1.1-::1/use;",
            "1:62: address family mismatch in tunnel end points",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/tunnel/host-2.2.2.2/use;",
            "1:54: invalid IP address \"host\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P in ipsec esp/transport/me-any/use;",
            "1:56: \"me-any\" does not fit the policy direction",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out none esp/transport//use;",
            "1:42: requests given for a non-ipsec policy at \"esp\"",
        ),
        (
            "spdadd 10.0.0.1 10.0.0.2 any -P out prio bogus none;",
            "1:42: expected a priority (N, -N, low, def, high), got \"bogus\"",
        ),
        (
            "add 10.0.0.1 10.0.0.2 esp 1 -E aes-cbc \"unterminated;",
            "1:40: unterminated quoted string",
        ),
        ("flush @;", "1:7: syntax error at \"@\""),
        (
            "\n\n  dump foo;",
            "3:8: expected a protocol (esp, esp-old, ah, ah-old, ipcomp, tcp), got \"foo\"",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(err(src), want, "{src}");
    }
}

#[test]
fn errors_do_not_stop_later_statements() {
    let r = parse_all("flush;\nadd bogus;\nspdflush;\nfoo bar baz;\ndump;");
    let kinds: Vec<_> = r
        .iter()
        .map(|r| r.as_ref().map(|s| s.cmd.clone()).map_err(|e| e.pos.line))
        .collect();
    assert_eq!(
        kinds,
        [
            Ok(Command::Flush(None)),
            Err(2),
            Ok(Command::SpdFlush),
            Err(4),
            Ok(Command::Dump(None))
        ]
    );
    // Statement positions are those of the command word.
    let r = parse_all("flush;\n  spdflush;");
    assert_eq!(r[1].as_ref().unwrap().pos.line, 2);
    assert_eq!(r[1].as_ref().unwrap().pos.col, 3);
}

#[test]
fn eof_errors_are_flagged_for_the_interactive_reader() {
    for src in [
        "add 10.0.0.1",
        "spdadd 1.1.1.1 2.2.2.2 any -P out ipsec esp/transport//use",
        "add 1.1.1.1 2.2.2.2 esp 1 -E aes-cbc \"abc",
    ] {
        let r = parse_all(src);
        assert!(r.last().unwrap().as_ref().unwrap_err().eof, "{src}");
    }
    assert!(
        !parse_all("add 10.0.0.1 ;")
            .last()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .eof
    );
}

#[test]
fn display_omits_keys() {
    let c = one("add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc \"hogehogehogehogehogehoge\";");
    assert_eq!(c.to_string(), "add 10.1.1.1 20.1.1.1 esp 9876");
    let c = one(
        "spdadd 10.0.1.0/24 10.0.2.0/24[80] tcp -P in ipsec esp/tunnel/1.1.1.1-2.2.2.2/require;",
    );
    assert_eq!(
        c.to_string(),
        "spdadd 10.0.1.0/24 10.0.2.0/24[80] tcp -P in"
    );
}

#[test]
fn f_esn_sets_freebsds_esn_flag() {
    let c = ok("add 10.0.0.1 10.0.0.2 esp 0x100 -f esn -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f00010203;");
    let a = sa(c[0].clone());
    assert!(a.ext.esn);
    assert_eq!(a.flags(), flags::CYCSEQ | flags::ESN);
    let c = ok("add 10.0.0.1 10.0.0.2 esp 0x100 -f esn -f nocyclic-seq -E null;");
    assert_eq!(sa(c[0].clone()).flags(), flags::ESN);
}
