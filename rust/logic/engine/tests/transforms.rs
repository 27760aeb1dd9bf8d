//! AH and IPComp SAs as setkey and an IKE daemon (racoon) send them:
//! GETSPI over 16-bit CPIs, UPDATE/ADD, what is refused and with which
//! errno, REGISTER and ACQUIRE for AH and IPComp, KAME's old formats.

use super::*;
use crate::logic::pfkey::{SpiRangeRepr, Supported};
use crate::logic::sad::OutputSa;
use crate::logic::selector::FlowKey;
use crate::logic::types::{IpsecProto, Mode, SaState};

const A: IpAddr = IpAddr::V4([10, 1, 1, 1]);
const B: IpAddr = IpAddr::V4([20, 1, 1, 1]);

/// racoon's GETSPI (`pfkey_send_getspi_nat`): SA2, addresses, and for
/// IPComp the range 0x100..=0xffff (`pk_sendgetspi`); no SA extension.
fn getspi(satype: u8, seq: u32, range: Option<(u32, u32)>, reqid: u32) -> StdVec<u8> {
    msg(hdr(SADB_GETSPI, satype, seq), |w| {
        w.sa2(&Sa2Repr {
            mode: IPSEC_MODE_TRANSPORT,
            sequence: 0,
            reqid,
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(B))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(A))?;
        if let Some((min, max)) = range {
            w.spirange(&SpiRangeRepr { min, max })?;
        }
        Ok(())
    })
}

/// racoon's IPComp UPDATE/ADD (`pfkey_send_x1` after
/// `pfkey_convertfromipsecdoi`): window 0, no MAC, the compression
/// algorithm in `sadb_sa_encrypt`, SADB_X_EXT_RAWCPI, no keys, both
/// lifetimes.
fn ipcomp_sa(t: u8, seq: u32, cpi: u32, src: IpAddr, dst: IpAddr, reqid: u32) -> StdVec<u8> {
    ipcomp_with(t, seq, cpi, src, dst, reqid, |_| {})
}

fn ipcomp_with(
    t: u8,
    seq: u32,
    cpi: u32,
    src: IpAddr,
    dst: IpAddr,
    reqid: u32,
    edit: impl Fn(&mut SaRepr),
) -> StdVec<u8> {
    let mut sa = SaRepr {
        spi: cpi,
        replay: 0,
        state: SADB_SASTATE_MATURE,
        auth: SADB_AALG_NONE,
        encrypt: SADB_X_CALG_DEFLATE,
        flags: SADB_X_EXT_RAWCPI,
    };
    edit(&mut sa);
    msg(hdr(t, SADB_X_SATYPE_IPCOMP, seq), move |w| {
        w.sa(&sa)?;
        w.sa2(&Sa2Repr {
            mode: IPSEC_MODE_TRANSPORT,
            sequence: 0,
            reqid,
        })?;
        w.address(SADB_EXT_ADDRESS_SRC, &host(src))?;
        w.address(SADB_EXT_ADDRESS_DST, &host(dst))?;
        w.lifetime(SADB_EXT_LIFETIME_HARD, &lifetime(0, 3600, 0))?;
        w.lifetime(SADB_EXT_LIFETIME_SOFT, &lifetime(0, 3600, 0))
    })
}

