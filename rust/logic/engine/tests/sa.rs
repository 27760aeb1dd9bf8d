//! SA messages: GETSPI, UPDATE, ADD, DELETE, GET, FLUSH, REGISTER,
//! X_PROMISC, ACQUIRE from a key manager, and the header/error paths.

use super::*;
use crate::logic::pfkey::{SpiRangeRepr, Supported};
use crate::logic::types::{IpsecProto, SaState};

const A: IpAddr = IpAddr::V4([10, 1, 1, 1]);
const B: IpAddr = IpAddr::V4([20, 1, 1, 1]);

fn getspi(seq: u32, min: u32, max: u32) -> StdVec<u8> {
    msg(hdr(SADB_GETSPI, SADB_SATYPE_ESP, seq), |w| {
        w.sa2(&Sa2Repr::default())?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(B))?;
        w.spirange(&SpiRangeRepr { min, max })
    })
}

#[test]
fn getspi_then_update_matures_the_larval_sa() {
    let mut h = H::new();
    let r = h.ok(&getspi(77, 0x1000, 0x1000));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Sender);
    let p = dec(&r[0].1);
    assert_eq!(
        (p.msg_type(), p.satype(), p.seq(), p.pid()),
        (SADB_GETSPI, 3, 77, PID)
    );
    let sa = p.sa().unwrap();
    assert_eq!((sa.spi, sa.state), (0x1000, SADB_SASTATE_LARVAL));
    assert_eq!(p.address_src().unwrap().addr, A);
    assert_eq!(p.address_dst().unwrap().addr, B);
    assert_eq!(h.e.sad.len(), 1);
    // The only SPI of the range is taken now: ENOENT, as af_key.
    h.refused(&getspi(78, 0x1000, 0x1000), Errno::ENOENT);
    // UPDATE of an SPI nobody holds: ESRCH.
    h.refused(&esp_msg(SADB_UPDATE, 77, 0x2000, A, B), Errno::ESRCH);

    let r = h.ok(&esp_msg(SADB_UPDATE, 77, 0x1000, A, B));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    let p = dec(&r[0].1);
    assert_eq!((p.msg_type(), p.seq(), p.pid()), (SADB_UPDATE, 77, PID));
    assert_eq!(p.sa().unwrap().state, SADB_SASTATE_MATURE);
    assert!(p.key_auth().is_none() && p.key_encrypt().is_none());
    assert_eq!(h.e.sad.len(), 1);
    let sa = h.e.sad.lookup(&B, 0x1000, IpsecProto::Esp).unwrap();
    assert_eq!(sa.state(), SaState::Mature);
    assert_eq!(sa.enc_key.as_bytes(), KEY_3DES);
}

#[test]
fn update_of_a_mature_sa_changes_lifetimes_only() {
    let mut h = H::new();
    h.ok(&esp_msg(SADB_ADD, 1, 0x300, A, B));
    let m = esp_msg_with(SADB_UPDATE, 2, 0x300, A, B, |w| {
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 600, 0))?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 500, 0))
    });
    h.ok(&m);
    let sa = h.e.sad.lookup(&B, 0x300, IpsecProto::Esp).unwrap();
    assert_eq!(
        (sa.lifetime_hard.addtime, sa.lifetime_soft.addtime),
        (600, 500)
    );
    // NAT-T may not appear on an SA that had none (xfrm_state_update).
    let natt = esp_msg_with(SADB_UPDATE, 3, 0x300, A, B, |w| w.nat_t_type(2));
    h.refused(&natt, Errno::EINVAL);
}

