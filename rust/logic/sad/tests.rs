use super::*;
use crate::logic::lifetime::Lifetime;
use std::collections::HashMap;
use std::vec::Vec as StdVec;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4([a, b, c, d])
}

const A: IpAddr = IpAddr::V4([192, 0, 2, 1]);
const B: IpAddr = IpAddr::V4([192, 0, 2, 2]);

fn ident(spi: u32, proto: IpsecProto) -> SaIdent {
    SaIdent {
        spi,
        proto,
        mode: Mode::Transport,
        reqid: 0,
        src: A,
        dst: B,
    }
}

fn esp(spi: u32) -> Sa {
    let mut sa = Sa::new(ident(spi, IpsecProto::Esp));
    sa.enc_alg = 12;
    sa.enc_key = SecretKey::from_slice(&[0x5a; 16]).unwrap();
    sa.auth_alg = 2;
    sa.auth_key = SecretKey::from_slice(&[0xa5; 20]).unwrap();
    sa.replay_window = 64;
    sa
}

fn req(seq: u32, min: u32, max: u32) -> SpiRequest {
    SpiRequest {
        proto: IpsecProto::Esp,
        mode: Mode::Transport,
        reqid: 0,
        src: A,
        dst: B,
        seq,
        min,
        max,
    }
}

#[test]
fn secret_key_hides_and_wipes() {
    let mut k = SecretKey::with_bits(&[1, 2, 3, 0xfe], 28).unwrap();
    assert_eq!(std::format!("{k:?}"), "SecretKey(28 bits, ..)");
    let c = k.try_clone().unwrap();
    assert_eq!(c.as_bytes(), &[1, 2, 3, 0xfe]);
    k.wipe();
    assert_eq!(k.as_bytes(), &[0, 0, 0, 0]);
    assert_eq!(c.as_bytes(), &[1, 2, 3, 0xfe]);
    let sa = esp(0x1000);
    let dbg = std::format!("{sa:?}");
    assert!(!dbg.contains("90") && !dbg.contains("165"), "{dbg}");
    assert_eq!(SecretKey::from_slice(&[7; 32]).unwrap().bits(), 256);
    assert!(SecretKey::empty().is_empty());
}

#[test]
fn add_lookup_exists_delete() {
    let mut sad = Sad::new();
    let id = sad.add(esp(0x1000), 50).unwrap();
    let sa = sad.lookup(&B, 0x1000, IpsecProto::Esp).unwrap();
    assert_eq!(
        (sa.id(), sa.state(), sa.current.addtime),
        (id, SaState::Mature, 50)
    );
    assert_eq!(sa.replay().size(), 64);
    assert!(sad.lookup(&A, 0x1000, IpsecProto::Esp).is_none());
    assert!(sad.lookup(&B, 0x1000, IpsecProto::Ah).is_none());
    assert_eq!(sad.add(esp(0x1000), 51).unwrap_err(), SadError::Exists);
    // Same SPI, other protocol or destination: distinct SAs.
    let mut ah = Sa::new(ident(0x1000, IpsecProto::Ah));
    ah.auth_alg = 2;
    sad.add(ah, 52).unwrap();
    let mut other_dst = esp(0x1000);
    other_dst.ident.dst = v4(192, 0, 2, 9);
    sad.add(other_dst, 52).unwrap();
    assert_eq!(sad.len(), 3);
    assert_eq!(sad.count(IpsecProto::Esp), 2);
    // Validation.
    assert_eq!(sad.add(esp(0), 0).unwrap_err(), SadError::Invalid);
    let mut big = esp(5);
    big.replay_window = 4097;
    assert_eq!(sad.add(big, 0).unwrap_err(), SadError::Invalid);
    let mut mixed = esp(6);
    mixed.ident.dst = IpAddr::UNSPEC_V6;
    assert_eq!(sad.add(mixed, 0).unwrap_err(), SadError::Invalid);
    // Delete.
    let gone = sad.delete(&B, 0x1000, IpsecProto::Esp).unwrap();
    assert_eq!(gone.id(), id);
    assert_eq!(gone.enc_key.as_bytes(), &[0x5a; 16]);
    assert_eq!(
        sad.delete(&B, 0x1000, IpsecProto::Esp).unwrap_err(),
        SadError::NotFound
    );
    assert!(sad.get(id).is_none());
    assert_eq!(sad.len(), 2);
}