/// An AH ADD with MAC `auth`, key `k`, flags, and extra extensions.
fn ah_sa(
    spi: u32,
    auth: u8,
    k: &[u8],
    flags: u32,
    extra: impl Fn(&mut MsgWriter<'_>) -> Result<(), Errno>,
) -> StdVec<u8> {
    let sa = SaRepr {
        spi,
        auth,
        flags,
        ..SaRepr::default()
    };
    msg(hdr(SADB_ADD, SADB_SATYPE_AH, 1), |w| {
        sa_exts(w, &sa, A, B)?;
        w.key(SADB_EXT_KEY_AUTH, &key(k))?;
        extra(w)
    })
}

fn ids(s: Option<Supported<'_>>) -> StdVec<u8> {
    s.map_or(StdVec::new(), |s| s.algs().map(|a| a.id).collect())
}

#[test]
fn racoon_ipcomp_getspi_update_and_add() {
    let mut h = H::new();
    // GETSPI under 16 bits: a CPI of the range, on a new larval SA.
    let r = h.ok(&getspi(
        SADB_X_SATYPE_IPCOMP,
        41,
        Some((0x100, 0xffff)),
        16385,
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, Audience::Sender);
    let p = dec(&r[0].1);
    assert_eq!(
        (p.msg_type(), p.satype(), p.seq(), p.pid()),
        (SADB_GETSPI, SADB_X_SATYPE_IPCOMP, 41, PID)
    );
    let cpi = p.sa().unwrap().spi;
    assert!((0x100..=0xffff).contains(&cpi), "CPI {cpi:#x}");
    assert_eq!(p.sa().unwrap().state, SADB_SASTATE_LARVAL);
    assert_eq!(p.sa2().unwrap().reqid, 16385);
    let larval = h.e.sad.lookup(&A, cpi, IpsecProto::IpComp).unwrap();
    assert_eq!(larval.state(), SaState::Larval);

    // UPDATE as racoon sends it: the larval SA becomes a deflate SA.
    let r = h.ok(&ipcomp_sa(SADB_UPDATE, 41, cpi, B, A, 16385));
    assert_eq!(r[0].0, Audience::All);
    let p = dec(&r[0].1);
    assert_eq!(
        (p.msg_type(), p.satype()),
        (SADB_UPDATE, SADB_X_SATYPE_IPCOMP)
    );
    let sa = p.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.state, sa.encrypt),
        (cpi, SADB_SASTATE_MATURE, 2)
    );
    assert_eq!(h.e.sad.len(), 1);
    let s = h.e.sad.lookup(&A, cpi, IpsecProto::IpComp).unwrap();
    assert_eq!((s.comp_alg, s.enc_alg, s.auth_alg), (2, 0, 0));
    assert_eq!((s.mode(), s.ident().reqid), (Mode::Transport, 16385));

    // The outbound SA with the peer's CPI, by ADD.
    h.ok(&ipcomp_sa(SADB_ADD, 41, 0x4321, A, B, 16386));
    let out =
        h.e.sad
            .find_output(&A, &B, IpsecProto::IpComp, Mode::Transport, 16386);
    assert!(matches!(out, OutputSa::Valid(s) if s.ident().spi == 0x4321));

    // GET: the CPI as SPI, deflate as sadb_sa_encrypt, no keys; RAWCPI is
    // not kept (af_key reports only NOECN/DECAP_DSCP/NOPMTUDISC).
    let r = h.ok(&sa_ref(SADB_GET, SADB_X_SATYPE_IPCOMP, cpi, B, A));
    let p = dec(&r[0].1);
    let sa = p.sa().unwrap();
    assert_eq!(
        (sa.spi, sa.auth, sa.encrypt, sa.flags, sa.replay),
        (cpi, 0, 2, 0, 0)
    );
    assert!(p.key_auth().is_none() && p.key_encrypt().is_none());
    assert_eq!(p.lifetime_hard().unwrap().addtime, 3600);
    // DUMP of IPComp SAs only.
    assert_eq!(h.dump_all(SADB_DUMP, SADB_X_SATYPE_IPCOMP).len(), 2);
    assert!(h.dump_all(SADB_DUMP, SADB_SATYPE_ESP).is_empty());

    // The one CPI of a range taken: ENOENT, as xfrm_alloc_spi.
    h.refused(
        &getspi(SADB_X_SATYPE_IPCOMP, 42, Some((cpi, cpi)), 7),
        Errno::ENOENT,
    );
    // DELETE by CPI.
    h.ok(&sa_ref(SADB_DELETE, SADB_X_SATYPE_IPCOMP, 0x4321, A, B));
    assert_eq!(h.e.sad.len(), 1);
}

#[test]
fn ipcomp_getspi_ranges_as_verify_spi_info() {
    let mut h = H::new();
    // No range: af_key's default 0x100..=0x0fffffff is too wide (EINVAL,
    // Linux does not clip it as KAME does).
    h.refused(&getspi(SADB_X_SATYPE_IPCOMP, 1, None, 0), Errno::EINVAL);
    h.refused(
        &getspi(SADB_X_SATYPE_IPCOMP, 2, Some((0x100, 0x1_0000)), 0),
        Errno::EINVAL,
    );
    h.refused(
        &getspi(SADB_X_SATYPE_IPCOMP, 3, Some((0x200, 0x100)), 0),
        Errno::EINVAL,
    );
    // Unlike af_key, a refused GETSPI leaves no larval SA behind.
    assert!(h.e.sad.is_empty());
    // One CPI asked for (setkey's `getspi … ipcomp 0x1234`): that one.
    let r = h.ok(&getspi(SADB_X_SATYPE_IPCOMP, 4, Some((0xffff, 0xffff)), 0));
    assert_eq!(dec(&r[0].1).sa().unwrap().spi, 0xffff);
    // The same range is fine for ESP, and ESP's default range too.
    h.ok(&getspi(SADB_SATYPE_ESP, 5, None, 0));
    assert_eq!(h.e.sad.len(), 2);
}