#[test]
fn add_notifies_everyone_without_keys_and_get_has_them() {
    let mut h = H::new();
    let m = esp_msg(SADB_ADD, 5, 9876, A, B);
    let r = h.ok(&m);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    let n = dec(&r[0].1);
    assert_eq!(
        (n.msg_type(), n.satype(), n.seq(), n.pid()),
        (SADB_ADD, 3, 5, PID)
    );
    assert_eq!(
        ext_types(&r[0].1),
        [
            SADB_EXT_SA,
            SADB_EXT_LIFETIME_HARD,
            SADB_EXT_LIFETIME_SOFT,
            SADB_EXT_LIFETIME_CURRENT,
            SADB_EXT_ADDRESS_SRC,
            SADB_EXT_ADDRESS_DST,
            SADB_X_EXT_SA2
        ]
    );
    let sa = n.sa().unwrap();
    assert_eq!((sa.spi, sa.replay, sa.auth, sa.encrypt), (9876, 32, 3, 3));
    assert_eq!(n.lifetime_current().unwrap().addtime, h.now);
    // The promiscuous copy is the request itself.
    assert_eq!(h.out.msgs[0], (Audience::PromiscOnly, m.clone()));

    let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_ESP, 9876, A, B));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Sender);
    let g = dec(&r[0].1);
    assert_eq!((g.msg_type(), g.seq(), g.pid()), (SADB_GET, 7, PID));
    assert_eq!(g.key_encrypt().unwrap().key, KEY_3DES);
    assert_eq!(g.key_encrypt().unwrap().bits, 192);
    assert_eq!(g.key_auth().unwrap().key, KEY_SHA1);
    assert_eq!(g.sa2().unwrap().mode, IPSEC_MODE_TRANSPORT);

    h.refused(&m, Errno::EEXIST);
    h.refused(&sa_ref(SADB_GET, SADB_SATYPE_ESP, 9877, A, B), Errno::ESRCH);
    h.refused(&sa_ref(SADB_GET, SADB_SATYPE_AH, 9876, A, B), Errno::ESRCH);
}

