//! The `-P` policy text (ipsec_set_policy(3) grammar of libipsec's
//! policy_parse.y), parsed with the lexer in policy mode.

use crate::ast::{prio, Endpoint, Policy, Request};
use crate::lexer::{Mode, ParseError, Pos, Tok};
use crate::parser::{PResult, Parser};
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::types::{Action, Dir, IpsecProto, Level, Mode as IpsecMode};

/// IPSEC_MANUAL_REQID_MAX: reqids above it are the kernel's own. `unique:N`
/// takes any 32-bit N, as libipsec's `atol()` does (setkey(8) documents
/// 1..32767); Linux's af_key replaces one above this by a reqid of its own
/// choosing (`gen_reqid`), and `-DP` then shows it as `unique#N`.
pub const MANUAL_REQID_MAX: u32 = 0x3fff;

const P: Mode = Mode::Policy;

fn action(w: &str) -> Option<Action> {
    Some(match w {
        "discard" => Action::Discard,
        "none" => Action::None,
        "ipsec" => Action::Ipsec,
        "entrust" => Action::Entrust,
        "bypass" => Action::Bypass,
        _ => return None,
    })
}

impl Parser<'_> {
    /// Everything after `-P` up to (not including) the `;`.
    pub(crate) fn policy(&mut self) -> PResult<Policy> {
        let (d, dpos) = self.word(P, "a direction (in, out, fwd)")?;
        let dir = match d.as_str() {
            "in" => Dir::Inbound,
            "out" => Dir::Outbound,
            "fwd" => Dir::Forward,
            _ => return Err(ParseError::new(dpos, format!("invalid direction \"{d}\""))),
        };
        if self.peek(P)?.tok == Tok::Semi {
            // `-P out;`: bare direction, no action, no priority (policy_parse.y).
            return Ok(Policy {
                dir,
                priority: 0,
                action: Action::Discard,
                requests: vec![],
            });
        }
        let mut priority = prio::DEFAULT;
        let (mut w, mut wpos) =
            self.word(P, "an action (discard, none, ipsec, entrust, bypass)")?;
        if w == "prio" || w == "priority" {
            priority = self.priority()?;
            (w, wpos) = self.word(P, "an action (discard, none, ipsec, entrust, bypass)")?;
        }
        let action =
            action(&w).ok_or_else(|| ParseError::new(wpos, format!("invalid action \"{w}\"")))?;
        let mut requests = vec![];
        while self.peek(P)?.tok != Tok::Semi {
            let t = self.peek(P)?.clone();
            if t.tok == Tok::Eof {
                return Err(Self::unexpected(&t, "\";\""));
            }
            if action != Action::Ipsec {
                return Err(ParseError::new(
                    t.pos,
                    format!("requests given for a non-ipsec policy at {}", t.tok),
                ));
            }
            requests.push(self.request(dir)?);
        }
        Ok(Policy {
            dir,
            priority,
            action,
            requests,
        })
    }

    /// `N`, `-N`, `low|def|high [(+|-) N]` → absolute priority.
    fn priority(&mut self) -> PResult<u32> {
        let t = self.next(P)?;
        let offset = |p: &mut Self| -> PResult<(u32, Pos)> {
            let (n, pos) = p.word(P, "a priority offset")?;
            n.parse::<u32>()
                .map(|v| (v, pos))
                .map_err(|_| ParseError::new(pos, format!("invalid priority offset \"{n}\"")))
        };
        let bad = |pos| ParseError::new(pos, "priority offset out of range");
        match &t.tok {
            Tok::Hyphen => {
                let (n, pos) = offset(self)?;
                if n > i32::MAX as u32 {
                    return Err(bad(pos));
                }
                Ok(prio::DEFAULT.wrapping_add(n))
            }
            Tok::Word(w) if w.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u32 = w.parse().map_err(|_| bad(t.pos))?;
                if n > i32::MAX as u32 + 1 {
                    return Err(bad(t.pos));
                }
                Ok(prio::DEFAULT.wrapping_sub(n))
            }
            Tok::Word(w) => {
                let base = match w.as_str() {
                    "low" => prio::LOW,
                    "def" | "default" => prio::DEFAULT,
                    "high" => prio::HIGH,
                    _ => return Err(Self::unexpected(&t, "a priority (N, -N, low, def, high)")),
                };
                match self.peek(P)?.tok {
                    Tok::Plus => {
                        self.next(P)?;
                        let (n, pos) = offset(self)?;
                        if n > 0x4000_0000 {
                            return Err(bad(pos));
                        }
                        Ok(base.wrapping_sub(n))
                    }
                    Tok::Hyphen => {
                        self.next(P)?;
                        let (n, pos) = offset(self)?;
                        if n > 0x3fff_ffff {
                            return Err(bad(pos));
                        }
                        Ok(base.wrapping_add(n))
                    }
                    _ => Ok(base),
                }
            }
            _ => Err(Self::unexpected(&t, "a priority (N, -N, low, def, high)")),
        }
    }

    /// `proto/mode[/[src-dst][/[level]]]`.
    fn request(&mut self, dir: Dir) -> PResult<Request> {
        let (p, ppos) = self.word(P, "a protocol (esp, ah, ipcomp)")?;
        let proto = match p.as_str() {
            "esp" => IpsecProto::Esp,
            "ah" => IpsecProto::Ah,
            "ipcomp" => IpsecProto::IpComp,
            _ => return Err(ParseError::new(ppos, format!("invalid protocol \"{p}\""))),
        };
        let few = |pos| ParseError::new(pos, "too few arguments in request (need proto/mode)");
        if self.peek(P)?.tok != Tok::Slash {
            return Err(few(ppos));
        }
        self.next(P)?;
        let t = self.next(P)?;
        let mode = match &t.tok {
            Tok::Word(m) if m == "transport" => IpsecMode::Transport,
            Tok::Word(m) if m == "tunnel" => IpsecMode::Tunnel,
            Tok::Word(m) => return Err(ParseError::new(t.pos, format!("invalid mode \"{m}\""))),
            _ => return Err(few(t.pos)),
        };
        let mut req = Request {
            proto,
            mode,
            endpoints: None,
            level: Level::Default,
            reqid: 0,
        };
        if self.peek(P)?.tok == Tok::Slash {
            self.next(P)?;
            // A protocol word starts the next request (`esp/transport/ ah/…`);
            // policy_token.l makes that distinction in the lexer.
            if matches!(&self.peek(P)?.tok, Tok::Word(w) if !is_proto(w)) {
                req.endpoints = self.endpoints(dir)?;
            }
            if self.peek(P)?.tok == Tok::Slash {
                self.next(P)?;
                if let Tok::Word(l) = &self.peek(P)?.tok {
                    if is_proto(l) {
                        return Err(ParseError::new(
                            self.peek(P)?.pos,
                            "expected a level, got a protocol",
                        ));
                    }
                    let l = l.clone();
                    let lpos = self.next(P)?.pos;
                    (req.level, req.reqid) = parse_level(&l, lpos)?;
                }
            }
        }
        if mode == IpsecMode::Tunnel && req.endpoints.is_none() {
            return Err(ParseError::new(ppos, "tunnel mode needs src-dst addresses"));
        }
        Ok(req)
    }

    /// `addr[port]-addr[port]`, `me-any`, `any-me`.
    fn endpoints(&mut self, dir: Dir) -> PResult<Option<(Endpoint, Endpoint)>> {
        let (a, apos) = self.word(P, "an address")?;
        if a == "me" || a == "any" {
            self.expect(P, Tok::Hyphen, "\"-\"")?;
            let (b, bpos) = self.word(P, "\"any\" or \"me\"")?;
            let ok = match (a.as_str(), b.as_str()) {
                ("me", "any") => dir == Dir::Outbound,
                ("any", "me") => dir == Dir::Inbound,
                _ => {
                    return Err(ParseError::new(
                        bpos,
                        format!("invalid address pair \"{a}-{b}\""),
                    ))
                }
            };
            if !ok {
                return Err(ParseError::new(
                    apos,
                    format!("\"{a}-{b}\" does not fit the policy direction"),
                ));
            }
            return Ok(None);
        }
        let src = (parse_ip(&a, apos)?, self.opt_port()?);
        self.expect(P, Tok::Hyphen, "\"-\" between tunnel addresses")?;
        let (b, bpos) = self.word(P, "an address")?;
        let dst = (parse_ip(&b, bpos)?, self.opt_port()?);
        if src.0.family() != dst.0.family() {
            return Err(ParseError::new(
                bpos,
                "address family mismatch in tunnel end points",
            ));
        }
        Ok(Some((src, dst)))
    }

    fn opt_port(&mut self) -> PResult<u16> {
        if self.peek(P)?.tok != Tok::LBracket {
            return Ok(0);
        }
        self.next(P)?;
        let (n, pos) = self.word(P, "a port number")?;
        let port = n
            .parse()
            .map_err(|_| ParseError::new(pos, format!("invalid port \"{n}\"")))?;
        self.expect(P, Tok::RBracket, "\"]\"")?;
        Ok(port)
    }
}

