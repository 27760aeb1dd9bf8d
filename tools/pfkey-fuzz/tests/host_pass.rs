//! The short fixed-seed host pass `make check` runs (seconds): the engine
//! in-process, every emitted message checked by the independent
//! validator, tables checked against full dumps every 500 messages.

use pfkey_fuzz::gen::Gen;
use pfkey_fuzz::run::{load_replay, run, Item, Options, Target};
use pfkey_fuzz::wire::hex_rle;
use std::io::Write;
use std::path::PathBuf;

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pfkey-fuzz-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn opts(seed: u64, count: u64, name: &str) -> Options {
    Options {
        target: Target::Host,
        seed,
        count: Some(count),
        dump_every: 500,
        out_dir: out_dir(name),
        ..Options::default()
    }
}

#[test]
fn fixed_seeds_run_clean() {
    for seed in [1, 2, 20240601] {
        let stats = run(&opts(seed, 25_000, &format!("seed{seed}"))).unwrap();
        print!("{}", stats.report());
        assert!(stats.clean(), "seed {seed}: {:?}", stats.failures.first());
        assert_eq!(stats.sent, 25_000);
        // The run did something: every type, dumps, acceptances, errors.
        assert!(stats.per_type.len() >= 24, "{:?}", stats.per_type.keys());
        assert!(stats.dumps >= 50 && stats.accepted > 5_000);
        assert!(stats.reply_errno.len() >= 6 && stats.send_errno.len() >= 2);
        assert!(
            stats
                .received
                .get("kernel-originated")
                .copied()
                .unwrap_or(0)
                > 0
        );
    }
}

#[test]
fn unmutated_sequence_runs_clean() {
    let mut o = opts(5, 30_000, "valid");
    o.mutate_pct = 0;
    let stats = run(&o).unwrap();
    assert!(stats.clean(), "{:?}", stats.failures.first());
    assert_eq!(stats.mutated, 0);
    assert!(stats.last_sas > 0 && stats.last_policies > 0);
}

#[test]
fn a_log_replays_to_the_same_result() {
    let dir = out_dir("replay");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("seq.log");
    let mut f = std::fs::File::create(&log).unwrap();
    writeln!(f, "# test log").unwrap();
    let mut g = Gen::new(9);
    for i in 0..3000 {
        let s = g.next();
        if i > 0 && i % 500 == 0 {
            writeln!(f, "{i} dump").unwrap();
        }
        writeln!(f, "{} {} {}", s.index, s.sock, hex_rle(&s.bytes)).unwrap();
    }
    drop(f);
    let items = load_replay(&log).unwrap();
    assert_eq!(
        items.iter().filter(|i| matches!(i, Item::Step(_))).count(),
        3000
    );
    let direct = run(&opts(9, 3000, "direct")).unwrap();
    let mut o = opts(9, 0, "replayed");
    o.replay = Some(log);
    let replayed = run(&o).unwrap();
    assert!(direct.clean() && replayed.clean());
    assert_eq!(direct.sent, replayed.sent);
    assert_eq!(direct.send_errno, replayed.send_errno);
    assert_eq!(direct.reply_errno, replayed.reply_errno);
    assert_eq!(direct.last_sas, replayed.last_sas);
    // A single raw message replays too.
    let bin = dir.join("one.bin");
    std::fs::write(&bin, Gen::new(3).next().bytes).unwrap();
    o.replay = Some(bin);
    assert_eq!(run(&o).unwrap().sent, 1);
}

/// The kernel target's harness (drains, slow dumps, full dumps) over
/// sockets simulated with the engine and af_key's delivery rules.
#[test]
fn kernel_harness_over_simulated_sockets_runs_clean() {
    for seed in [40, 41] {
        let mut o = opts(seed, 8_000, &format!("sim{seed}"));
        o.target = Target::Sim;
        // Seed 41 as Linux af_key delivers: the harness takes both.
        o.sim_af_key = seed == 41;
        o.strict_promisc = seed == 41;
        o.dump_every = 250;
        let stats = run(&o).unwrap();
        print!("{}", stats.report());
        assert!(stats.clean(), "seed {seed}: {:?}", stats.failures.first());
        assert!(stats.dumps >= 30);
        assert!(stats.received.get("slow-dumps").copied().unwrap_or(0) > 0);
        assert!(stats.received.get("promisc-copy").copied().unwrap_or(0) > 0);
    }
}
