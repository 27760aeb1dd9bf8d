//! What a run counts and prints, and how it keeps its reproducers.

use crate::gen::Step;
use crate::wire::hex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

/// The errno's symbolic name (those PF_KEY answers with), else its number.
pub fn errno_name(e: i32) -> String {
    let n = match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        11 => "EAGAIN",
        12 => "ENOMEM",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        22 => "EINVAL",
        28 => "ENOSPC",
        34 => "ERANGE",
        38 => "ENOSYS",
        40 => "ELOOP",
        71 => "EPROTO",
        90 => "EMSGSIZE",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        94 => "ESOCKTNOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        105 => "ENOBUFS",
        _ => return format!("errno{e}"),
    };
    n.to_string()
}

/// PF_KEY message type names, for the report.
pub fn type_name(t: u8) -> String {
    rxfrm_logic::pfkey::consts::msg_type_name(t).map_or_else(|| format!("type{t}"), str::to_string)
}

/// One thing that went wrong, with the input that did it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// `malformed`, `panic`, `inconsistent`, `dump`, `delivery`.
    pub kind: &'static str,
    pub index: u64,
    pub what: String,
    pub request: Vec<u8>,
    pub reply: Option<Vec<u8>>,
}

/// Everything a run counts.
#[derive(Debug)]
pub struct Stats {
    pub target: &'static str,
    pub seed: u64,
    pub started: Instant,
    pub sent: u64,
    pub valid: u64,
    pub mutated: u64,
    /// Per generated message type: (sent, of which valid).
    pub per_type: BTreeMap<u8, (u64, u64)>,
    pub per_mutation: BTreeMap<&'static str, u64>,
    /// Kernel: time spent sending and draining, per generated type.
    pub per_type_time: BTreeMap<u8, std::time::Duration>,
    /// send() failures (sendmsg's return; the engine's `Rejected::Header`).
    pub send_errno: BTreeMap<i32, u64>,
    /// Error replies (`sadb_msg_errno`) to our requests.
    pub reply_errno: BTreeMap<u8, u64>,
    /// Requests handled without an error.
    pub accepted: u64,
    /// Messages received (or emitted, on the host), by class.
    pub received: BTreeMap<&'static str, u64>,
    pub dumps: u64,
    pub spddumps: u64,
    pub dumped_sas: u64,
    pub dumped_policies: u64,
    /// SAs and policies in the last full dumps.
    pub last_sas: u64,
    pub last_policies: u64,
    pub malformed: u64,
    pub panics: u64,
    pub inconsistent: u64,
    pub failures: Vec<Failure>,
    pub out_dir: PathBuf,
}

impl Stats {
    pub fn new(target: &'static str, seed: u64, out_dir: PathBuf) -> Stats {
        Stats {
            target,
            seed,
            started: Instant::now(),
            sent: 0,
            valid: 0,
            mutated: 0,
            per_type: BTreeMap::new(),
            per_mutation: BTreeMap::new(),
            per_type_time: BTreeMap::new(),
            send_errno: BTreeMap::new(),
            reply_errno: BTreeMap::new(),
            accepted: 0,
            received: BTreeMap::new(),
            dumps: 0,
            spddumps: 0,
            dumped_sas: 0,
            dumped_policies: 0,
            last_sas: 0,
            last_policies: 0,
            malformed: 0,
            panics: 0,
            inconsistent: 0,
            failures: Vec::new(),
            out_dir,
        }
    }

    /// Counts a message about to be sent.
    pub fn count_step(&mut self, s: &Step) {
        self.sent += 1;
        let e = self.per_type.entry(s.kind).or_default();
        e.0 += 1;
        if s.mutations.is_empty() {
            self.valid += 1;
            e.1 += 1;
        } else {
            self.mutated += 1;
            for m in &s.mutations {
                *self.per_mutation.entry(m).or_default() += 1;
            }
        }
    }

    pub fn count_class(&mut self, c: crate::validate::Class) {
        use crate::validate::Class::*;
        let n = match c {
            PromiscCopy => "promisc-copy",
            PromiscAltered => "promisc-copy-altered",
            Echo => "promisc-echo",
            ErrorReply(_) => "error-reply",
            Reply => "reply",
            Dump { .. } => "dump",
            Unsolicited => "kernel-originated",
        };
        *self.received.entry(n).or_default() += 1;
    }

