use super::*;
use crate::logic::selector::{PROTO_ANY, PROTO_ICMP, PROTO_ICMPV6};
use std::collections::HashMap;
use std::vec::Vec as StdVec;

const TCP: u8 = 6;
const UDP: u8 = 17;

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4([a, b, c, d])
}

fn v6(groups: [u16; 8]) -> IpAddr {
    let mut b = [0u8; 16];
    for (i, g) in groups.iter().enumerate() {
        b[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
    }
    IpAddr::V6(b)
}

fn sel(src: IpAddr, sp: u8, dst: IpAddr, dp: u8, proto: u8, s: u16, d: u16) -> Selector {
    Selector {
        src,
        src_plen: sp,
        dst,
        dst_plen: dp,
        proto,
        sport: s,
        dport: d,
    }
}

fn pol(dir: Dir, s: Selector, prio: u32) -> Policy {
    let mut p = Policy::new(dir, s, Action::Ipsec);
    p.priority = prio;
    p
}

fn esp_transport() -> Template {
    Template {
        proto: IpsecProto::Esp,
        mode: Mode::Transport,
        src: IpAddr::UNSPEC_V4,
        dst: IpAddr::UNSPEC_V4,
        level: Level::Require,
        reqid: 0,
    }
}

/// The winner by definition: a linear scan with the documented order.
fn brute<'a>(spd: &'a Spd, dir: Dir, flow: &FlowKey) -> Option<&'a Policy> {
    spd.policies
        .values()
        .filter(|p| p.dir == dir && p.selector.matches(flow))
        .min_by_key(|p| p.rank())
}

#[test]
fn indexes_follow_xfrm_gen_index() {
    let mut spd = Spd::new();
    let h = |n| Selector::hosts(v4(10, 0, 0, n), v4(10, 0, 0, 2));
    let out = spd.add(pol(Dir::Outbound, h(1), 0), 0).unwrap();
    let inb = spd.add(pol(Dir::Inbound, h(1), 0), 0).unwrap();
    let fwd = spd.add(pol(Dir::Forward, h(1), 0), 0).unwrap();
    // Outbound is kernel dir 1, inbound 0 (index 0 becomes 8), forward 2.
    assert_eq!((out, inb, fwd), (1, 8, 18));
    assert_eq!(dir_of_index(out), Some(Dir::Outbound));
    assert_eq!(dir_of_index(inb), Some(Dir::Inbound));
    assert_eq!(dir_of_index(fwd), Some(Dir::Forward));
    assert_eq!(dir_of_index(3), None);
    assert_eq!(dir_of_index(7), None);
    let mut seen = std::collections::HashSet::new();
    for n in 2..200 {
        let i = spd.add(pol(Dir::Outbound, h(n), 0), 0).unwrap();
        assert_eq!(i & 7, 1);
        assert!(seen.insert(i));
    }
}

#[test]
fn add_exists_update_delete() {
    let mut spd = Spd::new();
    let s = sel(v4(10, 1, 0, 0), 16, v4(10, 2, 0, 0), 16, TCP, 0, 80);
    let mut p = pol(Dir::Outbound, s, 5);
    p.templates.push(esp_transport()).unwrap();
    let idx = spd.add(p, 100).unwrap();
    assert_eq!(spd.get(idx).unwrap().created(), 100);
    assert_eq!(spd.get(idx).unwrap().templates.len(), 1);
    // Same selector and direction: EEXIST, whatever the priority.
    assert_eq!(
        spd.add(pol(Dir::Outbound, s, 9), 101).unwrap_err(),
        SpdError::Exists
    );
    // Other direction is a different policy.
    let in_idx = spd.add(pol(Dir::Inbound, s, 5), 101).unwrap();
    assert_ne!(in_idx, idx);
    // Update replaces in place and returns the old one.
    let (uidx, old) = spd.update(pol(Dir::Outbound, s, 7), 200).unwrap();
    assert_eq!(uidx, idx);
    assert_eq!(old.unwrap().priority, 5);
    let now = spd.get(idx).unwrap();
    assert_eq!(
        (now.priority, now.templates.len(), now.created()),
        (7, 0, 200)
    );
    assert_eq!(spd.len(), 2);
    // Update of a missing selector adds.
    let s2 = Selector { dport: 443, ..s };
    let (idx2, old) = spd.update(pol(Dir::Outbound, s2, 1), 300).unwrap();
    assert!(old.is_none());
    assert_eq!(
        spd.get_by_selector(Dir::Outbound, &s2).unwrap().index(),
        idx2
    );
    // Delete by selector, then by index.
    assert_eq!(spd.delete(Dir::Outbound, &s).unwrap().index(), idx);
    assert_eq!(
        spd.delete(Dir::Outbound, &s).unwrap_err(),
        SpdError::NotFound
    );
    assert!(spd.get(idx).is_none());
    assert_eq!(spd.delete_by_index(in_idx).unwrap().dir, Dir::Inbound);
    assert_eq!(spd.delete_by_index(in_idx).unwrap_err(), SpdError::NotFound);
    let f = FlowKey::new(v4(10, 1, 1, 1), v4(10, 2, 2, 2), TCP, 5, 443);
    assert_eq!(spd.lookup(Dir::Outbound, &f).unwrap().index(), idx2);
    assert_eq!(spd.flush(), 1);
    assert!(spd.is_empty());
    assert!(spd.lookup(Dir::Outbound, &f).is_none());
    assert_eq!(spd.class_count(Dir::Outbound), 0);
}

