//! Policy messages: X_SPDADD/UPDATE/SETIDX, X_SPDDELETE, X_SPDDELETE2,
//! X_SPDGET, X_SPDFLUSH, templates and the policy limit.

use super::*;
use crate::logic::selector::FlowKey;
use crate::logic::types::{Action, Dir, IpsecProto, Level, Mode};

const N1: IpAddr = IpAddr::V4([10, 0, 1, 0]);
const N2: IpAddr = IpAddr::V4([10, 0, 2, 0]);
const GW1: IpAddr = IpAddr::V4([20, 0, 0, 1]);
const GW2: IpAddr = IpAddr::V4([20, 0, 0, 2]);

/// `spdadd 10.0.1.0/24[any] 10.0.2.0/24[80] tcp -P <dir> ipsec
/// esp/tunnel/20.0.0.1-20.0.0.2/require` with `t` and `extra`.
fn tunnel_policy(
    t: u8,
    dir: u8,
    priority: u32,
    extra: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>,
) -> StdVec<u8> {
    let rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, GW1, GW2)];
    let p = PolicyRepr {
        priority,
        ..pol(IPSEC_POLICY_IPSEC, dir, &rq)
    };
    spd_msg(t, ad(N1, 24, 6, 0), ad(N2, 24, 6, 80), &p, extra)
}

fn id_msg(t: u8, id: u32) -> StdVec<u8> {
    let p = PolicyRepr {
        id,
        ..pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &[])
    };
    msg(hdr(t, 0, 12), |w| w.policy(&p))
}

#[test]
fn spdadd_notifies_and_spdget_returns_it() {
    let mut h = H::new();
    let m = tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_OUTBOUND, 7, |w| {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 3600, 0))?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 3000, 0))
    });
    let r = h.ok(&m);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    let added = r[0].1.clone();
    let p = dec(&added);
    assert_eq!(
        (p.msg_type(), p.satype(), p.seq(), p.pid()),
        (SADB_X_SPDADD, 0, 11, PID)
    );
    let x = p.policy().unwrap();
    assert_eq!(
        (x.policy_type, x.dir, x.priority),
        (IPSEC_POLICY_IPSEC, 2, 7)
    );
    assert_eq!(x.id & 7, 1, "outbound lives in the id's low bits");
    let rq: StdVec<_> = x.requests().collect();
    assert_eq!(rq, [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, GW1, GW2)]);
    let (s, d) = (p.address_src().unwrap(), p.address_dst().unwrap());
    assert_eq!((s.addr, s.prefixlen, s.proto, s.port), (N1, 24, 6, 0));
    assert_eq!((d.addr, d.prefixlen, d.proto, d.port), (N2, 24, 6, 80));
    assert_eq!(p.lifetime_hard().unwrap().addtime, 3600);
    assert_eq!(p.lifetime_soft().unwrap().addtime, 3000);
    assert_eq!(p.lifetime_current().unwrap().addtime, h.now);

    let pol = h.e.spd.get(x.id).unwrap();
    assert_eq!(pol.dir, Dir::Outbound);
    assert_eq!(pol.templates[0].mode, Mode::Tunnel);
    let flow = FlowKey::new(v4(10, 0, 1, 5), v4(10, 0, 2, 9), 6, 1234, 80);
    assert_eq!(h.e.spd.lookup(Dir::Outbound, &flow).unwrap().index(), x.id);

    let r = h.ok(&id_msg(SADB_X_SPDGET, x.id));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Sender);
    let g = dec(&r[0].1);
    assert_eq!((g.msg_type(), g.seq(), g.pid()), (SADB_X_SPDGET, 12, PID));
    assert_eq!(g.policy().unwrap().id, x.id);
    // The same body as the notification.
    assert_eq!(&r[0].1[16..], &added[16..]);

    h.refused(&m, Errno::EEXIST);
    h.refused(&id_msg(SADB_X_SPDGET, x.id + 8), Errno::ENOENT);
    h.refused(&id_msg(SADB_X_SPDGET, 3), Errno::EINVAL);
}

#[test]
fn tunnel_endpoint_ports_are_accepted_and_reported_as_zero() {
    // `esp/tunnel/20.0.0.1[500]-20.0.0.2[4500]/require`: af_key ignores
    // the sockaddrs' ports and reports them as zero; so does the engine.
    let mut h = H::new();
    let rq = [IpsecRequestRepr {
        ports: (500, 4500),
        ..tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, GW1, GW2)
    }];
    let p = pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &rq);
    let m = spd_msg(
        SADB_X_SPDADD,
        ad(N1, 24, 6, 0),
        ad(N2, 24, 6, 80),
        &p,
        |_| Ok(()),
    );
    let r = h.ok(&m);
    let got: StdVec<_> = dec(&r[0].1).policy().unwrap().requests().collect();
    assert_eq!(got, [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, GW1, GW2)]);
    assert_eq!(got[0].ports, (0, 0));
}

