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
