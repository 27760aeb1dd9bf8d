//! Command line (ipsec-tools' flags) and the top-level modes.

use crate::exec::{Exec, Flow, Options};
use crate::kdebug::{hexlines, kdebug};
use crate::msg::Resolver;
use crate::reader::StmtReader;
use crate::socket::Transport;
use clap::{ArgAction, ArgGroup, Parser};
use rxfrm_logic::pfkey::consts::*;
use std::io::{self, BufRead, Write};

#[derive(Parser, Debug, Default)]
#[command(
    name = "setkey",
    version,
    about = "Manipulate the IPsec SA/SP database through PF_KEY (KAME/ipsec-tools compatible)",
    group(ArgGroup::new("mode").args(["stdin", "file", "dump", "flush", "monitor"]).multiple(false))
)]
pub struct Cli {
    /// Read statements from standard input, acting on each at its `;`
    #[arg(short = 'c')]
    pub stdin: bool,
    /// Read statements from FILE (`-` for standard input)
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<String>,
    /// Dump the SAD (the SPD with -P)
    #[arg(short = 'D')]
    pub dump: bool,
    /// Flush the SAD (the SPD with -P)
    #[arg(short = 'F')]
    pub flush: bool,
    /// With -D/-F: act on the SPD
    #[arg(short = 'P')]
    pub policy: bool,
    /// Monitor every PF_KEY message (-xx: Unix timestamps)
    #[arg(short = 'x', action = ArgAction::Count)]
    pub monitor: u8,
    /// With -D: show dead SAs too
    #[arg(short = 'a')]
    pub all: bool,
    /// With -D: dump in a loop, one short line per SA
    #[arg(short = 'l')]
    pub forever: bool,
    /// Parse and build messages only; send nothing
    #[arg(short = 'n')]
    pub no_act: bool,
    /// Show every message sent and received
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Hex dump of the messages (with -x: of those received)
    #[arg(short = 'H')]
    pub hexdump: bool,
    /// With -D: show ports of SA addresses
    #[arg(short = 'p')]
    pub withports: bool,
    /// RFC mode: also install a fwd policy for each inbound one (the
    /// default, as ipsec-tools' setkey on Linux)
    #[arg(short = 'r', overrides_with = "kernel")]
    pub rfc: bool,
    /// Kernel mode: policies exactly as given
    #[arg(short = 'k', overrides_with = "rfc")]
    pub kernel: bool,
}

/// The outside world `run` needs, so tests can script it.
pub struct Env<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub open: &'a mut dyn FnMut() -> io::Result<Box<dyn Transport>>,
    pub resolve: Resolver<'a>,
    pub clock: &'a dyn Fn() -> (u64, i64),
    pub read_file: &'a dyn Fn(&str) -> io::Result<String>,
}

fn usage(out: &mut dyn Write) -> i32 {
    let _ = writeln!(
        out,
        "usage: setkey [-v] -c\n       setkey [-nv] -f filename\n       setkey [-Palpv] -D\n       \
         setkey [-Pv] -F\n       setkey [-H] -x\n       setkey [-V] [-h]"
    );
    1
}