#[test]
fn validation() {
    let mut spd = Spd::new();
    let bad = sel(v4(1, 1, 1, 1), 32, v6([0; 8]), 128, PROTO_ANY, 0, 0);
    assert_eq!(
        spd.add(pol(Dir::Outbound, bad, 0), 0).unwrap_err(),
        SpdError::Invalid
    );
    let long = sel(v4(1, 1, 1, 1), 40, v4(1, 1, 1, 1), 32, PROTO_ANY, 0, 0);
    assert_eq!(
        spd.add(pol(Dir::Outbound, long, 0), 0).unwrap_err(),
        SpdError::Invalid
    );
    let ok = Selector::hosts(v4(1, 1, 1, 1), v4(2, 2, 2, 2));
    let mut p = pol(Dir::Outbound, ok, 0);
    for _ in 0..7 {
        p.templates.push(esp_transport()).unwrap();
    }
    assert_eq!(spd.add(p, 0).unwrap_err(), SpdError::TooManyTemplates);
    let mut p = pol(Dir::Outbound, ok, 0);
    p.templates
        .push(Template {
            mode: Mode::Tunnel,
            ..esp_transport()
        })
        .unwrap();
    assert_eq!(spd.add(p, 0).unwrap_err(), SpdError::Invalid);
    let mut p = pol(Dir::Outbound, ok, 0);
    p.templates
        .push(Template {
            mode: Mode::Tunnel,
            src: v4(192, 0, 2, 1),
            dst: v6([1; 8]),
            ..esp_transport()
        })
        .unwrap();
    assert_eq!(spd.add(p, 0).unwrap_err(), SpdError::Invalid);
    assert!(spd.is_empty());
}

