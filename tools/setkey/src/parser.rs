//! Recursive-descent parser for setkey(8) statements, following the grammar
//! of ipsec-tools' parse.y (a little more permissive about option order).

use crate::ast::*;
use crate::lexer::{Lexer, Mode, ParseError, Pos, Tok, Token};
use crate::names;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::algs::{self, AlgKind};
use rxfrm_logic::types::Mode as IpsecMode;

pub type PResult<T> = Result<T, ParseError>;

pub struct Parser<'a> {
    pub(crate) lex: Lexer<'a>,
    peeked: Option<(Token, Mode)>,
    /// Whether the last consumed token ended a statement (`;`/EOF), so
    /// error recovery must not skip the following statement.
    at_end: bool,
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, first_line: u32) -> Self {
        Parser {
            lex: Lexer::new(src, first_line),
            peeked: None,
            at_end: false,
        }
    }

    /// Byte offset just past everything consumed so far.
    pub fn offset(&self) -> usize {
        match &self.peeked {
            Some((t, _)) => t.pos.offset,
            None => self.lex.pos().offset,
        }
    }

    pub(crate) fn peek(&mut self, mode: Mode) -> PResult<&Token> {
        if self.peeked.is_none() {
            let t = self.lex.next_token(mode)?;
            self.peeked = Some((t, mode));
        }
        let (t, m) = self.peeked.as_ref().expect("just filled");
        // `;` and end of input read the same in both modes.
        debug_assert!(
            *m == mode || matches!(t.tok, Tok::Semi | Tok::Eof),
            "token peeked in another lexer mode"
        );
        Ok(t)
    }

    pub(crate) fn next(&mut self, mode: Mode) -> PResult<Token> {
        self.peek(mode)?;
        let t = self.peeked.take().expect("just peeked").0;
        self.at_end = matches!(t.tok, Tok::Semi | Tok::Eof);
        Ok(t)
    }

    /// An "expected X" error at `t`, flagged as end-of-input when it is.
    pub(crate) fn unexpected(t: &Token, what: &str) -> ParseError {
        ParseError {
            pos: t.pos,
            msg: format!("expected {what}, got {}", t.tok),
            eof: t.tok == Tok::Eof,
        }
    }

    pub(crate) fn word(&mut self, mode: Mode, what: &str) -> PResult<(String, Pos)> {
        let t = self.next(mode)?;
        match t.tok {
            Tok::Word(w) => Ok((w, t.pos)),
            _ => Err(Self::unexpected(&t, what)),
        }
    }

    pub(crate) fn expect(&mut self, mode: Mode, tok: Tok, what: &str) -> PResult<Pos> {
        let t = self.next(mode)?;
        if t.tok == tok {
            Ok(t.pos)
        } else {
            Err(Self::unexpected(&t, what))
        }
    }

    fn end(&mut self) -> PResult<()> {
        self.expect(Mode::Main, Tok::Semi, "\";\"").map(|_| ())
    }

    fn recover(&mut self) {
        match self.peeked.take() {
            Some((
                Token {
                    tok: Tok::Semi | Tok::Eof,
                    ..
                },
                _,
            )) => {}
            Some(_) => self.lex.recover(),
            None if self.at_end => {}
            None => self.lex.recover(),
        }
    }

    /// The next statement, `None` at end of input. After an error the rest
    /// of the bad statement (up to `;`) is skipped so parsing can go on.
    pub fn next_statement(&mut self) -> Option<PResult<Statement>> {
        match self.peek(Mode::Main) {
            Ok(Token { tok: Tok::Eof, .. }) => return None,
            Ok(_) => {}
            Err(e) => {
                self.recover();
                return Some(Err(e));
            }
        }
        self.at_end = false;
        let r = self.statement();
        if r.is_err() {
            self.recover();
        }
        Some(r)
    }

    fn statement(&mut self) -> PResult<Statement> {
        let (verb, pos) = self.word(Mode::Main, "a command")?;
        let cmd = match verb.as_str() {
            "add" => Command::Add(self.sa(true)?),
            "getspi" => Command::GetSpi(self.sa(false)?),
            "get" => Command::Get(self.sa(false)?),
            "delete" => Command::Delete(self.sa(false)?),
            "deleteall" => {
                let opts = self.addr_opts()?;
                let src = self.address(opts, false, true)?;
                let dst = self.address(opts, false, true)?;
                let proto = self.opt_proto()?;
                Command::DeleteAll {
                    opts,
                    src,
                    dst,
                    proto,
                }
            }
            "flush" => Command::Flush(self.opt_proto()?),
            "dump" => Command::Dump(self.opt_proto()?),
            "spdadd" => Command::SpdAdd(self.spd()?),
            "spdupdate" => Command::SpdUpdate(self.spd()?),
            "spddelete" => Command::SpdDelete(self.spd()?),
            "spdflush" => Command::SpdFlush,
            "spddump" => Command::SpdDump,
            "exit" | "quit" | "bye" => Command::Exit,
            _ => return Err(ParseError::new(pos, format!("unknown command \"{verb}\""))),
        };
        self.end()?;
        Ok(Statement { cmd, pos })
    }

    /// `-4`, `-6`, `-n` and combinations such as `-4n`.
    fn addr_opts(&mut self) -> PResult<AddrOpts> {
        let mut o = AddrOpts::default();
        while let Tok::Flag(f) = &self.peek(Mode::Main)?.tok {
            if !f[1..].chars().all(|c| matches!(c, '4' | '6' | 'n')) {
                break;
            }
            for c in f[1..].chars() {
                match c {
                    '4' => o.family = 4,
                    '6' => o.family = 6,
                    _ => o.numeric_only = true,
                }
            }
            self.next(Mode::Main)?;
        }
        Ok(o)
    }

    fn opt_proto(&mut self) -> PResult<Option<SaProto>> {
        let t = self.peek(Mode::Main)?.clone();
        match &t.tok {
            Tok::Word(w) => match SaProto::from_word(w) {
                Some(p) => {
                    self.next(Mode::Main)?;
                    Ok(Some(p))
                }
                None => Err(Self::unexpected(
                    &t,
                    "a protocol (esp, esp-old, ah, ah-old, ipcomp, tcp)",
                )),
            },
            _ => Ok(None),
        }
    }

    /// `host[/prefix][[port]]`; SA addresses take no prefix.
    fn address(&mut self, opts: AddrOpts, with_prefix: bool, with_port: bool) -> PResult<Addr> {
        let (w, pos) = self.word(Mode::Main, "an address")?;
        let host = parse_host(&w, pos, opts)?;
        let mut prefix = None;
        if with_prefix && self.peek(Mode::Main)?.tok == Tok::Slash {
            self.next(Mode::Main)?;
            let (n, npos) = self.word(Mode::Main, "a prefix length")?;
            let max = match &host {
                Host::Ip(a) => a.max_prefix(),
                Host::Name(_) => 128,
            };
            match n.parse::<u8>() {
                Ok(p) if p <= max => prefix = Some(p),
                _ => {
                    return Err(ParseError::new(
                        npos,
                        format!("invalid prefix length \"{n}\""),
                    ))
                }
            }
        }
        let mut port = None;
        if with_port && self.peek(Mode::Main)?.tok == Tok::LBracket {
            self.next(Mode::Main)?;
            let (p, ppos) = self.word(Mode::Main, "a port number or \"any\"")?;
            port = match p.as_str() {
                "any" => None,
                _ => match p.parse::<u16>() {
                    Ok(0) => None,
                    Ok(n) => Some(n),
                    Err(_) => return Err(ParseError::new(ppos, format!("invalid port \"{p}\""))),
                },
            };
            self.expect(Mode::Main, Tok::RBracket, "\"]\"")?;
        }
        Ok(Addr {
            host,
            prefix,
            port,
            pos,
        })
    }

    /// add / getspi / get / delete: `src dst proto spi options…`.
    fn sa(&mut self, is_add: bool) -> PResult<Sa> {
        let opts = self.addr_opts()?;
        let src = self.address(opts, false, true)?;
        let dst = self.address(opts, false, true)?;
        let t = self.peek(Mode::Main)?.clone();
        let proto = match &t.tok {
            Tok::Word(w) => SaProto::from_word(w),
            _ => None,
        }
        .ok_or_else(|| {
            Self::unexpected(&t, "a protocol (esp, esp-old, ah, ah-old, ipcomp, tcp)")
        })?;
        self.next(Mode::Main)?;
        let (spi_w, spi_pos) = self.word(Mode::Main, "an SPI")?;
        let spi = parse_spi(&spi_w, spi_pos)?;
        let mut sa = Sa {
            opts,
            src,
            dst,
            proto,
            spi,
            ext: SaExt::default(),
            algs: Algs::default(),
        };
        let mut last_alg_pos = spi_pos;
        while let Tok::Flag(f) = &self.peek(Mode::Main)?.tok {
            let flag = f.clone();
            let fpos = self.next(Mode::Main)?.pos;
            match flag.as_str() {
                "-E" | "-A" | "-C" | "-R" if !is_add => {
                    return Err(ParseError::new(
                        fpos,
                        format!("{flag} is only allowed with add"),
                    ));
                }
                "-E" | "-A" | "-C" | "-R" => {
                    self.alg_option(&flag, fpos, &mut sa)?;
                    last_alg_pos = fpos;
                }
                _ => self.ext_option(&flag, fpos, &mut sa)?,
            }
        }
        if is_add {
            check_algs(&sa, last_alg_pos)?;
        }
        Ok(sa)
    }

    fn number<T: std::str::FromStr>(&mut self, what: &str) -> PResult<T> {
        let (w, pos) = self.word(Mode::Main, what)?;
        w.parse()
            .map_err(|_| ParseError::new(pos, format!("invalid {what} \"{w}\"")))
    }

    fn ext_option(&mut self, flag: &str, fpos: Pos, sa: &mut Sa) -> PResult<()> {
        let e = &mut sa.ext;
        match flag {
            "-m" => {
                let (m, pos) = self.word(Mode::Main, "a mode (transport, tunnel, any)")?;
                e.mode = match m.as_str() {
                    "transport" => Some(IpsecMode::Transport),
                    "tunnel" => Some(IpsecMode::Tunnel),
                    "any" => None,
                    _ => return Err(ParseError::new(pos, format!("invalid mode \"{m}\""))),
                };
            }
            "-r" => {
                if sa.proto.is_old() {
                    return Err(ParseError::new(
                        fpos,
                        "replay prevention cannot be used with ah/esp-old",
                    ));
                }
                e.replay = self.number("replay window size")?;
            }
            "-u" => e.reqid = self.number("reqid")?,
            "-f" => {
                let (v, pos) = self.word(
                    Mode::Main,
                    "random-pad, seq-pad, zero-pad, nocyclic-seq or esn",
                )?;
                match v.as_str() {
                    "random-pad" => e.pad |= flags::PRAND,
                    "seq-pad" => e.pad |= flags::PSEQ,
                    "zero-pad" => e.pad |= flags::PZERO,
                    "nocyclic-seq" => e.nocyclic_seq = true,
                    "esn" => e.esn = true,
                    _ => return Err(ParseError::new(pos, format!("invalid -f option \"{v}\""))),
                }
            }
            "-lh" => e.lifetime_hard = self.number("lifetime")?,
            "-ls" => e.lifetime_soft = self.number("lifetime")?,
            "-bh" => e.lifebyte_hard = self.number("byte lifetime")?,
            "-bs" => e.lifebyte_soft = self.number("byte lifetime")?,
            _ => return Err(ParseError::new(fpos, format!("unknown option \"{flag}\""))),
        }
        Ok(())
    }

    fn alg_option(&mut self, flag: &str, fpos: Pos, sa: &mut Sa) -> PResult<()> {
        let dup = |what: &str| ParseError::new(fpos, format!("{what} given twice"));
        match flag {
            "-R" => {
                if sa.algs.comp.is_none() {
                    return Err(ParseError::new(fpos, "-R must follow -C"));
                }
                sa.algs.raw_cpi = true;
            }
            "-C" => {
                let (name, pos) = self.word(Mode::Main, "a compression algorithm")?;
                known_alg(AlgKind::Compress, &name, pos)?;
                if sa
                    .algs
                    .comp
                    .replace(AlgSpec {
                        name,
                        key: None,
                        pos,
                    })
                    .is_some()
                {
                    return Err(dup("-C"));
                }
            }
            "-E" => {
                let (mut name, pos) = self.word(Mode::Main, "an encryption algorithm")?;
                // ipsec-tools' des-deriv/des-32iv are des-cbc plus a flag
                // (parse.y); setkey(8)'s 3des-deriv is 3des-cbc plus one.
                match name.as_str() {
                    "des-deriv" | "3des-deriv" if sa.proto.is_old() => {
                        return Err(ParseError::new(pos, "algorithm mismatched"))
                    }
                    "des-32iv" if !sa.proto.is_old() => {
                        return Err(ParseError::new(pos, "algorithm mismatched"))
                    }
                    "des-deriv" | "3des-deriv" => sa.algs.extra_flags |= flags::DERIV,
                    "des-32iv" => sa.algs.extra_flags |= flags::IV4B,
                    _ => {}
                }
                let keyless = matches!(name.as_str(), "null" | "simple");
                match name.as_str() {
                    "des-deriv" | "des-32iv" => name = "des-cbc".into(),
                    "3des-deriv" => name = "3des-cbc".into(),
                    "simple" => name = "null".into(),
                    _ => known_alg(AlgKind::Encrypt, &name, pos)?,
                }
                let key = if keyless { None } else { Some(self.key()?) };
                if sa.algs.enc.replace(AlgSpec { name, key, pos }).is_some() {
                    return Err(dup("-E"));
                }
            }
            _ => {
                let (name, pos) = self.word(Mode::Main, "an authentication algorithm")?;
                known_alg(AlgKind::Auth, &name, pos)?;
                let key = if name == "null" {
                    None
                } else {
                    Some(self.key()?)
                };
                if sa.algs.auth.replace(AlgSpec { name, key, pos }).is_some() {
                    return Err(dup("-A"));
                }
            }
        }
        Ok(())
    }

    /// `"text"` or `0xhex` (an odd digit count puts a lone nibble first).
    fn key(&mut self) -> PResult<Vec<u8>> {
        let t = self.next(Mode::Main)?;
        match &t.tok {
            Tok::Quoted(s) => Ok(s.as_bytes().to_vec()),
            Tok::Word(w) if w.starts_with("0x") || w.starts_with("0X") => parse_hex(&w[2..])
                .ok_or_else(|| ParseError::new(t.pos, format!("invalid hex key \"{w}\""))),
            _ => Err(Self::unexpected(&t, "a key (\"string\" or 0x hex)")),
        }
    }

    /// spdadd / spdupdate / spddelete.
    fn spd(&mut self) -> PResult<Spd> {
        let opts = self.addr_opts()?;
        let mut src = self.address(opts, true, true)?;
        let mut dst = self.address(opts, true, true)?;
        let (u, upos) = self.word(Mode::Main, "an upper-layer protocol")?;
        let upper = names::upper_proto(&u).ok_or_else(|| {
            ParseError::new(upos, format!("invalid upper layer protocol \"{u}\""))
        })?;
        let takes_misc = matches!(
            upper,
            names::IPPROTO_ICMP | names::IPPROTO_ICMPV6 | names::IPPROTO_MH | names::IPPROTO_GRE
        );
        if let (true, Tok::Word(misc)) = (takes_misc, &self.peek(Mode::Main)?.tok) {
            let misc = misc.clone();
            let mpos = self.next(Mode::Main)?.pos;
            let (sp, dp) = upper_misc(upper, &misc).ok_or_else(|| {
                ParseError::new(
                    mpos,
                    format!("invalid an upper layer protocol spec \"{misc}\""),
                )
            })?;
            src.port = (sp != 0).then_some(sp);
            dst.port = (dp != 0).then_some(dp);
        }
        let t = self.next(Mode::Main)?;
        if t.tok != Tok::Flag("-P".into()) {
            return Err(Self::unexpected(&t, "\"-P\""));
        }
        let policy = self.policy()?;
        Ok(Spd {
            opts,
            src,
            dst,
            upper,
            policy,
        })
    }
}

