//! The NetBSD IPsec FAQ's `setkey -c` examples, as the PF_KEY messages
//! setkey sends (SA state LARVAL as KAME's setkey puts it, SA2 mode any,
//! addresses with protocol "any"), and the state they leave.

use super::*;
use crate::logic::selector::{FlowKey, PROTO_ANY};
use crate::logic::types::{Action, Dir, IpsecProto, Level, Mode};
use std::vec;

const DEADBEEF24: &[u8] = &[
    0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
    0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
];

/// `add src dst esp|ah spi -E enc key | -A auth key;`
fn add(src: IpAddr, dst: IpAddr, satype: u8, spi: u32, alg: u8, k: &[u8]) -> StdVec<u8> {
    let esp = satype == SADB_SATYPE_ESP;
    let sa = SaRepr {
        spi,
        state: SADB_SASTATE_LARVAL,
        auth: if esp { 0 } else { alg },
        encrypt: if esp { alg } else { 0 },
        flags: SADB_X_EXT_CYCSEQ,
        ..SaRepr::default()
    };
    msg(hdr(SADB_ADD, satype, 1), |w| {
        sa_exts(w, &sa, src, dst)?;
        let t = if esp {
            SADB_EXT_KEY_ENCRYPT
        } else {
            SADB_EXT_KEY_AUTH
        };
        w.key(t, &key(k))
    })
}

/// `spdadd src[sport] dst[dport] ulproto -P dir type requests;`
fn spdadd(
    src: AddressRepr,
    dst: AddressRepr,
    dir: u8,
    policy_type: u16,
    rq: &[IpsecRequestRepr],
) -> StdVec<u8> {
    spd_msg(SADB_X_SPDADD, src, dst, &pol(policy_type, dir, rq), |_| {
        Ok(())
    })
}

fn any(a: IpAddr, plen: u8) -> AddressRepr {
    ad(a, plen, IPSEC_ULPROTO_ANY, 0)
}

/// The SA's key as GET returns it.
fn get_key(h: &mut H, satype: u8, spi: u32, src: IpAddr, dst: IpAddr) -> StdVec<u8> {
    let r = h.ok(&sa_ref(SADB_GET, satype, spi, src, dst));
    let p = dec(&r[0].1);
    assert_eq!(p.sa().unwrap().state, SADB_SASTATE_MATURE);
    let k = if satype == SADB_SATYPE_ESP {
        p.key_encrypt()
    } else {
        p.key_auth()
    };
    k.unwrap().key.to_vec()
}

/// A policy's action and templates as (proto, mode, level).
type Governing = (Action, StdVec<(IpsecProto, Mode, Level)>);

/// The templates (proto, mode, level) of the policy governing `flow`.
fn governing(h: &H, dir: Dir, flow: &FlowKey) -> Option<Governing> {
    let p = h.e.spd.lookup(dir, flow)?;
    Some((
        p.action,
        p.templates
            .iter()
            .map(|t| (t.proto, t.mode, t.level))
            .collect(),
    ))
}

const H1: IpAddr = IpAddr::V4([10, 1, 1, 1]);
const H2: IpAddr = IpAddr::V4([20, 1, 1, 1]);

