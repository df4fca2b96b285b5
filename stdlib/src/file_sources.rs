//! @group Files
//! File sources of pipelines (SPEC §8): `lines(path)`, `read_csv(path)` (a map per row, with
//! the typing of CSV import: a column's type is fixed by its first non-empty value, and a
//! later value must parse as that type; `7` in a Float column is `7.0`) and `read_jsonl(path)` (a value per line, objects as
//! maps in the file's key order). Each returns a stream; the file is opened when the stream
//! runs and read one record at a time, so memory does not grow with the file. Errors name
//! the file and its physical line.

use crate::check::*;
use crate::csv_text::CsvReader;
use crate::records::{TooLong, read_line_capped};
use std::fs::File;
use std::io::{BufReader, Read};
use std::rc::Rc;
use walia_runtime::api::{
    ColType, FilePos, FileSource, MapKey, Pipeline, RecordReader, SourceOpener, Str, cell_value,
    max_record, new_entries,
};

mod resume;
#[cfg(test)]
mod resume_tests;
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    source(vm, "lines", open_lines, false);
    source(vm, "read_csv", open_csv, true);
    source(vm, "read_jsonl", open_jsonl, false);
}

/// Register a file source; `options`: it takes `{delimiter: ...}` after the path.
fn source(vm: &mut Vm, name: &'static str, open: SourceOpener, options: bool) {
    vm.register_source(name, open);
    let max = if options { 2 } else { 1 };
    vm.set_global(
        name,
        Value::native(name, 1, max, move |_, a| {
            let path = expect_str(a, 0, name)?;
            let options = match crate::table_io::delimiter_option(arg(a, 1), name)? {
                Some(d) => format!("{DELIMITER_OPTION}{}", d as char),
                None => String::new(),
            };
            Ok(Pipeline::of_source(FileSource::with_options(
                name,
                path.as_str(),
                &options,
                open,
            )))
        }),
    );
}

/// How a chosen delimiter is kept in a source's options (and so in the heap).
const DELIMITER_OPTION: &str = "delimiter=";

/// The delimiter of a `read_csv` source: the one it was given, else a tab for a `.tsv`
/// file, else a comma.
fn csv_delimiter(source: &FileSource) -> RtResult<u8> {
    if source.options.is_empty() {
        let tsv = source.path.to_ascii_lowercase().ends_with(".tsv");
        return Ok(if tsv { b'\t' } else { b',' });
    }
    // The options may come from the heap: anything unexpected is an error, not a panic.
    source
        .options
        .strip_prefix(DELIMITER_OPTION)
        .ok_or_else(|| "unknown option".to_string())
        .and_then(crate::csv_text::parse_delimiter)
        .map_err(|e| {
            RtError::new(format!(
                "read_csv('{}'): bad options '{}': {e}",
                source.shown, source.options
            ))
        })
}

/// Open `source.path`; errors name the path as the script gave it.
fn open(source: &FileSource) -> RtResult<BufReader<File>> {
    File::open(&*source.path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| RtError::new(format!("cannot read '{}': {e}", source.shown)))
}

fn line_error(path: &str, line: u64, reason: impl std::fmt::Display) -> RtError {
    RtError::new(format!("'{path}' line {line}: {reason}"))
}

/// A text file read a line at a time (each line's `\n` or `\r\n` removed).
struct LineFile {
    input: BufReader<File>,
    /// The path as the script gave it (for messages).
    path: Rc<str>,
    /// Physical lines read so far.
    line: u64,
    /// Bytes of those lines (where the next line starts).
    offset: u64,
    buf: Vec<u8>,
}

impl LineFile {
    fn open(source: &FileSource) -> RtResult<LineFile> {
        Ok(LineFile {
            input: open(source)?,
            path: source.shown.clone(),
            line: 0,
            offset: 0,
            buf: Vec::new(),
        })
    }

    /// Read the next line into `buf`; `false` at the end.
    fn read(&mut self) -> RtResult<bool> {
        self.buf.clear();
        let n = read_line_capped(&mut self.input, &mut self.buf, max_record())
            .map_err(|e| line_error(&self.path, self.line + 1, e))?
            .map_err(|e| line_error(&self.path, self.line + 1, e))?;
        if n == 0 {
            return Ok(false);
        }
        if self.offset == 0 {
            crate::csv_text::strip_bom(&mut self.buf);
        }
        self.line += 1;
        self.offset += n as u64;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        Ok(true)
    }

