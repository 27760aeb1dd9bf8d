//! `--target kernel`: real PF_KEY sockets (family 15, `SOCK_RAW`,
//! protocol 2). Sockets 0–2 are REGISTERed for AH, ESP and IPComp, 3 is
//! X_PROMISC, 4 is plain, and a sixth does the periodic full dumps. Each
//! message is appended to the log (hex, with its index and socket) before
//! it is sent, the log fsynced every N; after each send every socket is
//! drained (non-blocking) and everything that arrived is validated.

use crate::gen::{pid_of, Step, PLAIN, SOCKS};
use crate::stats::{Failure, Stats};
use crate::validate::{self, Class, DumpTrack, Entry, Hdr};
use crate::wire::hex_rle;
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

const AF_KEY: i32 = 15;
const PF_KEY_V2: i32 = 2;
/// The dumper socket's index.
const DUMPER: usize = SOCKS;
/// Larger than any message a socket can be sent (sk_sndbuf).
const RECV_BUF: usize = 1 << 20;

/// A dump left running on a socket that is read slowly.
struct Lazy {
    req: Vec<u8>,
    track: DumpTrack,
    seen: BTreeSet<Entry>,
    /// Requests sent since: what the socket's queued messages answer.
    history: Vec<Vec<u8>>,
    steps: u32,
    /// Messages to read from it in this step.
    budget: usize,
    /// The last dump message (a promiscuous reader gets each twice).
    last: Option<Vec<u8>>,
    /// The socket was promiscuous at some point of the dump.
    promisc_seen: bool,
}

struct KSock {
    promisc: bool,
}

/// PF_KEY sockets as the harness uses them: real ones, or (for testing
/// the harness itself) `sim::SimIo`'s.
pub trait Io {
    /// `send()` on socket `sock`; the errno on failure.
    fn send(&mut self, sock: usize, b: &[u8]) -> Result<(), i32>;
    /// The next message of `sock`: `None` if there is none (non-blocking)
    /// or none came in time (`wait`).
    fn recv(&mut self, sock: usize, wait: bool) -> Option<Vec<u8>>;
}

/// Real PF_KEY sockets.
struct RealIo {
    socks: Vec<Socket>,
    buf: Vec<MaybeUninit<u8>>,
}

impl Io for RealIo {
    fn send(&mut self, sock: usize, b: &[u8]) -> Result<(), i32> {
        match self.socks[sock].send(b) {
            Ok(n) if n == b.len() => Ok(()),
            Ok(_) => Err(-1),
            Err(e) => Err(e.raw_os_error().unwrap_or(-1)),
        }
    }

    fn recv(&mut self, sock: usize, wait: bool) -> Option<Vec<u8>> {
        let flags = libc::MSG_TRUNC | if wait { 0 } else { libc::MSG_DONTWAIT };
        loop {
            match self.socks[sock].recv_with_flags(&mut self.buf, flags) {
                Ok(n) => {
                    let n = n.min(self.buf.len());
                    // SAFETY: recv initialised the first n bytes.
                    let b =
                        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), n) };
                    return Some(b.to_vec());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }
}

pub struct Kernel {
    io: Box<dyn Io>,
    socks: Vec<KSock>,
    lazy: Vec<Option<Lazy>>,
    log: Option<File>,
    fsync_every: u64,
    logged: u64,
    dump_timeout: Duration,
    /// Two UDP sockets poking loopback traffic through the SPD.
    poke: Option<(UdpSocket, UdpSocket)>,
    /// A promiscuous copy must be the request byte for byte.
    pub strict_promisc: bool,
    /// This step's dump, once it answers, is to be read slowly.
    want_lazy: bool,
}

fn open() -> io::Result<Socket> {
    Socket::new(
        Domain::from(AF_KEY),
        Type::RAW,
        Some(Protocol::from(PF_KEY_V2)),
    )
}

/// A bare header from socket `sock` (its own `sadb_msg_pid`).
fn header(sock: usize, t: u8, satype: u8, seq: u32) -> Vec<u8> {
    let mut m = vec![2, t, 0, satype];
    m.extend(2u16.to_ne_bytes());
    m.extend(0u16.to_ne_bytes());
    m.extend(seq.to_ne_bytes());
    m.extend(pid_of(sock).to_ne_bytes());
    m
}