#[test]
fn spdupdate_replaces_in_place_and_setidx_adds() {
    let mut h = H::new();
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_OUTBOUND, 1, |_| {
        Ok(())
    }));
    let first =
        h.e.spd
            .dump_next(&mut h.e.spd.dump_cursor())
            .unwrap()
            .index();
    let r = h.ok(&tunnel_policy(
        SADB_X_SPDUPDATE,
        IPSEC_DIR_OUTBOUND,
        9,
        |_| Ok(()),
    ));
    let p = dec(&r[0].1);
    assert_eq!(p.msg_type(), SADB_X_SPDUPDATE);
    assert_eq!(p.policy().unwrap().id, first);
    assert_eq!(h.e.spd.len(), 1);
    assert_eq!(h.e.spd.get(first).unwrap().priority, 9);
    // SPDUPDATE of a new selector adds; SPDSETIDX is reported as SPDADD.
    let r = h.ok(&tunnel_policy(
        SADB_X_SPDUPDATE,
        IPSEC_DIR_INBOUND,
        0,
        |_| Ok(()),
    ));
    assert_eq!(dec(&r[0].1).policy().unwrap().dir, IPSEC_DIR_INBOUND);
    let r = h.ok(&tunnel_policy(SADB_X_SPDSETIDX, IPSEC_DIR_FWD, 0, |_| {
        Ok(())
    }));
    assert_eq!(dec(&r[0].1).msg_type(), SADB_X_SPDADD);
    assert_eq!(h.e.spd.len(), 3);
}

#[test]
fn spddelete_by_selector_and_by_index() {
    let mut h = H::new();
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_OUTBOUND, 0, |_| {
        Ok(())
    }));
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_INBOUND, 0, |_| {
        Ok(())
    }));
    // Same selector, other direction: not there.
    h.refused(
        &tunnel_policy(SADB_X_SPDDELETE, IPSEC_DIR_FWD, 0, |_| Ok(())),
        Errno::ENOENT,
    );
    // The selector must match exactly (here the port differs).
    let rq = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE, GW1, GW2)];
    let other = spd_msg(
        SADB_X_SPDDELETE,
        ad(N1, 24, 6, 0),
        ad(N2, 24, 6, 81),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &rq),
        |_| Ok(()),
    );
    h.refused(&other, Errno::ENOENT);
    let r = h.ok(&tunnel_policy(
        SADB_X_SPDDELETE,
        IPSEC_DIR_OUTBOUND,
        0,
        |_| Ok(()),
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    let p = dec(&r[0].1);
    assert_eq!((p.msg_type(), p.seq()), (SADB_X_SPDDELETE, 11));
    assert_eq!(p.policy().unwrap().dir, IPSEC_DIR_OUTBOUND);
    assert_eq!(h.e.spd.len(), 1);

    let inbound =
        h.e.spd
            .dump_next(&mut h.e.spd.dump_cursor())
            .unwrap()
            .index();
    let r = h.ok(&id_msg(SADB_X_SPDDELETE2, inbound));
    assert_eq!(r[0].0, Audience::All);
    assert_eq!(dec(&r[0].1).msg_type(), SADB_X_SPDDELETE2);
    assert_eq!(dec(&r[0].1).policy().unwrap().id, inbound);
    assert!(h.e.spd.is_empty());
    h.refused(&id_msg(SADB_X_SPDDELETE2, inbound), Errno::ENOENT);
}

#[test]
fn spdflush_echoes_and_broadcasts() {
    let mut h = H::new();
    let r = h.ok(&bare(SADB_X_SPDFLUSH, 0, 3));
    assert_eq!(r.len(), 1, "empty SPD: the echo only");
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_OUTBOUND, 0, |_| {
        Ok(())
    }));
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_INBOUND, 0, |_| {
        Ok(())
    }));
    let r = h.ok(&bare(SADB_X_SPDFLUSH, 0, 4));
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].0, r[1].0), (Audience::Sender, Audience::All));
    for (_, b) in &r {
        let p = dec(b);
        assert_eq!(
            (p.msg_type(), p.seq(), p.pid(), p.len_words()),
            (SADB_X_SPDFLUSH, 4, PID, 2)
        );
    }
    assert!(h.e.spd.is_empty());
}

