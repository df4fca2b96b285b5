//! CSV text per RFC 4180, streaming: records of a `BufRead` one at a time, and fields
//! quoted for writing only when they need it. The delimiter is a comma unless told
//! otherwise (a tab for `.tsv` files, or `--delimiter`/`{delimiter: ";"}`): TSV here is
//! CSV with tabs, quoting included.
//!
//! Written here rather than taken from the `csv` crate because SPEC §15 gives quoting a
//! meaning: an empty unquoted field is `nil` while `""` is the empty string, and the crate
//! does not say whether a field was quoted. Errors carry the file's physical line numbers.

use std::io::BufRead;

/// The UTF-8 byte order mark some editors (Excel's "CSV UTF-8") put at the start of a file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Remove a byte order mark from the start of a file's first line, so it does not become
/// part of the first column's name (or the first line's text).
pub fn strip_bom(first_line: &mut Vec<u8>) {
    if first_line.starts_with(BOM) {
        first_line.drain(..BOM.len());
    }
}

/// The delimiter a user wrote (`--delimiter`, `{delimiter: ...}`): one character (an
/// ASCII one: fields are split on a byte), or `tab` or `\t` for a tab. A quote or a line
/// end cannot separate fields.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    let byte = match text {
        "tab" | "\\t" | "\t" => b'\t',
        _ => match text.as_bytes() {
            [b] if b.is_ascii() => *b,
            _ => {
                return Err(format!(
                    "a delimiter is one ASCII character like ';' or '|', or 'tab' (got '{}')",
                    text.escape_default()
                ));
            }
        },
    };
    if matches!(byte, b'"' | b'\n' | b'\r') {
        return Err(format!(
            "'{}' cannot be a delimiter: it quotes or ends records",
            text.escape_default()
        ));
    }
    Ok(byte)
}

/// Why a bare carriage return is refused: CR-only line ends (classic Mac OS) would
/// otherwise read as one long header line and import nothing.
pub const BARE_CR: &str =
    "a carriage return outside quotes (CR-only line ends?): line ends must be \\n or \\r\\n";

/// One field of the current record: a byte range of [`CsvReader::record`] and whether it
/// was quoted.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

pub struct CsvReader<R> {
    input: R,
    /// Physical lines read so far.
    pub line: u64,
    /// Bytes read so far (for progress).
    pub bytes: u64,
    /// The current record's unescaped field bytes.
    pub record: Vec<u8>,
    pub fields: Vec<Field>,
    line_buf: Vec<u8>,
    /// A blank line is a record (of one empty field) rather than skipped: right for a
    /// one-column file, where it is that column's nil.
    pub blank_is_record: bool,
    /// The longest record accepted, in bytes (a file without line ends is one record).
    pub max_record: u64,
    /// The last error was a record over `max_record` (not a bad record to skip: the rest
    /// of it has not been read).
    pub too_long: bool,
    /// The byte between fields (see [`parse_delimiter`]).
    pub delimiter: u8,
}

/// A malformed record: its first physical line and the reason.
#[derive(Debug)]
pub struct CsvError {
    pub line: u64,
    pub reason: String,
}

impl<R: BufRead> CsvReader<R> {
    pub fn new(input: R) -> CsvReader<R> {
        CsvReader {
            input,
            line: 0,
            bytes: 0,
            record: Vec::new(),
            fields: Vec::new(),
            line_buf: Vec::new(),
            blank_is_record: false,
            max_record: walia_runtime::api::max_record(),
            too_long: false,
            delimiter: b',',
        }
    }