/// `unshare(CLONE_NEWNET)` and `ip link set lo up`: a namespace of our
/// own, whose tables die with the process (exercising namespace exit with
/// whatever the run left), with local addresses so that SAs between them
/// get real crypto transforms.
pub fn private_netns() -> io::Result<()> {
    // SAFETY: plain syscalls on our own process; `ifr` is a zeroed,
    // properly sized ifreq naming "lo".
    unsafe {
        if libc::unshare(libc::CLONE_NEWNET) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo") {
            *d = *s as libc::c_char;
        }
        let r = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr);
        if r == 0 {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr);
        }
        libc::close(fd);
    }
    Ok(())
}

impl Kernel {
    /// Opens the sockets; the log goes to `log` (none for replays).
    pub fn new(
        log: Option<&Path>,
        fsync_every: u64,
        dump_timeout: Duration,
        poke: bool,
    ) -> io::Result<Kernel> {
        let mut socks = Vec::new();
        for _ in 0..=SOCKS {
            let s = open()?;
            s.set_read_timeout(Some(dump_timeout))?;
            socks.push(s);
        }
        let io = RealIo {
            socks,
            buf: vec![MaybeUninit::uninit(); RECV_BUF],
        };
        Self::with_io(Box::new(io), log, fsync_every, dump_timeout, poke)
    }

    /// The harness over `io`'s `SOCKS + 1` sockets.
    pub fn with_io(
        io: Box<dyn Io>,
        log: Option<&Path>,
        fsync_every: u64,
        dump_timeout: Duration,
        poke: bool,
    ) -> io::Result<Kernel> {
        let socks: Vec<KSock> = (0..=SOCKS).map(|_| KSock { promisc: false }).collect();
        let log = match log {
            Some(p) => {
                let mut f = File::create(p)?;
                writeln!(
                    f,
                    "# pfkey-fuzz log: <index> <socket> <hex, (xx*n) = n bytes xx> | <index> dump"
                )?;
                Some(f)
            }
            None => None,
        };
        let poke = if poke {
            let a = UdpSocket::bind("127.0.0.1:0")?;
            let b = UdpSocket::bind("[::1]:0").or_else(|_| UdpSocket::bind("127.0.0.1:0"))?;
            a.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            Some((a, b))
        } else {
            None
        };
        Ok(Kernel {
            io,
            lazy: socks.iter().map(|_| None).collect(),
            socks,
            log,
            fsync_every: fsync_every.max(1),
            logged: 0,
            dump_timeout,
            poke,
            strict_promisc: false,
            want_lazy: false,
        })
    }

    fn log_line(&mut self, line: &str) {
        if let Some(f) = &mut self.log {
            let _ = f.write_all(line.as_bytes());
            self.logged += 1;
            if self.logged.is_multiple_of(self.fsync_every) {
                let _ = f.sync_data();
            }
        }
    }

    /// Flushes the log to disk (end of run).
    pub fn sync_log(&mut self) {
        if let Some(f) = &mut self.log {
            let _ = f.sync_data();
        }
    }

    fn send(&mut self, sock: usize, b: &[u8]) -> Result<(), i32> {
        self.io.send(sock, b)
    }

    fn recv(&mut self, sock: usize, wait: bool) -> Option<Vec<u8>> {
        self.io.recv(sock, wait)
    }