#[test]
fn getspi_by_seq_keeps_protocols_apart() {
    let mut h = H::new();
    // racoon's pk_sendgetspi: one seq for every protocol of the proposal.
    let r = h.ok(&getspi(
        SADB_SATYPE_ESP,
        9,
        Some((0x2000_0000, 0x2000_0000)),
        0,
    ));
    assert_eq!(dec(&r[0].1).sa().unwrap().spi, 0x2000_0000);
    let r = h.ok(&getspi(SADB_X_SATYPE_IPCOMP, 9, Some((0x100, 0xffff)), 0));
    let p = dec(&r[0].1);
    let cpi = p.sa().unwrap().spi;
    assert!(cpi <= 0xffff, "an IPComp CPI, not the ESP SA's SPI");
    assert_eq!(p.satype(), SADB_X_SATYPE_IPCOMP);
    assert_eq!(h.e.sad.len(), 2);
    assert!(h.e.sad.lookup(&A, cpi, IpsecProto::IpComp).is_some());
    assert!(h.e.sad.lookup(&A, 0x2000_0000, IpsecProto::Esp).is_some());
    // The same GETSPI again: the larval SA keeps its CPI.
    let r = h.ok(&getspi(SADB_X_SATYPE_IPCOMP, 9, Some((0x100, 0xffff)), 0));
    assert_eq!(dec(&r[0].1).sa().unwrap().spi, cpi);
    assert_eq!(h.e.sad.len(), 2);
}

#[test]
fn ipcomp_refusals_and_what_is_ignored() {
    let mut h = H::new();
    // A MAC on IPComp (ipcomp never authenticates): EINVAL.
    let mac = msg(hdr(SADB_ADD, SADB_X_SATYPE_IPCOMP, 1), |w| {
        let sa = SaRepr {
            spi: 0x300,
            auth: SADB_AALG_SHA1HMAC,
            encrypt: SADB_X_CALG_DEFLATE,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)?;
        w.key(SADB_EXT_KEY_AUTH, &key(KEY_SHA1))
    });
    h.refused(&mac, Errno::EINVAL);
    // A CPI above 16 bits, with or without RAWCPI: EINVAL.
    h.refused(&ipcomp_sa(SADB_ADD, 1, 0x1_0000, A, B, 0), Errno::EINVAL);
    h.refused(
        &ipcomp_with(SADB_ADD, 1, 0x12_3456, A, B, 0, |s| s.flags = 0),
        Errno::EINVAL,
    );
    // No compression algorithm, one no kernel has, one this one lacks.
    h.refused(
        &ipcomp_with(SADB_ADD, 1, 0x300, A, B, 0, |s| s.encrypt = 0),
        Errno::EINVAL,
    );
    h.refused(
        &ipcomp_with(SADB_ADD, 1, 0x300, A, B, 0, |s| s.encrypt = SADB_X_CALG_OUI),
        Errno::ENOSYS,
    );
    h.refused(
        &ipcomp_with(SADB_ADD, 1, 0x300, A, B, 0, |s| s.encrypt = 5),
        Errno::EINVAL,
    );
    h.refused_probe(
        &ipcomp_with(SADB_ADD, 1, 0x300, A, B, 0, |s| s.encrypt = SADB_X_CALG_LZS),
        Errno::ENOSYS,
        &Probe(&["lzs", "lzjh"]),
    );
    // ESN: IPComp has no sequence numbers.
    h.refused(
        &ipcomp_with(SADB_ADD, 1, 0x300, A, B, 0, |s| {
            s.flags = SADB_X_SAFLAGS_ESN
        }),
        Errno::EINVAL,
    );
    // NAT-T encapsulation: ipcomp_init_state refuses it.
    let natt = msg(hdr(SADB_ADD, SADB_X_SATYPE_IPCOMP, 1), |w| {
        let sa = SaRepr {
            spi: 0x300,
            encrypt: SADB_X_CALG_DEFLATE,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)?;
        w.nat_t_type(UDP_ENCAP_ESPINUDP)
    });
    h.refused(&natt, Errno::EINVAL);
    assert!(h.e.sad.is_empty());

    // What af_key ignores, rxfrm ignores: an encryption key (no cipher
    // reads it), and a replay window (kept and reported as af_key does;
    // IPComp has no replay protection).
    let keyed = msg(hdr(SADB_ADD, SADB_X_SATYPE_IPCOMP, 1), |w| {
        let sa = SaRepr {
            spi: 0x301,
            replay: 32,
            encrypt: SADB_X_CALG_DEFLATE,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)?;
        w.key(SADB_EXT_KEY_ENCRYPT, &key(KEY_3DES))
    });
    h.ok(&keyed);
    let s = h.e.sad.lookup(&B, 0x301, IpsecProto::IpComp).unwrap();
    assert_eq!((s.comp_alg, s.enc_alg, s.enc_key.bits()), (2, 0, 0));
    let r = h.ok(&sa_ref(SADB_GET, SADB_X_SATYPE_IPCOMP, 0x301, A, B));
    let p = dec(&r[0].1);
    assert!(p.key_encrypt().is_none());
    assert_eq!(p.sa().unwrap().replay, 32);
    // Without RAWCPI the CPI is the SPI all the same (Linux ignores it).
    h.ok(&ipcomp_with(SADB_ADD, 2, 0x302, A, B, 0, |s| {
        s.flags = SADB_X_EXT_CYCSEQ
    }));
    assert!(h.e.sad.lookup(&B, 0x302, IpsecProto::IpComp).is_some());
}