#[test]
fn templates_levels_and_unique_reqids() {
    let mut h = H::new();
    let mut manual = transport(IPPROTO_ESP, IPSEC_LEVEL_UNIQUE);
    manual.reqid = 5;
    let mut big = transport(IPPROTO_AH, IPSEC_LEVEL_UNIQUE);
    big.reqid = 0x4000; // above the manual range: the kernel picks one
    let rq = [
        transport(IPPROTO_COMP, IPSEC_LEVEL_USE),
        manual,
        big,
        transport(IPPROTO_ESP, IPSEC_LEVEL_UNIQUE),
        transport(IPPROTO_AH, IPSEC_LEVEL_DEFAULT),
    ];
    let a = v4(10, 0, 0, 1);
    let b = v4(10, 0, 0, 2);
    let m = spd_msg(
        SADB_X_SPDADD,
        host(a),
        host(b),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &rq),
        |_| Ok(()),
    );
    let r = h.ok(&m);
    let x = dec(&r[0].1).policy().unwrap();
    let got: StdVec<(u8, u32)> = x.requests().map(|r| (r.level, r.reqid)).collect();
    assert_eq!(
        got,
        [
            (1, 0),
            (3, 5),
            (3, 0x4000),
            (3, 0x4001),
            (IPSEC_LEVEL_REQUIRE, 0)
        ]
    );
    let t = &h.e.spd.get(x.id).unwrap().templates;
    assert_eq!(t[0].proto, IpsecProto::IpComp);
    assert_eq!((t[0].level, t[4].level), (Level::Use, Level::Require));
    assert!(t[1].src.is_unspecified() && t[1].dst.is_unspecified());
    // The next generated reqid skips those in use.
    let one = [transport(IPPROTO_ESP, IPSEC_LEVEL_UNIQUE)];
    let m = spd_msg(
        SADB_X_SPDADD,
        host(b),
        host(a),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_INBOUND, &one),
        |_| Ok(()),
    );
    let r = h.ok(&m);
    assert_eq!(
        dec(&r[0].1)
            .policy()
            .unwrap()
            .requests()
            .next()
            .unwrap()
            .reqid,
        0x4002
    );

    // Seven templates: ELOOP; MIPv6 routing templates: rxfrm has none.
    let seven = [transport(IPPROTO_ESP, IPSEC_LEVEL_REQUIRE); 7];
    let m = spd_msg(
        SADB_X_SPDADD,
        host(v4(1, 1, 1, 1)),
        host(a),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &seven),
        |_| Ok(()),
    );
    h.refused(&m, Errno::ELOOP);
    let rt = [transport(IPPROTO_ROUTING, IPSEC_LEVEL_REQUIRE)];
    let m = spd_msg(
        SADB_X_SPDADD,
        host(v4(1, 1, 1, 2)),
        host(a),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &rt),
        |_| Ok(()),
    );
    h.refused(&m, Errno::EINVAL);
    // "use" with a tunnel outbound is refused by af_key.
    let use_tun = [tunnel(IPPROTO_ESP, IPSEC_LEVEL_USE, GW1, GW2)];
    let m = spd_msg(
        SADB_X_SPDADD,
        host(v4(1, 1, 1, 3)),
        host(a),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &use_tun),
        |_| Ok(()),
    );
    h.refused(&m, Errno::EINVAL);
}

#[test]
fn discard_none_and_empty_ipsec_policies() {
    let mut h = H::new();
    let a = v4(10, 0, 0, 1);
    for (i, t) in [IPSEC_POLICY_DISCARD, IPSEC_POLICY_NONE, IPSEC_POLICY_IPSEC]
        .into_iter()
        .enumerate()
    {
        let m = spd_msg(
            SADB_X_SPDADD,
            host(a),
            host(v4(10, 0, 0, 10 + i as u8)),
            &pol(t, IPSEC_DIR_OUTBOUND, &[]),
            |_| Ok(()),
        );
        let r = h.ok(&m);
        let x = dec(&r[0].1).policy().unwrap();
        // An IPsec policy without templates reads back as "none", as Linux.
        let want = if t == IPSEC_POLICY_DISCARD {
            t
        } else {
            IPSEC_POLICY_NONE
        };
        assert_eq!(x.policy_type, want);
        let action = h.e.spd.get(x.id).unwrap().action;
        assert_eq!(action == Action::Discard, t == IPSEC_POLICY_DISCARD);
    }
    // Type above IPSEC: EINVAL.
    let m = spd_msg(
        SADB_X_SPDADD,
        host(a),
        host(v4(10, 0, 0, 20)),
        &pol(IPSEC_POLICY_ENTRUST, IPSEC_DIR_OUTBOUND, &[]),
        |_| Ok(()),
    );
    h.refused(&m, Errno::EINVAL);
}

#[test]
fn policy_limit_gives_enobufs() {
    let mut h = H::with_limits(10, 2);
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_OUTBOUND, 0, |_| {
        Ok(())
    }));
    h.ok(&tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_INBOUND, 0, |_| {
        Ok(())
    }));
    h.refused(
        &tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_FWD, 0, |_| Ok(())),
        Errno::ENOBUFS,
    );
    h.refused(
        &tunnel_policy(SADB_X_SPDUPDATE, IPSEC_DIR_FWD, 0, |_| Ok(())),
        Errno::ENOBUFS,
    );
    // A duplicate is EEXIST first; replacing one does not grow the SPD.
    h.refused(
        &tunnel_policy(SADB_X_SPDADD, IPSEC_DIR_INBOUND, 0, |_| Ok(())),
        Errno::EEXIST,
    );
    h.ok(&tunnel_policy(
        SADB_X_SPDUPDATE,
        IPSEC_DIR_INBOUND,
        3,
        |_| Ok(()),
    ));
    assert_eq!(h.e.spd.len(), 2);
}