/// An algorithm name setkey knows: ipsec-tools' (token.l and pfkey_dump.c,
/// including those no Linux kernel implements, such as `keyed-md5`,
/// `rc5-cbc` or `tcp-md5`: those are sent and the kernel refuses them) and
/// the newer ones of rxfrm's table. Anything else is a syntax error here,
/// as it is in ipsec-tools' lexer.
fn known_alg(kind: AlgKind, name: &str, pos: Pos) -> PResult<()> {
    if algs::by_name(kind, name).is_some() {
        return Ok(());
    }
    let what = match kind {
        AlgKind::Auth => "authentication",
        AlgKind::Encrypt => "encryption",
        AlgKind::Compress => "compression",
    };
    Err(ParseError::new(
        pos,
        format!("unknown {what} algorithm \"{name}\""),
    ))
}

/// Semantic checks ipsec-tools leaves to the kernel, done early so the
/// user gets a position instead of "Invalid argument": a missing algorithm
/// is reported at the last algorithm option (or the SPI), one the protocol
/// cannot use at that algorithm's name (AH never encrypts, IPComp never
/// authenticates, only IPComp compresses).
fn check_algs(sa: &Sa, pos: Pos) -> PResult<()> {
    let a = &sa.algs;
    let err = |p: Pos, m: &str| Err(ParseError::new(p, m.to_string()));
    let at = |s: &Option<AlgSpec>| s.as_ref().map_or(pos, |s| s.pos);
    match sa.proto {
        SaProto::IpComp if a.enc.is_some() => err(at(&a.enc), "ipcomp takes only -C"),
        SaProto::IpComp if a.auth.is_some() => err(at(&a.auth), "ipcomp takes only -C"),
        SaProto::IpComp if a.comp.is_none() => err(pos, "ipcomp needs -C"),
        SaProto::Ah | SaProto::AhOld | SaProto::Tcp if a.enc.is_some() => {
            err(at(&a.enc), "only -A is allowed here")
        }
        SaProto::Ah | SaProto::AhOld | SaProto::Tcp if a.comp.is_some() => {
            err(at(&a.comp), "only -A is allowed here")
        }
        SaProto::Ah | SaProto::AhOld | SaProto::Tcp if a.auth.is_none() => {
            err(pos, "-A is required")
        }
        SaProto::Esp | SaProto::EspOld if a.comp.is_some() => {
            err(at(&a.comp), "-C is only allowed with ipcomp")
        }
        SaProto::Esp | SaProto::EspOld if a.enc.is_none() && a.auth.is_none() => {
            err(pos, "-E or -A is required")
        }
        _ => Ok(()),
    }
}

