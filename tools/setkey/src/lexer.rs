//! Tokenizer for setkey(8) input.
//!
//! Like ipsec-tools' token.l the lexer is modal: after `-P` the parser asks
//! for policy tokens, whose word class excludes `-` so that
//! `esp/tunnel/10.0.0.1-10.0.0.2/require` splits at the hyphen, while in the
//! main mode `3des-cbc` and `esp-old` stay single words.

use std::fmt;

/// A position in the source: byte offset plus 1-based line and column
/// (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Keywords, numbers, addresses, algorithm names: `[A-Za-z0-9:_.][A-Za-z0-9:_.%,-]*`
    /// (policy mode: no `-`, `,`).
    Word(String),
    /// `"..."`, contents verbatim (no escapes, may span lines, as ipsec-tools).
    Quoted(String),
    /// `-E`, `-lh`, `-4n`, `-P` …
    Flag(String),
    Slash,
    LBracket,
    RBracket,
    Semi,
    /// Policy mode only.
    Hyphen,
    /// Policy mode only.
    Plus,
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) | Tok::Flag(w) => write!(f, "\"{w}\""),
            Tok::Quoted(_) => f.write_str("quoted string"),
            Tok::Slash => f.write_str("\"/\""),
            Tok::LBracket => f.write_str("\"[\""),
            Tok::RBracket => f.write_str("\"]\""),
            Tok::Semi => f.write_str("\";\""),
            Tok::Hyphen => f.write_str("\"-\""),
            Tok::Plus => f.write_str("\"+\""),
            Tok::Eof => f.write_str("end of input"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// A syntax error. `eof` marks errors caused by input ending mid-statement,
/// so the interactive `-c` reader knows to wait for more lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub pos: Pos,
    pub msg: String,
    pub eof: bool,
}

impl ParseError {
    pub fn new(pos: Pos, msg: impl Into<String>) -> Self {
        ParseError {
            pos,
            msg: msg.into(),
            eof: false,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.msg)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Main,
    Policy,
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: Pos,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '.'
}

fn is_word_char(c: char, mode: Mode) -> bool {
    match mode {
        Mode::Main => is_word_start(c) || matches!(c, '%' | ',' | '-'),
        Mode::Policy => is_word_start(c) || c == '%',
    }
}

impl<'a> Lexer<'a> {
    /// `first_line` lets the interactive reader lex a buffer that starts
    /// mid-file while still reporting file line numbers.
    pub fn new(src: &'a str, first_line: u32) -> Self {
        Lexer {
            src,
            pos: Pos {
                offset: 0,
                line: first_line,
                col: 1,
            },
        }
    }

    pub fn pos(&self) -> Pos {
        self.pos
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos.offset..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek_char() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while self.peek_char().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos.offset;
        while self.peek_char().is_some_and(&f) {
            self.bump();
        }
        &self.src[start..self.pos.offset]
    }

