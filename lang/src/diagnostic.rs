//! Compile-time and run-time diagnostics, rendered with ariadne.

use crate::ast::Span;
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};

/// One error with its location. Rendering adds file:line:col and the source line.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// Text of the label under the span; empty means "use the message".
    pub label: String,
    /// Extra lines after the snippet ("did you mean ...", call stack).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// 1-based line and column (in characters) of the span start.
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        line_col(src, self.span.start as usize)
    }

    /// Render as text: `Error: message`, `file:line:col`, the source line with a label,
    /// then the notes. `color` adds ANSI colours (for a terminal).
    pub fn render(&self, file: &str, src: &str, color: bool) -> String {
        let start = (self.span.start as usize).min(src.len());
        let end = (self.span.end as usize).clamp(start, src.len());
        let label = if self.label.is_empty() {
            self.message.clone()
        } else {
            self.label.clone()
        };
        let mut report = Report::build(ReportKind::Error, (file, start..end))
            .with_config(
                Config::new()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_message(&self.message)
            .with_label(
                Label::new((file, start..end))
                    .with_message(label)
                    .with_color(Color::Red),
            );
        for note in &self.notes {
            report = report.with_note(note);
        }
        let mut out = Vec::new();
        let (line, col) = line_col(src, start);
        // ariadne writes the location in its header; we also put a plain `file:line:col` first
        // so the location is easy to grep even without the snippet.
        let header = format!("{file}:{line}:{col}: error: {}\n", self.message);
        if report
            .finish()
            .write((file, Source::from(src)), &mut out)
            .is_err()
        {
            return header;
        }
        header + &String::from_utf8_lossy(&out)
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Render many diagnostics, one after another.
pub fn render_all(diags: &[Diagnostic], file: &str, src: &str, color: bool) -> String {
    diags
        .iter()
        .map(|d| d.render(file, src, color))
        .collect::<Vec<_>>()
        .join("")
}

/// The closest candidate to `name` by edit distance, if it is close enough to suggest.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count().div_ceil(3)).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c.to_string())
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbouring characters each cost 1 (`coutn` is one edit from `count`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("x", 0), (1, 1));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("coutn", ["count", "other"]),
            Some("count".into())
        );
        assert_eq!(did_you_mean("zzz", ["count"]), None);
    }

    #[test]
    fn render_names_file_line_and_column() {
        let d = Diagnostic::new("undefined variable 'y'", Span::new(8, 9));
        let out = d.render("t.wal", "var x = y;", false);
        assert!(
            out.starts_with("t.wal:1:9: error: undefined variable 'y'"),
            "{out}"
        );
        assert!(out.contains("var x = y;"), "{out}");
    }
}