#[test]
fn overlapping_policies_pick_the_expected_winner() {
    let mut spd = Spd::new();
    let mut names: HashMap<&str, u32> = HashMap::new();
    let any4 = IpAddr::UNSPEC_V4;
    let any6 = IpAddr::UNSPEC_V6;
    let n16a = v4(10, 1, 0, 0);
    let n16b = v4(10, 2, 0, 0);
    let db8 = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
    let db8_1 = v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0]);
    let db8_2 = v6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 0]);
    let o = Dir::Outbound;
    let table: [(&str, Dir, Selector, u32); 20] = [
        ("default", o, sel(any4, 0, any4, 0, PROTO_ANY, 0, 0), 200),
        (
            "net8",
            o,
            sel(v4(10, 0, 0, 0), 8, v4(10, 0, 0, 0), 8, PROTO_ANY, 0, 0),
            100,
        ),
        ("net16", o, sel(n16a, 16, n16b, 16, PROTO_ANY, 0, 0), 100),
        ("tcp80", o, sel(n16a, 16, n16b, 16, TCP, 0, 80), 100),
        ("tcp1234_80", o, sel(n16a, 16, n16b, 16, TCP, 1234, 80), 100),
        (
            "host_src",
            o,
            sel(v4(10, 1, 2, 3), 32, n16b, 16, PROTO_ANY, 0, 0),
            100,
        ),
        ("udp50", o, sel(n16a, 16, n16b, 16, UDP, 0, 0), 50),
        ("echo", o, sel(n16a, 16, n16b, 16, PROTO_ICMP, 8, 0), 100),
        (
            "unreach_frag",
            o,
            sel(n16a, 16, n16b, 16, PROTO_ICMP, 3, 4),
            100,
        ),
        (
            "age_a",
            o,
            sel(v4(10, 3, 0, 0), 16, v4(10, 4, 0, 0), 24, PROTO_ANY, 0, 0),
            100,
        ),
        (
            "age_b",
            o,
            sel(v4(10, 3, 0, 0), 24, v4(10, 4, 0, 0), 16, PROTO_ANY, 0, 0),
            100,
        ),
        (
            "unmasked_old",
            o,
            sel(v4(10, 9, 0, 1), 16, v4(10, 10, 0, 0), 16, PROTO_ANY, 0, 0),
            100,
        ),
        (
            "unmasked_new",
            o,
            sel(v4(10, 9, 0, 0), 16, v4(10, 10, 0, 0), 16, PROTO_ANY, 0, 0),
            100,
        ),
        (
            "dns_any_proto",
            o,
            sel(v4(10, 7, 0, 0), 16, v4(10, 8, 0, 0), 16, PROTO_ANY, 0, 53),
            100,
        ),
        (
            "bypass192",
            o,
            sel(
                v4(192, 168, 0, 0),
                16,
                v4(192, 168, 0, 0),
                16,
                PROTO_ANY,
                0,
                0,
            ),
            0,
        ),
        (
            "host192",
            o,
            sel(v4(192, 168, 1, 1), 32, v4(192, 168, 1, 2), 32, TCP, 0, 0),
            10,
        ),
        ("v6_db8", o, sel(db8, 32, db8, 32, PROTO_ANY, 0, 0), 100),
        ("v6_tcp48", o, sel(db8_1, 48, db8_2, 48, TCP, 0, 0), 100),
        ("v6_ns", o, sel(any6, 0, any6, 0, PROTO_ICMPV6, 135, 0), 1),
        (
            "in_net16",
            Dir::Inbound,
            sel(n16a, 16, n16b, 16, PROTO_ANY, 0, 0),
            100,
        ),
    ];
    for (t, (name, dir, s, prio)) in table.iter().enumerate() {
        let idx = spd.add(pol(*dir, *s, *prio), t as u64).unwrap();
        names.insert(name, idx);
    }
    let v6_default = spd.add(
        pol(Dir::Forward, sel(any6, 0, any6, 0, PROTO_ANY, 0, 0), 300),
        99,
    );
    names.insert("fwd_v6_default", v6_default.unwrap());

    let tcp = |s: IpAddr, sp, d: IpAddr, dp| FlowKey::new(s, d, TCP, sp, dp);
    let udp = |s: IpAddr, sp, d: IpAddr, dp| FlowKey::new(s, d, UDP, sp, dp);
    let a = v4(10, 1, 5, 5);
    let b = v4(10, 2, 5, 5);
    let h = v4(10, 1, 2, 3);
    let x6 = v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1]);
    let y6 = v6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 1]);
    let ll1 = v6([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    let ll2 = v6([0xfe80, 0, 0, 0, 0, 0, 0, 2]);
    let check = |spd: &Spd, cases: &[(Dir, FlowKey, Option<&str>)]| {
        for (n, (dir, flow, want)) in cases.iter().enumerate() {
            let (got, stats) = spd.lookup_counted(*dir, flow);
            let got = got.map(|p| p.index());
            assert_eq!(
                got,
                want.map(|w| names[w]),
                "case {n}: {flow:?} want {want:?}"
            );
            assert_eq!(got, brute(spd, *dir, flow).map(|p| p.index()), "case {n}");
            assert!(stats.classes <= spd.class_count(*dir));
        }
    };
    let o = Dir::Outbound;
    check(
        &spd,
        &[
            (o, tcp(a, 999, b, 80), Some("tcp80")),
            (o, tcp(a, 1234, b, 80), Some("tcp1234_80")),
            (o, tcp(a, 1, b, 443), Some("net16")),
            (o, tcp(h, 1, v4(10, 2, 0, 9), 443), Some("host_src")),
            // Prefix length outweighs pinned ports.
            (o, tcp(h, 1, v4(10, 2, 0, 9), 80), Some("host_src")),
            // Priority outweighs specificity.
            (o, udp(h, 53, b, 53), Some("udp50")),
            (o, FlowKey::icmp(a, b, 8, 0), Some("echo")),
            (o, FlowKey::icmp(a, b, 0, 0), Some("net16")),
            (o, FlowKey::icmp(a, b, 3, 4), Some("unreach_frag")),
            (o, FlowKey::icmp(a, b, 3, 1), Some("net16")),
            (o, tcp(v4(10, 5, 0, 1), 1, v4(10, 6, 0, 1), 2), Some("net8")),
            (
                o,
                tcp(v4(11, 0, 0, 1), 1, v4(10, 0, 0, 1), 2),
                Some("default"),
            ),
            // Equal priority and specificity: the older policy.
            (
                o,
                tcp(v4(10, 3, 0, 5), 1, v4(10, 4, 0, 5), 2),
                Some("age_a"),
            ),
            (
                o,
                tcp(v4(10, 9, 3, 3), 1, v4(10, 10, 3, 3), 2),
                Some("unmasked_old"),
            ),
            // A pinned port with "any" protocol matches every protocol.
            (
                o,
                udp(v4(10, 7, 1, 1), 999, v4(10, 8, 1, 1), 53),
                Some("dns_any_proto"),
            ),
            (
                o,
                tcp(v4(10, 7, 1, 1), 999, v4(10, 8, 1, 1), 53),
                Some("dns_any_proto"),
            ),
            (
                o,
                udp(v4(10, 7, 1, 1), 999, v4(10, 8, 1, 1), 54),
                Some("net8"),
            ),
            (
                o,
                tcp(v4(192, 168, 1, 1), 1, v4(192, 168, 1, 2), 2),
                Some("bypass192"),
            ),
            (o, tcp(x6, 1, y6, 2), Some("v6_tcp48")),
            (o, udp(x6, 1, y6, 2), Some("v6_db8")),
            (o, FlowKey::icmp(x6, y6, 135, 0), Some("v6_ns")),
            (o, FlowKey::icmp(ll1, ll2, 136, 0), None),
            (o, tcp(ll1, 1, ll2, 2), None),
            (Dir::Inbound, tcp(a, 999, b, 80), Some("in_net16")),
            (Dir::Inbound, tcp(b, 999, a, 80), None),
            (Dir::Forward, tcp(ll1, 1, ll2, 2), Some("fwd_v6_default")),
            // v4 traffic never matches a v6 policy.
            (Dir::Forward, tcp(a, 1, b, 2), None),
        ],
    );
    // Mutations change the winners accordingly.
    spd.delete_by_index(names["age_a"]).unwrap();
    spd.delete_by_index(names["bypass192"]).unwrap();
    let net16 = sel(n16a, 16, n16b, 16, PROTO_ANY, 0, 0);
    spd.update(pol(o, net16, 10), 500).unwrap();
    check(
        &spd,
        &[
            (
                o,
                tcp(v4(10, 3, 0, 5), 1, v4(10, 4, 0, 5), 2),
                Some("age_b"),
            ),
            (
                o,
                tcp(v4(192, 168, 1, 1), 1, v4(192, 168, 1, 2), 2),
                Some("host192"),
            ),
            (
                o,
                udp(v4(192, 168, 1, 1), 1, v4(192, 168, 1, 2), 2),
                Some("default"),
            ),
            (o, udp(h, 53, b, 53), Some("net16")),
            (o, tcp(a, 1234, b, 80), Some("net16")),
        ],
    );
}

/// Deterministic xorshift.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_policies_agree_with_linear_scan() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut spd = Spd::new();
    let plens = [0u8, 8, 16, 24, 30, 32];
    let addr = |rng: &mut Rng| {
        v4(
            10,
            rng.below(2) as u8,
            rng.below(3) as u8,
            rng.below(4) as u8,
        )
    };
    let mut live: StdVec<u32> = StdVec::new();
    for step in 0..3000u64 {
        let s = sel(
            addr(&mut rng),
            plens[rng.below(6) as usize],
            addr(&mut rng),
            plens[rng.below(6) as usize],
            [PROTO_ANY, TCP, UDP][rng.below(3) as usize],
            [0, 80][rng.below(2) as usize],
            [0, 53, 80][rng.below(3) as usize],
        );
        let dir = [Dir::Outbound, Dir::Inbound][rng.below(2) as usize];
        match spd.add(pol(dir, s, rng.below(3) as u32), step) {
            Ok(i) => live.push(i),
            Err(e) => assert_eq!(e, SpdError::Exists),
        }
        if rng.below(4) == 0 && !live.is_empty() {
            let i = live.swap_remove(rng.below(live.len() as u64) as usize);
            spd.delete_by_index(i).unwrap();
        }
        let f = FlowKey::new(
            addr(&mut rng),
            addr(&mut rng),
            [TCP, UDP, 50][rng.below(3) as usize],
            [80, 1][rng.below(2) as usize],
            [53, 80, 9][rng.below(3) as usize],
        );
        for dir in [Dir::Outbound, Dir::Inbound] {
            let got = spd.lookup(dir, &f).map(|p| p.index());
            assert_eq!(got, brute(&spd, dir, &f).map(|p| p.index()), "step {step}");
        }
    }
    assert_eq!(spd.len(), live.len());
}