#[test]
fn transport_pair_3des_rijndael_and_ah() {
    use IpsecProto::{Ah, Esp};
    let mut h = H::new();
    let esp_use = [transport(IPPROTO_ESP, IPSEC_LEVEL_USE)];
    let esp_req = [transport(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE)];
    h.ok(&add(
        H1,
        H2,
        SADB_SATYPE_ESP,
        9876,
        SADB_EALG_3DESCBC,
        b"hogehogehogehogehogehoge",
    ));
    h.ok(&add(
        H2,
        H1,
        SADB_SATYPE_ESP,
        10000,
        SADB_EALG_3DESCBC,
        DEADBEEF24,
    ));
    h.ok(&spdadd(
        any(H1, 32),
        any(H2, 32),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &esp_use,
    ));
    h.ok(&spdadd(
        any(H2, 32),
        any(H1, 32),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_IPSEC,
        &esp_req,
    ));
    assert_eq!(
        get_key(&mut h, 3, 9876, H1, H2),
        b"hogehogehogehogehogehoge"
    );
    assert_eq!(get_key(&mut h, 3, 10000, H2, H1), DEADBEEF24);
    let out = FlowKey::new(H1, H2, 6, 1000, 22);
    assert_eq!(
        governing(&h, Dir::Outbound, &out),
        Some((Action::Ipsec, vec![(Esp, Mode::Transport, Level::Use)]))
    );
    let inb = FlowKey::new(H2, H1, 17, 53, 53);
    assert_eq!(
        governing(&h, Dir::Inbound, &inb),
        Some((Action::Ipsec, vec![(Esp, Mode::Transport, Level::Require)]))
    );
    let sa = h.e.sad.lookup(&H2, 9876, Esp).unwrap();
    assert_eq!(
        (sa.enc_alg, sa.auth_alg, sa.mode()),
        (3, 0, Mode::Transport)
    );
    // A 3DES key of the wrong length is refused, as the FAQ warns.
    h.refused(
        &add(H1, H2, SADB_SATYPE_ESP, 9877, 3, b"hogehogehogehoge"),
        Errno::EINVAL,
    );

    // Rijndael (AES-128) and AH hmac-md5 with ESP+AH combined.
    h.ok(&bare(SADB_FLUSH, 0, 2));
    h.ok(&bare(SADB_X_SPDFLUSH, 0, 3));
    h.ok(&add(
        H1,
        H2,
        SADB_SATYPE_ESP,
        9876,
        SADB_X_EALG_AESCBC,
        b"hogehogehogehoge",
    ));
    h.ok(&add(
        H2,
        H1,
        SADB_SATYPE_ESP,
        10000,
        SADB_X_EALG_AESCBC,
        &DEADBEEF24[..16],
    ));
    h.ok(&add(
        H1,
        H2,
        SADB_SATYPE_AH,
        9877,
        SADB_AALG_MD5HMAC,
        b"hogehogehogehoge",
    ));
    h.ok(&add(
        H2,
        H1,
        SADB_SATYPE_AH,
        10001,
        SADB_AALG_MD5HMAC,
        b"mogamogamogamoga",
    ));
    let both = [
        transport(IPPROTO_ESP, IPSEC_LEVEL_USE),
        transport(IPPROTO_AH, IPSEC_LEVEL_USE),
    ];
    h.ok(&spdadd(
        any(H1, 32),
        any(H2, 32),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &both,
    ));
    assert_eq!(h.e.sad.len(), 4);
    assert_eq!(get_key(&mut h, 2, 10001, H2, H1), b"mogamogamogamoga");
    assert_eq!(h.e.sad.lookup(&H2, 9877, Ah).unwrap().auth_alg, 2);
    assert_eq!(h.e.sad.lookup(&H1, 10000, Esp).unwrap().enc_key.bits(), 128);
    assert_eq!(
        governing(&h, Dir::Outbound, &out),
        Some((
            Action::Ipsec,
            vec![
                (Esp, Mode::Transport, Level::Use),
                (Ah, Mode::Transport, Level::Use)
            ]
        ))
    );
}

#[test]
fn blowfish_tunnel_between_gateways() {
    let mut h = H::new();
    let (g1, g2) = (v4(20, 0, 0, 1), v4(20, 0, 0, 2));
    let (n1, n2) = (v4(10, 0, 1, 0), v4(10, 0, 2, 0));
    h.ok(&add(
        g1,
        g2,
        SADB_SATYPE_ESP,
        13245,
        SADB_X_EALG_BLOWFISHCBC,
        b"blowfishtest.001",
    ));
    h.ok(&add(
        g2,
        g1,
        SADB_SATYPE_ESP,
        13246,
        SADB_X_EALG_BLOWFISHCBC,
        &DEADBEEF24[..16],
    ));
    let out_rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, g1, g2)];
    let in_rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, g2, g1)];
    h.ok(&spdadd(
        any(n1, 24),
        any(n2, 24),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &out_rq,
    ));
    h.ok(&spdadd(
        any(n2, 24),
        any(n1, 24),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_IPSEC,
        &in_rq,
    ));
    assert_eq!(get_key(&mut h, 3, 13245, g1, g2), b"blowfishtest.001");
    let flow = FlowKey::new(v4(10, 0, 1, 7), v4(10, 0, 2, 9), 6, 4000, 80);
    let p = h.e.spd.lookup(Dir::Outbound, &flow).unwrap();
    let t = p.templates[0];
    assert_eq!(
        (t.mode, t.src, t.dst, t.level),
        (Mode::Tunnel, g1, g2, Level::Require)
    );
    assert_eq!(
        (p.selector.src_plen, p.selector.dst_plen, p.selector.proto),
        (24, 24, PROTO_ANY)
    );
    assert!(h
        .e
        .spd
        .lookup(Dir::Outbound, &FlowKey::new(n2, n1, 6, 1, 1))
        .is_none());
    // The dump shows the tunnel endpoints and prefixes back.
    let dump = h.dump_all(SADB_X_SPDDUMP, 0);
    let p = dec(&dump[0]);
    assert_eq!(p.address_src().unwrap().prefixlen, 24);
    assert_eq!(
        p.policy().unwrap().requests().next().unwrap().addrs,
        Some((g1, g2))
    );
}

