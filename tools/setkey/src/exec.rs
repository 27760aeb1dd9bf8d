//! Runs statements: builds their messages, talks to the kernel, prints
//! replies and errors the way ipsec-tools' sendkeymsg()/postproc() do.

use crate::ast::{Command, Statement};
use crate::dump::{sadump, spdump, DumpCtx};
use crate::kdebug::{hexlines, kdebug};
use crate::lexer::ParseError;
use crate::msg::{self, MsgCtx, Resolver};
use crate::socket::Transport;
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::ext::SadbMsg;
use rxfrm_logic::pfkey::parse_reply;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `-v`: kdebug every message sent and received.
    pub verbose: bool,
    /// `-H`: hex dump of every message sent.
    pub hexdump: bool,
    /// `-a`: also show dead SAs.
    pub all: bool,
    /// `-p`: ports in SA dumps.
    pub withports: bool,
    /// `-r`: fwd twins of inbound policies.
    pub rfc: bool,
}

/// Whether to go on after a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Exit,
}

/// Where a message came from, for error reports.
struct Label {
    /// `file:line: statement` or empty for command-line modes.
    prefix: String,
}

pub struct Exec<'a> {
    pub opts: Options,
    /// None with `-n`: messages are built (and shown with -v) but not sent.
    pub tx: Option<&'a mut dyn Transport>,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub pid: u32,
    pub resolve: Resolver<'a>,
    /// (now, local UTC offset), for dumps.
    pub clock: &'a dyn Fn() -> (u64, i64),
    /// Set on any failure; the exit status.
    pub failed: bool,
    /// Replies are collected, not printed (deleteall's dump).
    silent: bool,
}