#[test]
fn getspi_then_update_completes_larval() {
    let mut sad = Sad::new();
    let (lid, spi) = sad.getspi(&req(77, 0x1000, 0x1fff), 10).unwrap();
    assert!((0x1000..=0x1fff).contains(&spi));
    let l = sad.get(lid).unwrap();
    assert_eq!((l.state(), l.seq(), l.spi()), (SaState::Larval, 77, spi));
    assert_eq!(l.lifetime_hard.addtime, LARVAL_LIFETIME);
    // Larval SAs are found by SPI (GET works) but are not usable.
    assert!(!sad.lookup(&B, spi, IpsecProto::Esp).unwrap().is_valid());
    // The same GETSPI again answers with the same SPI.
    assert_eq!(
        sad.getspi(&req(77, 0x1000, 0x1fff), 11).unwrap(),
        (lid, spi)
    );
    // ADD cannot take a GETSPI'd SPI; UPDATE completes it.
    assert_eq!(sad.add(esp(spi), 12).unwrap_err(), SadError::Exists);
    let mid = sad.update(esp(spi), 12).unwrap();
    assert_ne!(mid, lid);
    assert!(sad.get(lid).is_none());
    let m = sad.lookup(&B, spi, IpsecProto::Esp).unwrap();
    assert_eq!(
        (m.id(), m.state(), m.enc_key.len()),
        (mid, SaState::Mature, 16)
    );
    assert_eq!(sad.len(), 1);
    // UPDATE of an unknown SPI.
    assert_eq!(
        sad.update(esp(spi + 1), 13).unwrap_err(),
        SadError::NotFound
    );
    // Without seq, a GETSPI for the same tuple makes a new larval SA.
    let (lid2, spi2) = sad.getspi(&req(0, 0x1000, 0x1fff), 14).unwrap();
    assert_ne!(spi2, spi);
    assert_ne!(lid2, mid);
}

#[test]
fn getspi_ranges() {
    let mut sad = Sad::new();
    assert_eq!(sad.getspi(&req(0, 9, 8), 0).unwrap_err(), SadError::Invalid);
    let mut comp = req(0, 0x100, 0x10000);
    comp.proto = IpsecProto::IpComp;
    assert_eq!(sad.getspi(&comp, 0).unwrap_err(), SadError::Invalid);
    comp.max = 0xffff;
    let (_, cpi) = sad.getspi(&comp, 0).unwrap();
    assert!((0x100..=0xffff).contains(&cpi));
    // A single-SPI range: first succeeds, second finds it taken.
    assert_eq!(sad.getspi(&req(1, 0x4242, 0x4242), 0).unwrap().1, 0x4242);
    assert_eq!(
        sad.getspi(&req(2, 0x4242, 0x4242), 0).unwrap_err(),
        SadError::NoSpi
    );
    // A small range fills exactly, with distinct SPIs, then refuses.
    let mut got = StdVec::new();
    for seq in 100..110 {
        got.push(sad.getspi(&req(seq, 0x500, 0x509), 0).unwrap().1);
    }
    got.sort();
    assert_eq!(got, (0x500..=0x509).collect::<StdVec<u32>>());
    assert_eq!(
        sad.getspi(&req(200, 0x500, 0x509), 0).unwrap_err(),
        SadError::NoSpi
    );
    // SPI 0 is never handed out; a range of only 0 is exhausted.
    assert_eq!(sad.alloc_spi(IpsecProto::Esp, &B, 0, 0), None);
    assert_eq!(sad.alloc_spi(IpsecProto::Esp, &B, 0, 1), Some(1));
    // Full 32-bit range works and avoids taken SPIs.
    for _ in 0..100 {
        let s = sad.alloc_spi(IpsecProto::Esp, &B, 1, u32::MAX).unwrap();
        assert!(sad.lookup(&B, s, IpsecProto::Esp).is_none());
    }
    // Another destination's SPI space is separate.
    assert_eq!(
        sad.alloc_spi(IpsecProto::Esp, &A, 0x4242, 0x4242),
        Some(0x4242)
    );
}