#[test]
fn add_refusals_change_nothing() {
    let mut h = H::new();
    h.ok(&esp_msg(SADB_ADD, 1, 0x100, A, B));
    // An algorithm the crypto API cannot instantiate: ENOSYS.
    let no_3des = Probe(&["cbc(des3_ede)"]);
    h.refused_probe(&esp_msg(SADB_ADD, 2, 0x101, A, B), Errno::ENOSYS, &no_3des);
    // ESP without an encryption key: EINVAL.
    let sa = SaRepr {
        spi: 0x102,
        encrypt: SADB_EALG_3DESCBC,
        ..SaRepr::default()
    };
    h.refused(
        &msg(hdr(SADB_ADD, 3, 1), |w| sa_exts(w, &sa, A, B)),
        Errno::EINVAL,
    );
    // Wrong key length for 3DES: EINVAL.
    let mut bad = esp_msg(SADB_ADD, 4, 0x103, A, B);
    let k = bad.len() - 32 + 4; // the encryption key's sadb_key_bits
    bad[k..k + 2].copy_from_slice(&64u16.to_ne_bytes());
    h.refused(&bad, Errno::EINVAL);
    // A BEET SA: rxfrm has no BEET mode.
    let beet = msg(hdr(SADB_ADD, 3, 5), |w| {
        w.sa(&SaRepr {
            spi: 0x104,
            encrypt: SADB_EALG_3DESCBC,
            ..SaRepr::default()
        })?;
        w.sa2(&Sa2Repr {
            mode: IPSEC_MODE_BEET,
            ..Sa2Repr::default()
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(B))?;
        w.key(SADB_EXT_KEY_ENCRYPT, &key(KEY_3DES))
    });
    h.refused(&beet, Errno::EINVAL);
    assert_eq!(h.e.sad.len(), 1);
}

#[test]
fn state_limit_gives_enobufs() {
    let mut h = H::with_limits(2, 10);
    h.ok(&esp_msg(SADB_ADD, 1, 0x100, A, B));
    h.ok(&getspi(2, 0x200, 0x2ff));
    h.refused(&esp_msg(SADB_ADD, 3, 0x101, A, B), Errno::ENOBUFS);
    h.refused(&getspi(4, 0x300, 0x3ff), Errno::ENOBUFS);
    // Maturing the larval SA does not grow the SAD.
    let spi =
        h.e.sad
            .iter()
            .find(|s| s.state() == SaState::Larval)
            .unwrap()
            .spi();
    h.ok(&esp_msg(SADB_UPDATE, 2, spi, A, B));
    assert_eq!(h.e.sad.len(), 2);
}

#[test]
fn delete_notifies_everyone_and_then_esrch() {
    let mut h = H::new();
    h.ok(&esp_msg(SADB_ADD, 1, 0x500, A, B));
    // The source address plays no part in the lookup, as in af_key.
    let r = h.ok(&sa_ref(
        SADB_DELETE,
        SADB_SATYPE_ESP,
        0x500,
        v4(1, 2, 3, 4),
        B,
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    let p = dec(&r[0].1);
    assert_eq!((p.msg_type(), p.seq(), p.pid()), (SADB_DELETE, 7, PID));
    assert_eq!(p.sa().unwrap().spi, 0x500);
    assert!(p.key_encrypt().is_none());
    assert!(h.e.sad.is_empty());
    h.refused(
        &sa_ref(SADB_DELETE, SADB_SATYPE_ESP, 0x500, A, B),
        Errno::ESRCH,
    );
}

#[test]
fn flush_by_type_echoes_and_broadcasts() {
    let mut h = H::new();
    h.ok(&esp_msg(SADB_ADD, 1, 0x600, A, B));
    let ah = msg(hdr(SADB_ADD, SADB_SATYPE_AH, 2), |w| {
        let sa = SaRepr {
            spi: 0x601,
            auth: SADB_AALG_MD5HMAC,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)?;
        w.key(SADB_EXT_KEY_AUTH, &key(b"hogehogehogehoge"))
    });
    h.ok(&ah);
    let r = h.ok(&bare(SADB_FLUSH, SADB_SATYPE_ESP, 9));
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].0, Audience::Sender);
    assert_eq!(r[1].0, Audience::All);
    for (_, b) in &r {
        let p = dec(b);
        assert_eq!(
            (p.msg_type(), p.satype(), p.seq(), p.pid()),
            (SADB_FLUSH, 3, 9, PID)
        );
        assert_eq!(p.len_words(), 2);
    }
    assert_eq!(h.e.sad.len(), 1);
    assert!(h.e.sad.lookup(&B, 0x601, IpsecProto::Ah).is_some());
    // Nothing of that type left: only the sender's echo.
    let r = h.ok(&bare(SADB_FLUSH, SADB_SATYPE_ESP, 10));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Sender);
    h.ok(&bare(SADB_FLUSH, SADB_SATYPE_UNSPEC, 11));
    assert!(h.e.sad.is_empty());
    h.refused(&bare(SADB_FLUSH, SADB_SATYPE_RSVP, 12), Errno::EINVAL);
}

fn ids(s: Option<Supported<'_>>) -> StdVec<u8> {
    s.map_or(StdVec::new(), |s| s.algs().map(|a| a.id).collect())
}

