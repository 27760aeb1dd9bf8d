//! The fuzz loop shared by both targets: where the messages come from
//! (the seeded generator, or a saved log/input for `--replay`), when the
//! periodic full dumps happen, when to stop, and the reproducers.

use crate::gen::{Gen, Step, PLAIN};
use crate::host::Host;
use crate::stats::Stats;
use crate::wire::{hex_rle, unhex_rle};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Host,
    Kernel,
    /// The kernel target's harness over sockets simulated in-process.
    Sim,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub target: Target,
    pub seed: u64,
    /// Stop after this many messages (and/or `duration`).
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    /// Full DUMP + X_SPDDUMP before every K-th message.
    pub dump_every: u64,
    pub mutate_pct: u32,
    pub out_dir: PathBuf,
    /// Kernel: fsync the message log every N lines.
    pub fsync_every: u64,
    pub replay: Option<PathBuf>,
    /// Kernel: run in a private network namespace.
    pub netns: bool,
    pub max_failures: usize,
    /// Host engine limits.
    pub max_states: usize,
    pub max_policies: usize,
    /// Kernel: loopback UDP through the SPD every N messages (0: never).
    pub poke_every: u64,
    /// Print a progress line every N messages (0: never).
    pub progress_every: u64,
    pub dump_timeout: Duration,
    /// A promiscuous copy that is not the request byte for byte fails.
    pub strict_promisc: bool,
    /// Sim: deliver exactly as Linux af_key (verbatim promiscuous copies,
    /// dump messages copied to promiscuous sockets).
    pub sim_af_key: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: Target::Host,
            seed: 1,
            count: Some(10_000),
            duration: None,
            dump_every: 1000,
            mutate_pct: 60,
            out_dir: PathBuf::from("fuzz-out"),
            fsync_every: 32,
            replay: None,
            netns: true,
            max_failures: 20,
            max_states: 1000,
            max_policies: 1000,
            poke_every: 0,
            progress_every: 0,
            dump_timeout: Duration::from_secs(60),
            strict_promisc: false,
            sim_af_key: false,
        }
    }
}

/// One line of a replay log.
#[derive(Clone, Debug)]
pub enum Item {
    Step(Step),
    Dump(u64),
}

/// Reads a saved input: a log (`<index> <socket> <hex>` / `<index> dump`
/// lines, `#` comments) or a raw message (sent from the plain socket, then
/// a full dump).
pub fn load_replay(path: &Path) -> Result<Vec<Item>, String> {
    let data = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = std::str::from_utf8(&data).ok();
    let is_log = text.is_some_and(|t| {
        t.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| {
            l.starts_with('#')
                || l.split_whitespace()
                    .next()
                    .is_some_and(|w| w.parse::<u64>().is_ok())
        })
    });
    if !is_log {
        let step = Step {
            index: 0,
            sock: PLAIN,
            kind: data.get(1).copied().unwrap_or(0),
            bytes: data,
            mutations: vec!["replay"],
        };
        return Ok(vec![Item::Step(step), Item::Dump(1)]);
    }
    let mut items = Vec::new();
    for (n, line) in text.unwrap_or("").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let bad = || {
            format!(
                "{}:{}: not `<index> <socket> <hex>` or `<index> dump`",
                path.display(),
                n + 1
            )
        };
        let index: u64 = f.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        match f.next() {
            Some("dump") => items.push(Item::Dump(index)),
            Some(sock) => {
                let sock: usize = sock.parse().map_err(|_| bad())?;
                // A line cut short by a dying VM is the last one: keep
                // what decodes.
                let Some(bytes) = f.next().and_then(unhex_rle) else {
                    eprintln!(
                        "pfkey-fuzz: {}:{}: incomplete line, stopping there",
                        path.display(),
                        n + 1
                    );
                    break;
                };
                if sock >= crate::gen::SOCKS {
                    return Err(bad());
                }
                items.push(Item::Step(Step {
                    index,
                    sock,
                    kind: bytes.get(1).copied().unwrap_or(0),
                    bytes,
                    mutations: vec!["replay"],
                }));
            }
            None => return Err(bad()),
        }
    }
    Ok(items)
}

enum Engine {
    Host(Box<Host>),
    #[cfg(target_os = "linux")]
    Kernel(Box<crate::kernel::Kernel>),
}

impl Engine {
    fn step(&mut self, s: &Step, stats: &mut Stats) {
        match self {
            Engine::Host(h) => h.step(s, stats),
            #[cfg(target_os = "linux")]
            Engine::Kernel(k) => k.step(s, stats),
        }
    }

    fn check_tables(&mut self, index: u64, stats: &mut Stats) {
        match self {
            Engine::Host(h) => h.check_tables(index, stats),
            #[cfg(target_os = "linux")]
            Engine::Kernel(k) => k.check_tables(index, stats),
        }
    }

    fn dead(&self) -> bool {
        match self {
            Engine::Host(h) => h.dead,
            #[cfg(target_os = "linux")]
            Engine::Kernel(_) => false,
        }
    }
}