/// `strerror()` text without std's " (os error N)".
pub fn strerror(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl<'a> Exec<'a> {
    pub fn new(
        opts: Options,
        tx: Option<&'a mut dyn Transport>,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        resolve: Resolver<'a>,
        clock: &'a dyn Fn() -> (u64, i64),
    ) -> Self {
        Exec {
            opts,
            tx,
            out,
            err,
            pid: std::process::id(),
            resolve,
            clock,
            failed: false,
            silent: false,
        }
    }

    fn fail(&mut self, text: &str) {
        self.failed = true;
        let _ = writeln!(self.err, "{text}");
    }

    pub fn parse_error(&mut self, name: &str, e: &ParseError) {
        self.fail(&format!("{name}:{e}"));
    }

    /// One parsed statement from `name` (a file name or `(stdin)`).
    pub fn statement(&mut self, name: &str, st: &Statement) -> Flow {
        let label = Label {
            prefix: format!("{name}:{}: {}: ", st.pos.line, st.cmd),
        };
        match &st.cmd {
            Command::Exit => return Flow::Exit,
            Command::DeleteAll {
                src, dst, proto, ..
            } => {
                self.deleteall(&label, src, dst, proto.map(|p| p.satype()), name);
                return Flow::Continue;
            }
            _ => {}
        }
        let ctx = MsgCtx {
            pid: self.pid,
            rfc: self.opts.rfc,
            resolve: self.resolve,
        };
        match msg::build(&st.cmd, &ctx) {
            Err(e) => match e.pos {
                Some(_) => self.fail(&format!("{name}:{e}")),
                None => self.fail(&format!("{}{}", label.prefix, e.msg)),
            },
            Ok(msgs) => {
                for m in msgs {
                    if self.exchange(m, &label, false).is_err() {
                        break;
                    }
                }
            }
        }
        Flow::Continue
    }

    /// `-D`/`-F` style header-only request from the command line.
    pub fn short(&mut self, msg_type: u8) {
        let m = if msg_type == SADB_DUMP {
            msg::dump_with_stats(SADB_SATYPE_UNSPEC, self.pid)
        } else {
            msg::short(msg_type, SADB_SATYPE_UNSPEC, self.pid)
        };
        let _ = self.exchange(
            m,
            &Label {
                prefix: String::new(),
            },
            false,
        );
    }

    /// Sends `m` and handles its replies; returns the successful replies.
    /// `quiet_empty` suppresses "No SAD entries." (deleteall's own dump).
    ///
    /// Every message goes with `sadb_msg_seq` 0, as ipsec-tools'
    /// setkeymsg0() sends them: for GETSPI and ADD the kernel matches a
    /// non-zero seq against its ACQUIREs' larval SAs (af_key's
    /// `xfrm_find_acq_byseq`), which a hand-keyed SA must not take over.
    /// Replies are told apart by pid and type; setkey waits for each.
    fn exchange(
        &mut self,
        m: Vec<u8>,
        label: &Label,
        quiet_empty: bool,
    ) -> Result<Vec<Vec<u8>>, ()> {
        let msg_type = SadbMsg::new_unchecked(&m[..]).msg_type();
        if self.opts.verbose {
            let _ = writeln!(self.out, "{}", kdebug(&m));
        }
        if self.opts.hexdump {
            let _ = write!(self.out, "{}", hexlines(&m));
        }
        let Some(tx) = self.tx.as_deref_mut() else {
            return Ok(vec![]);
        };
        if let Err(e) = tx.send(&m) {
            self.fail(&format!("{}send: {e}", label.prefix));
            return Err(());
        }
        self.replies(msg_type, label, quiet_empty)
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        match self.tx.as_deref_mut() {
            Some(tx) => tx.recv(),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Reads until the answer to `msg_type` is complete.
    fn replies(
        &mut self,
        msg_type: u8,
        label: &Label,
        quiet_empty: bool,
    ) -> Result<Vec<Vec<u8>>, ()> {
        let dump = matches!(msg_type, SADB_DUMP | SADB_X_SPDDUMP);
        let mut replies = vec![];
        loop {
            let buf = match self.recv() {
                Ok(b) => b,
                Err(e) => {
                    self.fail(&format!("{}recv: {e}", label.prefix));
                    return Err(());
                }
            };
            let Ok(p) = parse_reply(&buf) else {
                // Not a message we can read; another listener's business.
                continue;
            };
            // PF_KEY broadcasts: skip traffic that is not the answer to us.
            if p.pid() != self.pid || p.msg_type() != msg_type {
                continue;
            }
            if self.opts.verbose {
                let _ = writeln!(self.out, "{}", kdebug(&buf));
            }
            let errno = p.errno();
            if errno != 0 {
                let text = match (i32::from(errno), msg_type) {
                    (libc::ENOENT, SADB_DELETE | SADB_GET | SADB_X_SPDDELETE) => {
                        "No entry".to_string()
                    }
                    (libc::ENOENT, SADB_DUMP) => "No SAD entries".to_string(),
                    (libc::ENOENT, SADB_X_SPDDUMP) => "No SPD entries".to_string(),
                    (e, _) => strerror(e),
                };
                if dump && i32::from(errno) == libc::ENOENT {
                    // An empty database is not a failure.
                    if !quiet_empty {
                        let _ = writeln!(self.out, "{text}.");
                    }
                    return Ok(replies);
                }
                self.fail(&format!("{}{text}.", label.prefix));
                return Err(());
            }
            self.print_reply(&buf);
            let last = !dump || p.seq() == 0;
            replies.push(buf);
            if last {
                return Ok(replies);
            }
        }
    }

    /// postproc(): what a successful reply prints.
    fn print_reply(&mut self, buf: &[u8]) {
        let Ok(p) = parse_reply(buf) else { return };
        if self.silent {
            return;
        }
        let (now, tz_offset) = (self.clock)();
        let ctx = DumpCtx {
            now,
            tz_offset,
            withports: self.opts.withports,
        };
        let text = match p.msg_type() {
            SADB_GET => sadump(&p, &ctx),
            SADB_DUMP if !self.opts.all && p.sa().is_some_and(|s| s.state == SADB_SASTATE_DEAD) => {
                return
            }
            SADB_DUMP => sadump(&p, &ctx),
            SADB_X_SPDGET | SADB_X_SPDDUMP => spdump(&p, &ctx),
            _ => return,
        };
        let _ = write!(self.out, "{text}");
    }

    /// Linux refuses DELETE without an SPI: dump, then delete each match
    /// (ipsec-tools' sendkeymsg_spigrep()).
    fn deleteall(
        &mut self,
        label: &Label,
        src: &crate::ast::Addr,
        dst: &crate::ast::Addr,
        satype: Option<u8>,
        name: &str,
    ) {
        let ctx = MsgCtx {
            pid: self.pid,
            rfc: false,
            resolve: self.resolve,
        };
        let (s, d) = match msg::deleteall_pair(src, dst, &ctx) {
            Ok(p) => p,
            Err(e) => return self.fail(&format!("{name}:{e}")),
        };
        let dump = msg::short(SADB_DUMP, satype.unwrap_or(SADB_SATYPE_UNSPEC), self.pid);
        // The dump's SAs are not printed: only the deletes matter here.
        self.silent = true;
        let replies = self.exchange(dump, label, true);
        self.silent = false;
        let Ok(replies) = replies else { return };
        for r in replies {
            let Ok(p) = parse_reply(&r) else { continue };
            let matches = p.address_src().is_some_and(|a| a.addr == s)
                && p.address_dst().is_some_and(|a| a.addr == d);
            if let (true, Some(sa)) = (matches, p.sa()) {
                let del = msg::delete_one(p.satype(), sa.spi, s, d, self.pid);
                if self.exchange(del, label, false).is_err() {
                    return;
                }
            }
        }
    }
}