#[test]
fn register_lists_only_probed_algorithms() {
    let mut h = H::new();
    let probe = Probe(&["cbc(des)", "hmac(md5)", "rfc4106(gcm(aes))"]);
    h.send_probe(&bare(SADB_REGISTER, SADB_SATYPE_ESP, 3), &probe)
        .unwrap();
    let r = h.out.replies();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Registered(SADB_SATYPE_ESP));
    let p = dec(&r[0].1);
    assert_eq!(
        (p.msg_type(), p.satype(), p.seq(), p.pid()),
        (SADB_REGISTER, 3, 3, PID)
    );
    let auth = ids(p.supported_auth());
    let enc = ids(p.supported_encrypt());
    assert!(auth.contains(&SADB_AALG_SHA1HMAC) && !auth.contains(&SADB_AALG_MD5HMAC));
    // KAME's keyed hashes have no kernel implementation.
    assert!(!auth.contains(&SADB_X_AALG_MD5));
    assert!(enc.contains(&SADB_EALG_3DESCBC) && !enc.contains(&SADB_EALG_DESCBC));
    assert!(!enc.contains(&SADB_X_EALG_AES_GCM_ICV16));
    assert!(enc.contains(&SADB_X_EALG_AES_CCM_ICV16));
    let aes = p
        .supported_encrypt()
        .unwrap()
        .algs()
        .find(|a| a.id == 12)
        .unwrap();
    assert_eq!((aes.ivlen, aes.min_bits, aes.max_bits), (8, 128, 256));
    assert_eq!(h.sock.registered, 1 << SADB_SATYPE_ESP);

    h.refused(&bare(SADB_REGISTER, SADB_SATYPE_ESP, 4), Errno::EEXIST);
    assert_eq!(h.sock.registered, 1 << SADB_SATYPE_ESP);
    // UNSPEC answers without registering (af_key); above the maximum: EINVAL.
    let r = h.ok(&bare(SADB_REGISTER, SADB_SATYPE_UNSPEC, 5));
    assert_eq!(r[0].0, Audience::Registered(0));
    assert_eq!(h.sock.registered, 1 << SADB_SATYPE_ESP);
    h.refused(&bare(SADB_REGISTER, 10, 6), Errno::EINVAL);
    h.ok(&bare(SADB_REGISTER, SADB_SATYPE_AH, 7));
    assert_eq!(h.sock.registered, (1 << 3) | (1 << 2));
}

#[test]
fn promisc_sets_and_echoes() {
    let mut h = H::new();
    let mut m = bare(SADB_X_PROMISC, 1, 8);
    m[2] = 5; // a stray errno: the echo of the header-only form clears it
    let r = h.ok(&m);
    assert!(h.sock.promisc);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::All);
    assert_eq!(dec(&r[0].1).errno(), 0);
    assert_eq!(dec(&r[0].1).seq(), 8);
    h.refused(&bare(SADB_X_PROMISC, 2, 9), Errno::EINVAL);
    assert!(h.sock.promisc);
    // With extensions: no change, echoed as is.
    let long = msg(hdr(SADB_X_PROMISC, 0, 10), |w| {
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))
    });
    let r = h.ok(&long);
    assert!(h.sock.promisc);
    assert_eq!(r[0].1, long);
    h.ok(&bare(SADB_X_PROMISC, 0, 11));
    assert!(!h.sock.promisc);
}

#[test]
fn key_manager_acquire_failure_drops_the_larval_sa() {
    let mut h = H::new();
    h.ok(&getspi(31, 0x700, 0x7ff));
    h.ok(&getspi(32, 0x800, 0x8ff));
    assert_eq!(h.e.sad.len(), 2);
    // Without errno (or seq) nothing happens, and there is no reply.
    assert!(h.ok(&bare(SADB_ACQUIRE, SADB_SATYPE_ESP, 31)).is_empty());
    assert_eq!(h.e.sad.len(), 2);
    let mut fail = bare(SADB_ACQUIRE, SADB_SATYPE_ESP, 31);
    fail[2] = Errno::ENOENT.0 as u8;
    assert!(h.ok(&fail).is_empty());
    assert_eq!(h.e.sad.len(), 1);
    assert_eq!(h.e.sad.iter().next().unwrap().seq(), 32);
    // The RFC's third form (ACQUIRE with extensions) is not in af_key.
    let full = msg(hdr(SADB_ACQUIRE, SADB_SATYPE_ESP, 33), |w| {
        w.address(SADB_EXT_ADDRESS_SRC, &host(A))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(B))
    });
    h.refused(&full, Errno::EOPNOTSUPP);
}

