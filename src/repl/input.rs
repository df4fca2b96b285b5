//! Classifying REPL input: is the buffer a complete statement list, a command, or does the
//! user still have to type more?
//!
//! Continuation lines typed at the terminal start with the continuation prompt
//! ([`CONTINUATION`]), which lives in the edit buffer (rustyline has no continuation prompt
//! of its own); [`strip_prompts`] removes it before anything else looks at the text. `...`
//! can never start a line of Walia code (a number needs a digit before `.`), so stripping it
//! is unambiguous outside multi-line strings.

use walia_lang::parser::MAX_NESTING;

/// The primary prompt.
pub const PROMPT: &str = "walia> ";
/// The prompt shown at the start of each continuation line (same width as [`PROMPT`]).
pub const CONTINUATION: &str = "...    ";

/// Whether the buffer can be run now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completeness {
    /// Run it (or report its errors): complete code, a command, or code whose errors are
    /// not at the end of the input.
    Complete,
    /// Keep reading: open brackets, an open string or comment, or a statement that stops
    /// short (the parse fails at the end of the input), or a `///` doc comment waiting for
    /// its declaration.
    Incomplete,
}

/// The buffer without the continuation prompts at the start of its second and later lines.
pub fn strip_prompts(buffer: &str) -> String {
    let mut out = String::with_capacity(buffer.len());
    for (i, line) in buffer.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if let Some(rest) = line.strip_prefix("...") {
                let spaces = rest.len() - rest.trim_start_matches(' ').len();
                out.push_str(&rest[spaces.min(4)..]);
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// Is `text` (a whole, stripped input) a REPL command rather than Walia code?
/// Commands start with `:` (`:help`), or are one of the dot commands (`.exit`, `.help`,
/// `.clear`, `.state`, followed by nothing or an argument).
pub fn is_command(text: &str) -> bool {
    let t = text.trim();
    if t.starts_with(':') {
        return true;
    }
    // `.` and a letter: a command as sqlite3 and node spell them (`.quit`, `.tables`);
    // no Walia input starts that way (`.5` is a number).
    t.strip_prefix('.')
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic())
}

/// Does the last line of a multi-line buffer ask to abandon it (`.clear`)?
pub fn ends_with_clear(text: &str) -> bool {
    text.trim_end().rsplit('\n').next().map(str::trim) == Some(".clear")
}

/// What a lexical scan of the text found open at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// `(`, `[` and `{` not closed yet (closers without an opener are ignored).
    pub depth: usize,
    /// Inside a string literal.
    pub in_string: bool,
    /// Inside a `/* */` comment.
    pub in_comment: bool,
}

/// Scan brackets, strings and comments (`//` line and `/* */` block comments, strings with
/// `\` escapes; brackets inside strings and comments do not count).
pub fn scan(text: &str) -> Scan {
    #[derive(PartialEq)]
    enum State {
        Code,
        Str,
        LineComment,
        BlockComment,
    }
    let mut state = State::Code;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                '"' => state = State::Str,
                '/' if chars.peek() == Some(&'/') => {
                    chars.next();
                    state = State::LineComment;
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    state = State::BlockComment;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
            State::Str => match c {
                '\\' => {
                    chars.next();
                }
                '"' => state = State::Code,
                _ => {}
            },
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    state = State::Code;
                }
            }
        }
    }
    Scan {
        depth,
        in_string: state == State::Str,
        in_comment: state == State::BlockComment,
    }
}

/// Decide whether the (raw, prompt-carrying) buffer is ready to run.
///
/// Two blank lines in a row at the end force `Complete` (outside a string), so a statement
/// that can never be finished still gets its diagnostic instead of waiting forever.
pub fn classify(buffer: &str) -> Completeness {
    let text = strip_prompts(buffer);
    if text.trim().is_empty() || is_command(&text) || ends_with_clear(&text) {
        return Completeness::Complete;
    }
    let s = scan(&text);
    if s.in_string {
        return Completeness::Incomplete;
    }
    if ends_with_blank_lines(&text) || s.depth > MAX_NESTING {
        return Completeness::Complete;
    }
    if s.in_comment || s.depth > 0 || ends_with_doc_comment(&text) {
        return Completeness::Incomplete;
    }
    let (_, diagnostics) = walia_lang::parse_with(&text, walia_lang::ParseMode::Input);
    let end = text.trim_end().len();
    if diagnostics.iter().any(|d| d.span.start as usize >= end) {
        Completeness::Incomplete
    } else {
        Completeness::Complete
    }
}

/// True when the last line is a `///` doc comment: the declaration it documents follows.
fn ends_with_doc_comment(text: &str) -> bool {
    text.trim_end()
        .rsplit('\n')
        .next()
        .is_some_and(|l| l.trim_start().starts_with("///"))
}

/// True when the text ends with two lines that are empty or blank.
fn ends_with_blank_lines(text: &str) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    lines.len() >= 3 && lines[lines.len() - 2..].iter().all(|l| l.trim().is_empty())
}