#[test]
fn ah_algorithms_esn_and_refusals() {
    let mut h = H::new();
    let cases: [(u8, &[u8]); 7] = [
        (SADB_AALG_MD5HMAC, b"hogehogehogehoge"),
        (SADB_AALG_SHA1HMAC, KEY_SHA1),
        (SADB_X_AALG_SHA2_256HMAC, &[7; 32]),
        (SADB_X_AALG_SHA2_384HMAC, &[8; 48]),
        (SADB_X_AALG_SHA2_512HMAC, &[9; 64]),
        (SADB_X_AALG_AES_XCBC_MAC, &[10; 16]),
        (SADB_X_AALG_AES_CMAC, &[11; 16]),
    ];
    for (i, (alg, k)) in cases.iter().enumerate() {
        let spi = 0x1000 + i as u32;
        h.ok(&ah_sa(spi, *alg, k, SADB_X_EXT_CYCSEQ, |_| Ok(())));
        let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_AH, spi, A, B));
        let p = dec(&r[0].1);
        let sa = p.sa().unwrap();
        assert_eq!((sa.auth, sa.encrypt, sa.flags), (*alg, 0, 0), "alg {alg}");
        assert_eq!(p.key_auth().unwrap().key, *k);
        assert!(p.key_encrypt().is_none());
    }
    // ESN (RFC 4302 §2.5.1) with FreeBSD's flag, reported back.
    h.ok(&ah_sa(
        0x2000,
        SADB_AALG_SHA1HMAC,
        KEY_SHA1,
        SADB_X_SAFLAGS_ESN,
        |_| Ok(()),
    ));
    assert!(h.e.sad.lookup(&B, 0x2000, IpsecProto::Ah).unwrap().esn);
    let r = h.ok(&sa_ref(SADB_GET, SADB_SATYPE_AH, 0x2000, A, B));
    assert_eq!(dec(&r[0].1).sa().unwrap().flags, SADB_X_SAFLAGS_ESN);
    let n = h.e.sad.len();

    // A cipher on AH: EINVAL (af_key would build it and ah4 ignore it).
    let enc = msg(hdr(SADB_ADD, SADB_SATYPE_AH, 1), |w| {
        let sa = SaRepr {
            spi: 0x3000,
            auth: SADB_AALG_SHA1HMAC,
            encrypt: SADB_EALG_3DESCBC,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)?;
        w.key(SADB_EXT_KEY_AUTH, &key(KEY_SHA1))?;
        w.key(SADB_EXT_KEY_ENCRYPT, &key(KEY_3DES))
    });
    h.refused(&enc, Errno::EINVAL);
    // The null MAC: with an empty key (af_key would take it) and without
    // (setkey's `-A null`, which af_key refuses for the missing key).
    h.refused(
        &ah_sa(0x3001, SADB_X_AALG_NULL, &[], 0, |_| Ok(())),
        Errno::EINVAL,
    );
    let nokey = msg(hdr(SADB_ADD, SADB_SATYPE_AH, 1), |w| {
        let sa = SaRepr {
            spi: 0x3002,
            auth: SADB_X_AALG_NULL,
            ..SaRepr::default()
        };
        sa_exts(w, &sa, A, B)
    });
    h.refused(&nokey, Errno::EINVAL);
    // KAME's keyed MD5/SHA1: no kernel has them.
    h.refused(
        &ah_sa(0x3003, SADB_X_AALG_MD5, b"0123456789abcdef", 0, |_| Ok(())),
        Errno::ENOSYS,
    );
    h.refused(
        &ah_sa(0x3003, SADB_X_AALG_SHA, b"0123456789abcdefghij", 0, |_| {
            Ok(())
        }),
        Errno::ENOSYS,
    );
    // TCP-MD5's id is above af_key's SADB_AALG_MAX.
    h.refused(
        &ah_sa(0x3004, SADB_X_AALG_TCP_MD5, b"secret", 0, |_| Ok(())),
        Errno::EINVAL,
    );
    // CMAC where the kernel cannot instantiate cmac(aes): ENOSYS.
    h.refused_probe(
        &ah_sa(0x3005, SADB_X_AALG_AES_CMAC, &[1; 16], 0, |_| Ok(())),
        Errno::ENOSYS,
        &Probe(&["cmac(aes)"]),
    );
    // Wrong key lengths.
    h.refused(
        &ah_sa(0x3006, SADB_X_AALG_AES_CMAC, &[1; 32], 0, |_| Ok(())),
        Errno::EINVAL,
    );
    h.refused(
        &ah_sa(0x3006, SADB_X_AALG_AES_XCBC_MAC, &[1; 20], 0, |_| Ok(())),
        Errno::EINVAL,
    );
    // AH cannot be UDP-encapsulated (ah_init_state).
    h.refused(
        &ah_sa(0x3007, SADB_AALG_SHA1HMAC, KEY_SHA1, 0, |w| {
            w.nat_t_type(UDP_ENCAP_ESPINUDP)
        }),
        Errno::EINVAL,
    );
    // No MAC at all.
    let none = msg(hdr(SADB_ADD, SADB_SATYPE_AH, 1), |w| {
        sa_exts(
            w,
            &SaRepr {
                spi: 0x3008,
                ..SaRepr::default()
            },
            A,
            B,
        )?;
        w.key(SADB_EXT_KEY_AUTH, &key(KEY_SHA1))
    });
    h.refused(&none, Errno::EINVAL);
    assert_eq!(h.e.sad.len(), n);
}