#[test]
fn header_errors_and_unhandled_types() {
    let mut h = H::new();
    let good = bare(SADB_FLUSH, 0, 1);
    assert_eq!(h.send(&good[..8]), Err(Rejected::Header(Errno::EMSGSIZE)));
    let mut v = good.clone();
    v[0] = 1;
    assert_eq!(h.send(&v), Err(Rejected::Header(Errno::EINVAL)));
    let mut t = good.clone();
    t[1] = 25;
    assert_eq!(h.send(&t), Err(Rejected::Header(Errno::EINVAL)));
    let mut l = good.clone();
    l[4] = 3;
    assert_eq!(h.send(&l), Err(Rejected::Header(Errno::EMSGSIZE)));
    assert!(h.out.msgs.is_empty(), "no promiscuous copy of a bad header");
    // A bad extension is a message error, after the promiscuous copy.
    let mut x = esp_msg(SADB_ADD, 1, 0x900, A, B);
    x[16] = 0; // sadb_ext_len 0
    x[17] = 0;
    assert_eq!(h.send(&x), Err(Rejected::Message(Errno::EINVAL)));
    assert_eq!(h.out.msgs.len(), 1);
    assert_eq!(h.out.msgs[0].0, Audience::PromiscOnly);
    for (t, e) in [
        (SADB_EXPIRE, Errno::EOPNOTSUPP),
        (SADB_X_SPDEXPIRE, Errno::EOPNOTSUPP),
        (SADB_X_PCHANGE, Errno::EOPNOTSUPP),
        (SADB_X_SPDACQUIRE, Errno::EOPNOTSUPP),
    ] {
        h.refused(&bare(t, SADB_SATYPE_ESP, 2), e);
    }
    // pfkey_error: the request's header, errno set, header only.
    let mut out = Rec::default();
    Engine::error_reply(&x, Errno::EEXIST, &mut out).unwrap();
    assert_eq!(out.msgs.len(), 1);
    assert_eq!(out.msgs[0].0, Audience::Sender);
    let p = dec(&out.msgs[0].1);
    assert_eq!(
        (p.msg_type(), p.errno(), p.seq(), p.pid()),
        (SADB_ADD, 17, 1, PID)
    );
    assert_eq!(p.len_words(), 2);
}

#[test]
fn nat_t_and_proxy_are_stored_and_returned() {
    let mut h = H::new();
    let oa = v4(192, 168, 0, 10);
    let m = esp_msg_with(SADB_ADD, 1, 0xa00, A, B, |w| {
        w.nat_t_type(UDP_ENCAP_ESPINUDP)?;
        w.nat_t_port(SADB_X_EXT_NAT_T_SPORT, 4500)?;
        w.nat_t_port(SADB_X_EXT_NAT_T_DPORT, 4501)?;
        w.address(SADB_X_EXT_NAT_T_OA, &host(oa))?;
        w.address(SADB_EXT_ADDRESS_PROXY, &ad(v4(10, 9, 0, 0), 16, 6, 80))
    });
    h.ok(&m);
    let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_ESP, 0xa00, A, B));
    let p = dec(&r[0].1);
    assert_eq!(p.nat_t_type(), Some(UDP_ENCAP_ESPINUDP));
    assert_eq!((p.nat_t_sport(), p.nat_t_dport()), (Some(4500), Some(4501)));
    assert_eq!(p.nat_t_oa().unwrap().addr, oa);
    let px = p.address_proxy().unwrap();
    assert_eq!(
        (px.addr, px.prefixlen, px.proto, px.port),
        (v4(10, 9, 0, 0), 16, 6, 80)
    );
}