#[test]
fn acquire_getspi_update_output_flow() {
    let mut sad = Sad::new();
    let out = |sad: &Sad| match sad.find_output(&A, &B, IpsecProto::Esp, Mode::Transport, 0) {
        OutputSa::Valid(s) => ("valid", s.id()),
        OutputSa::Acquiring(s) => ("acquiring", s.id()),
        OutputSa::Missing => ("missing", 0),
    };
    assert_eq!(out(&sad).0, "missing");
    let acq = sad.acquire(&ident(0, IpsecProto::Esp), 100).unwrap();
    assert!(acq.created && acq.seq != 0);
    assert_eq!(out(&sad), ("acquiring", acq.id));
    let again = sad.acquire(&ident(0, IpsecProto::Esp), 101).unwrap();
    assert_eq!(
        (again.id, again.seq, again.created),
        (acq.id, acq.seq, false)
    );
    // The IKE daemon's GETSPI carries the ACQUIRE's seq: same larval SA.
    let (lid, spi) = sad
        .getspi(&req(acq.seq, SPI_MIN_DEFAULT, SPI_MAX_DEFAULT), 102)
        .unwrap();
    assert_eq!(lid, acq.id);
    assert!((SPI_MIN_DEFAULT..=SPI_MAX_DEFAULT).contains(&spi));
    let id = sad.update(esp(spi).with_seq(acq.seq), 103).unwrap();
    assert_eq!(out(&sad), ("valid", id));
    assert_eq!(sad.len(), 1);
    // Another ACQUIRE now would be new (nothing larval any more).
    assert_eq!(sad.by_seq.len(), 0);
    // A newer SA wins; a dying one loses to a mature one.
    let id2 = sad.add(esp(0x9999), 200).unwrap();
    assert_eq!(out(&sad), ("valid", id2));
    sad.get_mut(id2).unwrap().lifetime_soft.addtime = 1;
    let mut ev = crate::seam::Vec::new();
    sad.expire_check(201, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(id2, Expiry::Soft)]);
    assert_eq!(sad.get(id2).unwrap().state(), SaState::Dying);
    assert_eq!(out(&sad), ("valid", id));
    // Other reqid or mode: not the same tuple.
    assert!(matches!(
        sad.find_output(&A, &B, IpsecProto::Esp, Mode::Tunnel, 0),
        OutputSa::Missing
    ));
    assert!(matches!(
        sad.find_output(&A, &B, IpsecProto::Esp, Mode::Transport, 5),
        OutputSa::Missing
    ));
}

#[test]
fn add_replaces_matching_larval() {
    let mut sad = Sad::new();
    // By seq.
    let acq = sad.acquire(&ident(0, IpsecProto::Esp), 0).unwrap();
    let id = sad.add(esp(0x2000).with_seq(acq.seq), 1).unwrap();
    assert!(sad.get(acq.id).is_none());
    assert_eq!(sad.len(), 1);
    // By tuple, for a larval SA without SPI.
    let mut t = ident(0, IpsecProto::Esp);
    t.reqid = 9;
    let acq = sad.acquire(&t, 2).unwrap();
    let mut sa = esp(0x2001);
    sa.ident.reqid = 9;
    sad.add(sa, 3).unwrap();
    assert!(sad.get(acq.id).is_none());
    // A larval SA of another protocol is left alone.
    let acq_ah = sad.acquire(&ident(0, IpsecProto::Ah), 4).unwrap();
    sad.add(esp(0x2002).with_seq(acq_ah.seq), 5).unwrap();
    assert!(sad.get(acq_ah.id).is_some());
    assert!(sad.get(id).is_some());
}

#[test]
fn update_of_mature_changes_only_lifetimes_and_natt() {
    let mut sad = Sad::new();
    let mut sa = esp(0x3000);
    sa.natt = Some(NatT {
        encap_type: 2,
        sport: 4500,
        dport: 4500,
        oa: None,
    });
    sa.lifetime_soft.addtime = 10;
    let id = sad.add(sa, 0).unwrap();
    let mut ev = crate::seam::Vec::new();
    sad.expire_check(10, &mut ev).unwrap();
    assert_eq!(sad.get(id).unwrap().state(), SaState::Dying);

    let mut upd = esp(0x3000);
    upd.enc_key = SecretKey::from_slice(&[1; 16]).unwrap();
    upd.enc_alg = 3;
    upd.lifetime_soft = Lifetime {
        addtime: 100,
        ..Lifetime::default()
    };
    upd.lifetime_hard.bytes = 1 << 20;
    upd.natt = Some(NatT {
        encap_type: 2,
        sport: 4501,
        dport: 4500,
        oa: Some(A),
    });
    assert_eq!(sad.update(upd, 20).unwrap(), id);
    let s = sad.get(id).unwrap();
    assert_eq!(s.enc_key.as_bytes(), &[0x5a; 16]);
    assert_eq!(s.enc_alg, 12);
    assert_eq!(s.lifetime_soft.addtime, 100);
    assert_eq!(s.lifetime_hard.bytes, 1 << 20);
    assert_eq!(s.natt.unwrap().sport, 4501);
    assert_eq!(s.state(), SaState::Mature);
    // The soft expiry can fire again for the new lifetimes.
    ev.clear();
    sad.expire_check(100, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(id, Expiry::Soft)]);
    // NAT-T cannot appear, vanish or change type by UPDATE.
    let mut no_natt = esp(0x3000);
    no_natt.natt = None;
    assert_eq!(sad.update(no_natt, 30).unwrap_err(), SadError::Invalid);
    let mut other = esp(0x3000);
    other.natt = Some(NatT {
        encap_type: 1,
        sport: 1,
        dport: 1,
        oa: None,
    });
    assert_eq!(sad.update(other, 30).unwrap_err(), SadError::Invalid);
}

