//! Kernel-originated messages: SADB_EXPIRE from SA lifetimes and larval
//! timeouts, SADB_X_SPDEXPIRE, and ACQUIRE → GETSPI → UPDATE.

use super::*;
use crate::logic::pfkey::SpiRangeRepr;
use crate::logic::sad::OutputSa;
use crate::logic::selector::FlowKey;
use crate::logic::types::{IpsecProto, Mode};

const A: IpAddr = IpAddr::V4([10, 1, 1, 1]);
const B: IpAddr = IpAddr::V4([20, 1, 1, 1]);

fn with_lifetimes(spi: u32, hard: LifetimeRepr, soft: LifetimeRepr) -> StdVec<u8> {
    esp_msg_with(SADB_ADD, 1, spi, A, B, move |w| {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &hard)?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &soft)
    })
}

/// Runs the timers at `at`; returns the count and what they sent.
fn tick(h: &mut H, at: u64) -> (usize, StdVec<(Audience, StdVec<u8>)>) {
    let mut out = Rec::default();
    let n = h.e.tick(at, &mut out);
    (n, out.msgs)
}

/// One EXPIRE for `spi` to the ESP key managers, `hard` or soft.
fn assert_expire(msgs: &[(Audience, StdVec<u8>)], spi: u32, hard: bool) {
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].0, Audience::Registered(SADB_SATYPE_ESP));
    let p = dec(&msgs[0].1);
    assert_eq!(
        (p.msg_type(), p.satype(), p.seq(), p.pid()),
        (SADB_EXPIRE, 3, 0, 0)
    );
    let sa = p.sa().unwrap();
    assert_eq!(sa.spi, spi);
    let state = if hard {
        SADB_SASTATE_DEAD
    } else {
        SADB_SASTATE_DYING
    };
    assert_eq!(sa.state, state);
    assert_eq!(p.lifetime_hard().is_some(), hard);
    assert_eq!(p.lifetime_soft().is_some(), !hard);
    assert!(p.lifetime_current().is_some());
    assert!(p.key_auth().is_none() && p.key_encrypt().is_none());
}

#[test]
fn sa_lifetimes_expire_soft_once_then_hard() {
    let mut h = H::new();
    h.ok(&bare(SADB_REGISTER, SADB_SATYPE_ESP, 1));
    let t = h.now;
    h.ok(&with_lifetimes(
        0x10,
        lifetime(0, 20, 0),
        lifetime(0, 10, 0),
    ));
    assert_eq!(tick(&mut h, t + 9).0, 0);
    let (n, m) = tick(&mut h, t + 10);
    assert_eq!(n, 1);
    assert_expire(&m, 0x10, false);
    assert_eq!(tick(&mut h, t + 11).0, 0, "soft fires once");
    let (n, m) = tick(&mut h, t + 20);
    assert_eq!(n, 1);
    assert_expire(&m, 0x10, true);
    assert!(h.e.sad.is_empty(), "hard expiry removes the SA");
    assert_eq!(tick(&mut h, t + 30).0, 0);

    // Bytes.
    h.ok(&with_lifetimes(
        0x11,
        lifetime(2000, 0, 0),
        lifetime(1000, 0, 0),
    ));
    assert_eq!(tick(&mut h, t + 40).0, 0);
    h.e.sad
        .lookup_mut(&B, 0x11, IpsecProto::Esp)
        .unwrap()
        .current
        .bytes = 1500;
    assert_expire(&tick(&mut h, t + 41).1, 0x11, false);
    h.e.sad
        .lookup_mut(&B, 0x11, IpsecProto::Esp)
        .unwrap()
        .current
        .bytes = 2000;
    assert_expire(&tick(&mut h, t + 42).1, 0x11, true);

    // Use time counts from first use; UPDATE re-arms the soft limit.
    h.ok(&with_lifetimes(0x12, lifetime(0, 0, 8), lifetime(0, 0, 5)));
    assert_eq!(
        tick(&mut h, t + 1000).0,
        0,
        "never used: no use-time expiry"
    );
    h.e.sad
        .lookup_mut(&B, 0x12, IpsecProto::Esp)
        .unwrap()
        .current
        .usetime = t + 1000;
    assert_expire(&tick(&mut h, t + 1005).1, 0x12, false);
    let upd = esp_msg_with(SADB_UPDATE, 2, 0x12, A, B, |w| {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 0, 20))?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 0, 10))
    });
    h.ok(&upd);
    assert_eq!(tick(&mut h, t + 1009).0, 0);
    assert_expire(&tick(&mut h, t + 1010).1, 0x12, false);
    assert_expire(&tick(&mut h, t + 1020).1, 0x12, true);
    assert!(h.e.sad.is_empty());
}

