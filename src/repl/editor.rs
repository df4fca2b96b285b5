//! The rustyline side of the REPL: tab completion, multi-line validation and the Enter key
//! that starts a continuation line with its prompt.

use super::input::{CONTINUATION, Completeness, classify};
use super::session::{COMMANDS, KEYWORDS};
use rustyline::completion::Completer;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Cmd, ConditionalEventHandler, Context, Event, EventContext, RepeatCount};
use rustyline::{Helper, Highlighter, Hinter};

/// Completion and validation for the editor. `names` is refreshed before each prompt.
#[derive(Default, Helper, Highlighter, Hinter)]
pub struct ReplHelper {
    /// Every global (builtins and the user's).
    pub names: Vec<String>,
}

impl Completer for ReplHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos, &self.names))
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
/// buffer is what matters): commands at the start of a line that begins with `:` or `.`,
/// names after `:help `, table names after `db.` (`names` holds them as `db.NAME`),
/// otherwise keywords and global names. Returns the start of the
/// replaced word and the sorted candidates.
pub fn complete(line: &str, pos: usize, names: &[String]) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let before = &line[..pos];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
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
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    // After `db.`: the tables (given among `names` as `db.NAME`).
    let head = &before[..word_start];
    if head.ends_with("db.")
        && !head[..head.len() - 3].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
    {
        let mut found: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_prefix("db."))
            .filter(|t| t.starts_with(word))
            .map(str::to_string)
            .collect();
        found.sort();
        return (word_start, found);
    }
    // After any other `.` this is a member name: nothing to offer.
    if head.ends_with('.') {
        return (pos, Vec::new());
    }
    let mut found: Vec<String> = KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .chain(names.iter().filter(|n| !n.contains('.')).cloned())
        .filter(|n| n.starts_with(word))
        .collect();
    found.sort();
    found.dedup();
    (word_start, found)
}