    fn text(&self) -> RtResult<&str> {
        std::str::from_utf8(&self.buf)
            .map_err(|_| line_error(&self.path, self.line, "invalid UTF-8"))
    }
}

/// `lines(path)`: a String per line.
struct Lines(LineFile, Option<LineSearch>);

/// @builtin lines(path) -> Stream
///
/// A pipeline source of the lines of the text file at `path`, each without its line end
/// (`\n` or `\r\n`; a byte order mark at the start is dropped). The file is opened when the
/// stream runs and read a line at a time, so memory does not grow with the file; each run
/// of the stream reads the file again from the start. A `checkpoint_at` pipe over it resumes
/// at the line where it stopped. (`stdin_lines()` reads standard input the same way.)
///
/// Errors (when the stream runs): the file cannot be read (the message names the path and
/// gives the OS reason); a line is not valid UTF-8 or is longer than `--max-record`
/// (default 64 MiB), naming the file and the line number. `path` is not a String.
///
/// ```walia
/// write_file("app.log", "ok\nERROR disk\nok\nERROR net\n");
/// print lines("app.log") |> filter(l => l.starts_with("ERROR")) |> count();   // -> 2
/// ```
fn open_lines(source: &FileSource) -> RtResult<Box<dyn RecordReader>> {
    Ok(Box::new(Lines(LineFile::open(source)?, None)))
}

impl RecordReader for Lines {
    fn next_record(&mut self) -> RtResult<Option<Value>> {
        if !self.0.read()? {
            return Ok(None);
        }
        Ok(Some(Value::str(self.0.text()?)))
    }

    fn next_containing(&mut self, needle: &str) -> Option<RtResult<Option<(u64, Value)>>> {
        if needle.is_empty() || needle.contains(['\n', '\r']) {
            return None;
        }
        let search = self.1.get_or_insert_with(|| LineSearch::new(needle));
        Some(search.next(&mut self.0))
    }

    fn position(&mut self) -> RtResult<Option<FilePos>> {
        if self.1.is_some() {
            // The search reads whole blocks ahead: the file's offset is not the line's.
            return Ok(None);
        }
        self.0.position(Value::Nil).map(Some)
    }

    fn seek(&mut self, pos: &FilePos) -> RtResult<()> {
        self.0.seek(pos)
    }
}

/// Searching a text file for lines that contain a literal, the way `grep` does: whole
/// blocks are checked for UTF-8 and searched at once, and only matching lines become
/// strings. Lines passed over are counted (the file's line numbers stay exact) and an
/// invalid line is the same error `lines` gives, after the matches before it.
struct LineSearch {
    finder: memchr::memmem::Finder<'static>,
    block: Vec<u8>,
    /// Next unread byte of `block`.
    pos: usize,
    /// End of the complete, valid lines in `block`.
    end: usize,
    /// Bytes read into `block`.
    filled: usize,
    eof: bool,
    /// The line at `end` is not valid UTF-8.
    bad: bool,
    /// Nothing read yet (a byte order mark may start the block).
    fresh: bool,
}

const SEARCH_BLOCK: usize = 1 << 20;

impl LineSearch {
    fn new(needle: &str) -> LineSearch {
        LineSearch {
            finder: memchr::memmem::Finder::new(needle.as_bytes()).into_owned(),
            block: vec![0; SEARCH_BLOCK],
            pos: 0,
            end: 0,
            filled: 0,
            eof: false,
            bad: false,
            fresh: true,
        }
    }