    /// Registers 0–2, makes 3 promiscuous; their answers are checked.
    pub fn setup(&mut self, stats: &mut Stats, flush: bool) {
        let mut msgs = vec![
            (0, header(0, 7, 2, 1)),
            (1, header(1, 7, 3, 2)),
            (2, header(2, 7, 9, 3)),
            (3, header(3, 11, 1, 4)),
        ];
        if flush {
            msgs.insert(0, (PLAIN, header(PLAIN, 9, 0, 5)));
            msgs.insert(1, (PLAIN, header(PLAIN, 19, 0, 6)));
        }
        for (i, (sock, m)) in msgs.into_iter().enumerate() {
            let step = Step {
                index: u64::MAX - 8 + i as u64,
                sock,
                bytes: m,
                kind: 0,
                mutations: Vec::new(),
            };
            if let Err(e) = self.send(sock, &step.bytes) {
                stats.fail(Failure {
                    kind: "setup",
                    index: step.index,
                    what: format!("set-up message refused by send(): errno {e}"),
                    request: step.bytes.clone(),
                    reply: None,
                });
            }
            let before: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
            self.note_promisc(sock, &step.bytes);
            let allowed: Vec<bool> = self
                .socks
                .iter()
                .zip(before)
                .map(|(k, b)| k.promisc || b)
                .collect();
            self.drain(&step, stats, false, &allowed);
        }
    }

    /// A header-only X_PROMISC (satype 0 or 1) switches the sender.
    fn note_promisc(&mut self, sock: usize, b: &[u8]) {
        if let Some(h) = Hdr::read(b) {
            if b.len() == 16
                && h.version == 2
                && h.msg_type == 11
                && h.len == 2
                && h.reserved == 0
                && h.satype <= 1
            {
                self.socks[sock].promisc = h.satype == 1;
            }
        }
    }

    /// Sends one message of the sequence and checks everything it caused.
    pub fn step(&mut self, s: &Step, stats: &mut Stats) {
        self.log_line(&format!("{} {} {}\n", s.index, s.sock, hex_rle(&s.bytes)));
        stats.count_step(s);
        let t0 = std::time::Instant::now();
        // A socket sends again only once what it had queued is read: its
        // answers then follow its requests one to one.
        if self.lazy[s.sock].is_some() {
            self.finish_lazy(s.index, stats, Some(s.sock));
        }
        let before: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
        let sent = match self.send(s.sock, &s.bytes) {
            Err(e) => {
                *stats.send_errno.entry(e).or_default() += 1;
                false
            }
            Ok(()) => {
                self.note_promisc(s.sock, &s.bytes);
                true
            }
        };
        // A socket switched on or off by this very request may or may not
        // see its copy: either is right.
        let allowed: Vec<bool> = self
            .socks
            .iter()
            .zip(before)
            .map(|(k, b)| k.promisc || b)
            .collect();
        for l in self.lazy.iter_mut().flatten() {
            l.history.push(s.bytes.clone());
            l.steps += 1;
            if !l.track.done {
                l.budget = 1 + (s.index % 4) as usize;
            }
        }
        // Every other accepted DUMP/X_SPDDUMP is read a few messages per
        // step, once it answers, while the other sockets go on changing
        // the tables.
        let is_dump = Hdr::read(&s.bytes).is_some_and(|h| matches!(h.msg_type, 10 | 18));
        self.want_lazy =
            sent && is_dump && self.lazy[s.sock].is_none() && s.index.is_multiple_of(2);
        let errors = self.drain(s, stats, true, &allowed);
        self.want_lazy = false;
        if sent && errors == 0 {
            stats.accepted += 1;
        }
        if self
            .lazy
            .iter()
            .flatten()
            .any(|l| l.steps >= 24 && !l.track.done)
        {
            self.finish_lazy(s.index, stats, None);
        }
        *stats.per_type_time.entry(s.kind).or_default() += t0.elapsed();
    }