    /// Skips the rest of a bad statement: everything up to and including
    /// the next `;` (quoted strings and comments are honoured).
    pub fn recover(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek_char() {
                None => return,
                Some(';') => {
                    self.bump();
                    return;
                }
                Some('"') => {
                    self.bump();
                    while self.peek_char().is_some_and(|c| c != '"') {
                        self.bump();
                    }
                    self.bump();
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
    }

    pub fn next_token(&mut self, mode: Mode) -> Result<Token, ParseError> {
        self.skip_blanks();
        let pos = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token { tok: Tok::Eof, pos });
        };
        let tok = match c {
            ';' | '/' | '[' | ']' | '+' if !(c == '+' && mode == Mode::Main) => {
                self.bump();
                match c {
                    ';' => Tok::Semi,
                    '/' => Tok::Slash,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    _ => Tok::Plus,
                }
            }
            '"' => {
                self.bump();
                let body = self.take_while(|c| c != '"');
                if self.bump().is_none() {
                    return Err(ParseError {
                        pos,
                        msg: "unterminated quoted string".into(),
                        eof: true,
                    });
                }
                Tok::Quoted(body.to_string())
            }
            '-' if mode == Mode::Policy => {
                self.bump();
                Tok::Hyphen
            }
            '-' => {
                self.bump();
                let name = self.take_while(|c| c.is_ascii_alphanumeric());
                if name.is_empty() {
                    return Err(ParseError::new(pos, "syntax error at \"-\""));
                }
                Tok::Flag(format!("-{name}"))
            }
            c if is_word_start(c) => {
                Tok::Word(self.take_while(|c| is_word_char(c, mode)).to_string())
            }
            c => {
                return Err(ParseError::new(pos, format!("syntax error at \"{c}\"")));
            }
        };
        Ok(Token { tok, pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str, mode: Mode) -> Vec<Tok> {
        let mut l = Lexer::new(src, 1);
        let mut out = vec![];
        loop {
            let t = l.next_token(mode).unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    fn w(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    #[test]
    fn main_mode_keeps_hyphenated_words() {
        assert_eq!(
            toks(
                "add 10.1.1.1 fe80::1%eth0 esp-old 0x10 -E 3des-cbc \"a b\";",
                Mode::Main
            ),
            vec![
                w("add"),
                w("10.1.1.1"),
                w("fe80::1%eth0"),
                w("esp-old"),
                w("0x10"),
                Tok::Flag("-E".into()),
                w("3des-cbc"),
                Tok::Quoted("a b".into()),
                Tok::Semi
            ]
        );
    }

    #[test]
    fn brackets_slashes_comments() {
        assert_eq!(
            toks(
                "10.0.1.0/24[any] # comment ; here\n::/0[110] icmp6 135,0",
                Mode::Main
            ),
            vec![
                w("10.0.1.0"),
                Tok::Slash,
                w("24"),
                Tok::LBracket,
                w("any"),
                Tok::RBracket,
                w("::"),
                Tok::Slash,
                w("0"),
                Tok::LBracket,
                w("110"),
                Tok::RBracket,
                w("icmp6"),
                w("135,0"),
            ]
        );
    }

    #[test]
    fn policy_mode_splits_at_hyphen() {
        assert_eq!(
            toks(
                "out prio def + 5 ipsec esp/tunnel/20.0.0.1-20.0.0.2/unique:3",
                Mode::Policy
            ),
            vec![
                w("out"),
                w("prio"),
                w("def"),
                Tok::Plus,
                w("5"),
                w("ipsec"),
                w("esp"),
                Tok::Slash,
                w("tunnel"),
                Tok::Slash,
                w("20.0.0.1"),
                Tok::Hyphen,
                w("20.0.0.2"),
                Tok::Slash,
                w("unique:3"),
            ]
        );
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let mut l = Lexer::new("add\n  foo \"x\ny\" bar", 7);
        let t = l.next_token(Mode::Main).unwrap();
        assert_eq!((t.pos.line, t.pos.col), (7, 1));
        let t = l.next_token(Mode::Main).unwrap();
        assert_eq!((t.pos.line, t.pos.col, t.pos.offset), (8, 3, 6));
        let t = l.next_token(Mode::Main).unwrap();
        assert_eq!(t.tok, Tok::Quoted("x\ny".into()));
        let t = l.next_token(Mode::Main).unwrap();
        assert_eq!((t.pos.line, t.pos.col), (9, 4));
    }

    #[test]
    fn errors() {
        let e = Lexer::new("  \"abc", 1).next_token(Mode::Main).unwrap_err();
        assert_eq!((e.pos.col, e.eof), (3, true));
        assert_eq!(e.msg, "unterminated quoted string");
        let e = Lexer::new("a\n @", 1);
        let mut e = e;
        e.next_token(Mode::Main).unwrap();
        let e = e.next_token(Mode::Main).unwrap_err();
        assert_eq!(e.to_string(), "2:2: syntax error at \"@\"");
        assert!(!e.eof);
    }

    #[test]
    fn recover_skips_to_after_semicolon() {
        let mut l = Lexer::new("bad \"x;y\" stuff ; next", 1);
        l.recover();
        assert_eq!(l.next_token(Mode::Main).unwrap().tok, w("next"));
    }
}
