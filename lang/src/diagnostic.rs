//! Compile-time and run-time diagnostics, rendered with ariadne.
//!
//! A rendered diagnostic says its message once, on the first line (`file:line:col: error:
//! message`); ariadne draws only the source snippet under it, with a short label (or none)
//! under the span. After the snippet come the call stack (runtime errors), `note:` lines and
//! `hint:` lines.

mod excerpt;

use crate::ast::Span;
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use excerpt::Excerpt;

/// Most errors of one file shown; the rest are counted ("... and N more errors"), so a
/// broken file's output stays bounded however many errors it has.
pub const MAX_SHOWN_ERRORS: usize = 50;
/// Widest source excerpt shown, in characters: a longer line is cut to a window around the
/// error, marked with `…` where cut.
pub const MAX_EXCERPT_WIDTH: usize = 120;
/// Lines of a multi-line span shown whole (when each fits in [`MAX_EXCERPT_WIDTH`]); a longer
/// span is shown on its first line.
const MAX_EXCERPT_LINES: usize = 8;

/// ANSI styles of the parts we write ourselves (ariadne colours its snippet).
const RED_BOLD: &str = "\x1b[1;31m";
const BOLD: &str = "\x1b[1m";
const CYAN_BOLD: &str = "\x1b[1;36m";
const RESET: &str = "\x1b[0m";

