//! pfkey-fuzz: seeded, structure-aware PF_KEY fuzzing of rxfrm.
//!
//!   pfkey-fuzz --target host --seed 1 --count 100000
//!   pfkey-fuzz --target kernel --seed 1 --duration 600 --out fuzz-out
//!   pfkey-fuzz --target kernel --replay fuzz-out/pfkey-fuzz-1.log
//!
//! Exit status: 0 clean, 1 if anything failed (a malformed reply, a
//! panic, an inconsistent table, a dump that does not end), 2 on a usage
//! or set-up error.

use clap::{Parser, ValueEnum};
use pfkey_fuzz::run::{run, Options, Target};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TargetArg {
    /// The key engine in-process (rxfrm_logic::engine::Engine::handle).
    Host,
    /// Real PF_KEY sockets (rxfrm.ko loaded, root).
    Kernel,
    /// The kernel target's harness over PF_KEY sockets simulated in-process
    /// (the engine with af_key's delivery rules): tests the harness.
    Sim,
}

#[derive(Parser, Debug)]
#[command(version, about = "Structure-aware, seeded PF_KEY v2 fuzzer for rxfrm")]
struct Args {
    /// What to fuzz.
    #[arg(long, value_enum, default_value = "host")]
    target: TargetArg,
    /// RNG seed; the same seed sends the same messages (default: from the clock, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Messages to send (default 10000 unless --duration is given).
    #[arg(long)]
    count: Option<u64>,
    /// Seconds to run (with --count: whichever ends first).
    #[arg(long)]
    duration: Option<f64>,
    /// A full DUMP and X_SPDDUMP, checked, before every K-th message.
    #[arg(long, default_value_t = 1000)]
    dump_every: u64,
    /// Percentage of messages mutated.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=100))]
    mutate_pct: u32,
    /// Where the message log and crash inputs go.
    #[arg(long, default_value = "fuzz-out")]
    out: PathBuf,
    /// Kernel: fsync the message log every N messages.
    #[arg(long, default_value_t = 32)]
    fsync_every: u64,
    /// Re-send a saved log (pfkey-fuzz-*.log, crash-*.log) or raw message (crash-*.bin).
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Kernel: stay in the current network namespace (and flush both tables before and after).
    #[arg(long)]
    no_netns: bool,
    /// Stop after this many failures.
    #[arg(long, default_value_t = 20)]
    max_failures: usize,
    /// Host: the engine's max_states / max_policies.
    #[arg(long, default_value_t = 1000)]
    max_states: usize,
    #[arg(long, default_value_t = 1000)]
    max_policies: usize,
    /// Kernel (private namespace): loopback UDP through the SPD every N messages; 0 never.
    #[arg(long, default_value_t = 0)]
    poke_every: u64,
    /// Print progress every N messages (0: never).
    #[arg(long, default_value_t = 0)]
    progress: u64,
    /// Kernel: seconds a full dump may go without a message before it counts
    /// as stalled (dumps continue inside recv(), so only a bug waits at all).
    #[arg(long, default_value_t = 60)]
    dump_timeout: u64,
    /// Fail on a promiscuous copy that is not the request byte for byte
    /// (af_key's; rxfrm's copy stops at the first malformed extension).
    #[arg(long)]
    strict_promisc: bool,
    /// Sim: deliver exactly as Linux af_key does where rxfrm differs
    /// (verbatim promiscuous copies, dump messages to promiscuous sockets).
    #[arg(long)]
    sim_af_key: bool,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let seed = a.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let count = match (a.count, a.duration) {
        (None, None) => Some(10_000),
        (c, _) => c,
    };
    let o = Options {
        target: match a.target {
            TargetArg::Host => Target::Host,
            TargetArg::Kernel => Target::Kernel,
            TargetArg::Sim => Target::Sim,
        },
        seed,
        count,
        duration: a.duration.map(Duration::from_secs_f64),
        dump_every: a.dump_every,
        mutate_pct: a.mutate_pct,
        out_dir: a.out,
        fsync_every: a.fsync_every,
        replay: a.replay,
        netns: !a.no_netns,
        max_failures: a.max_failures,
        max_states: a.max_states,
        max_policies: a.max_policies,
        poke_every: a.poke_every,
        progress_every: a.progress,
        dump_timeout: Duration::from_secs(a.dump_timeout),
        strict_promisc: a.strict_promisc,
        sim_af_key: a.sim_af_key,
    };
    eprintln!("pfkey-fuzz: seed {seed}");
    match run(&o) {
        Ok(stats) => {
            print!("{}", stats.report());
            if stats.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("pfkey-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}
