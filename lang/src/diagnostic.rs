//! Compile-time and run-time diagnostics, rendered with ariadne.

use crate::ast::Span;
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};

/// Most errors of one file shown; the rest are counted ("... and N more errors"), so a
/// broken file's output stays bounded however many errors it has.
pub const MAX_SHOWN_ERRORS: usize = 50;
/// Widest source excerpt shown, in characters: a longer line is cut to a window around the
/// error, marked with `…` where cut.
pub const MAX_EXCERPT_WIDTH: usize = 120;
/// Lines of a multi-line span shown whole (when each fits in [`MAX_EXCERPT_WIDTH`]); a longer
/// span is shown on its first line.
const MAX_EXCERPT_LINES: usize = 8;

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
        let start = floor_char(src, (self.span.start as usize).min(src.len()));
        let end = floor_char(src, (self.span.end as usize).clamp(start, src.len()));
        let (line, col) = line_col(src, start);
        // ariadne is given only the lines shown (cost and output independent of the file's
        // size), after blank lines that keep its line numbers right.
        let excerpt = Excerpt::new(src, start, end, line);
        let (start, end) = (excerpt.start, excerpt.end);
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
        // ariadne writes the location in its header; we also put a plain `file:line:col` first
        // so the location is easy to grep even without the snippet.
        let header = format!("{file}:{line}:{col}: error: {}\n", self.message);
        if report
            .finish()
            .write((file, Source::from(excerpt.text.as_str())), &mut out)
            .is_err()
        {
            return header;
        }
        let mut body = String::from_utf8_lossy(&out).into_owned();
        if excerpt.col != col {
            // A cut line shifts ariadne's column; its location line gets the real one.
            body = body.replacen(
                &format!("{file}:{line}:{}", excerpt.col),
                &format!("{file}:{line}:{col}"),
                1,
            );
        }
        header + &body
    }
}

/// The source text ariadne renders for one diagnostic: `line - 1` empty lines, then the
/// span's line(s), cut to [`MAX_EXCERPT_WIDTH`] around the span. `start..end` is the span in
/// this text and `col` the column ariadne will compute for it.
struct Excerpt {
    text: String,
    start: usize,
    end: usize,
    col: usize,
}

impl Excerpt {
    fn new(src: &str, start: usize, end: usize, line: usize) -> Excerpt {
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = |at: usize| src[at..].find('\n').map_or(src.len(), |i| at + i);
        let first_end = line_end(start);
        let mut text = "\n".repeat(line - 1);
        let base = text.len();
        // A multi-line span is shown whole when it is short and narrow.
        let last_end = line_end(end);
        let whole = &src[line_start..last_end];
        if end > first_end
            && whole.lines().take(MAX_EXCERPT_LINES + 1).count() <= MAX_EXCERPT_LINES
            && whole
                .lines()
                .all(|l| l.chars().count() <= MAX_EXCERPT_WIDTH)
        {
            text.push_str(whole);
            return Excerpt {
                text,
                start: base + start - line_start,
                end: base + end - line_start,
                col: src[line_start..start].chars().count() + 1,
            };
        }
        let end = end.min(first_end);
        let row = &src[line_start..first_end];
        let width = row.chars().count();
        let at = src[line_start..start].chars().count();
        // The window starts a third of its width before the span, and ends within the line.
        let from = if width <= MAX_EXCERPT_WIDTH {
            0
        } else {
            at.saturating_sub(MAX_EXCERPT_WIDTH / 3)
                .min(width - MAX_EXCERPT_WIDTH)
        };
        let to = (from + MAX_EXCERPT_WIDTH).min(width);
        let byte = |chars: usize| row.char_indices().nth(chars).map_or(row.len(), |(i, _)| i);
        let (from_byte, to_byte) = (line_start + byte(from), line_start + byte(to));
        let mut col = at - from + 1;
        if from > 0 {
            text.push('…');
            col += 1;
        }
        let offset = text.len();
        text.push_str(&src[from_byte..to_byte]);
        if to < width {
            text.push('…');
        }
        let start_in = offset + start - from_byte;
        Excerpt {
            start: start_in,
            end: (offset + end.min(to_byte))
                .saturating_sub(from_byte)
                .max(start_in),
            text,
            col,
        }
    }
}

/// The largest character boundary of `src` at or before `offset`.
fn floor_char(src: &str, mut offset: usize) -> usize {
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
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

/// Render many diagnostics, one after another: the first [`MAX_SHOWN_ERRORS`], then a count
/// of the rest.
pub fn render_all(diags: &[Diagnostic], file: &str, src: &str, color: bool) -> String {
    let mut out: String = diags
        .iter()
        .take(MAX_SHOWN_ERRORS)
        .map(|d| d.render(file, src, color))
        .collect();
    if diags.len() > MAX_SHOWN_ERRORS {
        let more = diags.len() - MAX_SHOWN_ERRORS;
        out.push_str(&format!(
            "{file}: ... and {more} more error{} not shown\n",
            if more == 1 { "" } else { "s" }
        ));
    }
    out
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
    fn long_lines_are_cut_to_a_window_around_the_span() {
        let src = format!("var a = 1;\nvar x = {} + yé;\n", "é + ".repeat(500));
        let at = src.find("yé").expect("span");
        let d = Diagnostic::new("undefined variable 'yé'", Span::new(at, at + 3));
        let out = d.render("t.wal", &src, false);
        let (line, col) = line_col(&src, at);
        assert_eq!(line, 2);
        assert!(out.starts_with(&format!("t.wal:2:{col}: error")), "{out}");
        assert!(out.contains(&format!("[ t.wal:2:{col} ]")), "{out}");
        let shown = out
            .lines()
            .find(|l| l.contains("yé;"))
            .expect("the excerpt");
        assert!(shown.starts_with(" 2 │ …"), "{shown}");
        assert!(shown.chars().count() < MAX_EXCERPT_WIDTH + 10, "{shown}");
        assert!(!out.contains("var a = 1"), "{out}");
        // The caret is under the span.
        let caret = out.lines().find(|l| l.contains('┬')).expect("the caret");
        let under = caret.chars().position(|c| c == '─').expect("underline");
        assert_eq!(shown.chars().nth(under), Some('y'), "{out}");
    }

    #[test]
    fn short_multi_line_spans_are_shown_whole() {
        let src = "var s = \"abc\ndef\n";
        let d = Diagnostic::new("unterminated string", Span::new(8, src.len()));
        let out = d.render("t.wal", src, false);
        assert!(out.contains("abc") && out.contains("def"), "{out}");
        assert!(out.contains("[ t.wal:1:9 ]"), "{out}");
    }

    #[test]
    fn at_most_fifty_errors_are_shown() {
        let src = "x ".repeat(10_000);
        let diags: Vec<Diagnostic> = (0..10_000)
            .map(|i| Diagnostic::new("undefined variable 'x'", Span::new(i * 2, i * 2 + 1)))
            .collect();
        let out = render_all(&diags, "t.wal", &src, false);
        assert_eq!(out.matches(": error: ").count(), MAX_SHOWN_ERRORS);
        assert!(
            out.ends_with("t.wal: ... and 9950 more errors not shown\n"),
            "{out}"
        );
        assert!(out.len() < 50 * 1024, "{} bytes", out.len());
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