    /// Reads every socket until all are empty, checking each message —
    /// except a socket with a dump left running (`Lazy`), of which only a
    /// few messages are read per step. Returns how many error replies the
    /// sender got (its promiscuous copy not counted).
    fn drain(&mut self, s: &Step, stats: &mut Stats, count: bool, promisc: &[bool]) -> usize {
        let req = &s.bytes;
        let mut errors_to_sender = 0;
        let mut track = DumpTrack::default();
        let mut last_dump: Option<Vec<u8>> = None;
        let mut read = vec![0usize; self.socks.len()];
        loop {
            let mut any = false;
            for (i, &promisc) in promisc.iter().enumerate().take(self.socks.len()) {
                loop {
                    if let Some(l) = &self.lazy[i] {
                        if read[i] >= l.budget {
                            break;
                        }
                    }
                    let Some(m) = self.recv(i, false) else {
                        if self.lazy[i].as_ref().is_some_and(|l| l.track.done) {
                            self.lazy[i] = None;
                        }
                        break;
                    };
                    read[i] += 1;
                    any = true;
                    let is_err = m.get(2).is_some_and(|&e| e != 0);
                    if self.lazy_dump_message(i, &m, s.index, stats) {
                        // ENOENT: the dump this very request asked for
                        // found nothing.
                        if is_err && i == s.sock {
                            errors_to_sender += 1;
                            if count {
                                *stats.reply_errno.entry(m[2]).or_default() += 1;
                            }
                        }
                        continue;
                    }
                    let classify = if self.strict_promisc {
                        validate::classify_strict
                    } else {
                        validate::classify
                    };
                    let mut r = classify(req, &m, promisc);
                    let mut current = true;
                    if r.is_err() {
                        // Left in the queue of a socket being read slowly:
                        // an answer to an earlier request.
                        if let Some(l) = &self.lazy[i] {
                            if let Some(c) = l
                                .history
                                .iter()
                                .rev()
                                .find_map(|old| classify(old, &m, promisc).ok())
                            {
                                r = Ok(c);
                                current = false;
                            }
                        }
                    }
                    if r.is_err() && promisc && validate::is_dump_message(&m) {
                        // A promiscuous socket's copy of another socket's
                        // dump (af_key copies them; its reader checks it).
                        r = Ok(Class::Dump { seq: 0 });
                        current = false;
                    }
                    let c = match r {
                        Ok(c) => c,
                        Err(v) => {
                            stats.fail(Failure {
                                kind: "malformed",
                                index: s.index,
                                what: format!("on socket {i}: {v}"),
                                request: req.clone(),
                                reply: Some(m),
                            });
                            continue;
                        }
                    };
                    stats.count_class(c);
                    if !current {
                        continue;
                    }
                    let problem = match c {
                        // A promiscuous sender gets its own error reply
                        // twice (af_key: "you receive it twice").
                        Class::ErrorReply(_) if i == s.sock && promisc && errors_to_sender == 1 => {
                            errors_to_sender += 1;
                            None
                        }
                        Class::ErrorReply(n) if i == s.sock => {
                            errors_to_sender += 1;
                            if count {
                                *stats.reply_errno.entry(n).or_default() += 1;
                            }
                            // (Behind a slow dump, an identical earlier
                            // request's answer may still be queued.)
                            (errors_to_sender > 1 && self.lazy[i].is_none())
                                .then(|| "two error replies to one request".to_string())
                        }
                        // af_key's pfkey_broadcast copies everything, even
                        // what is meant for one socket, to the promiscuous.
                        Class::ErrorReply(_) | Class::Dump { .. } if i != s.sock && promisc => None,
                        Class::ErrorReply(n) => Some(format!(
                            "error reply ({n}) delivered to socket {i}, not the sender"
                        )),
                        // Likewise a promiscuous reader may get each dump
                        // message twice in a row.
                        Class::Dump { .. }
                            if i == s.sock && promisc && last_dump.as_ref() == Some(&m) =>
                        {
                            None
                        }
                        Class::Dump { seq }
                            if i == s.sock && self.want_lazy && self.lazy[i].is_none() =>
                        {
                            // The dump runs: from now on it is read slowly.
                            let mut l = Lazy {
                                req: req.clone(),
                                track: DumpTrack::default(),
                                seen: BTreeSet::new(),
                                history: vec![req.clone()],
                                steps: 0,
                                budget: 1 + (s.index % 4) as usize,
                                last: Some(m.clone()),
                                promisc_seen: promisc,
                            };
                            let r = l.track.push(seq).err().map(|v| v.0);
                            if let Some(e) = validate::entry_of(&m) {
                                l.seen.insert(e);
                            }
                            if l.track.done {
                                l.budget = usize::MAX;
                            }
                            read[i] = 1;
                            last_dump = Some(m.clone());
                            self.lazy[i] = Some(l);
                            *stats.received.entry("slow-dumps").or_default() += 1;
                            r
                        }
                        Class::Dump { seq } if i == s.sock => {
                            last_dump = Some(m.clone());
                            track.push(seq).err().map(|v| v.0)
                        }
                        Class::Dump { .. } => {
                            Some(format!("dump message on socket {i}, not the sender"))
                        }
                        _ => None,
                    };
                    if let Some(what) = problem {
                        stats.fail(Failure {
                            kind: "malformed",
                            index: s.index,
                            what,
                            request: req.clone(),
                            reply: Some(m),
                        });
                    }
                }
            }
            if !any {
                break;
            }
        }
        if track.msgs > 0 && !track.done && self.lazy[s.sock].is_none() {
            stats.fail(Failure {
                kind: "dump",
                index: s.index,
                what: format!(
                    "DUMP stopped after {} messages without its seq-0 message",
                    track.msgs
                ),
                request: req.clone(),
                reply: None,
            });
        }
        errors_to_sender.min(1)
    }