#[test]
fn lifetimes_and_per_packet_charge() {
    let mut sad = Sad::new();
    let mut sa = esp(0x4000);
    sa.lifetime_soft.allocations = 2;
    sa.lifetime_hard.allocations = 4;
    let id = sad.add(sa, 0).unwrap();
    let s = sad.get_mut(id).unwrap();
    assert_eq!(s.charge(100, 5), Charge::Ok);
    assert_eq!(s.current.usetime, 5);
    assert_eq!(s.charge(100, 6), Charge::Ok);
    assert_eq!(s.charge(100, 7), Charge::SoftExpired);
    assert_eq!(s.state(), SaState::Dying);
    assert_eq!(s.charge(100, 8), Charge::Ok);
    assert_eq!(s.charge(100, 9), Charge::HardExpired);
    assert_eq!(s.state(), SaState::Dead);
    assert_eq!(s.charge(100, 10), Charge::Unusable);
    assert_eq!((s.current.allocations, s.current.bytes), (4, 400));
    // Already reported: the timer-side check stays quiet.
    let mut ev = crate::seam::Vec::new();
    sad.expire_check(11, &mut ev).unwrap();
    assert!(ev.is_empty());
    // Time-based, and larval SAs expire after LARVAL_LIFETIME.
    let mut sa = esp(0x4001);
    sa.lifetime_hard.usetime = 50;
    let used = sad.add(sa, 0).unwrap();
    let (larval, _) = sad.getspi(&req(0, 0x100, 0x200), 1000).unwrap();
    sad.expire_check(1000 + LARVAL_LIFETIME - 1, &mut ev)
        .unwrap();
    assert!(ev.is_empty());
    sad.get_mut(used).unwrap().charge(1, 1000);
    sad.expire_check(1000 + LARVAL_LIFETIME, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(larval, Expiry::Hard)]);
    ev.clear();
    sad.expire_check(1050, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(used, Expiry::Hard)]);
    assert_eq!(sad.get(used).unwrap().state(), SaState::Dead);
    assert_eq!(
        sad.update(esp(0x4001), 1051).unwrap_err(),
        SadError::Invalid
    );
    assert!(sad.delete_id(used).is_some());
}

#[test]
fn flush_by_proto_keeps_indexes_consistent() {
    let mut sad = Sad::new();
    for spi in 1..=300u32 {
        let proto = [IpsecProto::Esp, IpsecProto::Ah, IpsecProto::IpComp][spi as usize % 3];
        let mut sa = Sa::new(ident(spi + 0x100, proto));
        sa.replay_window = 32;
        sad.add(sa, 0).unwrap();
    }
    sad.acquire(&ident(0, IpsecProto::Ah), 0).unwrap();
    let mut seen = 0;
    let n = sad.flush(Some(IpsecProto::Ah), |sa| {
        assert_eq!(sa.proto(), IpsecProto::Ah);
        seen += 1;
    });
    assert_eq!((n, seen), (101, 101));
    assert_eq!(sad.count(IpsecProto::Ah), 0);
    assert_eq!(sad.len(), 200);
    for spi in 1..=300u32 {
        let proto = [IpsecProto::Esp, IpsecProto::Ah, IpsecProto::IpComp][spi as usize % 3];
        assert_eq!(
            sad.lookup(&B, spi + 0x100, proto).is_some(),
            proto != IpsecProto::Ah
        );
    }
    let mut cur = sad.dump_cursor();
    let mut dumped = 0;
    while sad.dump_next(&mut cur, None).is_some() {
        dumped += 1;
    }
    assert_eq!(dumped, 200);
    assert!(sad.acquire(&ident(0, IpsecProto::Ah), 0).unwrap().created);
    assert_eq!(sad.flush(None, |_| {}), 201);
    assert!(sad.is_empty());
    assert!(sad.lookup(&B, 0x101, IpsecProto::Esp).is_none());
}