/// Fills an SPD with `n` policies of a realistic mix (host pairs, subnet
/// pairs, per-port rules) and checks that lookups stay cheap.
fn scale(n: u32) {
    let mut spd = Spd::new();
    let host = |i: u32| IpAddr::V4((0x0a00_0000 | (i & 0x00ff_ffff)).to_be_bytes());
    for i in 0..n {
        let s = match i % 4 {
            0 | 1 => Selector::hosts(host(i), host(i.wrapping_mul(2_654_435_761))),
            2 => sel(host(i << 8), 24, host(i), 24, TCP, 0, 0),
            _ => sel(
                host(i),
                32,
                host(i ^ 0x5555),
                32,
                UDP,
                0,
                (i % 60_000) as u16 + 1,
            ),
        };
        match spd.add(pol(Dir::Outbound, s, i % 3), u64::from(i)) {
            Ok(_) | Err(SpdError::Exists) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(spd.len() as u32 > n / 2);
    let mut worst = LookupStats::default();
    for (k, i) in (0..n).step_by((n / 997).max(1) as usize).enumerate() {
        // Host-pair policies exist for i % 4 in {0, 1}.
        let i = i & !3;
        let f = FlowKey::new(host(i), host(i.wrapping_mul(2_654_435_761)), TCP, 1, 2);
        let (p, st) = spd.lookup_counted(Dir::Outbound, &f);
        assert!(p.is_some(), "host pair {i}: no policy for {f:?}");
        // The port policies are the i % 4 == 3 ones: each is the only
        // policy its UDP flow falls under (no other has its source).
        let u = i | 3;
        assert!(u < n);
        let want = sel(
            host(u),
            32,
            host(u ^ 0x5555),
            32,
            UDP,
            0,
            (u % 60_000) as u16 + 1,
        );
        let f2 = FlowKey::new(host(u), host(u ^ 0x5555), UDP, 7, want.dport);
        let (p2, st2) = spd.lookup_counted(Dir::Outbound, &f2);
        let p2 = p2.unwrap_or_else(|| panic!("port policy {u}: no policy for {f2:?}"));
        assert_eq!(
            p2.selector, want,
            "port policy {u}: {f2:?} found another policy"
        );
        assert_eq!(p2.priority, u % 3, "port policy {u}");
        // A linear scan agrees on both winners (sampled: it is slow).
        if k % 32 == 0 {
            assert_eq!(
                p.map(|p| p.index()),
                brute(&spd, Dir::Outbound, &f).map(|p| p.index()),
                "host pair {i}: {f:?}"
            );
            assert_eq!(
                Some(p2.index()),
                brute(&spd, Dir::Outbound, &f2).map(|p| p.index()),
                "port policy {u}: {f2:?}"
            );
        }
        worst.classes = worst.classes.max(st.classes).max(st2.classes);
        worst.candidates = worst.candidates.max(st.candidates).max(st2.candidates);
    }
    assert!(worst.candidates <= 64, "{worst:?}");
    assert!(worst.classes <= 8, "{worst:?}");
}

#[test]
fn scale_100k_lookups_examine_few_candidates() {
    scale(100_000);
}

/// `cargo test -p rxfrm-logic --release -- --ignored scale_1m`
#[test]
#[ignore]
fn scale_1m_lookups_examine_few_candidates() {
    scale(1_000_000);
}

#[test]
fn dump_is_stable_and_resumable() {
    let mut spd = Spd::new();
    let h = |n: u32| Selector::hosts(IpAddr::V4(n.to_be_bytes()), v4(1, 1, 1, 1));
    let idx: StdVec<u32> = (0..50)
        .map(|n| spd.add(pol(Dir::Outbound, h(n), 0), 0).unwrap())
        .collect();
    // Update keeps position; deletes during the dump are skipped.
    spd.update(pol(Dir::Outbound, h(3), 9), 1).unwrap();
    let mut cur = spd.dump_cursor();
    assert_eq!(spd.dump_remaining(&cur), 50);
    let mut got = StdVec::new();
    for _ in 0..10 {
        got.push(spd.dump_next(&mut cur).unwrap().index());
    }
    spd.delete_by_index(idx[20]).unwrap();
    spd.delete_by_index(idx[5]).unwrap();
    spd.add(pol(Dir::Outbound, h(1000), 0), 2).unwrap();
    let peeked = spd.dump_peek(&cur).unwrap().index();
    assert_eq!(peeked, idx[10]);
    while let Some(p) = spd.dump_next(&mut cur) {
        got.push(p.index());
    }
    let want: StdVec<u32> = idx.iter().copied().filter(|&i| i != idx[20]).collect();
    assert_eq!(got, want);
    assert_eq!(spd.get(idx[3]).unwrap().priority, 9);
}

#[test]
fn policy_lifetimes_expire_once() {
    let mut spd = Spd::new();
    let mut p = pol(
        Dir::Outbound,
        Selector::hosts(v4(1, 0, 0, 1), v4(1, 0, 0, 2)),
        0,
    );
    p.lifetime_soft.addtime = 10;
    p.lifetime_hard.addtime = 20;
    let i = spd.add(p, 1000).unwrap();
    spd.add(
        pol(
            Dir::Outbound,
            Selector::hosts(v4(1, 0, 0, 3), v4(1, 0, 0, 2)),
            0,
        ),
        0,
    )
    .unwrap();
    let mut ev = crate::seam::Vec::new();
    spd.expire_check(1005, &mut ev).unwrap();
    assert!(ev.is_empty());
    spd.expire_check(1010, &mut ev).unwrap();
    spd.expire_check(1011, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(i, Expiry::Soft)]);
    ev.clear();
    spd.account(i, 100, 1012);
    assert_eq!(spd.get(i).unwrap().current.bytes, 100);
    spd.expire_check(1020, &mut ev).unwrap();
    spd.expire_check(1021, &mut ev).unwrap();
    assert_eq!(&ev[..], &[(i, Expiry::Hard)]);
}

#[test]
fn changes_name_each_policy_touched_and_a_flush_names_all() {
    let mut spd = Spd::new();
    let a = sel(v4(10, 0, 0, 1), 32, v4(10, 0, 0, 2), 32, PROTO_ANY, 0, 0);
    let b = sel(v4(10, 0, 0, 3), 32, v4(10, 0, 0, 4), 32, TCP, 0, 80);
    let ia = spd.add(pol(Dir::Outbound, a, 0), 1).unwrap();
    let ib = spd.add(pol(Dir::Inbound, b, 0), 1).unwrap();
    let ch = spd.take_changes();
    assert!(!ch.all);
    assert_eq!(&ch.ids[..], &[u64::from(ia), u64::from(ib)]);
    assert!(spd.take_changes().is_empty(), "taken once");

    // A refused add changes nothing; an update keeps the index.
    assert_eq!(
        spd.add(pol(Dir::Outbound, a, 0), 2).unwrap_err(),
        SpdError::Exists
    );
    assert!(spd.take_changes().is_empty());
    let (iu, old) = spd.update(pol(Dir::Outbound, a, 5), 2).unwrap();
    assert_eq!(iu, ia);
    assert!(old.is_some());
    assert_eq!(&spd.take_changes().ids[..], &[u64::from(ia)]);

    spd.delete(Dir::Inbound, &b).unwrap();
    assert_eq!(&spd.take_changes().ids[..], &[u64::from(ib)]);

    spd.add(pol(Dir::Inbound, b, 0), 3).unwrap();
    spd.flush();
    let ch = spd.take_changes();
    assert!(ch.all && ch.ids.is_empty());
}

#[test]
fn shapes_file_a_selector_under_the_key_its_flows_probe() {
    let s = sel(v4(10, 1, 2, 0), 24, v4(10, 9, 0, 0), 16, TCP, 0, 443);
    let shape = Shape::of(&s);
    assert!(!shape.is_v6());
    let flow = FlowKey {
        src: v4(10, 1, 2, 77),
        dst: v4(10, 9, 200, 1),
        proto: TCP,
        sport: 40000,
        dport: 443,
    };
    assert_eq!(shape.flow_key(&flow), shape.sel_key(&s));
    let other = FlowKey { dport: 80, ..flow };
    assert_ne!(shape.flow_key(&other), shape.sel_key(&s));
    assert!(Shape::of(&sel(
        v6([0xfd00, 0, 0, 0, 0, 0, 0, 1]),
        128,
        v6([0xfd00, 0, 0, 0, 0, 0, 0, 2]),
        128,
        PROTO_ANY,
        0,
        0
    ))
    .is_v6());
}
