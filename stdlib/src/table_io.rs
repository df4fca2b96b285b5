//! @group Tables
//! Import and export of tables as CSV (header row; TSV is CSV with tabs) and JSON Lines,
//! chosen by the file's extension (SPEC §7, §15). Imports stream the file (memory does not grow with its size)
//! and are all-or-nothing: a bad line is reported with its physical line number and the
//! table is left as it was, unless bad lines are to be skipped.

use crate::check::*;
use crate::csv_text::{CsvReader, push_field};
use crate::import_progress::{ProgressBar, progress_bar};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::rc::Rc;
use walia_runtime::api::{Cell, ColType, Table, TableError, TableId, cell_value, with_table};
use walia_runtime::{RtError, RtResult, Value, Vm};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// Tab-separated: CSV with a tab for the comma.
    Tsv,
    JsonLines,
}

impl Format {
    pub fn of(path: &str) -> RtResult<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Ok(Format::Csv)
        } else if lower.ends_with(".tsv") {
            Ok(Format::Tsv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Ok(Format::JsonLines)
        } else {
            Err(RtError::new(format!(
                "cannot tell the format of '{path}': use a .csv, .tsv or .jsonl file"
            )))
        }
    }

    /// The delimiter of a CSV or TSV file: `chosen` if given, else the format's own.
    /// `None` for JSON Lines; a delimiter chosen for it is an error.
    pub fn delimiter(self, chosen: Option<u8>, path: &str) -> RtResult<Option<u8>> {
        match (self, chosen) {
            (Format::JsonLines, None) => Ok(None),
            (Format::JsonLines, Some(_)) => Err(RtError::new(format!(
                "'{path}' is JSON Lines: a delimiter applies to CSV and TSV files"
            ))),
            (Format::Csv, d) => Ok(Some(d.unwrap_or(b','))),
            (Format::Tsv, d) => Ok(Some(d.unwrap_or(b'\t'))),
        }
    }
}

/// The `delimiter` entry of a builtin's options map (`{delimiter: ";"}`), if any.
pub fn delimiter_option(options: &Value, builtin: &str) -> RtResult<Option<u8>> {
    let m = match options {
        Value::Nil => return Ok(None),
        Value::Map(m) => m,
        other => {
            return Err(RtError::new(format!(
                "'{builtin}': options are a map like {{delimiter: \";\"}}, got {}",
                other.type_name()
            )));
        }
    };
    let entries = m.entries.borrow();
    match entries.get(&walia_runtime::api::KeyRef::Str("delimiter")) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => crate::csv_text::parse_delimiter(s.as_str())
            .map(Some)
            .map_err(|e| RtError::new(format!("'{builtin}': {e}"))),
        Some(other) => Err(RtError::new(format!(
            "'{builtin}': delimiter must be a String like \";\" or \"\\t\", got {}",
            walia_runtime::api::repr(other)
        ))),
    }
}

/// How an import went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub rows: u64,
    pub skipped: u64,
    /// The first [`Imported::REPORTED`] lines skipped: line number and why.
    pub skipped_lines: Vec<(u64, String)>,
}

impl Imported {
    /// Skipped lines reported one by one; past these only the count is given.
    pub const REPORTED: usize = 10;

    fn skip(&mut self, line: u64, reason: String) {
        self.skipped += 1;
        if self.skipped_lines.len() < Self::REPORTED {
            self.skipped_lines.push((line, reason));
        }
    }