#[test]
fn larval_sa_times_out_with_a_hard_expire() {
    let mut h = H::new();
    let t = h.now;
    let m = msg(hdr(SADB_GETSPI, SADB_SATYPE_ESP, 3), |w| {
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(B))?;
        w.spirange(&SpiRangeRepr {
            min: 0x500,
            max: 0x5ff,
        })
    });
    h.ok(&m);
    assert_eq!(tick(&mut h, t + 29).0, 0);
    let (n, msgs) = tick(&mut h, t + 30);
    assert_eq!(n, 1);
    assert_eq!(msgs[0].0, Audience::Registered(SADB_SATYPE_ESP));
    let p = dec(&msgs[0].1);
    assert_eq!(p.msg_type(), SADB_EXPIRE);
    assert_eq!(p.lifetime_hard().unwrap().addtime, 30);
    assert!(h.e.sad.is_empty());
}

#[test]
fn policy_lifetimes_give_spdexpire() {
    let mut h = H::new();
    let t = h.now;
    let m = spd_msg(
        SADB_X_SPDADD,
        host(A),
        host(B),
        &pol(IPSEC_POLICY_NONE, IPSEC_DIR_OUTBOUND, &[]),
        |w| {
            w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 100, 0))?;
            w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 50, 0))
        },
    );
    let id = dec(&h.ok(&m)[0].1).policy().unwrap().id;
    assert_eq!(tick(&mut h, t + 49).0, 0);
    let (n, msgs) = tick(&mut h, t + 50);
    assert_eq!((n, msgs.len()), (1, 1));
    assert_eq!(msgs[0].0, Audience::All);
    let p = dec(&msgs[0].1);
    assert_eq!(p.msg_type(), SADB_X_SPDEXPIRE);
    assert_eq!(p.policy().unwrap().id, id);
    assert!(p.lifetime_soft().is_some() && p.lifetime_hard().is_none());
    assert!(h.e.spd.get(id).is_some());
    assert_eq!(tick(&mut h, t + 51).0, 0);
    let (_, msgs) = tick(&mut h, t + 100);
    assert!(dec(&msgs[0].1).lifetime_hard().is_some());
    assert!(h.e.spd.is_empty());
}

/// `spdadd A B any -P out ipsec <rq>`; returns the policy index.
fn out_policy(h: &mut H, rq: IpsecRequestRepr) -> u32 {
    let m = spd_msg(
        SADB_X_SPDADD,
        host(A),
        host(B),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &[rq]),
        |_| Ok(()),
    );
    dec(&h.ok(&m)[0].1).policy().unwrap().id
}

#[test]
fn acquire_then_getspi_then_update() {
    let mut h = H::new();
    let index = out_policy(&mut h, transport(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE));
    let probe = Probe(&["cbc(des)", "hmac(md5)", "rfc4309(ccm(aes))"]);
    let flow = FlowKey::new(A, B, 6, 1234, 80);
    let mut out = Rec::default();
    h.e.acquire(index, 0, &flow, h.now, &probe, &mut out)
        .unwrap();
    assert_eq!(out.msgs.len(), 1);
    assert_eq!(out.msgs[0].0, Audience::Registered(SADB_SATYPE_ESP));
    let p = dec(&out.msgs[0].1);
    assert_eq!((p.msg_type(), p.satype(), p.pid()), (SADB_ACQUIRE, 3, 0));
    let seq = p.seq();
    assert_ne!(seq, 0);
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!((s.addr, s.prefixlen, d.addr, d.prefixlen), (A, 32, B, 32));
    let x = p.policy().unwrap();
    assert_eq!((x.id, x.dir, x.policy_type), (index, IPSEC_DIR_OUTBOUND, 2));
    let prop = p.proposal().unwrap();
    assert_eq!(prop.replay, 32);
    let combs: StdVec<_> = prop.combs().collect();
    assert!(combs.iter().any(|c| (c.encrypt, c.auth) == (3, 3)));
    assert!(combs.iter().all(|c| c.encrypt != SADB_EALG_DESCBC));
    assert!(combs.iter().all(|c| c.auth != SADB_AALG_MD5HMAC));
    assert!(combs.iter().all(|c| c.auth != SADB_X_AALG_NULL));
    assert!(combs.iter().all(|c| c.encrypt != SADB_X_EALG_AES_CCM_ICV16));
    // AEADs stand alone.
    assert!(combs.iter().any(|c| (c.encrypt, c.auth) == (20, 0)));
    let c = combs
        .iter()
        .find(|c| c.encrypt == 12 && c.auth == 3)
        .unwrap();
    assert_eq!(
        (c.encrypt_minbits, c.encrypt_maxbits, c.auth_minbits),
        (128, 256, 160)
    );
    assert_eq!(
        (c.hard_addtime, c.soft_addtime, c.hard_usetime),
        (86400, 72000, 28800)
    );
    assert_eq!(h.e.sad.len(), 1);

    // Still pending: no second ACQUIRE, no second larval SA.
    out.msgs.clear();
    h.e.acquire(index, 0, &flow, h.now, &probe, &mut out)
        .unwrap();
    assert!(out.msgs.is_empty());
    assert_eq!(h.e.sad.len(), 1);

    // The key manager answers with the ACQUIRE's seq.
    let gs = msg(hdr(SADB_GETSPI, SADB_SATYPE_ESP, seq), |w| {
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(B))
    });
    let r = h.ok(&gs);
    let spi = dec(&r[0].1).sa().unwrap().spi;
    assert!((0x100..=0x0fff_ffff).contains(&spi));
    assert_eq!(h.e.sad.len(), 1, "GETSPI took the ACQUIRE's larval SA");
    match h
        .e
        .sad
        .find_output(&A, &B, IpsecProto::Esp, Mode::Transport, 0)
    {
        OutputSa::Acquiring(l) => assert_eq!(l.spi(), spi),
        o => panic!("{o:?}"),
    }
    h.ok(&esp_msg(SADB_UPDATE, seq, spi, A, B));
    assert_eq!(h.e.sad.len(), 1);
    match h
        .e
        .sad
        .find_output(&A, &B, IpsecProto::Esp, Mode::Transport, 0)
    {
        OutputSa::Valid(sa) => assert_eq!(sa.spi(), spi),
        o => panic!("{o:?}"),
    }

    assert_eq!(
        h.e.acquire(index + 8, 0, &flow, h.now, &probe, &mut out),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        h.e.acquire(index, 1, &flow, h.now, &probe, &mut out),
        Err(Errno::EINVAL)
    );
}