#[test]
fn old_formats_are_refused() {
    let mut h = H::new();
    // `add … esp-old 0x100 -E des-cbc …`: SADB_X_EXT_OLD | CYCSEQ.
    let old_esp = |spi, flags| {
        msg(hdr(SADB_ADD, SADB_SATYPE_ESP, 1), move |w| {
            let sa = SaRepr {
                spi,
                encrypt: SADB_EALG_DESCBC,
                flags,
                ..SaRepr::default()
            };
            sa_exts(w, &sa, A, B)?;
            w.key(SADB_EXT_KEY_ENCRYPT, &key(b"01234567"))
        })
    };
    // Bit 0 is also RFC 2367's SADB_SAFLAGS_PFS: ignored, as af_key does.
    h.ok(&old_esp(0x100, SADB_X_EXT_OLD | SADB_X_EXT_CYCSEQ));
    assert_eq!(h.e.sad.len(), 1);
    // des-32iv (old ESP, 4-byte IV) and des-deriv (derived IV).
    h.refused(
        &old_esp(0x101, SADB_X_EXT_OLD | SADB_X_EXT_IV4B | SADB_X_EXT_CYCSEQ),
        Errno::EINVAL,
    );
    h.refused(
        &old_esp(0x102, SADB_X_EXT_DERIV | SADB_X_EXT_CYCSEQ),
        Errno::EINVAL,
    );
    // `add … ah-old 0x103 -A hmac-md5 …`: PFS/OLD, ignored.
    h.ok(&ah_sa(
        0x103,
        SADB_AALG_MD5HMAC,
        b"hogehogehogehoge",
        SADB_X_EXT_OLD,
        |_| Ok(()),
    ));
    assert_eq!(h.e.sad.len(), 2);
    // The same SA in the new format is fine.
    h.ok(&old_esp(0x104, SADB_X_EXT_CYCSEQ));
    assert_eq!(h.e.sad.len(), 3);
}