/// One error with its location. Rendering adds file:line:col and the source line.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// Short text under the span ("not declared", "add `;` here"), never the message again
    /// (that is on the first line); empty: "here".
    pub label: String,
    /// `note:` lines after the snippet.
    pub notes: Vec<String>,
    /// `hint:` lines after the notes: how to write what was probably meant.
    pub hints: Vec<String>,
    /// Call-stack lines (`at f (file:2:3)`), innermost first, shown right after the snippet.
    pub trace: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
            hints: Vec::new(),
            trace: Vec::new(),
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

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    pub fn with_trace(mut self, frame: impl Into<String>) -> Diagnostic {
        self.trace.push(frame.into());
        self
    }

    /// 1-based line and column (in characters) of the span start.
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        line_col(src, self.span.start as usize)
    }

    /// Render as text: `file:line:col: error: message`, the source line with the span
    /// underlined and labelled, the call stack, then the
    /// notes and hints. `color` adds ANSI colours (for a terminal); without it the text has
    /// no escape sequence at all.
    pub fn render(&self, file: &str, src: &str, color: bool) -> String {
        let start = floor_char(src, (self.span.start as usize).min(src.len()));
        let end = floor_char(src, (self.span.end as usize).clamp(start, src.len()));
        let (line, col) = line_col(src, start);
        let style = |ansi: &'static str| if color { ansi } else { "" };
        let (red, bold, cyan, reset) =
            (style(RED_BOLD), style(BOLD), style(CYAN_BOLD), style(RESET));
        // The location comes first, plain, so it is easy to grep and click.
        let mut out = format!(
            "{file}:{line}:{col}: {red}error{reset}: {bold}{}{reset}\n",
            self.message
        );
        out.push_str(&self.snippet(file, src, (start, end), (line, col), color));
        for frame in &self.trace {
            out.push_str(&format!("  {frame}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("{bold}note{reset}: {note}\n"));
        }
        for hint in &self.hints {
            out.push_str(&format!("{cyan}hint{reset}: {hint}\n"));
        }
        out
    }

    /// ariadne's drawing of the source line(s) under the span, without its own header line
    /// (the message is already on ours).
    fn snippet(
        &self,
        file: &str,
        src: &str,
        (start, end): (usize, usize),
        (line, col): (usize, usize),
        color: bool,
    ) -> String {
        // ariadne is given only the lines shown (cost and output independent of the file's
        // size), after blank lines that keep its line numbers right.
        let excerpt = Excerpt::new(src, start, end, line);
        let (start, end) = (excerpt.start, excerpt.end);
        // ariadne underlines only a label with text: "here" when there is no better one.
        let text = if self.label.is_empty() {
            "here"
        } else {
            &self.label
        };
        let label = Label::new((file, start..end))
            .with_message(text)
            .with_color(Color::Red);
        // An empty message keeps ariadne's header to one line, which is dropped below.
        let report = Report::build(ReportKind::Error, (file, start..end))
            .with_config(
                Config::new()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_label(label)
            .finish();
        let mut drawn = Vec::new();
        if report
            .write((file, Source::from(excerpt.text.as_str())), &mut drawn)
            .is_err()
        {
            return String::new();
        }
        let drawn = String::from_utf8_lossy(&drawn);
        let mut body = drawn
            .split_once('\n')
            .map_or(String::new(), |(_, rest)| rest.to_string());
        if excerpt.col != col {
            // A cut line shifts ariadne's column; its location line gets the real one.
            body = body.replacen(
                &format!("{file}:{line}:{}", excerpt.col),
                &format!("{file}:{line}:{col}"),
                1,
            );
        }
        body
    }
}

/// An error without a location (a missing file, an error outside any script): `error:
/// message` and `note:` lines, styled like [`Diagnostic::render`].
pub fn render_unlocated(message: &str, notes: &[String], color: bool) -> String {
    let style = |ansi: &'static str| if color { ansi } else { "" };
    let (red, bold, reset) = (style(RED_BOLD), style(BOLD), style(RESET));
    let mut out = format!("{red}error{reset}: {bold}{message}{reset}\n");
    for note in notes {
        out.push_str(&format!("{bold}note{reset}: {note}\n"));
    }
    out
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
    fn the_message_is_said_once() {
        let d = Diagnostic::new("undefined variable 'y'", Span::new(8, 9));
        let out = d.render("t.wal", "var x = y;", false);
        assert_eq!(out.matches("undefined variable").count(), 1, "{out}");
        assert!(!out.contains("Error"), "{out}");
        // The span is still underlined, and the location shown in the snippet's frame.
        assert!(out.contains("[ t.wal:1:9 ]"), "{out}");
        assert!(out.contains("╰── here"), "{out}");
        let labelled = d
            .with_label("not declared")
            .render("t.wal", "var x = y;", false);
        assert!(labelled.contains("╰── not declared"), "{labelled}");
        assert_eq!(labelled.matches("undefined variable").count(), 1);
    }

    #[test]
    fn trace_notes_and_hints_follow_the_snippet_in_that_order() {
        let d = Diagnostic::new("boom", Span::new(0, 1))
            .with_hint("write it differently")
            .with_note("rolled back")
            .with_trace("at f (t.wal:1:1)");
        let out = d.render("t.wal", "x;", false);
        let tail: Vec<&str> = out.lines().skip_while(|l| !l.starts_with('─')).collect();
        assert_eq!(
            tail[1..],
            [
                "  at f (t.wal:1:1)",
                "note: rolled back",
                "hint: write it differently"
            ],
            "{out}"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let d = Diagnostic::new("undefined variable 'y'", Span::new(8, 9))
            .with_label("not declared")
            .with_note("n")
            .with_hint("h")
            .with_trace("at f (t.wal:1:9)");
        let plain = d.render("t.wal", "var x = y;", false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        let coloured = d.render("t.wal", "var x = y;", true);
        assert!(
            coloured.starts_with("t.wal:1:9: \x1b[1;31merror\x1b[0m: "),
            "{coloured:?}"
        );
        assert!(coloured.contains(&format!("{CYAN_BOLD}hint{RESET}: h")));
        // ariadne colours the snippet too.
        let snippet = &coloured[coloured.find('\n').unwrap_or(0)..];
        assert!(snippet.contains('\x1b'), "{coloured:?}");
        let long = format!("var x = {};\n", "1 + ".repeat(100));
        let cut = d.render("t.wal", &long, false);
        assert!(!cut.contains('\x1b'), "{cut:?}");
    }

    #[test]
    fn unlocated_errors_are_styled_alike() {
        let notes = ["rolled back".to_string()];
        assert_eq!(
            render_unlocated("no such file", &notes, false),
            "error: no such file\nnote: rolled back\n"
        );
        let coloured = render_unlocated("no such file", &notes, true);
        assert!(coloured.starts_with(&format!("{RED_BOLD}error{RESET}: ")));
    }

    #[test]
    fn an_empty_span_is_drawn_where_it_is() {
        // After `1` on line 1: where a missing `;` goes.
        let src = "var x = 1\nprint x;\n";
        let d = Diagnostic::new("expected ';', found 'print'", Span::new(9, 9))
            .with_label("add `;` here");
        let out = d.render("t.wal", src, false);
        assert!(out.starts_with("t.wal:1:10: error: "), "{out}");
        assert!(out.contains(" 1 │ var x = 1"), "{out}");
        assert!(!out.contains("print x"), "{out}");
        let label = out.lines().find(|l| l.contains("add `;` here"));
        let label = label.unwrap_or_default();
        // Right after the `1`.
        let after_one = " 1 │ var x = 1".chars().count();
        assert_eq!(
            label.chars().position(|c| c == '╰'),
            Some(after_one),
            "{out}"
        );
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
