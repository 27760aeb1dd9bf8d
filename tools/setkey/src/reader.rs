//! Feeds input to the parser a line at a time so `setkey -c` acts on each
//! statement as soon as its `;` arrives (as ipsec-tools' stdin loop does),
//! while statements may still span lines.

use crate::ast::Statement;
use crate::parser::{PResult, Parser};

pub struct StmtReader {
    buf: String,
    /// File line number of the first line in `buf`.
    line: u32,
}

impl Default for StmtReader {
    fn default() -> Self {
        StmtReader {
            buf: String::new(),
            line: 1,
        }
    }
}

impl StmtReader {
    /// Adds input; returns every statement (or error) now complete.
    pub fn push(&mut self, text: &str) -> Vec<PResult<Statement>> {
        self.buf.push_str(text);
        if !text.contains(';') {
            return vec![];
        }
        self.drain(false)
    }

    /// End of input: whatever is left, unfinished statements as errors.
    pub fn finish(&mut self) -> Vec<PResult<Statement>> {
        self.drain(true)
    }

    fn drain(&mut self, at_eof: bool) -> Vec<PResult<Statement>> {
        let mut out = vec![];
        let mut consumed = 0;
        {
            let mut p = Parser::new(&self.buf, self.line);
            while let Some(r) = p.next_statement() {
                if let Err(e) = &r {
                    if e.eof && !at_eof {
                        break;
                    }
                }
                out.push(r);
                consumed = p.offset();
            }
            if at_eof {
                consumed = self.buf.len();
            }
        }
        let done: String = self.buf.drain(..consumed).collect();
        self.line += done.matches('\n').count() as u32;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Command;

    fn cmds(v: Vec<PResult<Statement>>) -> Vec<Result<(Command, u32), String>> {
        v.into_iter()
            .map(|r| r.map(|s| (s.cmd, s.pos.line)).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn statements_complete_as_lines_arrive() {
        let mut r = StmtReader::default();
        assert_eq!(
            cmds(r.push("flush; spdflush")),
            vec![Ok((Command::Flush(None), 1))]
        );
        assert_eq!(cmds(r.push(";\n")), vec![Ok((Command::SpdFlush, 1))]);
        assert!(r.push("add 10.0.0.1 10.0.0.2\n").is_empty());
        assert!(
            r.push("  esp 1 -E aes-cbc \"a;b\n").is_empty(),
            "`;` inside a string does not end it"
        );
        let got = cmds(r.push("c\" ; dump;\n"));
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[0], Ok((Command::Add(_), 2))));
        assert_eq!(got[1], Ok((Command::Dump(None), 4)));
        assert!(r.finish().is_empty());
    }

    #[test]
    fn errors_keep_line_numbers_and_unfinished_input_fails_at_eof() {
        let mut r = StmtReader::default();
        assert_eq!(
            cmds(r.push("# comment\nbogus;\n")),
            vec![Err("2:1: unknown command \"bogus\"".into())]
        );
        assert_eq!(
            cmds(r.push("\nspdflush;\n")),
            vec![Ok((Command::SpdFlush, 4))]
        );
        assert!(r.push("add 10.0.0.1\n").is_empty());
        assert_eq!(
            cmds(r.finish()),
            vec![Err("6:1: expected an address, got end of input".into())]
        );
    }
}