fn is_proto(w: &str) -> bool {
    matches!(w, "esp" | "ah" | "ipcomp")
}

/// Tunnel end points must be numeric (libipsec uses AI_NUMERICHOST).
fn parse_ip(w: &str, pos: Pos) -> PResult<IpAddr> {
    if let Ok(a) = w.parse::<std::net::Ipv4Addr>() {
        return Ok(IpAddr::V4(a.octets()));
    }
    if let Ok(a) = w.parse::<std::net::Ipv6Addr>() {
        return Ok(IpAddr::V6(a.octets()));
    }
    Err(ParseError::new(pos, format!("invalid IP address \"{w}\"")))
}

fn parse_level(l: &str, pos: Pos) -> PResult<(Level, u32)> {
    Ok(match l {
        "default" => (Level::Default, 0),
        "use" => (Level::Use, 0),
        "require" => (Level::Require, 0),
        "unique" => (Level::Unique, 0),
        _ => match l.strip_prefix("unique:").map(str::parse::<u32>) {
            Some(Ok(id)) => (Level::Unique, id),
            Some(_) => {
                return Err(ParseError::new(
                    pos,
                    format!("invalid reqid in \"{l}\" (0..{})", u32::MAX),
                ))
            }
            None => return Err(ParseError::new(pos, format!("invalid level \"{l}\""))),
        },
    })
}
