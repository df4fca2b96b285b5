//! Rows as an aligned text table: what `walia show` prints, and what the REPL shows for a
//! table value. [`format_rows`] lays out any rows; [`Engine::table_view`] reads the first
//! rows of a table (those a `--where` expression keeps) and counts them.

use crate::value::detach;
use crate::{Engine, Error, Value};
use unicode_width::UnicodeWidthStr;
use walia_lang::lexer::{Token, lex};
use walia_runtime::Value as Live;
use walia_runtime::api::{PipeRun, repr, row_fields};

/// Cells wider than this many columns are cut (ending in `…`): one long string must not
/// push every other column off the screen.
pub const MAX_CELL_WIDTH: usize = 40;

/// How `walia show` prints a table when not told how many rows: enough to see what the
/// table holds, few enough to fit a terminal.
pub const DEFAULT_LIMIT: usize = 20;

/// A cell's text: nil is empty, a string is shown without quotes (its line breaks and
/// tabs escaped, so a row stays one line), anything else as `print` shows it.
fn cell_text(v: &Value) -> String {
    let text = match v {
        Value::Nil => return String::new(),
        Value::Str(s) => s.clone(),
        other => other.repr(),
    };
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    cut(out)
}

/// `text` cut to [`MAX_CELL_WIDTH`] columns.
fn cut(text: String) -> String {
    if text.width() <= MAX_CELL_WIDTH {
        return text;
    }
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w > MAX_CELL_WIDTH - 1 {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Numbers align right, as in psql and sqlite3.
fn right_aligned(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// Lay out `rows` (each a value per column, in the order of `columns`) as an aligned
/// text table: a header line of column names, a rule of dashes, then one line per row;
/// columns two spaces apart, numbers aligned right, nil shown empty, strings without
/// quotes, cells cut at [`MAX_CELL_WIDTH`]. Every line ends with `\n`; no trailing
/// spaces. A row with fewer values than columns leaves the rest empty.
pub fn format_rows(columns: &[String], rows: &[Vec<Value>]) -> String {
    let texts: Vec<Vec<(String, bool)>> = rows
        .iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| match row.get(i) {
                    Some(v) => (cell_text(v), right_aligned(v)),
                    None => (String::new(), false),
                })
                .collect()
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| cut(c.clone())).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            texts
                .iter()
                .map(|r| r[i].0.width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: Vec<(&str, bool)>, out: &mut String| {
        let mut text = String::new();
        for (i, (cell, right)) in cells.into_iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
            if right {
                text.push_str(&pad);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&pad);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(
        header.iter().map(|h| (h.as_str(), false)).collect(),
        &mut out,
    );
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(rule.iter().map(|r| (r.as_str(), false)).collect(), &mut out);
    for row in &texts {
        line(
            row.iter().map(|(t, r)| (t.as_str(), *r)).collect(),
            &mut out,
        );
    }
    out
}

/// "1 row", "2 rows".
fn rows_text(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

/// The first rows of a table, as [`Engine::table_view`] read them.
#[derive(Clone, Debug)]
pub struct TableView {
    /// Column names, in the table's order.
    pub columns: Vec<String>,
    /// The rows shown: a value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows the filter kept (all rows without one).
    pub matched: u64,
    /// Rows in the table.
    pub total: u64,
    /// A filter chose the rows.
    pub filtered: bool,
}

impl TableView {
    /// The line under the rows: `(3 rows)`, `(showing 20 of 200000 rows)`, and with a
    /// filter `(12 rows matching; 200000 in the table)` or `(showing 20 of 1532 rows
    /// matching; 200000 in the table)`.
    pub fn footer(&self) -> String {
        let shown = self.rows.len() as u64;
        match (self.filtered, shown < self.matched) {
            (false, false) => format!("({})", rows_text(self.total)),
            (false, true) => format!("(showing {shown} of {})", rows_text(self.total)),
            (true, false) => format!(
                "({} matching; {} in the table)",
                rows_text(self.matched),
                self.total
            ),
            (true, true) => format!(
                "(showing {shown} of {} matching; {} in the table)",
                rows_text(self.matched),
                self.total
            ),
        }
    }

    /// The table and its footer, as `walia show` prints them.
    pub fn render(&self) -> String {
        let mut out = format_rows(&self.columns, &self.rows);
        out.push_str(&self.footer());
        out.push('\n');
        out
    }
}

/// Is `name` usable as a parameter (an identifier, not a keyword)?
fn is_identifier(name: &str) -> bool {
    matches!(lex(name).tokens.as_slice(), [(Token::Ident(s), _), (Token::Eof, _)] if *s == name)
}

impl Engine {
    /// The first `limit` rows of table `name` (all with `None`) and how many rows it has.
    /// With `filter`, a Walia expression, only the rows for which it is truthy count: in
    /// it, each column whose name is an identifier is a variable holding the row's value,
    /// and `row` is the row itself (`age > 30 and city == "Oslo"`, `row.age > 30`). The
    /// expression runs like a script on this engine's heap (a reader of the last commit
    /// for `walia show`, so it can change nothing).
    pub fn table_view(
        &mut self,
        name: &str,
        limit: Option<usize>,
        filter: Option<&str>,
    ) -> Result<TableView, Error> {
        let t = self.table_id(name, false)?;
        let columns: Vec<String> = self
            .enter()
            .table_columns(t)
            .map_err(Error::Runtime)?
            .iter()
            .map(|c| c.to_string())
            .collect();
        // The columns the filter names become its parameters, then the row.
        let (params, predicate) = match filter {
            Some(expr) => {
                let params: Vec<usize> = (0..columns.len())
                    .filter(|&i| {
                        let c = &columns[i];
                        c != "row" && expr.contains(c.as_str()) && is_identifier(c)
                    })
                    .collect();
                let mut names: Vec<&str> = params.iter().map(|&i| columns[i].as_str()).collect();
                names.push("row");
                let source = format!("({}) =>\n({expr});", names.join(", "));
                (params, Some(self.run_live("--where", &source)?))
            }
            None => (Vec::new(), None),
        };
        let limit = limit.unwrap_or(usize::MAX);
        let mut vm = self.enter();
        let table = Live::Table(t);
        let mut run = PipeRun::new(&table, false).map_err(Error::Runtime)?;
        let (mut rows, mut matched) = (Vec::new(), 0u64);
        while let Some(row) = run.next(&mut vm).map_err(Error::Runtime)? {
            let Live::Row(r) = row else { continue };
            if predicate.is_none() && rows.len() >= limit {
                break;
            }
            let values: Vec<Live> = row_fields(r)
                .map_err(Error::Runtime)?
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            if let Some(p) = &predicate {
                let mut args: Vec<Live> = params
                    .iter()
                    .map(|&i| values.get(i).cloned().unwrap_or(Live::Nil))
                    .collect();
                args.push(row.clone());
                let kept = vm.call_value(p, &args).map_err(|mut e| {
                    e.notes
                        .push(format!("the filter failed on the row {}", repr(&row)));
                    Error::Runtime(e)
                })?;
                if !kept.is_truthy() {
                    continue;
                }
            }
            matched += 1;
            if rows.len() < limit {
                rows.push(values.iter().map(detach).collect());
            }
        }
        let total = vm.table_count(t).map_err(Error::Runtime)?;
        Ok(TableView {
            columns,
            rows,
            matched: if predicate.is_some() { matched } else { total },
            total,
            filtered: predicate.is_some(),
        })
    }
}