    fn read_line(&mut self) -> Result<bool, CsvError> {
        self.line_buf.clear();
        // A quoted field spans lines: the record read so far counts against the cap too.
        let room = self.max_record.saturating_sub(self.record.len() as u64);
        let n = crate::records::read_line_capped(&mut self.input, &mut self.line_buf, room)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                r.map_err(|_| {
                    self.too_long = true;
                    crate::records::TooLong {
                        cap: self.max_record,
                    }
                    .to_string()
                })
            })
            .map_err(|reason| CsvError {
                line: self.line + 1,
                reason,
            })?;
        if n == 0 {
            return Ok(false);
        }
        if self.line == 0 {
            strip_bom(&mut self.line_buf);
        }
        self.line += 1;
        self.bytes += n as u64;
        Ok(true)
    }

    /// Read the next record; returns its first physical line, or `None` at the end.
    /// Blank lines between records are skipped (unless `blank_is_record`).
    pub fn next_record(&mut self) -> Result<Option<u64>, CsvError> {
        self.record.clear();
        self.fields.clear();
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if self.blank_is_record || !matches!(self.line_buf.as_slice(), b"\n" | b"\r\n") {
                break;
            }
        }
        let first = self.line;
        let mut field = Field {
            start: 0,
            end: 0,
            quoted: false,
        };
        let mut at_start = true;
        let mut in_quotes = false;
        let mut closed = false;
        let delimiter = self.delimiter;
        loop {
            let line = std::mem::take(&mut self.line_buf);
            let mut i = 0;
            while i < line.len() {
                let b = line[i];
                if in_quotes {
                    if b == b'"' {
                        if line.get(i + 1) == Some(&b'"') {
                            self.record.push(b'"');
                            i += 1;
                        } else {
                            in_quotes = false;
                            closed = true;
                        }
                    } else {
                        self.record.push(b);
                    }
                } else if b == delimiter {
                    field.end = self.record.len();
                    self.fields.push(field);
                    field = Field {
                        start: self.record.len(),
                        end: 0,
                        quoted: false,
                    };
                    at_start = true;
                    closed = false;
                    i += 1;
                    continue;
                } else if b == b'\n' || (b == b'\r' && line.get(i + 1) == Some(&b'\n')) {
                    field.end = self.record.len();
                    self.fields.push(field);
                    self.line_buf = line;
                    return Ok(Some(first));
                } else if b == b'\r' {
                    return Err(CsvError {
                        line: self.line,
                        reason: BARE_CR.into(),
                    });
                } else if b == b'"' && at_start {
                    in_quotes = true;
                    field.quoted = true;
                } else if closed {
                    return Err(CsvError {
                        line: self.line,
                        reason: "unexpected text after a closing quote".into(),
                    });
                } else {
                    self.record.push(b);
                }
                at_start = false;
                i += 1;
            }
            self.line_buf = line;
            if !in_quotes {
                // The last line had no line end.
                field.end = self.record.len();
                self.fields.push(field);
                return Ok(Some(first));
            }
            if !self.read_line()? {
                return Err(CsvError {
                    line: first,
                    reason: "a quoted field is not closed before the end of the file".into(),
                });
            }
        }
    }

    /// The input, positioned after the last line read.
    pub fn input(&self) -> &R {
        &self.input
    }

    /// Continue at a record boundary found earlier: `input` must stand at byte `bytes`,
    /// after `line` physical lines (which later errors count on from).
    pub fn resume_at(&mut self, line: u64, bytes: u64) -> &mut R {
        self.line = line;
        self.bytes = bytes;
        self.too_long = false;
        &mut self.input
    }

    /// The bytes of field `i` of the current record.
    pub fn field(&self, i: usize) -> &[u8] {
        let f = self.fields[i];
        &self.record[f.start..f.end]
    }
}

