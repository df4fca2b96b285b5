//! The rustyline side of the REPL: tab completion, multi-line validation and the Enter key
//! that starts a continuation line with its prompt.

use super::input::{CONTINUATION, Completeness, classify};
use super::session::{COMMANDS, KEYWORDS, Session};
use rustyline::completion::Completer;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Cmd, ConditionalEventHandler, Context, Event, EventContext, RepeatCount};
use rustyline::{Helper, Highlighter, Hinter};
use std::cell::RefCell;
use std::rc::Rc;

/// What completion needs to know about the running session.
pub trait Names {
    /// Every global's name (builtins included).
    fn globals(&mut self) -> Vec<String>;
    /// The names that may follow `path.` (a global, then field names: `["db", "users"]`).
    fn members(&mut self, path: &[&str]) -> Vec<String>;
}

/// Completion and validation for the editor; completion asks the session.
#[derive(Helper, Highlighter, Hinter)]
pub struct ReplHelper {
    pub session: Rc<RefCell<Session>>,
}

impl Completer for ReplHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        // The session is never busy while the user types; if it were, offer nothing.
        Ok(match self.session.try_borrow_mut() {
            Ok(mut session) => complete(line, pos, &mut *session),
            Err(_) => (pos, Vec::new()),
        })
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(match classify(ctx.input()) {
            Completeness::Complete => ValidationResult::Valid(None),
            Completeness::Incomplete => ValidationResult::Incomplete,
        })
    }
}

/// Enter on an incomplete buffer inserts a newline followed by the continuation prompt;
/// otherwise Enter does its usual job (the validator then accepts the input).
pub struct EnterHandler;

impl ConditionalEventHandler for EnterHandler {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        (classify(ctx.line()) == Completeness::Incomplete)
            .then(|| Cmd::Insert(1, format!("\n{CONTINUATION}")))
    }
}

/// Completion candidates for the word before `pos` in `line` (the current line of the
/// buffer is what matters): commands at the start of a line that begins with `:` or `.`;
/// after `NAME.` (or `NAME.field.`, `db.TABLE.`) what may follow it: a value's methods
/// and fields, a table's methods and columns, the tables after `db.`; otherwise keywords
/// and global names. Returns the start of the replaced word and the sorted candidates.
pub fn complete(line: &str, pos: usize, names: &mut dyn Names) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &line[..pos];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name_char(*c))
        .last()
        .map_or(pos, |(i, _)| i);
    let word = &before[word_start..];
    // Where the text of the current line starts: after any continuation prompt and indent.
    let mut cmd_start = line_start;
    if line_start > 0 && before[line_start..].starts_with("...") {
        cmd_start += 3;
    }
    let current = &before[cmd_start..];
    cmd_start += current.len() - current.trim_start().len();
    // A command being typed: `:gl`, `.st`.
    if word_start == cmd_start + 1 && matches!(&before[cmd_start..word_start], ":" | ".") {
        let prefix = &before[cmd_start..];
        let found = COMMANDS
            .iter()
            .filter(|c| c.starts_with(prefix))
            .map(|c| c.to_string())
            .collect();
        return (cmd_start, found);
    }
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    // After a `.`: a member of what the dotted names before it hold.
    let head = &before[..word_start];
    if let Some(receiver) = head.strip_suffix('.') {
        let found = match receiver_path(receiver) {
            Some(path) => names
                .members(&path)
                .into_iter()
                .filter(|n| n.starts_with(word))
                .collect(),
            None => Vec::new(),
        };
        return (word_start, found);
    }
    // Nothing typed yet: listing every global would only be noise.
    if word.is_empty() {
        return (pos, Vec::new());
    }
    let mut found: Vec<String> = KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .chain(names.globals())
        .filter(|n| n.starts_with(word))
        .collect();
    found.sort();
    found.dedup();
    (word_start, found)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The names of `a.b.c` at the end of `text`, when that is a chain of names that starts
/// with a global (not a member of a call's result, an index or a string: `f().x`, `s[0].x`,
/// `"a".x` give `None`).
fn receiver_path(text: &str) -> Option<Vec<&str>> {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name_char(*c) || *c == '.')
        .last()
        .map(|(i, _)| i)?;
    if text[..start].ends_with([')', ']', '"', '}']) {
        return None;
    }
    let parts: Vec<&str> = text[start..].split('.').collect();
    let is_name = |p: &&str| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit());
    parts.iter().all(is_name).then_some(parts)
}