    /// Read more of the file: `block[..end]` becomes whole lines (the last one may lack
    /// its newline only at the end of the file), checked to be UTF-8 up to a bad line.
    fn refill(&mut self, file: &mut LineFile) -> RtResult<()> {
        self.block.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        loop {
            if self.filled == self.block.len() {
                self.block.resize(self.block.len() * 2, 0);
            }
            let n = file
                .input
                .read(&mut self.block[self.filled..])
                .map_err(|e| line_error(&file.path, file.line + 1, e))?;
            self.filled += n;
            if n == 0 {
                self.eof = true;
                self.end = self.filled;
                break;
            }
            if let Some(last) = memchr::memrchr(b'\n', &self.block[..self.filled]) {
                self.end = last + 1;
                break;
            }
            let cap = max_record();
            if self.filled as u64 > cap {
                return Err(line_error(&file.path, file.line + 1, TooLong { cap }));
            }
        }
        let cap = max_record();
        if self.end as u64 > cap {
            // Lines passed over obey the cap as `lines` does (checked only when a block
            // could hold a line that long).
            let mut start = 0;
            let ends = memchr::memchr_iter(b'\n', &self.block[..self.end]);
            for (i, stop) in ends.chain(std::iter::once(self.end)).enumerate() {
                if (stop - start) as u64 > cap {
                    let line = file.line + i as u64 + 1;
                    return Err(line_error(&file.path, line, TooLong { cap }));
                }
                start = stop + 1;
            }
        }
        if let Err(e) = std::str::from_utf8(&self.block[..self.end]) {
            let valid = e.valid_up_to();
            self.end = memchr::memrchr(b'\n', &self.block[..valid]).map_or(0, |i| i + 1);
            self.bad = true;
        }
        if std::mem::take(&mut self.fresh)
            && file.line == 0
            && self.block[..self.end].starts_with(crate::csv_text::BOM)
        {
            self.pos = crate::csv_text::BOM.len();
        }
        Ok(())
    }

    fn next(&mut self, file: &mut LineFile) -> RtResult<Option<(u64, Value)>> {
        let mut passed = 0u64;
        loop {
            if self.pos >= self.end {
                if self.bad {
                    return Err(line_error(&file.path, file.line + 1, "invalid UTF-8"));
                }
                if self.eof {
                    return Ok(None);
                }
                self.refill(file)?;
                continue;
            }
            let region = &self.block[self.pos..self.end];
            let Some(hit) = self.finder.find(region) else {
                let mut n = memchr::memchr_iter(b'\n', region).count() as u64;
                if region.last() != Some(&b'\n') {
                    n += 1; // the file's last line, without a newline
                }
                passed += n;
                file.line += n;
                self.pos = self.end;
                continue;
            };
            let start = memchr::memrchr(b'\n', &region[..hit]).map_or(0, |i| i + 1);
            let newline = memchr::memchr(b'\n', &region[hit..]).map(|i| hit + i);
            let mut stop = newline.unwrap_or(region.len());
            if newline.is_some() && stop > start && region[stop - 1] == b'\r' {
                stop -= 1;
            }
            let skipped = memchr::memchr_iter(b'\n', &region[..start]).count() as u64;
            let text = std::str::from_utf8(&region[start..stop])
                .map_err(|_| line_error(&file.path, file.line + skipped + 1, "invalid UTF-8"))?;
            let value = Value::str(text);
            file.line += skipped + 1;
            self.pos += newline.map_or(region.len(), |i| i + 1);
            return Ok(Some((passed + skipped, value)));
        }
    }
}

/// A map per CSV record, keyed by the header.
struct CsvMaps {
    csv: CsvReader<BufReader<File>>,
    path: Rc<str>,
    header: Option<Vec<Rc<Str>>>,
    types: Vec<ColType>,
}

/// @builtin read_csv(path [, options]) -> Stream
///
/// A pipeline source of the records of the CSV file at `path`: a Map per record, keyed by
/// the header row (in its order). A column's type is fixed by its first non-empty value, as
/// an import types it (Int, Float, Bool, else String), and a later value must parse as that
/// type (`7` in a Float column is `7.0`); an empty unquoted field is `nil`. Quoted fields may
/// hold the delimiter, `""` and line breaks. The delimiter is a comma, a tab for a `.tsv`
/// file, or `options.delimiter` (`{delimiter: ";"}`). Read one record at a time; a
/// `checkpoint_at` pipe over it resumes at the record where it stopped.
///
/// Errors (when the stream runs): the file cannot be read; a record has more or fewer fields
/// than the header; a value does not fit its column's type; invalid UTF-8 or a record longer
/// than `--max-record`. Each names the file and the line. A bad `options` map or delimiter.
///
/// ```walia
/// write_file("people.csv", "name,age\nAnn,31\nBob,\n");
/// print read_csv("people.csv") |> collect();   // -> [{"name": "Ann", "age": 31}, {"name": "Bob", "age": nil}]
/// ```
fn open_csv(source: &FileSource) -> RtResult<Box<dyn RecordReader>> {
    let delimiter = csv_delimiter(source)?;
    let mut csv = CsvReader::new(open(source)?);
    csv.delimiter = delimiter;
    Ok(Box::new(CsvMaps {
        csv,
        path: source.shown.clone(),
        header: None,
        types: Vec::new(),
    }))
}