#[test]
fn register_per_sa_type() {
    let mut h = H::new();
    // AH: every MAC the kernel runs but the null one, which AH refuses.
    let r = h.ok(&bare(SADB_REGISTER, SADB_SATYPE_AH, 1));
    assert_eq!(r[0].0, Audience::Registered(SADB_SATYPE_AH));
    let p = dec(&r[0].1);
    let auth = ids(p.supported_auth());
    for id in [2, 3, 5, 6, 7, 9, SADB_X_AALG_AES_CMAC] {
        assert!(auth.contains(&id), "AH lists {id}");
    }
    assert!(!auth.contains(&SADB_X_AALG_NULL));
    assert!(!auth.contains(&SADB_X_AALG_MD5) && !auth.contains(&SADB_X_AALG_TCP_MD5));
    let cmac = p
        .supported_auth()
        .unwrap()
        .algs()
        .find(|a| a.id == SADB_X_AALG_AES_CMAC)
        .unwrap();
    assert_eq!((cmac.min_bits, cmac.max_bits, cmac.ivlen), (128, 128, 0));
    // The encryption list comes too, as af_key sends it for every type.
    assert!(ids(p.supported_encrypt()).contains(&SADB_EALG_3DESCBC));
    // Only what the kernel can instantiate.
    let r = {
        h.send_probe(
            &bare(SADB_REGISTER, SADB_SATYPE_UNSPEC, 2),
            &Probe(&["cmac(aes)", "xcbc(aes)"]),
        )
        .unwrap();
        h.out.replies()
    };
    let auth = ids(dec(&r[0].1).supported_auth());
    assert!(!auth.contains(&SADB_X_AALG_AES_CMAC) && !auth.contains(&SADB_X_AALG_AES_XCBC_MAC));
    assert!(auth.contains(&SADB_X_AALG_NULL), "ESP may use the null MAC");
    // ESP lists the null MAC.
    let r = h.ok(&bare(SADB_REGISTER, SADB_SATYPE_ESP, 3));
    assert!(ids(dec(&r[0].1).supported_auth()).contains(&SADB_X_AALG_NULL));
    // IPComp: af_key's reply for any type; no extension exists for
    // compression algorithms.
    let r = h.ok(&bare(SADB_REGISTER, SADB_X_SATYPE_IPCOMP, 4));
    assert_eq!(r[0].0, Audience::Registered(SADB_X_SATYPE_IPCOMP));
    let p = dec(&r[0].1);
    assert_eq!(
        ext_types(&r[0].1),
        [SADB_EXT_SUPPORTED_AUTH, SADB_EXT_SUPPORTED_ENCRYPT]
    );
    assert!(ids(p.supported_auth()).contains(&SADB_X_AALG_NULL));
    assert_eq!(h.sock.registered, (1 << 2) | (1 << 3) | (1 << 9));
}

#[test]
fn ah_acquire_proposes_no_null_mac() {
    let mut h = H::new();
    let rq = [transport(IPPROTO_AH, IPSEC_LEVEL_REQUIRE)];
    let m = spd_msg(
        SADB_X_SPDADD,
        host(A),
        host(B),
        &pol(IPSEC_POLICY_IPSEC, IPSEC_DIR_OUTBOUND, &rq),
        |_| Ok(()),
    );
    let index = dec(&h.ok(&m)[0].1).policy().unwrap().id;
    let mut out = Rec::default();
    let flow = FlowKey::new(A, B, 6, 40000, 110);
    h.e.acquire(index, 0, &flow, h.now, &Probe(&["hmac(md5)"]), &mut out)
        .unwrap();
    let p = dec(&out.msgs[0].1);
    let combs: StdVec<_> = p.proposal().unwrap().combs().collect();
    let auths: StdVec<u8> = combs.iter().map(|c| c.auth).collect();
    assert!(!auths.contains(&SADB_X_AALG_NULL));
    assert!(!auths.contains(&SADB_AALG_MD5HMAC), "not instantiable");
    assert!(auths.contains(&SADB_X_AALG_AES_CMAC) && auths.contains(&SADB_AALG_SHA1HMAC));
    assert!(combs.iter().all(|c| c.encrypt == 0));
}