/// Runs the fuzzer; the returned stats say how it went.
pub fn run(o: &Options) -> Result<Stats, String> {
    let target_name = match o.target {
        Target::Host => "host",
        Target::Kernel => "kernel",
        Target::Sim => "sim",
    };
    let mut stats = Stats::new(target_name, o.seed, o.out_dir.clone());
    let replay = match &o.replay {
        Some(p) => Some(load_replay(p)?),
        None => None,
    };
    let mut eng = match o.target {
        Target::Host => {
            let mut h = Host::new(o.seed, o.max_states, o.max_policies);
            h.strict_promisc = o.strict_promisc;
            h.setup(&mut stats);
            Engine::Host(Box::new(h))
        }
        #[cfg(target_os = "linux")]
        Target::Kernel => {
            if o.netns {
                crate::kernel::private_netns()
                    .map_err(|e| format!("private network namespace: {e}"))?;
            }
            fs::create_dir_all(&o.out_dir).map_err(|e| format!("{}: {e}", o.out_dir.display()))?;
            let log = o.out_dir.join(format!("pfkey-fuzz-{}.log", o.seed));
            let log = replay.is_none().then_some(log);
            let poke = o.netns && o.poke_every > 0;
            let mut k =
                crate::kernel::Kernel::new(log.as_deref(), o.fsync_every, o.dump_timeout, poke)
                    .map_err(|e| {
                        format!("PF_KEY socket: {e} (is rxfrm.ko loaded, are we root?)")
                    })?;
            k.strict_promisc = o.strict_promisc;
            k.setup(&mut stats, !o.netns);
            if let Some(l) = &log {
                eprintln!("pfkey-fuzz: logging every message to {}", l.display());
            }
            Engine::Kernel(Box::new(k))
        }
        #[cfg(target_os = "linux")]
        Target::Sim => {
            let mut io = crate::sim::SimIo::new(crate::gen::SOCKS + 1);
            io.af_key_exact = o.sim_af_key;
            let mut k = crate::kernel::Kernel::with_io(
                Box::new(io),
                None,
                o.fsync_every,
                o.dump_timeout,
                false,
            )
            .map_err(|e| e.to_string())?;
            k.strict_promisc = o.strict_promisc;
            k.setup(&mut stats, false);
            Engine::Kernel(Box::new(k))
        }
        #[cfg(not(target_os = "linux"))]
        Target::Kernel | Target::Sim => return Err("the kernel target needs Linux".into()),
    };
    let start = Instant::now();
    let mut gen = Gen::new(o.seed);
    gen.mutate_pct = o.mutate_pct;
    let mut replay = replay.map(|v| v.into_iter());
    let mut n = 0u64;
    let mut last_index = 0;
    loop {
        if o.count.is_some_and(|c| n >= c) && replay.is_none() {
            break;
        }
        if o.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        if stats.failures.len() >= o.max_failures || eng.dead() {
            break;
        }
        let item = match &mut replay {
            Some(it) => match it.next() {
                Some(i) => i,
                None => break,
            },
            None => Item::Step(gen.next()),
        };
        match item {
            Item::Dump(i) => eng.check_tables(i, &mut stats),
            Item::Step(s) => {
                if replay.is_none() && s.index > 0 && s.index.is_multiple_of(o.dump_every.max(1)) {
                    eng.check_tables(s.index, &mut stats);
                }
                #[cfg(target_os = "linux")]
                if o.poke_every > 0 && s.index.is_multiple_of(o.poke_every) {
                    if let Engine::Kernel(k) = &mut eng {
                        k.poke(s.index, &mut stats);
                    }
                }
                last_index = s.index;
                eng.step(&s, &mut stats);
                n += 1;
                if o.progress_every > 0 && n.is_multiple_of(o.progress_every) {
                    eprintln!(
                        "pfkey-fuzz: {n} messages, {:.0} s, {} failures",
                        start.elapsed().as_secs_f64(),
                        stats.failures.len()
                    );
                }
            }
        }
    }
    if !eng.dead() {
        eng.check_tables(last_index + 1, &mut stats);
    }
    #[cfg(target_os = "linux")]
    if let Engine::Kernel(k) = &mut eng {
        if !o.netns {
            k.flush(&mut stats);
        }
        k.sync_log();
    }
    if o.target == Target::Host && o.replay.is_none() {
        write_host_logs(o, &stats);
    }
    Ok(stats)
}

/// For each host failure, the messages up to it as a replayable log
/// (`crash-<seed>-<index>.log`), regenerated from the seed.
fn write_host_logs(o: &Options, stats: &Stats) {
    for f in &stats.failures {
        if f.index > 5_000_000 {
            continue;
        }
        let path = o.out_dir.join(format!("crash-{}-{}.log", o.seed, f.index));
        let Ok(mut file) = fs::File::create(&path) else {
            continue;
        };
        let mut gen = Gen::new(o.seed);
        gen.mutate_pct = o.mutate_pct;
        let _ = writeln!(
            file,
            "# pfkey-fuzz host reproducer: seed {} up to message {}",
            o.seed, f.index
        );
        for i in 0..=f.index {
            let s = gen.next();
            if i > 0 && i.is_multiple_of(o.dump_every.max(1)) {
                let _ = writeln!(file, "{i} dump");
            }
            let _ = writeln!(file, "{} {} {}", s.index, s.sock, hex_rle(&s.bytes));
        }
        eprintln!("pfkey-fuzz: reproducer {}", path.display());
    }
}