/// Runs setkey; returns the exit status.
pub fn run(cli: &Cli, env: &mut Env<'_>) -> i32 {
    let statements = cli.stdin || cli.file.is_some();
    if !(statements || cli.dump || cli.flush || cli.monitor > 0) {
        return usage(env.out);
    }
    let mut sock = None;
    if !cli.no_act {
        match (env.open)() {
            Ok(s) => sock = Some(s),
            Err(e) => {
                let text = e
                    .raw_os_error()
                    .map_or_else(|| e.to_string(), crate::exec::strerror);
                let _ = writeln!(env.err, "setkey: pfkey_open: {text}");
                return 1;
            }
        }
    }
    if cli.monitor > 0 {
        return match sock {
            Some(mut s) => monitor(&mut *s, cli, env),
            None => 0,
        };
    }
    let opts = Options {
        verbose: cli.verbose,
        hexdump: cli.hexdump,
        all: cli.all,
        withports: cli.withports,
        // ipsec-tools on Linux (HAVE_POLICY_FWD) starts with f_rfcmode = 1.
        rfc: !cli.kernel,
    };
    let tx: Option<&mut dyn Transport> = match sock.as_mut() {
        Some(s) => Some(&mut **s),
        None => None,
    };
    let mut ex = Exec::new(
        opts,
        tx,
        &mut *env.out,
        &mut *env.err,
        env.resolve,
        env.clock,
    );
    if cli.dump || cli.flush {
        let ty = match (cli.dump, cli.policy) {
            (true, false) => SADB_DUMP,
            (true, true) => SADB_X_SPDDUMP,
            (false, false) => SADB_FLUSH,
            (false, true) => SADB_X_SPDFLUSH,
        };
        loop {
            ex.short(ty);
            if !(cli.forever && cli.dump) || ex.failed {
                break;
            }
            let _ = ex.out.flush();
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        return i32::from(ex.failed);
    }
    // -c, -f FILE, -f -
    let (name, text) = match cli.file.as_deref() {
        Some(f) if f != "-" => match (env.read_file)(f) {
            Ok(t) => (f.to_string(), Some(t)),
            Err(e) => {
                let _ = writeln!(ex.err, "setkey: Can't open `{f}': {e}");
                return 1;
            }
        },
        _ => ("(stdin)".to_string(), None),
    };
    let mut reader = StmtReader::default();
    let run_batch = |ex: &mut Exec<'_>, batch| -> Flow {
        for r in batch {
            match r {
                Ok(st) => {
                    if ex.statement(&name, &st) == Flow::Exit {
                        return Flow::Exit;
                    }
                }
                Err(e) => ex.parse_error(&name, &e),
            }
        }
        Flow::Continue
    };
    if let Some(t) = text {
        let batch = reader.push(&t);
        if run_batch(&mut ex, batch) == Flow::Continue {
            let rest = reader.finish();
            run_batch(&mut ex, rest);
        }
    } else {
        let mut line = String::new();
        loop {
            line.clear();
            match env.stdin.read_line(&mut line) {
                Ok(0) => {
                    let rest = reader.finish();
                    run_batch(&mut ex, rest);
                    break;
                }
                Ok(_) => {
                    let batch = reader.push(&line);
                    if run_batch(&mut ex, batch) == Flow::Exit {
                        break;
                    }
                    let _ = ex.out.flush();
                }
                Err(e) => {
                    let _ = writeln!(ex.err, "setkey: read: {e}");
                    ex.failed = true;
                    break;
                }
            }
        }
    }
    i32::from(ex.failed)
}

/// `-x`: SADB_X_PROMISC, then every message the kernel passes us, with a
/// timestamp line (`-x` time of day, `-xx` Unix time) like setkey.c's
/// promisc(). Returns only when the socket fails.
fn monitor(tx: &mut dyn Transport, cli: &Cli, env: &mut Env<'_>) -> i32 {
    let msg = crate::msg::short(SADB_X_PROMISC, 1, std::process::id());
    if let Err(e) = tx.send(&msg) {
        let _ = writeln!(env.err, "setkey: send: {e}");
        return 1;
    }
    loop {
        let buf = match tx.recv() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                let _ = writeln!(env.err, "setkey: recv: {e}");
                return 1;
            }
        };
        let (now, tz) = (env.clock)();
        let stamp = if cli.monitor > 1 {
            format!("{now}.000000 ")
        } else {
            let s = (now as i64 + tz).rem_euclid(86400);
            format!("{:02}:{:02}:{:02}.000000 ", s / 3600, s % 3600 / 60, s % 60)
        };
        let _ = writeln!(env.out, "{stamp}");
        if cli.hexdump {
            let _ = write!(env.out, "{}", hexlines(&buf));
        }
        // A promiscuous copy may arrive wrapped in an X_PROMISC header.
        let inner = if buf.get(1) == Some(&SADB_X_PROMISC) {
            buf.get(16..).filter(|r| !r.is_empty())
        } else {
            Some(&buf[..])
        };
        if let Some(m) = inner {
            let _ = writeln!(env.out, "{}", kdebug(m));
        }
        let _ = env.out.flush();
    }
}
