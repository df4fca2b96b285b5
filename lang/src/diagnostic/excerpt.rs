//! The part of a source text shown under a diagnostic: the span's line(s), cut to a window
//! around the span when a line is too long.

use super::{MAX_EXCERPT_LINES, MAX_EXCERPT_WIDTH};

/// The source text ariadne renders for one diagnostic: `line - 1` empty lines, then the
/// span's line(s), cut to [`MAX_EXCERPT_WIDTH`] around the span. `start..end` is the span in
/// this text and `col` the column ariadne will compute for it.
pub(super) struct Excerpt {
    pub(super) text: String,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) col: usize,
}

impl Excerpt {
    pub(super) fn new(src: &str, start: usize, end: usize, line: usize) -> Excerpt {
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