/// Append a field to a CSV line, quoted when it must be: it holds the delimiter, a quote
/// or a line break, or it is the empty string (an empty unquoted field is nil).
pub fn push_field(out: &mut String, text: &str, delimiter: u8) {
    let needs =
        text.is_empty() || text.contains(['"', '\n', '\r']) || text.as_bytes().contains(&delimiter);
    if !needs {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<(u64, Vec<(String, bool)>)> {
        let mut r = CsvReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(line) = r.next_record().expect("valid csv") {
            let fields = (0..r.fields.len())
                .map(|i| {
                    (
                        String::from_utf8_lossy(r.field(i)).into_owned(),
                        r.fields[i].quoted,
                    )
                })
                .collect();
            out.push((line, fields));
        }
        out
    }

    #[test]
    fn quotes_commas_newlines_and_line_numbers() {
        let recs = records("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",\n,\"\"\nlast,row");
        let f = |s: &str, q: bool| (s.to_string(), q);
        assert_eq!(recs[0], (1, vec![f("a", false), f("b", false)]));
        assert_eq!(recs[1], (2, vec![f("x,1", true), f("say \"hi\"", true)]));
        assert_eq!(recs[2], (4, vec![f("two\nlines", true), f("", false)]));
        assert_eq!(recs[3], (6, vec![f("", false), f("", true)]));
        assert_eq!(recs[4], (7, vec![f("last", false), f("row", false)]));
        assert_eq!(recs.len(), 5);
    }

    #[test]
    fn unclosed_quote_and_text_after_quote_are_errors() {
        let mut r = CsvReader::new("a\n\"open\nnever closed".as_bytes());
        assert!(r.next_record().is_ok());
        let e = r.next_record().expect_err("unclosed");
        assert_eq!(e.line, 2);
        let mut r = CsvReader::new("\"a\"b\n".as_bytes());
        assert_eq!(r.next_record().expect_err("junk").line, 1);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let recs = records("\u{feff}id,name\n1,Ann\n");
        assert_eq!(recs[0].1[0], ("id".to_string(), false));
        // Only at the very start of the file.
        let recs = records("id\n\u{feff}x\n");
        assert_eq!(recs[1].1[0], ("\u{feff}x".to_string(), false));
    }

    #[test]
    fn cr_only_line_ends_are_refused_with_the_line() {
        let mut r = CsvReader::new("id,name\r1,Ann\r2,Bo\r".as_bytes());
        let e = r.next_record().expect_err("bare CR");
        assert_eq!((e.line, e.reason.as_str()), (1, BARE_CR));
        // Inside quotes a CR is data; before a LF it is a line end.
        let recs = records("a,b\r\n\"x\ry\",2\r\n");
        assert_eq!(recs[1].1[0], ("x\ry".to_string(), true));
    }

    #[test]
    fn another_delimiter_splits_fields_and_quotes_still_hold_it() {
        let mut r = CsvReader::new("a;b,c\n\"x;y\";\"\"\n1\t2;3\n".as_bytes());
        r.delimiter = b';';
        let mut out = Vec::new();
        while r.next_record().expect("valid").is_some() {
            let fields: Vec<String> = (0..r.fields.len())
                .map(|i| String::from_utf8_lossy(r.field(i)).into_owned())
                .collect();
            out.push(fields);
        }
        assert_eq!(out, [["a", "b,c"], ["x;y", ""], ["1\t2", "3"]]);
        let mut line = String::new();
        for t in ["a,b", "a;b", "a\tb"] {
            push_field(&mut line, t, b';');
            line.push('|');
        }
        assert_eq!(line, "a,b|\"a;b\"|a\tb|");
        let mut line = String::new();
        push_field(&mut line, "a\tb", b'\t');
        assert_eq!(line, "\"a\tb\"");
    }

    #[test]
    fn delimiters_are_one_ascii_character_or_tab() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("|"), Ok(b'|'));
        for tab in ["tab", "\\t", "\t"] {
            assert_eq!(parse_delimiter(tab), Ok(b'\t'), "{tab:?}");
        }
        for bad in ["", ";;", "é", "\"", "\n"] {
            assert!(parse_delimiter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut s = String::new();
        for t in ["plain", "", "a,b", "q\"q", "l\nl", "ünï"] {
            push_field(&mut s, t, b',');
            s.push('|');
        }
        assert_eq!(s, "plain|\"\"|\"a,b\"|\"q\"\"q\"|\"l\nl\"|ünï|");
    }
}