fn parse_host(w: &str, pos: Pos, opts: AddrOpts) -> PResult<Host> {
    if let Ok(a) = w.parse::<std::net::Ipv4Addr>() {
        if opts.family == 6 {
            return Err(ParseError::new(
                pos,
                format!("\"{w}\" is not an IPv6 address"),
            ));
        }
        return Ok(Host::Ip(IpAddr::V4(a.octets())));
    }
    if let Ok(a) = w.parse::<std::net::Ipv6Addr>() {
        if opts.family == 4 {
            return Err(ParseError::new(
                pos,
                format!("\"{w}\" is not an IPv4 address"),
            ));
        }
        return Ok(Host::Ip(IpAddr::V6(a.octets())));
    }
    if w.contains('%') {
        // TODO(codec): scoped IPv6 needs a scope id next to IpAddr.
        return Err(ParseError::new(
            pos,
            format!("scoped address \"{w}\" is not supported"),
        ));
    }
    let hostname = w.split('.').all(|l| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if opts.numeric_only || !hostname || w.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(ParseError::new(pos, format!("invalid address \"{w}\"")));
    }
    Ok(Host::Name(w.to_string()))
}

fn parse_spi(w: &str, pos: Pos) -> PResult<u32> {
    let v = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        w.parse::<u64>().ok()
    };
    match v {
        None => Err(ParseError::new(pos, format!("invalid SPI \"{w}\""))),
        Some(v) => {
            u32::try_from(v).map_err(|_| ParseError::new(pos, format!("SPI too big \"{w}\"")))
        }
    }
}