#[test]
fn rijndael_leaf_node_to_router() {
    let mut h = H::new();
    let (leaf, router) = (v4(10, 0, 1, 5), v4(10, 0, 1, 1));
    h.ok(&add(
        router,
        leaf,
        SADB_SATYPE_ESP,
        1011,
        SADB_X_EALG_AESCBC,
        b"rijndaeltest.001",
    ));
    h.ok(&add(
        leaf,
        router,
        SADB_SATYPE_ESP,
        1012,
        SADB_X_EALG_AESCBC,
        &DEADBEEF24[..16],
    ));
    let out_rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, leaf, router)];
    let in_rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, router, leaf)];
    let anywhere = any(IpAddr::UNSPEC_V4, 0);
    h.ok(&spdadd(
        any(leaf, 32),
        anywhere,
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &out_rq,
    ));
    h.ok(&spdadd(
        anywhere,
        any(leaf, 32),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_IPSEC,
        &in_rq,
    ));
    let web = FlowKey::new(leaf, v4(198, 51, 100, 7), 6, 5555, 443);
    let p = h.e.spd.lookup(Dir::Outbound, &web).unwrap();
    assert_eq!((p.templates[0].src, p.templates[0].dst), (leaf, router));
    let back = FlowKey::new(v4(198, 51, 100, 7), leaf, 6, 443, 5555);
    assert!(h.e.spd.lookup(Dir::Inbound, &back).is_some());
    assert_eq!(get_key(&mut h, 3, 1011, router, leaf), b"rijndaeltest.001");
}

#[test]
fn port_selectors_protect_pop3_only() {
    let mut h = H::new();
    let (a, b) = (v4(10, 0, 0, 1), v4(10, 0, 0, 2));
    let tcp = |addr, plen, port| ad(addr, plen, 6, port);
    let anywhere = IpAddr::UNSPEC_V4;
    let ah = [transport(IPPROTO_AH, IPSEC_LEVEL_REQUIRE)];
    h.ok(&spdadd(
        tcp(a, 32, 110),
        tcp(a, 32, 0),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_NONE,
        &[],
    ));
    h.ok(&spdadd(
        tcp(a, 32, 0),
        tcp(a, 32, 110),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_NONE,
        &[],
    ));
    h.ok(&spdadd(
        tcp(a, 32, 110),
        tcp(anywhere, 0, 0),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &ah,
    ));
    h.ok(&spdadd(
        tcp(anywhere, 0, 0),
        tcp(a, 32, 110),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_IPSEC,
        &ah,
    ));
    assert_eq!(h.e.spd.len(), 4);
    // Local POP3 stays clear; POP3 to others needs AH; other ports: nothing.
    let local = FlowKey::new(a, a, 6, 110, 40000);
    assert_eq!(
        governing(&h, Dir::Outbound, &local),
        Some((Action::None, vec![]))
    );
    let remote = FlowKey::new(a, b, 6, 110, 40000);
    assert_eq!(
        governing(&h, Dir::Outbound, &remote),
        Some((
            Action::Ipsec,
            vec![(IpsecProto::Ah, Mode::Transport, Level::Require)]
        ))
    );
    assert_eq!(
        governing(&h, Dir::Outbound, &FlowKey::new(a, b, 6, 111, 1)),
        None
    );
    assert_eq!(
        governing(&h, Dir::Outbound, &FlowKey::new(a, b, 17, 110, 1)),
        None
    );
    let inb = FlowKey::new(b, a, 6, 40000, 110);
    assert!(governing(&h, Dir::Inbound, &inb).is_some());
    // The dump reports ports and protocol as given.
    let dump = h.dump_all(SADB_X_SPDDUMP, 0);
    let p = dec(&dump[0]);
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!((s.port, s.proto, d.port, d.proto), (110, 6, 0, 6));
    assert_eq!(p.policy().unwrap().policy_type, IPSEC_POLICY_NONE);
    // The same selector again is EEXIST.
    h.refused(
        &spdadd(
            tcp(a, 32, 110),
            tcp(a, 32, 0),
            IPSEC_DIR_OUTBOUND,
            IPSEC_POLICY_NONE,
            &[],
        ),
        Errno::EEXIST,
    );
}

