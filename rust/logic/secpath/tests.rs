use super::*;

const A: IpAddr = IpAddr::V4([192, 0, 2, 1]);
const B: IpAddr = IpAddr::V4([192, 0, 2, 2]);
const C: IpAddr = IpAddr::V4([198, 51, 100, 3]);

fn tmpl(proto: IpsecProto, mode: Mode, level: Level) -> Template {
    let (src, dst) = match mode {
        Mode::Tunnel => (A, B),
        _ => (IpAddr::UNSPEC_V4, IpAddr::UNSPEC_V4),
    };
    Template {
        proto,
        mode,
        src,
        dst,
        level,
        reqid: 0,
    }
}

fn sa(proto: IpsecProto, mode: Mode) -> AppliedSa {
    AppliedSa {
        proto,
        mode,
        spi: 0x1000,
        reqid: 0,
        src: A,
        dst: B,
    }
}

use IpsecProto::{Ah, Esp, IpComp};
use Level::{Require, Unique, Use};
use Mode::{Transport, Tunnel};

const MISS: Result<(), Mismatch> = Err(Mismatch { index: None });

fn at(i: usize) -> Result<(), Mismatch> {
    Err(Mismatch { index: Some(i) })
}

#[test]
fn transport_esp() {
    let t = [tmpl(Esp, Transport, Require)];
    assert_eq!(verify(&t, &[sa(Esp, Transport)]), Ok(()));
    assert_eq!(verify(&t, &[]), MISS);
    assert_eq!(verify(&t, &[sa(Ah, Transport)]), MISS);
    // A tunnel SA where a transport one is wanted.
    assert_eq!(verify(&t, &[sa(Esp, Tunnel)]), at(0));
    // Mode `any` is transport, as af_key maps it.
    let any = [tmpl(Esp, Mode::Any, Require)];
    assert_eq!(verify(&any, &[sa(Esp, Transport)]), Ok(()));
    assert_eq!(verify(&t, &[sa(Esp, Mode::Any)]), Ok(()));
    // No templates at all: only transport SAs may have been applied.
    assert_eq!(verify(&[], &[sa(Esp, Transport)]), Ok(()));
    assert_eq!(verify(&[], &[sa(Esp, Tunnel)]), at(0));
}