#[test]
fn chunked_dump_of_100k_survives_concurrent_deletes() {
    let mut sad = Sad::new();
    let mut ids = StdVec::new();
    for spi in 0..100_000u32 {
        let proto = if spi % 2 == 1 {
            IpsecProto::Ah
        } else {
            IpsecProto::Esp
        };
        ids.push(sad.add(Sa::new(ident(spi + 1, proto)), 0).unwrap());
    }
    let mut cur = sad.dump_cursor();
    assert_eq!(sad.dump_remaining(&cur, None), 100_000);
    assert_eq!(sad.dump_remaining(&cur, Some(IpsecProto::Esp)), 50_000);
    let mut emitted: StdVec<u64> = StdVec::new();
    let mut deleted: StdVec<u64> = StdVec::new();
    let mut unreached: StdVec<u64> = StdVec::new();
    let mut x = 12345u64;
    loop {
        // One "recvmsg" worth: up to 997 messages.
        let mut n = 0;
        while n < 997 {
            let Some(sa) = sad.dump_peek(&cur, Some(IpsecProto::Esp)) else {
                break;
            };
            emitted.push(sa.id());
            cur.advance_past(sa.id());
            n += 1;
        }
        if n == 0 {
            break;
        }
        // Between chunks others delete and add SAs.
        for _ in 0..300 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = ids[(x >> 33) as usize % ids.len()];
            if sad.delete_id(id).is_some() {
                deleted.push(id);
                // Not reached yet by the dump: it must never be emitted.
                if emitted.last().is_none_or(|&l| id > l) {
                    unreached.push(id);
                }
            }
        }
        let spi = 1_000_000 + emitted.len() as u32;
        sad.add(Sa::new(ident(spi, IpsecProto::Esp)), 0).unwrap();
    }
    assert!(emitted.windows(2).all(|w| w[0] < w[1]));
    let emitted_set: std::collections::HashSet<u64> = emitted.iter().copied().collect();
    let deleted_set: std::collections::HashSet<u64> = deleted.iter().copied().collect();
    for (i, id) in ids.iter().enumerate() {
        let esp = i % 2 == 0;
        if esp && !deleted_set.contains(id) {
            assert!(emitted_set.contains(id), "survivor {id} missed");
        }
        if !esp {
            assert!(!emitted_set.contains(id));
        }
    }
    assert!(!unreached.is_empty());
    assert!(unreached.iter().all(|id| !emitted_set.contains(id)));
    // SAs added after the dump started are not part of it.
    assert!(emitted.iter().all(|id| *id <= ids[ids.len() - 1]));
}

#[test]
fn model_random_ops() {
    let mut sad = Sad::new();
    let mut model: HashMap<(u8, u32, u8), u64> = HashMap::new();
    let mut x = 0x0123_4567_89ab_cdefu64;
    let protos = [IpsecProto::Esp, IpsecProto::Ah, IpsecProto::IpComp];
    for step in 0..30_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = (x % 4) as u8;
        let spi = ((x >> 8) % 50) as u32 + 1;
        let p = ((x >> 16) % 3) as usize;
        let dst = v4(10, 0, 0, d);
        let key = (d, spi, p as u8);
        let mut i = ident(spi, protos[p]);
        i.dst = dst;
        match (x >> 24) % 3 {
            0 => match sad.add(Sa::new(i), step) {
                Ok(id) => assert!(model.insert(key, id).is_none()),
                Err(e) => {
                    assert_eq!(e, SadError::Exists);
                    assert!(model.contains_key(&key));
                }
            },
            1 => {
                let r = sad.delete(&dst, spi, protos[p]).map(|s| s.id()).ok();
                assert_eq!(r, model.remove(&key));
            }
            _ => {
                let r = sad.lookup(&dst, spi, protos[p]).map(|s| s.id());
                assert_eq!(r, model.get(&key).copied());
            }
        }
        assert_eq!(sad.len(), model.len());
    }
    assert_eq!(sad.by_spi.len(), model.len());
    let grouped: usize = sad.by_tuple.values().map(|g| g.len()).sum();
    assert_eq!(grouped, model.len());
    for sa in sad.iter() {
        let g = sad.by_tuple.get(&tuple_key(sa.ident())).unwrap();
        assert_eq!(g[sa.tuple_pos], sa.id());
    }
}