    /// Whether the run found nothing wrong.
    pub fn clean(&self) -> bool {
        self.malformed == 0
            && self.panics == 0
            && self.inconsistent == 0
            && self.failures.is_empty()
    }

    /// Records a failure and saves its input as
    /// `crash-<seed>-<index>.bin` (+ `.reply.bin`, `.txt`) in the output
    /// directory.
    pub fn fail(&mut self, f: Failure) {
        match f.kind {
            "panic" => self.panics += 1,
            "inconsistent" => self.inconsistent += 1,
            _ => self.malformed += 1,
        }
        let base = self
            .out_dir
            .join(format!("crash-{}-{}", self.seed, f.index));
        let _ = fs::create_dir_all(&self.out_dir);
        let _ = fs::write(base.with_extension("bin"), &f.request);
        if let Some(r) = &f.reply {
            let _ = fs::write(base.with_extension("reply.bin"), r);
        }
        let mut txt = format!(
            "{} at message {} (seed {}, target {}): {}\nrequest ({} bytes): {}\n",
            f.kind,
            f.index,
            self.seed,
            self.target,
            f.what,
            f.request.len(),
            hex(&f.request[..f.request.len().min(4096)])
        );
        if let Some(r) = &f.reply {
            let _ = writeln!(
                txt,
                "received ({} bytes): {}",
                r.len(),
                hex(&r[..r.len().min(4096)])
            );
        }
        let _ = fs::write(base.with_extension("txt"), &txt);
        eprint!("pfkey-fuzz: FAILURE {txt}");
        eprintln!("pfkey-fuzz: saved {}.bin", base.display());
        self.failures.push(f);
    }

    /// The run's report.
    pub fn report(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "pfkey-fuzz: target {} seed {}: {} messages in {:.1} s ({:.0}/s), {} valid, {} mutated",
            self.target,
            self.seed,
            self.sent,
            secs,
            self.sent as f64 / secs.max(1e-9),
            self.valid,
            self.mutated
        );
        let _ = write!(s, "  per type (sent/valid):");
        for (t, (n, v)) in &self.per_type {
            let _ = write!(s, " {} {n}/{v}", type_name(*t));
        }
        if !self.per_type_time.is_empty() {
            let mut t: Vec<_> = self.per_type_time.iter().collect();
            t.sort_by(|a, b| b.1.cmp(a.1));
            let _ = write!(s, "\n  time per type (ms each):");
            for (k, d) in t.iter().take(8) {
                let n = self.per_type.get(k).map_or(1, |x| x.0.max(1));
                let _ = write!(
                    s,
                    " {} {:.2}",
                    type_name(**k),
                    d.as_secs_f64() * 1000.0 / n as f64
                );
            }
        }
        let _ = write!(s, "\n  mutations:");
        for (m, n) in &self.per_mutation {
            let _ = write!(s, " {m} {n}");
        }
        let _ = write!(s, "\n  accepted: {}\n  send() errors:", self.accepted);
        if self.send_errno.is_empty() {
            s.push_str(" none");
        }
        for (e, n) in &self.send_errno {
            let _ = write!(s, " {} {n}", errno_name(*e));
        }
        s.push_str("\n  error replies:");
        if self.reply_errno.is_empty() {
            s.push_str(" none");
        }
        for (e, n) in &self.reply_errno {
            let _ = write!(s, " {} {n}", errno_name(i32::from(*e)));
        }
        s.push_str("\n  received:");
        for (c, n) in &self.received {
            let _ = write!(s, " {c} {n}");
        }
        let _ = writeln!(
            s,
            "\n  dumps: {} DUMP ({} SAs), {} SPDDUMP ({} policies); last: {} SAs, {} policies",
            self.dumps,
            self.dumped_sas,
            self.spddumps,
            self.dumped_policies,
            self.last_sas,
            self.last_policies
        );
        let _ = writeln!(
            s,
            "  malformed replies: {}, panics: {}, inconsistencies: {}",
            self.malformed, self.panics, self.inconsistent
        );
        let _ = writeln!(
            s,
            "RESULT target={} seed={} messages={} seconds={:.1} malformed={} panics={} inconsistent={} {}",
            self.target,
            self.seed,
            self.sent,
            secs,
            self.malformed,
            self.panics,
            self.inconsistent,
            if self.clean() { "PASS" } else { "FAIL" }
        );
        s
    }
}