/// `h2h-ah-md5.conf`: two AH hmac-md5 SAs and an outbound `use` policy.
#[test]
fn h2h_ah_md5_seed() {
    let mut h = H::new();
    h.ok(&add(
        H1,
        H2,
        SADB_SATYPE_AH,
        9877,
        SADB_AALG_MD5HMAC,
        b"hogehogehogehoge",
    ));
    h.ok(&add(
        H2,
        H1,
        SADB_SATYPE_AH,
        10001,
        SADB_AALG_MD5HMAC,
        b"mogamogamogamoga",
    ));
    let ah_use = [transport(IPPROTO_AH, IPSEC_LEVEL_USE)];
    h.ok(&spdadd(
        any(H1, 32),
        any(H2, 32),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &ah_use,
    ));
    assert_eq!(get_key(&mut h, 2, 9877, H1, H2), b"hogehogehogehoge");
    assert_eq!(get_key(&mut h, 2, 10001, H2, H1), b"mogamogamogamoga");
    let sa = h.e.sad.lookup(&H2, 9877, IpsecProto::Ah).unwrap();
    assert_eq!((sa.auth_alg, sa.enc_alg, sa.replay_window), (2, 0, 0));
    // The policy's AH template finds the outbound SA (mode any = transport).
    let out = FlowKey::new(H1, H2, 1, 0, 0);
    assert_eq!(
        governing(&h, Dir::Outbound, &out),
        Some((
            Action::Ipsec,
            vec![(IpsecProto::Ah, Mode::Transport, Level::Use)]
        ))
    );
    let t = h.e.spd.lookup(Dir::Outbound, &out).unwrap().templates[0];
    assert!(matches!(
        h.e.sad.find_output(&H1, &H2, t.proto, t.mode, t.reqid),
        crate::logic::sad::OutputSa::Valid(s) if s.ident().spi == 9877
    ));
    // The dump shows AH with its MAC and no cipher.
    let d = h.dump_all(SADB_DUMP, SADB_SATYPE_AH);
    assert_eq!(d.len(), 2);
    let p = dec(&d[0]);
    assert_eq!((p.satype(), p.sa().unwrap().auth), (2, 2));
    assert!(p.key_encrypt().is_none() && p.key_auth().is_some());
}

/// `h2h-esp-ah.conf`: ESP 3des-cbc and AH hmac-md5 on one flow; both
/// templates of the outbound policy find their SA.
#[test]
fn h2h_esp_ah_seed() {
    let mut h = H::new();
    for (src, dst, satype, spi, alg, k) in [
        (
            H1,
            H2,
            SADB_SATYPE_ESP,
            9876,
            SADB_EALG_3DESCBC,
            &b"hogehogehogehogehogehoge"[..],
        ),
        (
            H2,
            H1,
            SADB_SATYPE_ESP,
            10000,
            SADB_EALG_3DESCBC,
            DEADBEEF24,
        ),
        (
            H1,
            H2,
            SADB_SATYPE_AH,
            9877,
            SADB_AALG_MD5HMAC,
            b"hogehogehogehoge",
        ),
        (
            H2,
            H1,
            SADB_SATYPE_AH,
            10001,
            SADB_AALG_MD5HMAC,
            b"mogamogamogamoga",
        ),
    ] {
        h.ok(&add(src, dst, satype, spi, alg, k));
    }
    let both = [
        transport(IPPROTO_ESP, IPSEC_LEVEL_USE),
        transport(IPPROTO_AH, IPSEC_LEVEL_USE),
    ];
    h.ok(&spdadd(
        any(H1, 32),
        any(H2, 32),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &both,
    ));
    let flow = FlowKey::new(H1, H2, 6, 5000, 80);
    let p = h.e.spd.lookup(Dir::Outbound, &flow).unwrap();
    let spis: StdVec<u32> = p
        .templates
        .iter()
        .map(
            |t| match h.e.sad.find_output(&H1, &H2, t.proto, t.mode, t.reqid) {
                crate::logic::sad::OutputSa::Valid(s) => s.ident().spi,
                _ => 0,
            },
        )
        .collect();
    assert_eq!(spis, [9876, 9877], "ESP first, AH outermost");
    assert_eq!(h.e.sad.count(IpsecProto::Ah), 2);
    assert_eq!(h.e.sad.count(IpsecProto::Esp), 2);
}

