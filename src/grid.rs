//! Rows as an aligned text grid, as the REPL shows a table value (and `walia show` can):
//!
//! ```text
//! id  name  score
//! --  ----  -----
//!  1  Ann     2.5
//!  2  Bob     nil
//! (2 rows)
//! ```

use std::fmt;
use walia_runtime::Value;
use walia_runtime::api::{display, format_float};

/// A cell longer than this many characters is cut, ending in `…`.
const MAX_CELL: usize = 40;

/// The first rows of a table ([`crate::Engine::table_head`]); `Display` shows them as a
/// grid followed by the row count.
#[derive(Clone, Debug)]
pub struct TableHead {
    /// The table's name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The first rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
    /// How many rows the table has.
    pub total: u64,
}

impl fmt::Display for TableHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.columns.is_empty() {
            writeln!(f, "{}", text_grid(&self.columns, &self.rows))?;
        }
        let total = group_digits(self.total);
        let rows = if self.total == 1 { "row" } else { "rows" };
        if (self.rows.len() as u64) < self.total {
            write!(f, "(first {} of {total} {rows})", self.rows.len())
        } else {
            write!(f, "({total} {rows})")
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One cell's text: strings without quotes, numbers as `print` shows them, `nil`; control
/// characters escaped so a cell stays on its line; cut to [`MAX_CELL`] characters.
fn cell_text(v: &Value) -> String {
    let text = match v {
        Value::Float(x) => format_float(*x),
        other => display(other),
    };
    let cut = text.chars().count() > MAX_CELL;
    let keep = if cut { MAX_CELL - 1 } else { MAX_CELL };
    let mut out = String::new();
    for c in text.chars().take(keep) {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    if cut {
        out.push('…');
    }
    out
}

/// `columns` and `rows` as an aligned grid: a header, a rule, one line per row. Columns
/// holding only numbers (and nils) are right-aligned; there is no trailing newline and no
/// trailing space.
pub fn text_grid(columns: &[String], rows: &[Vec<Value>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    let numeric: Vec<bool> = (0..columns.len())
        .map(|c| {
            rows.iter().all(|r| {
                matches!(
                    r.get(c),
                    None | Some(Value::Int(_) | Value::Float(_) | Value::Nil)
                )
            })
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            cells
                .iter()
                .filter_map(|r| r.get(c))
                .chain(std::iter::once(name))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |texts: &mut dyn Iterator<Item = &str>| -> String {
        let mut out = String::new();
        for (c, text) in texts.enumerate() {
            let width = widths.get(c).copied().unwrap_or(0);
            if c > 0 {
                out.push_str("  ");
            }
            if numeric.get(c).copied().unwrap_or(false) {
                out.push_str(&format!("{text:>width$}"));
            } else {
                out.push_str(&format!("{text:<width$}"));
            }
        }
        out.trim_end().to_string()
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut lines = vec![
        line(&mut columns.iter().map(String::as_str)),
        line(&mut rule.iter().map(String::as_str)),
    ];
    for r in &cells {
        lines.push(line(&mut r.iter().map(String::as_str)));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_aligned_and_numbers_right_aligned() {
        let rows = vec![
            vec![Value::Int(1), Value::str("Ann"), Value::Float(2.5)],
            vec![Value::Int(100), Value::str("Bartholomew"), Value::Nil],
        ];
        assert_eq!(
            text_grid(&strings(&["id", "name", "score"]), &rows),
            " id  name         score\n---  -----------  -----\n  1  Ann            2.5\n100  Bartholomew    nil"
        );
    }

    #[test]
    fn cells_stay_on_one_line_and_are_cut() {
        let long = "x".repeat(100);
        let rows = vec![vec![Value::str("a\nb\tc"), Value::str(&long)]];
        let grid = text_grid(&strings(&["s", "long"]), &rows);
        let last = grid.lines().last().unwrap_or_default();
        assert!(last.starts_with("a\\nb\\tc  "), "{grid}");
        assert_eq!(last.chars().count(), 7 + 2 + MAX_CELL, "{grid}");
        assert!(last.ends_with('…'), "{grid}");
    }

    #[test]
    fn the_count_follows_the_rows() {
        let head = |shown: usize, total: u64| TableHead {
            name: "t".into(),
            columns: strings(&["n"]),
            rows: (0..shown as i64).map(|i| vec![Value::Int(i)]).collect(),
            total,
        };
        assert_eq!(head(1, 1).to_string(), "n\n-\n0\n(1 row)");
        assert!(
            head(2, 200_000)
                .to_string()
                .ends_with("\n1\n(first 2 of 200,000 rows)")
        );
        let empty = TableHead {
            columns: Vec::new(),
            ..head(0, 0)
        };
        assert_eq!(empty.to_string(), "(0 rows)");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(999), "999");
    }
}