#[test]
fn optional_templates() {
    let t = [tmpl(Esp, Transport, Use)];
    assert_eq!(verify(&t, &[]), Ok(()));
    assert_eq!(verify(&t, &[sa(Esp, Transport)]), Ok(()));
    // An optional transport template is skipped, not consumed; the tunnel
    // SA after it is then uncovered.
    assert_eq!(verify(&t, &[sa(Esp, Tunnel)]), at(0));
    let tun = [tmpl(Esp, Tunnel, Use)];
    assert_eq!(verify(&tun, &[]), Ok(()));
    assert_eq!(verify(&tun, &[sa(Esp, Tunnel)]), Ok(()));
    // Present but with other endpoints: not matched, and left over.
    let other = AppliedSa {
        src: C,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(verify(&tun, &[other]), at(0));
}

#[test]
fn tunnel_endpoints() {
    let t = [tmpl(Esp, Tunnel, Require)];
    assert_eq!(verify(&t, &[sa(Esp, Tunnel)]), Ok(()));
    let wrong_src = AppliedSa {
        src: C,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(verify(&t, &[wrong_src]), at(0));
    let wrong_dst = AppliedSa {
        dst: C,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(verify(&t, &[wrong_dst]), at(0));
    // Transport mode ignores the SA's addresses.
    let tr = [tmpl(Esp, Transport, Require)];
    let far = AppliedSa {
        src: C,
        ..sa(Esp, Transport)
    };
    assert_eq!(verify(&tr, &[far]), Ok(()));
    // A template endpoint left unspecified matches any.
    let open = [Template {
        src: IpAddr::UNSPEC_V4,
        ..tmpl(Esp, Tunnel, Require)
    }];
    assert_eq!(verify(&open, &[wrong_src]), Ok(()));
    assert_eq!(verify(&open, &[wrong_dst]), at(0));
}

#[test]
fn reqid() {
    let t = [Template {
        reqid: 7,
        ..tmpl(Esp, Transport, Unique)
    }];
    let with = |reqid| AppliedSa {
        reqid,
        ..sa(Esp, Transport)
    };
    assert_eq!(verify(&t, &[with(7)]), Ok(()));
    assert_eq!(verify(&t, &[with(8)]), MISS);
    assert_eq!(verify(&t, &[with(0)]), MISS);
    // A template without reqid takes any.
    assert_eq!(verify(&[tmpl(Esp, Transport, Require)], &[with(8)]), Ok(()));
}

#[test]
fn nesting_order() {
    // esp/transport then ah/transport: AH is outermost, removed first.
    let t = [tmpl(Esp, Transport, Require), tmpl(Ah, Transport, Require)];
    assert_eq!(verify(&t, &[sa(Ah, Transport), sa(Esp, Transport)]), Ok(()));
    assert_eq!(verify(&t, &[sa(Esp, Transport), sa(Ah, Transport)]), MISS);
    assert_eq!(verify(&t, &[sa(Ah, Transport)]), MISS);
    // Transport SAs the policy does not name are stepped over.
    assert_eq!(
        verify(
            &t,
            &[sa(IpComp, Transport), sa(Ah, Transport), sa(Esp, Transport)]
        ),
        Ok(())
    );
    // ipcomp/transport inside esp/tunnel: the tunnel SA comes first.
    let t = [tmpl(IpComp, Transport, Use), tmpl(Esp, Tunnel, Require)];
    assert_eq!(
        verify(&t, &[sa(Esp, Tunnel), sa(IpComp, Transport)]),
        Ok(())
    );
    assert_eq!(verify(&t, &[sa(Esp, Tunnel)]), Ok(()));
    // A tunnel is a barrier: ESP inside AH tunnel is not ESP outside it.
    let t = [tmpl(Esp, Transport, Require), tmpl(Ah, Tunnel, Require)];
    assert_eq!(verify(&t, &[sa(Ah, Tunnel), sa(Esp, Transport)]), Ok(()));
    assert_eq!(verify(&t, &[sa(Esp, Transport), sa(Ah, Tunnel)]), MISS);
    let t = [tmpl(Ah, Tunnel, Require), tmpl(Esp, Transport, Require)];
    assert_eq!(verify(&t, &[sa(Ah, Tunnel), sa(Esp, Transport)]), at(0));
}

#[test]
fn uncovered_tunnel_sa() {
    let t = [tmpl(Esp, Transport, Require)];
    // An outer tunnel nobody asked for.
    assert_eq!(verify(&t, &[sa(Esp, Tunnel), sa(Esp, Transport)]), at(0));
    // A second, inner tunnel after the one the policy names.
    let t = [tmpl(Esp, Tunnel, Require)];
    let inner = AppliedSa {
        src: C,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(verify(&t, &[sa(Esp, Tunnel), inner]), at(1));
    // A trailing transport SA is fine.
    assert_eq!(verify(&t, &[sa(Esp, Tunnel), sa(Ah, Transport)]), Ok(()));
}

#[test]
fn no_policy() {
    assert_eq!(verify_no_policy(&[]), Ok(()));
    assert_eq!(verify_no_policy(&[sa(Esp, Transport)]), Ok(()));
    assert_eq!(
        verify_no_policy(&[sa(Ah, Transport), sa(Esp, Tunnel)]),
        at(1)
    );
}

// --- nesting, IPcomp, the SecPath record ---

const D: IpAddr = IpAddr::V4([203, 0, 113, 4]);

fn with_reqid(t: Template, reqid: u32) -> Template {
    Template { reqid, ..t }
}

fn sa_r(proto: IpsecProto, mode: Mode, reqid: u32) -> AppliedSa {
    AppliedSa {
        reqid,
        ..sa(proto, mode)
    }
}

fn unc(src: IpAddr, dst: IpAddr) -> SecPathEntry {
    SecPathEntry::UncompressedIpcompTunnel { src, dst }
}

fn path(entries: &[SecPathEntry]) -> SecPath {
    let mut p = SecPath::new();
    for e in entries {
        p.push(*e).unwrap();
    }
    p
}

/// `verify` and the SecPath walk agree on SA-only chains.
fn both(t: &[Template], applied: &[AppliedSa]) -> Result<(), Mismatch> {
    let r = verify(t, applied);
    let entries: std::vec::Vec<SecPathEntry> =
        applied.iter().map(|a| SecPathEntry::Sa(*a)).collect();
    assert_eq!(verify_entries(t, &entries), r);
    if applied.len() <= MAX_DEPTH {
        assert_eq!(path(&entries).verify(t), r);
    }
    r
}

#[test]
fn esp_then_ah_transport() {
    // KAME's h2h-esp-ah: esp/transport//require ah/transport//require.
    let t = [tmpl(Esp, Transport, Require), tmpl(Ah, Transport, Require)];
    assert_eq!(both(&t, &[sa(Ah, Transport), sa(Esp, Transport)]), Ok(()));
    // Fewer SAs than required, either one missing.
    assert_eq!(both(&t, &[sa(Esp, Transport)]), MISS);
    assert_eq!(both(&t, &[sa(Ah, Transport)]), MISS);
    assert_eq!(both(&t, &[]), MISS);
    // Wrong order: ESP outside AH.
    assert_eq!(both(&t, &[sa(Esp, Transport), sa(Ah, Transport)]), MISS);
    // The same protocol twice does not stand in for the other.
    assert_eq!(both(&t, &[sa(Ah, Transport), sa(Ah, Transport)]), MISS);
    // An optional AH may be absent; ESP may not.
    let t = [tmpl(Esp, Transport, Require), tmpl(Ah, Transport, Use)];
    assert_eq!(both(&t, &[sa(Esp, Transport)]), Ok(()));
    assert_eq!(both(&t, &[sa(Ah, Transport), sa(Esp, Transport)]), Ok(()));
    assert_eq!(both(&t, &[sa(Ah, Transport)]), MISS);
}

#[test]
fn ipcomp_then_esp() {
    // ipcomp/transport//require esp/transport//require: compressed,
    // then encrypted; ESP is outermost.
    let t = [
        tmpl(IpComp, Transport, Require),
        tmpl(Esp, Transport, Require),
    ];
    assert_eq!(
        both(&t, &[sa(Esp, Transport), sa(IpComp, Transport)]),
        Ok(())
    );
    // Not compressed (small or incompressible): still accepted, whatever
    // the IPcomp template's level.
    assert_eq!(both(&t, &[sa(Esp, Transport)]), Ok(()));
    for level in [Use, Require, Unique, Level::Default] {
        let t = [
            tmpl(IpComp, Transport, level),
            tmpl(Esp, Transport, Require),
        ];
        assert_eq!(both(&t, &[sa(Esp, Transport)]), Ok(()), "{level:?}");
    }
    // ESP stays required.
    assert_eq!(both(&t, &[sa(IpComp, Transport)]), MISS);
    assert_eq!(both(&t, &[]), MISS);
    // IPcomp outside ESP: transport SAs no template names are stepped
    // over, and the IPcomp template is not looked for, so Linux (and
    // rxfrm) accept this too: IPcomp protects nothing.
    assert_eq!(
        both(&t, &[sa(IpComp, Transport), sa(Esp, Transport)]),
        Ok(())
    );
}

#[test]
fn ipcomp_esp_ah() {
    let t = [
        tmpl(IpComp, Transport, Require),
        tmpl(Esp, Transport, Require),
        tmpl(Ah, Transport, Require),
    ];
    let ok = [sa(Ah, Transport), sa(Esp, Transport), sa(IpComp, Transport)];
    assert_eq!(both(&t, &ok), Ok(()));
    assert_eq!(both(&t, &ok[..2]), Ok(()));
    assert_eq!(both(&t, &ok[..1]), MISS);
    assert_eq!(both(&t, &[sa(Esp, Transport), sa(IpComp, Transport)]), MISS);
    // Wrong order of ESP and AH.
    assert_eq!(
        both(
            &t,
            &[sa(Esp, Transport), sa(Ah, Transport), sa(IpComp, Transport)]
        ),
        MISS
    );
    // Wrong SA: an ESP SA of another reqid where one is pinned.
    let t = [
        tmpl(IpComp, Transport, Require),
        with_reqid(tmpl(Esp, Transport, Unique), 7),
        with_reqid(tmpl(Ah, Transport, Unique), 5),
    ];
    let good = [
        sa_r(Ah, Transport, 5),
        sa_r(Esp, Transport, 7),
        sa(IpComp, Transport),
    ];
    assert_eq!(both(&t, &good), Ok(()));
    let swapped = [sa_r(Ah, Transport, 7), sa_r(Esp, Transport, 5)];
    assert_eq!(both(&t, &swapped), MISS);
    let wrong = [sa_r(Ah, Transport, 5), sa_r(Esp, Transport, 8)];
    assert_eq!(both(&t, &wrong), MISS);
}

#[test]
fn esp_transport_inside_esp_tunnel() {
    // KAME's esp/transport//require esp/tunnel/A-B/require: the tunnel
    // is outermost, removed first; the transport SA was inside it.
    let t = [tmpl(Esp, Transport, Require), tmpl(Esp, Tunnel, Require)];
    assert_eq!(both(&t, &[sa(Esp, Tunnel), sa(Esp, Transport)]), Ok(()));
    assert_eq!(both(&t, &[sa(Esp, Tunnel)]), MISS);
    assert_eq!(both(&t, &[sa(Esp, Transport)]), MISS);
    // Transport outside the tunnel: the tunnel template finds its SA
    // after stepping over the transport one, then nothing is left for
    // the transport template.
    assert_eq!(both(&t, &[sa(Esp, Transport), sa(Esp, Tunnel)]), MISS);
    // Tunnel endpoint mismatch: the tunnel SA is a barrier.
    let other = AppliedSa {
        src: C,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(both(&t, &[other, sa(Esp, Transport)]), at(0));
    let other = AppliedSa {
        dst: D,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(both(&t, &[other, sa(Esp, Transport)]), at(0));
    // KAME's esp/transport//use esp/tunnel/A-B/require: the inner ESP may
    // be missing.
    let t = [tmpl(Esp, Transport, Use), tmpl(Esp, Tunnel, Require)];
    assert_eq!(both(&t, &[sa(Esp, Tunnel)]), Ok(()));
    assert_eq!(both(&t, &[sa(Esp, Tunnel), sa(Esp, Transport)]), Ok(()));
    // Two tunnels, the policy naming both (outer A-B, inner C-D).
    let inner = Template {
        src: C,
        dst: D,
        ..tmpl(Esp, Tunnel, Require)
    };
    let t = [inner, tmpl(Esp, Tunnel, Require)];
    let inner_sa = AppliedSa {
        src: C,
        dst: D,
        ..sa(Esp, Tunnel)
    };
    assert_eq!(both(&t, &[sa(Esp, Tunnel), inner_sa]), Ok(()));
    assert_eq!(both(&t, &[inner_sa, sa(Esp, Tunnel)]), at(0));
    assert_eq!(both(&t, &[sa(Esp, Tunnel)]), MISS);
}

#[test]
fn spi_is_not_compared() {
    // PF_KEY templates carry no SPI: any SA of the right kind will do.
    let t = [tmpl(Esp, Transport, Require)];
    for spi in [0u32, 1, 0x100, u32::MAX] {
        let a = AppliedSa {
            spi,
            ..sa(Esp, Transport)
        };
        assert_eq!(both(&t, &[a]), Ok(()));
    }
}

#[test]
fn depth_limit() {
    // Six layers: a full record, verified.
    let six = [sa(Esp, Transport); MAX_DEPTH];
    let t = [tmpl(Esp, Transport, Require); MAX_DEPTH];
    assert_eq!(both(&t, &six), Ok(()));
    assert_eq!(verify_no_policy(&six), Ok(()));
    let mut p = SecPath::new();
    for (i, a) in six.iter().enumerate() {
        assert_eq!(p.len(), i);
        p.push_sa(*a).unwrap();
    }
    assert_eq!(p.len(), MAX_DEPTH);
    // A seventh cannot be recorded, and the record stays as it was.
    let before = p;
    assert_eq!(p.push_sa(sa(Ah, Transport)), Err(SecPathFull));
    assert_eq!(p.push(unc(A, B)), Err(SecPathFull));
    assert_eq!(p, before);
    assert_eq!(p.verify(&t), Ok(()));
    // A seven-long chain handed over anyway is a mismatch.
    let seven = [sa(Esp, Transport); MAX_DEPTH + 1];
    let t7 = [tmpl(Esp, Transport, Require); MAX_DEPTH + 1];
    assert_eq!(verify(&t7, &seven), at(MAX_DEPTH));
    assert_eq!(verify(&[], &seven), at(MAX_DEPTH));
    assert_eq!(verify_no_policy(&seven), at(MAX_DEPTH));
    let entries = [SecPathEntry::Sa(sa(Esp, Transport)); MAX_DEPTH + 1];
    assert_eq!(verify_entries(&t7, &entries), at(MAX_DEPTH));
}

#[test]
fn ipcomp_templates_are_optional_on_input() {
    for level in [Use, Require, Unique, Level::Default] {
        // Transport: not looked for; a present IPcomp SA is tolerated.
        let t = [tmpl(IpComp, Transport, level)];
        assert_eq!(both(&t, &[]), Ok(()), "{level:?}");
        assert_eq!(both(&t, &[sa(IpComp, Transport)]), Ok(()));
        // Tunnel: consumed when there, fine when not.
        let t = [tmpl(IpComp, Tunnel, level)];
        assert_eq!(both(&t, &[]), Ok(()));
        assert_eq!(both(&t, &[sa(IpComp, Tunnel)]), Ok(()));
        // An IPcomp tunnel to other endpoints is a barrier left over.
        let other = AppliedSa {
            src: C,
            ..sa(IpComp, Tunnel)
        };
        assert_eq!(both(&t, &[other]), at(0));
    }
    // ESP and AH templates are not affected.
    assert_eq!(both(&[tmpl(Esp, Tunnel, Require)], &[]), MISS);
    assert_eq!(both(&[tmpl(Ah, Transport, Unique)], &[]), MISS);
}

#[test]
fn uncompressed_ipcomp_tunnel() {
    // ipcomp/tunnel/A-B/require: a packet that arrived as plain IPIP
    // from A to B satisfies it.
    for level in [Use, Require] {
        let t = [tmpl(IpComp, Tunnel, level)];
        assert_eq!(path(&[unc(A, B)]).verify(&t), Ok(()), "{level:?}");
        assert_eq!(verify_entries(&t, &[unc(A, B)]), Ok(()));
        // From elsewhere it does not, and it is a tunnel left over.
        assert_eq!(path(&[unc(C, B)]).verify(&t), at(0));
        assert_eq!(path(&[unc(A, D)]).verify(&t), at(0));
    }
    // A template endpoint left unspecified matches any.
    let open = [Template {
        src: IpAddr::UNSPEC_V4,
        ..tmpl(IpComp, Tunnel, Require)
    }];
    assert_eq!(path(&[unc(C, B)]).verify(&open), Ok(()));
    assert_eq!(path(&[unc(C, D)]).verify(&open), at(0));
    // It stands for an IPcomp tunnel only: not for ESP or AH tunnels
    // (Linux's kernel state would satisfy an optional one), nor for a
    // transport-mode IPcomp template.
    for t in [
        tmpl(Esp, Tunnel, Use),
        tmpl(Ah, Tunnel, Use),
        tmpl(Esp, Tunnel, Require),
        tmpl(IpComp, Transport, Require),
    ] {
        assert_eq!(path(&[unc(A, B)]).verify(&[t]), at(0), "{t:?}");
    }
    // Without a policy, or with one that names no IPcomp tunnel, the
    // layer is refused like any tunnel nobody asked for.
    assert_eq!(path(&[unc(A, B)]).verify_no_policy(), at(0));
    assert_eq!(path(&[unc(A, B)]).verify(&[]), at(0));
    assert_eq!(
        path(&[unc(A, B)]).verify(&[tmpl(Esp, Transport, Use)]),
        at(0)
    );
}

#[test]
fn ipcomp_tunnel_under_esp_transport() {
    // racoon's IPcomp tunnel setup: ipcomp/tunnel/A-B/use
    // esp/transport/A-B/require. ESP protects the outer packet, whose
    // payload is the IPcomp tunnel, compressed or not.
    let t = [tmpl(IpComp, Tunnel, Use), tmpl(Esp, Transport, Require)];
    let esp = SecPathEntry::Sa(sa(Esp, Transport));
    let comp = SecPathEntry::Sa(sa(IpComp, Tunnel));
    assert_eq!(path(&[esp, comp]).verify(&t), Ok(()));
    assert_eq!(path(&[esp, unc(A, B)]).verify(&t), Ok(()));
    // ESP missing: refused, compressed or not (the tunnel layer stops
    // the ESP template's search).
    assert_eq!(path(&[comp]).verify(&t), at(0));
    assert_eq!(path(&[unc(A, B)]).verify(&t), at(0));
    // The plain tunnel from elsewhere is not this policy's.
    assert_eq!(path(&[esp, unc(C, B)]).verify(&t), at(1));
    // Inside the uncompressed tunnel, a further transport SA is fine.
    let inner = SecPathEntry::Sa(sa(Ah, Transport));
    assert_eq!(path(&[esp, unc(A, B), inner]).verify(&t), Ok(()));
    // ESP tunnel over an IPcomp tunnel: the outer tunnel first.
    let t = [tmpl(IpComp, Tunnel, Use), tmpl(Esp, Tunnel, Require)];
    let esp_tun = SecPathEntry::Sa(sa(Esp, Tunnel));
    assert_eq!(path(&[esp_tun, unc(A, B)]).verify(&t), Ok(()));
    assert_eq!(path(&[esp_tun]).verify(&t), Ok(()));
    assert_eq!(path(&[unc(A, B), esp_tun]).verify(&t), at(0));
}

#[test]
fn secpath_record() {
    let mut p = SecPath::default();
    assert!(p.is_empty());
    assert_eq!(p.entries(), &[]);
    assert_eq!(p.verify(&[]), Ok(()));
    assert_eq!(p.verify_no_policy(), Ok(()));
    p.push_sa(sa(Esp, Tunnel)).unwrap();
    p.push(unc(A, B)).unwrap();
    assert_eq!((p.len(), p.is_empty()), (2, false));
    assert_eq!(p.entries(), &[SecPathEntry::Sa(sa(Esp, Tunnel)), unc(A, B)]);
    assert_eq!(SecPath::new(), SecPath::default());
    // Records compare by their entries only.
    let mut q = SecPath::new();
    q.push_sa(sa(Esp, Tunnel)).unwrap();
    q.push(unc(A, B)).unwrap();
    assert_eq!(p, q);
}