/// The FAQ's POP example from B's side: `spdadd B A[110] tcp -P out ipsec
/// ah/transport//require;` and its inbound twin, then what racoon does
/// for the first connection: ACQUIRE (an AH proposal), GETSPI for the
/// inbound SA, UPDATE, ADD of the outbound one.
#[test]
fn pop3_ah_from_the_client_with_an_ike_daemon() {
    let mut h = H::new();
    let (a, b) = (v4(10, 0, 0, 1), v4(10, 0, 0, 2));
    let tcp = |addr, port| ad(addr, 32, 6, port);
    let ah = [transport(IPPROTO_AH, IPSEC_LEVEL_REQUIRE)];
    let out = dec(&h.ok(&spdadd(
        tcp(b, 0),
        tcp(a, 110),
        IPSEC_DIR_OUTBOUND,
        IPSEC_POLICY_IPSEC,
        &ah,
    ))[0]
        .1)
    .policy()
    .unwrap()
    .id;
    h.ok(&spdadd(
        tcp(a, 110),
        tcp(b, 0),
        IPSEC_DIR_INBOUND,
        IPSEC_POLICY_IPSEC,
        &ah,
    ));
    assert!(governing(&h, Dir::Outbound, &FlowKey::new(b, a, 6, 40000, 25)).is_none());
    let pop = FlowKey::new(b, a, 6, 40000, 110);
    let mut sent = Rec::default();
    h.ok(&bare(SADB_REGISTER, SADB_SATYPE_AH, 1));
    h.e.acquire(out, 0, &pop, h.now, &ALL_ALGS, &mut sent)
        .unwrap();
    let acq = dec(&sent.msgs[0].1);
    assert_eq!(
        (acq.msg_type(), acq.satype()),
        (SADB_ACQUIRE, SADB_SATYPE_AH)
    );
    let seq = acq.seq();
    assert!(acq
        .proposal()
        .unwrap()
        .combs()
        .all(|c| c.auth != SADB_X_AALG_NULL && c.encrypt == 0));
    // GETSPI for a → b (the inbound SA), then UPDATE with the keys.
    let gs = msg(hdr(SADB_GETSPI, SADB_SATYPE_AH, seq), |w| {
        w.sa2(&Sa2Repr {
            mode: IPSEC_MODE_TRANSPORT,
            ..Sa2Repr::default()
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(a))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(b))
    });
    let spi_in = dec(&h.ok(&gs)[0].1).sa().unwrap().spi;
    let ah_msg = |t, spi, src, dst| {
        let sa = SaRepr {
            spi,
            replay: 4,
            state: SADB_SASTATE_MATURE,
            auth: SADB_AALG_SHA1HMAC,
            ..SaRepr::default()
        };
        msg(hdr(t, SADB_SATYPE_AH, seq), move |w| {
            sa_exts(w, &sa, src, dst)?;
            w.key(SADB_EXT_KEY_AUTH, &key(KEY_SHA1))?;
            w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 28800, 0))?;
            w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 28800, 0))
        })
    };
    h.ok(&ah_msg(SADB_UPDATE, spi_in, a, b));
    h.ok(&ah_msg(SADB_ADD, 0x5151, b, a));
    // The ACQUIRE's larval SA went with the ADD; both SAs are mature.
    assert_eq!(h.e.sad.len(), 2);
    assert!(h
        .e
        .sad
        .iter()
        .all(|s| s.state() == crate::logic::types::SaState::Mature));
    let t = h.e.spd.lookup(Dir::Outbound, &pop).unwrap().templates[0];
    assert!(matches!(
        h.e.sad.find_output(&b, &a, t.proto, t.mode, t.reqid),
        crate::logic::sad::OutputSa::Valid(s) if s.ident().spi == 0x5151
    ));
    assert!(h.e.sad.lookup(&b, spi_in, IpsecProto::Ah).is_some());
}