#[test]
fn esn_flag_gives_64_bit_sequence_numbers_and_is_reported_back() {
    let mut h = H::new();
    let mut m = esp_msg(SADB_ADD, 1, 0x500, A, B);
    // sadb_sa_flags: the last 4 bytes of the SA extension after the header.
    let f = 16 + 12;
    m[f..f + 4].copy_from_slice(&(SADB_X_SAFLAGS_ESN | SADB_X_EXT_CYCSEQ).to_ne_bytes());
    h.ok(&m);
    let sa = h.e.sad.lookup(&B, 0x500, IpsecProto::Esp).unwrap();
    assert!(sa.esn);
    let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_ESP, 0x500, A, B));
    let g = dec(&r[0].1);
    // KAME's CYCSEQ is not kept (as Linux); ESN is, as FreeBSD shows it.
    assert_eq!(g.sa().unwrap().flags, SADB_X_SAFLAGS_ESN);
    h.ok(&esp_msg(SADB_ADD, 2, 0x501, A, B));
    assert!(!h.e.sad.lookup(&B, 0x501, IpsecProto::Esp).unwrap().esn);

    // IPComp has no sequence numbers: ESN is refused, nothing is added.
    let comp = |flags| {
        msg(hdr(SADB_ADD, SADB_X_SATYPE_IPCOMP, 3), move |w| {
            sa_exts(
                w,
                &SaRepr {
                    spi: 0x502,
                    encrypt: SADB_X_CALG_DEFLATE,
                    flags,
                    ..SaRepr::default()
                },
                A,
                B,
            )
        })
    };
    h.refused(&comp(SADB_X_SAFLAGS_ESN), Errno::EINVAL);
    assert_eq!(h.e.sad.len(), 2);
    h.ok(&comp(0));
    assert_eq!(h.e.sad.len(), 3);
}

#[test]
fn get_reports_error_counters_when_asked() {
    let mut h = H::new();
    h.ok(&esp_msg(SADB_ADD, 1, 0x600, A, B));
    let id = h.e.sad.lookup(&B, 0x600, IpsecProto::Esp).unwrap().id();
    h.e.sad.get_mut(id).unwrap().stats.integrity_fails = 9;
    let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_ESP, 0x600, A, B));
    assert!(dec(&r[0].1).rxfrm_stats().is_none(), "not asked: not sent");
    let mut ask = sa_ref(SADB_GET, SADB_SATYPE_ESP, 0x600, A, B);
    // The empty request extension, appended (length in words updated).
    ask.extend_from_slice(&[1, 0, 0xf0, 0, 0, 0, 0, 0]);
    let words = (ask.len() / 8) as u16;
    ask[4..6].copy_from_slice(&words.to_ne_bytes());
    let r = h.ok(&ask);
    let s = dec(&r[0].1).rxfrm_stats().unwrap();
    assert_eq!((s.replay, s.integrity_failed), (0, 9));
}

/// A probe whose transform construction fails with `errno`, counting the
/// SAs it was asked to build.
struct FailingBuild {
    errno: Errno,
    asked: core::cell::Cell<u32>,
}

impl AlgProbe for FailingBuild {
    fn available(&self, _alg: &AlgDesc) -> bool {
        true
    }

    fn prepare(&self, sa: &crate::logic::sad::Sa) -> Result<(), Errno> {
        assert_ne!(sa.spi(), 0, "the transform is built for a keyed SA");
        self.asked.set(self.asked.get() + 1);
        Err(self.errno)
    }
}

#[test]
fn a_transform_that_cannot_be_built_fails_add_and_update_and_changes_nothing() {
    let mut h = H::new();
    let enomem = FailingBuild {
        errno: Errno::ENOMEM,
        asked: core::cell::Cell::new(0),
    };
    // ADD: the errno, no SA, no broadcast (xfrm_init_state's failure).
    h.refused_probe(&esp_msg(SADB_ADD, 1, 0x400, A, B), Errno::ENOMEM, &enomem);
    assert_eq!(h.e.sad.len(), 0);
    // UPDATE of a larval SA: it stays larval, as in af_key.
    h.ok(&getspi(9, 0x500, 0x500));
    h.refused_probe(
        &esp_msg(SADB_UPDATE, 9, 0x500, A, B),
        Errno::ENOMEM,
        &enomem,
    );
    let larval = h.e.sad.lookup(&B, 0x500, IpsecProto::Esp).unwrap();
    assert_eq!(larval.state(), SaState::Larval);
    assert_eq!(enomem.asked.get(), 2);
    // UPDATE of a mature SA keeps its transform: nothing is built.
    h.ok(&esp_msg(SADB_ADD, 2, 0x600, A, B));
    h.send_probe(&esp_msg(SADB_UPDATE, 3, 0x600, A, B), &enomem)
        .unwrap();
    assert_eq!(enomem.asked.get(), 2);
}
