//! Finds a quote that never closes. The `csv` reader is lenient there: at
//! the end of the file it ends the open quoted cell, so one stray `"` reads
//! every later row into a single cell and the file looks fine. [`QuoteWatch`]
//! sees the same bytes the reader does and follows the same rules (those of
//! `csv_core` with the default settings: `"` quotes only at the start of a
//! cell, `""` inside a quoted cell is a quote), so it can say on which line
//! an unclosed quote opened.

use std::io::{self, Read};

const QUOTE: u8 = b'"';
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where the reader is, as far as quotes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a cell: a quote here opens a quoted cell.
    CellStart,
    /// In a cell that is not quoted: quotes are plain characters.
    Unquoted,
    /// In a quoted cell opened on `line`.
    Quoted { line: u64 },
    /// Just after a quote in a quoted cell: another quote is an escaped
    /// one, anything else closed the cell.
    QuoteInQuoted { line: u64 },
}

/// A reader that passes its bytes through and watches the quotes in them.
pub struct QuoteWatch<R> {
    inner: R,
    state: State,
    /// The line of the next byte (1-based, as the `csv` reader counts).
    line: u64,
    /// What is left to match of a byte-order mark at the start, which the
    /// `csv` reader skips.
    bom: &'static [u8],
}

impl<R: Read> QuoteWatch<R> {
    pub fn new(inner: R) -> Self {
        QuoteWatch {
            inner,
            state: State::CellStart,
            line: 1,
            bom: UTF8_BOM,
        }
    }

    /// The line where a quote opened that the input never closed, once the
    /// input has been read to its end.
    pub fn unclosed_quote(&self) -> Option<u64> {
        match self.state {
            State::Quoted { line } => Some(line),
            State::CellStart | State::Unquoted | State::QuoteInQuoted { .. } => None,
        }
    }

    fn watch(&mut self, byte: u8) {
        if let Some((&first, rest)) = self.bom.split_first() {
            self.bom = if byte == first { rest } else { &[] };
            if byte == first {
                return;
            }
        }
        let ends_cell = matches!(byte, b',' | b'\n' | b'\r');
        self.state = match self.state {
            State::CellStart if byte == QUOTE => State::Quoted { line: self.line },
            State::CellStart | State::Unquoted | State::QuoteInQuoted { .. } if ends_cell => {
                State::CellStart
            }
            State::CellStart | State::Unquoted => State::Unquoted,
            State::Quoted { line } if byte == QUOTE => State::QuoteInQuoted { line },
            State::Quoted { line } => State::Quoted { line },
            State::QuoteInQuoted { line } if byte == QUOTE => State::Quoted { line },
            // `"ab"c` reads as `abc`: the cell goes on, unquoted.
            State::QuoteInQuoted { .. } => State::Unquoted,
        };
        if byte == b'\n' {
            self.line += 1;
        }
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            self.watch(byte);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unclosed(text: &str) -> Option<u64> {
        let mut watch = QuoteWatch::new(text.as_bytes());
        io::copy(&mut watch, &mut io::sink()).unwrap();
        watch.unclosed_quote()
    }

    #[test]
    fn an_unclosed_quote_is_found_on_the_line_it_opened() {
        assert_eq!(unclosed("a,b\n1,\"x\n2,y\n3,z\n"), Some(2));
        assert_eq!(unclosed("a,b\n1,\"two\nlines\",ok\n2,\"open"), Some(4));
        assert_eq!(unclosed("\"a"), Some(1));
        assert_eq!(unclosed("\u{feff}\"a,b\n"), Some(1), "after a BOM");
    }

    #[test]
    fn quotes_the_csv_reader_reads_as_closed_or_plain_are_not() {
        for closed in [
            "a,b\n1,\"x, y\"\n",
            "a\n\"say \"\"hi\"\"\"\n",
            "a\n\"multi\nline\"\n",
            "a,b\r\n1,\"x\"\r\n",
            // A quote inside an unquoted cell is a plain character.
            "a,b\n1,5\" floppy\n",
            "a\n\"ab\"c\"\n",
            "\u{feff}\"a\",b\n",
            "",
        ] {
            assert_eq!(unclosed(closed), None, "{closed:?}");
        }
    }
}