pub(crate) fn parse_hex(h: &str) -> Option<Vec<u8>> {
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digits: Vec<u8> = h
        .bytes()
        .map(|b| (b as char).to_digit(16).unwrap_or(0) as u8)
        .collect();
    let (head, rest) = digits.split_at(digits.len() % 2);
    let mut out: Vec<u8> = head.to_vec();
    out.extend(rest.chunks(2).map(|p| (p[0] << 4) | p[1]));
    Some(out)
}

/// ipsec-tools' fix_portstr(): ICMP type/code (and the MH type) ride in the
/// port fields, a GRE key is split across both.
fn upper_misc(upper: u8, misc: &str) -> Option<(u16, u16)> {
    match upper {
        names::IPPROTO_ICMP | names::IPPROTO_ICMPV6 | names::IPPROTO_MH => {
            let mut it = misc.splitn(2, ',');
            let t: u16 = it.next()?.parse().ok().filter(|&v| v <= 255)?;
            let c: u16 = match it.next() {
                Some(c) => c.parse().ok().filter(|&v| v <= 255)?,
                None => 0,
            };
            Some((t, c))
        }
        names::IPPROTO_GRE => {
            let parts: Vec<&str> = misc.split('.').collect();
            if parts.len() == 4 {
                let b: Vec<u16> = parts
                    .iter()
                    .map(|p| p.parse().ok().filter(|&v| v <= 255))
                    .collect::<Option<_>>()?;
                Some(((b[0] << 8) + b[1], (b[2] << 8) + b[3]))
            } else {
                let k: u32 = misc.parse().ok()?;
                Some(((k >> 16) as u16, k as u16))
            }
        }
        _ => None,
    }
}

/// Parses a whole source, collecting statements and errors in order.
pub fn parse_all(src: &str) -> Vec<PResult<Statement>> {
    let mut p = Parser::new(src, 1);
    std::iter::from_fn(|| p.next_statement()).collect()
}