impl CsvMaps {
    fn text(&self, i: usize, line: u64) -> RtResult<&str> {
        std::str::from_utf8(self.csv.field(i))
            .map_err(|_| line_error(&self.path, line, "invalid UTF-8"))
    }
}

impl RecordReader for CsvMaps {
    fn next_record(&mut self) -> RtResult<Option<Value>> {
        if self.header.is_none() {
            match self.csv.next_record() {
                Ok(Some(line)) => {
                    let mut names = Vec::with_capacity(self.csv.fields.len());
                    for i in 0..self.csv.fields.len() {
                        names.push(Rc::new(Str::new(self.text(i, line)?.to_string())));
                    }
                    self.csv.blank_is_record = names.len() == 1;
                    self.types = vec![ColType::Unset; names.len()];
                    self.header = Some(names);
                }
                Ok(None) => return Ok(None),
                Err(e) => return Err(line_error(&self.path, e.line, e.reason)),
            }
        }
        let line = match self.csv.next_record() {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(None),
            Err(e) => return Err(line_error(&self.path, e.line, e.reason)),
        };
        let names = self.header.clone().unwrap_or_default();
        if self.csv.fields.len() != names.len() {
            return Err(line_error(
                &self.path,
                line,
                format!(
                    "expected {} fields, found {}",
                    names.len(),
                    self.csv.fields.len()
                ),
            ));
        }
        let mut entries = new_entries(names.len());
        for (i, name) in names.iter().enumerate() {
            let value = if self.csv.field(i).is_empty() && !self.csv.fields[i].quoted {
                Value::Nil
            } else {
                let text = self.text(i, line)?;
                let ty = self.types[i];
                let cell = crate::table_io::parse_field(ty, text).map_err(|reason| {
                    line_error(
                        &self.path,
                        line,
                        format!("column {} {reason}", name.as_str()),
                    )
                })?;
                let value = cell_value(cell);
                if ty == ColType::Unset {
                    self.types[i] = match &value {
                        Value::Int(_) => ColType::Int,
                        Value::Float(_) => ColType::Float,
                        Value::Bool(_) => ColType::Bool,
                        _ => ColType::Str,
                    };
                }
                value
            };
            entries.insert(MapKey::Str(name.clone()), value);
        }
        Ok(Some(Value::map(entries)))
    }

    fn position(&mut self) -> RtResult<Option<FilePos>> {
        self.csv_position().map(Some)
    }

    fn seek(&mut self, pos: &FilePos) -> RtResult<()> {
        self.csv_seek(pos)
    }
}

/// `read_jsonl(path)`: a value per JSON line (blank lines skipped).
struct JsonLines(LineFile);

/// @builtin read_jsonl(path) -> Stream
///
/// A pipeline source of the values of the JSON Lines file at `path`: one JSON value per line
/// (objects become Maps in the line's key order, as with `json_parse`); blank lines are
/// skipped. Read a line at a time; a `checkpoint_at` pipe over it resumes at the line where
/// it stopped.
///
/// Errors (when the stream runs): the file cannot be read; a line is not valid JSON (the
/// message names the file, the line and the reason), not valid UTF-8 or longer than
/// `--max-record`.
///
/// ```walia
/// write_file("events.jsonl", "{\"kind\": \"click\", \"n\": 2}\n\n{\"kind\": \"view\", \"n\": 5}\n");
/// print read_jsonl("events.jsonl") |> map(e => e.n) |> sum();   // -> 7
/// ```
fn open_jsonl(source: &FileSource) -> RtResult<Box<dyn RecordReader>> {
    Ok(Box::new(JsonLines(LineFile::open(source)?)))
}

impl RecordReader for JsonLines {
    fn next_record(&mut self) -> RtResult<Option<Value>> {
        let f = &mut self.0;
        loop {
            if !f.read()? {
                return Ok(None);
            }
            if f.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return match serde_json::from_str::<serde_json::Value>(f.text()?) {
                Ok(j) => crate::json::from_json(j)
                    .map(Some)
                    .map_err(|m| line_error(&f.path, f.line, m)),
                Err(e) => Err(line_error(&f.path, f.line, format!("invalid JSON: {e}"))),
            };
        }
    }

    fn position(&mut self) -> RtResult<Option<FilePos>> {
        self.0.position(Value::Nil).map(Some)
    }

    fn seek(&mut self, pos: &FilePos) -> RtResult<()> {
        self.0.seek(pos)
    }
}