    /// A message of the dump left running on socket `i`, if it is one:
    /// checked against that dump's request and sequence.
    fn lazy_dump_message(&mut self, i: usize, m: &[u8], index: u64, stats: &mut Stats) -> bool {
        let Some(l) = &mut self.lazy[i] else {
            return false;
        };
        let Some(h) = Hdr::read(m) else { return false };
        // A promiscuous reader gets each message twice in a row (af_key).
        l.promisc_seen |= self.socks[i].promisc;
        if l.promisc_seen && l.last.as_deref() == Some(m) {
            l.last = None;
            stats.count_class(Class::PromiscCopy);
            return true;
        }
        l.last = None;
        let want_pid = Hdr::read(&l.req).map_or(0, |r| r.pid);
        if l.track.done
            || h.msg_type != l.req[1]
            || (h.errno != 0 && h.errno != 2)
            || h.pid != want_pid
        {
            return false;
        }
        let fail = |stats: &mut Stats, what: String| {
            stats.fail(Failure {
                kind: "dump",
                index,
                what: format!("dump left running on socket {i}: {what}"),
                request: l.req.clone(),
                reply: Some(m.to_vec()),
            })
        };
        match validate::classify(&l.req, m, false) {
            Ok(Class::Dump { seq }) => {
                l.last = Some(m.to_vec());
                stats.count_class(Class::Dump { seq });
                if let Err(v) = l.track.push(seq) {
                    fail(stats, v.0);
                }
                if let Some(e) = validate::entry_of(m) {
                    if !matches!(e, Entry::Sa(_, _, 0)) && !l.seen.insert(e.clone()) {
                        fail(stats, format!("{e:?} dumped twice"));
                    }
                }
            }
            // The SAD/SPD went empty before the dump's first message.
            Ok(Class::ErrorReply(2)) if l.track.msgs == 0 => l.track.done = true,
            // Not one of the dump's (a promiscuous copy, say): checked as
            // any other message.
            _ => return false,
        }
        if l.track.done {
            // What is still queued behind it is read now, matched to the
            // requests it answers; the record goes once the queue is empty.
            l.budget = usize::MAX;
        }
        true
    }