#[test]
fn acquire_addresses_proposals_and_limit() {
    let mut h = H::with_limits(1, 10);
    let gw = (v4(9, 9, 9, 1), v4(9, 9, 9, 2));
    let tun = out_policy(&mut h, tunnel(IPPROTO_AH, IPSEC_LEVEL_REQUIRE, gw.0, gw.1));
    let flow = FlowKey::new(A, B, 17, 53, 53);
    let mut out = Rec::default();
    h.e.acquire(tun, 0, &flow, h.now, &ALL_ALGS, &mut out)
        .unwrap();
    let p = dec(&out.msgs[0].1);
    assert_eq!(p.satype(), SADB_SATYPE_AH);
    assert_eq!(p.address_src().unwrap().addr, gw.0, "tunnel endpoints");
    assert_eq!(p.address_dst().unwrap().addr, gw.1);
    let combs: StdVec<_> = p.proposal().unwrap().combs().collect();
    assert!(combs.iter().all(|c| c.encrypt == 0 && c.auth != 0));
    assert!(combs.iter().any(|c| c.auth == SADB_AALG_SHA1HMAC));
    assert_eq!(h.e.sad.len(), 1);

    // The SAD is full (limit 1): ENOBUFS and no larval SA.
    let m = spd_msg(
        SADB_X_SPDADD,
        host(B),
        host(A),
        &pol(
            IPSEC_POLICY_IPSEC,
            IPSEC_DIR_OUTBOUND,
            &[transport(IPPROTO_COMP, IPSEC_LEVEL_REQUIRE)],
        ),
        |_| Ok(()),
    );
    let comp = dec(&h.ok(&m)[0].1).policy().unwrap().id;
    let back = FlowKey::new(B, A, 17, 53, 53);
    out.msgs.clear();
    assert_eq!(
        h.e.acquire(comp, 0, &back, h.now, &ALL_ALGS, &mut out),
        Err(Errno::ENOBUFS)
    );
    assert!(out.msgs.is_empty());
    assert_eq!(h.e.sad.len(), 1);
    // IPComp: no proposal at all (af_key).
    h.e.limits.max_states = 2;
    h.e.acquire(comp, 0, &back, h.now, &ALL_ALGS, &mut out)
        .unwrap();
    let p = dec(&out.msgs[0].1);
    assert_eq!(p.satype(), SADB_X_SATYPE_IPCOMP);
    assert!(p.proposal().is_none());
    assert_eq!(p.address_src().unwrap().addr, B);
}

#[test]
fn datapath_expiry_is_reported_once() {
    use crate::logic::lifetime::Expiry;
    use crate::logic::sad::Charge;
    let mut h = H::new();
    let t = h.now;
    h.ok(&with_lifetimes(
        0x20,
        lifetime(1000, 0, 0),
        lifetime(100, 0, 0),
    ));
    let sa = h.e.sad.lookup_mut(&B, 0x20, IpsecProto::Esp).unwrap();
    assert_eq!(sa.charge(150, t + 1), Charge::Ok);
    assert_eq!(sa.charge(150, t + 1), Charge::SoftExpired);
    let id = sa.id();
    let mut out = Rec::default();
    assert!(h.e.expire_sa(id, Expiry::Soft, &mut out));
    assert_expire(&out.msgs, 0x20, false);
    assert_eq!(
        tick(&mut h, t + 2).0,
        0,
        "the datapath's soft expiry is not repeated"
    );
    out.msgs.clear();
    assert!(h.e.expire_sa(id, Expiry::Hard, &mut out));
    assert_expire(&out.msgs, 0x20, true);
    assert!(h.e.sad.is_empty());
    assert!(!h.e.expire_sa(id, Expiry::Hard, &mut out));
}