    /// What `--skip-bad` tells the user: one warning per skipped line reported, then how
    /// many more there were.
    pub fn skipped_warnings(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .skipped_lines
            .iter()
            .map(|(line, why)| format!("warning: skipped line {line} of '{path}': {why}"))
            .collect();
        let more = self.skipped - self.skipped_lines.len() as u64;
        if more > 0 {
            out.push(format!(
                "warning: ... and {more} more bad line{} of '{path}'",
                if more == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

/// Import options beyond the table and the path.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Skip bad lines (and count them) instead of failing the import.
    pub skip_bad: bool,
    /// Show a progress bar (only ever on a terminal).
    pub progress: bool,
    /// The longest line or record accepted; `None` is the run's limit (64 MiB unless
    /// raised with `Limits::with_max_record` or `--max-record`).
    pub max_record: Option<u64>,
    /// The byte between CSV fields; `None`: by the extension (a tab for `.tsv`, else a
    /// comma). An error for a JSON Lines file.
    pub delimiter: Option<u8>,
}

fn io_error(verb: &str, path: &str, e: std::io::Error) -> RtError {
    RtError::new(format!("cannot {verb} '{path}': {e}"))
}

/// @builtin db_import(T, path [, options]) -> Int
///
/// Imports the file at `path` into table `T` (the table or its name; created when missing)
/// and returns the number of rows imported. The format comes from the extension: `.csv`
/// (a header row, then records), `.tsv` (tabs), `.jsonl` / `.ndjson` (a JSON object per
/// line). Values are typed as `read_csv` types them. The file is streamed (memory does not
/// grow with it). The import is all-or-nothing: a bad line stops it with its line number and
/// reason, and the table is left as it was. `options`: `skip_bad: true` skips bad lines
/// instead (each reported on stderr), `max_record: bytes` raises the longest accepted
/// record, `delimiter: ";"` another CSV delimiter.
///
/// Errors: an unknown extension; the file cannot be read; a bad line (without `skip_bad`);
/// a bad option.
///
/// ```walia
/// write_file("people.csv", "id,name\n1,Ann\n2,Bob\n");
/// print db_import("People", "people.csv");   // -> 2
/// print db.People.get(2).name;               // -> Bob
/// ```
pub fn db_import(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 1, "db_import")?.as_str().to_string();
    let mut opts = ImportOptions {
        skip_bad: false,
        progress: !vm.quiet,
        max_record: None,
        delimiter: delimiter_option(arg(a, 2), "db_import")?,
    };
    if let Value::Map(m) = arg(a, 2) {
        let entries = m.entries.borrow();
        let option = |name| entries.get(&walia_runtime::api::KeyRef::Str(name));
        opts.skip_bad = option("skip_bad").is_some_and(Value::is_truthy);
        match option("max_record") {
            None | Some(Value::Nil) => {}
            Some(Value::Int(n)) if *n > 0 => opts.max_record = Some(*n as u64),
            Some(other) => {
                return Err(RtError::new(format!(
                    "'db_import': max_record must be a positive Int (bytes), got {}",
                    walia_runtime::api::repr(other)
                )));
            }
        }
    }
    let done = import(vm, arg(a, 0), &path, opts)?;
    for warning in done.skipped_warnings(&path) {
        eprintln!("{warning}");
    }
    Ok(Value::Int(done.rows as i64))
}

/// @builtin db_export(T, path [, options]) -> Int
///
/// Writes every row of table `T` (the table or its name) to the file at `path` and returns
/// the number of rows written. The format comes from the extension, as for `db_import`:
/// CSV (a header row) or TSV, or JSON Lines (an object per row). `options.delimiter`
/// chooses another CSV delimiter (`{delimiter: ";"}`).
///
/// Errors: `T` names no table; an unknown extension; the file cannot be written; a bad
/// option.
///
/// ```walia
/// db_insert("Score", {id: 1, points: 9.5});
/// print db_export("Score", "scores.jsonl");   // -> 1
/// print read_jsonl("scores.jsonl") |> collect();   // -> [{"id": 1, "points": 9.5}]
/// ```
pub fn db_export(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let path = expect_str(a, 1, "db_export")?.as_str().to_string();
    let delimiter = delimiter_option(arg(a, 2), "db_export")?;
    let t = vm.table_arg(arg(a, 0), false)?;
    Ok(Value::Int(export(t, &path, delimiter)? as i64))
}

/// Import `path` into `table` (a table value or name; a missing table is created). The
/// whole import is one savepoint: on a failure nothing of it remains.
pub fn import(vm: &mut Vm, table: &Value, path: &str, opts: ImportOptions) -> RtResult<Imported> {
    let format = Format::of(path)?;
    let delimiter = format.delimiter(opts.delimiter, path)?;
    let file = File::open(path).map_err(|e| io_error("read", path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    vm.in_table_savepoint(|vm| {
        let t = vm.table_arg(table, true)?;
        let bar = progress_bar(opts.progress, size);
        let input = BufReader::with_capacity(1 << 16, file);
        let cap = opts
            .max_record
            .unwrap_or_else(walia_runtime::api::max_record);
        let r = match delimiter {
            Some(d) => import_csv(t, input, path, (opts.skip_bad, cap, d), &bar),
            None => import_jsonl(t, input, path, (opts.skip_bad, cap), &bar),
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        r
    })
}

/// A bad line: `line N: reason`.
fn bad_line(path: &str, line: u64, reason: impl std::fmt::Display) -> TableError {
    TableError::Data(format!("cannot import '{path}': line {line}: {reason}"))
}

/// Where an import is: the line being added and how to treat a bad one.
struct Line<'a> {
    path: &'a str,
    line: u64,
    /// Bytes of the file read so far (for the progress bar).
    bytes: u64,
    /// The table's columns before this line (a skipped line's new columns are removed).
    columns: usize,
    skip_bad: bool,
    bar: &'a Option<ProgressBar>,
}

impl<'a> Line<'a> {
    fn new(path: &'a str, skip_bad: bool, bar: &'a Option<ProgressBar>) -> Line<'a> {
        Line {
            path,
            line: 0,
            bytes: 0,
            columns: usize::MAX,
            skip_bad,
            bar,
        }
    }

    /// Append one parsed line's row; a bad line is skipped and counted, or fails the import.
    fn add(
        &self,
        table: &mut Table,
        pager: &mut walia_runtime::api::Pager,
        cells: Result<Vec<Cell>, TableError>,
        done: &mut Imported,
    ) -> Result<(), TableError> {
        if done.rows.is_multiple_of(65536)
            && let Some(b) = self.bar
        {
            b.set_position(self.bytes);
        }
        let row = cells.and_then(|cells| {
            let prepared = table.prepare(cells)?;
            table.append(pager, &prepared)
        });
        match row {
            Ok(_) => done.rows += 1,
            Err(TableError::Data(why)) if self.skip_bad => {
                table.drop_unwritten_columns(self.columns);
                done.skip(self.line, why);
            }
            Err(TableError::Data(m)) => return Err(bad_line(self.path, self.line, m)),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// The column index for each name of a header (adding columns to a table created by
/// inserting; an `@sql` table refuses names it does not have).
fn header_columns(table: &mut Table, names: &[Rc<str>]) -> Result<Vec<usize>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut cols = Vec::with_capacity(names.len());
    for n in names {
        if n.is_empty() {
            return Err("a column name is empty".into());
        }
        if !seen.insert(n.clone()) {
            return Err(format!("column '{n}' appears twice"));
        }
        cols.push(table.column_for_field(n).map_err(|e| match e {
            TableError::Data(m) => m,
            TableError::Heap(e) => e.to_string(),
        })?);
    }
    Ok(cols)
}

fn import_csv(
    t: TableId,
    input: impl BufRead,
    path: &str,
    (skip_bad, max_record, delimiter): (bool, u64, u8),
    bar: &Option<ProgressBar>,
) -> RtResult<Imported> {
    let mut csv = CsvReader::new(input);
    csv.max_record = max_record;
    csv.delimiter = delimiter;
    let mut done = Imported::default();
    let mut at = Line::new(path, skip_bad, bar);
    with_table(t, |table, pager| {
        let header = match csv.next_record() {
            Ok(Some(_)) => csv.fields.len(),
            Ok(None) => return Ok(()),
            Err(e) => return Err(bad_line(path, e.line, e.reason)),
        };
        let mut names = Vec::with_capacity(header);
        for i in 0..header {
            match std::str::from_utf8(csv.field(i)) {
                Ok(s) => names.push(Rc::<str>::from(s)),
                Err(_) => return Err(bad_line(path, 1, "invalid UTF-8")),
            }
        }
        let cols = header_columns(table, &names).map_err(|m| bad_line(path, 1, m))?;
        csv.blank_is_record = cols.len() == 1;
        let width = table.columns.len();
        loop {
            let line = match csv.next_record() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) if skip_bad && !csv.too_long && !walia_runtime::api::has_pending() => {
                    done.skip(e.line, e.reason);
                    continue;
                }
                Err(e) => return Err(bad_line(path, e.line, e.reason)),
            };
            let cells = csv_row(table, &csv, &cols, &names, width);
            at.line = line;
            at.bytes = csv.bytes;
            at.add(table, pager, cells, &mut done)?;
        }
        Ok(())
    })?;
    Ok(done)
}

/// One CSV record as a row of cells in column order.
fn csv_row<R: BufRead>(
    table: &Table,
    csv: &CsvReader<R>,
    cols: &[usize],
    names: &[Rc<str>],
    width: usize,
) -> Result<Vec<Cell>, TableError> {
    if csv.fields.len() != cols.len() {
        return Err(TableError::Data(format!(
            "expected {} fields, found {}",
            cols.len(),
            csv.fields.len()
        )));
    }
    let mut cells = vec![Cell::Nil; width.max(table.columns.len())];
    for (i, &col) in cols.iter().enumerate() {
        let f = csv.fields[i];
        let bytes = csv.field(i);
        if bytes.is_empty() && !f.quoted {
            continue;
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| TableError::Data(format!("column {}: invalid UTF-8", names[i])))?;
        cells[col] = parse_field(table.columns[col].ty, text)
            .map_err(|reason| TableError::Data(format!("column {} {reason}", names[i])))?;
    }
    Ok(cells)
}

/// A CSV field as a value for a column of type `ty` (inferred from its text when the
/// column has no type yet); the error completes "column NAME ...".
pub fn parse_field(ty: ColType, text: &str) -> Result<Cell, String> {
    let cell = match ty {
        ColType::Int => parse_int(text).and_then(Result::ok).map(Cell::Int),
        ColType::Float => parse_float(text).map(Cell::Float),
        ColType::Bool => match text {
            "true" => Some(Cell::Bool(true)),
            "false" => Some(Cell::Bool(false)),
            _ => None,
        },
        ColType::Str => Some(Cell::Str(text.to_string())),
        ColType::Unset => return infer(text),
    };
    cell.ok_or_else(|| format!("holds {} values, got \"{text}\"", ty.name()))
}

/// Int syntax gives an Int, float syntax a Float, `true`/`false` a Bool, anything else a
/// String. Int syntax beyond 64 bits is an error: as a Float it would lose digits.
pub fn infer(text: &str) -> Result<Cell, String> {
    match parse_int(text) {
        Some(Ok(i)) => return Ok(Cell::Int(i)),
        Some(Err(())) => {
            return Err(format!(
                "holds the integer {text}, which does not fit in 64 bits"
            ));
        }
        None => {}
    }
    if let Some(f) = parse_float(text) {
        return Ok(Cell::Float(f));
    }
    Ok(match text {
        "true" => Cell::Bool(true),
        "false" => Cell::Bool(false),
        _ => Cell::Str(text.to_string()),
    })
}

/// `None` when `text` is not Int syntax; `Some(Err)` when it is but overflows 64 bits.
fn parse_int(text: &str) -> Option<Result<i64, ()>> {
    let b = text.as_bytes();
    let digits = match b.first()? {
        b'-' | b'+' => &b[1..],
        _ => b,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.parse().map_err(|_| ()))
}

/// Decimal float syntax only (`1.5`, `-2e3`, `7`): not `inf`, `nan` or `.5`.
fn parse_float(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let body = match b.first()? {
        b'-' | b'+' => &b[1..],
        _ => b,
    };
    if !body.first()?.is_ascii_digit()
        || !body
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
    {
        return None;
    }
    text.parse().ok()
}

fn import_jsonl(
    t: TableId,
    mut input: impl BufRead,
    path: &str,
    (skip_bad, max_record): (bool, u64),
    bar: &Option<ProgressBar>,
) -> RtResult<Imported> {
    let mut done = Imported::default();
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut bytes = 0u64;
    let mut at = Line::new(path, skip_bad, bar);
    with_table(t, |table, pager| {
        loop {
            buf.clear();
            let n = crate::records::read_line_capped(&mut input, &mut buf, max_record)
                .map_err(|e| bad_line(path, line + 1, e))?
                .map_err(|e| bad_line(path, line + 1, e))?;
            if n == 0 {
                break;
            }
            if line == 0 {
                crate::csv_text::strip_bom(&mut buf);
            }
            line += 1;
            bytes += n as u64;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let columns = table.columns.len();
            let cells = jsonl_row(table, &buf);
            at.columns = columns;
            at.line = line;
            at.bytes = bytes;
            at.add(table, pager, cells, &mut done)?;
        }
        Ok(())
    })?;
    Ok(done)
}

/// One JSON object as a row of cells in column order.
fn jsonl_row(table: &mut Table, line: &[u8]) -> Result<Vec<Cell>, TableError> {
    let text = std::str::from_utf8(line).map_err(|_| TableError::Data("invalid UTF-8".into()))?;
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TableError::Data(format!("invalid JSON: {e}")))?;
    let serde_json::Value::Object(obj) = json else {
        return Err(TableError::Data("expected a JSON object".into()));
    };
    let mut named = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        let cell = match crate::json::from_json(v).map_err(TableError::Data)? {
            Value::Nil => Cell::Nil,
            Value::Int(i) => Cell::Int(i),
            Value::Float(f) => Cell::Float(f),
            Value::Bool(b) => Cell::Bool(b),
            Value::Str(s) => Cell::Str(s.as_str().to_string()),
            other => {
                return Err(TableError::Data(format!(
                    "type mismatch: column {}.{k} cannot hold a {} (columns hold Int, Float, Bool, String or nil)",
                    table.name,
                    other.type_name()
                )));
            }
        };
        named.push((k, cell));
    }
    let named = named
        .into_iter()
        .map(|(k, c)| (Rc::from(k.as_str()), c))
        .collect();
    table.cells_by_name(named)
}

/// Write every live row of `t` to `path`; returns the number of rows. The file is written
/// whole or not at all (an existing one survives a failed export). `delimiter`: between
/// CSV fields (`None`: by the extension, see [`Format::delimiter`]).
pub fn export(t: TableId, path: &str, delimiter: Option<u8>) -> RtResult<u64> {
    let delimiter = Format::of(path)?.delimiter(delimiter, path)?;
    crate::atomic_file::write_file(path, |out| export_rows(t, delimiter, path, out))
}

/// Write the rows as CSV with this delimiter, or as JSON Lines (`None`).
fn export_rows(t: TableId, csv: Option<u8>, path: &str, out: &mut dyn Write) -> RtResult<u64> {
    let mut line = String::new();
    let mut rows = 0u64;
    let write_err = |e: std::io::Error| TableError::Data(format!("cannot write '{path}': {e}"));
    with_table(t, |table, pager| {
        let names: Vec<Rc<str>> = table.columns.iter().map(|c| c.name.clone()).collect();
        if let Some(d) = csv {
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    line.push(d as char);
                }
                push_field(&mut line, n, d);
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(write_err)?;
        }
        for row in table.base..table.slots {
            if !table.is_live(pager, row)? {
                continue;
            }
            line.clear();
            match csv {
                Some(d) => {
                    for col in 0..names.len() {
                        if col > 0 {
                            line.push(d as char);
                        }
                        match table.get(pager, row, col)? {
                            Cell::Nil => {}
                            Cell::Str(s) => push_field(&mut line, &s, d),
                            // Through the quoting too: a delimiter like '.' or '-' can
                            // occur in a number.
                            other => push_field(
                                &mut line,
                                &walia_runtime::api::repr(&cell_value(other)),
                                d,
                            ),
                        }
                    }
                }
                None => {
                    line.push('{');
                    for (col, name) in names.iter().enumerate() {
                        if col > 0 {
                            line.push(',');
                        }
                        crate::json::write_string(&mut line, name);
                        line.push(':');
                        let v = cell_value(table.get(pager, row, col)?);
                        crate::json::write_json(&mut line, &v, 0)
                            .map_err(|e| TableError::Data(e.message.clone()))?;
                    }
                    line.push('}');
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(write_err)?;
            rows += 1;
        }
        Ok(())
    })?;
    Ok(rows)
}