    /// Reads every dump left running to its end (before a full dump, and
    /// when one has run for long).
    fn finish_lazy(&mut self, index: u64, stats: &mut Stats, only: Option<usize>) {
        for i in 0..self.socks.len() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let Some(l) = &mut self.lazy[i] else { continue };
            l.budget = usize::MAX;
            let req = l.req.clone();
            let step = Step {
                index,
                sock: i,
                bytes: req,
                kind: 0,
                mutations: Vec::new(),
            };
            let allowed: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
            self.drain(&step, stats, false, &allowed);
            if let Some(l) = self.lazy[i].take().filter(|l| !l.track.done) {
                stats.fail(Failure {
                    kind: "dump",
                    index,
                    what: format!(
                        "dump left running on socket {i} ended after {} messages without seq 0",
                        l.track.msgs
                    ),
                    request: l.req,
                    reply: None,
                });
            }
        }
    }

    /// One full DUMP or X_SPDDUMP on the dumper socket: every message must
    /// parse, none repeat, seq count down, the last be seq 0. Returns the
    /// number of entries.
    fn full_dump(&mut self, t: u8, index: u64, stats: &mut Stats) -> Option<usize> {
        let req = header(DUMPER, t, 0, 0);
        let step = Step {
            index,
            sock: DUMPER,
            bytes: req.clone(),
            kind: t,
            mutations: Vec::new(),
        };
        let fail = |stats: &mut Stats, kind, what: String, reply: Option<Vec<u8>>| {
            stats.fail(Failure {
                kind,
                index,
                what,
                request: req.clone(),
                reply,
            })
        };
        if let Err(e) = self.send(DUMPER, &req) {
            fail(stats, "dump", format!("full dump: send() errno {e}"), None);
            return None;
        }
        let mut track = DumpTrack::default();
        let mut seen = BTreeSet::new();
        while !track.done {
            let Some(m) = self.recv(DUMPER, true) else {
                fail(
                    stats,
                    "dump",
                    format!(
                        "full dump of type {t} stalled after {} messages ({:?} without one)",
                        track.msgs, self.dump_timeout
                    ),
                    None,
                );
                return None;
            };
            match validate::classify(&req, &m, false) {
                Ok(Class::Dump { seq }) => {
                    stats.count_class(Class::Dump { seq });
                    if let Err(v) = track.push(seq) {
                        fail(stats, "dump", v.0, Some(m));
                        return None;
                    }
                    if let Some(e) = validate::entry_of(&m) {
                        let dup = match &e {
                            Entry::Sa(_, _, 0) => false,
                            _ => !seen.insert(e.clone()),
                        };
                        if dup {
                            fail(stats, "dump", format!("{e:?} dumped twice"), Some(m));
                        }
                    }
                }
                Ok(Class::ErrorReply(2)) if track.msgs == 0 => break,
                Ok(Class::ErrorReply(n)) => {
                    fail(
                        stats,
                        "dump",
                        format!("full dump answered with errno {n}"),
                        Some(m),
                    );
                    return None;
                }
                // Broadcasts (an expiring policy, say) may come in between.
                Ok(c) => stats.count_class(c),
                Err(v) => fail(stats, "malformed", format!("on the dumper: {v}"), Some(m)),
            }
        }
        // The promiscuous socket's copy of the request, and whatever else.
        let allowed: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
        self.drain(&step, stats, false, &allowed);
        Some(track.msgs)
    }

    /// The periodic check: a full DUMP and X_SPDDUMP that must parse and
    /// end.
    pub fn check_tables(&mut self, index: u64, stats: &mut Stats) {
        self.log_line(&format!("{index} dump\n"));
        self.finish_lazy(index, stats, None);
        if let Some(n) = self.full_dump(10, index, stats) {
            stats.dumps += 1;
            stats.dumped_sas += n as u64;
            stats.last_sas = n as u64;
        }
        if let Some(n) = self.full_dump(18, index, stats) {
            stats.spddumps += 1;
            stats.dumped_policies += n as u64;
            stats.last_policies = n as u64;
        }
    }

    /// Sends a UDP datagram to each loopback address (through the SPD and
    /// whatever SAs the run keyed), then checks what the sockets got.
    pub fn poke(&mut self, index: u64, stats: &mut Stats) {
        if let Some((a, b)) = &self.poke {
            let _ = a.send_to(b"pfkey-fuzz", "127.0.0.1:9");
            let _ = b.send_to(b"pfkey-fuzz", "[::1]:9");
        }
        let step = Step {
            index,
            sock: PLAIN,
            bytes: Vec::new(),
            kind: 0,
            mutations: Vec::new(),
        };
        let allowed: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
        self.drain(&step, stats, false, &allowed);
    }

    /// Empties both tables (end of a run outside a private namespace).
    pub fn flush(&mut self, stats: &mut Stats) {
        for t in [9u8, 19] {
            let step = Step {
                index: u64::MAX,
                sock: PLAIN,
                bytes: header(PLAIN, t, 0, 7),
                kind: t,
                mutations: Vec::new(),
            };
            let _ = self.send(PLAIN, &step.bytes);
            let allowed: Vec<bool> = self.socks.iter().map(|k| k.promisc).collect();
            self.drain(&step, stats, false, &allowed);
        }
    }
}
